// Package devstack runs the whole pipeline in one process for a demo: an
// embedded Kafka broker (franz-go's kfake, spoken to over TCP like any
// broker), the three stages, a spool folder fed with the bundled samples and
// a local archive folder. It waits until every item is archived or
// dead-lettered and prints a summary.
package devstack

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/wirefeed/wirefeed/internal/demo"
	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/ingest"
	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/normalize"
	"github.com/wirefeed/wirefeed/internal/sink"
	"github.com/wirefeed/wirefeed/internal/telemetry"
)

// Config configures the demo.
type Config struct {
	DataDir    string
	BrokerPort int
	Partitions int
	Serve      bool
	Timeout    time.Duration
	Telemetry  telemetry.Config
}

// RegisterFlags registers the demo's flags.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", "./data", "folder for the spool (DATA/spool) and the archive (DATA/archive); both are emptied at start")
	fs.IntVar(&c.BrokerPort, "broker.port", 0, "TCP port of the embedded broker on 127.0.0.1 (0: any free port)")
	fs.IntVar(&c.Partitions, "partitions", 3, "partitions of each topic")
	fs.BoolVar(&c.Serve, "serve", false, "keep running after the samples are archived, serving metrics on 127.0.0.1:9101 (ingest), :9102 (normalize) and :9103 (sink), until SIGINT or SIGTERM; drop more files into DATA/spool meanwhile")
	fs.DurationVar(&c.Timeout, "timeout", 2*time.Minute, "give up when the samples are not all archived or dead-lettered by then")
	fs.StringVar(&c.Telemetry.LogLevel, "log.level", "warn", "log level of the stages: debug, info, warn or error")
	fs.StringVar(&c.Telemetry.LogFormat, "log.format", "console", "log format of the stages: json or console")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if err := c.Telemetry.Validate(); err != nil {
		return err
	}
	return flagenv.Validate(
		flagenv.Check{OK: c.DataDir != "", Msg: "--data is empty"},
		flagenv.Check{OK: c.BrokerPort >= 0 && c.BrokerPort < 65536, Msg: "--broker.port must be between 0 and 65535"},
		flagenv.Check{OK: c.Partitions >= 1, Msg: "--partitions must be at least 1"},
		flagenv.Positive("timeout", c.Timeout),
	)
}

// Summary is what a demo run did.
type Summary struct {
	Broker       string
	Samples      int
	Ingested     int64
	Normalized   int64
	DeadLettered int64
	Objects      []string // archive keys, sorted
	ArchiveDir   string
	SpoolDir     string
	Took         time.Duration
}

// Print writes the summary for a person.
func (s *Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "wirefeed demo: embedded broker at %s\n", s.Broker)
	fmt.Fprintf(w, "  samples dropped in spool   %d  (%s)\n", s.Samples, s.SpoolDir)
	fmt.Fprintf(w, "  ingested (raw topic)       %d\n", s.Ingested)
	fmt.Fprintf(w, "  normalized (records topic) %d\n", s.Normalized)
	fmt.Fprintf(w, "  dead-lettered              %d\n", s.DeadLettered)
	fmt.Fprintf(w, "  objects written            %d  under %s (manifests under each dt=.../_manifest/)\n", len(s.Objects), s.ArchiveDir)
	for _, o := range s.Objects {
		fmt.Fprintf(w, "    %s\n", o)
	}
	fmt.Fprintf(w, "  done in %s\n", s.Took.Round(10*time.Millisecond))
}

