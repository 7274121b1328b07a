package kafka_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
)

// testCtx returns a context bounded by a generous deadline, so that a hung
// broker fails the test instead of the whole run.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testLog(t testing.TB) *zap.Logger {
	return zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
}

// newTopic creates a topic unique to the test with cfg.Partitions.
func newTopic(t testing.TB, cfg *kafka.Config) string {
	t.Helper()
	topic := kafkatest.Name(t, "topic")
	if err := kafka.EnsureTopics(testCtx(t), cfg, kafka.TopicSpec{Name: topic}); err != nil {
		t.Fatalf("EnsureTopics(%s): %v", topic, err)
	}
	return topic
}

// produce writes n keyed messages to topic and returns their keys.
func produce(t testing.TB, cfg *kafka.Config, topic string, n int) []string {
	t.Helper()
	w := kafka.NewWriter(cfg, topic, testLog(t))
	t.Cleanup(func() { w.Close() })
	msgs := make([]kafka.Message, n)
	keys := make([]string, n)
	for i := range n {
		keys[i] = fmt.Sprintf("key-%03d", i)
		msgs[i] = kafka.Message{Key: []byte(keys[i]), Value: []byte("value of " + keys[i]),
			Headers: []kafka.Header{{Key: "h", Value: []byte(keys[i])}}}
	}
	if err := w.Write(testCtx(t), nil, msgs...); err != nil {
		t.Fatalf("write %d messages to %s: %v", n, topic, err)
	}
	return keys
}

func newConsumer(t testing.TB, cfg *kafka.Config, group, topic string) *kafka.Consumer {
	t.Helper()
	c := kafka.NewConsumer(cfg, group, topic, testLog(t))
	t.Cleanup(func() { c.Close() })
	return c
}

// totalLag returns the group's lag summed over the partitions of topic.
func totalLag(t testing.TB, ctx context.Context, cfg *kafka.Config, group, topic string) int64 {
	t.Helper()
	lags, err := kafka.GroupLag(ctx, cfg.Client(), group, topic)
	if err != nil {
		t.Fatalf("GroupLag(%s, %s): %v", group, topic, err)
	}
	var n int64
	for _, l := range lags {
		n += l.Lag
	}
	return n
}

// waitLag polls until the group's total lag is want, or fails the test at
// ctx's deadline. A failed lag request counts as not there yet: a group the
// consumer has not joined yet may be unknown to the broker (see
// TestGroupLagGroupNeverCommitted).
func waitLag(t testing.TB, ctx context.Context, cfg *kafka.Config, group, topic string, want int64) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	client := cfg.Client()
	var last string
	for {
		lags, err := kafka.GroupLag(ctx, client, group, topic)
		if err == nil {
			var got int64
			for _, l := range lags {
				got += l.Lag
			}
			if got == want {
				return
			}
			last = fmt.Sprintf("lag %d", got)
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("lag of group %s on %s: last got %s, want lag %d (gave up: %v)", group, topic, last, want, ctx.Err())
		case <-tick.C:
		}
	}
}

// collector records the messages a handler saw.
type collector struct {
	mu   sync.Mutex
	keys []string
	msgs []kafka.Message
}

func (c *collector) add(batch []kafka.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range batch {
		c.keys = append(c.keys, string(m.Key))
		c.msgs = append(c.msgs, m)
	}
}

func (c *collector) snapshot() ([]string, []kafka.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.keys), slices.Clone(c.msgs)
}

// nextOffsets returns, per partition, the offset after the last message seen.
func nextOffsets(msgs []kafka.Message) map[int]int64 {
	out := map[int]int64{}
	for _, m := range msgs {
		out[m.Partition] = max(out[m.Partition], m.Offset+1)
	}
	return out
}

