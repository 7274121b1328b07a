package sink_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"gocloud.dev/blob"

	"github.com/wirefeed/wirefeed/internal/blobtest"
	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/sink"
	"github.com/wirefeed/wirefeed/pkg/record"
)

var errCrash = errors.New("simulated crash")

// started is a sink started by startSink.
type started struct {
	reg    *prometheus.Registry
	exited chan struct{} // closed when Run has returned, with err
	err    error
	cancel context.CancelFunc
}

// startSink starts Run; stop ends it.
func startSink(t testing.TB, cfg sink.Config) *started {
	t.Helper()
	s := &started{reg: prometheus.NewRegistry(), exited: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		s.err = sink.Run(ctx, cfg, zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel)), s.reg)
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop() })
	return s
}

// stop cancels Run and returns its error.
func (s *started) stop() error {
	s.cancel()
	<-s.exited
	return s.err
}

// wait waits for Run to return by itself.
func (s *started) wait(t testing.TB, d time.Duration) error {
	t.Helper()
	select {
	case <-s.exited:
		return s.err
	case <-time.After(d):
		t.Fatalf("Run still running after %s", d)
		return nil
	}
}

// readStore reads what the sink wrote under prefix.
func readStore(t testing.TB, bucketURL, prefix string) *sink.Archive {
	t.Helper()
	ctx := context.Background()
	b, err := blob.OpenBucket(ctx, bucketURL)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, err := sink.ReadArchive(ctx, b, prefix)
	if err != nil {
		t.Fatalf("read archive: %v", err)
	}
	return a
}

// mixed returns n valid records of three sources over two dates, every
// 50th message a record that is not valid (dead-lettered), and after every
// tenth record a duplicate of the one four before it, as a normalize or an
// ingest killed before its commit publishes one: the same record but for
// normalized_at, ingested_at and raw. want holds the first of each.
func mixed(t testing.TB, n int) (msgs []kafka.Message, want map[string]*record.Article) {
	want = map[string]*record.Article{}
	sources := []string{"alpha", "beta.wire", "gamma"}
	var arts []*record.Article
	for i := range n {
		if i%50 == 49 {
			msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprint("bad-", i)), Value: []byte(`{"schema_version":1}`)})
			continue
		}
		pub := day1
		if i%3 == 0 {
			pub = day2
		}
		a := article(sources[i%len(sources)], i, pub)
		a.Raw = &record.RawRef{Topic: "raw", Partition: i % 4, Offset: int64(i)}
		want[a.ID] = a
		arts = append(arts, a)
		msgs = append(msgs, message(t, a))
		if i%10 == 7 {
			msgs = append(msgs, message(t, republished(arts[len(arts)-5], i)))
		}
	}
	return msgs, want
}

// republished is a published again: normalized (and ingested) anew, from
// another raw message.
func republished(a *record.Article, n int) *record.Article {
	c := *a
	c.NormalizedAt = c.NormalizedAt.Add(time.Hour)
	c.IngestedAt = c.IngestedAt.Add(time.Minute)
	c.Raw = &record.RawRef{Topic: "raw", Partition: 9, Offset: int64(100000 + n)}
	return &c
}

// checkOnce checks that the archive holds each wanted record exactly once,
// intact, and nothing else, that its manifests and states are consistent,
// and that every partition's state is past the end of the topic.
func checkOnce(t testing.TB, a *sink.Archive, want map[string]*record.Article, cfg sink.Config) {
	t.Helper()
	seen := map[string]int{}
	for _, o := range a.Objects {
		for _, r := range o.Records {
			seen[r.ID]++
			w := want[r.ID]
			if w == nil {
				t.Errorf("%s holds record %s, which was not produced", o.Key, r.ID)
				continue
			}
			if r.Title != w.Title || r.Raw == nil || *r.Raw != *w.Raw || !r.PublishedAt.Equal(w.PublishedAt) || strings.Join(r.Body, "|") != strings.Join(w.Body, "|") {
				t.Errorf("%s: record %s archived as %+v, want %+v", o.Key, r.ID, r, w)
			}
		}
	}
	lost, dups := 0, 0
	for id := range want {
		switch n := seen[id]; {
		case n == 0:
			lost++
		case n > 1:
			dups += n - 1
		}
	}
	if lost > 0 || dups > 0 {
		t.Errorf("archive: %d of %d records lost, %d duplicates", lost, len(want), dups)
	}
	for _, p := range a.Problems() {
		t.Error(p)
	}
	offs, err := kafka.TopicOffsets(context.Background(), cfg.Kafka.Client(), cfg.RecordsTopic)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range offs {
		key := fmt.Sprintf("%s/_state/%s/p%03d.json", cfg.Prefix, cfg.RecordsTopic, o.Partition)
		st := a.States[key]
		if o.HighWatermark > 0 && (st == nil || st.NextOffset != o.HighWatermark) {
			t.Errorf("state %s: %+v, want next_offset %d (the high watermark)", key, st, o.HighWatermark)
		}
	}
}

