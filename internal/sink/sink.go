// Package sink is the last stage of wirefeed: it archives normalized records
// in object storage, in batches, committing consumer offsets only after the
// objects holding them are written.
//
// Objects are gzip-compressed newline-delimited JSON, one Article a line,
// under PREFIX/dt=YYYY-MM-DD/source=SRC/ (dt is the UTC date of
// published_at). An object's name holds the topic, partition and the offset
// range of the batch it was cut from, and objects are written only if absent,
// so a batch written again after a crash lands on the same keys instead of
// duplicating records.
package sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob:// URLs
	_ "gocloud.dev/blob/fileblob"  // file:// URLs
	_ "gocloud.dev/blob/gcsblob"   // gs:// URLs
	_ "gocloud.dev/blob/s3blob"    // s3:// URLs
	"gocloud.dev/gcerrors"
	"golang.org/x/sync/errgroup"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/telemetry"
	"github.com/wirefeed/wirefeed/pkg/record"
)

const stage = "sink"

type metrics struct {
	records  *prometheus.CounterVec
	objects  *prometheus.CounterVec
	bytes    prometheus.Counter
	flushes  *prometheus.CounterVec
	upload   prometheus.Histogram
	retries  prometheus.Counter
	buffered prometheus.Gauge
	latency  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_sink_records_total",
			Help: "Records taken from the records topic, by result (archived, dead_letter).",
		}, []string{"result"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_sink_objects_total",
			Help: "Objects written to the store, by result (written; exists: already written before a restart).",
		}, []string{"result"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wirefeed_sink_written_bytes_total",
			Help: "Bytes written to the store (compressed).",
		}),
		flushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_sink_flushes_total",
			Help: "Batches flushed, by reason (records, bytes, age, shutdown).",
		}, []string{"reason"}),
		upload: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wirefeed_sink_upload_duration_seconds",
			Help:    "Time to write one object to the store.",
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 14),
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wirefeed_sink_upload_retries_total",
			Help: "Object writes that failed and were retried.",
		}),
		buffered: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wirefeed_sink_buffered_bytes",
			Help: "Uncompressed bytes of records held in batches, not yet written.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wirefeed_sink_end_to_end_latency_seconds",
			Help:    "From ingest receiving an item to its record being archived.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
		}),
	}
	reg.MustRegister(m.records, m.objects, m.bytes, m.flushes, m.upload, m.retries, m.buffered, m.latency)
	return m
}

// Run runs the stage until ctx is done.
func Run(ctx context.Context, cfg Config, log *zap.Logger, reg *prometheus.Registry) error {
	health := telemetry.NewHealth("kafka", "consumer-lag")
	m := newMetrics(reg)
	bucket, err := blob.OpenBucket(ctx, cfg.Bucket)
	if err != nil {
		return fmt.Errorf("open bucket %s: %w", redact(cfg.Bucket), err)
	}
	defer bucket.Close()

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return telemetry.Serve(gctx, cfg.Telemetry.HTTPAddr, reg, health, log) })
	g.Go(func() error {
		if err := kafka.EnsureTopics(gctx, &cfg.Kafka, kafka.TopicSpec{Name: cfg.RecordsTopic}, kafka.TopicSpec{Name: cfg.DeadLetterTopic}); err != nil {
			return err
		}
		health.Set("kafka", nil)
		lag := kafka.NewLagMonitor(&cfg.Kafka, stage, cfg.Group, cfg.RecordsTopic, cfg.LagInterval, reg, log,
			func(err error) { health.Set("consumer-lag", err) })
		g.Go(func() error { return lag.Run(gctx) })
		s := &sinker{cfg: cfg, bucket: bucket, m: m, log: log.With(zap.String("component", "sink")),
			dlq:     kafka.NewWriter(&cfg.Kafka, cfg.DeadLetterTopic, log),
			batches: map[int]*batch{}}
		defer s.dlq.Close()
		c := kafka.NewConsumer(&cfg.Kafka, cfg.Group, cfg.RecordsTopic, log)
		defer c.Close()
		return s.run(gctx, c)
	})
	return g.Wait()
}

