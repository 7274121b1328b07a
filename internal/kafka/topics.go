package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	kgo "github.com/segmentio/kafka-go"
)

// ErrTopicIncompatible is returned by EnsureTopics when a topic exists with a
// configuration the service cannot work with.
var ErrTopicIncompatible = errors.New("topic exists with an incompatible configuration")

// TopicSpec describes a topic a service needs.
type TopicSpec struct {
	Name    string
	Configs map[string]string // e.g. cleanup.policy=compact; checked on creation only
}

// EnsureTopics creates the topics that do not exist, with the configured
// partitions and replication factor, and checks those that do: a topic with
// another partition count, or fewer replicas, is refused with
// ErrTopicIncompatible, because keyed partitioning and the operator's
// intent would silently differ.
func EnsureTopics(ctx context.Context, cfg *Config, topics ...TopicSpec) error {
	client := cfg.Client()
	names := make([]string, len(topics))
	for i, t := range topics {
		names[i] = t.Name
	}
	// Creating topics that exist already is answered per topic with
	// TopicAlreadyExists, which is what we want: one round trip, no race
	// between replicas starting together.
	req := &kgo.CreateTopicsRequest{}
	for _, t := range topics {
		tc := kgo.TopicConfig{Topic: t.Name, NumPartitions: cfg.Partitions, ReplicationFactor: cfg.ReplicationFactor}
		// Let the topic take the batches this service produces, whatever the
		// broker's default (1 MiB out of the box).
		tc.ConfigEntries = append(tc.ConfigEntries, kgo.ConfigEntry{ConfigName: "max.message.bytes", ConfigValue: strconv.Itoa(cfg.MaxMessageBytes + 64<<10)})
		for k, v := range t.Configs {
			tc.ConfigEntries = append(tc.ConfigEntries, kgo.ConfigEntry{ConfigName: k, ConfigValue: v})
		}
		req.Topics = append(req.Topics, tc)
	}
	res, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("create topics %v: %w", names, err)
	}
	for name, terr := range res.Errors {
		if terr != nil && !errors.Is(terr, kgo.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", name, terr)
		}
	}
	// A topic just created may take a moment to show its partitions.
	var last error
	for attempt := 0; attempt < 50; attempt++ {
		if last = checkTopics(ctx, client, cfg, names); last == nil || errors.Is(last, ErrTopicIncompatible) {
			return last
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return last
}

func checkTopics(ctx context.Context, client *Client, cfg *Config, names []string) error {
	md, err := client.Metadata(ctx, &kgo.MetadataRequest{Topics: names})
	if err != nil {
		return fmt.Errorf("topic metadata: %w", err)
	}
	found := map[string]kgo.Topic{}
	for _, t := range md.Topics {
		found[t.Name] = t
	}
	for _, name := range names {
		t, ok := found[name]
		if !ok || t.Error != nil || len(t.Partitions) == 0 {
			return fmt.Errorf("topic %s not available yet: %v", name, t.Error)
		}
		if len(t.Partitions) != cfg.Partitions {
			return fmt.Errorf("%w: %s has %d partitions, this service is configured for %d (set --kafka.partitions=%d, or alter the topic)",
				ErrTopicIncompatible, name, len(t.Partitions), cfg.Partitions, len(t.Partitions))
		}
		for _, p := range t.Partitions {
			if len(p.Replicas) > 0 && len(p.Replicas) < cfg.ReplicationFactor {
				return fmt.Errorf("%w: %s partition %d has %d replicas, this service is configured for %d",
					ErrTopicIncompatible, name, p.ID, len(p.Replicas), cfg.ReplicationFactor)
			}
		}
	}
	return nil
}

// Partitions returns the partition IDs of a topic.
func Partitions(ctx context.Context, client *Client, topic string) ([]int, error) {
	md, err := client.Metadata(ctx, &kgo.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	for _, t := range md.Topics {
		if t.Name == topic {
			if t.Error != nil {
				return nil, fmt.Errorf("metadata of %s: %w", topic, t.Error)
			}
			ids := make([]int, len(t.Partitions))
			for i, p := range t.Partitions {
				ids[i] = p.ID
			}
			return ids, nil
		}
	}
	return nil, fmt.Errorf("metadata of %s: no such topic", topic)
}
