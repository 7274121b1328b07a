package sink_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	kgo "github.com/segmentio/kafka-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"gocloud.dev/blob"

	"github.com/wirefeed/wirefeed/internal/blobtest"
	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
	"github.com/wirefeed/wirefeed/internal/recordtest"
	"github.com/wirefeed/wirefeed/internal/sink"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// fileURL is the bucket URL of a local folder.
func fileURL(dir string) string {
	return "file://" + filepath.ToSlash(dir) + "?create_dir=true"
}

// sinkConfig returns a sink configuration from the flags' defaults, on its
// own topics and group, writing to a fresh local folder, serving no HTTP.
func sinkConfig(t testing.TB, partitions int) (sink.Config, string) {
	t.Helper()
	var c sink.Config
	c.RegisterFlags(flag.NewFlagSet("sink", flag.ContinueOnError))
	c.Kafka = kafkatest.Config(t, partitions)
	c.Telemetry.HTTPAddr = ""
	c.RecordsTopic = kafkatest.Name(t, "records")
	c.DeadLetterTopic = kafkatest.Name(t, "dlq")
	c.Group = kafkatest.Name(t, "sink")
	dir := t.TempDir()
	c.Bucket = fileURL(dir)
	c.MaxAge = 300 * time.Millisecond
	c.LagInterval = 200 * time.Millisecond
	c.Drain = 5 * time.Second
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := kafka.EnsureTopics(context.Background(), &c.Kafka, kafka.TopicSpec{Name: c.RecordsTopic}, kafka.TopicSpec{Name: c.DeadLetterTopic}); err != nil {
		t.Fatal(err)
	}
	return c, dir
}

// runSink starts Run with its own registry; stop cancels it and returns
// Run's error. The test's cleanup stops it too.
func runSink(t testing.TB, cfg sink.Config, log *zap.Logger) (*prometheus.Registry, func() error) {
	t.Helper()
	if log == nil {
		log = zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	}
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sink.Run(ctx, cfg, log, reg) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { stop() })
	return reg, stop
}

var day1 = time.Date(2024, 2, 1, 8, 30, 0, 0, time.FixedZone("CET", 3600))
var day2 = time.Date(2024, 2, 2, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)) // 2024-02-03 in UTC

// article returns a valid record of source, number i, published at pub.
func article(source string, i int, pub time.Time) *record.Article {
	sid := fmt.Sprintf("S%05d", i)
	a := &record.Article{
		SchemaVersion: record.SchemaVersion,
		ID:            record.NewID(source, sid, ""),
		Source:        source,
		SourceID:      sid,
		Format:        "textdump",
		Title:         fmt.Sprintf("Story %d of %s", i, source),
		PublishedAt:   pub,
		Body:          []string{fmt.Sprintf("Paragraph one of story %d.", i), "Paragraph two."},
		IngestedAt:    time.Date(2024, 2, 4, 0, 0, 0, 0, time.UTC),
		NormalizedAt:  time.Date(2024, 2, 4, 0, 0, 1, 0, time.UTC),
	}
	a.ContentHash = record.Hash(a.Title, a.Body, nil)
	return a
}

func message(t testing.TB, a *record.Article) kafka.Message {
	t.Helper()
	b, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return kafka.Message{Key: []byte(a.ID), Value: b, Headers: []kafka.Header{{Key: record.HeaderSource, Value: []byte(a.Source)}}}
}

func produce(t testing.TB, cfg *kafka.Config, topic string, msgs ...kafka.Message) {
	t.Helper()
	w := kafka.NewWriter(cfg, topic, zap.NewNop())
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Write(ctx, nil, msgs...); err != nil {
		t.Fatalf("produce %d messages to %s: %v", len(msgs), topic, err)
	}
}

// object is one archived object, its records decoded and validated.
type object struct {
	key     string
	records []*record.Article
}

// readArchive reads every object of the bucket in dir: gzip, one record a
// line, each validated against the record schema.
func readArchive(t testing.TB, dir string) []object {
	t.Helper()
	var out []object
	for _, obj := range blobtest.ObjectsAt(t, fileURL(dir), "") {
		if !strings.HasSuffix(obj.Key, ".gz") {
			t.Fatalf("%s is not gzip", obj.Key)
		}
		o := object{key: obj.Key}
		for _, l := range obj.Lines {
			recordtest.Validate(t, l)
			a, err := record.Unmarshal(l)
			if err != nil {
				t.Fatalf("%s: %v", obj.Key, err)
			}
			o.records = append(o.records, a)
		}
		out = append(out, o)
	}
	return out
}

