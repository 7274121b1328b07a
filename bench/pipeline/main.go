// Command pipeline benchmarks wirefeed's three services, as processes, on
// the real local stack of `make up` (Apache Kafka, the S3 server), against
// the broker's own ceiling measured with kcat in the same run. It prints
// its tables and rewrites the "Pipeline on the real stack" section of
// docs/benchmarks.md.
//
// Run it with `make bench-pipeline` (bench/pipeline/run.sh), which brings
// the stack up if needed, builds the services and passes their folder;
// it needs KAFKA_BROKERS, WIREFEED_BUCKET and the S3 credentials of
// .cache/run/env.sh, and kcat.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/kafka"
)

type options struct {
	n           int
	trickle     int
	trickleRate float64
	seed        uint64
	binDir      string
	built       string
	doc         string
	keep        bool
	perf        bool
	perfOut     string
	timeout     time.Duration
	interval    time.Duration
	brokers     string
	bucket      string
	stackPIDs   map[string]int
}

func (o *options) register(fs *flag.FlagSet) {
	fs.IntVar(&o.n, "n", 50000, "items moved into the spool at once (the burst)")
	fs.IntVar(&o.trickle, "trickle", 300, "items dropped one at a time after the burst, for the steady latency")
	fs.Float64Var(&o.trickleRate, "trickle.rate", 20, "items per second of the trickle")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the item generator")
	fs.StringVar(&o.binDir, "bin", "", "folder holding the built ingest, normalize and sink binaries (required)")
	fs.StringVar(&o.built, "built", "", "what the services were built from, for the report (e.g. commit 1234abc)")
	fs.StringVar(&o.doc, "doc", "docs/benchmarks.md", "file whose \"Pipeline on the real stack\" section is rewritten (empty: none)")
	fs.BoolVar(&o.keep, "keep", false, "keep the topics, archived objects and temporary folder")
	fs.BoolVar(&o.perf, "perf", false, "profile the services with perf record during the burst and report where their CPU went")
	fs.StringVar(&o.perfOut, "perf.out", "", "with -perf, keep the perf data in this file (for perf report)")
	fs.DurationVar(&o.timeout, "timeout", 20*time.Minute, "give up after this long")
	fs.DurationVar(&o.interval, "interval", 100*time.Millisecond, "how often progress is sampled from the broker")
	o.stackPIDs = map[string]int{}
	fs.Func("pid", "NAME=PID of a stack process whose CPU use is reported (kafka, s3, prometheus); repeatable", func(v string) error {
		name, p, ok := strings.Cut(v, "=")
		pid, err := strconv.Atoi(p)
		if !ok || err != nil || pid <= 0 {
			return fmt.Errorf("want NAME=PID, got %q", v)
		}
		o.stackPIDs[name] = pid
		return nil
	})
}

func (o *options) validate() error {
	o.brokers, o.bucket = os.Getenv("KAFKA_BROKERS"), os.Getenv("WIREFEED_BUCKET")
	return flagenv.Validate(
		flagenv.Check{OK: o.n >= 1000, Msg: "-n must be at least 1000"},
		flagenv.Check{OK: o.trickle >= 0 && o.trickleRate > 0, Msg: "-trickle must not be negative and -trickle.rate must be positive"},
		flagenv.Check{OK: o.binDir != "", Msg: "-bin is required (the folder of the built services)"},
		flagenv.Check{OK: o.brokers != "", Msg: "KAFKA_BROKERS is not set: source .cache/run/env.sh (make up writes it)"},
		flagenv.Check{OK: o.bucket != "", Msg: "WIREFEED_BUCKET is not set: source .cache/run/env.sh (make up writes it)"},
		flagenv.Positive("interval", o.interval),
	)
}

func main() {
	var o options
	o.register(flag.CommandLine)
	flag.Parse()
	if err := o.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-pipeline:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-pipeline:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, o options) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	r := &results{date: time.Now(), built: o.built, n: o.n, trickleRate: o.trickleRate, interval: o.interval, loadBefore: loadAverage()}
	var err error
	if r.m, err = describeMachine(); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "wirefeed-bench-pipeline-")
	if err != nil {
		return err
	}
	if o.keep {
		logf("keeping the work folder %s", work)
	} else {
		defer os.RemoveAll(work)
	}

	logf("generating %d + %d items", o.n, o.trickle)
	if r.in, err = writeInputs(work, o.n, o.trickle, o.seed); err != nil {
		return err
	}

	if r.fsync, err = fsyncProbe(work, 50); err != nil {
		return err
	}

	var kc kafka.Config
	kc.RegisterFlags(flag.NewFlagSet("kafka", flag.ContinueOnError))
	kc.Brokers = flagenv.Strings(strings.Split(o.brokers, ","))
	id := runID()
	t := newTopics(id)
	kcatTopic := "bench.pipeline." + id + ".kcat"
	if !o.keep {
		defer cleanup(&kc, o.bucket, t, kcatTopic)
	}

	logf("broker ceiling: kcat produce and consume %d items on %s", o.n, kcatTopic)
	if r.ceil, err = measureCeiling(ctx, &kc, kcatTopic, r.in.payloads, o.n, o.stackPIDs["kafka"]); err != nil {
		return err
	}
	logf("  produce %s, consume %s", secs(r.ceil.produce), secs(r.ceil.consume))

	if r.ob, err = runPipeline(ctx, o, &kc, t, work, r.in); err != nil {
		return err
	}
	r.loadAfter = loadAverage()

	logf("reading the archive back from %s", t.prefix)
	objs, recs, err := readArchive(ctx, o.bucket, t.prefix)
	if err != nil {
		return err
	}
	analyse(r, objs, recs)
	sec := section(r)
	fmt.Println(sec)
	if r.missing != 0 {
		return fmt.Errorf("%d items missing from the archive", r.missing)
	}
	if o.doc != "" {
		if err := writeSection(o.doc, sec); err != nil {
			return err
		}
		logf("wrote the %q section of %s", strings.TrimPrefix(sectionTitle, "## "), o.doc)
	}
	return nil
}

// runID names a run's topics, groups and prefix: its start time and a
// random suffix.
func runID() string {
	b := make([]byte, 3)
	rand.Read(b)
	return time.Now().UTC().Format("20060102t150405") + "-" + hex.EncodeToString(b)
}

// cleanup deletes the run's topics and archived objects; what fails is
// reported, not fatal.
func cleanup(kc *kafka.Config, bucket string, t topics, kcatTopic string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	names := []string{kcatTopic, t.raw, t.records, t.dlq}
	res, err := kc.Client().DeleteTopics(ctx, &kgo.DeleteTopicsRequest{Topics: names})
	if err == nil {
		for name, terr := range res.Errors {
			if terr != nil && !errors.Is(terr, kgo.UnknownTopicOrPartition) {
				err = errors.Join(err, fmt.Errorf("%s: %w", name, terr))
			}
		}
	}
	if err != nil {
		logf("deleting the run's topics: %v", err)
	}
	if err := deletePrefix(ctx, bucket, t.prefix); err != nil {
		logf("deleting the run's objects under %s: %v", t.prefix, err)
	}
}
