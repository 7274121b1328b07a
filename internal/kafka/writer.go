package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	kgo "github.com/segmentio/kafka-go"
	"go.uber.org/zap"
)

// Writer produces keyed messages to one topic and returns only when every
// message is acknowledged by all in-sync replicas.
type Writer struct {
	w     *kgo.Writer
	topic string
	log   *zap.Logger
}

// NewWriter returns a Writer for topic. Keys are partitioned with murmur2,
// as the Java client does, so other Kafka clients agree on where a key goes.
func NewWriter(cfg *Config, topic string, log *zap.Logger) *Writer {
	codec, _ := cfg.codec() // checked by Validate
	return &Writer{
		topic: topic,
		log:   log.With(zap.String("topic", topic)),
		w: &kgo.Writer{
			Addr:                   kgo.TCP(cfg.Brokers...),
			Topic:                  topic,
			Balancer:               &kgo.Murmur2Balancer{},
			RequiredAcks:           kgo.RequireAll,
			Compression:            codec,
			BatchSize:              1000,
			BatchBytes:             int64(cfg.MaxMessageBytes),
			BatchTimeout:           5 * time.Millisecond,
			WriteTimeout:           cfg.WriteTimeout,
			MaxAttempts:            3,
			AllowAutoTopicCreation: false,
			Transport:              &kgo.Transport{ClientID: cfg.ClientID, DialTimeout: cfg.DialTimeout},
		},
	}
}

// Topic returns the topic written to.
func (w *Writer) Topic() string { return w.topic }

// Write produces msgs and waits for their acknowledgement. It retries a
// failed write with exponential backoff (capped at ten seconds) until it
// succeeds or ctx is done; a retry may produce a message twice, which the
// pipeline tolerates (at-least-once, idempotent downstream). onRetry, if not
// nil, is called before each retry.
func (w *Writer) Write(ctx context.Context, onRetry func(error), msgs ...kgo.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	backoff := 100 * time.Millisecond
	for {
		err := summarize(w.w.WriteMessages(ctx, msgs...))
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("write %d messages to %s: %w", len(msgs), w.topic, ctx.Err())
		}
		w.log.Warn("write failed; retrying", zap.Int("messages", len(msgs)), zap.Duration("backoff", backoff), zap.Error(err))
		if onRetry != nil {
			onRetry(err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("write %d messages to %s: %w (last error: %v)", len(msgs), w.topic, ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// Close flushes and closes the writer.
func (w *Writer) Close() error { return w.w.Close() }

// summarize shortens kafka-go's per-message write errors, which repeat the
// same cause for every message of a batch, to a count and the first cause.
func summarize(err error) error {
	var we kgo.WriteErrors
	if !errors.As(err, &we) {
		return err
	}
	for _, e := range we {
		if e != nil {
			return fmt.Errorf("%d of %d messages not written: %w", we.Count(), len(we), e)
		}
	}
	return err
}
