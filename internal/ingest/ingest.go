// Package ingest is the first stage of wirefeed: it takes raw feed items from
// their sources and publishes each one, once, to the raw topic, untouched,
// in the envelope of pkg/record.Raw.
package ingest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/telemetry"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// Config configures the ingest stage.
type Config struct {
	Kafka     kafka.Config
	Telemetry telemetry.Config
	RawTopic  string

	SpoolDir     string
	SpoolSource  string
	SpoolFormat  string
	SpoolPoll    time.Duration
	SpoolSettle  time.Duration
	SpoolBatch   int
	MaxItemBytes int64
}

// DefaultHTTPAddr is where ingest serves /metrics by default.
const DefaultHTTPAddr = "127.0.0.1:9101"

// RegisterFlags registers every flag of the stage.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.Kafka.RegisterFlags(fs)
	c.Telemetry.RegisterFlags(fs, DefaultHTTPAddr)
	fs.StringVar(&c.RawTopic, "topic.raw", kafka.DefaultRawTopic, "topic raw items are published to")
	fs.StringVar(&c.SpoolDir, "spool", "", "spool folder to watch: each complete file dropped in is one raw item (required)")
	fs.StringVar(&c.SpoolSource, "spool.source", "spool", "source slug written in the envelope of spool items; normalize refines it from the item's URL or ID")
	fs.StringVar(&c.SpoolFormat, "spool.format", "textdump", "format hint of spool items: textdump, or empty to let normalize sniff it")
	fs.DurationVar(&c.SpoolPoll, "spool.poll", time.Second, "how often the spool folder is scanned")
	fs.DurationVar(&c.SpoolSettle, "spool.settle", 2*time.Second, "a file written in place is taken once unchanged for this long (files renamed in from a hidden or .tmp name are taken at once)")
	fs.IntVar(&c.SpoolBatch, "spool.batch", 100, "most files published in one produce request")
	fs.Int64Var(&c.MaxItemBytes, "max-item-bytes", 4<<20, "largest raw item accepted, in bytes; larger files go to failed/")
}

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Validate checks the configuration.
func (c *Config) Validate() error {
	if err := c.Kafka.Validate(); err != nil {
		return err
	}
	if err := c.Telemetry.Validate(); err != nil {
		return err
	}
	return flagenv.Validate(
		flagenv.Check{OK: c.RawTopic != "", Msg: "--topic.raw is empty"},
		flagenv.Check{OK: c.SpoolDir != "", Msg: "--spool is required (the folder to watch)"},
		flagenv.Check{OK: slugRe.MatchString(c.SpoolSource), Msg: fmt.Sprintf("--spool.source %q must be a lower-case slug", c.SpoolSource)},
		flagenv.Positive("spool.poll", c.SpoolPoll),
		flagenv.Check{OK: c.SpoolSettle >= 0, Msg: "--spool.settle must not be negative"},
		flagenv.Check{OK: c.SpoolBatch >= 1, Msg: "--spool.batch must be at least 1"},
		flagenv.Check{OK: c.MaxItemBytes >= 1 && c.MaxItemBytes <= int64(c.Kafka.MaxMessageBytes), Msg: fmt.Sprintf("--max-item-bytes must be between 1 and --kafka.max-message-bytes (%d)", c.Kafka.MaxMessageBytes)},
	)
}

type metrics struct {
	items    *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	publish  prometheus.Histogram
	pending  prometheus.Gauge
	retries  prometheus.Counter
	lastItem *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_ingest_items_total",
			Help: "Raw items taken from sources, by source and result (published, duplicate, failed).",
		}, []string{"source", "result"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_ingest_bytes_total",
			Help: "Bytes of raw items published, by source.",
		}, []string{"source"}),
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wirefeed_ingest_publish_duration_seconds",
			Help:    "Time to publish a batch of raw items until the broker acknowledged it.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wirefeed_ingest_spool_pending_files",
			Help: "Files in the spool folder not yet complete (still being written).",
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wirefeed_ingest_publish_retries_total",
			Help: "Produce requests to the raw topic that failed and were retried.",
		}),
		lastItem: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wirefeed_ingest_last_published_timestamp_seconds",
			Help: "Unix time of the last item published, by source.",
		}, []string{"source"}),
	}
	reg.MustRegister(m.items, m.bytes, m.publish, m.pending, m.retries, m.lastItem)
	return m
}

// Run runs the stage until ctx is done.
func Run(ctx context.Context, cfg Config, log *zap.Logger, reg *prometheus.Registry) error {
	health := telemetry.NewHealth("kafka")
	m := newMetrics(reg)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return telemetry.Serve(ctx, cfg.Telemetry.HTTPAddr, reg, health, log) })
	g.Go(func() error {
		if err := kafka.EnsureTopics(ctx, &cfg.Kafka, kafka.TopicSpec{Name: cfg.RawTopic}); err != nil {
			return err
		}
		health.Set("kafka", nil)
		w := kafka.NewWriter(&cfg.Kafka, cfg.RawTopic, log)
		defer w.Close()
		s, err := newSpool(cfg, w, m, log.With(zap.String("component", "spool"), zap.String("source", cfg.SpoolSource)))
		if err != nil {
			return err
		}
		defer s.close()
		return s.run(ctx)
	})
	return g.Wait()
}

