package kafka_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	franz "github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
)

// deleteRecords deletes a partition's messages below offset, as retention
// does.
func deleteRecords(t testing.TB, cfg *kafka.Config, topic string, partition int32, offset int64) {
	t.Helper()
	cl, err := franz.NewClient(franz.SeedBrokers(cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Partition, rp.Offset = partition, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 10000
	resp, err := req.RequestWith(testCtx(t), cl)
	if err != nil {
		t.Fatalf("delete records: %v", err)
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
				t.Fatalf("delete records of %s/%d: %v", topic, rp.Partition, err)
			}
		}
	}
}

func TestReadRange(t *testing.T) {
	t.Parallel()
	cfg := kafkatest.Config(t, 1)
	topic := newTopic(t, &cfg)
	keys := produce(t, &cfg, topic, 20)
	read := func(from, to int64) (int64, []string) {
		t.Helper()
		var got []string
		start, err := kafka.ReadRange(testCtx(t), cfg.Client(), topic, 0, from, to, func(offset int64, v []byte) error {
			got = append(got, fmt.Sprintf("%d=%s", offset, v))
			return nil
		})
		if err != nil {
			t.Fatalf("ReadRange(%d, %d): %v", from, to, err)
		}
		return start, got
	}
	want := func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("%d=value of %s", i, keys[i]))
		}
		return out
	}
	for _, tt := range []struct {
		name            string
		from, to        int64
		start, wantFrom int64
		wantTo          int
	}{
		{"a middle range", 5, 12, 5, 5, 12},
		{"from before the log", -100, 3, 0, 0, 3},
		{"empty", 7, 7, 7, 7, 7},
		{"past the end", 18, 40, 18, 18, 20},
	} {
		start, got := read(tt.from, tt.to)
		if w := want(int(tt.wantFrom), tt.wantTo); start != tt.start || !slices.Equal(got, w) {
			t.Errorf("%s: ReadRange(%d, %d) started at %d and read %q; want %d and %q", tt.name, tt.from, tt.to, start, got, tt.start, w)
		}
	}

	// Retention took offsets 0-7: reading from 2 starts at 8.
	deleteRecords(t, &cfg, topic, 0, 8)
	start, got := read(2, 11)
	if w := want(8, 11); start != 8 || !slices.Equal(got, w) {
		t.Errorf("after retention: ReadRange(2, 11) started at %d and read %q; want 8 and %q", start, got, w)
	}
}