func TestEnsureTopics(t *testing.T) {
	t.Parallel()
	base := kafkatest.Config(t, 1)
	for _, partitions := range []int{1, 3, 5} {
		t.Run(fmt.Sprintf("creates with %d partitions, twice", partitions), func(t *testing.T) {
			cfg := base
			cfg.Partitions = partitions
			ctx := testCtx(t)
			a, b := kafkatest.Name(t, "a"), kafkatest.Name(t, "b")
			for run := 1; run <= 2; run++ {
				if err := kafka.EnsureTopics(ctx, &cfg, kafka.TopicSpec{Name: a}, kafka.TopicSpec{Name: b}); err != nil {
					t.Fatalf("run %d: EnsureTopics(%s, %s) with %d partitions: got %v, want nil", run, a, b, partitions, err)
				}
				for _, topic := range []string{a, b} {
					parts, err := kafka.Partitions(ctx, cfg.Client(), topic)
					if err != nil {
						t.Fatalf("run %d: Partitions(%s): %v", run, topic, err)
					}
					if len(parts) != partitions {
						t.Errorf("run %d: %s has partitions %v, want %d of them", run, topic, parts, partitions)
					}
				}
			}
		})
	}

	tests := []struct {
		existing, configured int
	}{
		{existing: 2, configured: 3},
		{existing: 3, configured: 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("refuses %d partitions when configured for %d", tt.existing, tt.configured), func(t *testing.T) {
			ctx := testCtx(t)
			topic := kafkatest.Name(t, "topic")
			first := base
			first.Partitions = tt.existing
			if err := kafka.EnsureTopics(ctx, &first, kafka.TopicSpec{Name: topic}); err != nil {
				t.Fatalf("create %s with %d partitions: %v", topic, tt.existing, err)
			}
			other := kafkatest.Name(t, "other") // a fine topic in the same call
			second := base
			second.Partitions = tt.configured
			err := kafka.EnsureTopics(ctx, &second, kafka.TopicSpec{Name: other}, kafka.TopicSpec{Name: topic})
			if !errors.Is(err, kafka.ErrTopicIncompatible) {
				t.Fatalf("EnsureTopics(%s) existing with %d partitions, configured %d: got %v, want ErrTopicIncompatible", topic, tt.existing, tt.configured, err)
			}
			msg := err.Error()
			for _, want := range []string{topic, fmt.Sprintf("has %d partitions", tt.existing), fmt.Sprintf("configured for %d", tt.configured)} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
			parts, err := kafka.Partitions(ctx, first.Client(), topic)
			if err != nil || len(parts) != tt.existing {
				t.Errorf("after the refusal %s has partitions %v (err %v), want %d unchanged", topic, parts, err, tt.existing)
			}
		})
	}
}

