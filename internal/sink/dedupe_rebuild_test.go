package sink_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
	"github.com/wirefeed/wirefeed/internal/sink"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// crashBeforeSecondManifest publishes records 0-7, a copy of 3, and
// records 8-9 (batches [0, 4] and [5, 10] at --batch.max-records 5), and
// runs the sink until it has written the object of [5, 10] and not its
// manifest: the batch is left pending. It returns the records.
func crashBeforeSecondManifest(t *testing.T, cfg sink.Config) []*record.Article {
	t.Helper()
	arts, msgs := numbered(t, 10)
	all := append(append(append([]kafka.Message{}, msgs[:8]...), message(t, republished(arts[3], 8))), msgs[8:]...)
	produce(t, &cfg.Kafka, cfg.RecordsTopic, all...)
	cfg.SetStoreHookForTest(func(point, key string) error {
		if point == "manifest" && strings.Contains(key, "-00000000000000000005-") {
			return errCrash
		}
		return nil
	})
	if err := startSink(t, cfg).wait(t, 30*time.Second); !errors.Is(err, errCrash) {
		t.Fatalf("first run: %v, want the crash", err)
	}
	return arts
}

// rebuild runs the sink until the records topic is archived, and returns
// the archive, checked for problems, and the run's metrics.
func rebuild(t *testing.T, cfg sink.Config, dir string) ([]object, *started) {
	t.Helper()
	s := startSink(t, cfg)
	waitFor(t, "rebuilt", func() (bool, string) {
		lag, err := groupLag(&cfg.Kafka, cfg.Group, cfg.RecordsTopic)
		return err == nil && lag == 0, fmt.Sprintf("lag %d (%v)", lag, err)
	})
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range readStore(t, cfg.Bucket, cfg.Prefix).Problems() {
		t.Errorf("archive problem: %v", p)
	}
	return readArchive(t, dir), s
}

// TestRunRebuildDropsWhatTheAttemptDropped crashes after the object of a
// batch that dropped a copy, before its manifest; retention then deletes
// the window's records (the copy's original among them) while the sink is
// down. The rebuild drops the copy again, as the pending state says,
// although its window no longer holds the original: the same object, and
// a manifest that agrees with it.
func TestRunRebuildDropsWhatTheAttemptDropped(t *testing.T) {
	t.Parallel()
	cfg, dir := sinkConfig(t, 1)
	cfg.MaxRecords, cfg.DedupeWindow = 5, 10
	arts := crashBeforeSecondManifest(t, cfg)
	kafkatest.DeleteRecords(t, &cfg.Kafka, cfg.RecordsTopic, 0, 5)
	objs, s := rebuild(t, cfg, dir)
	if n := archivedTimes(objs)[arts[3].ID]; n != 1 {
		t.Errorf("record 3 archived %d times, want once (its copy dropped by the attempt and the rebuild)", n)
	}
	if n := metric(t, s.reg, "wirefeed_sink_records_total", "result", "duplicate"); n != 1 {
		t.Errorf("rebuild: %v duplicates, want the one the attempt dropped", n)
	}
}

// TestRunRebuildKeepsWhatTheAttemptKept crashes in the same place with the
// window off (as a release before it), and rebuilds with the window on:
// the rebuild keeps the copy the attempt kept.
func TestRunRebuildKeepsWhatTheAttemptKept(t *testing.T) {
	t.Parallel()
	cfg, dir := sinkConfig(t, 1)
	cfg.MaxRecords, cfg.DedupeWindow = 5, -1
	arts := crashBeforeSecondManifest(t, cfg)
	cfg.DedupeWindow = 0 // upgraded: the default window
	objs, _ := rebuild(t, cfg, dir)
	if n := archivedTimes(objs)[arts[3].ID]; n != 2 {
		t.Errorf("record 3 archived %d times, want twice (the attempt kept its copy)", n)
	}
}
