package kafka_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
)

func TestParseReset(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    kafka.ResetTarget
		wantErr bool
	}{
		{in: "earliest", want: kafka.ResetTarget{Kind: kafka.ResetEarliest}},
		{in: "latest", want: kafka.ResetTarget{Kind: kafka.ResetLatest}},
		{in: "offset:0", want: kafka.ResetTarget{Kind: kafka.ResetOffset, Offset: 0}},
		{in: "offset:1234", want: kafka.ResetTarget{Kind: kafka.ResetOffset, Offset: 1234}},
		{in: "timestamp:2026-11-26T08:00:00Z", want: kafka.ResetTarget{Kind: kafka.ResetTimestamp, Time: at}},
		{in: "timestamp:2026-11-26T09:00:00+01:00", want: kafka.ResetTarget{Kind: kafka.ResetTimestamp, Time: at}},
		{in: "", wantErr: true},
		{in: "first", wantErr: true},
		{in: "earliest:1", wantErr: true},
		{in: "offset:", wantErr: true},
		{in: "offset:-1", wantErr: true},
		{in: "offset:x", wantErr: true},
		{in: "timestamp:yesterday", wantErr: true},
		{in: "timestamp:2026-11-26", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := kafka.ParseReset(tt.in)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "--reset-offsets") {
					t.Errorf("ParseReset(%q) = %+v, %v; want an error naming --reset-offsets", tt.in, got, err)
				}
				return
			}
			if err != nil || got.Kind != tt.want.Kind || got.Offset != tt.want.Offset || !got.Time.Equal(tt.want.Time) {
				t.Errorf("ParseReset(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestResetConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     kafka.ResetConfig
		wantErr string
	}{
		{name: "no reset", cfg: kafka.ResetConfig{}},
		{name: "earliest", cfg: kafka.ResetConfig{Spec: "earliest"}},
		{name: "dry run", cfg: kafka.ResetConfig{Spec: "latest", DryRun: true}},
		{name: "bad spec", cfg: kafka.ResetConfig{Spec: "beginning"}, wantErr: "--reset-offsets"},
		{name: "dry run alone", cfg: kafka.ResetConfig{DryRun: true}, wantErr: "--reset-offsets.dry-run needs --reset-offsets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate(%+v) = %v, want nil", tt.cfg, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate(%+v) = %v, want an error with %q", tt.cfg, err, tt.wantErr)
			}
		})
	}
}