// Run runs the demo. Without Serve it returns once every sample is archived
// or dead-lettered; with Serve it goes on until ctx is done.
func Run(ctx context.Context, cfg Config, log *zap.Logger, out io.Writer) (*Summary, error) {
	start := time.Now()
	spool := filepath.Join(cfg.DataDir, "spool")
	archive := filepath.Join(cfg.DataDir, "archive")
	for _, d := range []string{spool, archive} {
		if err := os.RemoveAll(d); err != nil {
			return nil, fmt.Errorf("empty %s: %w", d, err)
		}
	}
	if err := os.MkdirAll(spool, 0o755); err != nil {
		return nil, err
	}
	absArchive, err := filepath.Abs(archive)
	if err != nil {
		return nil, err
	}

	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(cfg.BrokerPort))
	if err != nil {
		return nil, fmt.Errorf("start embedded broker: %w", err)
	}
	defer cluster.Close()
	broker := cluster.ListenAddrs()[0]

	var kc kafka.Config
	kfs := flag.NewFlagSet("kafka", flag.ContinueOnError)
	kc.RegisterFlags(kfs)
	kc.Brokers = flagenv.Strings{broker}
	kc.Partitions = cfg.Partitions

	addr := func(a string) string {
		if cfg.Serve {
			return a
		}
		return ""
	}
	tel := func(a string) telemetry.Config {
		t := cfg.Telemetry
		t.HTTPAddr = addr(a)
		return t
	}
	icfg := ingest.Config{Kafka: kc, Telemetry: tel(ingest.DefaultHTTPAddr), RawTopic: kafka.DefaultRawTopic,
		SpoolDir: spool, SpoolSource: "spool", SpoolFormat: "textdump", SpoolPoll: 200 * time.Millisecond,
		SpoolSettle: 500 * time.Millisecond, SpoolBatch: 100, MaxItemBytes: 4 << 20}
	ncfg := normalize.Config{Kafka: kc, Telemetry: tel(normalize.DefaultHTTPAddr), RawTopic: kafka.DefaultRawTopic,
		RecordsTopic: kafka.DefaultRecordsTopic, DeadLetterTopic: kafka.DefaultDeadLetterTopic, Group: "wirefeed-normalize",
		BatchMax: 500, BatchLinger: 50 * time.Millisecond, Drain: 10 * time.Second, LagInterval: time.Second, DefaultZone: "UTC"}
	scfg := sink.Config{Kafka: kc, Telemetry: tel(sink.DefaultHTTPAddr), RecordsTopic: kafka.DefaultRecordsTopic,
		DeadLetterTopic: kafka.DefaultDeadLetterTopic, Group: "wirefeed-sink", Bucket: "file://" + filepath.ToSlash(absArchive) + "?create_dir=true",
		Prefix: "articles/v1", MaxRecords: 5000, MaxBytes: 16 << 20, MaxAge: time.Second, Compression: "gzip",
		Drain: 10 * time.Second, LagInterval: time.Second}
	for _, v := range []interface{ Validate() error }{&icfg, &ncfg, &scfg} {
		if err := v.Validate(); err != nil {
			return nil, fmt.Errorf("demo configuration: %w", err)
		}
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	g, gctx := errgroup.WithContext(runCtx)
	g.Go(func() error {
		return ingest.Run(gctx, icfg, log.With(zap.String("service", "ingest")), telemetry.NewRegistry("ingest"))
	})
	g.Go(func() error {
		return normalize.Run(gctx, ncfg, log.With(zap.String("service", "normalize")), telemetry.NewRegistry("normalize"))
	})
	g.Go(func() error {
		return sink.Run(gctx, scfg, log.With(zap.String("service", "sink")), telemetry.NewRegistry("sink"))
	})

	samples, err := demo.WriteSamples(spool)
	if err != nil {
		stop()
		g.Wait()
		return nil, fmt.Errorf("write samples: %w", err)
	}
	sum := &Summary{Broker: broker, Samples: samples, ArchiveDir: archive, SpoolDir: spool}

	waitCtx, cancelWait := context.WithTimeout(gctx, cfg.Timeout)
	defer cancelWait()
	werr := waitDrained(waitCtx, &kc, spool, samples, sum)
	if werr == nil {
		sum.Objects, werr = listObjects(archive)
		sum.Took = time.Since(start)
	}
	if werr == nil && cfg.Serve {
		sum.Print(out)
		fmt.Fprintf(out, "\nserving: broker %s, metrics on http://%s/metrics, http://%s/metrics, http://%s/metrics; drop files into %s; Ctrl-C to stop\n",
			broker, ingest.DefaultHTTPAddr, normalize.DefaultHTTPAddr, sink.DefaultHTTPAddr, spool)
		<-gctx.Done()
	}
	stop()
	if err := g.Wait(); err != nil && werr == nil {
		werr = err
	}
	if werr != nil {
		return nil, werr
	}
	return sum, nil
}

// waitDrained returns once the spool is empty, the raw topic holds every
// sample, and both consumer groups have committed everything.
func waitDrained(ctx context.Context, kc *kafka.Config, spool string, samples int, sum *Summary) error {
	client := kc.Client()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	var last string
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("demo did not finish in time; last state: %s", last)
			}
			return ctx.Err()
		case <-t.C:
		}
		pending, err := spoolPending(spool)
		if err != nil {
			return err
		}
		raw, rawLag, err1 := topicState(ctx, client, "wirefeed-normalize", kafka.DefaultRawTopic)
		recs, recLag, err2 := topicState(ctx, client, "wirefeed-sink", kafka.DefaultRecordsTopic)
		dead, _, err3 := topicState(ctx, client, "", kafka.DefaultDeadLetterTopic)
		if err := errors.Join(err1, err2, err3); err != nil {
			last = err.Error()
			continue
		}
		last = fmt.Sprintf("spool pending %d, raw %d (lag %d), records %d (lag %d), dead letters %d", pending, raw, rawLag, recs, recLag, dead)
		sum.Ingested, sum.Normalized, sum.DeadLettered = raw, recs, dead
		if pending == 0 && raw == int64(samples) && rawLag == 0 && recLag == 0 && recs+dead >= raw {
			return nil
		}
	}
}

func spoolPending(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if e.Type().IsRegular() {
			n++
		}
	}
	return n, nil
}

// topicState returns the number of messages in topic and, when group is
// set, the group's total lag.
func topicState(ctx context.Context, client *kafka.Client, group, topic string) (total, lag int64, err error) {
	var parts []kafka.PartitionLag
	if group == "" {
		parts, err = kafka.TopicOffsets(ctx, client, topic)
	} else {
		parts, err = kafka.GroupLag(ctx, client, group, topic)
	}
	if err != nil {
		return 0, 0, err
	}
	for _, p := range parts {
		total += p.HighWatermark - p.LogStart
		lag += p.Lag
	}
	if group == "" {
		lag = 0
	}
	return total, lag, nil
}

func listObjects(dir string) ([]string, error) {
	var keys []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		// Data objects only: not the store's attribute files, nor the
		// sink's progress state and manifests (under "_" folders).
		if d.Type().IsRegular() && !strings.HasSuffix(rel, ".attrs") && !strings.Contains("/"+rel, "/_") {
			keys = append(keys, rel)
		}
		return nil
	})
	sort.Strings(keys)
	return keys, err
}
