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
			first, err := logStart(ctx, client, topic, partition)
			if err != nil {
				return start, err
			}
			if first <= next {
				return start, fmt.Errorf("read %s/%d at %d: %w", topic, partition, next, res.Error)
			}
			start, next = first, first
			continue
		case res.Error != nil:
			return start, fmt.Errorf("read %s/%d at %d: %w", topic, partition, next, res.Error)
		}
		got, answered := false, false
		for next < to {
			r, err := res.Records.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return start, fmt.Errorf("read %s/%d at %d: %w", topic, partition, next, err)
			}
			answered = true
			if r.Offset < next {
				continue // a batch may begin before the offset asked for
			}
			if r.Offset >= to {
				next = to
				break
			}
			v, err := protocol.ReadAll(r.Value)
			if err != nil {
				return start, fmt.Errorf("read %s/%d at %d: %w", topic, partition, r.Offset, err)
			}
			if err := fn(r.Offset, v); err != nil {
				return start, err
			}
			next, got = r.Offset+1, true
		}
		switch {
		case got || next >= to:
			empty = 0
		case res.HighWatermark <= next:
			return start, nil // nothing more in the log
		case !answered && empty < 3:
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

// logStart returns the first offset still in a partition's log.
func logStart(ctx context.Context, client *Client, topic string, partition int) (int64, error) {
	offs, err := TopicOffsets(ctx, client, topic)
	if err != nil {
		return 0, err
	}
	for _, o := range offs {
		if o.Partition == partition {
			return o.LogStart, nil
		}
	}
	return 0, fmt.Errorf("offsets of %s: no partition %d", topic, partition)
}
