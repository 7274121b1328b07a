package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// Integration tests of the service on the embedded broker (or the real one
// with KAFKA_BROKERS): feeds served by httptest servers, fetches driven by
// a gate instead of the clock.

// feedSrv serves an RSS feed whose entries a test adds and edits, with an
// ETag and Last-Modified, answering 304 to a matching conditional GET. The
// channel's lastBuildDate changes on every answer, as real feeds do.
type feedSrv struct {
	mu       sync.Mutex
	entries  []string
	edits    map[int]string
	srv      *httptest.Server
	hits     int
	notMod   int
	block    chan struct{} // when set, answers wait for it to close
	modified time.Time
}

func newFeedSrv(t testing.TB, n int) *feedSrv {
	f := &feedSrv{edits: map[int]string{}, modified: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}
	f.add(n)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *feedSrv) add(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		i := len(f.entries)
		f.entries = append(f.entries, fmt.Sprintf("<item><title>Story %d</title><link>https://wire.example/%d</link><guid>urn:story:%d</guid>"+
			"<pubDate>%s</pubDate><description>Body of story %d.</description></item>", i, i, i, f.modified.Add(time.Duration(i)*time.Hour).Format(time.RFC1123Z), i))
	}
	f.modified = f.modified.Add(time.Minute)
}

// edit changes entry i's text, keeping its guid: a new version.
func (f *feedSrv) edit(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries[i] = strings.Replace(f.entries[i], "</description>", " Corrected.</description>", 1)
	f.modified = f.modified.Add(time.Minute)
}

func (f *feedSrv) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	block := f.block
	f.hits++
	items := strings.Join(f.entries, "\n")
	sum := sha256.Sum256([]byte(items))
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	lastMod := f.modified.Format(http.TimeFormat)
	notMod := r.Header.Get("If-None-Match") == etag
	if notMod {
		f.notMod++
	}
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
			return
		}
	}
	if notMod {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", lastMod)
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Wire</title><link>https://wire.example/</link>"+
		"<lastBuildDate>%s</lastBuildDate>\n%s\n</channel></rss>\n", time.Now().Format(time.RFC1123Z), items)
}

func (f *feedSrv) stats() (hits, notMod int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits, f.notMod
}

// gate stands in for the wait between fetches: the first fetch of a source
// goes at once, every later one when the test releases it.
type gate struct {
	mu      sync.Mutex
	tickets map[string]int
	waits   map[string][]time.Duration
	changed chan struct{}
}

func newGate() *gate {
	return &gate{tickets: map[string]int{}, waits: map[string][]time.Duration{}, changed: make(chan struct{})}
}

func (g *gate) wait(ctx context.Context, source string, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	g.mu.Lock()
	g.waits[source] = append(g.waits[source], d)
	g.mu.Unlock()
	for {
		g.mu.Lock()
		if g.tickets[source] > 0 {
			g.tickets[source]--
			g.mu.Unlock()
			return true
		}
		ch := g.changed
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			return false
		case <-ch:
		}
	}
}

// release lets each source fetch once more.
func (g *gate) release(sources ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, s := range sources {
		g.tickets[s]++
	}
	close(g.changed)
	g.changed = make(chan struct{})
}

// rig is one test's topics, group and sources file.
type rig struct {
	t       *testing.T
	kc      kafka.Config
	raw     string
	seen    string
	owner   string
	group   string
	sources string
}

func newRig(t *testing.T, partitions int) *rig {
	t.Helper()
	return &rig{
		t: t, kc: kafkatest.Config(t, partitions),
		raw: kafkatest.Name(t, "raw"), seen: kafkatest.Name(t, "seen"), owner: kafkatest.Name(t, "owner"), group: kafkatest.Name(t, "group"),
		sources: filepath.Join(t.TempDir(), "sources.yaml"),
	}
}

// writeSources writes the sources file.
func (r *rig) writeSources(yml string) {
	r.t.Helper()
	tmp := r.sources + ".tmp"
	if err := os.WriteFile(tmp, []byte(yml), 0o644); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Rename(tmp, r.sources); err != nil {
		r.t.Fatal(err)
	}
}

// httpSources is a sources file of http sources, id to URL.
func httpSources(urls map[string]string) string {
	var b strings.Builder
	b.WriteString("sources:\n")
	ids := make([]string, 0, len(urls))
	for id := range urls {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fmt.Fprintf(&b, "  - {id: %s, type: http, url: '%s'}\n", id, urls[id])
	}
	return b.String()
}