// line is one record of a batch, encoded, with where it goes.
type line struct {
	json   []byte
	dt     string
	source string
}

// batch holds the records of one partition not yet written.
type batch struct {
	partition int
	lines     []line
	bytes     int
	first     kafka.Message // first and last message of the batch
	last      kafka.Message
	started   time.Time
	ingested  []time.Time
}

type sinker struct {
	cfg     Config
	bucket  *blob.Bucket
	dlq     *kafka.Writer
	m       *metrics
	log     *zap.Logger
	batches map[int]*batch
	total   int // buffered bytes over all batches
}

// run fetches and batches until ctx is done. Stop order on shutdown: stop
// fetching, flush every batch in hand (bounded by --shutdown.drain), commit
// their offsets, return so that the caller closes the reader.
func (s *sinker) run(ctx context.Context, c *kafka.Consumer) error {
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopDrain := context.AfterFunc(ctx, func() { time.AfterFunc(s.cfg.Drain, cancelWork) })
	defer stopDrain()

	in := make(chan kafka.Message, 256)
	fetchErr := make(chan error, 1)
	go func() { fetchErr <- c.Fetch(ctx, in) }()
	tick := time.NewTicker(min(time.Second, s.cfg.MaxAge/4+time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case msg := <-in:
			reason, err := s.add(work, msg)
			if err != nil {
				return err
			}
			if reason != "" {
				if err := s.flush(work, c, s.batches[msg.Partition], reason); err != nil {
					return err
				}
			}
		case now := <-tick.C:
			for _, p := range s.partitions() {
				if b := s.batches[p]; now.Sub(b.started) >= s.cfg.MaxAge {
					if err := s.flush(work, c, b, "age"); err != nil {
						return err
					}
				}
			}
		case err := <-fetchErr:
			if err != nil {
				return err
			}
			fetchErr = nil
		case <-ctx.Done():
			for _, p := range s.partitions() {
				if err := s.flush(work, c, s.batches[p], "shutdown"); err != nil {
					return fmt.Errorf("flush on shutdown: %w", err)
				}
			}
			return nil
		}
	}
}

func (s *sinker) partitions() []int {
	ps := make([]int, 0, len(s.batches))
	for p := range s.batches {
		ps = append(ps, p)
	}
	sort.Ints(ps)
	return ps
}

// add puts a record into its partition's batch and returns why the batch
// must be flushed now, if it must. A record that is not a valid Article is
// dead-lettered, and its offset still advances with the batch.
func (s *sinker) add(ctx context.Context, msg kafka.Message) (flush string, err error) {
	b := s.batches[msg.Partition]
	if b == nil {
		b = &batch{partition: msg.Partition, first: msg, started: time.Now()}
		s.batches[msg.Partition] = b
	}
	b.last = msg
	a, derr := record.Unmarshal(msg.Value)
	if derr == nil {
		derr = a.Validate()
	}
	if derr != nil {
		s.log.Warn("record dead-lettered", zap.Int("partition", msg.Partition), zap.Int64("offset", msg.Offset), zap.Error(derr))
		dl := kafka.DeadLetter(msg, stage, "bad_record", derr, time.Now())
		if err := s.dlq.Write(ctx, nil, dl); err != nil {
			return "", err
		}
		s.m.records.WithLabelValues("dead_letter").Inc()
		return "", nil
	}
	day := a.PublishedAt
	if day.IsZero() {
		day = a.NormalizedAt
	}
	b.lines = append(b.lines, line{json: msg.Value, dt: day.UTC().Format(time.DateOnly), source: a.Source})
	b.bytes += len(msg.Value) + 1
	s.total += len(msg.Value) + 1
	s.m.buffered.Set(float64(s.total))
	if !a.IngestedAt.IsZero() {
		b.ingested = append(b.ingested, a.IngestedAt)
	}
	switch {
	case len(b.lines) >= s.cfg.MaxRecords:
		return "records", nil
	case b.bytes >= s.cfg.MaxBytes:
		return "bytes", nil
	}
	return "", nil
}

