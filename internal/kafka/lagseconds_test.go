package kafka_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap/zaptest"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
)

// TestLagSeconds: the lag in time is the age of the oldest uncommitted
// message, and the refresh is stamped.
func TestLagSeconds(t *testing.T) {
	cfg := kafkatest.Config(t, 1)
	topic := kafkatest.Name(t, "topic")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kafka.EnsureTopics(ctx, &cfg, kafka.TopicSpec{Name: topic}); err != nil {
		t.Fatal(err)
	}
	w := kafka.NewWriter(&cfg, topic, zaptest.NewLogger(t))
	defer w.Close()
	produced := time.Now().Add(-time.Hour)
	if err := w.Write(ctx, nil, kafka.Message{Key: []byte("k"), Value: []byte("v"), Time: produced}); err != nil {
		t.Fatal(err)
	}
	got, err := kafka.OldestUncommitted(ctx, cfg.Client(), topic, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := got.Sub(produced); d < -time.Second || d > time.Second {
		t.Errorf("oldest uncommitted message time %s, want %s", got, produced)
	}

	reg := prometheus.NewRegistry()
	m := kafka.NewLagMonitor(&cfg, "test", kafkatest.Name(t, "group"), topic, 50*time.Millisecond, reg, zaptest.NewLogger(t), nil)
	mctx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- m.Run(mctx) }()
	for ctx.Err() == nil {
		if n, _ := testutil.GatherAndCount(reg, "wirefeed_test_consumer_lag_seconds"); n == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var lagSeconds, stamp float64
	for _, mf := range mfs {
		switch mf.GetName() {
		case "wirefeed_test_consumer_lag_seconds":
			lagSeconds = mf.GetMetric()[0].GetGauge().GetValue()
		case "wirefeed_test_consumer_lag_refresh_timestamp_seconds":
			stamp = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if lagSeconds < 3500 {
		t.Errorf("lag in seconds %.0f, want about 3600 (the message was produced an hour ago)", lagSeconds)
	}
	if stamp == 0 {
		t.Error("refresh timestamp not set")
	}
}
