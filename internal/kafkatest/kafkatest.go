// Package kafkatest gives integration tests a Kafka to talk to: the embedded
// broker (franz-go's kfake) by default, or the real brokers named by the
// KAFKA_BROKERS environment variable. Each test gets its own topics and
// consumer groups, so tests run in parallel on one cluster. It also holds
// what those tests share to look at the cluster: reading a topic, and
// waiting until the stages under test have caught up.
package kafkatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	franz "github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/kafka"
)

// Brokers returns the brokers to test against: KAFKA_BROKERS when set, else
// a fresh embedded cluster closed when the test ends.
func Brokers(t testing.TB) []string {
	t.Helper()
	if env := os.Getenv("KAFKA_BROKERS"); env != "" {
		return strings.Split(env, ",")
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatalf("start embedded broker: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// Real reports whether tests run against a real cluster.
func Real() bool { return os.Getenv("KAFKA_BROKERS") != "" }

// Config returns a Kafka configuration with the defaults of the flags,
// pointed at Brokers(t), with the given partition count.
func Config(t testing.TB, partitions int) kafka.Config {
	t.Helper()
	var c kafka.Config
	c.RegisterFlags(flag.NewFlagSet("test", flag.ContinueOnError))
	c.Brokers = flagenv.Strings(Brokers(t))
	c.Partitions = partitions
	c.SessionTimeout = 6 * time.Second
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

var unsafe = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// Name returns a topic or group name unique to this test and call.
func Name(t testing.TB, what string) string {
	b := make([]byte, 4)
	rand.Read(b)
	n := unsafe.ReplaceAllString(t.Name(), "_")
	if len(n) > 60 {
		n = n[:60]
	}
	return "test." + what + "." + n + "." + hex.EncodeToString(b)
}

// ReadTopic reads every message of topic, partition by partition, from the
// log start to the end the broker reports when it is called.
func ReadTopic(t testing.TB, cfg *kafka.Config, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	offs, err := kafka.TopicOffsets(ctx, cfg.Client(), topic)
	if err != nil {
		t.Fatal(err)
	}
	var out []kafka.Message
	for _, o := range offs {
		if o.HighWatermark == o.LogStart {
			continue
		}
		r := kgo.NewReader(kgo.ReaderConfig{Brokers: cfg.Brokers, Topic: topic, Partition: o.Partition, MaxWait: 50 * time.Millisecond})
		if err := r.SetOffset(o.LogStart); err != nil {
			t.Fatal(err)
		}
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("read %s/%d: %v", topic, o.Partition, err)
			}
			out = append(out, m)
			if m.Offset+1 >= o.HighWatermark {
				break
			}
		}
		r.Close()
	}
	return out
}

// WaitFor polls cond until it holds. After a generous deadline (a minute,
// for loaded machines) it fails the test with what cond last said.
func WaitFor(t testing.TB, what string, cond func() (ok bool, state string)) {
	t.Helper()
	// A bound for giving up, not a speed requirement: a real broker on a
	// loaded machine rebalances groups much more slowly than the embedded
	// one.
	limit := time.Minute
	if Real() {
		limit = 4 * time.Minute
	}
	deadline := time.Now().Add(limit)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s; last state: %s", what, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// DeleteRecords deletes a partition's messages below offset, as retention
// does. (kafka-go has no DeleteRecords; franz-go, which the embedded
// broker comes with, sends it.)
func DeleteRecords(t testing.TB, cfg *kafka.Config, topic string, partition int32, offset int64) {
	t.Helper()
	cl, err := franz.NewClient(franz.SeedBrokers(cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Partition, rp.Offset = partition, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 10000
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("delete records of %s/%d: %v", topic, partition, err)
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
				t.Fatalf("delete records of %s/%d: %v", topic, rp.Partition, err)
			}
		}
	}
}