func TestRunBatchesHandlesAndCommitsEveryMessageOnce(t *testing.T) {
	t.Parallel()
	const n = 25
	cfg := kafkatest.Config(t, 3)
	topic := newTopic(t, &cfg)
	group := kafkatest.Name(t, "group")
	keys := produce(t, &cfg, topic, n)
	ctx := testCtx(t)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()

	var got collector
	var commitErrs []string
	before := func(batch []kafka.Message) error {
		// Not committed yet when the handler is done: the committed offset
		// of each partition is still at or before the batch's first message.
		lags, err := kafka.GroupLag(ctx, cfg.Client(), group, topic)
		if err != nil {
			return err
		}
		first := map[int]int64{}
		for _, m := range batch {
			if o, ok := first[m.Partition]; !ok || m.Offset < o {
				first[m.Partition] = m.Offset
			}
		}
		for _, l := range lags {
			if o, ok := first[l.Partition]; ok && l.Committed > o {
				commitErrs = append(commitErrs, fmt.Sprintf("partition %d committed %d before the batch from offset %d was committed", l.Partition, l.Committed, o))
			}
		}
		return nil
	}
	c := newConsumer(t, &cfg, group, topic)
	done := make(chan error, 1)
	go func() {
		done <- c.RunBatches(runCtx, kafka.BatchOptions{MaxMessages: 4, Linger: 20 * time.Millisecond, Drain: 5 * time.Second, BeforeCommit: before},
			func(_ context.Context, batch []kafka.Message) error { got.add(batch); return nil })
	}()
	waitLag(t, ctx, &cfg, group, topic, 0)
	stop()
	if err := <-done; err != nil {
		t.Fatalf("RunBatches: got %v, want nil after cancel", err)
	}
	for _, e := range commitErrs {
		t.Error(e)
	}

	gotKeys, msgs := got.snapshot()
	slices.Sort(gotKeys)
	if !slices.Equal(gotKeys, keys) {
		t.Errorf("handled keys:\n got %v\nwant %v (each once)", gotKeys, keys)
	}
	for _, m := range msgs {
		if string(m.Value) != "value of "+string(m.Key) || len(m.Headers) != 1 || string(m.Headers[0].Value) != string(m.Key) {
			t.Errorf("message %s: value %q headers %v, want what was written", m.Key, m.Value, m.Headers)
		}
	}
	lags, err := kafka.GroupLag(ctx, cfg.Client(), group, topic)
	if err != nil {
		t.Fatal(err)
	}
	next := nextOffsets(msgs)
	for _, l := range lags {
		if l.Committed != l.HighWatermark || l.Lag != 0 || next[l.Partition] != l.HighWatermark {
			t.Errorf("partition %d: committed %d, high watermark %d, lag %d, handled up to %d; want all committed", l.Partition, l.Committed, l.HighWatermark, l.Lag, next[l.Partition])
		}
	}
}

var errBoom = errors.New("boom")

// TestRunBatchesFailureLeavesBatchUncommitted fails the first batch, in the
// handler or just before the commit, and checks that a new consumer of the
// same group gets every message again.
func TestRunBatchesFailureLeavesBatchUncommitted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		handle        func(calls int) error
		before        func(calls int) error
		wantCommitted int // messages committed before the failure
	}{
		{name: "handler error", handle: func(int) error { return errBoom }},
		{name: "handler error on the second batch", handle: func(calls int) error {
			if calls == 2 {
				return errBoom
			}
			return nil
		}, wantCommitted: 5},
		{name: "before-commit error", before: func(int) error { return errBoom }},
		{name: "before-commit error on the second batch", before: func(calls int) error {
			if calls == 2 {
				return errBoom
			}
			return nil
		}, wantCommitted: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const n = 12
			cfg := kafkatest.Config(t, 1)
			topic := newTopic(t, &cfg)
			group := kafkatest.Name(t, "group")
			keys := produce(t, &cfg, topic, n)
			ctx := testCtx(t)

			// First consumer: fails.
			var handles, befores int
			opts := kafka.BatchOptions{MaxMessages: 5, Linger: time.Hour, Drain: 5 * time.Second}
			if tt.before != nil {
				opts.BeforeCommit = func([]kafka.Message) error { befores++; return tt.before(befores) }
			}
			runCtx, stop := context.WithCancel(ctx)
			c1 := kafka.NewConsumer(&cfg, group, topic, testLog(t))
			err := c1.RunBatches(runCtx, opts, func(_ context.Context, batch []kafka.Message) error {
				handles++
				if tt.handle != nil {
					return tt.handle(handles)
				}
				return nil
			})
			stop()
			c1.Close()
			if !errors.Is(err, errBoom) {
				t.Fatalf("first RunBatches: got %v, want %v", err, errBoom)
			}
			committed := tt.wantCommitted
			if got := totalLag(t, ctx, &cfg, group, topic); got != int64(n-committed) {
				t.Errorf("lag after the failure: got %d, want %d (only the %d messages of successful batches committed)", got, n-committed, committed)
			}

			// Second consumer, same group: gets the failed batch again.
			var second collector
			runCtx2, stop2 := context.WithCancel(ctx)
			defer stop2()
			c2 := newConsumer(t, &cfg, group, topic)
			done := make(chan error, 1)
			go func() {
				done <- c2.RunBatches(runCtx2, kafka.BatchOptions{MaxMessages: 5, Linger: 20 * time.Millisecond, Drain: 5 * time.Second},
					func(_ context.Context, batch []kafka.Message) error { second.add(batch); return nil })
			}()
			waitLag(t, ctx, &cfg, group, topic, 0)
			stop2()
			if err := <-done; err != nil {
				t.Fatalf("second RunBatches: %v", err)
			}
			againKeys, _ := second.snapshot()
			if want := keys[committed:]; !slices.Equal(againKeys, want) {
				t.Errorf("second consumer handled:\n got %v\nwant %v", againKeys, want)
			}
		})
	}
}

