// Package seen is the set of items ingest has published, shared by every
// ingest replica and kept across restarts in a compacted Kafka topic.
//
// Each published item leaves a marker on the topic: the message key is the
// item key (record.ItemKey), the value the item's version fingerprint
// ("sha256:" and 32 hex digits). Compaction keeps the last marker of each
// key, so the topic holds one marker per item ever published, whatever the
// number of fetches and replicas.
//
// A Set reads the whole topic into memory when it opens, then keeps tailing
// it, so that a marker written by another replica is seen as soon as the
// broker delivers it (a fetch returns at the first new marker). In memory a key is
// 16 bytes of its SHA-256 and the fingerprint 8 bytes; with Go's map
// overhead that is about 40 to 60 bytes per key, 40 to 60 MB per million
// keys (BenchmarkSetMemory measures it).
//
// The writer publishes an item, waits for the acknowledgement, then writes
// its marker and waits again (Mark). A crash between the two publishes the
// item again after the restart, with the same key: the one at-least-once
// window, which the pipeline's keyed records make harmless downstream.
package seen

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	kgo "github.com/segmentio/kafka-go"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/wirefeed/wirefeed/internal/kafka"
)

// DefaultTopic is the default name of the seen topic.
const DefaultTopic = "wirefeed.ingest.seen"

// TopicSpec is the seen topic as EnsureTopics creates it: compacted, so
// that it keeps the newest marker of every key and nothing else. A
// positive retention also deletes markers older than it (compact,delete):
// the topic and the memory of a restarted replica stay bounded, and an
// item older than the retention that is still in its feed is published
// once more, under the same key.
func TopicSpec(name string, retention time.Duration) kafka.TopicSpec {
	cfg := map[string]string{"cleanup.policy": "compact"}
	if retention > 0 {
		cfg["cleanup.policy"] = "compact,delete"
		cfg["retention.ms"] = strconv.FormatInt(retention.Milliseconds(), 10)
	}
	return kafka.TopicSpec{Name: name, Configs: cfg}
}

// Fingerprint identifies one version of an item: a SHA-256 prefix of its
// bytes.
type Fingerprint [16]byte

// FingerprintOf returns the fingerprint of b.
func FingerprintOf(b []byte) Fingerprint {
	sum := sha256.Sum256(b)
	var f Fingerprint
	copy(f[:], sum[:])
	return f
}

// String is the marker value: "sha256:" and 32 hex digits.
func (f Fingerprint) String() string { return "sha256:" + hex.EncodeToString(f[:]) }

// ParseFingerprint reads a marker value written by String.
func ParseFingerprint(s string) (Fingerprint, error) {
	var f Fingerprint
	h, ok := strings.CutPrefix(s, "sha256:")
	if !ok || hex.DecodedLen(len(h)) != len(f) {
		return f, fmt.Errorf("fingerprint %q: want sha256: and %d hex digits", s, 2*len(f))
	}
	if _, err := hex.Decode(f[:], []byte(h)); err != nil {
		return f, fmt.Errorf("fingerprint %q: %w", s, err)
	}
	return f, nil
}

// State is what a Set knows of an item.
type State int

const (
	// Unseen: the key was never published.
	Unseen State = iota
	// Same: the key was published with this fingerprint.
	Same
	// Changed: the key was published with another fingerprint; this is a
	// new version of the item.
	Changed
)

