package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	kgo "github.com/segmentio/kafka-go"
	"go.uber.org/zap"
)

// Message is a fetched Kafka message.
type Message = kgo.Message

// Header is a Kafka message header.
type Header = kgo.Header

// Consumer reads one topic as a member of a consumer group. It never commits
// on its own: the caller commits what its downstream write has made safe.
type Consumer struct {
	r       *kgo.Reader
	topic   string
	group   string
	log     *zap.Logger
	onRetry func(op string)
}

// OnRetry makes the consumer call f before it retries a failed fetch (op
// "fetch") or commit (op "commit"), for metrics. Call it before Fetch.
func (c *Consumer) OnRetry(f func(op string)) { c.onRetry = f }

// RetryCounters registers stage's counters of consumer retries,
// wirefeed_STAGE_fetch_retries_total and wirefeed_STAGE_commit_retries_total,
// and returns the function for OnRetry that counts them.
func RetryCounters(reg prometheus.Registerer, stage string) func(op string) {
	counters := map[string]prometheus.Counter{}
	for op, what := range map[string]string{"fetch": "Fetches from", "commit": "Offset commits to"} {
		counters[op] = prometheus.NewCounter(prometheus.CounterOpts{
			Name: fmt.Sprintf("wirefeed_%s_%s_retries_total", stage, op),
			Help: what + " Kafka that failed and were retried with backoff (a broker or the group coordinator restarting, a rebalance).",
		})
		reg.MustRegister(counters[op])
	}
	return func(op string) {
		if c := counters[op]; c != nil {
			c.Inc()
		}
	}
}

func (c *Consumer) retried(op string) {
	if c.onRetry != nil {
		c.onRetry(op)
	}
}

// NewConsumer joins group on topic. A group with no committed offsets starts
// at the earliest message, so nothing published before the first start is
// missed.
func NewConsumer(cfg *Config, group, topic string, log *zap.Logger) *Consumer {
	log = log.With(zap.String("topic", topic), zap.String("group", group))
	return &Consumer{
		topic: topic,
		group: group,
		log:   log,
		r: kgo.NewReader(kgo.ReaderConfig{
			Brokers:               cfg.Brokers,
			GroupID:               group,
			Topic:                 topic,
			Dialer:                &kgo.Dialer{ClientID: cfg.ClientID, Timeout: cfg.DialTimeout, DualStack: true},
			MinBytes:              1,
			MaxBytes:              cfg.fetchMaxBytes(),
			MaxWait:               250 * time.Millisecond,
			CommitInterval:        0, // synchronous commits, only when asked
			StartOffset:           kgo.FirstOffset,
			SessionTimeout:        cfg.SessionTimeout,
			HeartbeatInterval:     cfg.SessionTimeout / 4,
			RebalanceTimeout:      cfg.SessionTimeout,
			JoinGroupBackoff:      time.Second,
			WatchPartitionChanges: true,
			ErrorLogger:           kgo.LoggerFunc(func(f string, args ...any) { log.Warn(fmt.Sprintf(f, args...)) }),
		}),
	}
}

// fetchMaxBytes is --kafka.fetch-max-bytes; zero (a Config built in code)
// means its default.
func (c *Config) fetchMaxBytes() int {
	if c.FetchMaxBytes == 0 {
		return 1 << 20
	}
	return c.FetchMaxBytes
}

// Topic returns the topic consumed.
func (c *Consumer) Topic() string { return c.topic }

// Group returns the consumer group.
func (c *Consumer) Group() string { return c.group }

// Fetch fetches messages and sends them on out until ctx is done, then
// returns nil. Messages fetched but not yet committed when the process stops
// are fetched again by whoever owns the partition next.
//
// A failed fetch (the broker restarting, say) is retried with backoff; only
// a closed reader ends Fetch with an error.
func (c *Consumer) Fetch(ctx context.Context, out chan<- Message) error {
	backoff := 100 * time.Millisecond
	for {
		m, err := c.r.FetchMessage(ctx)
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return nil
			case errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe):
				return fmt.Errorf("fetch from %s: %w", c.topic, err)
			}
			c.log.Warn("fetch failed; retrying", zap.Duration("backoff", backoff), zap.Error(err))
			c.retried("fetch")
			if !sleep(ctx, backoff) {
				return nil
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		select {
		case out <- m:
		case <-ctx.Done():
			return nil
		}
	}
}

