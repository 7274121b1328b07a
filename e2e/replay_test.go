//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
	"github.com/wirefeed/wirefeed/internal/sink"
)

// TestReplayToNewPrefix follows docs/replay.md on the real stack: a live
// pipeline archives N items; then a replay normalize (new group, new records
// topic, --reset-offsets earliest) reprocesses the raw topic, and a replay
// sink (new group) archives its output under a run prefix. The run prefix
// must hold exactly the N items, and the live prefix must be untouched,
// while the live pipeline keeps running.
func TestReplayToNewPrefix(t *testing.T) {
	const n = 120
	p := newPipeline(t)
	p.start("sink")
	p.start("normalize")
	p.start("ingest")
	items, want := generated(7000, n)
	p.drop(items)
	p.waitArchived(n, 3*time.Minute)
	kc := kafkatest.Config(t, 3)
	waitGroup(t, &kc, p.raw+".sink", p.records, time.Minute)
	live, liveSeen := archiveOf(t, p.store.URL, p.store.Prefix)
	if len(liveSeen) != n {
		t.Fatalf("live archive holds %d records, want %d", len(liveSeen), n)
	}

	brokers := os.Getenv("KAFKA_BROKERS")
	normalize, sinkBin := filepath.Join(binDir, "normalize"), filepath.Join(binDir, "sink")

	// The live group cannot be reset under the running normalize.
	out, err := exec.Command(normalize, "--kafka.brokers", brokers, "--topic.raw", p.raw, "--topic.records", p.records,
		"--topic.dead-letter", p.dlq, "--group", p.raw+".normalize", "--reset-offsets", "earliest", "--http.addr", "").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "active members") {
		t.Errorf("reset of the live group while it runs: err %v, output:\n%s\nwant a refusal naming its active members", err, out)
	}

	// Step 1 of the runbook: the plan.
	replayGroup := p.raw + ".normalize.replay"
	replayRecords := kafkatest.Name(t, "records-replay")
	replayDLQ := kafkatest.Name(t, "dlq-replay")
	common := []string{"--kafka.brokers", brokers, "--topic.raw", p.raw, "--topic.records", replayRecords,
		"--topic.dead-letter", replayDLQ, "--group", replayGroup, "--reset-offsets", "earliest"}
	out, err = exec.Command(normalize, append(common, "--reset-offsets.dry-run", "--http.addr", "")...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "dry run, nothing changed") || !strings.Contains(string(out), "PARTITION") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	logf(t, "dry run of the replay:\n%s", planLines(string(out)))

	// Step 2: the replay normalize and the replay sink, next to the live
	// pipeline. The run prefix is a sibling of the live one, not inside it.
	runPrefix := strings.TrimSuffix(p.store.Prefix, "/articles/v1") + "/articles/run=" + time.Now().UTC().Format("2006-01-02") + "/v1"
	logs := t.TempDir()
	rn := startProc(t, normalize, filepath.Join(logs, "normalize.log"), append(common, "--lag.interval", "1s")...)
	rs := startProc(t, sinkBin, filepath.Join(logs, "sink.log"), "--kafka.brokers", brokers, "--topic.records", replayRecords,
		"--topic.dead-letter", replayDLQ, "--group", replayRecords+".sink", "--bucket", p.store.URL, "--prefix", runPrefix,
		"--batch.max-age", "1s", "--lag.interval", "1s")
	waitGroup(t, &kc, replayGroup, p.raw, 2*time.Minute)
	// The replay records topic is complete once the replay normalize has
	// committed the raw topic; then the replay sink must catch up with it.
	waitCaughtUp(t, &kc, replayRecords+".sink", replayRecords, rs, 2*time.Minute)
	rn.stop(t)
	rs.stop(t)

	replay, replaySeen := archiveOf(t, p.store.URL, runPrefix)
	got := map[string]int{}
	for _, o := range replay.Objects {
		for _, r := range o.Records {
			got[r.SourceID]++
		}
	}
	for id := range want {
		if got[id] != 1 {
			t.Errorf("replay archive holds %s %d times, want once", id, got[id])
		}
	}
	if len(replaySeen) != n || len(got) != n {
		t.Errorf("replay archive holds %d records (%d source IDs), want exactly %d", len(replaySeen), len(got), n)
	}
	for _, pr := range replay.Problems() {
		t.Error(pr)
	}

	after, afterSeen := archiveOf(t, p.store.URL, p.store.Prefix)
	if sig(live) != sig(after) || len(afterSeen) != n {
		t.Errorf("live prefix changed during the replay:\nbefore %s\nafter  %s", sig(live), sig(after))
	}
	logf(t, "live pipeline archived %d items under %s; replay archived exactly %d under %s (%d objects); live prefix unchanged (%d objects)",
		n, p.store.Prefix, len(got), runPrefix, len(replay.Objects), len(after.Objects))
}

// waitGroup waits until group has committed all of topic.
func waitGroup(t *testing.T, kc *kafka.Config, group, topic string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		lags, err := kafka.GroupLag(context.Background(), kc.Client(), group, topic)
		var lag, committed int64
		for _, l := range lags {
			lag += l.Lag
			committed += max(l.Committed, 0)
		}
		if err == nil && lag == 0 && committed > 0 {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("group %s did not commit all of %s within %s", group, topic, timeout)
}

// sig sums up an archive: every object's key, size and record count.
func sig(a *sink.Archive) string {
	var b strings.Builder
	for _, o := range a.Objects {
		fmt.Fprintf(&b, "%s:%d:%d ", o.Key[strings.LastIndex(o.Key, "/")+1:], o.Size, len(o.Records))
	}
	return b.String()
}

// planLines keeps the plan from a dry run's output (the rest is logs).
func planLines(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "{") && strings.TrimSpace(l) != "" {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
