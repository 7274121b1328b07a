// Package normalize is the middle stage of wirefeed: it consumes raw items,
// decodes and repairs their text, parses them into records (pkg/record) and
// publishes them; what it cannot parse goes to the dead-letter topic with a
// reason, and the stream goes on.
package normalize

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/telemetry"
	"github.com/wirefeed/wirefeed/pkg/record"
)

const stage = "normalize"

// Config configures the normalize stage.
type Config struct {
	Kafka           kafka.Config
	Telemetry       telemetry.Config
	Reset           kafka.ResetConfig
	RawTopic        string
	RecordsTopic    string
	DeadLetterTopic string
	Group           string
	BatchMax        int
	BatchLinger     time.Duration
	Workers         int
	Drain           time.Duration
	LagInterval     time.Duration
	DefaultZone     string

	beforeCommit func([]kafka.Message) error // test seam, see kafka.BatchOptions
}

// DefaultHTTPAddr is where normalize serves /metrics by default.
const DefaultHTTPAddr = "127.0.0.1:9102"

// SetBeforeCommitForTest makes Run call fn after each batch is produced
// and before it is committed; an error from fn stops Run there, as a crash
// would. Tests use it to prove that nothing is lost.
func (c *Config) SetBeforeCommitForTest(fn func([]kafka.Message) error) { c.beforeCommit = fn }

// RegisterFlags registers every flag of the stage.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.Kafka.RegisterFlags(fs)
	c.Telemetry.RegisterFlags(fs, DefaultHTTPAddr)
	c.Reset.RegisterFlags(fs)
	c.RegisterParseFlags(fs)
	fs.StringVar(&c.RawTopic, "topic.raw", kafka.DefaultRawTopic, "topic of raw items to normalize")
	fs.StringVar(&c.RecordsTopic, "topic.records", kafka.DefaultRecordsTopic, "topic normalized records are published to")
	fs.StringVar(&c.DeadLetterTopic, "topic.dead-letter", kafka.DefaultDeadLetterTopic, "topic for raw items that cannot be normalized, with a reason")
	fs.StringVar(&c.Group, "group", "wirefeed-normalize", "Kafka consumer group; replicas with the same group split the partitions")
	fs.IntVar(&c.BatchMax, "batch.max", 500, "most raw items processed, produced and committed together")
	fs.DurationVar(&c.BatchLinger, "batch.linger", 100*time.Millisecond, "longest wait to fill a batch")
	fs.IntVar(&c.Workers, "workers", 0, "goroutines that normalize a batch's items in parallel (0: one per CPU, GOMAXPROCS); output order is kept")
	fs.DurationVar(&c.Drain, "shutdown.drain", 30*time.Second, "on SIGTERM, how long finishing the batch in hand may take")
	fs.DurationVar(&c.LagInterval, "lag.interval", 10*time.Second, "how often consumer lag is computed")
}

// RegisterParseFlags registers the flags that change how items are parsed,
// shared with the offline modes.
func (c *Config) RegisterParseFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DefaultZone, "default-timezone", "UTC", "IANA time zone of times without an offset, for sources without a profile")
}

// Validate checks the configuration of the offline modes.
func (c *Config) ValidateParse() error {
	_, err := time.LoadLocation(c.DefaultZone)
	return flagenv.Validate(flagenv.Check{OK: err == nil, Msg: fmt.Sprintf("--default-timezone %q: %v", c.DefaultZone, err)})
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
	if err := c.ValidateParse(); err != nil {
		return err
	}
	return flagenv.Validate(
		flagenv.Check{OK: c.RawTopic != "" && c.RecordsTopic != "" && c.DeadLetterTopic != "", Msg: "topic names must not be empty"},
		flagenv.Check{OK: c.RawTopic != c.RecordsTopic && c.RawTopic != c.DeadLetterTopic && c.RecordsTopic != c.DeadLetterTopic, Msg: "--topic.raw, --topic.records and --topic.dead-letter must differ"},
		flagenv.Check{OK: c.Group != "", Msg: "--group is empty"},
		flagenv.Check{OK: c.BatchMax >= 1, Msg: "--batch.max must be at least 1"},
		flagenv.Check{OK: c.Workers >= 0, Msg: "--workers must be 0 (one per CPU) or more"},
		flagenv.Positive("batch.linger", c.BatchLinger),
		flagenv.Positive("shutdown.drain", c.Drain),
		flagenv.Positive("lag.interval", c.LagInterval),
	)
}