// TestCrashAnywhereArchivesOnce stops the sink dead at random points of its
// flush protocol, again and again, while batches are cut by age (so a
// restarted sink would cut them differently), leaving behind what a killed
// write leaves (a temporary file); then runs it to the end. Every record
// must be archived exactly once, with nothing left over.
func TestCrashAnywhereArchivesOnce(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ format, compression string }{
		{sink.FormatNDJSON, "gzip"},
		{sink.FormatParquet, "zstd"},
	} {
		t.Run(tt.format+"-"+tt.compression, func(t *testing.T) {
			t.Parallel()
			cfg, dir := sinkConfig(t, 3)
			cfg.Bucket = fileURL(dir) + "&no_tmp_dir=true" // temporary files next to their keys, where a kill leaves them
			cfg.Format, cfg.Compression = tt.format, tt.compression
			cfg.MaxRecords, cfg.MaxAge = 40, 20*time.Millisecond
			msgs, want := mixed(t, 1600)
			produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs...)

			seed := time.Now().UnixNano()
			rng := rand.New(rand.NewPCG(uint64(seed), 1))
			t.Logf("seed %d", seed)
			points := map[string]int{}
			for crash := 0; crash < 12; crash++ {
				at := 1 + rng.IntN(15)
				calls := 0
				var crashedAt string
				cfg.SetStoreHookForTest(func(point, key string) error {
					if calls++; calls < at {
						return nil
					}
					crashedAt = point
					if key != "" && rng.IntN(2) == 0 {
						// A write killed half-way: fileblob's temporary file.
						tmp := filepath.Join(dir, filepath.FromSlash(key)) + fmt.Sprintf(".%x.tmp", rng.Int64())
						os.MkdirAll(filepath.Dir(tmp), 0o755)
						os.WriteFile(tmp, []byte("half an object"), 0o644)
					}
					return errCrash
				})
				s := startSink(t, cfg)
				var err error
				waitFor(t, "a crash, or everything archived", func() (bool, string) {
					select {
					case <-s.exited:
						err = s.err
						return true, ""
					default:
					}
					lag, lerr := groupLag(&cfg.Kafka, cfg.Group, cfg.RecordsTopic)
					return lerr == nil && lag == 0, fmt.Sprintf("lag %d (%v)", lag, lerr)
				})
				if err == nil {
					s.stop() // all archived before hook call `at`
					t.Logf("run %d: everything archived before the crash point", crash)
					break
				}
				if !errors.Is(err, errCrash) {
					t.Fatalf("run %d: Run returned %v, want the simulated crash", crash, err)
				}
				points[crashedAt]++
			}
			t.Logf("crashes by point: %v", points)

			cfg.SetStoreHookForTest(nil)
			cfg.MaxRecords, cfg.MaxAge = 500, 300*time.Millisecond // the end, in larger batches
			s := startSink(t, cfg)
			waitFor(t, "the rest archived and committed", func() (bool, string) {
				lag, err := groupLag(&cfg.Kafka, cfg.Group, cfg.RecordsTopic)
				return err == nil && lag == 0, fmt.Sprintf("lag %d (%v)", lag, err)
			})
			if err := s.stop(); err != nil {
				t.Fatalf("final Run: %v", err)
			}
			checkOnce(t, readStore(t, cfg.Bucket, cfg.Prefix), want, cfg)
		})
	}
}

