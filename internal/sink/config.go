package sink

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/telemetry"
)

// Config configures the sink stage.
type Config struct {
	Kafka           kafka.Config
	Telemetry       telemetry.Config
	RecordsTopic    string
	DeadLetterTopic string
	Group           string

	Bucket      string
	Prefix      string
	MaxRecords  int
	MaxBytes    int
	MaxAge      time.Duration
	Compression string
	Drain       time.Duration
	LagInterval time.Duration
}

// DefaultHTTPAddr is where sink serves /metrics by default.
const DefaultHTTPAddr = "127.0.0.1:9103"

// RegisterFlags registers every flag of the stage.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.Kafka.RegisterFlags(fs)
	c.Telemetry.RegisterFlags(fs, DefaultHTTPAddr)
	fs.StringVar(&c.RecordsTopic, "topic.records", kafka.DefaultRecordsTopic, "topic of normalized records to archive")
	fs.StringVar(&c.DeadLetterTopic, "topic.dead-letter", kafka.DefaultDeadLetterTopic, "topic for records that cannot be archived, with a reason")
	fs.StringVar(&c.Group, "group", "wirefeed-sink", "Kafka consumer group; replicas with the same group split the partitions")
	fs.StringVar(&c.Bucket, "bucket", "file://./data/archive?create_dir=true",
		"object storage URL: s3://BUCKET?region=R (endpoint=URL&use_path_style=true for S3-compatible servers), gs://BUCKET, azblob://CONTAINER or file://PATH")
	fs.StringVar(&c.Prefix, "prefix", "articles/v1", "key prefix of archived objects, e.g. a run or version prefix for a replay")
	fs.IntVar(&c.MaxRecords, "batch.max-records", 5000, "an object is cut when its partition's batch holds this many records")
	fs.IntVar(&c.MaxBytes, "batch.max-bytes", 16<<20, "or when the batch's uncompressed JSON reaches this many bytes (bounds memory per partition)")
	fs.DurationVar(&c.MaxAge, "batch.max-age", time.Minute, "or when the batch's first record has waited this long (quiet partitions still flush)")
	fs.StringVar(&c.Compression, "compression", "gzip", "object compression: gzip or none")
	fs.DurationVar(&c.Drain, "shutdown.drain", 30*time.Second, "on SIGTERM, how long flushing the batches in hand may take")
	fs.DurationVar(&c.LagInterval, "lag.interval", 10*time.Second, "how often consumer lag is computed")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if err := c.Kafka.Validate(); err != nil {
		return err
	}
	if err := c.Telemetry.Validate(); err != nil {
		return err
	}
	return flagenv.Validate(
		flagenv.Check{OK: c.RecordsTopic != "", Msg: "--topic.records is empty"},
		flagenv.Check{OK: c.DeadLetterTopic != "", Msg: "--topic.dead-letter is empty"},
		flagenv.Check{OK: c.Group != "", Msg: "--group is empty"},
		flagenv.Check{OK: strings.Contains(c.Bucket, "://"), Msg: fmt.Sprintf("--bucket %q is not a URL such as file://./data/archive or s3://bucket", c.Bucket)},
		flagenv.Check{OK: !strings.HasPrefix(c.Prefix, "/") && !strings.HasSuffix(c.Prefix, "/") && c.Prefix != "", Msg: fmt.Sprintf("--prefix %q must be non-empty, without leading or trailing slash", c.Prefix)},
		flagenv.Check{OK: c.MaxRecords >= 1, Msg: "--batch.max-records must be at least 1"},
		flagenv.Check{OK: c.MaxBytes >= 1024, Msg: "--batch.max-bytes must be at least 1024"},
		flagenv.Positive("batch.max-age", c.MaxAge),
		flagenv.Check{OK: c.Compression == "gzip" || c.Compression == "none", Msg: fmt.Sprintf("--compression %q is not gzip or none", c.Compression)},
		flagenv.Positive("shutdown.drain", c.Drain),
		flagenv.Positive("lag.interval", c.LagInterval),
	)
}