// TestRunBatchesDrain cancels the context while a batch is being handled.
func TestRunBatchesDrain(t *testing.T) {
	t.Parallel()
	t.Run("batch in hand is finished and committed", func(t *testing.T) {
		t.Parallel()
		const n = 11
		cfg := kafkatest.Config(t, 1)
		topic := newTopic(t, &cfg)
		group := kafkatest.Name(t, "group")
		produce(t, &cfg, topic, n)
		ctx := testCtx(t)
		runCtx, stop := context.WithCancel(ctx)
		defer stop()

		var got collector
		var workErr error
		c := newConsumer(t, &cfg, group, topic)
		err := c.RunBatches(runCtx, kafka.BatchOptions{MaxMessages: 4, Linger: time.Hour, Drain: 30 * time.Second},
			func(work context.Context, batch []kafka.Message) error {
				stop() // shutdown arrives while this batch is in hand
				if workErr == nil {
					workErr = work.Err()
				}
				got.add(batch)
				return nil
			})
		if err != nil {
			t.Fatalf("RunBatches: got %v, want nil", err)
		}
		if workErr != nil {
			t.Errorf("the handler's context was done during the drain: %v", workErr)
		}
		_, msgs := got.snapshot()
		if len(msgs) < 4 {
			t.Fatalf("handled %d messages, want at least the first batch of 4", len(msgs))
		}
		lags, err := kafka.GroupLag(ctx, cfg.Client(), group, topic)
		if err != nil {
			t.Fatal(err)
		}
		next := nextOffsets(msgs)
		if lags[0].Committed != next[0] || lags[0].Lag != n-next[0] {
			t.Errorf("committed %d, lag %d; want everything handled (%d messages) committed and lag %d", lags[0].Committed, lags[0].Lag, next[0], n-next[0])
		}
	})

	t.Run("batch exceeding the drain time is not committed", func(t *testing.T) {
		t.Parallel()
		const n = 6
		cfg := kafkatest.Config(t, 1)
		topic := newTopic(t, &cfg)
		group := kafkatest.Name(t, "group")
		produce(t, &cfg, topic, n)
		ctx := testCtx(t)
		runCtx, stop := context.WithCancel(ctx)
		defer stop()

		c := newConsumer(t, &cfg, group, topic)
		err := c.RunBatches(runCtx, kafka.BatchOptions{MaxMessages: 3, Linger: time.Hour, Drain: 50 * time.Millisecond},
			func(work context.Context, batch []kafka.Message) error {
				stop()
				<-work.Done() // a stuck write, cut off by the drain bound
				return work.Err()
			})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("RunBatches: got %v, want context.Canceled", err)
		}
		if got := totalLag(t, ctx, &cfg, group, topic); got != n {
			t.Errorf("lag: got %d, want %d (nothing committed)", got, n)
		}
	})
}