// TestPendingBatchRebuiltExactly crashes after the first object of a batch
// cut by age, and restarts with limits that would cut it elsewhere: the
// restarted sink writes the pending batch again, whole and under the same
// keys, before it cuts new batches.
func TestPendingBatchRebuiltExactly(t *testing.T) {
	t.Parallel()
	cfg, _ := sinkConfig(t, 1)
	cfg.MaxRecords, cfg.MaxAge = 1000, 200*time.Millisecond
	var msgs []kafka.Message
	want := map[string]*record.Article{}
	for i := range 12 {
		a := article([]string{"alpha", "beta.wire"}[i%2], i, day1)
		a.Raw = &record.RawRef{Topic: "raw", Offset: int64(i)}
		want[a.ID] = a
		msgs = append(msgs, message(t, a))
	}
	produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs...)
	objects := 0
	cfg.SetStoreHookForTest(func(point, key string) error {
		if point == "object" {
			if objects++; objects == 2 {
				return errCrash // after the first of the batch's two objects
			}
		}
		return nil
	})
	s := startSink(t, cfg)
	if err := s.wait(t, 30*time.Second); !errors.Is(err, errCrash) {
		t.Fatalf("first run: %v, want the crash", err)
	}
	first := readStore(t, cfg.Bucket, cfg.Prefix)
	var st *sink.State
	for _, v := range first.States {
		st = v
	}
	if len(first.Objects) != 1 || st == nil || st.Pending == nil || st.Pending.First != 0 || st.Pending.Last != 11 || len(st.Pending.Keys) != 3 {
		t.Fatalf("after the crash: %d objects, state %+v; want 1 object and a pending batch [0, 11] of 2 objects and a manifest", len(first.Objects), st)
	}

	cfg.SetStoreHookForTest(nil)
	cfg.MaxRecords = 5 // would cut [0, 4] now
	s = startSink(t, cfg)
	waitFor(t, "the batch written again", func() (bool, string) {
		lag, err := groupLag(&cfg.Kafka, cfg.Group, cfg.RecordsTopic)
		return err == nil && lag == 0, fmt.Sprintf("lag %d (%v)", lag, err)
	})
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	a := readStore(t, cfg.Bucket, cfg.Prefix)
	checkOnce(t, a, want, cfg)
	if len(a.Objects) != 2 {
		t.Errorf("objects: %d, want the pending batch's 2", len(a.Objects))
	}
	for _, o := range a.Objects {
		if !strings.HasSuffix(o.Key, "-p000-00000000000000000000-00000000000000000011.ndjson.gz") {
			t.Errorf("object %s is not named after the pending batch [0, 11]", o.Key)
		}
	}
	if got := metric(t, s.reg, "wirefeed_sink_objects_total", "result", "exists"); got != 1 {
		t.Errorf("objects found written already: %v, want 1", got)
	}
	if got := metric(t, s.reg, "wirefeed_sink_flushes_total", "reason", "recovery"); got != 1 {
		t.Errorf("recovery flushes: %v, want 1", got)
	}
	if got := metric(t, s.reg, "wirefeed_sink_objects_total", "result", "written"); got != 1 {
		t.Errorf("objects written by the second run: %v, want 1", got)
	}
}

// TestFencedByAnotherWriter moves a partition's state on behind the sink's
// back, as a sink that took the partition over in a rebalance would: the
// sink's next state write is refused, it drops its batch, consumes again,
// and skips what the other writer archived.
func TestFencedByAnotherWriter(t *testing.T) {
	t.Parallel()
	cfg, dir := sinkConfig(t, 1)
	cfg.MaxRecords, cfg.MaxAge = 5, time.Hour
	var msgs []kafka.Message
	for i := range 15 {
		msgs = append(msgs, message(t, article("alpha", i, day1)))
	}
	s := startSink(t, cfg)
	produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs[:5]...)
	waitFor(t, "the first batch", func() (bool, string) {
		n := metric(t, s.reg, "wirefeed_sink_records_total", "result", "archived")
		return n == 5, fmt.Sprintf("%v archived", n)
	})
	// Another writer archives offsets 5..9 (its objects are not our
	// concern here) and moves the state on.
	key := filepath.Join(dir, "articles/v1/_state", cfg.RecordsTopic, "p000.json")
	b, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	moved := regexp.MustCompile(`"next_offset": 5`).ReplaceAll(b, []byte(`"next_offset": 10`))
	if bytes.Equal(moved, b) {
		t.Fatalf("state does not say next_offset 5:\n%s", b)
	}
	if err := os.WriteFile(key, moved, 0o644); err != nil {
		t.Fatal(err)
	}
	produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs[5:]...)
	waitFor(t, "fenced, then the last batch", func() (bool, string) {
		fenced := metric(t, s.reg, "wirefeed_sink_fenced_total")
		skipped := metric(t, s.reg, "wirefeed_sink_records_total", "result", "already_archived")
		archived := metric(t, s.reg, "wirefeed_sink_records_total", "result", "archived")
		return fenced == 1 && skipped == 5 && archived == 10, fmt.Sprintf("fenced %v, skipped %v, archived %v", fenced, skipped, archived)
	})
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	a := readStore(t, cfg.Bucket, cfg.Prefix)
	var got []string
	for _, o := range a.Objects {
		got = append(got, o.Key[strings.LastIndex(o.Key, "-p000-")+5:])
	}
	want := []string{"-00000000000000000000-00000000000000000004.ndjson.gz", "-00000000000000000010-00000000000000000014.ndjson.gz"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("objects %v, want %v: nothing written for the batch the other writer took", got, want)
	}
}

