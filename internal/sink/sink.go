// Package sink is the last stage of wirefeed: it archives normalized records
// in object storage, in batches, so that every record of the records topic
// is in the archive exactly once, wherever the sink is stopped or killed.
//
// A partition's records are cut into batches (by count, bytes or age) and
// each batch is written as one object per folder of the key template
// (by default PREFIX/dt=YYYY-MM-DD/source=SRC/, dt the UTC date of
// published_at), named after the topic, the partition and the batch's
// offset range, in NDJSON or Parquet, gzip, zstd or uncompressed. The store
// holds the progress of each partition (PREFIX/_state/TOPIC/pPPP.json), and
// a flush is: state "pending" with the batch's range and keys; the objects,
// written only if absent; a manifest per date; state "done" with the next
// offset; then the consumer group commit. A restarted sink reads the state,
// skips what is archived, and writes a pending batch again exactly. The
// protocol and why each crash point is safe: docs/sink.md.
package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/encoding/json"
	"go.uber.org/zap"
	_ "gocloud.dev/blob/azureblob" // azblob:// URLs
	_ "gocloud.dev/blob/fileblob"  // file:// URLs
	_ "gocloud.dev/blob/gcsblob"   // gs:// URLs
	_ "gocloud.dev/blob/s3blob"    // s3:// URLs
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
	produce  prometheus.Counter
	buffered prometheus.Gauge
	latency  *prometheus.HistogramVec
	loads    *prometheus.CounterVec
	fenced   prometheus.Counter
	gaps     prometheus.Counter
	orphans  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_sink_records_total",
			Help: "Records taken from the records topic, by result (archived; dead_letter; already_archived: fetched again after a restart or rebalance and skipped, the store holding them already; duplicate: the same as a record of the --dedupe.window messages before it, published again by a stage killed before its commit, not archived again) and source (the record's source slug; unknown for records that are not valid articles).",
		}, []string{"result", "source"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_sink_objects_total",
			Help: "Data objects written to the store, by result (written; exists: written before a restart, found when writing a pending batch again).",
		}, []string{"result"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wirefeed_sink_written_bytes_total",
			Help: "Bytes of data objects written to the store (as stored, compressed).",
		}),
		flushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_sink_flushes_total",
			Help: "Batches flushed, by reason (records, bytes, age, memory: the batches together held --batch.max-buffered-bytes, shutdown, recovery: a pending batch written again).",
		}, []string{"reason"}),
		upload: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wirefeed_sink_upload_duration_seconds",
			Help:    "Time to encode and write one data object to the store, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 14),
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wirefeed_sink_upload_retries_total",
			Help: "Store operations (objects, manifests, state) that failed and were retried.",
		}),
		produce: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wirefeed_sink_produce_retries_total",
			Help: "Dead-letter produce requests that failed and were retried.",
		}),
		buffered: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wirefeed_sink_buffered_bytes",
			Help: "Bytes of record JSON held in batches, not yet written.",
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wirefeed_sink_end_to_end_latency_seconds",
			Help:    "From ingest receiving an item (ingested_at) to its record being archived, by source.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
		}, []string{"source"}),
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_sink_partition_loads_total",
			Help: "Partition states read from the store, by reason (assigned: first message of a partition; offset_jump: a message not following the last one, after a rebalance).",
		}, []string{"reason"}),
		fenced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wirefeed_sink_fenced_total",
			Help: "State writes refused because another sink changed the partition's state; the sink then drops its batches and consumes again.",
		}),
		gaps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wirefeed_sink_offset_gap_records_total",
			Help: "Offsets passed over without being fetched: the partition's next message was beyond the archived state (records deleted by retention, or the group moved forward).",
		}),
		orphans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wirefeed_sink_orphans_removed_total",
			Help: "Leftovers of killed writes removed, by reason (temp_file, multipart_upload, stale_key: an object of a pending batch that the current configuration names otherwise).",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.records, m.objects, m.bytes, m.flushes, m.upload, m.retries, m.produce, m.buffered, m.latency,
		m.loads, m.fenced, m.gaps, m.orphans)
	return m
}