func TestGroupLag(t *testing.T) {
	t.Parallel()
	const n = 30
	cfg := kafkatest.Config(t, 3)
	topic := newTopic(t, &cfg)
	produce(t, &cfg, topic, n)
	ctx := testCtx(t)
	client := cfg.Client()

	offs, err := kafka.TopicOffsets(ctx, client, topic)
	if err != nil {
		t.Fatal(err)
	}
	hw := map[int]int64{}
	var sum int64
	for _, o := range offs {
		hw[o.Partition] = o.HighWatermark
		sum += o.HighWatermark - o.LogStart
		if o.Committed != -1 || o.Lag != o.HighWatermark-o.LogStart {
			t.Errorf("TopicOffsets partition %d: committed %d lag %d, want -1 and %d", o.Partition, o.Committed, o.Lag, o.HighWatermark-o.LogStart)
		}
	}
	if len(hw) != 3 || sum != n {
		t.Fatalf("TopicOffsets: %+v, want 3 partitions holding %d messages", offs, n)
	}

	group := kafkatest.Name(t, "group")
	commit := func(offsets map[int]int64) {
		t.Helper()
		req := &kgo.OffsetCommitRequest{GroupID: group, GenerationID: -1, Topics: map[string][]kgo.OffsetCommit{}}
		for p, o := range offsets {
			req.Topics[topic] = append(req.Topics[topic], kgo.OffsetCommit{Partition: p, Offset: o})
		}
		res, err := client.OffsetCommit(ctx, req)
		if err != nil {
			t.Fatalf("commit %v: %v", offsets, err)
		}
		for _, ps := range res.Topics {
			for _, p := range ps {
				if p.Error != nil {
					t.Fatalf("commit %v: partition %d: %v", offsets, p.Partition, p.Error)
				}
			}
		}
	}

	steps := []struct {
		name   string
		commit map[int]int64 // offsets to commit before the check
		want   map[int]int64 // committed offset per partition, -1 for none
	}{
		{name: "partition 0 partly, the others never", commit: map[int]int64{0: min(2, hw[0])},
			want: map[int]int64{0: min(2, hw[0]), 1: -1, 2: -1}},
		{name: "partition 1 fully", commit: map[int]int64{1: hw[1]},
			want: map[int]int64{0: min(2, hw[0]), 1: hw[1], 2: -1}},
		{name: "everything", commit: map[int]int64{0: hw[0], 1: hw[1], 2: hw[2]}, want: hw},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.commit != nil {
				commit(st.commit)
			}
			lags, err := kafka.GroupLag(ctx, client, group, topic)
			if err != nil {
				t.Fatal(err)
			}
			if len(lags) != 3 {
				t.Fatalf("GroupLag: %+v, want 3 partitions", lags)
			}
			for _, l := range lags {
				wantLag := hw[l.Partition] - max(st.want[l.Partition], 0)
				if l.Committed != st.want[l.Partition] || l.HighWatermark != hw[l.Partition] || l.Lag != wantLag {
					t.Errorf("partition %d: got committed %d, high watermark %d, lag %d; want %d, %d, %d",
						l.Partition, l.Committed, l.HighWatermark, l.Lag, st.want[l.Partition], hw[l.Partition], wantLag)
				}
			}
		})
	}
}

// TestGroupLagGroupNeverCommitted asks for the lag of a group that has not
// committed anything yet (a stage's group before its first commit). Its
// lag is the whole log and Committed is -1, as PartitionLag documents and as
// Apache Kafka answers (offsets -1, no error); the embedded broker answers
// GROUP_ID_NOT_FOUND instead, which GroupLag returns as an error.
func TestGroupLagGroupNeverCommitted(t *testing.T) {
	t.Parallel()
	const n = 10
	cfg := kafkatest.Config(t, 2)
	topic := newTopic(t, &cfg)
	produce(t, &cfg, topic, n)
	ctx := testCtx(t)
	group := kafkatest.Name(t, "fresh")
	lags, err := kafka.GroupLag(ctx, cfg.Client(), group, topic)
	if err != nil {
		t.Fatalf("GroupLag(%s) of a group that never committed: got error %v, want committed -1 and lag %d", group, err, n)
	}
	var sum int64
	for _, l := range lags {
		sum += l.Lag
		if l.Committed != -1 {
			t.Errorf("partition %d: committed %d, want -1", l.Partition, l.Committed)
		}
	}
	if sum != n {
		t.Errorf("lag of a group that never committed: got %d, want %d", sum, n)
	}
}

