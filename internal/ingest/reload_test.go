package ingest

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/wirefeed/wirefeed/internal/kafkatest"
)

// TestReloadOnSIGHUP sends the process a real SIGHUP after rewriting the
// sources file: an http source changed while a fetch of it is in hand, one
// removed, one added, and a spool source left as it was. Then an invalid
// file, which changes nothing.
func TestReloadOnSIGHUP(t *testing.T) {
	t.Parallel()
	r := newRig(t, 1)
	fa, fb, fd := newFeedSrv(t, 3), newFeedSrv(t, 2), newFeedSrv(t, 4)
	spoolDir := t.TempDir()
	spoolSource := fmt.Sprintf("  - {id: c, type: spool, path: '%s', format: textdump}\n", spoolDir)
	r.writeSources("sources:\n" +
		fmt.Sprintf("  - {id: a, type: http, url: '%s'}\n", fa.srv.URL) +
		fmt.Sprintf("  - {id: b, type: http, url: '%s'}\n", fb.srv.URL) + spoolSource)
	cfg := r.config()
	cfg.SpoolSettle = 0
	x := r.start(cfg)
	x.waitFetched(t, "a", 1)
	x.waitFetched(t, "b", 1)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	t.Cleanup(func() { signal.Stop(hup) })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go ReloadOn(ctx, x.svc, hup)

	// A fetch of a is under way (the server holds its answer) when a new
	// entry appears and the reload changes a.
	fa.mu.Lock()
	fa.block = make(chan struct{})
	fa.mu.Unlock()
	fa.add(1)
	x.gate.release("a")
	kafkatest.WaitFor(t, "a's second request", func() (bool, string) { hits, _ := fa.stats(); return hits == 2, fmt.Sprint(hits) })

	r.writeSources("sources:\n" +
		fmt.Sprintf("  - {id: a, type: http, url: '%s', interval: 2m}\n", fa.srv.URL) +
		spoolSource +
		fmt.Sprintf("  - {id: d, type: http, url: '%s', format: rss}\n", fd.srv.URL))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	kafkatest.WaitFor(t, "the reload", func() (bool, string) {
		n := testutil.ToFloat64(x.svc.m.reloads.WithLabelValues("ok"))
		return n == 1, fmt.Sprint(n)
	})
	fa.mu.Lock()
	close(fa.block)
	fa.block = nil
	fa.mu.Unlock()

	// d starts; a restarts and publishes the entry its interrupted fetch
	// was about to get, once.
	x.waitFetched(t, "d", 1)
	kafkatest.WaitFor(t, "a's new entry", func() (bool, string) { n := x.items("a", "published"); return n == 4, fmt.Sprint(n) })
	if got := x.items("d", "published"); got != 4 {
		t.Errorf("added source d: %d published, want 4", got)
	}
	var stopped, started []string
	for _, e := range x.logs.FilterMessage("source stopped").All() {
		stopped = append(stopped, e.ContextMap()["source"].(string))
	}
	for _, e := range x.logs.FilterMessage("polling source").All() {
		started = append(started, e.ContextMap()["source"].(string))
	}
	slices.Sort(stopped)
	slices.Sort(started)
	if want := []string{"a", "b"}; !slices.Equal(stopped, want) {
		t.Errorf("sources stopped by the reload: %v, want %v (c is unchanged)", stopped, want)
	}
	if want := []string{"a", "a", "b", "d"}; !slices.Equal(started, want) {
		t.Errorf("http sources started: %v, want %v", started, want)
	}
	if n := x.logs.FilterMessage("watching spool folder").Len(); n != 1 {
		t.Errorf("spool source c started %d times, want once", n)
	}
	// The removed source's series are gone.
	if n, err := testutil.GatherAndCount(x.svc.reg); err != nil {
		t.Fatal(err)
	} else if n == 0 {
		t.Fatal("no metrics")
	}
	mfs, _ := x.svc.reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "source" && l.GetValue() == "b" {
					t.Errorf("%s still has a series of the removed source b", mf.GetName())
				}
			}
		}
	}
	// The spool source kept working through the reload.
	if err := os.WriteFile(filepath.Join(spoolDir, "x.txt"), []byte("Title : X\nArticle :\nY.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	kafkatest.WaitFor(t, "the spool file", func() (bool, string) { n := x.items("c", "published"); return n == 1, fmt.Sprint(n) })
	if err := os.WriteFile(filepath.Join(spoolDir, "empty.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	kafkatest.WaitFor(t, "the empty spool file refused", func() (bool, string) {
		n := testutil.ToFloat64(x.svc.m.refused.WithLabelValues("c", "empty"))
		return n == 1, fmt.Sprint(n)
	})
	// One info series per configured source, with its type.
	info := `
# HELP wirefeed_ingest_source_info 1 for every enabled source of the configuration, by source and type (http, spool, push).
# TYPE wirefeed_ingest_source_info gauge
wirefeed_ingest_source_info{source="a",type="http"} 1
wirefeed_ingest_source_info{source="c",type="spool"} 1
wirefeed_ingest_source_info{source="d",type="http"} 1
`
	if err := testutil.GatherAndCompare(x.svc.reg, strings.NewReader(info), "wirefeed_ingest_source_info"); err != nil {
		t.Errorf("source info after the reload: %v", err)
	}

	// An invalid file: an error naming source and field, nothing changes.
	r.writeSources("sources:\n  - {id: a, type: http}\n" + spoolSource)
	err := x.svc.Reload()
	if err == nil || !strings.Contains(err.Error(), `source "a": url: is required`) {
		t.Errorf("reload of an invalid file: %v, want an error naming source a's url", err)
	}
	if n := testutil.ToFloat64(x.svc.m.reloads.WithLabelValues("error")); n != 1 {
		t.Errorf("reload errors: %g, want 1", n)
	}
	fd.add(1)
	n := x.fetched("d")
	x.gate.release("d")
	x.waitFetched(t, "d", n+1)
	if got := x.items("d", "published"); got != 5 {
		t.Errorf("d after the failed reload: %d published, want 5", got)
	}
	if err := x.stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	if got := countMessages(t, &r.kc, r.raw); got != 4+2+5+1 {
		t.Errorf("raw topic: %d messages, want %d", got, 4+2+5+1)
	}
}
