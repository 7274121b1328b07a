package sink

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/telemetry"
)

// Config configures the sink stage. The zero value of each field added after
// the first release (Format, KeyTemplate, PartSize, UploadConcurrency,
// ParallelObjects, MaxBuffered, DedupeWindow) means its default, so that
// configurations built in code keep working.
type Config struct {
	Kafka           kafka.Config
	Telemetry       telemetry.Config
	Reset           kafka.ResetConfig
	RecordsTopic    string
	DeadLetterTopic string
	Group           string

	Bucket            string
	Prefix            string
	KeyTemplate       string
	Format            string
	MaxRecords        int
	MaxBytes          int
	MaxAge            time.Duration
	MaxBuffered       int
	Compression       string
	PartSize          int
	UploadConcurrency int
	ParallelObjects   int
	Drain             time.Duration
	LagInterval       time.Duration
	MemoryLimit       int64
	DedupeWindow      int64

	storeHook func(point, key string) error // test seam, see SetStoreHookForTest
}

// DefaultHTTPAddr is where sink serves /metrics by default.
const DefaultHTTPAddr = "127.0.0.1:9103"

// DefaultKeyTemplate is the folder of an object under the prefix.
const DefaultKeyTemplate = "{prefix}/dt={date}/source={source}/"

// Formats and compressions the sink writes.
const (
	FormatNDJSON  = "ndjson"
	FormatParquet = "parquet"
)

const (
	defaultPartSize          = 5 << 20 // S3's smallest part
	defaultUploadConcurrency = 2
	defaultParallelObjects   = 4
	defaultDedupeWindow      = 10000
)

// SetStoreHookForTest makes the sink call fn before each step of its flush
// protocol: point is "state.pending", "object", "manifest", "state.done" or
// "commit", key the object about to be written (empty for "commit"). An
// error from fn stops Run at once, with no further write and no commit, as
// a crash at that point would. Tests use it to prove that a crash anywhere
// leaves every record archived exactly once after a restart.
func (c *Config) SetStoreHookForTest(fn func(point, key string) error) { c.storeHook = fn }