func TestGroupLagUnknownTopic(t *testing.T) {
	t.Parallel()
	cfg := kafkatest.Config(t, 1)
	ctx := testCtx(t)
	topic := kafkatest.Name(t, "missing")
	if lags, err := kafka.GroupLag(ctx, cfg.Client(), kafkatest.Name(t, "group"), topic); err == nil {
		t.Errorf("GroupLag on missing topic %s: got %+v, nil; want an error", topic, lags)
	}
}

func TestDeadLetter(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 5, 1, 12, 30, 0, 123, time.FixedZone("X", 2*3600))
	orig := kafka.Message{
		Topic: "wirefeed.raw", Partition: 2, Offset: 417,
		Key: []byte("spool:sha256:abc"), Value: []byte("body \x00 bytes"),
		Headers: []kafka.Header{
			{Key: "wirefeed-source", Value: []byte("spool")},
			{Key: "wirefeed-format", Value: []byte("textdump")},
		},
	}
	// The same message after a first dead-lettering and a replay.
	replayed := kafka.DeadLetter(orig, "normalize", "parse", errors.New("old error"), at.Add(-time.Hour))
	replayed.Topic, replayed.Partition, replayed.Offset = "wirefeed.raw", 0, 9

	long := errors.New(strings.Repeat("x", 3000))
	tests := []struct {
		name      string
		in        kafka.Message
		stage     string
		reason    string
		cause     error
		wantError string
		wantFrom  [3]string // topic, partition, offset
	}{
		{name: "first dead letter", in: orig, stage: "normalize", reason: "parse", cause: errors.New("no title"),
			wantError: "no title", wantFrom: [3]string{"wirefeed.raw", "2", "417"}},
		{name: "nil cause", in: orig, stage: "sink", reason: "bad_record",
			wantError: "", wantFrom: [3]string{"wirefeed.raw", "2", "417"}},
		{name: "long error is cut", in: orig, stage: "sink", reason: "bad_record", cause: long,
			wantError: strings.Repeat("x", 1024), wantFrom: [3]string{"wirefeed.raw", "2", "417"}},
		{name: "dead-lettered again", in: replayed, stage: "sink", reason: "bad_record", cause: errors.New("new error"),
			wantError: "new error", wantFrom: [3]string{"wirefeed.raw", "0", "9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := kafka.DeadLetter(tt.in, tt.stage, tt.reason, tt.cause, at)
			if string(got.Key) != string(orig.Key) || string(got.Value) != string(orig.Value) {
				t.Errorf("key/value: got %q/%q, want %q/%q", got.Key, got.Value, orig.Key, orig.Value)
			}
			if got.Topic != "" || got.Partition != 0 || got.Offset != 0 {
				t.Errorf("dead letter keeps topic/partition/offset %s/%d/%d; want them unset so the writer's topic applies", got.Topic, got.Partition, got.Offset)
			}
			var kept []string
			dlq := map[string][]string{}
			for _, h := range got.Headers {
				if strings.HasPrefix(h.Key, "wirefeed-dlq-") {
					dlq[h.Key] = append(dlq[h.Key], string(h.Value))
				} else {
					kept = append(kept, h.Key+"="+string(h.Value))
				}
			}
			if want := []string{"wirefeed-source=spool", "wirefeed-format=textdump"}; !slices.Equal(kept, want) {
				t.Errorf("original headers: got %v, want %v", kept, want)
			}
			want := map[string]string{
				"wirefeed-dlq-stage":     tt.stage,
				"wirefeed-dlq-reason":    tt.reason,
				"wirefeed-dlq-error":     tt.wantError,
				"wirefeed-dlq-topic":     tt.wantFrom[0],
				"wirefeed-dlq-partition": tt.wantFrom[1],
				"wirefeed-dlq-offset":    tt.wantFrom[2],
				"wirefeed-dlq-at":        "2024-05-01T10:30:00.000000123Z",
			}
			if len(dlq) != len(want) {
				t.Errorf("dead-letter headers: got %v, want exactly %v", dlq, want)
			}
			for k, v := range want {
				if vs := dlq[k]; len(vs) != 1 || vs[0] != v {
					t.Errorf("header %s: got %q, want exactly one %q", k, vs, v)
				}
			}
		})
	}
}