func recordCount(objs []object) int {
	n := 0
	for _, o := range objs {
		n += len(o.records)
	}
	return n
}

// checkArchivedOnce checks that the record of each of msgs is archived in
// objs exactly once.
func checkArchivedOnce(t testing.TB, objs []object, msgs []kafka.Message) {
	t.Helper()
	seen := map[string]int{}
	for _, o := range objs {
		for _, a := range o.records {
			seen[a.ID]++
		}
	}
	for _, m := range msgs {
		if seen[string(m.Key)] != 1 {
			t.Errorf("record %s archived %d times, want once", m.Key, seen[string(m.Key)])
		}
	}
}

// waitFor is kafkatest.WaitFor under the name protocol_test.go calls.
func waitFor(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	kafkatest.WaitFor(t, what, cond)
}

// groupLag returns the group's total lag, or an error while the broker
// does not know the group yet.
func groupLag(cfg *kafka.Config, group, topic string) (int64, error) {
	lags, err := kafka.GroupLag(context.Background(), cfg.Client(), group, topic)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, l := range lags {
		n += l.Lag
	}
	return n, nil
}

func waitArchived(t testing.TB, cfg sink.Config, dir string, records int) []object {
	t.Helper()
	var objs []object
	kafkatest.WaitFor(t, fmt.Sprintf("%d records archived and committed", records), func() (bool, string) {
		objs = readArchive(t, dir)
		lag, err := groupLag(&cfg.Kafka, cfg.Group, cfg.RecordsTopic)
		return recordCount(objs) >= records && err == nil && lag == 0,
			fmt.Sprintf("%d records in %d objects, lag %d (%v)", recordCount(objs), len(objs), lag, err)
	})
	return objs
}

