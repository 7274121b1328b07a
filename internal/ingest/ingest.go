// Package ingest is the first stage of wirefeed: it takes raw feed items from
// their sources and publishes each one, once, to the raw topic, untouched,
// in the envelope of pkg/record.Raw.
//
// Sources are listed in a sources file (LoadSources): http feeds polled on
// a schedule, spool folders, and push endpoints that clients POST items
// to. RSS and Atom documents are split into one raw item per entry (see
// splitFeed). Which http and push items were published is kept in the
// seen-set (package seen), a compacted topic every replica reads; spool
// folders keep their own ledger beside the files. See docs/ingest.md.
package ingest

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/seen"
	"github.com/wirefeed/wirefeed/internal/telemetry"
)

// Config configures the ingest stage.
type Config struct {
	Kafka     kafka.Config
	Telemetry telemetry.Config
	RawTopic  string

	SpoolDir     string
	SpoolSource  string
	SpoolFormat  string
	SpoolPoll    time.Duration
	SpoolSettle  time.Duration
	SpoolBatch   int
	MaxItemBytes int64

	// Sources is the sources file; empty when only --spool is used.
	Sources string
	// SeenTopic is the compacted topic of published item keys; a positive
	// SeenRetention also deletes markers older than it.
	SeenTopic     string
	SeenRetention time.Duration
	// Ownership decides which replica polls an http source: "group" (one
	// replica per source, by consumer group assignment of the partitions
	// of OwnershipTopic) or "none" (every replica polls every source).
	Ownership           string
	OwnershipTopic      string
	OwnershipGroup      string
	OwnershipPartitions int
	// PushAddr is where POST /v1/items is served; empty: no push.
	PushAddr string
	Poll     PollConfig
}

// PollConfig configures the fetching of http sources.
type PollConfig struct {
	Interval       time.Duration
	Jitter         float64
	ConnectTimeout time.Duration
	Timeout        time.Duration
	MaxBodyBytes   int64
	MaxRedirects   int
	BackoffMax     time.Duration
	RetryAfterMax  time.Duration
	UserAgent      string
}

// DefaultHTTPAddr is where ingest serves /metrics by default.
const DefaultHTTPAddr = "127.0.0.1:9101"

// Defaults of the topics and group ingest owns.
const (
	DefaultOwnershipTopic = "wirefeed.ingest.sources"
	DefaultOwnershipGroup = "wirefeed-ingest"
)

