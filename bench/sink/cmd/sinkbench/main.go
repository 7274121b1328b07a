// Command sinkbench measures the sink binary against the real Kafka broker
// and S3 server of the local stack: archive throughput (records/s, MB/s)
// next to raw PUTs of the very same objects to the same server, in the same
// run, and the sink's peak resident memory at a steady input rate and under
// a ten times larger burst. It writes the "## Sink on the real S3 server"
// section of a markdown file (bench/sink/run.sh: docs/benchmarks.md).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	kgo "github.com/segmentio/kafka-go"
	"go.uber.org/zap"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/s3blob"
	"golang.org/x/sync/errgroup"

	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/sink"
	"github.com/wirefeed/wirefeed/pkg/record"
)

const section = "## Sink on the real S3 server"

type options struct {
	sinkBin string
	brokers string
	bucket  string
	records int
	rounds  int
	rate    int
	phase   time.Duration
	out     string
	machine string
	only    string
}

func main() {
	var o options
	flag.StringVar(&o.sinkBin, "sink", "", "sink binary")
	flag.StringVar(&o.brokers, "brokers", os.Getenv("KAFKA_BROKERS"), "Kafka brokers")
	flag.StringVar(&o.bucket, "bucket", os.Getenv("WIREFEED_SINK_BUCKET"), "bucket URL of the S3 server")
	flag.IntVar(&o.records, "records", 60000, "records in the throughput topic")
	flag.IntVar(&o.rounds, "rounds", 5, "throughput runs per compression, the best kept (after one untimed warm-up pass)")
	flag.IntVar(&o.rate, "rate", 1000, "steady input rate in records/s (the burst is ten times that)")
	flag.DurationVar(&o.phase, "phase", 15*time.Second, "length of the steady and of the burst phase")
	flag.StringVar(&o.out, "out", "docs/benchmarks.md", "markdown file whose sink section is rewritten")
	flag.StringVar(&o.machine, "machine", "", "description of the machine, for the report")
	flag.StringVar(&o.only, "only", "", "run only the throughput or the memory part, print its lines and rewrite nothing (for experiments)")
	clean := flag.String("remove", "", "only remove every object under this prefix of the bucket (an earlier run's), then exit")
	flag.Parse()
	if *clean != "" {
		if err := removePrefix(context.Background(), o.bucket, *clean); err != nil {
			fmt.Fprintf(os.Stderr, "sinkbench: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if o.sinkBin == "" || o.brokers == "" || o.bucket == "" {
		fmt.Fprintln(os.Stderr, "sinkbench: -sink, -brokers (KAFKA_BROKERS) and -bucket (WIREFEED_SINK_BUCKET) are needed")
		os.Exit(2)
	}
	report, err := run(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sinkbench: %v\n", err)
		os.Exit(1)
	}
	fmt.Print(report)
	if o.only != "" {
		return
	}
	if err := rewriteSection(o.out, report); err != nil {
		fmt.Fprintf(os.Stderr, "sinkbench: %v\n", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

// kafkaConfig is the flags' defaults pointed at the brokers.
func kafkaConfig(brokers string) kafka.Config {
	var c kafka.Config
	c.RegisterFlags(flag.NewFlagSet("kafka", flag.ContinueOnError))
	c.Brokers = flagenv.Strings(strings.Split(brokers, ","))
	return c
}

// record i: about 1 KB of JSON, three sources, two dates.
func article(i int) []byte {
	src := []string{"coast-wire", "andes-press", "nordkap"}[i%3]
	sid := fmt.Sprintf("B%08d", i)
	now := time.Now().UTC()
	a := &record.Article{SchemaVersion: 1, ID: record.NewID(src, sid, ""), Source: src, SourceID: sid, Format: "textdump",
		Title: fmt.Sprintf("Harbour report %d: quiet seas along the coast", i), PublishedAt: time.Date(2026, 11, 25+i%2, 8, i%60, 0, 0, time.UTC),
		Body: []string{
			fmt.Sprintf("HAFENSTADT, Nov 25 (Coast Wire) -- Report %d. Shipping moved normally through the harbour on Tuesday, the port authority said, with ferries on time and the container terminal working at full capacity after last week's storm.", i),
			"Fishing boats returned with average catches. The weather service expects light winds and calm seas for the rest of the week, with fog in the mornings near the river mouth.",
			"Officials said repairs to the northern breakwater would start next month and take about six weeks, during which larger vessels will use the southern approach.",
		},
		Language: "en", IngestedAt: now, NormalizedAt: now, Raw: &record.RawRef{Topic: "bench.raw", Partition: i % 3, Offset: int64(i)}}
	a.ContentHash = record.Hash(a.Title, a.Body, nil)
	b, _ := a.Marshal()
	return b
}

// produce writes records [from, from+n) to topic and returns their JSON bytes.
func produce(ctx context.Context, w *kafka.Writer, from, n int) (int64, error) {
	var bytes int64
	msgs := make([]kafka.Message, 0, 1000)
	for i := from; i < from+n; i++ {
		v := article(i)
		bytes += int64(len(v)) + 1
		msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprint(i)), Value: v})
		if len(msgs) == cap(msgs) || i == from+n-1 {
			if err := w.Write(ctx, nil, msgs...); err != nil {
				return bytes, err
			}
			msgs = msgs[:0]
		}
	}
	return bytes, nil
}

// sinkProc is a running sink.
type sinkProc struct {
	cmd  *exec.Cmd
	addr string
	done chan error
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:0"
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startSink(o options, topic, group, prefix, compression, logPath string, extra ...string) (*sinkProc, error) {
	addr := freeAddr()
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{"--kafka.brokers", o.brokers, "--topic.records", topic, "--topic.dead-letter", topic + ".dlq",
		"--group", group, "--bucket", o.bucket, "--prefix", prefix, "--compression", compression,
		"--batch.max-age", "1s", "--lag.interval", "1s", "--http.addr", addr, "--log.level", "warn"}, extra...)
	cmd := exec.Command(o.sinkBin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &sinkProc{cmd: cmd, addr: addr, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); f.Close() }()
	return p, nil
}

func (p *sinkProc) metric(name string) float64 {
	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}

// status returns a field of /proc/PID/status in kB.
func (p *sinkProc) status(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

func (p *sinkProc) stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		return errors.New("sink did not stop within 60s")
	}
}

// waitAssigned waits for the sink's first partition.
func (p *sinkProc) waitAssigned() (time.Time, error) {
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if p.metric(`wirefeed_sink_partition_loads_total{reason="assigned"}`) > 0 {
			return time.Now(), nil
		}
		select {
		case err := <-p.done:
			return time.Time{}, fmt.Errorf("sink exited: %v", err)
		default:
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Time{}, errors.New("no partition assigned after 3m")
}

// cpuTicks returns the CPU time stolen by the hypervisor and the CPU time
// in all, in clock ticks of all CPUs, from /proc/stat.
func cpuTicks() (steal, total float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	// cpu user nice system idle iowait irq softirq steal guest guest_nice;
	// guest time is counted in user already.
	for i, v := range strings.Fields(line)[1:] {
		x, _ := strconv.ParseFloat(v, 64)
		if i < 8 {
			total += x
		}
		if i == 7 {
			steal = x
		}
	}
	return steal, total
}

// warmUp archives the topic once with a sink whose run is not measured.
func warmUp(ctx context.Context, o options, topic, base, logs string) error {
	kc := kafkaConfig(o.brokers)
	group := topic + ".warmup"
	p, err := startSink(o, topic, group, base+"/warmup", "none", filepath.Join(logs, "warmup.log"), "--batch.max-age", "200ms")
	if err != nil {
		return err
	}
	if _, err := p.waitAssigned(); err != nil {
		p.stop()
		return err
	}
	_, err = waitLag(ctx, &kc, group, topic, p)
	p.stop()
	logf("warm-up pass done")
	return err
}

// waitLag waits until group has committed all of topic.
func waitLag(ctx context.Context, kc *kafka.Config, group, topic string, p *sinkProc) (time.Time, error) {
	client := kc.Client()
	for {
		lags, err := kafka.GroupLag(ctx, client, group, topic)
		var lag int64
		for _, l := range lags {
			lag += l.Lag
		}
		if err == nil && lag == 0 {
			return time.Now(), nil
		}
		select {
		case err := <-p.done:
			return time.Time{}, fmt.Errorf("sink exited: %v", err)
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("lag %d: %w", lag, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

type throughput struct {
	compression         string
	records             int
	jsonBytes, objBytes int64
	objects             int
	took, putTook       time.Duration
	put4Took            time.Duration
	putBytes, put4Bytes int64
	hwmKB               int64
}

// rawPut downloads the data objects under prefix and PUTs each again under
// prefix+"-rawput", parallel at a time (the sink writes the objects of a
// batch 4 at a time, --upload.parallel-objects), timing the PUTs only.
func rawPut(ctx context.Context, b *blob.Bucket, prefix string, parallel int) (time.Duration, int64, int, error) {
	a, err := sink.ReadArchive(ctx, b, prefix)
	if err != nil {
		return 0, 0, 0, err
	}
	bodies := make([][]byte, len(a.Objects))
	var bytes int64
	for i, o := range a.Objects {
		if bodies[i], err = b.ReadAll(ctx, o.Key); err != nil {
			return 0, 0, 0, err
		}
		bytes += int64(len(bodies[i]))
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	start := time.Now()
	for i, body := range bodies {
		g.Go(func() error {
			return b.WriteAll(gctx, fmt.Sprintf("%s-rawput%d/%06d", prefix, parallel, i), body, &blob.WriterOptions{ContentType: "application/octet-stream"})
		})
	}
	err = g.Wait()
	return time.Since(start), bytes, len(a.Objects), err
}

func run(o options) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	kc := kafkaConfig(o.brokers)
	b, err := blob.OpenBucket(ctx, o.bucket)
	if err != nil {
		return "", err
	}
	defer b.Close()
	tag := time.Now().UTC().Format("20060102T150405")
	base := "bench/sink-" + tag
	logs, err := os.MkdirTemp("", "sinkbench-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(logs)

	// 1. Throughput: one topic filled with o.records records, archived from
	// scratch by a fresh sink (own group and prefix) per compression.
	topic := "bench.sink." + tag
	if err := kafka.EnsureTopics(ctx, &kc, kafka.TopicSpec{Name: topic}, kafka.TopicSpec{Name: topic + ".dlq"}); err != nil {
		return "", err
	}
	w := kafka.NewWriter(&kc, topic, zap.NewNop())
	logf("producing %d records to %s", o.records, topic)
	jsonBytes, err := produce(ctx, w, 0, o.records)
	w.Close()
	if err != nil {
		return "", err
	}
	// Each compression is measured o.rounds times, the sink and the raw
	// PUTs taking turns, and the best of each is kept: other work on the
	// machine slows a run, it never speeds one up.
	var results []throughput
	steal0, total0 := cpuTicks()
	for _, comp := range []string{"none", "zstd", "gzip"} {
		if o.only == "memory" {
			break
		}
		var best throughput
		if comp == "none" && o.only != "memory" {
			// One untimed pass first: a broker just started (a JIT not yet
			// warm) serves the first fetches several times slower.
			if err := warmUp(ctx, o, topic, base, logs); err != nil {
				return "", err
			}
		}
		for round := range o.rounds {
			prefix := fmt.Sprintf("%s/%s-%d", base, comp, round)
			group := fmt.Sprintf("%s.%s.%d", topic, comp, round)
			// A short age: the backlog is cut by count; only the last partial
			// batches wait for it.
			p, err := startSink(o, topic, group, prefix, comp, filepath.Join(logs, fmt.Sprintf("%s-%d.log", comp, round)), "--batch.max-age", "200ms")
			if err != nil {
				return "", err
			}
			t0, err := p.waitAssigned()
			if err != nil {
				p.stop()
				return "", err
			}
			t1, err := waitLag(ctx, &kc, group, topic, p)
			hwm := p.status("VmHWM")
			objBytes := int64(p.metric("wirefeed_sink_written_bytes_total"))
			p.stop()
			if err != nil {
				return "", err
			}
			putTook, putBytes, objects, err := rawPut(ctx, b, prefix, 1)
			if err != nil {
				return "", err
			}
			put4Took, _, _, err := rawPut(ctx, b, prefix, 4)
			if err != nil {
				return "", err
			}
			r := throughput{compression: comp, records: o.records, jsonBytes: jsonBytes, objBytes: objBytes, objects: objects,
				took: t1.Sub(t0), putTook: putTook, put4Took: put4Took, putBytes: putBytes, put4Bytes: putBytes, hwmKB: hwm}
			logf("%s round %d: %d records in %s (%.0f records/s), objects %d (%.1f MB), raw PUT %s; peak RSS %d kB", comp, round+1, r.records, r.took.Round(time.Millisecond),
				float64(r.records)/r.took.Seconds(), objects, float64(objBytes)/1e6, putTook.Round(time.Millisecond), hwm)
			if round == 0 {
				best = r
				continue
			}
			rate := func(bytes int64, d time.Duration) float64 { return float64(bytes) / d.Seconds() }
			if rate(r.objBytes, r.took) > rate(best.objBytes, best.took) {
				best.took, best.objBytes, best.objects, best.hwmKB = r.took, r.objBytes, r.objects, r.hwmKB
			}
			if rate(r.putBytes, r.putTook) > rate(best.putBytes, best.putTook) {
				best.putTook, best.putBytes = r.putTook, r.putBytes
			}
			if rate(r.putBytes, r.put4Took) > rate(best.put4Bytes, best.put4Took) {
				best.put4Took, best.put4Bytes = r.put4Took, r.putBytes
			}
		}
		results = append(results, best)
	}

	steal1, total1 := cpuTicks()
	stolen := 0.0
	if total1 > total0 {
		stolen = (steal1 - steal0) / (total1 - total0)
	}

	// 2. Memory: a fresh sink per phase on a topic of its own, fed at the
	// steady rate, then at ten times that rate.
	type memory struct {
		name             string
		rate, achieved   float64
		hwmKB, maxRSSKB  int64
		maxLag, buffered float64
	}
	var mems []memory
	for i, m := range []struct {
		name string
		rate int
	}{{"steady input", o.rate}, {"10x burst", 10 * o.rate}} {
		if o.only == "throughput" {
			break
		}
		mt := fmt.Sprintf("%s.mem%d", topic, i)
		if err := kafka.EnsureTopics(ctx, &kc, kafka.TopicSpec{Name: mt}, kafka.TopicSpec{Name: mt + ".dlq"}); err != nil {
			return "", err
		}
		p, err := startSink(o, mt, mt+".sink", fmt.Sprintf("%s/mem%d", base, i), "gzip", filepath.Join(logs, fmt.Sprintf("mem%d.log", i)))
		if err != nil {
			return "", err
		}
		w := kafka.NewWriter(&kc, mt, zap.NewNop())
		// Warm up: the sink joins, then the phase starts.
		if _, err := produce(ctx, w, 0, 10); err != nil {
			return "", err
		}
		if _, err := p.waitAssigned(); err != nil {
			p.stop()
			return "", err
		}
		mm := memory{name: m.name, rate: float64(m.rate)}
		start := time.Now()
		sent := 0
		tick := time.NewTicker(100 * time.Millisecond)
		for time.Since(start) < o.phase {
			<-tick.C
			due := int(time.Since(start).Seconds()*float64(m.rate)) - sent
			if due > 0 {
				if _, err := produce(ctx, w, 10+sent, due); err != nil {
					return "", err
				}
				sent += due
			}
			mm.maxRSSKB = max(mm.maxRSSKB, p.status("VmRSS"))
			mm.buffered = max(mm.buffered, p.metric("wirefeed_sink_buffered_bytes"))
			lags, _ := kafka.GroupLag(ctx, kc.Client(), mt+".sink", mt)
			var lag int64
			for _, l := range lags {
				lag += l.Lag
			}
			mm.maxLag = max(mm.maxLag, float64(lag))
		}
		tick.Stop()
		mm.achieved = float64(sent) / time.Since(start).Seconds()
		w.Close()
		if _, err := waitLag(ctx, &kc, mt+".sink", mt, p); err != nil {
			p.stop()
			return "", err
		}
		mm.hwmKB = p.status("VmHWM")
		p.stop()
		logf("%s: %.0f records/s sent, peak RSS %d kB, max buffered %.0f bytes, max lag %.0f", m.name, mm.achieved, mm.hwmKB, mm.buffered, mm.maxLag)
		mems = append(mems, mm)
	}

	// 3. The report.
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s\n\n", section)
	fmt.Fprintf(&sb, "Measured %s on %s, by `bash bench/sink/run.sh` (`make bench-sink`): the sink binary against the local stack's Apache Kafka and Versity S3 gateway (loopback), default batch limits (5000 records, 16 MiB; `--batch.max-age` 200ms for the throughput runs, 1s for the memory runs), 3 partitions, records of about %d bytes of JSON.\n\n",
		time.Now().UTC().Format("2006-01-02"), o.machine, jsonBytes/int64(o.records))
	fmt.Fprintf(&sb, "**Throughput**: %d records already in the topic, archived from scratch by a fresh sink (from its first partition assigned to the group's last commit; the sink also writes 2 state objects and a manifest per date for every batch, and commits), then the very objects it wrote PUT again to the same server with `blob.WriteAll`, one at a time and 4 at a time (as the sink writes a batch's objects). After one untimed pass (a broker just started serves its first fetches slowly), each compression %d times, the sink and the PUTs taking turns; the best run of each is shown (other work on the machine only ever slows a run). MB are 10^6 bytes.\n\n", o.records, o.rounds)
	fmt.Fprintln(&sb, "| compression | records/s | record JSON MB/s | objects | object MB | sink, object MB/s | raw PUT x1, MB/s | raw PUT x4, MB/s | sink / raw PUT x1 | sink / raw PUT x4 | record JSON MB/s / raw PUT x1 of the JSON | sink peak RSS |")
	fmt.Fprintln(&sb, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	var jsonPutMBs float64 // raw PUT x1 of the uncompressed objects: the records' JSON itself
	for _, r := range results {
		if r.compression == "none" {
			jsonPutMBs = float64(r.putBytes) / 1e6 / r.putTook.Seconds()
		}
	}
	for _, r := range results {
		sinkMBs := float64(r.objBytes) / 1e6 / r.took.Seconds()
		putMBs := float64(r.putBytes) / 1e6 / r.putTook.Seconds()
		put4MBs := float64(r.put4Bytes) / 1e6 / r.put4Took.Seconds()
		jsonMBs := float64(r.jsonBytes) / 1e6 / r.took.Seconds()
		jsonRatio := "-"
		if jsonPutMBs > 0 {
			jsonRatio = fmt.Sprintf("%.2f", jsonMBs/jsonPutMBs)
		}
		fmt.Fprintf(&sb, "| %s | %.0f | %.1f | %d | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f | %s | %.0f MB |\n", r.compression, float64(r.records)/r.took.Seconds(),
			jsonMBs, r.objects, float64(r.objBytes)/1e6, sinkMBs, putMBs, put4MBs, sinkMBs/putMBs, sinkMBs/put4MBs, jsonRatio, float64(r.hwmKB)/1024)
	}
	if len(results) > 0 {
		fmt.Fprintf(&sb, "\nCPU time the hypervisor took from this machine's 2 CPUs during the throughput runs: %.0f%%. The ratios move with it and with the broker's warmth from run to run; the best run of each compression is the one least disturbed.\n", 100*stolen)
	}
	for _, r := range results {
		if r.compression != "none" {
			continue
		}
		ratio := (float64(r.objBytes) / r.took.Seconds()) / (float64(r.putBytes) / r.putTook.Seconds())
		verdict := "met"
		if ratio < 0.8 {
			verdict = "not met"
		}
		fmt.Fprintf(&sb, "\nTarget, sink at 0.8 or more of raw PUT (x1) of the same bytes: **%s** (%.2f, uncompressed objects, where the sink writes exactly the bytes the raw PUT sends). The raw PUT only sends bytes already made; the sink, on the same 2 cores as the broker and the S3 server, also fetches and decompresses the records from Kafka, checks each record's JSON, writes 2 state objects and a manifest per date for every batch (the exactly-once protocol) and commits. With gzip or zstd the objects are about ten times smaller than the JSON, so a raw PUT of them is not the same work; the last ratio column compares what matters there, the record JSON archived per second against a raw PUT of that JSON as it is.\n", verdict, ratio)
	}
	fmt.Fprintf(&sb, "\n**Memory**: a fresh sink (gzip, every setting at its default, so the automatic soft memory limit of 32 MiB plus an eighth of `--batch.max-buffered-bytes`: 40 MiB) fed at a steady rate for %s, and another at ten times that rate; peak resident memory (VmHWM from /proc) and the most record JSON its batches held at once. Batches hold their records compressed as they arrive (64 KiB chunks), fetches ask at most `--kafka.fetch-max-bytes` (1 MiB) a partition, and the garbage collector keeps the heap under the soft limit; see docs/sink.md.\n\n", o.phase)
	fmt.Fprintln(&sb, "| input | records/s asked | records/s sent | peak RSS | max buffered (record JSON) | max lag (records) |")
	fmt.Fprintln(&sb, "|---|---:|---:|---:|---:|---:|")
	for _, m := range mems {
		fmt.Fprintf(&sb, "| %s | %.0f | %.0f | %.0f MB | %.1f MB | %.0f |\n", m.name, m.rate, m.achieved, float64(m.hwmKB)/1024, m.buffered/1e6, m.maxLag)
	}
	if len(mems) == 2 {
		fmt.Fprintf(&sb, "\nUnder the burst the sink's peak RSS is %.2f times the steady one, while its batches held %.0f times more record JSON (%.1f MB against %.1f MB).\n",
			float64(mems[1].hwmKB)/float64(max(mems[0].hwmKB, 1)), mems[1].buffered/max(mems[0].buffered, 1), mems[1].buffered/1e6, mems[0].buffered/1e6)
	}
	// Leave the stack as found: the run's objects and topics go.
	if err := removePrefix(ctx, o.bucket, base); err != nil {
		logf("removing %s: %v", base, err)
	}
	topics := []string{topic, topic + ".dlq"}
	for i := range 2 {
		mt := fmt.Sprintf("%s.mem%d", topic, i)
		topics = append(topics, mt, mt+".dlq")
	}
	if _, err := kc.Client().DeleteTopics(ctx, &kgo.DeleteTopicsRequest{Topics: topics}); err != nil {
		logf("deleting topics: %v", err)
	}
	return sb.String(), nil
}

// removePrefix deletes every object under prefix.
func removePrefix(ctx context.Context, bucketURL, prefix string) error {
	b, err := blob.OpenBucket(ctx, bucketURL)
	if err != nil {
		return err
	}
	defer b.Close()
	it := b.List(&blob.ListOptions{Prefix: strings.TrimSuffix(prefix, "/") + "/"})
	n := 0
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := b.Delete(ctx, obj.Key); err != nil {
			return err
		}
		n++
	}
	logf("removed %d objects under %s", n, prefix)
	return nil
}

// rewriteSection replaces the sink section of the markdown file (up to the
// next "## " heading), or appends it.
func rewriteSection(path, report string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	start := strings.Index(s, section+"\n")
	if start < 0 {
		if !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		return os.WriteFile(path, []byte(s+"\n"+report), 0o644)
	}
	end := len(s)
	if i := strings.Index(s[start+len(section):], "\n## "); i >= 0 {
		end = start + len(section) + i + 1
	}
	out := s[:start] + report
	if end < len(s) {
		out += "\n" + s[end:]
	}
	return os.WriteFile(path, []byte(out), 0o644)
}