// metric returns the sum of the counters or gauges name with the given
// labels (whatever their other labels, such as source), 0 when absent.
func metric(t testing.TB, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if !hasLabel(m, labels[i], labels[i+1]) {
					continue next
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

var keyRe = regexp.MustCompile(`^articles/v1/dt=(\d{4}-\d{2}-\d{2})/source=([a-z0-9._-]+)/(.+)-p(\d{3})-(\d{20})-(\d{20})\.ndjson\.gz$`)

func TestRunArchivesRecords(t *testing.T) {
	t.Parallel()
	cfg, dir := sinkConfig(t, 3)
	var msgs []kafka.Message
	want := map[string]*record.Article{}
	for i := range 24 {
		source, pub := "alpha", day1
		if i%2 == 1 {
			source = "beta.wire"
		}
		if i%3 == 0 {
			pub = day2
		}
		if i == 23 {
			pub = time.Time{} // no publication time: dated by normalized_at
		}
		a := article(source, i, pub)
		want[a.ID] = a
		msgs = append(msgs, message(t, a))
	}
	reg, stop := runSink(t, cfg, nil)
	produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs...)
	objs := waitArchived(t, cfg, dir, len(msgs))
	if err := stop(); err != nil {
		t.Fatalf("Run: got %v, want nil after cancel", err)
	}
	for _, source := range []string{"alpha", "beta.wire"} {
		if got := metric(t, reg, "wirefeed_sink_records_total", "result", "archived", "source", source); got != 12 {
			t.Errorf("wirefeed_sink_records_total{result=archived,source=%s} = %v, want 12", source, got)
		}
	}

	got := map[string]int{}
	for _, o := range objs {
		m := keyRe.FindStringSubmatch(o.key)
		if m == nil {
			t.Errorf("object key %q does not match %s", o.key, keyRe)
			continue
		}
		if m[3] != cfg.RecordsTopic {
			t.Errorf("object %s: topic part %q, want %q", o.key, m[3], cfg.RecordsTopic)
		}
		if len(o.records) == 0 {
			t.Errorf("object %s is empty", o.key)
		}
		for _, a := range o.records {
			got[a.ID]++
			day := a.PublishedAt
			if day.IsZero() {
				day = a.NormalizedAt
			}
			if wantDT := day.UTC().Format(time.DateOnly); m[1] != wantDT || m[2] != a.Source {
				t.Errorf("record %s (source %s, published %s) in %s; want dt=%s source=%s", a.SourceID, a.Source, a.PublishedAt, o.key, wantDT, a.Source)
			}
			if w := want[a.ID]; w == nil || a.Title != w.Title || !slices.Equal(a.Body, w.Body) || !a.PublishedAt.Equal(w.PublishedAt) {
				t.Errorf("record %s archived as %+v, want %+v", a.ID, a, w)
			}
		}
	}
	for id, a := range want {
		if got[id] != 1 {
			t.Errorf("record %s (%s) archived %d times, want once", a.SourceID, a.Source, got[id])
		}
	}
	dts := map[string]bool{}
	for _, o := range objs {
		if m := keyRe.FindStringSubmatch(o.key); m != nil {
			dts[m[1]+" "+m[2]] = true
		}
	}
	for _, d := range []string{"2024-02-01 alpha", "2024-02-01 beta.wire", "2024-02-03 alpha", "2024-02-03 beta.wire", "2024-02-04 beta.wire"} {
		if !dts[d] {
			t.Errorf("no object for dt and source %q; objects: %v", d, dts)
		}
	}
}

func TestRunCutsBatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		records     int
		maxRecords  int
		maxBytes    int
		maxAge      time.Duration
		wantObjects int    // 0: at least one
		wantReason  string // the flush reason of every batch
	}{
		{name: "by max-records, 15 by 5", records: 15, maxRecords: 5, maxAge: time.Hour, wantObjects: 3, wantReason: "records"},
		{name: "by max-records, 12 by 4", records: 12, maxRecords: 4, maxAge: time.Hour, wantObjects: 3, wantReason: "records"},
		{name: "by max-records, 1 by 1", records: 3, maxRecords: 1, maxAge: time.Hour, wantObjects: 3, wantReason: "records"},
		{name: "by age, a quiet partition", records: 1, maxRecords: 5000, maxAge: 300 * time.Millisecond, wantObjects: 1, wantReason: "age"},
		{name: "by bytes", records: 8, maxRecords: 5000, maxBytes: 1024, maxAge: time.Hour, wantReason: "bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, dir := sinkConfig(t, 1)
			cfg.MaxRecords, cfg.MaxAge = tt.maxRecords, tt.maxAge
			if tt.maxBytes > 0 {
				cfg.MaxBytes = tt.maxBytes
			}
			var msgs []kafka.Message
			for i := range tt.records {
				msgs = append(msgs, message(t, article("alpha", i, day1)))
			}
			if tt.wantReason == "bytes" {
				// Whole batches only: the byte bound is reached exactly at
				// the last record.
				per := (tt.maxBytes + len(msgs[0].Value)) / (len(msgs[0].Value) + 1)
				msgs = msgs[:len(msgs)/per*per]
				if len(msgs) == 0 {
					t.Fatalf("records of %d bytes do not fill a %d-byte batch", len(msgs[0].Value), tt.maxBytes)
				}
			}
			reg, stop := runSink(t, cfg, nil)
			produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs...)
			objs := waitArchived(t, cfg, dir, len(msgs))
			if err := stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if tt.wantObjects > 0 && len(objs) != tt.wantObjects {
				t.Errorf("%d records, max-records %d, max-age %s: got %d objects, want %d", len(msgs), tt.maxRecords, tt.maxAge, len(objs), tt.wantObjects)
			}
			if got := recordCount(objs); got != len(msgs) {
				t.Errorf("archive holds %d records, want %d", got, len(msgs))
			}
			for _, o := range objs {
				if len(o.records) > tt.maxRecords {
					t.Errorf("object %s holds %d records, more than max-records %d", o.key, len(o.records), tt.maxRecords)
				}
			}
			flushes := metric(t, reg, "wirefeed_sink_flushes_total", "reason", tt.wantReason)
			if int(flushes) != len(objs) {
				t.Errorf("flushes by %s: got %v, want %d (one per object)", tt.wantReason, flushes, len(objs))
			}
			if got := metric(t, reg, "wirefeed_sink_records_total", "result", "archived"); int(got) != len(msgs) {
				t.Errorf("records archived metric: got %v, want %d", got, len(msgs))
			}
			if got := metric(t, reg, "wirefeed_sink_objects_total", "result", "written"); int(got) != len(objs) {
				t.Errorf("objects written metric: got %v, want %d", got, len(objs))
			}
		})
	}
}

