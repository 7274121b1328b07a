//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// The ingest binary against real Kafka: polling an RSS feed served from
// the test process, across restarts and a SIGHUP reload, and taking items
// on its push endpoint.

// wireFeed is an RSS feed whose entries the test adds, with an ETag.
type wireFeed struct {
	mu      sync.Mutex
	entries []string
	srv     *httptest.Server
}

func newWireFeed(t *testing.T, prefix string, n int) *wireFeed {
	f := &wireFeed{}
	f.add(prefix, n)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		items := strings.Join(f.entries, "\n")
		f.mu.Unlock()
		sum := sha256.Sum256([]byte(items))
		etag := `"` + hex.EncodeToString(sum[:8]) + `"`
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>E2E wire</title>"+
			"<lastBuildDate>%s</lastBuildDate>\n%s\n</channel></rss>\n", time.Now().Format(time.RFC1123Z), items)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *wireFeed) add(prefix string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		i := len(f.entries)
		f.entries = append(f.entries, fmt.Sprintf("<item><title>%s story %d</title><guid>urn:%s:%d</guid><link>https://e2e-wire.example/%s/%d</link>"+
			"<pubDate>%s</pubDate><description>Paragraph of story %d.</description></item>",
			prefix, i, prefix, i, prefix, i, time.Date(2025, 6, 1, 8, i, 0, 0, time.UTC).Format(time.RFC1123Z), i))
	}
}

// ingestRun is one test's topics, group and sources file for the binary.
type ingestRun struct {
	t       *testing.T
	raw     string
	seen    string
	owner   string
	group   string
	sources string
	procs   []*service
}

func newIngestRun(t *testing.T) *ingestRun {
	return &ingestRun{
		t: t, raw: kafkatest.Name(t, "raw"), seen: kafkatest.Name(t, "seen"), owner: kafkatest.Name(t, "owner"),
		group: kafkatest.Name(t, "group"), sources: filepath.Join(t.TempDir(), "sources.yaml"),
	}
}

func (x *ingestRun) writeSources(yml string) {
	tmp := x.sources + ".tmp"
	if err := os.WriteFile(tmp, []byte(yml), 0o644); err != nil {
		x.t.Fatal(err)
	}
	if err := os.Rename(tmp, x.sources); err != nil {
		x.t.Fatal(err)
	}
}

