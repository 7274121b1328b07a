// Package kafka holds wirefeed's Kafka plumbing on top of segmentio/kafka-go:
// configuration, topic creation and checks, keyed writers, a consumer that
// fetches and commits explicitly (commit after the downstream write), and
// consumer lag per partition from committed offsets and high watermarks.
//
// Consumer groups are the distribution engine: more replicas of a stage split
// the partitions of its input topic between them.
package kafka

import (
	"context"
	"flag"
	"fmt"
	"net"
	"strings"
	"time"

	kgo "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"

	"github.com/wirefeed/wirefeed/internal/flagenv"
)

// Default topic names.
const (
	DefaultRawTopic        = "wirefeed.raw"
	DefaultRecordsTopic    = "wirefeed.records"
	DefaultDeadLetterTopic = "wirefeed.deadletter"
)

// Config is the connection and topic-creation configuration shared by the
// stages.
type Config struct {
	Brokers           flagenv.Strings
	ClientID          string
	Partitions        int
	ReplicationFactor int
	Compression       string
	SessionTimeout    time.Duration
	DialTimeout       time.Duration
	WriteTimeout      time.Duration
	MaxMessageBytes   int
	FetchMaxBytes     int
}

// RegisterFlags registers the kafka.* flags.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.Brokers = flagenv.Strings{"127.0.0.1:9092"}
	fs.Var(&c.Brokers, "kafka.brokers", "comma-separated Kafka bootstrap brokers (host:port)")
	fs.StringVar(&c.ClientID, "kafka.client-id", "wirefeed", "client ID sent to the brokers")
	fs.IntVar(&c.Partitions, "kafka.partitions", 3, "partitions of the topics this service creates; an existing topic with another count is refused")
	fs.IntVar(&c.ReplicationFactor, "kafka.replication-factor", 1, "replication factor of the topics this service creates; an existing topic with fewer replicas is refused")
	fs.StringVar(&c.Compression, "kafka.compression", "zstd", "compression of produced batches: none, gzip, snappy, lz4 or zstd")
	fs.DurationVar(&c.SessionTimeout, "kafka.session-timeout", 10*time.Second, "consumer group session timeout (at least 6s)")
	fs.DurationVar(&c.DialTimeout, "kafka.dial-timeout", 10*time.Second, "timeout to connect to a broker")
	fs.DurationVar(&c.WriteTimeout, "kafka.write-timeout", 30*time.Second, "timeout of one produce request")
	fs.IntVar(&c.MaxMessageBytes, "kafka.max-message-bytes", 8<<20, "largest message this service produces or fetches, in bytes")
	fs.IntVar(&c.FetchMaxBytes, "kafka.fetch-max-bytes", 1<<20, "most bytes one fetch of normalize's or the sink's consumer asks of a partition, which bounds its memory per partition; a larger message is still fetched, whole")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	_, compErr := c.codec()
	return flagenv.Validate(
		flagenv.Check{OK: len(c.Brokers) > 0, Msg: "--kafka.brokers is empty"},
		flagenv.Check{OK: brokersValid(c.Brokers), Msg: fmt.Sprintf("--kafka.brokers %q: each broker must be host:port", c.Brokers.String())},
		flagenv.Check{OK: c.Partitions >= 1, Msg: fmt.Sprintf("--kafka.partitions must be at least 1, got %d", c.Partitions)},
		flagenv.Check{OK: c.ReplicationFactor >= 1, Msg: fmt.Sprintf("--kafka.replication-factor must be at least 1, got %d", c.ReplicationFactor)},
		flagenv.Check{OK: compErr == nil, Msg: fmt.Sprint(compErr)},
		flagenv.Check{OK: c.SessionTimeout >= 6*time.Second, Msg: fmt.Sprintf("--kafka.session-timeout must be at least 6s, got %s", c.SessionTimeout)},
		flagenv.Positive("kafka.dial-timeout", c.DialTimeout),
		flagenv.Positive("kafka.write-timeout", c.WriteTimeout),
		flagenv.Check{OK: c.MaxMessageBytes >= 1024, Msg: fmt.Sprintf("--kafka.max-message-bytes must be at least 1024, got %d", c.MaxMessageBytes)},
		flagenv.Check{OK: c.FetchMaxBytes == 0 || c.FetchMaxBytes >= 1024, Msg: fmt.Sprintf("--kafka.fetch-max-bytes must be at least 1024, got %d", c.FetchMaxBytes)},
	)
}

func brokersValid(bs []string) bool {
	for _, b := range bs {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			return false
		}
	}
	return true
}

func (c *Config) codec() (compress.Compression, error) {
	switch strings.ToLower(c.Compression) {
	case "none", "":
		return 0, nil
	case "gzip":
		return kgo.Gzip, nil
	case "snappy":
		return kgo.Snappy, nil
	case "lz4":
		return kgo.Lz4, nil
	case "zstd":
		return kgo.Zstd, nil
	}
	return 0, fmt.Errorf("--kafka.compression %q is not one of none, gzip, snappy, lz4, zstd", c.Compression)
}

// Client is kafka-go's client for admin requests.
type Client = kgo.Client

// Client returns a kafka-go admin client for the brokers.
func (c *Config) Client() *Client {
	return &kgo.Client{
		Addr:      kgo.TCP(c.Brokers...),
		Timeout:   c.WriteTimeout,
		Transport: &kgo.Transport{ClientID: c.ClientID, DialTimeout: c.DialTimeout},
	}
}

// Ping asks the brokers for cluster metadata: the readiness probe of a
// connection.
func (c *Config) Ping(ctx context.Context) error {
	_, err := c.Client().Metadata(ctx, &kgo.MetadataRequest{Topics: []string{}})
	if err != nil {
		return fmt.Errorf("kafka metadata from %s: %w", c.Brokers.String(), err)
	}
	return nil
}