func (s State) String() string {
	switch s {
	case Unseen:
		return "unseen"
	case Same:
		return "same"
	case Changed:
		return "changed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Marker is one item to record as published.
type Marker struct {
	Key         string
	Fingerprint Fingerprint
}

type keyHash [16]byte

func hashKey(key string) keyHash {
	sum := sha256.Sum256([]byte(key))
	var h keyHash
	copy(h[:], sum[:])
	return h
}

func short(f Fingerprint) uint64 { return binary.BigEndian.Uint64(f[:8]) }

// Set is the in-memory view of the seen topic. Lookup and Mark are safe for
// concurrent use.
type Set struct {
	kc     *kafka.Config
	topic  string
	log    *zap.Logger
	w      *kafka.Writer
	client *kafka.Client

	// Listing the topic's end offsets for CatchUp: callers that arrive
	// while a listing is under way share the next one.
	lmu      sync.Mutex
	listing  bool
	nextList *offsetList

	mu      sync.RWMutex
	m       map[keyHash]uint64
	next    map[int]int64 // per partition, the offset after the last marker read
	changed chan struct{} // closed and replaced when next moves

	keys    prometheus.Gauge
	markers prometheus.Counter
}

// Metrics of a Set; register them once per process with NewMetrics.
type Metrics struct {
	keys    prometheus.Gauge
	markers prometheus.Counter
}

// NewMetrics registers the seen-set metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		keys: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wirefeed_ingest_seen_keys",
			Help: "Item keys in the in-memory seen-set (every key on the seen topic).",
		}),
		markers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wirefeed_ingest_seen_markers_read_total",
			Help: "Markers read from the seen topic, at start and while tailing it (this and other replicas').",
		}),
	}
	reg.MustRegister(m.keys, m.markers)
	return m
}

// New returns a Set on topic. It is empty until Run has read the topic:
// start Run, then CatchUp before the first Lookup. The topic must exist
// (EnsureTopics with TopicSpec).
func New(kc *kafka.Config, topic string, m *Metrics, log *zap.Logger) *Set {
	if m == nil {
		m = NewMetrics(prometheus.NewRegistry())
	}
	log = log.With(zap.String("component", "seen"), zap.String("topic", topic))
	return &Set{
		kc: kc, topic: topic, log: log,
		w:       kafka.NewWriter(kc, topic, log),
		client:  kc.Client(),
		m:       map[keyHash]uint64{},
		next:    map[int]int64{},
		changed: make(chan struct{}),
		keys:    m.keys, markers: m.markers,
	}
}

// Lookup says whether key was published, and with which fingerprint.
func (s *Set) Lookup(key string, f Fingerprint) State {
	s.mu.RLock()
	old, ok := s.m[hashKey(key)]
	s.mu.RUnlock()
	switch {
	case !ok:
		return Unseen
	case old == short(f):
		return Same
	}
	return Changed
}

// Len returns the number of keys in the set.
func (s *Set) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

// Mark writes markers for items whose publication the broker acknowledged,
// waits for their own acknowledgement, and adds them to the set.
func (s *Set) Mark(ctx context.Context, onRetry func(error), markers ...Marker) error {
	if len(markers) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(markers))
	for i, mk := range markers {
		msgs[i] = kafka.Message{Key: []byte(mk.Key), Value: []byte(mk.Fingerprint.String())}
	}
	if err := s.w.Write(ctx, onRetry, msgs...); err != nil {
		return fmt.Errorf("write seen markers: %w", err)
	}
	s.mu.Lock()
	for _, mk := range markers {
		s.m[hashKey(mk.Key)] = short(mk.Fingerprint)
	}
	s.keys.Set(float64(len(s.m)))
	s.mu.Unlock()
	return nil
}

