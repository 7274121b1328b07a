package kafka_test

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
)

// TestReadRangeAsksAgainOnEmptyAnswer answers one fetch with no records
// though the high watermark is beyond the offset asked for (what a broker
// may answer when a remote-storage read times out): ReadRange asks again
// rather than pass over the offset. It needs the embedded broker, whose
// answers it can replace.
func TestReadRangeAsksAgainOnEmptyAnswer(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := kafkatest.Config(t, 1)
	cfg.Brokers = flagenv.Strings(c.ListenAddrs())
	topic := newTopic(t, &cfg)
	produce(t, &cfg, topic, 20)
	c.ControlKey(int16(kmsg.Fetch), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		req := kr.(*kmsg.FetchRequest)
		if len(req.Topics) == 0 || len(req.Topics[0].Partitions) == 0 || req.Topics[0].Partitions[0].FetchOffset != 5 {
			return nil, nil, false
		}
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic, rt.TopicID = req.Topics[0].Topic, req.Topics[0].TopicID
		rp := kmsg.NewFetchResponseTopicPartition()
		rp.Partition, rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = 0, 20, 20, 0
		rt.Partitions = append(rt.Partitions, rp)
		resp.Topics = append(resp.Topics, rt)
		return resp, nil, true
	})
	var got []int64
	start, err := kafka.ReadRange(testCtx(t), cfg.Client(), topic, 0, 5, 10, func(offset int64, v []byte) error {
		got = append(got, offset)
		return nil
	})
	if err != nil || start != 5 {
		t.Fatalf("ReadRange(5, 10): start %d, %v", start, err)
	}
	if fmt.Sprint(got) != "[5 6 7 8 9]" {
		t.Errorf("ReadRange(5, 10) read %v, want [5 6 7 8 9]", got)
	}
}