// RegisterFlags registers every flag of the stage.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.Kafka.RegisterFlags(fs)
	c.Telemetry.RegisterFlags(fs, DefaultHTTPAddr)
	fs.StringVar(&c.RawTopic, "topic.raw", kafka.DefaultRawTopic, "topic raw items are published to")
	fs.StringVar(&c.SpoolDir, "spool", "", "spool folder to watch: each complete file dropped in is one raw item; shorthand for one spool source (required unless --sources is given)")
	fs.StringVar(&c.SpoolSource, "spool.source", "spool", "source slug written in the envelope of --spool items; normalize refines it from the item's URL or ID")
	fs.StringVar(&c.SpoolFormat, "spool.format", "textdump", "format hint of --spool items: textdump, or empty to let normalize sniff it")
	fs.DurationVar(&c.SpoolPoll, "spool.poll", time.Second, "how often a spool folder is scanned (a spool source's interval overrides it)")
	fs.DurationVar(&c.SpoolSettle, "spool.settle", 2*time.Second, "a file written in place is taken once unchanged for this long (files renamed in from a hidden or .tmp name are taken at once)")
	fs.IntVar(&c.SpoolBatch, "spool.batch", 100, "most files published in one produce request")
	fs.Int64Var(&c.MaxItemBytes, "max-item-bytes", 4<<20, "largest raw item accepted, in bytes; larger spool files go to failed/, larger feed entries and pushed items are refused")

	fs.StringVar(&c.Sources, "sources", "", "sources file (YAML) listing http, spool and push sources; re-read on SIGHUP (see deploy/sources.example.yaml)")
	fs.StringVar(&c.SeenTopic, "seen.topic", seen.DefaultTopic, "compacted topic of the keys of published http and push items, shared by every replica")
	fs.DurationVar(&c.SeenRetention, "seen.retention", 0, "when creating --seen.topic: also delete markers older than this (0: keep every marker); an item older than it still in its feed is published once more")
	fs.StringVar(&c.Ownership, "ownership", "group", "which replica polls an http source: group (one replica per source, by consumer group) or none (every replica polls every source)")
	fs.StringVar(&c.OwnershipTopic, "ownership.topic", DefaultOwnershipTopic, "topic whose partitions the consumer group assigns: a source belongs to the replica holding its partition (it carries no messages)")
	fs.StringVar(&c.OwnershipGroup, "ownership.group", DefaultOwnershipGroup, "consumer group of the replicas that share the sources")
	fs.IntVar(&c.OwnershipPartitions, "ownership.partitions", 12, "partitions of --ownership.topic: the most replicas that can share the http sources")
	fs.StringVar(&c.PushAddr, "push.addr", "", "address of the push endpoint POST /v1/items (host:port; empty: none; required when a push source is configured)")

	fs.DurationVar(&c.Poll.Interval, "poll.interval", 5*time.Minute, "how often an http source is fetched when it sets no interval")
	fs.Float64Var(&c.Poll.Jitter, "poll.jitter", 0.1, "random spread of each wait between fetches, as a fraction of it (0 to 0.5)")
	fs.DurationVar(&c.Poll.ConnectTimeout, "poll.connect-timeout", 10*time.Second, "timeout to connect to an http source (TCP and TLS)")
	fs.DurationVar(&c.Poll.Timeout, "poll.timeout", time.Minute, "timeout of one fetch, body included, when a source sets no timeout")
	fs.Int64Var(&c.Poll.MaxBodyBytes, "poll.max-body-bytes", 16<<20, "largest feed document accepted, in bytes after decompression; a larger one is refused and counted")
	fs.IntVar(&c.Poll.MaxRedirects, "poll.max-redirects", 5, "redirects followed by one fetch (http and https only)")
	fs.DurationVar(&c.Poll.BackoffMax, "poll.backoff-max", time.Hour, "longest wait after repeated failures (5xx, 429, timeouts, network errors): the wait doubles from the source's interval up to this")
	fs.DurationVar(&c.Poll.RetryAfterMax, "poll.retry-after-max", 6*time.Hour, "longest Retry-After honoured")
	fs.StringVar(&c.Poll.UserAgent, "poll.user-agent", "wirefeed-ingest/1", "User-Agent of fetches (a source's headers may override it)")
}

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Validate checks the configuration, and reads and checks the sources file.
func (c *Config) Validate() error {
	if err := c.Kafka.Validate(); err != nil {
		return err
	}
	if err := c.Telemetry.Validate(); err != nil {
		return err
	}
	checks := []flagenv.Check{
		{OK: c.RawTopic != "", Msg: "--topic.raw is empty"},
		{OK: c.SpoolDir != "" || c.Sources != "", Msg: "--spool is required (the folder to watch) unless --sources names a sources file"},
		{OK: slugRe.MatchString(c.SpoolSource), Msg: fmt.Sprintf("--spool.source %q must be a lower-case slug", c.SpoolSource)},
		flagenv.Positive("spool.poll", c.SpoolPoll),
		{OK: c.SpoolSettle >= 0, Msg: "--spool.settle must not be negative"},
		{OK: c.SpoolBatch >= 1, Msg: "--spool.batch must be at least 1"},
		{OK: c.MaxItemBytes >= 1 && c.MaxItemBytes <= int64(c.Kafka.MaxMessageBytes), Msg: fmt.Sprintf("--max-item-bytes must be between 1 and --kafka.max-message-bytes (%d)", c.Kafka.MaxMessageBytes)},
	}
	if c.PushAddr != "" {
		_, port, err := net.SplitHostPort(c.PushAddr)
		checks = append(checks, flagenv.Check{OK: err == nil && port != "", Msg: fmt.Sprintf("--push.addr %q must be host:port", c.PushAddr)})
	}
	if c.Sources != "" {
		p := c.Poll
		checks = append(checks,
			flagenv.Check{OK: c.SeenTopic != "", Msg: "--seen.topic is empty"},
			flagenv.Check{OK: c.SeenRetention == 0 || c.SeenRetention >= time.Hour, Msg: fmt.Sprintf("--seen.retention must be 0 or at least 1h, got %s", c.SeenRetention)},
			flagenv.Check{OK: c.Ownership == "group" || c.Ownership == "none", Msg: fmt.Sprintf("--ownership %q is not group or none", c.Ownership)},
			flagenv.Check{OK: c.OwnershipTopic != "" && c.OwnershipGroup != "", Msg: "--ownership.topic and --ownership.group must not be empty"},
			flagenv.Check{OK: c.OwnershipPartitions >= 1 && c.OwnershipPartitions <= 1000, Msg: fmt.Sprintf("--ownership.partitions must be between 1 and 1000, got %d", c.OwnershipPartitions)},
			flagenv.Check{OK: p.Interval >= time.Second, Msg: fmt.Sprintf("--poll.interval must be at least 1s, got %s", p.Interval)},
			flagenv.Check{OK: p.Jitter >= 0 && p.Jitter <= 0.5, Msg: fmt.Sprintf("--poll.jitter must be between 0 and 0.5, got %g", p.Jitter)},
			flagenv.Positive("poll.connect-timeout", p.ConnectTimeout),
			flagenv.Positive("poll.timeout", p.Timeout),
			flagenv.Check{OK: p.MaxBodyBytes >= 1024, Msg: fmt.Sprintf("--poll.max-body-bytes must be at least 1024, got %d", p.MaxBodyBytes)},
			flagenv.Check{OK: p.MaxRedirects >= 0 && p.MaxRedirects <= 20, Msg: fmt.Sprintf("--poll.max-redirects must be between 0 and 20, got %d", p.MaxRedirects)},
			flagenv.Check{OK: p.BackoffMax >= p.Interval, Msg: fmt.Sprintf("--poll.backoff-max (%s) must not be shorter than --poll.interval (%s)", p.BackoffMax, p.Interval)},
			flagenv.Positive("poll.retry-after-max", p.RetryAfterMax),
			flagenv.Check{OK: p.UserAgent != "", Msg: "--poll.user-agent is empty"},
		)
	}
	if err := flagenv.Validate(checks...); err != nil {
		return err
	}
	if c.Sources != "" {
		_, err := c.loadSources()
		return err
	}
	return nil
}