type spool struct {
	cfg     Config
	scanner *spoolScanner
	ledger  *ledger
	w       *kafka.Writer
	m       *metrics
	log     *zap.Logger
}

func newSpool(cfg Config, w *kafka.Writer, m *metrics, log *zap.Logger) (*spool, error) {
	sc, err := newSpoolScanner(cfg.SpoolDir, cfg.SpoolSettle)
	if err != nil {
		return nil, err
	}
	l, err := openLedger(filepath.Join(cfg.SpoolDir, spoolState, ledgerName))
	if err != nil {
		return nil, err
	}
	return &spool{cfg: cfg, scanner: sc, ledger: l, w: w, m: m, log: log}, nil
}

func (s *spool) close() error { return s.ledger.close() }

// run scans the spool folder until ctx is done. A batch being published when
// ctx ends is finished (acknowledged, recorded and moved) before returning.
func (s *spool) run(ctx context.Context) error {
	s.log.Info("watching spool folder", zap.String("path", s.cfg.SpoolDir))
	t := time.NewTicker(s.cfg.SpoolPoll)
	defer t.Stop()
	work := context.WithoutCancel(ctx)
	for {
		ready, pending, err := s.scanner.scan(time.Now())
		if err != nil {
			return err
		}
		s.m.pending.Set(float64(pending))
		for len(ready) > 0 && ctx.Err() == nil {
			n := min(len(ready), s.cfg.SpoolBatch)
			if err := s.publish(work, ready[:n]); err != nil {
				return err
			}
			ready = ready[n:]
		}
		select {
		case <-ctx.Done():
			s.log.Info("spool stopped")
			return nil
		case <-t.C:
		}
	}
}

// item is a spool file read and wrapped, ready to produce.
type item struct {
	file spoolFile
	raw  *record.Raw
}

// publish reads files, publishes the new ones in one produce request, then
// records their keys in the ledger and moves them to done/.
func (s *spool) publish(ctx context.Context, files []spoolFile) error {
	var items []item
	var dups []spoolFile
	for _, f := range files {
		body, reason, err := readItem(f.path, s.cfg.MaxItemBytes)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // taken away meanwhile
			}
			s.log.Warn("spool file refused", zap.String("file", f.name), zap.String("reason", reason), zap.Error(err))
			s.m.items.WithLabelValues(s.cfg.SpoolSource, "failed").Inc()
			if err := s.scanner.fail(f, reason, err); err != nil {
				return err
			}
			continue
		}
		key := record.ItemKey(s.cfg.SpoolSource, "", body)
		if s.ledger.has(key) {
			dups = append(dups, f)
			continue
		}
		items = append(items, item{file: f, raw: &record.Raw{
			Key: key, Source: s.cfg.SpoolSource, Format: s.cfg.SpoolFormat,
			Origin: "spool:" + f.name, FetchedAt: time.Now().UTC(), Body: body,
		}})
	}
	for _, f := range dups {
		s.log.Info("spool file already published; moving to done", zap.String("file", f.name))
		s.m.items.WithLabelValues(s.cfg.SpoolSource, "duplicate").Inc()
		if err := s.scanner.done(f); err != nil {
			return err
		}
	}
	if len(items) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(items))
	keys := make([]string, len(items))
	var total int
	for i, it := range items {
		msgs[i] = kafka.Message{Key: []byte(it.raw.Key), Value: it.raw.Body, Headers: kafka.Headers(it.raw.Headers())}
		keys[i] = it.raw.Key
		total += len(it.raw.Body)
	}
	start := time.Now()
	if err := s.w.Write(ctx, func(error) { s.m.retries.Inc() }, msgs...); err != nil {
		return err
	}
	s.m.publish.Observe(time.Since(start).Seconds())
	// Acknowledged: record, then move. A crash before the ledger write
	// publishes these again on restart (at-least-once); after it, never.
	if err := s.ledger.add(keys...); err != nil {
		return err
	}
	for _, it := range items {
		if err := s.scanner.done(it.file); err != nil {
			return err
		}
	}
	s.m.items.WithLabelValues(s.cfg.SpoolSource, "published").Add(float64(len(items)))
	s.m.bytes.WithLabelValues(s.cfg.SpoolSource).Add(float64(total))
	s.m.lastItem.WithLabelValues(s.cfg.SpoolSource).SetToCurrentTime()
	s.log.Info("published spool items", zap.Int("items", len(items)), zap.Int("bytes", total), zap.Duration("took", time.Since(start)))
	return nil
}

// readItem reads a spool file, refusing empty and oversized ones with a
// reason code.
func readItem(path string, limit int64) ([]byte, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "unreadable", err
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, limit+1))
	switch {
	case err != nil:
		return nil, "unreadable", err
	case int64(len(body)) > limit:
		return nil, "too_large", fmt.Errorf("file is larger than %d bytes", limit)
	case len(body) == 0:
		return nil, "empty", errors.New("file is empty")
	}
	return body, "", nil
}