// TestRunFlushesOnShutdown stops the sink while a batch is buffered, far
// from its bounds: the batch is written and committed before Run returns.
func TestRunFlushesOnShutdown(t *testing.T) {
	t.Parallel()
	cfg, dir := sinkConfig(t, 1)
	cfg.MaxAge = time.Hour
	var msgs []kafka.Message
	var size int
	for i := range 3 {
		msgs = append(msgs, message(t, article("alpha", i, day1)))
		size += len(msgs[i].Value) + 1
	}
	reg, stop := runSink(t, cfg, nil)
	produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs...)
	kafkatest.WaitFor(t, "the records to be buffered", func() (bool, string) {
		got := metric(t, reg, "wirefeed_sink_buffered_bytes")
		return int(got) == size, fmt.Sprintf("buffered %v bytes, want %d", got, size)
	})
	if objs := readArchive(t, dir); len(objs) != 0 {
		t.Fatalf("archive before shutdown: %d objects, want none (max-age 1h)", len(objs))
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if objs := readArchive(t, dir); recordCount(objs) != 3 {
		t.Errorf("archive after shutdown: %d records, want 3", recordCount(objs))
	}
	if lag, err := groupLag(&cfg.Kafka, cfg.Group, cfg.RecordsTopic); err != nil || lag != 0 {
		t.Errorf("lag after shutdown: %d (%v), want 0", lag, err)
	}
	if got := metric(t, reg, "wirefeed_sink_flushes_total", "reason", "shutdown"); got != 1 {
		t.Errorf("flushes on shutdown: got %v, want 1", got)
	}
}

func TestRunDeadLettersBadRecords(t *testing.T) {
	t.Parallel()
	cfg, dir := sinkConfig(t, 1)
	good := []*record.Article{article("alpha", 1, day1), article("alpha", 2, day1), article("alpha", 3, day1)}
	noID := article("alpha", 4, day1)
	noID.ID = ""
	noIDJSON, _ := noID.Marshal()
	bad := []kafka.Message{
		{Key: []byte("bad-1"), Value: []byte("not json at all"), Headers: []kafka.Header{{Key: "x-orig", Value: []byte("1")}}},
		{Key: []byte("bad-2"), Value: []byte(`{"schema_version":2,"id":"x"}`)},
		{Key: []byte("bad-3"), Value: noIDJSON},
	}
	msgs := []kafka.Message{bad[0], message(t, good[0]), bad[1], message(t, good[1]), bad[2], message(t, good[2])}
	reg, stop := runSink(t, cfg, nil)
	produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs...)
	objs := waitArchived(t, cfg, dir, len(good))
	kafkatest.WaitFor(t, "the dead letters", func() (bool, string) {
		n := metric(t, reg, "wirefeed_sink_records_total", "result", "dead_letter")
		return int(n) == len(bad), fmt.Sprintf("%v dead letters", n)
	})
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	var ids []string
	for _, o := range objs {
		for _, a := range o.records {
			ids = append(ids, a.ID)
		}
	}
	if want := []string{good[0].ID, good[1].ID, good[2].ID}; !slices.Equal(ids, want) {
		t.Errorf("archived IDs: got %v, want %v", ids, want)
	}

	dead := kafkatest.ReadTopic(t, &cfg.Kafka, cfg.DeadLetterTopic)
	if len(dead) != len(bad) {
		t.Fatalf("dead-letter topic holds %d messages, want %d", len(dead), len(bad))
	}
	for i, m := range dead {
		hs := map[string]string{}
		for _, h := range m.Headers {
			hs[h.Key] = string(h.Value)
		}
		if string(m.Key) != string(bad[i].Key) || string(m.Value) != string(bad[i].Value) {
			t.Errorf("dead letter %d: key %q value %q, want %q %q", i, m.Key, m.Value, bad[i].Key, bad[i].Value)
		}
		if hs[record.HeaderDLQReason] != "bad_record" || hs[record.HeaderDLQStage] != "sink" || hs[record.HeaderDLQTopic] != cfg.RecordsTopic || hs[record.HeaderDLQError] == "" {
			t.Errorf("dead letter %d (%q): headers %v, want reason bad_record, stage sink, topic %s and an error", i, m.Key, hs, cfg.RecordsTopic)
		}
		if i == 0 && hs["x-orig"] != "1" {
			t.Errorf("dead letter %d lost its original header: %v", i, hs)
		}
	}
	if got := metric(t, reg, "wirefeed_sink_records_total", "result", "archived"); got != 3 {
		t.Errorf("records archived metric: got %v, want 3", got)
	}
}

