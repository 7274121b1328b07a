package sink

import (
	"context"
	"errors"
	"flag"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// TestWrittenBatchNotKeptByState writes a batch and checks that nothing of
// the partition keeps it (its records) reachable afterwards: a state that
// pointed into it (its dedupe floor) did, until the next state write.
func TestWrittenBatchNotKeptByState(t *testing.T) {
	ctx := context.Background()
	var cfg Config
	cfg.RegisterFlags(flag.NewFlagSet("x", flag.ContinueOnError))
	cfg.Bucket = "file://" + t.TempDir()
	cfg.RecordsTopic = "records"
	cfg.Compression = "none"
	stop := errors.New("stop before commit")
	cfg.storeHook = func(point, key string) error {
		if point == "commit" {
			return stop
		}
		return nil
	}
	tmpl, err := parseTemplate(cfg.keyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	bucket, err := openBucket(ctx, cfg.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	m := newMetrics(prometheus.NewRegistry())
	st := &store{bucket: bucket, states: newStateStore(bucket, ""), janitor: newJanitor(bucket, cfg.Bucket), m: m, log: zap.NewNop(),
		partSize: cfg.partSize(), concurrency: cfg.uploadConcurrency()}
	s, err := newSinker(cfg, tmpl, st, nil, m, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	s.zip = newCompressor(cfg.Compression)
	p := &partition{id: 0, key: stateKey(cfg.Prefix, cfg.RecordsTopic, 0), state: State{NextOffset: -1}}
	b := &batch{partition: 0, started: time.Now(), objects: map[string]*object{}}
	a := &record.Article{SchemaVersion: record.SchemaVersion, ID: "x", Source: "wire", Format: "f", Title: "T", Body: []string{"b"},
		ContentHash: "h", PublishedAt: time.Now(), NormalizedAt: time.Now()}
	v, _ := a.Marshal()
	d := &fetched{msg: kafka.Message{Partition: 0, Offset: 0, Value: v}, head: a}
	if err := s.add(ctx, b, d, false); err != nil {
		t.Fatal(err)
	}
	b.arrivals = append(b.arrivals, arrival{}) // keep b identifiable
	collected := make(chan struct{})
	runtime.SetFinalizer(b, func(*batch) { close(collected) })
	if err := s.write(ctx, nil, flushJob{p: p, b: b, reason: "records"}); !errors.Is(err, stop) {
		t.Fatalf("write: %v", err)
	}
	b = nil
	for range 100 {
		runtime.GC()
		select {
		case <-collected:
			runtime.KeepAlive(p)
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Errorf("batch written (state next_offset %d) still reachable after 100 collections: the partition keeps it", p.state.NextOffset)
	runtime.KeepAlive(p)
}
