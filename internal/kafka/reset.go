package kafka

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	kgo "github.com/segmentio/kafka-go"
	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/flagenv"
)

// ErrGroupActive is returned by ApplyReset when the consumer group has
// members: their commits would overwrite the reset, so it is refused.
var ErrGroupActive = errors.New("consumer group has active members")

// ResetKind says where a consumer group is moved to.
type ResetKind string

// Reset kinds.
const (
	ResetEarliest  ResetKind = "earliest"
	ResetLatest    ResetKind = "latest"
	ResetOffset    ResetKind = "offset"
	ResetTimestamp ResetKind = "timestamp"
)

// ResetTarget is a parsed --reset-offsets value.
type ResetTarget struct {
	Kind   ResetKind
	Offset int64     // ResetOffset: the same offset in every partition
	Time   time.Time // ResetTimestamp: the first message at or after it
}

func (t ResetTarget) String() string {
	switch t.Kind {
	case ResetOffset:
		return "offset:" + strconv.FormatInt(t.Offset, 10)
	case ResetTimestamp:
		return "timestamp:" + t.Time.Format(time.RFC3339Nano)
	}
	return string(t.Kind)
}

// ParseReset parses earliest, latest, offset:N or timestamp:RFC3339.
func ParseReset(s string) (ResetTarget, error) {
	kind, arg, _ := strings.Cut(strings.TrimSpace(s), ":")
	switch ResetKind(kind) {
	case ResetEarliest, ResetLatest:
		if arg != "" {
			break
		}
		return ResetTarget{Kind: ResetKind(kind)}, nil
	case ResetOffset:
		n, err := strconv.ParseInt(arg, 10, 64)
		if err != nil || n < 0 {
			return ResetTarget{}, fmt.Errorf("--reset-offsets %q: offset:N wants a non-negative integer", s)
		}
		return ResetTarget{Kind: ResetOffset, Offset: n}, nil
	case ResetTimestamp:
		t, err := time.Parse(time.RFC3339Nano, arg)
		if err != nil {
			return ResetTarget{}, fmt.Errorf("--reset-offsets %q: timestamp:T wants an RFC 3339 time such as 2026-11-26T08:00:00Z", s)
		}
		return ResetTarget{Kind: ResetTimestamp, Time: t}, nil
	}
	return ResetTarget{}, fmt.Errorf("--reset-offsets %q is not earliest, latest, offset:N or timestamp:RFC3339", s)
}

// ResetConfig is the --reset-offsets configuration of a consuming stage.
type ResetConfig struct {
	Spec   string
	DryRun bool
	// Out receives the plan; standard output when nil.
	Out io.Writer
}

// RegisterFlags registers --reset-offsets and --reset-offsets.dry-run.
func (c *ResetConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Spec, "reset-offsets", "",
		"before consuming, move the consumer group to earliest, latest, offset:N (every partition, clamped to the log) or timestamp:RFC3339\n"+
			"(the first message at or after it); refused while the group has active members. Empty: resume where the group stopped")
	fs.BoolVar(&c.DryRun, "reset-offsets.dry-run", false, "print the --reset-offsets plan per partition (committed offset, target, lag) and exit without changing anything")
}

// Validate checks the configuration.
func (c *ResetConfig) Validate() error {
	var err error
	if c.Spec != "" {
		_, err = ParseReset(c.Spec)
	}
	return flagenv.Validate(
		flagenv.Check{OK: err == nil, Msg: fmt.Sprint(err)},
		flagenv.Check{OK: c.Spec != "" || !c.DryRun, Msg: "--reset-offsets.dry-run needs --reset-offsets"},
	)
}

// Output returns where the plan is printed.
func (c *ResetConfig) Output() io.Writer {
	if c.Out == nil {
		return os.Stdout
	}
	return c.Out
}

// PartitionReset is the plan for one partition.
type PartitionReset struct {
	Partition     int
	Committed     int64 // the group's committed offset; -1 when it never committed
	LogStart      int64
	HighWatermark int64
	Target        int64 // offset the group will read next after the reset
	Lag           int64 // messages the group will read after the reset: HighWatermark - Target
}

// PlanReset computes where target moves group on each partition of topic.
func PlanReset(ctx context.Context, client *Client, group, topic string, target ResetTarget) ([]PartitionReset, error) {
	lags, err := committedOffsets(ctx, client, group, topic)
	if err != nil {
		return nil, err
	}
	var byTime map[int]int64
	if target.Kind == ResetTimestamp {
		if byTime, err = offsetsForTime(ctx, client, topic, lags, target.Time); err != nil {
			return nil, err
		}
	}
	plan := make([]PartitionReset, len(lags))
	for i, l := range lags {
		p := PartitionReset{Partition: l.Partition, Committed: l.Committed, LogStart: l.LogStart, HighWatermark: l.HighWatermark}
		switch target.Kind {
		case ResetEarliest:
			p.Target = l.LogStart
		case ResetLatest:
			p.Target = l.HighWatermark
		case ResetOffset:
			p.Target = min(max(target.Offset, l.LogStart), l.HighWatermark)
		case ResetTimestamp:
			p.Target = byTime[l.Partition]
		default:
			return nil, fmt.Errorf("reset offsets: unknown kind %q", target.Kind)
		}
		p.Lag = p.HighWatermark - p.Target
		plan[i] = p
	}
	return plan, nil
}

