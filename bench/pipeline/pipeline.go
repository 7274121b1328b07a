package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wirefeed/wirefeed/internal/kafka"
)

// observed is what a pipeline run saw, before analysis.
type observed struct {
	t0       time.Time     // the first burst file was renamed into the spool
	moveTook time.Duration // renaming all burst files
	burstEnd time.Time     // first sample with every burst item archived
	idle0    cpuTimes      // idleSeconds before t0
	cpu0     cpuTimes      // at t0
	cpu1     cpuTimes      // at burstEnd
	samples  []sample

	burstMetrics     map[string]string // each service's /metrics after the burst
	trickleMetrics   map[string]string // and after the trickle
	dropped          map[string]time.Time
	trickleEnd       time.Time
	profile          string // perf report of the services during the burst, if asked
	profileByProcess string // and its shares by process
	ingestLog        string // ingest's log up to the end of the burst
}

// idleSeconds is how long the pipeline idles, services up, before the burst.
const idleSeconds = 3

// runPipeline starts the three services on fresh topics, feeds the spool
// with the burst in one go, waits until every item is archived or
// dead-lettered, then drops the trickle items one by one at a steady rate
// and waits again.
func runPipeline(ctx context.Context, o options, kc *kafka.Config, t topics, work string, in *inputs) (*observed, error) {
	spool := filepath.Join(work, "spool")
	logs := filepath.Join(work, "logs")
	for _, d := range []string{spool, logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	brokers := []string{"--kafka.brokers", kc.Brokers.String()}
	var svcs []*service
	defer func() {
		for i := len(svcs) - 1; i >= 0; i-- {
			svcs[i].stop()
		}
	}()
	// Flags as in e2e/e2e_test.go; the sink keeps its default batch
	// records and bytes, with a 2 s age.
	starts := []struct {
		name string
		args []string
	}{
		{"sink", []string{"--topic.records", t.records, "--topic.dead-letter", t.dlq, "--group", t.sinkGroup,
			"--bucket", o.bucket, "--prefix", t.prefix, "--batch.max-age", "2s", "--lag.interval", "1s"}},
		{"normalize", []string{"--topic.raw", t.raw, "--topic.records", t.records, "--topic.dead-letter", t.dlq,
			"--group", t.normalizeGroup, "--lag.interval", "1s"}},
		{"ingest", []string{"--spool", spool, "--topic.raw", t.raw, "--spool.settle", "300ms", "--spool.poll", "200ms"}},
	}
	pids := map[string]int{"self": os.Getpid()}
	for name, pid := range o.stackPIDs {
		pids[name] = pid
	}
	for _, s := range starts {
		logf("starting %s", s.name)
		svc, err := startService(ctx, o.binDir, logs, s.name, append(brokers, s.args...)...)
		if err != nil {
			return nil, err
		}
		svcs = append(svcs, svc)
		pids[s.name] = svc.cmd.Process.Pid
	}

	smp, err := newSampler(ctx, kc.Client(), t, filepath.Join(spool, "done"), o.interval)
	if err != nil {
		return nil, err
	}
	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go smp.run(sctx)

	var perf *exec.Cmd
	perfData := filepath.Join(work, "perf.data")
	if o.perfOut != "" {
		perfData = o.perfOut
	}
	if o.perf {
		perf = exec.Command("perf", "record", "-q", "-F", "499", "-g", "-o", perfData,
			"-p", fmt.Sprintf("%d,%d,%d", pids["ingest"], pids["normalize"], pids["sink"]))
		perf.Stdout, perf.Stderr = os.Stderr, os.Stderr
		if err := perf.Start(); err != nil {
			return nil, fmt.Errorf("perf record: %w", err)
		}
		time.Sleep(500 * time.Millisecond)
	}

	ob := &observed{dropped: map[string]time.Time{}}
	// A few idle seconds first: what every process uses with the services
	// connected and the sampling running, but no items.
	ob.idle0 = snapshotCPU(pids)
	time.Sleep(idleSeconds * time.Second)
	logf("moving %d items into the spool", len(in.burst))
	ob.cpu0 = snapshotCPU(pids)
	ob.t0 = time.Now()
	for _, name := range in.burst {
		if err := os.Rename(filepath.Join(in.staging, name), filepath.Join(spool, name)); err != nil {
			return nil, err
		}
	}
	ob.moveTook = time.Since(ob.t0)

	n := int64(len(in.burst))
	wantRecords, wantDead := int64(records(in.kinds)), int64(dead(in.kinds))
	ob.burstEnd, err = waitFor(ctx, smp, svcs, func(s sample) bool {
		return s.raw >= n && s.normDone >= s.raw && s.records >= wantRecords && s.dlq >= wantDead && s.sinkDone >= s.records
	}, progress(n, wantRecords))
	if err != nil {
		return nil, err
	}
	ob.cpu1 = snapshotCPU(pids)
	logf("burst archived in %.1fs", ob.burstEnd.Sub(ob.t0).Seconds())
	if perf != nil {
		perf.Process.Signal(syscall.SIGINT)
		perf.Wait()
		out, err := exec.Command("perf", "report", "-i", perfData, "--stdio", "--children", "-g", "none",
			"--sort", "comm,symbol", "--percent-limit", "0.5").Output()
		if err != nil {
			return nil, fmt.Errorf("perf report: %w", err)
		}
		ob.profile = string(out)
		if out, err = exec.Command("perf", "report", "-i", perfData, "--stdio", "--no-children", "-g", "none", "--sort", "comm").Output(); err != nil {
			return nil, fmt.Errorf("perf report: %w", err)
		}
		ob.profileByProcess = string(out)
	}
	if ob.burstMetrics, err = scrape(svcs); err != nil {
		return nil, err
	}
	for _, s := range svcs {
		if b, err := os.ReadFile(s.log); err == nil && s.name == "ingest" {
			ob.ingestLog = string(b)
		}
	}

	if len(in.trickles) > 0 {
		logf("dropping %d more items, %g a second", len(in.trickles), o.trickleRate)
		start := time.Now()
		for i, name := range in.trickles {
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) / o.trickleRate * float64(time.Second)))))
			ob.dropped[name] = time.Now()
			if err := os.Rename(filepath.Join(in.trickle, name), filepath.Join(spool, name)); err != nil {
				return nil, err
			}
		}
		n += int64(len(in.trickles))
		wantRecords += int64(records(in.trickleK))
		wantDead += int64(dead(in.trickleK))
		ob.trickleEnd, err = waitFor(ctx, smp, svcs, func(s sample) bool {
			return s.raw >= n && s.normDone >= s.raw && s.records >= wantRecords && s.dlq >= wantDead && s.sinkDone >= s.records
		}, nil)
		if err != nil {
			return nil, err
		}
		if ob.trickleMetrics, err = scrape(svcs); err != nil {
			return nil, err
		}
	}
	stopSampling()
	ob.samples = smp.all()

	var errs []string
	for i := len(svcs) - 1; i >= 0; i-- {
		if err := svcs[i].stop(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	svcs = nil
	if len(errs) > 0 {
		return nil, fmt.Errorf("stopping the services: %s", strings.Join(errs, "; "))
	}
	return ob, nil
}

// scrape reads every service's /metrics.
func scrape(svcs []*service) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range svcs {
		text, err := s.metrics()
		if err != nil {
			return nil, fmt.Errorf("%s metrics: %w", s.name, err)
		}
		out[s.name] = text
	}
	return out, nil
}

