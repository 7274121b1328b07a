package devstack

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/wirefeed/wirefeed/internal/blobtest"
	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
	"github.com/wirefeed/wirefeed/internal/normalize"
	"github.com/wirefeed/wirefeed/internal/recordtest"
	"github.com/wirefeed/wirefeed/internal/sink"
	"github.com/wirefeed/wirefeed/internal/telemetry"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// stageConfigs returns normalize and sink configurations on their own topics
// and groups, with the flags' defaults.
func stageConfigs(t *testing.T, kc kafka.Config, store *blobtest.Store) (normalize.Config, sink.Config) {
	var n normalize.Config
	n.RegisterFlags(flag.NewFlagSet("n", flag.ContinueOnError))
	var s sink.Config
	s.RegisterFlags(flag.NewFlagSet("s", flag.ContinueOnError))
	n.Kafka, s.Kafka = kc, kc
	n.Telemetry.HTTPAddr, s.Telemetry.HTTPAddr = "", ""
	n.RawTopic = kafkatest.Name(t, "raw")
	n.RecordsTopic = kafkatest.Name(t, "records")
	n.DeadLetterTopic = kafkatest.Name(t, "dlq")
	n.Group = kafkatest.Name(t, "normalize")
	n.LagInterval = time.Second
	s.RecordsTopic, s.DeadLetterTopic = n.RecordsTopic, n.DeadLetterTopic
	s.Group = kafkatest.Name(t, "sink")
	s.Bucket, s.Prefix = store.URL, store.Prefix
	s.MaxAge = 500 * time.Millisecond
	s.LagInterval = time.Second
	for _, v := range []interface{ Validate() error }{&n, &s} {
		if err := v.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	return n, s
}

func rawItem(i int) kafka.Message {
	body := fmt.Sprintf("URL : http://wire.example/%d\nID : WIRE%05d\n\nDate : 2024-02-0%d 08:00:00\nTitle : Story number %d\nArticle :\nPARIS, Feb 1 (Wire) -- Paragraph one of story %d.\nParagraph two, with a curly quote damaged: itâ€™s fine.\n", i, i, 1+i%9, i, i)
	r := record.Raw{Key: fmt.Sprintf("wire:%d", i), Source: "wire", Format: "textdump", Origin: "test", FetchedAt: time.Now().UTC(), Body: []byte(body)}
	return kafka.Message{Key: []byte(r.Key), Value: r.Body, Headers: kafka.Headers(r.Headers())}
}

// readArchive returns every archived article by source ID, counting
// duplicates, and validates each against the schema.
func readArchive(t *testing.T, store *blobtest.Store) (map[string]int, int) {
	t.Helper()
	seen := map[string]int{}
	total := 0
	for _, o := range store.Objects(t) {
		for _, l := range o.Lines {
			recordtest.Validate(t, l)
			a, err := record.Unmarshal(l)
			if err != nil {
				t.Fatalf("%s: %v", o.Key, err)
			}
			seen[a.SourceID]++
			total++
		}
	}
	return seen, total
}

var errCrash = errors.New("simulated crash between produce and commit")

// TestNormalizeCrashBeforeCommitLosesNothing stops normalize mid-stream
// after it produced a batch's records but before it committed the batch,
// restarts it on the same group, and checks that every item reaches the
// archive, once: the sink drops the records normalize published again.
func TestNormalizeCrashBeforeCommitLosesNothing(t *testing.T) {
	const items = 60
	kc := kafkatest.Config(t, 3)
	store := blobtest.New(t)
	ncfg, scfg := stageConfigs(t, kc, store)
	ncfg.BatchMax = 7
	log := zaptest.NewLogger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	if err := kafka.EnsureTopics(ctx, &kc, kafka.TopicSpec{Name: ncfg.RawTopic}); err != nil {
		t.Fatal(err)
	}
	w := kafka.NewWriter(&kc, ncfg.RawTopic, log)
	defer w.Close()
	var msgs []kafka.Message
	for i := range items {
		msgs = append(msgs, rawItem(i))
	}
	if err := w.Write(ctx, nil, msgs...); err != nil {
		t.Fatal(err)
	}

	// First run: crash after the third batch was produced, before commit.
	var batches atomic.Int32
	crashing := ncfg
	crashing.SetBeforeCommitForTest(func([]kafka.Message) error {
		if batches.Add(1) == 3 {
			return errCrash
		}
		return nil
	})
	if err := normalize.Run(ctx, crashing, log, telemetry.NewRegistry("normalize")); !errors.Is(err, errCrash) {
		t.Fatalf("first run: got %v, want the simulated crash", err)
	}
	if got := batches.Load(); got != 3 {
		t.Fatalf("crashed after %d batches, want 3", got)
	}

	// Second run and the sink, until the archive holds every item.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 2)
	go func() { done <- normalize.Run(runCtx, ncfg, log, telemetry.NewRegistry("normalize")) }()
	go func() { done <- sink.Run(runCtx, scfg, log, telemetry.NewRegistry("sink")) }()
	var seen map[string]int
	var total int
	for ctx.Err() == nil {
		time.Sleep(300 * time.Millisecond)
		if seen, total = readArchive(t, store); len(seen) < items {
			continue
		}
		// Every item is archived; wait until the sink has taken the
		// whole records topic, the copies included.
		lags, err := kafka.GroupLag(ctx, kc.Client(), scfg.Group, scfg.RecordsTopic)
		var lag int64
		for _, l := range lags {
			lag += l.Lag
		}
		if err == nil && lag == 0 {
			seen, total = readArchive(t, store)
			break
		}
	}
	stop()
	for range 2 {
		if err := <-done; err != nil {
			t.Errorf("stage stopped with error: %v", err)
		}
	}
	if len(seen) != items {
		t.Fatalf("archive holds %d of %d items", len(seen), items)
	}
	offs, err := kafka.TopicOffsets(context.Background(), kc.Client(), ncfg.RecordsTopic)
	if err != nil {
		t.Fatal(err)
	}
	var published int64
	for _, o := range offs {
		published += o.HighWatermark - o.LogStart
	}
	if published <= items {
		t.Errorf("normalize published %d records for %d items: the crash published nothing again, the test proves nothing", published, items)
	}
	if total != items {
		t.Errorf("archive holds %d records for %d items: copies normalize published again were archived", total, items)
	}
	t.Logf("archive holds all %d items in %d records; normalize published %d (%d again after the crash, dropped by the sink's dedupe window)", items, total, published, published-items)
}