// Run runs the stage until ctx is done. With --reset-offsets it first moves
// the consumer group, or only prints the plan and returns.
func Run(ctx context.Context, cfg Config, log *zap.Logger, reg *prometheus.Registry) error {
	if stop, err := cfg.Reset.Apply(ctx, &cfg.Kafka, cfg.Group, cfg.RecordsTopic, log); err != nil || stop {
		return err
	}
	tmpl, err := parseTemplate(cfg.keyTemplate())
	if err != nil {
		return err
	}
	health := telemetry.NewHealth("kafka", "consumer-lag")
	m := newMetrics(reg)
	consumerRetries := kafka.RetryCounters(reg, stage)
	bucket, err := openBucket(ctx, cfg.Bucket)
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
		dlq := kafka.NewWriter(&cfg.Kafka, cfg.DeadLetterTopic, log)
		defer dlq.Close()
		st := &store{bucket: bucket, states: newStateStore(bucket, bucketName(cfg.Bucket)), janitor: newJanitor(bucket, cfg.Bucket),
			m: m, log: log.With(zap.String("component", "store")), partSize: cfg.partSize(), concurrency: cfg.uploadConcurrency()}
		for {
			s, err := newSinker(cfg, tmpl, st, dlq, m, log.With(zap.String("component", "sink")))
			if err != nil {
				return err
			}
			c := kafka.NewConsumer(&cfg.Kafka, cfg.Group, cfg.RecordsTopic, log)
			c.OnRetry(consumerRetries)
			err = s.run(gctx, c)
			c.Close()
			if !errors.Is(err, errFenced) || gctx.Err() != nil {
				return err
			}
			// Another sink moved one of our partitions on: what we hold is
			// stale. Leave the group and join again; the batches dropped
			// were not committed, so they are fetched again.
			m.fenced.Inc()
			m.buffered.Set(0)
			log.Warn("fenced: a partition's state was changed by another sink; consuming again", zap.Error(err))
		}
	})
	return g.Wait()
}

// batch holds the records of one partition not yet written, by object.
type batch struct {
	partition int
	first     int64 // offset of the first message
	last      int64 // offset of the last message
	bytes     int   // of record JSON
	started   time.Time
	objects   map[string]*object // by folder of the key template
	arrivals  []arrival          // one per record, for the metrics of its commit
	dups      []int64            // offsets dropped as duplicates, in order
	floor     int64              // the partition's DedupeFrom, for its states
}

// object is one data object of a batch: its records (NDJSON: compressed
// chunks, and the lines not yet in one; Parquet: the lines) and what its
// manifest entry says of them.
type object struct {
	key    string // the folder until cut names the object
	date   string
	chunks []*chunk
	stage  []byte
	lines  [][]byte // Parquet: the records' JSON, encoded when written

	records                    int
	firstOffset, lastOffset    int64
	minPublished, maxPublished time.Time
	maxIngested                time.Time
}

// partition is the sink's view of one partition of the records topic.
type partition struct {
	id      int
	key     string // of its state object
	state   State
	version string // of state in the store; "" when there is none
	expect  int64  // offset of the message that must come next
	batch   *batch
	// pending is a batch found cut but not finished in the store: it is
	// rebuilt exactly, up to its last offset, whatever the batch limits.
	pending *Pending
	// caughtUp is set once the group's offset was committed up to the
	// state's next offset after records already archived were skipped.
	caughtUp bool
	// skipBelow is the state's next offset when it was read: messages
	// below it are archived. fresh is set until the first batch after a
	// read begins.
	skipBelow int64
	fresh     bool
	// dedupe holds the identities of the last records (nil when
	// --dedupe.window is off); floor is the state's DedupeFrom, set anew
	// when offsets are passed over.
	dedupe *window
	floor  int64
	// Fields above: run's goroutine. state and version: the writer's,
	// once a batch of the partition was handed to it (load and abandon
	// run while it holds none).
}

type sinker struct {
	cfg   Config
	tmpl  template
	ext   string
	topic string
	encs  chan *encoder // Parquet: one per object written at once
	zip   *compressor   // NDJSON: compresses objects' chunks as records arrive
	dirs  map[dirKey]string
	store *store
	dlq   *kafka.Writer
	m     *metrics
	log   *zap.Logger
	parts map[int]*partition
	// client reads the messages before a partition's first one fetched,
	// to fill its dedupe window.
	client *kafka.Client
	held   int          // bytes of the batches in hand (run's goroutine)
	total  atomic.Int64 // bytes of the batches in hand and being written

	jobs     chan flushJob
	inflight sync.WaitGroup // batches handed to the writer, not yet written
	failed   chan struct{}  // closed when the writer failed, with writeErr
	writeErr error
}

func newSinker(cfg Config, tmpl template, st *store, dlq *kafka.Writer, m *metrics, log *zap.Logger) (*sinker, error) {
	var encs chan *encoder
	if cfg.format() == FormatParquet {
		encs = make(chan *encoder, cfg.parallelObjects())
	}
	for range cap(encs) {
		encs <- newEncoder(cfg.Compression)
	}
	st.hook = cfg.storeHook
	return &sinker{cfg: cfg, tmpl: tmpl, ext: extension(cfg.format(), cfg.Compression), topic: cfg.RecordsTopic,
		encs: encs, store: st, dlq: dlq, m: m, log: log, parts: map[int]*partition{}, dirs: map[dirKey]string{},
		client: cfg.Kafka.Client()}, nil
}