func (r *rig) config(changes ...func(*Config)) Config {
	r.t.Helper()
	c := fetchConfig(r.t)
	c.Kafka = r.kc
	c.RawTopic, c.SeenTopic, c.OwnershipTopic, c.OwnershipGroup = r.raw, r.seen, r.owner, r.group
	c.OwnershipPartitions = 6
	c.Ownership = "none"
	c.Sources = r.sources
	c.Poll.Timeout = time.Minute // ample on a loaded machine
	for _, ch := range changes {
		ch(&c)
	}
	if err := c.Validate(); err != nil {
		r.t.Fatal(err)
	}
	return c
}

// running is a Service running in the test.
type running struct {
	svc  *Service
	gate *gate
	logs *observer.ObservedLogs
	stop func() error
}

// start runs a Service on cfg until the test ends or stop is called, and
// waits until it is ready (sources started, seen-set loaded).
func (r *rig) start(cfg Config, opts ...func(*Service)) *running {
	r.t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	log := zap.New(zapcore.NewTee(core, zaptest.NewLogger(r.t, zaptest.Level(zap.WarnLevel)).Core()))
	svc := New(cfg, log, prometheus.NewRegistry())
	g := newGate()
	svc.wait = g.wait
	for _, o := range opts {
		o(svc)
	}
	stop, exited := background(r.t, svc.Run)
	kafkatest.WaitFor(r.t, "the service to be ready", func() (bool, string) {
		select {
		case <-exited:
			r.t.Fatalf("Run returned before ready: %v", stop())
		default:
		}
		err := svc.health.Ready()
		return err == nil, fmt.Sprint(err)
	})
	return &running{svc: svc, gate: g, logs: logs, stop: stop}
}

// fetches returns how many fetches of source ended with result.
func (x *running) fetches(source, result string) int {
	return int(testutil.ToFloat64(x.svc.m.fetches.WithLabelValues(source, result)))
}

func (x *running) items(source, result string) int {
	return int(testutil.ToFloat64(x.svc.m.items.WithLabelValues(source, result)))
}

// fetched returns the number of fetches of source that are done, whatever
// their result.
func (x *running) fetched(source string) int {
	return x.fetches(source, "ok") + x.fetches(source, "not_modified") + x.fetches(source, "error")
}

// waitFetched waits until source was fetched n times in all.
func (x *running) waitFetched(t testing.TB, source string, n int) {
	t.Helper()
	kafkatest.WaitFor(t, fmt.Sprintf("fetch %d of %s", n, source), func() (bool, string) {
		got := x.fetched(source)
		if got > n {
			t.Fatalf("%s fetched %d times, want %d", source, got, n)
		}
		return got == n, fmt.Sprintf("%d fetches", got)
	})
}

// rawItems reads the raw topic into envelopes, by key; a key published
// twice with the same body fails the test.
func rawItems(t testing.TB, kc *kafka.Config, topic string) map[string][]*record.Raw {
	t.Helper()
	out := map[string][]*record.Raw{}
	for _, m := range kafkatest.ReadTopic(t, kc, topic) {
		raw, err := record.RawFromMessage(string(m.Key), kafka.RecordHeaders(m.Headers), m.Value)
		if err != nil {
			t.Fatalf("message %s: %v", m.Key, err)
		}
		for _, prev := range out[raw.Key] {
			if string(prev.Body) == string(raw.Body) {
				t.Errorf("item %s published twice with the same body", raw.Key)
			}
		}
		out[raw.Key] = append(out[raw.Key], raw)
	}
	return out
}

func countMessages(t testing.TB, kc *kafka.Config, topic string) int {
	t.Helper()
	offs, err := kafka.TopicOffsets(context.Background(), kc.Client(), topic)
	if err != nil {
		t.Fatalf("offsets of %s: %v", topic, err)
	}
	n := 0
	for _, o := range offs {
		n += int(o.HighWatermark - o.LogStart)
	}
	return n
}

