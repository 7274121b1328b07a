package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// runConfig returns an ingest configuration from the flags' defaults on its
// own raw topic and spool folder, scanning often, serving no HTTP.
func runConfig(t testing.TB, kc kafka.Config) Config {
	t.Helper()
	c := validConfig(t)
	c.Kafka = kc
	c.Telemetry.HTTPAddr = ""
	c.RawTopic = kafkatest.Name(t, "raw")
	c.SpoolSource = "testwire"
	c.SpoolPoll = 20 * time.Millisecond
	c.SpoolSettle = 100 * time.Millisecond
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// background runs run in a goroutine until stop cancels its context; stop
// waits for run to return and gives its error, and the test's cleanup
// calls it too. exited is closed once run has returned.
func background(t testing.TB, run func(context.Context) error) (stop func() error, exited <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var err error
	go func() { err = run(ctx); close(done) }()
	stop = func() error {
		cancel()
		<-done
		return err
	}
	t.Cleanup(func() { stop() })
	return stop, done
}

// runIngest starts Run and returns its registry and a stop function that
// cancels it and returns Run's error; the test's cleanup stops it too.
func runIngest(t testing.TB, cfg Config) (*prometheus.Registry, func() error) {
	t.Helper()
	reg := prometheus.NewRegistry()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	stop, _ := background(t, func(ctx context.Context) error { return Run(ctx, cfg, log, reg) })
	return reg, stop
}

// drop writes a file into the spool the way a well-behaved writer does:
// under a hidden temporary name, then renamed into place.
func drop(t testing.TB, dir, name, content string) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// waitSpoolEmpty waits until every complete file dropped in dir was taken.
func waitSpoolEmpty(t testing.TB, dir string) {
	t.Helper()
	kafkatest.WaitFor(t, "an empty spool", func() (bool, string) {
		var files []string
		for _, name := range listDir(t, dir) {
			if !inProgress(name) {
				files = append(files, name)
			}
		}
		return len(files) == 0, fmt.Sprintf("spool holds %v", files)
	})
}

// itemsMetric is the expected text of wirefeed_ingest_items_total.
func itemsMetric(source string, counts map[string]int) string {
	var b strings.Builder
	b.WriteString("# HELP wirefeed_ingest_items_total Raw items taken from sources, by source and result (published, duplicate, failed).\n")
	b.WriteString("# TYPE wirefeed_ingest_items_total counter\n")
	results := make([]string, 0, len(counts))
	for r := range counts {
		results = append(results, r)
	}
	slices.Sort(results)
	for _, r := range results {
		fmt.Fprintf(&b, "wirefeed_ingest_items_total{result=%q,source=%q} %d\n", r, source, counts[r])
	}
	return b.String()
}

func checkItems(t testing.TB, reg *prometheus.Registry, source string, counts map[string]int) {
	t.Helper()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(itemsMetric(source, counts)), "wirefeed_ingest_items_total"); err != nil {
		t.Errorf("items metric, want %v: %v", counts, err)
	}
}

func TestRunPublishesSpoolFiles(t *testing.T) {
	t.Parallel()
	kc := kafkatest.Config(t, 3)
	cfg := runConfig(t, kc)
	spool := cfg.SpoolDir
	files := map[string]string{}
	for i := range 5 {
		files[fmt.Sprintf("item-%d.txt", i)] = fmt.Sprintf("URL : http://wire.example/%d\nTitle : Story %d\nArticle :\nBody of story %d.\n", i, i, i)
	}
	// Files already there at start, and some dropped while running.
	for name, content := range files {
		if strings.HasSuffix(name, "0.txt") || strings.HasSuffix(name, "1.txt") {
			drop(t, spool, name, content)
		}
	}
	before := time.Now().UTC()
	reg, stop := runIngest(t, cfg)
	for name, content := range files {
		if !strings.HasSuffix(name, "0.txt") && !strings.HasSuffix(name, "1.txt") {
			drop(t, spool, name, content)
		}
	}
	drop(t, spool, "empty.txt", "")
	drop(t, spool, ".still-writing", "partial")
	waitSpoolEmpty(t, spool)
	if err := stop(); err != nil {
		t.Fatalf("Run: got %v, want nil after cancel", err)
	}
	after := time.Now().UTC()

	msgs := kafkatest.ReadTopic(t, &cfg.Kafka, cfg.RawTopic)
	if len(msgs) != len(files) {
		t.Fatalf("raw topic holds %d messages, want %d (one per non-empty file)", len(msgs), len(files))
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		raw, err := record.RawFromMessage(string(m.Key), kafka.RecordHeaders(m.Headers), m.Value)
		if err != nil {
			t.Errorf("message %s: %v", m.Key, err)
			continue
		}
		name := strings.TrimPrefix(raw.Origin, "spool:")
		want, ok := files[name]
		switch {
		case !ok || !strings.HasPrefix(raw.Origin, "spool:"):
			t.Errorf("message %s: origin %q, want spool:<one of the files>", m.Key, raw.Origin)
			continue
		case seen[name]:
			t.Errorf("file %s published twice", name)
		}
		seen[name] = true
		if string(raw.Body) != want {
			t.Errorf("%s: body %q, want %q", name, raw.Body, want)
		}
		if wantKey := record.ItemKey("testwire", "", []byte(want)); raw.Key != wantKey {
			t.Errorf("%s: key %q, want %q", name, raw.Key, wantKey)
		}
		if raw.Source != "testwire" || raw.Format != "textdump" {
			t.Errorf("%s: source %q format %q, want testwire and textdump", name, raw.Source, raw.Format)
		}
		if raw.FetchedAt.Before(before) || raw.FetchedAt.After(after) || raw.FetchedAt.Location() != time.UTC {
			t.Errorf("%s: fetched_at %s, want a UTC time between %s and %s", name, raw.FetchedAt, before, after)
		}
	}

	var wantDone []string
	for name := range files {
		wantDone = append(wantDone, name)
	}
	slices.Sort(wantDone)
	if got := listDir(t, filepath.Join(spool, spoolDone)); !slices.Equal(got, wantDone) {
		t.Errorf("done/: got %v, want %v", got, wantDone)
	}
	if got, want := listDir(t, filepath.Join(spool, spoolFailed)), []string{"empty.txt", "empty.txt.reason"}; !slices.Equal(got, want) {
		t.Errorf("failed/: got %v, want %v", got, want)
	}
	reason, _ := os.ReadFile(filepath.Join(spool, spoolFailed, "empty.txt.reason"))
	if !strings.Contains(string(reason), "reason: empty\n") {
		t.Errorf("empty.txt.reason: %q, want it to say reason: empty", reason)
	}
	if _, err := os.Stat(filepath.Join(spool, ".still-writing")); err != nil {
		t.Errorf("a hidden file was taken: %v", err)
	}
	checkItems(t, reg, "testwire", map[string]int{"published": 5, "failed": 1})
}

