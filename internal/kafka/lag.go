package kafka

import (
	"context"
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
	ctx, cancel := bounded(ctx)
	defer cancel()
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
	ctx, cancel := bounded(ctx)
	defer cancel()
	out, err := committedOffsets(ctx, client, group, topic)
	if err != nil {
		return nil, err
	}
	for i := range out {
		from := max(out[i].Committed, out[i].LogStart)
		out[i].Lag = max(0, out[i].HighWatermark-from)
	}
	return out, nil
}

// OldestUncommitted returns the timestamp of the message at offset, the
// first one a group has not committed: how long ago it was produced is the
// group's lag in time.
func OldestUncommitted(ctx context.Context, client *Client, topic string, partition int, offset int64) (time.Time, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	res, err := client.Fetch(ctx, &kgo.FetchRequest{Topic: topic, Partition: partition, Offset: offset, MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 100 * time.Millisecond})
	if err != nil {
		return time.Time{}, fmt.Errorf("fetch %s/%d at %d: %w", topic, partition, offset, err)
	}
	if res.Error != nil {
		return time.Time{}, fmt.Errorf("fetch %s/%d at %d: %w", topic, partition, offset, res.Error)
	}
	for {
		r, err := res.Records.ReadRecord()
		if err != nil {
			return time.Time{}, fmt.Errorf("fetch %s/%d at %d: %w", topic, partition, offset, err)
		}
		if r.Offset >= offset {
			return r.Time, nil
		}
	}
}

// LagMonitor publishes a group's lag per partition, in messages and in
// seconds, as gauges refreshed on an interval.
type LagMonitor struct {
	client     *Client
	group      string
	topic      string
	interval   time.Duration
	lag        *prometheus.GaugeVec
	lagSeconds *prometheus.GaugeVec
	refreshed  prometheus.Gauge
	log        *zap.Logger
	onResult   func(error)
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
	lagSeconds := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "wirefeed",
		Subsystem: stage,
		Name:      "consumer_lag_seconds",
		Help:      "How long ago the oldest message not yet committed by the stage's consumer group was produced, per partition (0 when caught up).",
	}, []string{"topic", "partition"})
	refreshed := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "wirefeed",
		Subsystem: stage,
		Name:      "consumer_lag_refresh_timestamp_seconds",
		Help:      "Unix time of the last successful refresh of the consumer lag gauges (a stale lag looks healthy).",
	})
	reg.MustRegister(lag, lagSeconds, refreshed)
	return &LagMonitor{client: cfg.Client(), group: group, topic: topic, interval: interval, lag: lag, lagSeconds: lagSeconds,
		refreshed: refreshed, log: log, onResult: onResult}
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
	now := time.Now()
	for _, l := range lags {
		p := strconv.Itoa(l.Partition)
		m.lag.WithLabelValues(m.topic, p).Set(float64(l.Lag))
		age := 0.0
		if l.Lag > 0 {
			if t, err := OldestUncommitted(rctx, m.client, m.topic, l.Partition, max(l.Committed, l.LogStart)); err == nil {
				age = max(0, now.Sub(t).Seconds())
			} else if ctx.Err() == nil {
				m.log.Debug("consumer lag in seconds not known", zap.Int("partition", l.Partition), zap.Error(err))
				continue // keep the last value
			}
		}
		m.lagSeconds.WithLabelValues(m.topic, p).Set(age)
	}
	m.refreshed.SetToCurrentTime()
}

// adminTimeout bounds an admin request whose caller set no deadline: a
// broker connection that hangs must not hang the caller with it.
const adminTimeout = 30 * time.Second

func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, adminTimeout)
}