// blockArchive makes every object write fail: a regular file stands where
// the prefix's folder must be created. (Permissions would not stop root.)
func blockArchive(t testing.TB, dir string) (unblock func()) {
	t.Helper()
	p := filepath.Join(dir, "articles")
	if err := os.WriteFile(p, []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRunCommitsOnlyAfterWrite(t *testing.T) {
	t.Parallel()
	t.Run("a failing write is retried, not committed, until it succeeds", func(t *testing.T) {
		t.Parallel()
		cfg, dir := sinkConfig(t, 1)
		unblock := blockArchive(t, dir)
		msgs := []kafka.Message{message(t, article("alpha", 1, day1)), message(t, article("alpha", 2, day1))}
		reg, stop := runSink(t, cfg, nil)
		produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs...)
		kafkatest.WaitFor(t, "write retries", func() (bool, string) {
			n := metric(t, reg, "wirefeed_sink_upload_retries_total")
			return n >= 2, fmt.Sprintf("%v retries", n)
		})
		if lag, err := groupLag(&cfg.Kafka, cfg.Group, cfg.RecordsTopic); err != nil || lag != 2 {
			t.Errorf("lag while the write fails: got %d (%v), want 2 (nothing committed)", lag, err)
		}
		if n := metric(t, reg, "wirefeed_sink_objects_total", "result", "written"); n != 0 {
			t.Errorf("objects written while blocked: %v, want 0", n)
		}
		unblock()
		objs := waitArchived(t, cfg, dir, 2)
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if recordCount(objs) != 2 || len(objs) != 1 {
			t.Errorf("archive after the fix: %d records in %d objects, want 2 in 1", recordCount(objs), len(objs))
		}
	})

	t.Run("stopped while the write fails, a restart archives everything", func(t *testing.T) {
		t.Parallel()
		cfg, dir := sinkConfig(t, 1)
		cfg.Drain = 300 * time.Millisecond
		unblock := blockArchive(t, dir)
		msgs := []kafka.Message{message(t, article("alpha", 1, day1)), message(t, article("alpha", 2, day1)), message(t, article("alpha", 3, day1))}
		reg, stop := runSink(t, cfg, nil)
		produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs...)
		kafkatest.WaitFor(t, "a write retry", func() (bool, string) {
			n := metric(t, reg, "wirefeed_sink_upload_retries_total")
			return n >= 1, fmt.Sprintf("%v retries", n)
		})
		if err := stop(); err == nil {
			t.Errorf("Run stopped during a failing write: got nil, want the write error")
		}
		if lag, err := groupLag(&cfg.Kafka, cfg.Group, cfg.RecordsTopic); err != nil || lag != 3 {
			t.Errorf("lag after stopping: got %d (%v), want 3 (nothing committed)", lag, err)
		}
		unblock()
		_, stop2 := runSink(t, cfg, nil)
		objs := waitArchived(t, cfg, dir, 3)
		if err := stop2(); err != nil {
			t.Fatalf("second Run: %v", err)
		}
		if got := recordCount(objs); got != 3 {
			t.Errorf("archive after the restart: %d records, want 3", got)
		}
	})
}