// TestKeyTemplateAndManifests writes with a template of its own and checks
// every key, and that each date's manifests list exactly its objects.
func TestKeyTemplateAndManifests(t *testing.T) {
	t.Parallel()
	cfg, _ := sinkConfig(t, 2)
	cfg.KeyTemplate = "{prefix}/year={year}/month={month}/day={day}/{topic}/p{partition}/"
	cfg.Compression = "zstd"
	cfg.MaxRecords, cfg.MaxAge = 7, 100*time.Millisecond
	msgs, want := mixed(t, 60)
	s := startSink(t, cfg)
	produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs...)
	waitFor(t, "everything archived", func() (bool, string) {
		lag, err := groupLag(&cfg.Kafka, cfg.Group, cfg.RecordsTopic)
		return err == nil && lag == 0, fmt.Sprintf("lag %d (%v)", lag, err)
	})
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	a := readStore(t, cfg.Bucket, cfg.Prefix)
	checkOnce(t, a, want, cfg)
	keyRe := regexp.MustCompile(`^articles/v1/year=(\d{4})/month=(\d{2})/day=(\d{2})/` + regexp.QuoteMeta(cfg.RecordsTopic) + `/p(\d)/` +
		regexp.QuoteMeta(cfg.RecordsTopic) + `-p00(\d)-\d{20}-\d{20}\.ndjson\.zst$`)
	for _, o := range a.Objects {
		m := keyRe.FindStringSubmatch(o.Key)
		if m == nil {
			t.Errorf("key %s does not follow the template %s", o.Key, cfg.KeyTemplate)
			continue
		}
		for _, r := range o.Records {
			if d := r.PublishedAt.UTC().Format(time.DateOnly); d != m[1]+"-"+m[2]+"-"+m[3] {
				t.Errorf("%s holds a record of %s", o.Key, d)
			}
		}
		if m[4] != m[5] {
			t.Errorf("%s: partition folder %s, name p00%s", o.Key, m[4], m[5])
		}
	}
	dates := map[string]int{}
	for k, m := range a.Manifests {
		if !strings.HasPrefix(k, "articles/v1/dt="+m.Date+"/_manifest/") || m.Topic != cfg.RecordsTopic || m.ManifestVersion != 1 {
			t.Errorf("manifest %s: %+v", k, m)
		}
		for _, mo := range m.Objects {
			dates[m.Date] += mo.Records
			if mo.Format != "ndjson" || mo.Compression != "zstd" || mo.FirstOffset < m.FirstOffset || mo.LastOffset > m.LastOffset ||
				mo.MinPublishedAt.IsZero() || mo.MaxPublishedAt.Before(mo.MinPublishedAt) || mo.MaxIngestedAt.IsZero() {
				t.Errorf("manifest %s entry %+v", k, mo)
			}
		}
	}
	wantDates := map[string]int{}
	for _, w := range want {
		wantDates[w.PublishedAt.UTC().Format(time.DateOnly)]++
	}
	if fmt.Sprint(dates) != fmt.Sprint(wantDates) {
		t.Errorf("records per date in the manifests: %v, want %v", dates, wantDates)
	}
}

// TestMemoryBound feeds three partitions with --batch.max-bytes far above
// what arrives and --batch.max-buffered-bytes low: the largest batch is cut
// whenever the total passes the bound, and nothing is lost.
func TestMemoryBound(t *testing.T) {
	t.Parallel()
	cfg, _ := sinkConfig(t, 3)
	cfg.MaxRecords, cfg.MaxBytes, cfg.MaxAge = 100000, 64<<20, 2*time.Second
	cfg.MaxBuffered = 8 << 10
	msgs, want := mixed(t, 300)
	s := startSink(t, cfg)
	produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs...)
	peak := 0.0
	waitFor(t, "everything archived", func() (bool, string) {
		peak = max(peak, metric(t, s.reg, "wirefeed_sink_buffered_bytes"))
		lag, err := groupLag(&cfg.Kafka, cfg.Group, cfg.RecordsTopic)
		return err == nil && lag == 0, fmt.Sprintf("lag %d (%v)", lag, err)
	})
	largest := 0
	for _, m := range msgs {
		largest = max(largest, len(m.Value)+1)
	}
	if peak > float64(cfg.MaxBuffered+largest) {
		t.Errorf("buffered %v bytes at a time, more than the bound %d and one record (%d)", peak, cfg.MaxBuffered, largest)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if n := metric(t, s.reg, "wirefeed_sink_flushes_total", "reason", "memory"); n < 5 {
		t.Errorf("flushes for memory: %v, want many", n)
	}
	checkOnce(t, readStore(t, cfg.Bucket, cfg.Prefix), want, cfg)
}