// run fetches and batches until ctx is done; a writer goroutine writes the
// batches cut, one at a time, in order, while the next ones are fetched and
// decoded. Stop order on shutdown: stop fetching, cut every batch in hand,
// let the writer write and commit them all (bounded by --shutdown.drain),
// return so that the caller closes the reader. A pending batch not yet
// rebuilt in full is left to the next start.
func (s *sinker) run(ctx context.Context, c *kafka.Consumer) (err error) {
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopDrain := context.AfterFunc(ctx, func() { time.AfterFunc(s.cfg.Drain, cancelWork) })
	defer stopDrain()

	// Memory: this channel, kafka-go's queue (100 messages) and one fetch
	// per assigned partition (--kafka.max-message-bytes) on the way in; the
	// batches held and being written (--batch.max-buffered-bytes in all,
	// --batch.max-bytes each); one object's upload buffers on the way out.
	// See docs/sink.md.
	in := make(chan kafka.Message, 64)
	fetchErr := make(chan error, 1)
	fetchCtx, stopFetch := context.WithCancel(ctx)
	defer stopFetch()
	go func() { fetchErr <- c.Fetch(fetchCtx, in) }()
	decoded := make(chan *fetched, 64)
	go decodeAll(fetchCtx, in, decoded, s.cfg.dedupeWindow() > 0)

	s.zip = newCompressor(s.cfg.Compression)
	defer s.zip.close() // after the writer is done (deferred below, so run first)
	s.jobs = make(chan flushJob, 1)
	s.failed = make(chan struct{})
	writerDone := make(chan struct{})
	go func() { defer close(writerDone); s.writer(work, c) }()
	defer func() {
		// The writer ends once the jobs are closed; on an error, cancelling
		// its context makes it give up the job in hand at once.
		if err != nil {
			cancelWork()
		}
		close(s.jobs)
		<-writerDone
	}()

	tick := time.NewTicker(min(time.Second, s.cfg.MaxAge/4+time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case d := <-decoded:
			<-d.done
			if err := s.take(work, c, d); err != nil {
				return err
			}
		case now := <-tick.C:
			for _, p := range s.partitions() {
				if b := p.batch; b != nil && p.pending == nil && now.Sub(b.started) >= s.cfg.MaxAge {
					if err := s.flush(p, "age"); err != nil {
						return err
					}
				}
			}
		case err := <-fetchErr:
			if err != nil {
				return err
			}
			fetchErr = nil
		case <-s.failed:
			return s.writeErr
		case <-ctx.Done():
			for _, p := range s.partitions() {
				if p.batch != nil && p.pending == nil {
					if err := s.flush(p, "shutdown"); err != nil {
						return fmt.Errorf("flush on shutdown: %w", err)
					}
				}
			}
			if err := s.settle(); err != nil {
				return fmt.Errorf("flush on shutdown: %w", err)
			}
			return nil
		}
	}
}

// flushJob is a batch handed to the writer.
type flushJob struct {
	p       *partition
	b       *batch
	pending *Pending // the pending batch it rebuilds, or nil
	reason  string
}

// flush hands a partition's batch to the writer; it waits while the writer
// has a batch queued already (back-pressure).
func (s *sinker) flush(p *partition, reason string) error {
	for _, o := range p.batch.objects {
		s.seal(o)
	}
	j := flushJob{p: p, b: p.batch, pending: p.pending, reason: reason}
	p.batch, p.pending = nil, nil
	s.held -= j.b.bytes
	s.inflight.Add(1)
	select {
	case s.jobs <- j:
		return nil
	case <-s.failed:
		s.inflight.Done()
		return s.writeErr
	}
}

// settle waits until the writer has written every batch handed to it.
func (s *sinker) settle() error {
	s.inflight.Wait()
	select {
	case <-s.failed:
		return s.writeErr
	default:
		return nil
	}
}

// writer writes the batches handed to it, in order. After an error it
// writes nothing more: the error ends run.
func (s *sinker) writer(ctx context.Context, c *kafka.Consumer) {
	for j := range s.jobs {
		var err error
		select {
		case <-s.failed:
		default:
			err = s.write(ctx, c, j)
			if errors.Is(err, errFenced) && j.reason == "shutdown" {
				// Another sink has the partition now: what we hold is
				// its to write.
				s.m.fenced.Inc()
				s.log.Warn("fenced on shutdown; batch left to the partition's new owner", zap.Int("partition", j.p.id))
				err = nil
			}
		}
		s.m.buffered.Set(float64(s.total.Add(-int64(j.b.bytes))))
		if err != nil {
			s.writeErr = err
			close(s.failed)
		}
		s.inflight.Done()
	}
}