// flush writes a batch's objects, one per date and source, then commits the
// batch's last offset.
func (s *sinker) flush(ctx context.Context, c *kafka.Consumer, b *batch, reason string) error {
	groups := map[[2]string][]line{}
	for _, l := range b.lines {
		k := [2]string{l.dt, l.source}
		groups[k] = append(groups[k], l)
	}
	keys := make([][2]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		key := s.objectKey(k[0], k[1], b)
		if err := s.write(ctx, key, groups[k]); err != nil {
			return err
		}
	}
	if err := c.Commit(ctx, b.last); err != nil {
		return err
	}
	now := time.Now()
	for _, t := range b.ingested {
		s.m.latency.Observe(now.Sub(t).Seconds())
	}
	s.m.records.WithLabelValues("archived").Add(float64(len(b.lines)))
	s.m.flushes.WithLabelValues(reason).Inc()
	s.total -= b.bytes
	s.m.buffered.Set(float64(s.total))
	delete(s.batches, b.partition)
	s.log.Debug("batch flushed", zap.Int("partition", b.partition), zap.Int64("first_offset", b.first.Offset),
		zap.Int64("last_offset", b.last.Offset), zap.Int("records", len(b.lines)), zap.String("reason", reason))
	return nil
}

// objectKey names an object after the batch it was cut from, so the same
// batch always maps to the same keys.
func (s *sinker) objectKey(dt, source string, b *batch) string {
	ext := ".ndjson"
	if s.cfg.Compression == "gzip" {
		ext += ".gz"
	}
	return fmt.Sprintf("%s/dt=%s/source=%s/%s-p%03d-%020d-%020d%s", s.cfg.Prefix, dt, source,
		b.first.Topic, b.partition, b.first.Offset, b.last.Offset, ext)
}

// write writes one object if it does not exist yet, retrying with backoff
// until it succeeds or ctx ends.
func (s *sinker) write(ctx context.Context, key string, lines []line) error {
	var buf bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
	} = &buf
	var zw *gzip.Writer
	if s.cfg.Compression == "gzip" {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	for _, l := range lines {
		w.Write(l.json)
		w.Write([]byte{'\n'})
	}
	if zw != nil {
		zw.Close()
	}
	backoff := 200 * time.Millisecond
	for {
		start := time.Now()
		err := s.bucket.WriteAll(ctx, key, buf.Bytes(), &blob.WriterOptions{
			ContentType: "application/x-ndjson",
			IfNotExist:  true,
			Metadata:    map[string]string{"records": strconv.Itoa(len(lines)), "schema-version": strconv.Itoa(record.SchemaVersion)},
		})
		switch {
		case err == nil:
			s.m.upload.Observe(time.Since(start).Seconds())
			s.m.objects.WithLabelValues("written").Inc()
			s.m.bytes.Add(float64(buf.Len()))
			return nil
		case gcerrors.Code(err) == gcerrors.FailedPrecondition:
			// Written before a crash or rebalance: same batch, same key.
			s.m.objects.WithLabelValues("exists").Inc()
			s.log.Info("object exists already; not written again", zap.String("key", key))
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("write %s: %w", key, err)
		}
		s.m.retries.Inc()
		s.log.Warn("object write failed; retrying", zap.String("key", key), zap.Duration("backoff", backoff), zap.Error(err))
		select {
		case <-ctx.Done():
			return fmt.Errorf("write %s: %w", key, err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// redact drops the query of a bucket URL for logs and errors.
func redact(u string) string {
	for i, r := range u {
		if r == '?' {
			return u[:i]
		}
	}
	return u
}