// Commit commits the offsets after msgs, per partition. A failed commit
// (the broker or the group coordinator restarting, a rebalance) is retried
// with backoff until it succeeds or ctx ends: the work is done downstream
// and only its acknowledgement is pending.
func (c *Consumer) Commit(ctx context.Context, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	backoff := 200 * time.Millisecond
	for {
		err := c.r.CommitMessages(ctx, msgs...)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || errors.Is(err, io.ErrClosedPipe) {
			return fmt.Errorf("commit offsets of %s for group %s: %w", c.topic, c.group, err)
		}
		c.log.Warn("commit failed; retrying", zap.Duration("backoff", backoff), zap.Error(err))
		c.retried("commit")
		if !sleep(ctx, backoff) {
			return fmt.Errorf("commit offsets of %s for group %s: %w", c.topic, c.group, err)
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// sleep waits d or until ctx is done, and reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Close leaves the group and closes the connections.
func (c *Consumer) Close() error { return c.r.Close() }

// BatchHandler handles a batch of fetched messages. It returns nil when every
// message has been dealt with downstream (written, or dead-lettered), so that
// the batch may be committed; any error stops the consumer without commit.
type BatchHandler func(ctx context.Context, batch []Message) error

// BatchOptions bound the batches of RunBatches.
type BatchOptions struct {
	MaxMessages int           // a batch is handled when it holds this many
	Linger      time.Duration // or when its first message is this old
	Drain       time.Duration // on shutdown, how long the batch in hand may take
	// BeforeCommit, if set, runs after a batch is handled and before it is
	// committed; an error stops RunBatches with the batch uncommitted, as a
	// crash at that point would (tests use it to prove nothing is lost).
	BeforeCommit func(batch []Message) error
}

// RunBatches fetches, batches, handles and commits until ctx is done. On
// shutdown it stops fetching, lets the batch in hand finish (within
// opts.Drain), commits it, and returns. Messages fetched after the batch in
// hand are not committed, so they are fetched again on restart.
func (c *Consumer) RunBatches(ctx context.Context, opts BatchOptions, handle BatchHandler) error {
	// Work runs on its own context, cancelled only opts.Drain after ctx, so
	// that a batch in hand at shutdown is written and committed, not torn.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopDrainTimer := context.AfterFunc(ctx, func() { time.AfterFunc(opts.Drain, cancelWork) })
	defer stopDrainTimer()

	in := make(chan Message, opts.MaxMessages)
	fetchErr := make(chan error, 1)
	// Fetching stops with ctx, or when RunBatches returns for any reason.
	fetchCtx, stopFetch := context.WithCancel(ctx)
	defer stopFetch()
	go func() { fetchErr <- c.Fetch(fetchCtx, in) }()

	var batch []Message
	var timer <-chan time.Time
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := handle(work, batch); err != nil {
			return err
		}
		if opts.BeforeCommit != nil {
			if err := opts.BeforeCommit(batch); err != nil {
				return err
			}
		}
		if err := c.Commit(work, batch...); err != nil {
			return err
		}
		batch, timer = batch[:0], nil
		return nil
	}
	for {
		select {
		case m := <-in:
			batch = append(batch, m)
			if len(batch) == 1 {
				timer = time.After(opts.Linger)
			}
			if len(batch) >= opts.MaxMessages {
				if err := flush(); err != nil {
					return err
				}
			}
		case <-timer:
			if err := flush(); err != nil {
				return err
			}
		case err := <-fetchErr:
			if err != nil {
				return err
			}
			fetchErr = nil // fetching stopped because ctx is done
		case <-ctx.Done():
			// Stop order: fetching stops with ctx; the batch in hand is
			// finished and committed; the caller then closes the reader.
			if err := flush(); err != nil {
				return fmt.Errorf("drain on shutdown: %w", err)
			}
			return nil
		}
	}
}