func (s *sinker) partitions() []*partition {
	ps := make([]*partition, 0, len(s.parts))
	for _, p := range s.parts {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].id < ps[j].id })
	return ps
}

// take handles one fetched message.
func (s *sinker) take(ctx context.Context, c *kafka.Consumer, d *fetched) error {
	msg := d.msg
	p := s.parts[msg.Partition]
	if p == nil || msg.Offset != p.expect {
		reason := "assigned"
		if p != nil {
			// kafka-go tells nothing of rebalances: a partition taken away
			// and given back restarts at the committed offset, which is how
			// it shows. Whatever we hold for it may be stale.
			reason = "offset_jump"
			s.log.Info("partition offsets jumped; reading its state again", zap.Int("partition", msg.Partition),
				zap.Int64("expected", p.expect), zap.Int64("offset", msg.Offset))
		}
		var err error
		if p, err = s.load(ctx, msg.Partition, reason, msg.Offset); err != nil {
			return err
		}
	}
	p.expect = msg.Offset + 1
	if msg.Offset < p.skipBelow {
		if p.dedupe != nil && d.err == nil && d.hasID && msg.Offset >= p.floor {
			// Archived, so it may fill the window; below the floor it
			// is not (the group was moved back past where the archive
			// began).
			p.dedupe.seen(d.id, msg.Offset)
		}
		s.m.records.WithLabelValues("already_archived", recordSource(d)).Inc()
		if !p.caughtUp {
			// The group's offset lags the store (a crash between the state
			// write and the commit): bring it level, once.
			if err := c.Commit(ctx, kafka.Message{Topic: s.topic, Partition: p.id, Offset: p.skipBelow - 1}); err != nil {
				return err
			}
			p.caughtUp = true
		}
		return nil
	}
	if p.batch == nil {
		if err := s.begin(ctx, p, msg); err != nil {
			return err
		}
	}
	if p.pending != nil && msg.Offset > p.pending.Last {
		// Offsets may have holes (compaction, transaction markers): the
		// pending batch ended before this message.
		if err := s.flush(p, "recovery"); err != nil {
			return err
		}
		if err := s.begin(ctx, p, msg); err != nil {
			return err
		}
	}
	if err := s.add(ctx, p.batch, d, s.duplicate(p, d)); err != nil {
		return err
	}
	reason := ""
	switch {
	case p.pending != nil:
		if msg.Offset == p.pending.Last {
			reason = "recovery"
		}
	case len(p.batch.arrivals)+len(p.batch.dups) >= s.cfg.MaxRecords:
		reason = "records"
	case p.batch.bytes >= s.cfg.MaxBytes:
		reason = "bytes"
	}
	if reason != "" {
		return s.flush(p, reason)
	}
	for s.cfg.MaxBuffered > 0 && s.total.Load() > int64(s.cfg.MaxBuffered) {
		if s.total.Load() > int64(s.held) {
			// Batches are being written: wait for them rather than cut
			// small ones.
			if err := s.settle(); err != nil {
				return err
			}
			continue
		}
		var largest *partition
		for _, q := range s.partitions() {
			if q.batch != nil && q.pending == nil && (largest == nil || q.batch.bytes > largest.batch.bytes) {
				largest = q
			}
		}
		if largest == nil {
			break // pending batches only, which are not cut (bounded by their size when first cut)
		}
		if err := s.flush(largest, "memory"); err != nil {
			return err
		}
	}
	return nil
}

// load reads a partition's state from the store, dropping whatever was
// held for it, and fills its dedupe window with the messages before first,
// the offset of the first message fetched.
func (s *sinker) load(ctx context.Context, id int, reason string, first int64) (*partition, error) {
	if old := s.parts[id]; old != nil {
		if old.batch != nil {
			s.drop(old)
		}
		// The writer may still be writing this partition's state.
		if err := s.settle(); err != nil {
			return nil, err
		}
	}
	key := stateKey(s.cfg.Prefix, s.topic, id)
	st, version, err := s.store.loadState(ctx, key)
	if err != nil {
		return nil, err
	}
	p := &partition{id: id, key: key, version: version, state: State{Topic: s.topic, Partition: id, NextOffset: -1}}
	if st != nil {
		p.state = *st
		p.pending = st.Pending
	}
	p.skipBelow, p.fresh = p.state.NextOffset, true
	p.floor = p.state.NextOffset
	if p.state.DedupeFrom != nil {
		p.floor = *p.state.DedupeFrom
	}
	if size := s.cfg.dedupeWindow(); size > 0 {
		// Only what this archive holds: below the state's next offset and
		// from its floor on.
		if p.dedupe, err = s.fill(ctx, id, size, max(first-size, p.floor), min(first, p.state.NextOffset)); err != nil {
			return nil, err
		}
	}
	s.parts[id] = p
	s.m.loads.WithLabelValues(reason).Inc()
	fields := []zap.Field{zap.String("topic", s.topic), zap.Int("partition", id), zap.Int64("next_offset", p.state.NextOffset), zap.String("reason", reason)}
	if p.pending != nil {
		fields = append(fields, zap.Int64("pending_first", p.pending.First), zap.Int64("pending_last", p.pending.Last), zap.Int("pending_keys", len(p.pending.Keys)))
	}
	s.log.Info("partition state loaded", fields...)
	return p, nil
}