func TestDeadLetterRoundTrip(t *testing.T) {
	t.Parallel()
	cfg := kafkatest.Config(t, 1)
	ctx := testCtx(t)
	topic := newTopic(t, &cfg)
	orig := kafka.Message{Topic: "src", Partition: 0, Offset: 5, Key: []byte("k"), Value: []byte("v"),
		Headers: []kafka.Header{{Key: "wirefeed-source", Value: []byte("spool")}}}
	w := kafka.NewWriter(&cfg, topic, testLog(t))
	defer w.Close()
	if err := w.Write(ctx, nil, kafka.DeadLetter(orig, "sink", "bad_record", errBoom, time.Now())); err != nil {
		t.Fatal(err)
	}
	r := kgo.NewReader(kgo.ReaderConfig{Brokers: cfg.Brokers, Topic: topic, Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	m, err := r.ReadMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hs := map[string]string{}
	for _, h := range m.Headers {
		hs[h.Key] = string(h.Value)
	}
	if string(m.Key) != "k" || string(m.Value) != "v" || hs["wirefeed-source"] != "spool" || hs["wirefeed-dlq-reason"] != "bad_record" || hs["wirefeed-dlq-topic"] != "src" {
		t.Errorf("read back key %q value %q headers %v; want the original plus the dead-letter headers", m.Key, m.Value, hs)
	}
}

// TestFetchLargerThanFetchMaxBytes consumes messages, compressed in batches
// and alone, several times larger than --kafka.fetch-max-bytes: each is
// fetched whole.
func TestFetchLargerThanFetchMaxBytes(t *testing.T) {
	t.Parallel()
	cfg := kafkatest.Config(t, 1)
	cfg.FetchMaxBytes = 64 << 10
	topic := newTopic(t, &cfg)
	ctx := testCtx(t)
	w := kafka.NewWriter(&cfg, topic, zaptest.NewLogger(t))
	defer w.Close()
	var want []string
	var msgs []kafka.Message
	for i := range 6 {
		// Incompressible enough to stay larger than the fetch size.
		v := make([]byte, 200<<10)
		for j := range v {
			v[j] = byte((j*7919 + i*104729) >> 3 % 251)
		}
		rng := rand.New(rand.NewPCG(uint64(i), 1))
		for j := range len(v) / 2 {
			v[j] = byte(rng.Uint32())
		}
		want = append(want, fmt.Sprintf("%d:%x", i, sha256.Sum256(v)))
		msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprint(i)), Value: v})
	}
	if err := w.Write(ctx, nil, msgs...); err != nil {
		t.Fatal(err)
	}
	c := newConsumer(t, &cfg, kafkatest.Name(t, "group"), topic)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var col collector
	done := make(chan error, 1)
	go func() {
		done <- c.RunBatches(runCtx, kafka.BatchOptions{MaxMessages: 10, Linger: 20 * time.Millisecond, Drain: 5 * time.Second},
			func(_ context.Context, batch []kafka.Message) error { col.add(batch); return nil })
	}()
	var got []string
	for ctx.Err() == nil && len(got) < len(want) {
		time.Sleep(50 * time.Millisecond)
		_, ms := col.snapshot()
		got = got[:0]
		for _, m := range ms {
			got = append(got, fmt.Sprintf("%s:%x", m.Key, sha256.Sum256(m.Value)))
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("read back %d messages %v, want %v", len(got), got, want)
	}
}