// TestResetDryRun prints the plan and returns without consuming.
func TestResetDryRun(t *testing.T) {
	t.Parallel()
	cfg, _ := sinkConfig(t, 1)
	produce(t, &cfg.Kafka, cfg.RecordsTopic, message(t, article("alpha", 1, day1)), message(t, article("alpha", 2, day1)))
	var out bytes.Buffer
	cfg.Reset = kafka.ResetConfig{Spec: "earliest", DryRun: true, Out: &out}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sink.Run(ctx, cfg, zap.NewNop(), prometheus.NewRegistry()); err != nil {
		t.Fatalf("Run with a dry-run reset: %v", err)
	}
	if !strings.Contains(out.String(), "dry run") || !strings.Contains(out.String(), "2 message(s) to read") {
		t.Errorf("plan:\n%s", out.String())
	}
	if a := readStore(t, cfg.Bucket, cfg.Prefix); len(a.Objects)+len(a.States) != 0 {
		t.Errorf("a dry run archived %d objects", len(a.Objects))
	}
}

// TestLargeObject archives one batch of about 24 MiB, uncompressed, on S3
// (WIREFEED_TEST_BUCKET; 2 MiB on a local folder): it goes up as a
// multipart upload of 5 MiB parts, streamed, and reads back whole.
func TestLargeObject(t *testing.T) {
	t.Parallel()
	cfg, _ := sinkConfig(t, 1)
	store := blobtest.New(t)
	cfg.Bucket, cfg.Prefix = store.URL, store.Prefix
	cfg.Compression = "none"
	cfg.MaxRecords, cfg.MaxBytes, cfg.MaxAge = 100000, 64<<20, time.Hour
	cfg.MaxBuffered = 0
	body := strings.Repeat("A long paragraph of a long story, repeated to make a large record. ", 1500) // ~100 KB
	var msgs []kafka.Message
	want := map[string]*record.Article{}
	size, target := 0, 2<<20 // a local folder: the code path, quickly
	if blobtest.Real() {
		target = 24 << 20 // S3: past the 16 MiB multipart threshold
	}
	for i := 0; size < target; i++ {
		a := article("alpha", i, day1)
		a.Body = []string{body, fmt.Sprint("End of story ", i, ".")}
		a.ContentHash = record.Hash(a.Title, a.Body, nil)
		a.Raw = &record.RawRef{Topic: "raw", Offset: int64(i)}
		m := message(t, a)
		size += len(m.Value) + 1
		want[a.ID] = a
		msgs = append(msgs, m)
	}
	for i := 0; i < len(msgs); i += 20 {
		produce(t, &cfg.Kafka, cfg.RecordsTopic, msgs[i:min(i+20, len(msgs))]...)
	}
	s := startSink(t, cfg)
	waitFor(t, "the records buffered", func() (bool, string) {
		b := metric(t, s.reg, "wirefeed_sink_buffered_bytes")
		return int(b) == size, fmt.Sprintf("%v of %d bytes", b, size)
	})
	if err := s.stop(); err != nil { // the shutdown flush writes the one batch
		t.Fatal(err)
	}
	a := readStore(t, cfg.Bucket, cfg.Prefix)
	checkOnce(t, a, want, cfg)
	if len(a.Objects) != 1 || a.Objects[0].Size != int64(size) {
		t.Fatalf("objects: %d, want one of %d bytes", len(a.Objects), size)
	}
	attrs, err := store.Bucket.Attributes(context.Background(), a.Objects[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d bytes, ETag %s", a.Objects[0].Key, attrs.Size, attrs.ETag)
	if blobtest.Real() && !regexp.MustCompile(`-\d+"?$`).MatchString(attrs.ETag) {
		t.Errorf("ETag %s is not a multipart upload's (md5-N)", attrs.ETag)
	}
}