// drop forgets a partition's batch, unwritten and uncommitted: its records
// are fetched again.
func (s *sinker) drop(p *partition) {
	s.held -= p.batch.bytes
	s.m.buffered.Set(float64(s.total.Add(-int64(p.batch.bytes))))
	p.batch = nil
}

// begin starts a batch at msg.
func (s *sinker) begin(ctx context.Context, p *partition, msg kafka.Message) error {
	fresh := p.fresh
	p.fresh = false
	switch {
	case !fresh:
		// Offsets follow on from the last batch (take checks that).
	case p.pending != nil && msg.Offset != p.pending.First:
		// The pending batch's first records are gone from the topic
		// (retention): it cannot be written again as it was. Its objects
		// were never complete (no manifest or state said so): remove them.
		s.log.Error("pending batch cannot be rebuilt: its first offsets are no longer in the topic; removing its objects",
			zap.Int("partition", p.id), zap.Int64("pending_first", p.pending.First), zap.Int64("offset", msg.Offset))
		p.floor = msg.Offset
		if err := s.abandon(ctx, p); err != nil {
			return err
		}
		s.m.gaps.Add(float64(msg.Offset - p.state.NextOffset))
	case p.pending == nil && p.state.NextOffset >= 0 && msg.Offset > p.state.NextOffset:
		s.log.Warn("offsets passed over: the partition's next message is beyond what is archived", zap.Int("partition", p.id),
			zap.Int64("next_offset", p.state.NextOffset), zap.Int64("offset", msg.Offset))
		s.m.gaps.Add(float64(msg.Offset - p.state.NextOffset))
		p.floor = msg.Offset // the window must not reach into the gap
	case p.state.NextOffset < 0:
		p.floor = msg.Offset // the archive begins here
	}
	p.batch = &batch{partition: p.id, first: msg.Offset, last: msg.Offset, started: time.Now(), objects: map[string]*object{}, floor: p.floor}
	return nil
}

// abandon removes the objects of a pending batch that cannot be rebuilt
// and clears it from the state.
func (s *sinker) abandon(ctx context.Context, p *partition) error {
	for _, k := range p.pending.Keys {
		if err := s.store.remove(ctx, k); err != nil {
			return err
		}
		s.m.orphans.WithLabelValues("stale_key").Inc()
	}
	next := p.state
	next.Pending = nil
	next.DedupeFrom = new(p.floor)
	if err := s.saveState(ctx, p, next); err != nil {
		return err
	}
	p.pending = nil
	return nil
}

// duplicate feeds a fetched record to its partition's dedupe window and
// tells whether it is a duplicate. A pending batch being rebuilt drops
// what its first attempt dropped, as its state says, and nothing else.
func (s *sinker) duplicate(p *partition, d *fetched) bool {
	if d.err != nil {
		return false // dead-lettered
	}
	seen := p.dedupe != nil && d.hasID && p.dedupe.seen(d.id, d.msg.Offset)
	if p.pending != nil {
		return p.pending.dropped(d.msg.Offset)
	}
	return seen
}