// TestHTTPRestartPublishesOnce: a feed is fetched, ingest stops and starts
// again on the same seen topic; the unchanged feed publishes nothing, two
// new entries publish exactly two items, an edited entry a new version.
func TestHTTPRestartPublishesOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, 3)
	feed := newFeedSrv(t, 5)
	r.writeSources(httpSources(map[string]string{"wire": feed.srv.URL}))
	cfg := r.config()

	a := r.start(cfg)
	a.waitFetched(t, "wire", 1)
	if got := a.items("wire", "published"); got != 5 {
		t.Fatalf("first run: %d items published, want 5", got)
	}
	a.gate.release("wire")
	a.waitFetched(t, "wire", 2)
	if a.fetches("wire", "not_modified") != 1 {
		t.Errorf("second fetch of an unchanged feed: not a 304 (fetches ok %d, not_modified %d)", a.fetches("wire", "ok"), a.fetches("wire", "not_modified"))
	}
	if err := a.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := countMessages(t, &r.kc, r.raw); n != 5 {
		t.Fatalf("raw topic after the first run: %d messages, want 5", n)
	}

	// Restart, feed unchanged: fetched in full (the ETag was in memory),
	// nothing published.
	b := r.start(cfg)
	b.waitFetched(t, "wire", 1)
	if pub, dup := b.items("wire", "published"), b.items("wire", "duplicate"); pub != 0 || dup != 5 {
		t.Errorf("restart, feed unchanged: %d published, %d duplicates; want 0 and 5", pub, dup)
	}
	// Two new entries: exactly two items.
	feed.add(2)
	b.gate.release("wire")
	b.waitFetched(t, "wire", 2)
	if pub := b.items("wire", "published"); pub != 2 {
		t.Errorf("feed with 2 new entries: %d published, want 2", pub)
	}
	// One entry corrected: published again, as a new version.
	feed.edit(1)
	b.gate.release("wire")
	b.waitFetched(t, "wire", 3)
	if pub, upd := b.items("wire", "published"), int(testutil.ToFloat64(b.svc.m.updated.WithLabelValues("wire"))); pub != 3 || upd != 1 {
		t.Errorf("an edited entry: %d published in all, %d new versions; want 3 and 1", pub, upd)
	}
	if err := b.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	c := r.start(cfg)
	c.waitFetched(t, "wire", 1)
	if pub := c.items("wire", "published"); pub != 0 {
		t.Errorf("third run, feed unchanged: %d published, want 0", pub)
	}
	c.stop()

	items := rawItems(t, &r.kc, r.raw)
	if len(items) != 7 {
		t.Errorf("raw topic holds %d keys, want 7", len(items))
	}
	for i := range 7 {
		key := fmt.Sprintf("wire:urn:story:%d", i)
		want := 1
		if i == 1 {
			want = 2
		}
		if got := len(items[key]); got != want {
			t.Errorf("%s published %d times, want %d", key, got, want)
			continue
		}
		raw := items[key][want-1]
		if !strings.Contains(string(raw.Body), fmt.Sprintf("<title>Story %d</title>", i)) || strings.Count(string(raw.Body), "<item>") != 1 {
			t.Errorf("%s: body is not the one-entry document of story %d:\n%s", key, i, raw.Body)
		}
		if raw.Source != "wire" || raw.Format != "rss" || raw.Origin != feed.srv.URL || raw.Charset != "utf-8" || raw.ContentType != "application/rss+xml; charset=utf-8" {
			t.Errorf("%s: envelope %+v", key, raw)
		}
	}
	if !strings.Contains(string(items["wire:urn:story:1"][1].Body), "Corrected.") {
		t.Errorf("the second version of story 1 is not the corrected one")
	}
	if got := countMessages(t, &r.kc, r.seen); got != 8 {
		t.Errorf("seen topic holds %d markers, want 8 (7 items, one in two versions)", got)
	}
}

// TestHTTPMetrics checks the per-source metrics after fetches: results,
// errors by reason, bytes, duration, last success and feed freshness.
func TestHTTPMetrics(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1)
	feed := newFeedSrv(t, 3)
	var fail sync.Mutex
	failing := false
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fail.Lock()
		defer fail.Unlock()
		if failing {
			w.Header().Set("Retry-After", "600")
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		feed.serve(w, req)
	}))
	t.Cleanup(flaky.Close)
	r.writeSources(httpSources(map[string]string{"wire": flaky.URL}))
	cfg := r.config()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) // the newest of the 3 entries is at 02:00
	x := r.start(cfg, func(s *Service) { s.now = func() time.Time { return now } })
	x.waitFetched(t, "wire", 1)
	fail.Lock()
	failing = true
	fail.Unlock()
	x.gate.release("wire")
	x.waitFetched(t, "wire", 2)

	m := x.svc.m
	checks := []struct {
		name      string
		got, want float64
	}{
		{"fetches ok", testutil.ToFloat64(m.fetches.WithLabelValues("wire", "ok")), 1},
		{"fetches error", testutil.ToFloat64(m.fetches.WithLabelValues("wire", "error")), 1},
		{"errors status_5xx", testutil.ToFloat64(m.fetchErrors.WithLabelValues("wire", "status_5xx")), 1},
		{"items published", testutil.ToFloat64(m.items.WithLabelValues("wire", "published")), 3},
		{"last success", testutil.ToFloat64(m.lastSuccess.WithLabelValues("wire")), float64(now.Unix())},
		{"newest item age", testutil.ToFloat64(m.newestAge.WithLabelValues("wire")), (10 * time.Hour).Seconds()},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %g, want %g", c.name, c.got, c.want)
		}
	}
	if b := testutil.ToFloat64(m.fetchBytes.WithLabelValues("wire")); b < 500 {
		t.Errorf("fetch bytes %g, want the feed's size", b)
	}
	if n := testutil.CollectAndCount(m.fetchTime, "wirefeed_ingest_fetch_duration_seconds"); n != 1 {
		t.Errorf("fetch duration: %d series, want 1", n)
	}
	// The failed fetch waits for Retry-After (600s), longer than the
	// interval, before the next.
	var waits []time.Duration
	kafkatest.WaitFor(t, "the wait after the failed fetch", func() (bool, string) {
		x.gate.mu.Lock()
		defer x.gate.mu.Unlock()
		waits = slices.Clone(x.gate.waits["wire"])
		return len(waits) >= 2, fmt.Sprint(waits)
	})
	if len(waits) != 2 || waits[0] != 5*time.Minute || waits[1] != 10*time.Minute {
		t.Errorf("waits after an ok fetch and a 503 with Retry-After 600: %v, want [5m 10m]", waits)
	}
}