// loadSources reads the sources file and adds the --spool shorthand; it
// checks what spans sources and flags.
func (c *Config) loadSources() ([]Source, error) {
	var srcs []Source
	if c.Sources != "" {
		var err error
		srcs, err = LoadSources(c.Sources, sourceDefaults{HTTPInterval: c.Poll.Interval, SpoolPoll: c.SpoolPoll})
		if err != nil {
			return nil, err
		}
	}
	if c.SpoolDir != "" {
		srcs = append(srcs, Source{ID: c.SpoolSource, Type: TypeSpool, Path: c.SpoolDir, Format: c.SpoolFormat, Interval: c.SpoolPoll, Enabled: true})
	}
	var problems []string
	ids := map[string]bool{}
	paths := map[string]string{}
	for _, s := range srcs {
		if ids[s.ID] {
			problems = append(problems, fmt.Sprintf("source %q: id: also given by --spool.source", s.ID))
		}
		ids[s.ID] = true
		if s.Type == TypePush && s.Enabled && c.PushAddr == "" {
			problems = append(problems, fmt.Sprintf("source %q: type: a push source needs --push.addr", s.ID))
		}
		if s.Type == TypeSpool {
			if other, ok := paths[s.Path]; ok {
				problems = append(problems, fmt.Sprintf("source %q: path: the folder of source %q too", s.ID, other))
			}
			paths[s.Path] = s.ID
		}
	}
	if len(problems) > 0 {
		name := c.Sources
		if name == "" {
			name = "(none)"
		}
		return nil, &SourcesError{File: name, Problems: problems}
	}
	return srcs, nil
}

// Run runs the stage until ctx is done.
func Run(ctx context.Context, cfg Config, log *zap.Logger, reg *prometheus.Registry) error {
	return New(cfg, log, reg).Run(ctx)
}