func TestRunRestartDoesNotRepublish(t *testing.T) {
	t.Parallel()
	kc := kafkatest.Config(t, 3)
	cfg := runConfig(t, kc)
	const story = "Title : Once only\nArticle :\nThe same story, sent twice.\n"

	reg1, stop1 := runIngest(t, cfg)
	drop(t, cfg.SpoolDir, "first.txt", story)
	waitSpoolEmpty(t, cfg.SpoolDir)
	if err := stop1(); err != nil {
		t.Fatalf("first Run: %v", err)
	}
	checkItems(t, reg1, "testwire", map[string]int{"published": 1})
	if n := countMessages(t, &cfg.Kafka, cfg.RawTopic); n != 1 {
		t.Fatalf("raw topic after the first run: %d messages, want 1", n)
	}

	// The same content again, under another name, after a restart.
	drop(t, cfg.SpoolDir, "second.txt", story)
	reg2, stop2 := runIngest(t, cfg)
	waitSpoolEmpty(t, cfg.SpoolDir)
	if err := stop2(); err != nil {
		t.Fatalf("second Run: %v", err)
	}
	checkItems(t, reg2, "testwire", map[string]int{"duplicate": 1})
	if n := countMessages(t, &cfg.Kafka, cfg.RawTopic); n != 1 {
		t.Errorf("raw topic after the restart: %d messages, want still 1", n)
	}
	if got, want := listDir(t, filepath.Join(cfg.SpoolDir, spoolDone)), []string{"first.txt", "second.txt"}; !slices.Equal(got, want) {
		t.Errorf("done/: got %v, want %v", got, want)
	}
}

// TestRunCrashAfterLedgerWrite starts on a spool where the ledger already
// holds a file's key but the file was never moved to done/, as when the
// process died between the two. The file must not be published again.
func TestRunCrashAfterLedgerWrite(t *testing.T) {
	t.Parallel()
	kc := kafkatest.Config(t, 3)
	cfg := runConfig(t, kc)
	const published = "Title : Already out\nArticle :\nPublished before the crash.\n"
	const fresh = "Title : New\nArticle :\nNot published yet.\n"

	if _, err := newSpoolScanner(cfg.SpoolDir, 0); err != nil {
		t.Fatal(err)
	}
	l, err := openLedger(filepath.Join(cfg.SpoolDir, spoolState, ledgerName))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.add(record.ItemKey(cfg.SpoolSource, "", []byte(published))); err != nil {
		t.Fatal(err)
	}
	l.close()
	drop(t, cfg.SpoolDir, "crashed.txt", published)
	drop(t, cfg.SpoolDir, "fresh.txt", fresh)

	reg, stop := runIngest(t, cfg)
	waitSpoolEmpty(t, cfg.SpoolDir)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkItems(t, reg, "testwire", map[string]int{"duplicate": 1, "published": 1})
	msgs := kafkatest.ReadTopic(t, &cfg.Kafka, cfg.RawTopic)
	if len(msgs) != 1 || string(msgs[0].Value) != fresh {
		var bodies []string
		for _, m := range msgs {
			bodies = append(bodies, string(m.Value))
		}
		t.Errorf("raw topic: got %q, want only the fresh item %q", bodies, fresh)
	}
	if got, want := listDir(t, filepath.Join(cfg.SpoolDir, spoolDone)), []string{"crashed.txt", "fresh.txt"}; !slices.Equal(got, want) {
		t.Errorf("done/: got %v, want %v", got, want)
	}
}

func TestRunTooLargeGoesToFailed(t *testing.T) {
	t.Parallel()
	kc := kafkatest.Config(t, 1)
	cfg := runConfig(t, kc)
	cfg.MaxItemBytes = 16
	reg, stop := runIngest(t, cfg)
	drop(t, cfg.SpoolDir, "big.txt", strings.Repeat("x", 17))
	drop(t, cfg.SpoolDir, "small.txt", strings.Repeat("y", 16))
	waitSpoolEmpty(t, cfg.SpoolDir)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkItems(t, reg, "testwire", map[string]int{"failed": 1, "published": 1})
	reason, _ := os.ReadFile(filepath.Join(cfg.SpoolDir, spoolFailed, "big.txt.reason"))
	if !strings.Contains(string(reason), "reason: too_large\n") {
		t.Errorf("big.txt.reason: %q, want reason: too_large", reason)
	}
	if n := countMessages(t, &cfg.Kafka, cfg.RawTopic); n != 1 {
		t.Errorf("raw topic: %d messages, want 1", n)
	}
}