// add puts a record into the batch. A record that is not a valid Article is
// dead-lettered, and a duplicate is dropped; the offset of either still
// advances with the batch.
func (s *sinker) add(ctx context.Context, b *batch, d *fetched, dup bool) error {
	msg, a, derr := d.msg, d.head, d.err
	b.last = msg.Offset
	if dup {
		b.dups = append(b.dups, msg.Offset)
		s.log.Debug("duplicate record not archived again", zap.Int("partition", msg.Partition), zap.Int64("offset", msg.Offset),
			zap.String("id", a.ID))
		s.m.records.WithLabelValues("duplicate", safeSegment(a.Source)).Inc()
		return nil
	}
	if derr != nil {
		s.log.Warn("record dead-lettered", zap.Int("partition", msg.Partition), zap.Int64("offset", msg.Offset), zap.Error(derr))
		dl := kafka.DeadLetter(msg, stage, "bad_record", derr, time.Now())
		if err := s.dlq.Write(ctx, func(error) { s.m.produce.Inc() }, dl); err != nil {
			return err
		}
		s.m.records.WithLabelValues("dead_letter", unknownSource).Inc()
		return nil
	}
	day := a.PublishedAt
	if day.IsZero() {
		day = a.NormalizedAt
	}
	date, source := day.UTC().Format(time.DateOnly), safeSegment(a.Source)
	dir := s.dir(date, source, b.partition)
	o := b.objects[dir]
	if o == nil {
		o = &object{key: dir, date: date, firstOffset: msg.Offset}
		b.objects[dir] = o
	}
	o.records++
	o.lastOffset = msg.Offset
	if !a.PublishedAt.IsZero() {
		pub := a.PublishedAt.UTC()
		if o.minPublished.IsZero() || pub.Before(o.minPublished) {
			o.minPublished = pub
		}
		if pub.After(o.maxPublished) {
			o.maxPublished = pub
		}
	}
	if a.IngestedAt.After(o.maxIngested) {
		o.maxIngested = a.IngestedAt.UTC()
	}
	if s.cfg.format() == FormatParquet {
		o.lines = append(o.lines, msg.Value)
	} else {
		o.stage = append(append(o.stage, msg.Value...), '\n')
		if len(o.stage) >= chunkBytes {
			s.seal(o)
		}
	}
	b.arrivals = append(b.arrivals, arrival{ingested: a.IngestedAt, source: source})
	b.bytes += len(msg.Value) + 1
	s.held += len(msg.Value) + 1
	s.m.buffered.Set(float64(s.total.Add(int64(len(msg.Value) + 1))))
	return nil
}

// dir is the key template's folder for a record, remembered: the template
// is a regular expression replacement, and a sink sees few folders.
func (s *sinker) dir(date, source string, partition int) string {
	k := dirKey{date, source, partition}
	if d, ok := s.dirs[k]; ok {
		return d
	}
	if len(s.dirs) >= 4096 {
		clear(s.dirs) // a long replay over many dates: start again
	}
	d := s.tmpl.dir(s.cfg.Prefix, date, source, s.topic, partition)
	s.dirs[k] = d
	return d
}

type dirKey struct {
	date, source string
	partition    int
}

// seal hands an object's lines not yet in a chunk to the compressor.
func (s *sinker) seal(o *object) {
	if len(o.stage) > 0 {
		o.chunks = append(o.chunks, s.zip.submit(o.stage))
		o.stage = nil
	}
}

// arrival is what the metrics of a batch's commit need of one record.
type arrival struct {
	ingested time.Time
	source   string
}

// unknownSource labels the records that are not valid articles.
const unknownSource = "unknown"

// recordSource is a fetched record's source for metrics: its folder-safe
// slug, or unknownSource.
func recordSource(d *fetched) string {
	if d.err != nil || d.head == nil {
		return unknownSource
	}
	return safeSegment(d.head.Source)
}

// fetched is a fetched message and its head, decoded and validated ahead
// of the run loop; done is closed once head or err is set.
type fetched struct {
	msg  kafka.Message
	head *record.Article
	id   identity // of a valid record, when the dedupe window is on
	// hasID is set when id is: a record nested too deep to read has
	// none, and is never a duplicate.
	hasID bool
	err   error
	done  chan struct{}
}

// decodeAll decodes and validates the heads of the messages from in on one
// goroutine per CPU, and passes them on to out in the order fetched: JSON
// decoding is most of the sink's own work, and the run loop would do it on
// one core. With identify, it also hashes each valid record's identity. It
// stops with ctx.
func decodeAll(ctx context.Context, in <-chan kafka.Message, out chan<- *fetched, identify bool) {
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan *fetched, workers)
	defer close(jobs)
	for range workers {
		go func() {
			for d := range jobs {
				d.head, d.id, d.hasID, d.err = decodeRecord(d.msg.Value, identify)
				close(d.done)
			}
		}()
	}
	for {
		var msg kafka.Message
		select {
		case msg = <-in:
		case <-ctx.Done():
			return
		}
		d := &fetched{msg: msg, done: make(chan struct{})}
		// Handed to a worker first, then queued in order: at most
		// cap(out) + 2 x workers messages are decoded or being decoded.
		select {
		case jobs <- d:
		case <-ctx.Done():
			return
		}
		select {
		case out <- d:
		case <-ctx.Done():
			return
		}
	}
}

// head is the part of a record the sink reads: what Article.Validate
// checks and what places and describes the record in the archive. Decoding
// only this (the JSON is still checked whole) spares building the strings
// of the body, most of a record, and halves the sink's decoding time; the
// decoder is segmentio/encoding's, a drop-in for encoding/json five times
// faster on records.
type head struct {
	SchemaVersion int       `json:"schema_version"`
	ID            string    `json:"id"`
	Source        string    `json:"source"`
	Format        string    `json:"format"`
	Title         string    `json:"title"`
	Body          nonEmpty  `json:"body"`
	ContentHash   string    `json:"content_hash"`
	PublishedAt   time.Time `json:"published_at"`
	IngestedAt    time.Time `json:"ingested_at"`
	NormalizedAt  time.Time `json:"normalized_at"`
}