// TestSlowSourceDoesNotDelayOthers: one source never answers; another is
// fetched again and again meanwhile.
func TestSlowSourceDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1)
	stuck := newFeedSrv(t, 1)
	stuck.block = make(chan struct{})
	t.Cleanup(func() { close(stuck.block) })
	fast := newFeedSrv(t, 1)
	r.writeSources("sources:\n" +
		fmt.Sprintf("  - {id: stuck, type: http, url: '%s', timeout: 10m}\n", stuck.srv.URL) +
		fmt.Sprintf("  - {id: fast, type: http, url: '%s'}\n", fast.srv.URL))
	x := r.start(r.config())
	for i := 1; i <= 5; i++ {
		x.waitFetched(t, "fast", i)
		x.gate.release("fast")
	}
	if hits, _ := stuck.stats(); hits != 1 || x.fetched("stuck") != 0 {
		t.Errorf("stuck source: %d requests, %d fetches done; want 1 request still waiting", hits, x.fetched("stuck"))
	}
	// Stopping does not wait for the stuck fetch.
	if err := x.stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// ownedPartitions returns the partitions a replica was last assigned, from
// its log.
func (x *running) ownedPartitions() (map[int]bool, bool) {
	entries := x.logs.FilterMessage("ownership assigned").All()
	if len(entries) == 0 {
		return nil, false
	}
	parts := map[int]bool{}
	for _, f := range entries[len(entries)-1].Context {
		if f.Key == "partitions" {
			if ints, ok := f.Interface.(interface {
				MarshalLogArray(zapcore.ArrayEncoder) error
			}); ok {
				enc := &intCollector{}
				ints.MarshalLogArray(enc)
				for _, p := range enc.ints {
					parts[p] = true
				}
			}
		}
	}
	return parts, true
}

type intCollector struct {
	zapcore.ArrayEncoder
	ints []int
}

func (c *intCollector) AppendInt(v int) { c.ints = append(c.ints, v) }