// NewNormalizer returns the normalizer the configuration describes.
func (c *Config) NewNormalizer() *Normalizer {
	loc, err := time.LoadLocation(c.DefaultZone)
	if err != nil {
		loc = time.UTC // Validate refused it already
	}
	return &Normalizer{DefaultZone: loc, Now: time.Now}
}

type metrics struct {
	items      *prometheus.CounterVec
	records    prometheus.Counter
	deadLetter *prometheus.CounterVec
	skipped    *prometheus.CounterVec
	fixes      *prometheus.CounterVec
	duration   prometheus.Histogram
	batch      prometheus.Histogram
	retries    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_normalize_items_total",
			Help: "Raw items consumed, by result (ok, skipped, dead_letter) and source (the envelope's source slug; unknown when the envelope is unreadable).",
		}, []string{"result", "source"}),
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wirefeed_normalize_records_total",
			Help: "Records published to the records topic.",
		}),
		deadLetter: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_normalize_dead_letters_total",
			Help: "Raw items sent to the dead-letter topic, by reason and source.",
		}, []string{"reason", "source"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_normalize_skipped_total",
			Help: "Raw items passed over because they hold no text story (photos, packages, ...), by reason.",
		}, []string{"reason"}),
		fixes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_normalize_fixes_total",
			Help: "Repairs applied to records, by fix code.",
		}, []string{"fix"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wirefeed_normalize_processing_duration_seconds",
			Help:    "Time to decode, repair and parse one raw item.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wirefeed_normalize_batch_duration_seconds",
			Help:    "Time to process a batch, produce its output and have it acknowledged.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wirefeed_normalize_produce_retries_total",
			Help: "Produce requests that failed and were retried.",
		}),
	}
	reg.MustRegister(m.items, m.records, m.deadLetter, m.skipped, m.fixes, m.duration, m.batch, m.retries)
	return m
}

// Run runs the stage until ctx is done. With --reset-offsets it first moves
// the consumer group, or only prints the plan and returns.
func Run(ctx context.Context, cfg Config, log *zap.Logger, reg *prometheus.Registry) error {
	if stop, err := cfg.Reset.Apply(ctx, &cfg.Kafka, cfg.Group, cfg.RawTopic, log); err != nil || stop {
		return err
	}
	health := telemetry.NewHealth("kafka", "consumer-lag")
	m := newMetrics(reg)
	n := cfg.NewNormalizer()
	consumerRetries := kafka.RetryCounters(reg, stage)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return telemetry.Serve(gctx, cfg.Telemetry.HTTPAddr, reg, health, log) })
	g.Go(func() error {
		err := kafka.EnsureTopics(gctx, &cfg.Kafka,
			kafka.TopicSpec{Name: cfg.RawTopic}, kafka.TopicSpec{Name: cfg.RecordsTopic}, kafka.TopicSpec{Name: cfg.DeadLetterTopic})
		if err != nil {
			return err
		}
		health.Set("kafka", nil)
		lag := kafka.NewLagMonitor(&cfg.Kafka, stage, cfg.Group, cfg.RawTopic, cfg.LagInterval, reg, log,
			func(err error) { health.Set("consumer-lag", err) })
		g.Go(func() error { return lag.Run(gctx) })

		out := kafka.NewWriter(&cfg.Kafka, cfg.RecordsTopic, log)
		defer out.Close()
		dlq := kafka.NewWriter(&cfg.Kafka, cfg.DeadLetterTopic, log)
		defer dlq.Close()
		c := kafka.NewConsumer(&cfg.Kafka, cfg.Group, cfg.RawTopic, log)
		defer c.Close()
		c.OnRetry(consumerRetries)
		workers := cfg.Workers
		if workers == 0 {
			workers = runtime.GOMAXPROCS(0)
		}
		h := &handler{n: n, out: out, dlq: dlq, m: m, workers: workers, log: log.With(zap.String("component", stage))}
		return c.RunBatches(gctx, kafka.BatchOptions{MaxMessages: cfg.BatchMax, Linger: cfg.BatchLinger, Drain: cfg.Drain, BeforeCommit: cfg.beforeCommit}, h.handle)
	})
	return g.Wait()
}

type handler struct {
	n       *Normalizer
	out     *kafka.Writer
	dlq     *kafka.Writer
	m       *metrics
	workers int
	log     *zap.Logger
	sources map[string]bool // whose items have been counted (handle's goroutine)
}