// RegisterFlags registers every flag of the stage.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.Kafka.RegisterFlags(fs)
	c.Telemetry.RegisterFlags(fs, DefaultHTTPAddr)
	c.Reset.RegisterFlags(fs)
	fs.StringVar(&c.RecordsTopic, "topic.records", kafka.DefaultRecordsTopic, "topic of normalized records to archive")
	fs.StringVar(&c.DeadLetterTopic, "topic.dead-letter", kafka.DefaultDeadLetterTopic, "topic for records that cannot be archived, with a reason")
	fs.StringVar(&c.Group, "group", "wirefeed-sink", "Kafka consumer group; replicas with the same group split the partitions")
	fs.StringVar(&c.Bucket, "bucket", "file://./data/archive?create_dir=true",
		"object storage URL: s3://BUCKET?region=R (endpoint=URL&use_path_style=true for S3-compatible servers), gs://BUCKET, azblob://CONTAINER or file://PATH")
	fs.StringVar(&c.Prefix, "prefix", "articles/v1", "key prefix of everything the sink writes (objects, _state, _manifest), e.g. a run prefix for a replay")
	fs.StringVar(&c.KeyTemplate, "key-template", DefaultKeyTemplate,
		"folder of an object; placeholders {prefix}, {date} (YYYY-MM-DD, UTC date of published_at, else normalized_at), {year}, {month}, {day}, {source}, {topic}, {partition};\n"+
			"must start with {prefix}/, end with /, and hold {date} or {year}, {month} and {day}. The object name TOPIC-pPPP-FIRST-LAST.EXT is appended")
	fs.StringVar(&c.Format, "format", FormatNDJSON, "object format: ndjson (one record a line) or parquet (one row a record, the record schema's fields as columns)")
	fs.StringVar(&c.Compression, "compression", "gzip", "compression: gzip, zstd or none (for parquet, the column codec)")
	fs.IntVar(&c.MaxRecords, "batch.max-records", 5000, "a partition's batch is cut when it holds this many records")
	fs.IntVar(&c.MaxBytes, "batch.max-bytes", 16<<20, "or when its records' JSON reaches this many bytes (bounds memory per partition)")
	fs.DurationVar(&c.MaxAge, "batch.max-age", time.Minute, "or when its first record has waited this long (quiet partitions still flush)")
	fs.IntVar(&c.MaxBuffered, "batch.max-buffered-bytes", 64<<20, "when the batches of all partitions together hold more JSON bytes than this, the largest is cut (0: no bound beyond partitions x --batch.max-bytes)")
	fs.IntVar(&c.PartSize, "upload.part-size", defaultPartSize, "S3 multipart part size in bytes (at least 5 MiB); objects of 16 MiB and more are uploaded in parts, streamed")
	fs.IntVar(&c.UploadConcurrency, "upload.concurrency", defaultUploadConcurrency, "parts of one object uploaded at once; an upload buffers about (concurrency + 1) x part size")
	fs.IntVar(&c.ParallelObjects, "upload.parallel-objects", defaultParallelObjects, "objects of one batch (one per folder of the key template) written at once")
	fs.DurationVar(&c.Drain, "shutdown.drain", 30*time.Second, "on SIGTERM, how long flushing the batches in hand may take")
	fs.Int64Var(&c.MemoryLimit, "memory.limit", 0, "soft memory limit of the Go runtime in bytes: the garbage collector works harder near it, so that resident memory stays level whatever the input rate;\n"+
		"0: GOMEMLIMIT if set, else 32 MiB plus what the batches may hold (--batch.max-buffered-bytes, an eighth of it when compressed); -1: none")
	fs.Int64Var(&c.DedupeWindow, "dedupe.window", defaultDedupeWindow, "a record the same as one of this many messages before it in its partition (every member but normalized_at, ingested_at and raw) is not archived again:\n"+
		"a record published twice by a normalize or ingest killed before its commit; size it to the records a partition receives while a crashed stage recovers; 0: the default; -1: off")
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
	if err := c.Reset.Validate(); err != nil {
		return err
	}
	_, tmplErr := parseTemplate(c.keyTemplate())
	return flagenv.Validate(
		flagenv.Check{OK: c.RecordsTopic != "", Msg: "--topic.records is empty"},
		flagenv.Check{OK: c.DeadLetterTopic != "", Msg: "--topic.dead-letter is empty"},
		flagenv.Check{OK: c.Group != "", Msg: "--group is empty"},
		flagenv.Check{OK: strings.Contains(c.Bucket, "://"), Msg: fmt.Sprintf("--bucket %q is not a URL such as file://./data/archive or s3://bucket", c.Bucket)},
		flagenv.Check{OK: validPrefix(c.Prefix), Msg: fmt.Sprintf("--prefix %q must be non-empty, without leading or trailing slash, empty segments, \"..\" or control characters", c.Prefix)},
		flagenv.Check{OK: tmplErr == nil, Msg: fmt.Sprint(tmplErr)},
		flagenv.Check{OK: c.format() == FormatNDJSON || c.format() == FormatParquet, Msg: fmt.Sprintf("--format %q is not ndjson or parquet", c.Format)},
		flagenv.Check{OK: c.MaxRecords >= 1, Msg: "--batch.max-records must be at least 1"},
		flagenv.Check{OK: c.MaxBytes >= 1024, Msg: "--batch.max-bytes must be at least 1024"},
		flagenv.Positive("batch.max-age", c.MaxAge),
		flagenv.Check{OK: c.MaxBuffered >= 0, Msg: "--batch.max-buffered-bytes must not be negative"},
		flagenv.Check{OK: c.Compression == "gzip" || c.Compression == "zstd" || c.Compression == "none", Msg: fmt.Sprintf("--compression %q is not gzip, zstd or none", c.Compression)},
		flagenv.Check{OK: c.PartSize == 0 || c.PartSize >= 5<<20, Msg: fmt.Sprintf("--upload.part-size must be at least 5 MiB (5242880), got %d", c.PartSize)},
		flagenv.Check{OK: c.UploadConcurrency >= 0, Msg: "--upload.concurrency must not be negative"},
		flagenv.Check{OK: c.ParallelObjects >= 0, Msg: "--upload.parallel-objects must not be negative"},
		flagenv.Positive("shutdown.drain", c.Drain),
		flagenv.Positive("lag.interval", c.LagInterval),
		flagenv.Check{OK: c.DedupeWindow >= -1, Msg: fmt.Sprintf("--dedupe.window must be -1 (off), 0 (the default) or a number of messages, got %d", c.DedupeWindow)},
		flagenv.Check{OK: c.MemoryLimit >= -1, Msg: fmt.Sprintf("--memory.limit must be -1 (none), 0 (automatic) or a number of bytes, got %d", c.MemoryLimit)},
	)
}