// start runs the ingest binary on the run's topics with env added to its
// environment; it is stopped with SIGTERM when the test ends and must then
// exit 0.
func (x *ingestRun) start(env []string, args ...string) *service {
	t := x.t
	addr := freeAddr(t)
	args = append([]string{"--kafka.brokers", os.Getenv("KAFKA_BROKERS"), "--http.addr", addr, "--log.level", "info",
		"--sources", x.sources, "--topic.raw", x.raw, "--seen.topic", x.seen,
		"--ownership.topic", x.owner, "--ownership.group", x.group, "--poll.jitter", "0"}, args...)
	logPath := filepath.Join(t.TempDir(), "ingest.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, "ingest"), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &service{name: "ingest", cmd: cmd, addr: addr, log: logPath, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); logFile.Close() }()
	x.procs = append(x.procs, s)
	t.Cleanup(func() { s.stop(t) })
	p := &pipeline{t: t}
	p.waitReady(s)
	return s
}

// metric returns the value of one series on the service's /metrics, or 0.
func metric(t *testing.T, s *service, series string) float64 {
	resp, err := http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", s.addr, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// waitUntil polls cond until it holds, failing after timeout; it fails at
// once when one of the run's processes exits.
func (x *ingestRun) waitUntil(what string, timeout time.Duration, cond func() (bool, string)) {
	x.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		for _, s := range x.procs {
			if s.cmd.ProcessState != nil {
				continue
			}
			select {
			case err := <-s.done:
				x.t.Fatalf("ingest exited: %v\n%s", err, tail(s.log))
			default:
			}
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("gave up waiting for %s after %s; last state: %s", what, timeout, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rawMessages reads the run's raw topic from real Kafka.
func (x *ingestRun) rawMessages() []kafka.Message {
	t := x.t
	kc := kafkatest.Config(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	offs, err := kafka.TopicOffsets(ctx, kc.Client(), x.raw)
	if err != nil {
		t.Fatal(err)
	}
	var out []kafka.Message
	for _, o := range offs {
		if o.HighWatermark == o.LogStart {
			continue
		}
		r := kgo.NewReader(kgo.ReaderConfig{Brokers: kc.Brokers, Topic: x.raw, Partition: o.Partition, MaxWait: 200 * time.Millisecond})
		r.SetOffset(o.LogStart)
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("read %s/%d: %v", x.raw, o.Partition, err)
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

func (x *ingestRun) rawCount() int {
	kc := kafkatest.Config(x.t, 3)
	offs, err := kafka.TopicOffsets(context.Background(), kc.Client(), x.raw)
	if err != nil {
		return -1
	}
	n := 0
	for _, o := range offs {
		n += int(o.HighWatermark - o.LogStart)
	}
	return n
}

// checkOnce checks that every key of the raw topic appears once, and
// returns the keys.
func (x *ingestRun) checkOnce() map[string]*record.Raw {
	out := map[string]*record.Raw{}
	for _, m := range x.rawMessages() {
		raw, err := record.RawFromMessage(string(m.Key), kafka.RecordHeaders(m.Headers), m.Value)
		if err != nil {
			x.t.Fatalf("raw message %s: %v", m.Key, err)
		}
		if _, dup := out[raw.Key]; dup {
			x.t.Errorf("%s published twice", raw.Key)
		}
		out[raw.Key] = raw
	}
	return out
}

// TestIngestPollsFeedAcrossRestarts runs the ingest binary against a feed
// served by the test: it publishes each entry once, answers later fetches
// with 304s, publishes nothing again after a restart, and exactly the two
// new entries added while it was down.
func TestIngestPollsFeedAcrossRestarts(t *testing.T) {
	x := newIngestRun(t)
	feed := newWireFeed(t, "wire", 8)
	x.writeSources(fmt.Sprintf("sources:\n  - {id: wire, type: http, url: '%s', format: rss, interval: 1s, timezone: Europe/Lisbon}\n", feed.srv.URL))

	s := x.start(nil)
	x.waitUntil("8 items on the raw topic", time.Minute, func() (bool, string) { n := x.rawCount(); return n == 8, fmt.Sprint(n) })
	x.waitUntil("a 304", time.Minute, func() (bool, string) {
		v := metric(t, s, `wirefeed_ingest_fetches_total{result="not_modified",source="wire"}`)
		return v >= 2, fmt.Sprint(v)
	})
	s.stop(t)
	feed.add("wire", 2) // while ingest is down

	s = x.start(nil)
	x.waitUntil("10 items on the raw topic", time.Minute, func() (bool, string) { n := x.rawCount(); return n >= 10, fmt.Sprint(n) })
	x.waitUntil("fetches after the restart", time.Minute, func() (bool, string) {
		v := metric(t, s, `wirefeed_ingest_fetches_total{result="not_modified",source="wire"}`)
		return v >= 3, fmt.Sprint(v)
	})
	if dup := metric(t, s, `wirefeed_ingest_items_total{result="duplicate",source="wire"}`); dup != 8 {
		t.Errorf("after the restart: %g duplicates, want the 8 entries published before", dup)
	}
	s.stop(t)

	items := x.checkOnce()
	if len(items) != 10 {
		t.Errorf("raw topic holds %d items, want 10", len(items))
	}
	for i := range 10 {
		raw := items[fmt.Sprintf("wire:urn:wire:%d", i)]
		if raw == nil {
			t.Errorf("entry %d missing", i)
			continue
		}
		if raw.Source != "wire" || raw.Format != "rss" || raw.Origin != feed.srv.URL || raw.Charset != "utf-8" ||
			!bytes.Contains(raw.Body, []byte(fmt.Sprintf("<title>wire story %d</title>", i))) || bytes.Count(raw.Body, []byte("<item>")) != 1 {
			t.Errorf("entry %d: envelope %+v", i, raw)
		}
	}
	logf(t, "ingest binary on real Kafka: 8 entries, restart, 2 new entries: %d items, each once", len(items))
}

// TestIngestReloadOnSIGHUP adds a source to the file and sends SIGHUP to
// the running binary.
func TestIngestReloadOnSIGHUP(t *testing.T) {
	x := newIngestRun(t)
	first, second := newWireFeed(t, "first", 3), newWireFeed(t, "second", 4)
	line := func(id string, f *wireFeed) string {
		return fmt.Sprintf("  - {id: %s, type: http, url: '%s', interval: 1s}\n", id, f.srv.URL)
	}
	x.writeSources("sources:\n" + line("first", first))
	s := x.start(nil)
	x.waitUntil("the first source's 3 items", time.Minute, func() (bool, string) { n := x.rawCount(); return n == 3, fmt.Sprint(n) })

	x.writeSources("sources:\n" + line("first", first) + line("second", second))
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	x.waitUntil("the second source's 4 items", time.Minute, func() (bool, string) { n := x.rawCount(); return n == 7, fmt.Sprint(n) })
	if v := metric(t, s, `wirefeed_ingest_sources_reloads_total{result="ok"}`); v != 1 {
		t.Errorf("reloads: %g, want 1", v)
	}
	// An invalid file: the process keeps running with what it had.
	x.writeSources("sources:\n  - {id: first, type: http}\n")
	s.cmd.Process.Signal(syscall.SIGHUP)
	x.waitUntil("the failed reload", time.Minute, func() (bool, string) {
		v := metric(t, s, `wirefeed_ingest_sources_reloads_total{result="error"}`)
		return v == 1, fmt.Sprint(v)
	})
	first.add("first", 1)
	x.waitUntil("the first source's new entry", time.Minute, func() (bool, string) { n := x.rawCount(); return n == 8, fmt.Sprint(n) })
	s.stop(t)
	if n := countLines(s.log, `"sources file not reloaded`); n != 1 {
		t.Errorf("log lines about the refused reload: %d, want 1\n%s", n, tail(s.log))
	}
	x.checkOnce()
}

// TestIngestPushThroughBinary posts items to the binary's push endpoint,
// with the token from the environment.
func TestIngestPushThroughBinary(t *testing.T) {
	x := newIngestRun(t)
	const token = "e2e-push-token-0123456789abcdef"
	x.writeSources("sources:\n  - {id: partner, type: push, format: ninjs, token: '${E2E_PUSH_TOKEN}'}\n")
	pushAddr := freeAddr(t)
	s := x.start([]string{"E2E_PUSH_TOKEN=" + token}, "--push.addr", pushAddr)
	url := "http://" + pushAddr + "/v1/items"
	post := func(tok, id, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		if id != "" {
			req.Header.Set("X-Wirefeed-Item-Id", id)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for i := range 5 {
		code, body := post(token, fmt.Sprintf("urn:partner:%d", i), fmt.Sprintf(`{"uri": "urn:partner:%d", "headline": "Item %d"}`, i, i))
		if code != http.StatusAccepted {
			t.Fatalf("push %d: %d %s, want 202", i, code, body)
		}
		// 202 means the broker has it.
		if n := x.rawCount(); n != i+1 {
			t.Errorf("after the 202 of item %d: %d items on the raw topic, want %d", i, n, i+1)
		}
	}
	if code, body := post(token, "urn:partner:0", `{"uri": "urn:partner:0", "headline": "Item 0"}`); code != http.StatusOK || !strings.Contains(body, "duplicate") {
		t.Errorf("the same item again: %d %s, want 200 duplicate", code, body)
	}
	if code, body := post("", "urn:partner:9", `{}`); code != http.StatusUnauthorized {
		t.Errorf("no token: %d %s, want 401", code, body)
	}
	if code, body := post("not-the-token-0123456789", "urn:partner:9", `{}`); code != http.StatusUnauthorized {
		t.Errorf("bad token: %d %s, want 401", code, body)
	}
	s.stop(t)
	if n := countLines(s.log, token); n != 0 {
		t.Errorf("the push token appears in %d log lines", n)
	}
	items := x.checkOnce()
	if len(items) != 5 {
		t.Errorf("raw topic holds %d items, want 5", len(items))
	}
	if raw := items["partner:urn:partner:3"]; raw == nil || raw.Format != "ninjs" || raw.ContentType != "application/json" || !strings.HasPrefix(raw.Origin, "push:") {
		t.Errorf("pushed item's envelope: %+v", raw)
	}
}