// TestRunRestartWritesSameBatchOnce archives two batches, rewinds the
// group's offsets to the start (as if the sink died after writing and
// before committing), and runs a new sink: it cuts the same batches, finds
// their objects written already, and the archive holds each record once.
func TestRunRestartWritesSameBatchOnce(t *testing.T) {
	t.Parallel()
	cfg, dir := sinkConfig(t, 1)
	cfg.MaxRecords, cfg.MaxAge = 4, time.Hour
	var msgs []kafka.Message
	for i := range 8 {
		msgs = append(msgs, message(t, article("alpha", i, day1)))
	}
	produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs...)

	reg1, stop1 := runSink(t, cfg, nil)
	first := waitArchived(t, cfg, dir, 8)
	if err := stop1(); err != nil {
		t.Fatalf("first Run: %v", err)
	}
	if len(first) != 2 || metric(t, reg1, "wirefeed_sink_objects_total", "result", "written") != 2 {
		t.Fatalf("first run: %d objects, want 2 written", len(first))
	}

	rewindGroup(t, cfg, 0)
	if lag, err := groupLag(&cfg.Kafka, cfg.Group, cfg.RecordsTopic); err != nil || lag != 8 {
		t.Fatalf("lag after the rewind: %d (%v), want 8", lag, err)
	}

	reg2, stop2 := runSink(t, cfg, nil)
	kafkatest.WaitFor(t, "the second run to catch up", func() (bool, string) {
		lag, err := groupLag(&cfg.Kafka, cfg.Group, cfg.RecordsTopic)
		skipped := metric(t, reg2, "wirefeed_sink_records_total", "result", "already_archived")
		return err == nil && lag == 0 && skipped == 8, fmt.Sprintf("lag %d (%v), records already archived %v", lag, err, skipped)
	})
	if err := stop2(); err != nil {
		t.Fatalf("second Run: %v", err)
	}
	if n := metric(t, reg2, "wirefeed_sink_objects_total", "result", "written"); n != 0 {
		t.Errorf("second run wrote %v objects, want 0", n)
	}
	second := readArchive(t, dir)
	checkArchivedOnce(t, second, msgs)
	if len(second) != len(first) {
		t.Errorf("objects after the restart: %d, want %d", len(second), len(first))
	}
}

// rewindGroup commits offset for partition 0 of the sink's group, which
// must have no member (a simple commit is then accepted).
func rewindGroup(t testing.TB, cfg sink.Config, offset int64) {
	t.Helper()
	res, err := cfg.Kafka.Client().OffsetCommit(context.Background(), &kgo.OffsetCommitRequest{
		GroupID: cfg.Group, GenerationID: -1,
		Topics: map[string][]kgo.OffsetCommit{cfg.RecordsTopic: {{Partition: 0, Offset: offset}}},
	})
	if err != nil {
		t.Fatalf("rewind offsets: %v", err)
	}
	for _, ps := range res.Topics {
		for _, p := range ps {
			if p.Error != nil {
				t.Fatalf("rewind offsets: %v", p.Error)
			}
		}
	}
}

var errKilled = errors.New("killed after the object write")

// TestRunRestartFindsObjectWritten kills the sink after it wrote a batch's
// object and before it recorded the batch as done or committed it. The next
// sink writes the same batch under the same key, finds it there (written
// only if absent), counts it as exists, and moves on: one copy of each
// record.
func TestRunRestartFindsObjectWritten(t *testing.T) {
	t.Parallel()
	cfg, dir := sinkConfig(t, 1)
	cfg.MaxRecords, cfg.MaxAge = 5, time.Hour
	var msgs []kafka.Message
	for i := range 5 {
		msgs = append(msgs, message(t, article("alpha", i, day1)))
	}
	produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs...)

	killing := cfg
	objects := 0
	killing.SetStoreHookForTest(func(point, key string) error {
		if point == "object" {
			objects++
			return nil
		}
		if objects > 0 {
			return errKilled // the object is written; nothing after it
		}
		return nil
	})
	reg1, stop1 := runSink(t, killing, nil)
	kafkatest.WaitFor(t, "the kill after the object write", func() (bool, string) {
		n := metric(t, reg1, "wirefeed_sink_objects_total", "result", "written")
		return n == 1, fmt.Sprintf("%v objects written", n)
	})
	if err := stop1(); !errors.Is(err, errKilled) {
		t.Fatalf("first Run: got %v, want %v", err, errKilled)
	}
	if lag, err := groupLag(&cfg.Kafka, cfg.Group, cfg.RecordsTopic); err != nil || lag != 5 {
		t.Fatalf("lag after the kill: %d (%v), want 5 (nothing committed)", lag, err)
	}

	reg2, stop2 := runSink(t, cfg, nil)
	objs := waitArchived(t, cfg, dir, 5)
	if err := stop2(); err != nil {
		t.Fatalf("second Run: %v", err)
	}
	exists := metric(t, reg2, "wirefeed_sink_objects_total", "result", "exists")
	written := metric(t, reg2, "wirefeed_sink_objects_total", "result", "written")
	if exists != 1 || written != 0 {
		t.Errorf("second run: objects exists %v, written %v; want 1 and 0", exists, written)
	}
	checkArchivedOnce(t, objs, msgs)
}