// nonEmpty records whether a JSON array has elements, without decoding
// them.
type nonEmpty bool

func (n *nonEmpty) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*n = false
	case len(b) < 2 || b[0] != '[':
		return fmt.Errorf("body is not an array")
	default:
		*n = nonEmpty(len(bytes.TrimSpace(b[1:len(b)-1])) > 0)
	}
	return nil
}

// decodeRecord decodes and validates a record's head and, with identify,
// hashes its identity (ok false when it has none).
func decodeRecord(b []byte, identify bool) (a *record.Article, id identity, ok bool, err error) {
	a, err = decodeHead(b)
	if err == nil {
		err = a.Validate()
	}
	if err != nil || !identify {
		return a, identity{}, false, err
	}
	id, ierr := recordIdentity(b)
	return a, id, ierr == nil, nil
}

// decodeHead decodes a record's head into an Article holding those fields
// (and a placeholder body when it has one), to be validated as a whole
// record is.
func decodeHead(b []byte) (*record.Article, error) {
	var h head
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("decode article: %w", err)
	}
	if h.SchemaVersion != record.SchemaVersion {
		return nil, fmt.Errorf("decode article: schema_version %d, want %d", h.SchemaVersion, record.SchemaVersion)
	}
	a := &record.Article{SchemaVersion: h.SchemaVersion, ID: h.ID, Source: h.Source, Format: h.Format, Title: h.Title,
		ContentHash: h.ContentHash, PublishedAt: h.PublishedAt, IngestedAt: h.IngestedAt, NormalizedAt: h.NormalizedAt}
	if h.Body {
		a.Body = []string{""}
	}
	return a, nil
}

