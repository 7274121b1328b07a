package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	kgo "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
)

// ReadRange reads the messages of one partition with offsets in [from, to),
// in offset order, and calls fn with each one's offset and value. Offsets
// below the first one still in the log (retention) are passed over; it
// returns the offset it started from, which is from unless the log begins
// later. It reads outside any consumer group and commits nothing.
func ReadRange(ctx context.Context, client *Client, topic string, partition int, from, to int64, fn func(offset int64, value []byte) error) (int64, error) {
	start := max(from, 0)
	empty := 0 // answers in a row with no records
	for next := start; next < to; {
		res, err := client.Fetch(ctx, &kgo.FetchRequest{Topic: topic, Partition: partition, Offset: next,
			MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 100 * time.Millisecond})
		if err != nil {
			return start, fmt.Errorf("read %s/%d at %d: %w", topic, partition, next, err)
		}
		switch {
		case errors.Is(res.Error, kgo.OffsetOutOfRange) && next == start:
			// The log begins later (retention): read from where it begins.
			// (Kafka does not say where in this answer.)
			closeRecords(res)
			first, err := firstOffset(ctx, client, topic, partition)
			if err != nil {
				return start, err
			}
			if first <= next {
				return start, fmt.Errorf("read %s/%d at %d: %w", topic, partition, next, res.Error)
			}
			start, next = first, first
			continue
		case res.Error != nil:
			closeRecords(res)
			return start, fmt.Errorf("read %s/%d at %d: %w", topic, partition, next, res.Error)
		}
		got, any := false, false
		for next < to {
			r, err := res.Records.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				closeRecords(res)
				return start, fmt.Errorf("read %s/%d at %d: %w", topic, partition, next, err)
			}
			any = true
			if r.Offset < next {
				continue // a batch may begin before the offset asked for
			}
			if r.Offset >= to {
				next = to
				break
			}
			v, err := protocol.ReadAll(r.Value)
			if err != nil {
				closeRecords(res)
				return start, fmt.Errorf("read %s/%d at %d: %w", topic, partition, r.Offset, err)
			}
			if err := fn(r.Offset, v); err != nil {
				closeRecords(res)
				return start, err
			}
			next, got = r.Offset+1, true
		}
		closeRecords(res)
		switch {
		case got || next >= to:
			empty = 0
		case res.HighWatermark <= next:
			return start, nil // nothing more in the log
		case !any && empty < 3:
			// An answer with no records at all though the log goes on
			// (a broker busy, a remote read timed out): ask again.
			empty++
			if !sleep(ctx, 50*time.Millisecond) {
				return start, ctx.Err()
			}
		default:
			// Offsets may have holes (compaction, transaction markers,
			// whose batches the reader skips): go on after this one.
			empty = 0
			next++
		}
	}
	return start, nil
}

// firstOffset returns the first offset still in a partition's log.
func firstOffset(ctx context.Context, client *Client, topic string, partition int) (int64, error) {
	offs, err := client.ListOffsets(ctx, &kgo.ListOffsetsRequest{Topics: map[string][]kgo.OffsetRequest{topic: {kgo.FirstOffsetOf(partition)}}})
	if err != nil {
		return 0, fmt.Errorf("list offsets of %s/%d: %w", topic, partition, err)
	}
	for _, po := range offs.Topics[topic] {
		if po.Partition == partition {
			if po.Error != nil {
				return 0, fmt.Errorf("list offsets of %s/%d: %w", topic, partition, po.Error)
			}
			return po.FirstOffset, nil
		}
	}
	return 0, fmt.Errorf("list offsets of %s/%d: no answer for the partition", topic, partition)
}

func closeRecords(res *kgo.FetchResponse) {
	if c, ok := res.Records.(io.Closer); ok {
		c.Close()
	}
}