// TestRunDefaultBucketWithTempDirElsewhere runs the sink with the default
// --bucket (a folder under the working directory) while the system's
// temporary folder is on another filesystem, as on machines whose /tmp is
// a tmpfs. Records must still be archived.
func TestRunDefaultBucketWithTempDirElsewhere(t *testing.T) {
	other, err := os.MkdirTemp("/dev/shm", "wirefeed-tmp")
	if err != nil {
		t.Logf("no /dev/shm (%v): the temporary folder stays on the same filesystem", err)
		other = t.TempDir()
	} else {
		t.Cleanup(func() { os.RemoveAll(other) })
	}
	cfg, _ := sinkConfig(t, 1)
	var defaults sink.Config
	defaults.RegisterFlags(flag.NewFlagSet("sink", flag.ContinueOnError))
	cfg.Bucket = defaults.Bucket
	cfg.Drain = 200 * time.Millisecond // a failing write is not waited for on stop
	work := t.TempDir()
	t.Chdir(work)
	t.Setenv("TMPDIR", other)

	core, logs := observerCore()
	reg, stop := runSink(t, cfg, zap.New(core))
	produce(t, &cfg.Kafka, cfg.RecordsTopic, message(t, article("alpha", 1, day1)))
	dir := filepath.Join(work, "data", "archive")
	kafkatest.WaitFor(t, "the record archived, or a failed write", func() (bool, string) {
		retries := metric(t, reg, "wirefeed_sink_upload_retries_total")
		written := metric(t, reg, "wirefeed_sink_objects_total", "result", "written")
		return retries > 0 || written > 0, fmt.Sprintf("retries %v, written %v", retries, written)
	})
	retries := metric(t, reg, "wirefeed_sink_upload_retries_total")
	stop()
	if retries > 0 {
		t.Errorf("default bucket %q with TMPDIR on another filesystem: object write fails and is retried forever: %s", cfg.Bucket, logs.last())
	} else if n := recordCount(readArchive(t, dir)); n != 1 {
		t.Errorf("archive holds %d records, want 1", n)
	}
}

// logRecorder keeps the warnings a sink logs.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.msgs) == 0 {
		return "(nothing logged)"
	}
	return l.msgs[len(l.msgs)-1]
}