// ApplyMemoryLimit sets the process's soft memory limit (--memory.limit),
// for a process that runs the sink alone: the sink command calls it before
// Run; Run does not, since other processes (the demo, tests) run the sink
// beside other work.
func (c *Config) ApplyMemoryLimit(log *zap.Logger) {
	limit, from := c.memoryLimit(os.Getenv("GOMEMLIMIT"))
	switch {
	case limit > 0:
		debug.SetMemoryLimit(limit)
		log.Info("soft memory limit set", zap.Int64("bytes", limit), zap.String("from", from))
	case from == "GOMEMLIMIT":
		log.Info("soft memory limit from GOMEMLIMIT", zap.Int64("bytes", debug.SetMemoryLimit(-1)))
	default:
		log.Info("no soft memory limit (--memory.limit -1)")
	}
}

// memoryLimit is the soft memory limit the sink sets, and where it comes
// from; -1 when it sets none. gomemlimit is the GOMEMLIMIT variable.
//
// Batches hold NDJSON compressed, chunk by chunk, as records arrive: about
// an eighth of their JSON or less (news records compress 10 to 12 times).
// Uncompressed and Parquet batches hold their JSON. The 32 MiB are the rest
// of a running sink: fetches (--kafka.fetch-max-bytes a partition), chunks
// being compressed and uploads in flight, the clients' own state.
func (c *Config) memoryLimit(gomemlimit string) (int64, string) {
	switch {
	case c.MemoryLimit > 0:
		return c.MemoryLimit, "--memory.limit"
	case c.MemoryLimit < 0:
		return -1, "--memory.limit"
	case gomemlimit != "":
		return -1, "GOMEMLIMIT"
	}
	batches := int64(c.MaxBuffered)
	if batches == 0 {
		batches = 64 << 20
	}
	if c.format() == FormatNDJSON && c.Compression != "none" {
		batches /= 8
	}
	return 32<<20 + batches, "automatic"
}

func validPrefix(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func (c *Config) format() string {
	if c.Format == "" {
		return FormatNDJSON
	}
	return c.Format
}

func (c *Config) keyTemplate() string {
	if c.KeyTemplate == "" {
		return DefaultKeyTemplate
	}
	return c.KeyTemplate
}

func (c *Config) partSize() int {
	if c.PartSize == 0 {
		return defaultPartSize
	}
	return c.PartSize
}

func (c *Config) parallelObjects() int {
	if c.ParallelObjects == 0 {
		return defaultParallelObjects
	}
	return c.ParallelObjects
}

// dedupeWindow is --dedupe.window in messages; 0 when off.
func (c *Config) dedupeWindow() int64 {
	switch {
	case c.DedupeWindow < 0:
		return 0
	case c.DedupeWindow == 0:
		return defaultDedupeWindow
	}
	return c.DedupeWindow
}

func (c *Config) uploadConcurrency() int {
	if c.UploadConcurrency == 0 {
		return defaultUploadConcurrency
	}
	return c.UploadConcurrency
}