// resetTopic makes a 2-partition topic with 10 messages in each, the i-th
// of a partition stamped base + i minutes.
func resetTopic(t *testing.T, cfg *kafka.Config, base time.Time) string {
	t.Helper()
	topic := newTopic(t, cfg)
	var msgs []kgo.Message
	for p := range 2 {
		for i := range 10 {
			msgs = append(msgs, kgo.Message{Partition: p, Key: []byte(fmt.Sprintf("p%d-%d", p, i)), Value: []byte("v"), Time: base.Add(time.Duration(i) * time.Minute)})
		}
	}
	// The keyed writer picks partitions itself: write per partition
	// through a plain writer to place each message.
	pw := &kgo.Writer{Addr: kgo.TCP(cfg.Brokers...), Topic: topic, Balancer: partitionOf{}, RequiredAcks: kgo.RequireAll, BatchTimeout: time.Millisecond}
	defer pw.Close()
	var err error
	for range 50 { // a real broker may not know a topic just created yet
		if err = pw.WriteMessages(testCtx(t), msgs...); err == nil {
			return topic
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("produce: %v", err)
	return topic
}

// partitionOf sends a message to the partition named in its key ("pN-").
type partitionOf struct{}

func (partitionOf) Balance(m kgo.Message, partitions ...int) int { return int(m.Key[1] - '0') }

func commitOffsets(t *testing.T, cfg *kafka.Config, group, topic string, offsets map[int]int64) {
	t.Helper()
	var cs []kgo.OffsetCommit
	for p, o := range offsets {
		cs = append(cs, kgo.OffsetCommit{Partition: p, Offset: o})
	}
	res, err := cfg.Client().OffsetCommit(testCtx(t), &kgo.OffsetCommitRequest{GroupID: group, GenerationID: -1, Topics: map[string][]kgo.OffsetCommit{topic: cs}})
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	for _, ps := range res.Topics {
		for _, p := range ps {
			if p.Error != nil {
				t.Fatalf("commit %d: %v", p.Partition, p.Error)
			}
		}
	}
}

func TestPlanAndApplyReset(t *testing.T) {
	t.Parallel()
	cfg := kafkatest.Config(t, 2)
	base := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	topic := resetTopic(t, &cfg, base)
	group := kafkatest.Name(t, "group")
	commitOffsets(t, &cfg, group, topic, map[int]int64{0: 7, 1: 3})
	client := cfg.Client()

	tests := []struct {
		spec string
		want map[int]int64 // partition -> target
	}{
		{spec: "earliest", want: map[int]int64{0: 0, 1: 0}},
		{spec: "latest", want: map[int]int64{0: 10, 1: 10}},
		{spec: "offset:4", want: map[int]int64{0: 4, 1: 4}},
		{spec: "offset:99", want: map[int]int64{0: 10, 1: 10}}, // clamped to the log
		{spec: "timestamp:2026-11-26T08:05:00Z", want: map[int]int64{0: 5, 1: 5}},
		{spec: "timestamp:2026-11-26T08:04:30Z", want: map[int]int64{0: 5, 1: 5}},
		{spec: "timestamp:2020-01-01T00:00:00Z", want: map[int]int64{0: 0, 1: 0}},
		{spec: "timestamp:2030-01-01T00:00:00Z", want: map[int]int64{0: 10, 1: 10}}, // nothing after: the end
	}
	for _, tt := range tests {
		target, err := kafka.ParseReset(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := kafka.PlanReset(testCtx(t), client, group, topic, target)
		if err != nil {
			t.Fatalf("PlanReset(%s): %v", tt.spec, err)
		}
		if len(plan) != 2 {
			t.Fatalf("PlanReset(%s): %d partitions, want 2", tt.spec, len(plan))
		}
		for _, p := range plan {
			wantCommitted := map[int]int64{0: 7, 1: 3}[p.Partition]
			if p.Target != tt.want[p.Partition] || p.Committed != wantCommitted || p.HighWatermark != 10 || p.Lag != 10-p.Target {
				t.Errorf("PlanReset(%s) partition %d: %+v; want target %d, committed %d, high watermark 10, lag %d",
					tt.spec, p.Partition, p, tt.want[p.Partition], wantCommitted, 10-tt.want[p.Partition])
			}
		}
	}

	// Applied: the group's committed offsets are the targets.
	target, _ := kafka.ParseReset("offset:2")
	plan, err := kafka.PlanReset(testCtx(t), client, group, topic, target)
	if err != nil {
		t.Fatal(err)
	}
	if err := kafka.ApplyReset(testCtx(t), client, group, topic, plan); err != nil {
		t.Fatalf("ApplyReset: %v", err)
	}
	lags, err := kafka.GroupLag(testCtx(t), client, group, topic)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lags {
		if l.Committed != 2 || l.Lag != 8 {
			t.Errorf("after reset to offset:2, partition %d: committed %d lag %d, want 2 and 8", l.Partition, l.Committed, l.Lag)
		}
	}
}

func TestPlanResetOfNewGroup(t *testing.T) {
	t.Parallel()
	cfg := kafkatest.Config(t, 2)
	topic := resetTopic(t, &cfg, time.Now())
	group := kafkatest.Name(t, "new")
	plan, err := kafka.PlanReset(testCtx(t), cfg.Client(), group, topic, kafka.ResetTarget{Kind: kafka.ResetEarliest})
	if err != nil {
		t.Fatalf("PlanReset of a group that never committed: %v", err)
	}
	for _, p := range plan {
		if p.Committed != -1 || p.Target != 0 || p.Lag != 10 {
			t.Errorf("partition %d: %+v; want committed -1, target 0, lag 10", p.Partition, p)
		}
	}
	if err := kafka.ApplyReset(testCtx(t), cfg.Client(), group, topic, plan); err != nil {
		t.Fatalf("ApplyReset on a new group: %v", err)
	}
}

func TestApplyResetRefusesActiveGroup(t *testing.T) {
	t.Parallel()
	cfg := kafkatest.Config(t, 2)
	topic := resetTopic(t, &cfg, time.Now())
	group := kafkatest.Name(t, "active")
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	c := kafka.NewConsumer(&cfg, group, topic, zap.NewNop())
	defer c.Close()
	out := make(chan kafka.Message, 100)
	go c.Fetch(ctx, out)
	select {
	case <-out: // a member of the group, with its partitions
	case <-ctx.Done():
		t.Fatal("the consumer never fetched")
	}
	client := cfg.Client()
	plan, err := kafka.PlanReset(ctx, client, group, topic, kafka.ResetTarget{Kind: kafka.ResetEarliest})
	if err != nil {
		t.Fatal(err)
	}
	err = kafka.ApplyReset(ctx, client, group, topic, plan)
	if !errors.Is(err, kafka.ErrGroupActive) || !strings.Contains(err.Error(), group) {
		t.Errorf("ApplyReset with an active member: got %v, want ErrGroupActive naming the group", err)
	}
}

func TestResetConfigApply(t *testing.T) {
	t.Parallel()
	cfg := kafkatest.Config(t, 2)
	topic := resetTopic(t, &cfg, time.Now())
	group := kafkatest.Name(t, "apply")
	commitOffsets(t, &cfg, group, topic, map[int]int64{0: 9, 1: 9})
	ctx := testCtx(t)

	var out bytes.Buffer
	dry := kafka.ResetConfig{Spec: "earliest", DryRun: true, Out: &out}
	stop, err := dry.Apply(ctx, &cfg, group, topic, zap.NewNop())
	if err != nil || !stop {
		t.Fatalf("dry run: stop %v, err %v; want stop and no error", stop, err)
	}
	for _, want := range []string{"dry run, nothing changed", group, topic, "PARTITION", "COMMITTED", "TARGET", "LAG", "20 message(s) to read after the reset"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out.String())
		}
	}
	if lags, _ := kafka.GroupLag(ctx, cfg.Client(), group, topic); lags[0].Committed != 9 || lags[1].Committed != 9 {
		t.Errorf("dry run changed the committed offsets: %+v", lags)
	}

	out.Reset()
	real := kafka.ResetConfig{Spec: "earliest", Out: &out}
	stop, err = real.Apply(ctx, &cfg, group, topic, zap.NewNop())
	if err != nil || stop {
		t.Fatalf("reset: stop %v, err %v; want the stage to go on", stop, err)
	}
	if !strings.Contains(out.String(), "applied") {
		t.Errorf("output does not say the reset was applied:\n%s", out.String())
	}
	if lags, _ := kafka.GroupLag(ctx, cfg.Client(), group, topic); lags[0].Committed != 0 || lags[1].Committed != 0 {
		t.Errorf("after the reset: %+v, want committed 0 everywhere", lags)
	}

	none := kafka.ResetConfig{}
	if stop, err := none.Apply(ctx, &cfg, group, topic, zap.NewNop()); stop || err != nil {
		t.Errorf("no reset configured: stop %v, err %v; want neither", stop, err)
	}
}