func observerCore() (zapcore.Core, *logRecorder) {
	rec := &logRecorder{}
	enc := zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
	core := zapcore.NewCore(enc, zapcore.AddSync(writerFunc(func(p []byte) (int, error) {
		rec.mu.Lock()
		rec.msgs = append(rec.msgs, strings.TrimSpace(string(p)))
		rec.mu.Unlock()
		return len(p), nil
	})), zap.WarnLevel)
	return core, rec
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestRunBadBucket(t *testing.T) {
	t.Parallel()
	cfg, dir := sinkConfig(t, 1)
	f := filepath.Join(dir, "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Bucket = "file://" + filepath.ToSlash(f) + "/archive?create_dir=true"
	err := sink.Run(context.Background(), cfg, zap.NewNop(), prometheus.NewRegistry())
	if err == nil || !strings.Contains(err.Error(), "open bucket") || errors.Is(err, context.Canceled) {
		t.Errorf("Run with bucket %q under a regular file: got %v, want an open bucket error", cfg.Bucket, err)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(*sink.Config)
		wantErr string
	}{
		{name: "defaults", change: func(*sink.Config) {}},
		{name: "no group", change: func(c *sink.Config) { c.Group = "" }, wantErr: "--group"},
		{name: "bucket not a URL", change: func(c *sink.Config) { c.Bucket = "./data" }, wantErr: "--bucket"},
		{name: "prefix with slash", change: func(c *sink.Config) { c.Prefix = "articles/v1/" }, wantErr: "--prefix"},
		{name: "empty prefix", change: func(c *sink.Config) { c.Prefix = "" }, wantErr: "--prefix"},
		{name: "zero max-records", change: func(c *sink.Config) { c.MaxRecords = 0 }, wantErr: "--batch.max-records"},
		{name: "small max-bytes", change: func(c *sink.Config) { c.MaxBytes = 1023 }, wantErr: "--batch.max-bytes"},
		{name: "zero max-age", change: func(c *sink.Config) { c.MaxAge = 0 }, wantErr: "--batch.max-age"},
		{name: "bad compression", change: func(c *sink.Config) { c.Compression = "brotli" }, wantErr: "--compression"},
		{name: "no compression", change: func(c *sink.Config) { c.Compression = "none" }},
		{name: "zero drain", change: func(c *sink.Config) { c.Drain = 0 }, wantErr: "--shutdown.drain"},
		{name: "bad kafka", change: func(c *sink.Config) { c.Kafka.SessionTimeout = time.Second }, wantErr: "--kafka.session-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c sink.Config
			c.RegisterFlags(flag.NewFlagSet("sink", flag.ContinueOnError))
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate: got %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate: got %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}

// TestRunObjectsOfManyChunks archives batches whose objects are many
// compressed chunks long, in every compression, and reads them back whole
// and in offset order, with no problem in the archive; a second sink
// archiving the same records into another prefix writes the very same
// bytes.
func TestRunObjectsOfManyChunks(t *testing.T) {
	t.Parallel()
	for _, comp := range []string{"gzip", "zstd", "none"} {
		t.Run(comp, func(t *testing.T) {
			t.Parallel()
			cfg, dir := sinkConfig(t, 1)
			cfg.Compression = comp
			// One batch, cut by count: the same cut for both sinks.
			cfg.MaxRecords, cfg.MaxAge = 400, time.Minute
			var msgs []kafka.Message
			for i := range 400 {
				a := article("alpha", i, day1)
				a.Body = append(a.Body, strings.Repeat(fmt.Sprintf("Paragraph of story %d, long. ", i), 100))
				a.ContentHash = record.Hash(a.Title, a.Body, nil)
				msgs = append(msgs, message(t, a))
			}
			produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs...)
			ctx := context.Background()
			b, err := blob.OpenBucket(ctx, fileURL(dir))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			bodies := map[string]map[string][]byte{}
			for _, prefix := range []string{"first", "second"} {
				c := cfg
				c.Prefix = prefix
				c.Group = kafkatest.Name(t, "sink-"+prefix)
				_, stop := runSink(t, c, nil)
				var a *sink.Archive
				waitFor(t, "every record archived under "+prefix, func() (bool, string) {
					var err error
					if a, err = sink.ReadArchive(ctx, b, prefix); err != nil {
						return false, err.Error()
					}
					n := 0
					for _, o := range a.Objects {
						n += len(o.Records)
					}
					return n == len(msgs) && len(a.Problems()) == 0, fmt.Sprintf("%d of %d records, problems %v", n, len(msgs), a.Problems())
				})
				if err := stop(); err != nil {
					t.Fatal(err)
				}
				bodies[prefix] = map[string][]byte{}
				var ids []string
				for _, o := range a.Objects {
					body, err := b.ReadAll(ctx, o.Key)
					if err != nil {
						t.Fatal(err)
					}
					bodies[prefix][strings.TrimPrefix(o.Key, prefix)] = body
					for _, r := range o.Records {
						ids = append(ids, r.ID)
					}
				}
				for i, m := range msgs {
					if i >= len(ids) || ids[i] != string(m.Key) {
						t.Fatalf("%s: archived record %d is not the %d-th produced: records out of order or missing", prefix, i, i)
					}
				}
			}
			if len(bodies["first"]) == 0 || len(bodies["first"]) != len(bodies["second"]) {
				t.Fatalf("objects: %d and %d", len(bodies["first"]), len(bodies["second"]))
			}
			for k, body := range bodies["first"] {
				if !bytes.Equal(body, bodies["second"][k]) {
					t.Errorf("object %s differs between two sinks archiving the same records", k)
				}
			}
		})
	}
}
