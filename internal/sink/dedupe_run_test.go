package sink_test

import (
	"testing"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// numbered returns n valid records of one source, each from its own raw
// offset, and their messages.
func numbered(t testing.TB, n int) ([]*record.Article, []kafka.Message) {
	var arts []*record.Article
	var msgs []kafka.Message
	for i := range n {
		a := article("alpha", i, day1)
		a.Raw = &record.RawRef{Topic: "raw", Offset: int64(i)}
		arts = append(arts, a)
		msgs = append(msgs, message(t, a))
	}
	return arts, msgs
}

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
	arts, msgs := numbered(t, 13)

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

// TestRunWindowHoldsOnlyArchivedRecords starts a sink past records it never
// archived (a fresh prefix whose group is reset to offset 5): a later copy
// of one of them is archived (it is the only one), while a copy of an
// archived record is dropped, also after a restart, when the window is
// read back from the topic from the state's floor on.
func TestRunWindowHoldsOnlyArchivedRecords(t *testing.T) {
	t.Parallel()
	cfg, dir := sinkConfig(t, 1)
	arts, msgs := numbered(t, 10)
	// 0-9, then 10: a copy of 2 (never archived), 11: a copy of 6.
	produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs...)
	produce(t, &cfg.Kafka, cfg.RecordsTopic, message(t, republished(arts[2], 10)), message(t, republished(arts[6], 11)))
	reset := cfg
	reset.Reset = kafka.ResetConfig{Spec: "offset:5"}
	_, stop := runSink(t, reset, nil)
	objs := waitArchived(t, cfg, dir, 6)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	times := archivedTimes(objs)
	for i, want := range map[int]int{2: 1, 4: 0, 5: 1, 6: 1} {
		if times[arts[i].ID] != want {
			t.Errorf("first run: record %d archived %d times, want %d", i, times[arts[i].ID], want)
		}
	}

	// A restart: 12 copies 3 (never archived), 13 copies 7 (archived).
	produce(t, &cfg.Kafka, cfg.RecordsTopic, message(t, republished(arts[3], 12)), message(t, republished(arts[7], 13)))
	reg, stop := runSink(t, cfg, nil)
	objs = waitArchived(t, cfg, dir, 7)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	times = archivedTimes(objs)
	for i, want := range map[int]int{2: 1, 3: 1, 6: 1, 7: 1} {
		if times[arts[i].ID] != want {
			t.Errorf("after the restart: record %d archived %d times, want %d", i, times[arts[i].ID], want)
		}
	}
	if n := metric(t, reg, "wirefeed_sink_records_total", "result", "duplicate"); n != 1 {
		t.Errorf("after the restart: %v duplicates, want 1 (the copy of 7)", n)
	}

	// The group moved back to offset 0, before where the archive began;
	// 14 copies 1 (never archived). Offsets 0-13 are skipped as archived,
	// and only those from the floor (5) on may fill the window.
	rewindGroup(t, cfg, 0)
	produce(t, &cfg.Kafka, cfg.RecordsTopic, message(t, republished(arts[1], 14)))
	_, stop = runSink(t, cfg, nil)
	objs = waitArchived(t, cfg, dir, 8)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := archivedTimes(objs)[arts[1].ID]; n != 1 {
		t.Errorf("after the rewind: record 1 archived %d times, want once", n)
	}
}