// waitFor polls the sampler until done holds, a service exits, or ctx
// ends; it returns the time of the first sample for which done held.
func waitFor(ctx context.Context, smp *sampler, svcs []*service, done func(sample) bool, show func(sample)) (time.Time, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	lastShown := time.Now()
	for {
		select {
		case <-ctx.Done():
			s, _ := smp.last()
			return time.Time{}, fmt.Errorf("waiting for the pipeline: %w (last sample: raw %d, records %d, dead letters %d, sink committed %d)",
				ctx.Err(), s.raw, s.records, s.dlq, s.sinkDone)
		case <-tick.C:
		}
		for _, svc := range svcs {
			if ok, err := svc.exited(); ok {
				return time.Time{}, fmt.Errorf("%s exited: %v\n%s", svc.name, err, tail(svc.log))
			}
		}
		if at, ok := firstWhen(smp.all(), done); ok {
			return at, nil
		}
		if s, ok := smp.last(); ok && show != nil && time.Since(lastShown) >= 5*time.Second {
			s.done = smp.doneCount()
			show(s)
			lastShown = time.Now()
		}
	}
}

func progress(n, records int64) func(sample) {
	return func(s sample) {
		done := strconv.Itoa(s.done)
		if s.done < 0 {
			done = "?"
		}
		logf("  spool done %s/%d, raw %d/%d, records %d/%d, archived %d", done, n, s.raw, n, s.records, records, s.sinkDone)
	}
}
