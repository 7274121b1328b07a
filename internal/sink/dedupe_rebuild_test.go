package sink_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	franz "github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/sink"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// deleteRecords deletes partition 0's messages below offset, as retention
// does.
func deleteRecords(t testing.TB, cfg *kafka.Config, topic string, offset int64) {
	t.Helper()
	cl, err := franz.NewClient(franz.SeedBrokers(cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Partition, rp.Offset = 0, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 10000
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestRunRebuildDropsWhatTheAttemptDropped crashes after the object of a
// batch that dropped a copy, before its manifest; retention then deletes
// the window's records (the copy's original among them) while the sink is
// down. The rebuild drops the copy again, as the pending state says,
// although its window no longer holds the original: the same object, and
// a manifest that agrees with it.
func TestRunRebuildDropsWhatTheAttemptDropped(t *testing.T) {
	t.Parallel()
	cfg, _ := sinkConfig(t, 1)
	cfg.MaxRecords, cfg.DedupeWindow = 5, 10
	var arts []*record.Article
	var msgs []kafka.Message
	for i := range 10 {
		a := article("alpha", i, day1)
		a.Raw = &record.RawRef{Topic: "raw", Offset: int64(i)}
		arts = append(arts, a)
		msgs = append(msgs, message(t, a))
	}
	// 0-7 new, 8 copy of 3, 9-10 new: batches [0,4] and [5,10].
	all := append(append(append([]kafka.Message{}, msgs[:8]...), message(t, republished(arts[3], 8))), msgs[8:]...)
	produce(t, &cfg.Kafka, cfg.RecordsTopic, all...)
	cfg.SetStoreHookForTest(func(point, key string) error {
		if point == "manifest" && strings.Contains(key, "-00000000000000000005-") {
			return errCrash // object of [5, 10] written, manifest not
		}
		return nil
	})
	s := startSink(t, cfg)
	if err := s.wait(t, 30*time.Second); !errors.Is(err, errCrash) {
		t.Fatalf("first run: %v", err)
	}
	// Retention takes offsets 0-4 (archived) while the sink is down.
	deleteRecords(t, &cfg.Kafka, cfg.RecordsTopic, 5)
	cfg.SetStoreHookForTest(nil)
	s = startSink(t, cfg)
	waitFor(t, "rebuilt", func() (bool, string) {
		lag, err := groupLag(&cfg.Kafka, cfg.Group, cfg.RecordsTopic)
		return err == nil && lag == 0, fmt.Sprintf("lag %d (%v)", lag, err)
	})
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	a := readStore(t, cfg.Bucket, cfg.Prefix)
	for _, o := range a.Objects {
		t.Logf("object %s: %d records", o.Key, len(o.Records))
	}
	for _, p := range a.Problems() {
		t.Errorf("archive problem: %v", p)
	}
	if n := archivedIn(a)[arts[3].ID]; n != 1 {
		t.Errorf("record 3 archived %d times, want once (its copy dropped by the attempt and the rebuild)", n)
	}
	if n := metric(t, s.reg, "wirefeed_sink_records_total", "result", "duplicate"); n != 1 {
		t.Errorf("rebuild: %v duplicates, want the one the attempt dropped", n)
	}
}

// archivedIn counts how many times each record ID is in the archive.
func archivedIn(a *sink.Archive) map[string]int {
	n := map[string]int{}
	for _, o := range a.Objects {
		for _, r := range o.Records {
			n[r.ID]++
		}
	}
	return n
}

// TestRunRebuildKeepsWhatTheAttemptKept crashes in the same place with the
// window off (as a release before it), and rebuilds with the window on:
// the rebuild keeps the copy the attempt kept.
func TestRunRebuildKeepsWhatTheAttemptKept(t *testing.T) {
	t.Parallel()
	cfg, _ := sinkConfig(t, 1)
	cfg.MaxRecords, cfg.DedupeWindow = 5, -1 // as the release before this change
	var arts []*record.Article
	var msgs []kafka.Message
	for i := range 10 {
		a := article("alpha", i, day1)
		a.Raw = &record.RawRef{Topic: "raw", Offset: int64(i)}
		arts = append(arts, a)
		msgs = append(msgs, message(t, a))
	}
	// 0-7 new, 8 copy of 3, 9-10 new: batches [0,4] and [5,10].
	all := append(append(append([]kafka.Message{}, msgs[:8]...), message(t, republished(arts[3], 8))), msgs[8:]...)
	produce(t, &cfg.Kafka, cfg.RecordsTopic, all...)
	cfg.SetStoreHookForTest(func(point, key string) error {
		if point == "manifest" && strings.Contains(key, "-00000000000000000005-") {
			return errCrash // object of [5, 10] written, manifest not
		}
		return nil
	})
	s := startSink(t, cfg)
	if err := s.wait(t, 30*time.Second); !errors.Is(err, errCrash) {
		t.Fatalf("first run: %v", err)
	}
	cfg.DedupeWindow = 0 // upgraded: the default window
	cfg.SetStoreHookForTest(nil)
	s = startSink(t, cfg)
	waitFor(t, "rebuilt", func() (bool, string) {
		lag, err := groupLag(&cfg.Kafka, cfg.Group, cfg.RecordsTopic)
		return err == nil && lag == 0, fmt.Sprintf("lag %d (%v)", lag, err)
	})
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	a := readStore(t, cfg.Bucket, cfg.Prefix)
	for _, o := range a.Objects {
		t.Logf("object %s: %d records", o.Key, len(o.Records))
	}
	for _, p := range a.Problems() {
		t.Errorf("archive problem: %v", p)
	}
	if n := archivedIn(a)[arts[3].ID]; n != 2 {
		t.Errorf("record 3 archived %d times, want twice (the attempt kept its copy)", n)
	}
}