// add records a marker read from the topic; a nil value (a tombstone)
// removes the key.
func (s *Set) add(p int, m kgo.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case m.Value == nil:
		delete(s.m, hashKey(string(m.Key)))
	default:
		f, err := ParseFingerprint(string(m.Value))
		if err != nil {
			// Not ours: remember the key with a fingerprint nothing has,
			// so the item is treated as published in another version.
			s.log.Warn("unreadable seen marker", zap.Int("partition", p), zap.Int64("offset", m.Offset), zap.Error(err))
		}
		s.m[hashKey(string(m.Key))] = short(f)
	}
	s.keys.Set(float64(len(s.m)))
	s.markers.Inc()
	if m.Offset+1 > s.next[p] {
		s.next[p] = m.Offset + 1
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// Run reads the topic from its start and tails it until ctx is done.
func (s *Set) Run(ctx context.Context) error {
	parts, err := kafka.Partitions(ctx, s.client, s.topic)
	if err != nil {
		return fmt.Errorf("seen topic: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
	for _, p := range parts {
		g.Go(func() error { return s.tail(ctx, p) })
	}
	err = g.Wait()
	if cerr := s.w.Close(); err == nil && cerr != nil && ctx.Err() == nil {
		err = cerr
	}
	return err
}

func (s *Set) tail(ctx context.Context, p int) error {
	r := kgo.NewReader(kgo.ReaderConfig{
		Brokers:   s.kc.Brokers,
		Topic:     s.topic,
		Partition: p,
		Dialer:    &kgo.Dialer{ClientID: s.kc.ClientID, Timeout: s.kc.DialTimeout, DualStack: true},
		MinBytes:  1,
		MaxBytes:  s.kc.MaxMessageBytes,
		// A fetch returns as soon as a marker arrives; the wait only
		// bounds idle fetches, and how long closing a reader may take.
		MaxWait: time.Second,
		// A compacted topic may have lost its first offsets: start at the
		// first one still there.
		StartOffset: kgo.FirstOffset,
		ErrorLogger: kgo.LoggerFunc(func(f string, args ...any) { s.log.Warn(fmt.Sprintf(f, args...)) }),
	})
	defer r.Close()
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read seen topic %s/%d: %w", s.topic, p, err)
		}
		s.add(p, m)
	}
}

// CatchUp returns once every marker written to the topic before the call
// has been read into the set (by any replica), or when ctx is done. Call it
// before acting on a source another replica may have published from: after
// a start, and after taking a source over.
func (s *Set) CatchUp(ctx context.Context) error {
	offs, err := s.listOffsets(ctx)
	if err != nil {
		return err
	}
	for {
		s.mu.RLock()
		behind := false
		for _, o := range offs {
			if o.HighWatermark > o.LogStart && s.next[o.Partition] < o.HighWatermark {
				behind = true
				break
			}
		}
		changed := s.changed
		s.mu.RUnlock()
		if !behind {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("catch up with seen topic %s: %w", s.topic, ctx.Err())
		case <-changed:
		}
	}
}

// offsetList is one listing of the topic's end offsets, shared by the
// callers that asked for it.
type offsetList struct {
	done chan struct{}
	offs []kafka.PartitionLag
	err  error
}

// listTimeout bounds one listing, retries included.
const listTimeout = 30 * time.Second

// listOffsets returns end offsets listed after the call began. Many
// pollers catching up at once make one request, not one each: a caller
// joins the next listing, which starts when the one under way (begun
// before the call, so perhaps too early) ends.
func (s *Set) listOffsets(ctx context.Context) ([]kafka.PartitionLag, error) {
	s.lmu.Lock()
	if s.nextList == nil {
		s.nextList = &offsetList{done: make(chan struct{})}
	}
	l := s.nextList
	if !s.listing {
		s.startListing()
	}
	s.lmu.Unlock()
	select {
	case <-l.done:
		return l.offs, l.err
	case <-ctx.Done():
		return nil, fmt.Errorf("seen topic offsets: %w", ctx.Err())
	}
}

// startListing runs the next listing; s.lmu is held.
func (s *Set) startListing() {
	l := s.nextList
	s.nextList, s.listing = nil, true
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
		l.offs, l.err = s.endOffsets(ctx)
		cancel()
		close(l.done)
		s.lmu.Lock()
		s.listing = false
		if s.nextList != nil {
			s.startListing()
		}
		s.lmu.Unlock()
	}()
}

// endOffsets lists the topic's offsets, retrying while the brokers say
// they cannot yet (a topic just created has no leaders for a moment).
func (s *Set) endOffsets(ctx context.Context) ([]kafka.PartitionLag, error) {
	backoff := 50 * time.Millisecond
	for {
		offs, err := kafka.TopicOffsets(ctx, s.client, s.topic)
		if err == nil {
			return offs, nil
		}
		s.log.Debug("seen topic offsets not available yet; retrying", zap.Error(err))
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("seen topic offsets: %w (last error: %v)", ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}