// TestHTTPTwoReplicasOwnership runs two replicas in one ownership group on
// one seen topic: each source is polled by one of them, a replica leaving
// hands its sources over, and every entry is published exactly once.
func TestHTTPTwoReplicasOwnership(t *testing.T) {
	t.Parallel()
	r := newRig(t, 3)
	const parts = 6 // rig.config's OwnershipPartitions
	// Six sources, one on each partition of the ownership topic, so that
	// the range assignment gives each replica three.
	feeds := map[string]*feedSrv{}
	urls := map[string]string{}
	taken := map[int]bool{}
	for i := 0; len(feeds) < parts; i++ {
		id := fmt.Sprintf("feed-%d", i)
		if p := partitionOf(id, parts); !taken[p] {
			taken[p] = true
			feeds[id] = newFeedSrv(t, 3)
			urls[id] = feeds[id].srv.URL
		}
	}
	ids := make([]string, 0, len(feeds))
	for id := range feeds {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	r.writeSources(httpSources(urls))
	cfg := r.config()
	cfg.Ownership = "group"

	a := r.start(cfg)
	kafkatest.WaitFor(t, "replica a to own every source", func() (bool, string) {
		n := int(testutil.ToFloat64(a.svc.m.owned))
		return n == len(ids), fmt.Sprintf("a owns %d", n)
	})
	b := r.start(cfg)
	owners := func() map[string]*running {
		pa, oka := a.ownedPartitions()
		pb, okb := b.ownedPartitions()
		if !oka || !okb {
			return nil
		}
		out := map[string]*running{}
		for _, id := range ids {
			p := partitionOf(id, cfg.OwnershipPartitions)
			switch {
			case pa[p] && !pb[p]:
				out[id] = a
			case pb[p] && !pa[p]:
				out[id] = b
			}
		}
		if len(out) != len(ids) {
			return nil
		}
		return out
	}
	var owner map[string]*running
	kafkatest.WaitFor(t, "the two replicas to share the sources", func() (bool, string) {
		owner = owners()
		na, nb := int(testutil.ToFloat64(a.svc.m.owned)), int(testutil.ToFloat64(b.svc.m.owned))
		return owner != nil && na == 3 && nb == 3, fmt.Sprintf("a owns %d, b owns %d", na, nb)
	})
	published := func() int {
		n := 0
		for _, id := range ids {
			n += a.items(id, "published") + b.items(id, "published")
		}
		return n
	}
	// Each source has been fetched by its current owner.
	for _, id := range ids {
		kafkatest.WaitFor(t, "the owner's first fetch of "+id, func() (bool, string) {
			return owner[id].fetched(id) >= 1, ""
		})
	}
	if got := published(); got != 18 {
		t.Fatalf("after the sources were shared: %d items published, want 18", got)
	}

	// Two new entries in every feed; each replica fetches what it owns.
	before := map[string]int{}
	for _, id := range ids {
		feeds[id].add(2)
		before[id] = owner[id].fetched(id)
		owner[id].gate.release(id)
	}
	for _, id := range ids {
		owner[id].waitFetched(t, id, before[id]+1)
	}
	if got := published(); got != 30 {
		t.Errorf("after 2 new entries in each of 6 feeds: %d published, want 30", got)
	}

	// b leaves: a takes its sources over, and publishes nothing b did.
	if err := b.stop(); err != nil {
		t.Fatalf("replica b: %v", err)
	}
	kafkatest.WaitFor(t, "replica a to own every source again", func() (bool, string) {
		n := int(testutil.ToFloat64(a.svc.m.owned))
		return n == len(ids), fmt.Sprintf("a owns %d", n)
	})
	for _, id := range ids {
		before[id] = a.fetched(id)
		feeds[id].add(1)
		a.gate.release(id)
	}
	for _, id := range ids {
		kafkatest.WaitFor(t, "a's fetch of "+id, func() (bool, string) { return a.fetched(id) > before[id], "" })
	}
	if got := published(); got != 36 {
		t.Errorf("after the handover and 1 new entry in each feed: %d published, want 36", got)
	}
	items := rawItems(t, &r.kc, r.raw)
	if len(items) != 36 || countMessages(t, &r.kc, r.raw) != 36 {
		t.Errorf("raw topic: %d keys in %d messages, want 36 and 36", len(items), countMessages(t, &r.kc, r.raw))
	}
}

// TestHTTPTwoReplicasShareSeenTopic runs two replicas without ownership,
// both polling one feed: what one published, the other sees on the seen
// topic while both run, and does not publish.
func TestHTTPTwoReplicasShareSeenTopic(t *testing.T) {
	t.Parallel()
	r := newRig(t, 3)
	feed := newFeedSrv(t, 5)
	r.writeSources(httpSources(map[string]string{"wire": feed.srv.URL}))
	cfg := r.config()
	a := r.start(cfg)
	a.waitFetched(t, "wire", 1)
	b := r.start(cfg)
	b.waitFetched(t, "wire", 1)
	if pub, dup := b.items("wire", "published"), b.items("wire", "duplicate"); pub != 0 || dup != 5 {
		t.Errorf("replica b started after a: %d published, %d duplicates; want 0 and 5", pub, dup)
	}
	for round := 1; round <= 3; round++ {
		feed.add(2)
		first, second := a, b
		if round%2 == 0 {
			first, second = b, a
		}
		n1, n2 := first.fetched("wire"), second.fetched("wire")
		first.gate.release("wire")
		first.waitFetched(t, "wire", n1+1)
		second.gate.release("wire")
		second.waitFetched(t, "wire", n2+1)
	}
	total := a.items("wire", "published") + b.items("wire", "published")
	if total != 11 {
		t.Errorf("two replicas, 5 entries then 3 times 2 more: %d published, want 11", total)
	}
	if n := countMessages(t, &r.kc, r.raw); n != 11 {
		t.Errorf("raw topic holds %d messages, want 11", n)
	}
}