// cut names a batch's objects after the batch, in key order: the same
// records always give the same objects and keys.
func (s *sinker) cut(b *batch, first, last int64) []*object {
	name := batchName(s.topic, b.partition, first, last) + s.ext
	out := make([]*object, 0, len(b.objects))
	for dir, o := range b.objects {
		o.key = dir + name
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// encode writes an object's bytes to w: its chunks in order (NDJSON), or
// its lines through enc (Parquet).
func (s *sinker) encode(w io.Writer, o *object) error {
	if s.cfg.format() == FormatParquet {
		enc := <-s.encs
		defer func() { s.encs <- enc }()
		return enc.encode(w, o.lines)
	}
	for _, c := range o.chunks {
		out, err := c.wait()
		if err != nil {
			return err
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
	return nil
}

// write writes a batch with the protocol of docs/sink.md, then commits it.
func (s *sinker) write(ctx context.Context, c *kafka.Consumer, j flushJob) error {
	p, b, pending, reason := j.p, j.b, j.pending, j.reason
	first, last := b.first, b.last
	if pending != nil {
		first, last = pending.First, pending.Last
	}
	objs := s.cut(b, first, last)
	name := batchName(s.topic, p.id, first, last)
	dates := map[string][]int{}
	var keys []string
	for i, o := range objs {
		dates[o.date] = append(dates[o.date], i)
		keys = append(keys, o.key)
	}
	for d := range dates {
		keys = append(keys, manifestKey(s.cfg.Prefix, d, name))
	}
	sort.Strings(keys)

	// Keys of a pending batch that this configuration names otherwise
	// (--key-template, --format or --compression changed in between).
	var stale []string
	if pending != nil {
		for _, k := range pending.Keys {
			if _, found := slices.BinarySearch(keys, k); !found {
				stale = append(stale, k)
			}
		}
	}
	if len(keys) > 0 {
		pend := &Pending{First: first, Last: last, Keys: append(slices.Clone(keys), stale...), Duplicates: b.dups}
		sort.Strings(pend.Keys)
		// (a) The batch's range, keys and duplicates, before any of its
		// objects.
		if pending == nil || !slices.Equal(pending.Keys, pend.Keys) {
			next := p.state
			next.NextOffset = first
			next.Pending = pend
			next.DedupeFrom = new(b.floor) // a copy: the state outlives the batch
			if err := s.hook("state.pending", p.key); err != nil {
				return err
			}
			if err := s.saveState(ctx, p, next); err != nil {
				return err
			}
		}
	}
	// (b) The objects, only if absent (after a crash, the same keys), a few
	// at a time.
	recovering := pending != nil
	sizes := make([]int64, len(objs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.cfg.parallelObjects())
	var hookErr error
	for i, o := range objs {
		if hookErr = s.hook("object", o.key); hookErr != nil {
			break
		}
		g.Go(func() error {
			start := time.Now()
			size, existed, err := s.store.writeObject(gctx, o.key, contentType(s.cfg.format(), s.cfg.Compression), recovering, s.metadata(o),
				func(w io.Writer) error { return s.encode(w, o) })
			if err != nil {
				return err
			}
			sizes[i] = size
			if existed {
				s.m.objects.WithLabelValues("exists").Inc()
				s.log.Info("object exists already; not written again", zap.String("key", o.key))
			} else {
				s.m.objects.WithLabelValues("written").Inc()
				s.m.bytes.Add(float64(size))
				s.m.upload.Observe(time.Since(start).Seconds())
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if hookErr != nil {
		return hookErr
	}
	// (b') One manifest per date, after its objects.
	ds := make([]string, 0, len(dates))
	for d := range dates {
		ds = append(ds, d)
	}
	sort.Strings(ds)
	for _, d := range ds {
		mf := Manifest{ManifestVersion: ManifestVersion, Topic: s.topic, Partition: p.id, FirstOffset: first, LastOffset: last, Date: d}
		for _, i := range dates[d] {
			mo := s.describe(objs[i], sizes[i])
			mf.Records += mo.Records
			mf.Objects = append(mf.Objects, mo)
		}
		key := manifestKey(s.cfg.Prefix, d, name)
		if err := s.hook("manifest", key); err != nil {
			return err
		}
		if err := s.store.writeJSON(ctx, key, mf); err != nil {
			return err
		}
	}
	// A batch written again: what the killed writer may have left.
	if recovering {
		for _, k := range stale {
			if err := s.store.remove(ctx, k); err != nil {
				return err
			}
			s.m.orphans.WithLabelValues("stale_key").Inc()
		}
		for _, k := range pending.Keys {
			if err := s.store.cleanOrphans(ctx, k); err != nil {
				return err
			}
		}
	}
	// (c) The batch is archived: the partition moves on.
	next := p.state
	next.NextOffset = last + 1
	next.Pending = nil
	next.DedupeFrom = new(b.floor)
	for _, o := range objs {
		if o.maxIngested.After(next.MaxIngestedAt) {
			next.MaxIngestedAt = o.maxIngested
		}
	}
	if err := s.hook("state.done", p.key); err != nil {
		return err
	}
	if err := s.saveState(ctx, p, next); err != nil {
		return err
	}
	// (d) The group's offset: only where to fetch from next; the state
	// above is what says what is archived.
	if err := s.hook("commit", ""); err != nil {
		return err
	}
	if err := c.Commit(ctx, kafka.Message{Topic: s.topic, Partition: p.id, Offset: last}); err != nil {
		return err
	}
	now := time.Now()
	archived := map[string]int{}
	for _, a := range b.arrivals {
		archived[a.source]++
		if !a.ingested.IsZero() {
			s.m.latency.WithLabelValues(a.source).Observe(now.Sub(a.ingested).Seconds())
		}
	}
	for source, n := range archived {
		s.m.records.WithLabelValues("archived", source).Add(float64(n))
	}
	s.m.flushes.WithLabelValues(reason).Inc()
	s.log.Debug("batch flushed", zap.Int("partition", p.id), zap.Int64("first_offset", first),
		zap.Int64("last_offset", last), zap.Int("records", len(b.arrivals)), zap.Int("objects", len(objs)), zap.String("reason", reason))
	return nil
}

func (s *sinker) hook(point, key string) error {
	if s.store.hook == nil {
		return nil
	}
	return s.store.hook(point, key)
}

// saveState writes a partition's state, conditional on the version read or
// written last.
func (s *sinker) saveState(ctx context.Context, p *partition, st State) error {
	st.Topic, st.Partition, st.UpdatedAt = s.topic, p.id, time.Now().UTC()
	version, err := s.store.saveState(ctx, p.key, &st, p.version)
	if err != nil {
		return err
	}
	p.state, p.version = st, version
	return nil
}

func (s *sinker) metadata(o *object) map[string]string {
	return map[string]string{"records": fmt.Sprint(o.records), "schema-version": fmt.Sprint(record.SchemaVersion)}
}

// describe is an object's manifest entry.
func (s *sinker) describe(o *object, size int64) ManifestObject {
	return ManifestObject{Key: o.key, Format: s.cfg.format(), Compression: s.cfg.Compression, Records: o.records, Bytes: size,
		FirstOffset: o.firstOffset, LastOffset: o.lastOffset, MinPublishedAt: o.minPublished, MaxPublishedAt: o.maxPublished,
		MaxIngestedAt: o.maxIngested}
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