// committedOffsets returns the partitions of topic with their log bounds and
// the group's committed offsets, -1 where it never committed, also for a
// group the broker does not know (which some brokers answer with
// GroupIdNotFound rather than with no offsets).
func committedOffsets(ctx context.Context, client *Client, group, topic string) ([]PartitionLag, error) {
	out, err := TopicOffsets(ctx, client, topic)
	if err != nil {
		return nil, err
	}
	parts := make([]int, len(out))
	for i := range out {
		parts[i] = out[i].Partition
	}
	res, err := client.OffsetFetch(ctx, &kgo.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		return nil, fmt.Errorf("committed offsets of group %s: %w", group, err)
	}
	if res.Error != nil && !errors.Is(res.Error, kgo.GroupIdNotFound) {
		return nil, fmt.Errorf("committed offsets of group %s: %w", group, res.Error)
	}
	for _, cp := range res.Topics[topic] {
		for i := range out {
			if out[i].Partition == cp.Partition && cp.Error == nil {
				out[i].Committed = cp.CommittedOffset
			}
		}
	}
	return out, nil
}

// offsetsForTime returns, per partition, the first offset whose timestamp is
// at or after t, or the high watermark when there is none.
func offsetsForTime(ctx context.Context, client *Client, topic string, lags []PartitionLag, t time.Time) (map[int]int64, error) {
	reqs := make([]kgo.OffsetRequest, len(lags))
	out := make(map[int]int64, len(lags))
	for i, l := range lags {
		reqs[i] = kgo.TimeOffsetOf(l.Partition, t)
		out[l.Partition] = l.HighWatermark
	}
	res, err := client.ListOffsets(ctx, &kgo.ListOffsetsRequest{Topics: map[string][]kgo.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("offsets of %s at %s: %w", topic, t.Format(time.RFC3339), err)
	}
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("offsets of %s/%d at %s: %w", topic, po.Partition, t.Format(time.RFC3339), po.Error)
		}
		// kafka-go files an answer under Offsets when it names a message;
		// "no message at or after t" comes back as offset -1 and is left
		// at the high watermark.
		for off := range po.Offsets {
			if off >= 0 {
				out[po.Partition] = off
			}
		}
	}
	return out, nil
}

// ApplyReset commits the plan's targets for group, after checking that the
// group has no active members (a member's next commit would undo the reset,
// and the broker refuses commits without a generation while one is active).
func ApplyReset(ctx context.Context, client *Client, group, topic string, plan []PartitionReset) error {
	desc, err := client.DescribeGroups(ctx, &kgo.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil {
		return fmt.Errorf("describe group %s: %w", group, err)
	}
	for _, g := range desc.Groups {
		if g.Error != nil && !errors.Is(g.Error, kgo.GroupIdNotFound) {
			return fmt.Errorf("describe group %s: %w", group, g.Error)
		}
		if len(g.Members) > 0 {
			return fmt.Errorf("%w: group %s is %s with %d member(s); stop them first (or use a new --group)", ErrGroupActive, group, g.GroupState, len(g.Members))
		}
	}
	commits := make([]kgo.OffsetCommit, len(plan))
	for i, p := range plan {
		commits[i] = kgo.OffsetCommit{Partition: p.Partition, Offset: p.Target}
	}
	res, err := client.OffsetCommit(ctx, &kgo.OffsetCommitRequest{
		GroupID: group, GenerationID: -1, // a commit outside any generation: accepted by an empty group only
		Topics: map[string][]kgo.OffsetCommit{topic: commits},
	})
	if err != nil {
		return fmt.Errorf("commit reset offsets of group %s: %w", group, err)
	}
	for _, ps := range res.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return fmt.Errorf("commit reset offset of group %s on %s/%d: %w", group, topic, p.Partition, p.Error)
			}
		}
	}
	return nil
}

// PrintResetPlan writes the plan as a table.
func PrintResetPlan(w io.Writer, group, topic string, target ResetTarget, plan []PartitionReset, dryRun bool) {
	mode := "applied"
	if dryRun {
		mode = "dry run, nothing changed"
	}
	fmt.Fprintf(w, "reset-offsets %s: group %s, topic %s (%s)\n", target, group, topic, mode)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "PARTITION\tCOMMITTED\tLOG-START\tHIGH-WATERMARK\tTARGET\tLAG\t")
	var lag int64
	for _, p := range plan {
		committed := strconv.FormatInt(p.Committed, 10)
		if p.Committed < 0 {
			committed = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%d\t\n", p.Partition, committed, p.LogStart, p.HighWatermark, p.Target, p.Lag)
		lag += p.Lag
	}
	tw.Flush()
	fmt.Fprintf(w, "%d message(s) to read after the reset\n", lag)
}

// Apply runs the configured reset of group on topic, if any: it plans,
// prints the plan, and commits it unless DryRun. It reports whether the
// stage must stop now (a dry run) instead of going on to consume.
func (c *ResetConfig) Apply(ctx context.Context, cfg *Config, group, topic string, log *zap.Logger) (stop bool, err error) {
	if c.Spec == "" {
		return false, nil
	}
	target, err := ParseReset(c.Spec)
	if err != nil {
		return false, err
	}
	client := cfg.Client()
	plan, err := PlanReset(ctx, client, group, topic, target)
	if err != nil {
		return false, fmt.Errorf("plan reset of group %s: %w", group, err)
	}
	if !c.DryRun {
		if err := ApplyReset(ctx, client, group, topic, plan); err != nil {
			return false, err
		}
	}
	PrintResetPlan(c.Output(), group, topic, target, plan, c.DryRun)
	for _, p := range plan {
		log.Info("reset offsets", zap.String("group", group), zap.String("topic", topic), zap.Int("partition", p.Partition),
			zap.Int64("committed", p.Committed), zap.Int64("target", p.Target), zap.Int64("lag", p.Lag), zap.Bool("dry_run", c.DryRun))
	}
	return c.DryRun, nil
}