// Service is a running ingest stage: Run it, and Reload it when the
// sources file changed.
type Service struct {
	cfg    Config
	log    *zap.Logger
	reg    *prometheus.Registry
	m      *metrics
	seenM  *seen.Metrics
	health *telemetry.Health
	client *http.Client

	// Injected in tests: the clock, the wait between fetches, the random
	// source of jitter, an open push listener.
	now    func() time.Time
	wait   func(ctx context.Context, source string, d time.Duration) bool
	random func() float64
	pushLn net.Listener

	reloads chan chan error
	done    chan struct{}
}

// New returns the stage, ready to Run. It registers its metrics on reg.
func New(cfg Config, log *zap.Logger, reg *prometheus.Registry) *Service {
	return &Service{
		cfg:     cfg,
		log:     log,
		reg:     reg,
		m:       newMetrics(reg),
		seenM:   seen.NewMetrics(reg),
		health:  telemetry.NewHealth("kafka"),
		client:  newHTTPClient(cfg.Poll),
		now:     time.Now,
		wait:    func(ctx context.Context, _ string, d time.Duration) bool { return sleep(ctx, d) },
		random:  rand.Float64,
		reloads: make(chan chan error),
		done:    make(chan struct{}),
	}
}

// sleep waits d or until ctx is done, and reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ErrStopped is returned by Reload when the service is not running.
var ErrStopped = fmt.Errorf("ingest is not running")

// Reload re-reads the sources file and applies it: sources added start,
// sources removed stop after the fetch or batch in hand is published,
// changed ones restart, unchanged ones keep running untouched. An invalid
// file changes nothing; the error names the source and field.
func (s *Service) Reload() error {
	res := make(chan error, 1)
	select {
	case s.reloads <- res:
	case <-s.done:
		return ErrStopped
	}
	select {
	case err := <-res:
		return err
	case <-s.done:
		return ErrStopped
	}
}

// ReloadOn calls Reload for every signal received on sigs until ctx is
// done (main passes SIGHUP). Reload logs its outcome.
func ReloadOn(ctx context.Context, s *Service, sigs <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sigs:
			_ = s.Reload()
		}
	}
}

// Run runs the stage until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	defer close(s.done)
	srcs, err := s.cfg.loadSources()
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return telemetry.Serve(ctx, s.cfg.Telemetry.HTTPAddr, s.reg, s.health, s.log) })
	g.Go(func() error { return s.run(ctx, srcs) })
	return g.Wait()
}

func (s *Service) run(ctx context.Context, srcs []Source) error {
	if err := kafka.EnsureTopics(ctx, &s.cfg.Kafka, kafka.TopicSpec{Name: s.cfg.RawTopic}); err != nil {
		return err
	}
	w := kafka.NewWriter(&s.cfg.Kafka, s.cfg.RawTopic, s.log)
	defer w.Close()
	st := newState(s, w)
	// Stop order, on the way out: stop taking pushed items (those in hand
	// are published and answered), stop the pollers and spools (the fetch
	// or batch in hand is published and recorded), leave the ownership
	// group, stop reading the seen topic, flush and close the writers.
	defer st.shutdown()
	if s.cfg.PushAddr != "" || s.pushLn != nil {
		if err := st.startPush(ctx); err != nil {
			return err
		}
	}
	if err := st.apply(ctx, srcs); err != nil {
		return err
	}
	s.health.Set("kafka", nil)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-st.fatal:
			return err
		case res := <-s.reloads:
			res <- s.reload(ctx, st)
		case o := <-st.ownerCh:
			st.setOwned(ctx, o.parts)
			close(o.ack)
		}
	}
}

func (s *Service) reload(ctx context.Context, st *state) error {
	if s.cfg.Sources == "" {
		s.log.Info("reload asked, but there is no sources file (--sources)")
		return nil
	}
	srcs, err := s.cfg.loadSources()
	if err == nil {
		err = st.apply(ctx, srcs)
	}
	if err != nil {
		s.m.reloads.WithLabelValues("error").Inc()
		s.log.Error("sources file not reloaded; the sources keep running as they were", zap.String("file", s.cfg.Sources), zap.Error(err))
		return err
	}
	s.m.reloads.WithLabelValues("ok").Inc()
	s.log.Info("sources file reloaded", zap.String("file", s.cfg.Sources), zap.Int("sources", len(srcs)))
	return nil
}
