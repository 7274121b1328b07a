package sink_test

import (
	"testing"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// archivedTimes counts how many times each record ID is in objs.
func archivedTimes(objs []object) map[string]int {
	n := map[string]int{}
	for _, o := range objs {
		for _, a := range o.records {
			n[a.ID]++
		}
	}
	return n
}

// TestRunDropsDuplicatesAcrossRestart publishes records again, as a stage
// killed before its commit does: within --dedupe.window messages they are
// not archived again, also when the copy comes after a restart (the window
// is filled from the topic); further back, and with the window off, they
// are.
func TestRunDropsDuplicatesAcrossRestart(t *testing.T) {
	t.Parallel()
	cfg, dir := sinkConfig(t, 1)
	cfg.DedupeWindow = 5
	var arts []*record.Article
	var msgs []kafka.Message
	for i := range 13 {
		a := article("alpha", i, day1)
		a.Raw = &record.RawRef{Topic: "raw", Offset: int64(i)}
		arts = append(arts, a)
		msgs = append(msgs, message(t, a))
	}

	// Offsets 0-4, then 5: a copy of offset 3.
	produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs[:5]...)
	produce(t, &cfg.Kafka, cfg.RecordsTopic, message(t, republished(arts[3], 5)))
	reg, stop := runSink(t, cfg, nil)
	waitArchived(t, cfg, dir, 5)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := metric(t, reg, "wirefeed_sink_records_total", "result", "duplicate"); n != 1 {
		t.Errorf("first run: %v duplicates, want 1", n)
	}

	// After a restart: offset 6 copies offset 4 (2 before it: the window
	// comes from the topic), 7 is new, 8 copies offset 2 (6 before: out of
	// the window, archived again).
	produce(t, &cfg.Kafka, cfg.RecordsTopic, message(t, republished(arts[4], 6)), msgs[5], message(t, republished(arts[2], 8)))
	reg, stop = runSink(t, cfg, nil)
	objs := waitArchived(t, cfg, dir, 7)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := metric(t, reg, "wirefeed_sink_records_total", "result", "duplicate"); n != 1 {
		t.Errorf("second run: %v duplicates, want 1", n)
	}
	if n := metric(t, reg, "wirefeed_sink_records_total", "result", "archived"); n != 2 {
		t.Errorf("second run: %v archived, want 2", n)
	}
	times := archivedTimes(objs)
	for i, a := range arts[:6] {
		want := 1
		if i == 2 {
			want = 2
		}
		if times[a.ID] != want {
			t.Errorf("record %d archived %d times, want %d", i, times[a.ID], want)
		}
	}
	for _, o := range objs {
		for _, a := range o.records {
			if a.ID == arts[3].ID && (a.Raw == nil || a.Raw.Offset != 3) {
				t.Errorf("record 3 archived from raw %+v, want the first copy's", a.Raw)
			}
		}
	}

	// Off: a copy right after its record is archived again.
	cfg.DedupeWindow = -1
	produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs[6], message(t, republished(arts[6], 10)))
	reg, stop = runSink(t, cfg, nil)
	objs = waitArchived(t, cfg, dir, 9)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := metric(t, reg, "wirefeed_sink_records_total", "result", "duplicate"); n != 0 {
		t.Errorf("window off: %v duplicates, want 0", n)
	}
	if n := archivedTimes(objs)[arts[6].ID]; n != 2 {
		t.Errorf("window off: record 6 archived %d times, want 2", n)
	}
}