// outcome is what became of one raw item: its encoded records, or the
// error that skips or dead-letters it.
type outcome struct {
	source  string // the envelope's source, unknownSource when unreadable
	records []kafka.Message
	fixes   []string
	err     error // the item is skipped or dead-lettered
	bug     error // a record could not be encoded: not bad input, a bug
}

// handle normalizes a batch, produces its records and dead letters, and
// returns once the broker acknowledged both, so the batch may be committed.
// Items are normalized on h.workers goroutines; records keep the order of
// the raw items they come from.
func (h *handler) handle(ctx context.Context, batch []kafka.Message) error {
	start := time.Now()
	outcomes := make([]outcome, len(batch))
	h.parallel(len(batch), func(i int) { outcomes[i] = h.process(batch[i]) })
	var records, dead []kafka.Message
	for i, o := range outcomes {
		msg := batch[i]
		if o.bug != nil {
			return o.bug
		}
		if Skipped(o.err) {
			// Well-formed but no text story (a photo, a package): counted
			// and passed over, not an error.
			h.m.skipped.WithLabelValues(Reason(o.err)).Inc()
			h.count(o.source, "skipped")
			continue
		}
		if o.err != nil {
			reason := Reason(o.err)
			h.log.Warn("raw item dead-lettered", zap.String("topic", msg.Topic), zap.Int("partition", msg.Partition),
				zap.Int64("offset", msg.Offset), zap.String("reason", reason), zap.Error(o.err))
			dead = append(dead, kafka.DeadLetter(msg, stage, reason, o.err, time.Now()))
			h.m.deadLetter.WithLabelValues(reason, o.source).Inc()
			h.count(o.source, "dead_letter")
			continue
		}
		records = append(records, o.records...)
		for _, f := range o.fixes {
			h.m.fixes.WithLabelValues(f).Inc()
		}
		h.count(o.source, "ok")
	}
	if err := h.out.Write(ctx, func(error) { h.m.retries.Inc() }, records...); err != nil {
		return err
	}
	if err := h.dlq.Write(ctx, func(error) { h.m.retries.Inc() }, dead...); err != nil {
		return err
	}
	h.m.records.Add(float64(len(records)))
	h.m.batch.Observe(time.Since(start).Seconds())
	return nil
}

// parallel calls f(0) ... f(n-1) on up to h.workers goroutines and returns
// when every call has.
func (h *handler) parallel(n int, f func(i int)) {
	workers := min(h.workers, n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}

// unknownSource labels the items whose envelope cannot be read.
const unknownSource = "unknown"

// count counts an item by result and source. A source's series are made
// for every result at its first item, so that the other results of that
// source start from zero.
func (h *handler) count(source, result string) {
	if !h.sources[source] {
		if h.sources == nil {
			h.sources = map[string]bool{}
		}
		h.sources[source] = true
		for _, r := range []string{"ok", "skipped", "dead_letter"} {
			h.m.items.WithLabelValues(r, source)
		}
	}
	h.m.items.WithLabelValues(result, source).Inc()
}

// process normalizes one raw item and encodes its records.
func (h *handler) process(msg kafka.Message) outcome {
	source, arts, err := h.one(msg)
	if err != nil {
		return outcome{source: source, err: err}
	}
	o := outcome{source: source}
	for _, a := range arts {
		b, err := a.Marshal()
		if err != nil {
			return outcome{source: source, bug: fmt.Errorf("encode record: %w", err)}
		}
		o.records = append(o.records, kafka.Message{Key: []byte(a.ID), Value: b, Headers: []kafka.Header{
			{Key: record.HeaderSource, Value: []byte(a.Source)},
		}})
		o.fixes = append(o.fixes, a.Fixes...)
	}
	return o
}

func (h *handler) one(msg kafka.Message) (source string, arts []*record.Article, err error) {
	start := time.Now()
	defer func() { h.m.duration.Observe(time.Since(start).Seconds()) }()
	raw, err := record.RawFromMessage(string(msg.Key), kafka.RecordHeaders(msg.Headers), msg.Value)
	if err != nil {
		return unknownSource, nil, &Error{"bad_envelope", err}
	}
	arts, err = h.n.Normalize(raw, &record.RawRef{Topic: msg.Topic, Partition: msg.Partition, Offset: msg.Offset})
	return raw.Source, arts, err
}
