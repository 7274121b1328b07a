package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	kgo "github.com/segmentio/kafka-go"
	"go.uber.org/zap"
)

// PartitionLag is the state of one partition for a consumer group.
type PartitionLag struct {
	Partition     int
	Committed     int64 // next offset the group will read; -1 when it never committed
	LogStart      int64 // first offset still in the log
	HighWatermark int64 // offset after the last message
	Lag           int64 // messages not yet committed by the group
}

// TopicOffsets returns, per partition of topic, the first offset still in
// the log and the high watermark (Committed is -1 and Lag the whole log).
func TopicOffsets(ctx context.Context, client *Client, topic string) ([]PartitionLag, error) {
	parts, err := Partitions(ctx, client, topic)
	if err != nil {
		return nil, err
	}
	reqs := make([]kgo.OffsetRequest, 0, 2*len(parts))
	for _, p := range parts {
		reqs = append(reqs, kgo.FirstOffsetOf(p), kgo.LastOffsetOf(p))
	}
	offs, err := client.ListOffsets(ctx, &kgo.ListOffsetsRequest{Topics: map[string][]kgo.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	out := make([]PartitionLag, len(parts))
	byPart := map[int]*PartitionLag{}
	for i, p := range parts {
		out[i] = PartitionLag{Partition: p, Committed: -1}
		byPart[p] = &out[i]
	}
	for _, po := range offs.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("offsets of %s/%d: %w", topic, po.Partition, po.Error)
		}
		if pl := byPart[po.Partition]; pl != nil {
			pl.LogStart, pl.HighWatermark = po.FirstOffset, po.LastOffset
			pl.Lag = po.LastOffset - po.FirstOffset
		}
	}
	return out, nil
}

// GroupLag computes a group's lag on topic for every partition, from the
// group's committed offsets and the partitions' high watermarks. (The lag of
// kafka-go's Reader.Stats is the lag of the last partition fetched by one
// reader, not the group's.)
func GroupLag(ctx context.Context, client *Client, group, topic string) ([]PartitionLag, error) {
	out, err := TopicOffsets(ctx, client, topic)
	if err != nil {
		return nil, err
	}
	parts := make([]int, len(out))
	for i := range out {
		parts[i] = out[i].Partition
	}
	committed, err := client.OffsetFetch(ctx, &kgo.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		return nil, fmt.Errorf("committed offsets of group %s: %w", group, err)
	}
	// A group that never joined nor committed is unknown to some brokers;
	// its committed offsets are -1, and its lag is the whole log.
	if committed.Error != nil && !errors.Is(committed.Error, kgo.GroupIdNotFound) {
		return nil, fmt.Errorf("committed offsets of group %s: %w", group, committed.Error)
	}
	for _, cp := range committed.Topics[topic] {
		for i := range out {
			if out[i].Partition == cp.Partition && cp.Error == nil {
				out[i].Committed = cp.CommittedOffset
			}
		}
	}
	for i := range out {
		from := max(out[i].Committed, out[i].LogStart)
		out[i].Lag = max(0, out[i].HighWatermark-from)
	}
	return out, nil
}

// LagMonitor publishes a group's lag per partition as a gauge, refreshed on
// an interval.
type LagMonitor struct {
	client   *Client
	group    string
	topic    string
	interval time.Duration
	lag      *prometheus.GaugeVec
	log      *zap.Logger
	onResult func(error)
}

// NewLagMonitor registers wirefeed_<stage>_consumer_lag_records with reg.
// onResult, if not nil, receives the outcome of each refresh (readiness).
func NewLagMonitor(cfg *Config, stage, group, topic string, interval time.Duration, reg prometheus.Registerer, log *zap.Logger, onResult func(error)) *LagMonitor {
	lag := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "wirefeed",
		Subsystem: stage,
		Name:      "consumer_lag_records",
		Help:      "Messages of the input topic not yet committed by the stage's consumer group, per partition (high watermark minus committed offset).",
	}, []string{"topic", "partition"})
	reg.MustRegister(lag)
	return &LagMonitor{client: cfg.Client(), group: group, topic: topic, interval: interval, lag: lag, log: log, onResult: onResult}
}

// Run refreshes the gauge until ctx is done.
func (m *LagMonitor) Run(ctx context.Context) error {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		m.refresh(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (m *LagMonitor) refresh(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, m.interval)
	defer cancel()
	lags, err := GroupLag(rctx, m.client, m.group, m.topic)
	if m.onResult != nil && ctx.Err() == nil {
		m.onResult(err)
	}
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("consumer lag refresh failed", zap.Error(err))
		}
		return
	}
	for _, l := range lags {
		m.lag.WithLabelValues(m.topic, strconv.Itoa(l.Partition)).Set(float64(l.Lag))
	}
}
