//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.uber.org/zap"
	"gocloud.dev/blob"

	"github.com/wirefeed/wirefeed/internal/blobtest"
	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
	"github.com/wirefeed/wirefeed/internal/sink"
	"github.com/wirefeed/wirefeed/pkg/record"
)

var (
	plainSinkOnce sync.Once
	plainSink     string
	plainSinkErr  error
)

// sinkBinary is the sink built without the race detector, as it is
// deployed: the kill test needs it at its real speed.
func sinkBinary(t *testing.T) string {
	plainSinkOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wirefeed-e2e-sink-")
		if err != nil {
			plainSinkErr = err
			return
		}
		plainSink = filepath.Join(dir, "sink")
		out, err := exec.Command("go", "build", "-o", plainSink, "../cmd/sink").CombinedOutput()
		if err != nil {
			plainSinkErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if plainSinkErr != nil {
		t.Fatal(plainSinkErr)
	}
	return plainSink
}

// proc is a service process.
type proc struct {
	cmd  *exec.Cmd
	addr string
	log  string
	done chan error
}

// startProc starts bin (a service) with args plus an HTTP address of its own.
func startProc(t *testing.T, bin, logPath string, args ...string) *proc {
	t.Helper()
	addr := freeAddr(t)
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append(args, "--http.addr", addr)...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, addr: addr, log: logPath, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); f.Close() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// metric reads one sample of the process's /metrics; a name with labels
// as written there, e.g. wirefeed_sink_records_total{result="archived"}.
// Absent: 0.
func (p *proc) metric(name string) float64 {
	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}

// exited reports whether the process has ended, and how.
func (p *proc) exited() (bool, error) {
	select {
	case err := <-p.done:
		p.done <- err
		return true, err
	default:
		return false, nil
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("sink exit after SIGTERM: %v\n%s", err, tail(p.log))
		}
	case <-time.After(60 * time.Second):
		t.Errorf("sink did not stop within 60s of SIGTERM\n%s", tail(p.log))
	}
}

// produceRecords writes n valid records to topic, each with a unique ID
// and raw reference, over two dates and three sources, and returns them.
func produceRecords(t *testing.T, kc *kafka.Config, topic string, from, n int) map[string]*record.Article {
	t.Helper()
	w := kafka.NewWriter(kc, topic, zap.NewNop())
	defer w.Close()
	want := map[string]*record.Article{}
	sources := []string{"coast-wire", "andes-press", "nordkap"}
	var batch []kafka.Message
	flush := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := w.Write(ctx, nil, batch...); err != nil {
			t.Fatalf("produce: %v", err)
		}
		batch = batch[:0]
	}
	for i := from; i < from+n; i++ {
		src := sources[i%len(sources)]
		sid := fmt.Sprintf("K%07d", i)
		pub := time.Date(2026, 11, 24+i%2, 6+i%12, i%60, 0, 0, time.UTC)
		a := &record.Article{SchemaVersion: record.SchemaVersion, ID: record.NewID(src, sid, ""), Source: src, SourceID: sid,
			Format: "textdump", Title: fmt.Sprintf("Harbour report %d", i), PublishedAt: pub,
			Body:       []string{fmt.Sprintf("Paragraph one of report %d, long enough to look like news copy from a wire.", i), "Second paragraph."},
			IngestedAt: time.Now().UTC(), NormalizedAt: time.Now().UTC(),
			Raw: &record.RawRef{Topic: "e2e.raw", Partition: i % 7, Offset: int64(i)}}
		a.ContentHash = record.Hash(a.Title, a.Body, nil)
		b, err := a.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		want[a.ID] = a
		batch = append(batch, kafka.Message{Key: []byte(a.ID), Value: b})
		if len(batch) == 1000 {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	return want
}

// archiveOf reads the store's prefix through the S3 API and counts, per
// record ID, how often it is archived.
func archiveOf(t *testing.T, bucketURL, prefix string) (*sink.Archive, map[string]int) {
	t.Helper()
	ctx := context.Background()
	b, err := blob.OpenBucket(ctx, bucketURL)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, err := sink.ReadArchive(ctx, b, prefix)
	if err != nil {
		t.Fatalf("read archive: %v", err)
	}
	seen := map[string]int{}
	for _, o := range a.Objects {
		for _, r := range o.Records {
			seen[r.ID]++
		}
	}
	return a, seen
}

// openUploads lists the multipart uploads begun and neither completed nor
// aborted under prefix.
func openUploads(t *testing.T, bucketURL, prefix string) int {
	t.Helper()
	ctx := context.Background()
	b, err := blob.OpenBucket(ctx, bucketURL)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var client *s3.Client
	if !b.As(&client) {
		return 0
	}
	name := strings.TrimPrefix(strings.SplitN(bucketURL, "?", 2)[0], "s3://")
	out, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &name, Prefix: &prefix})
	if err != nil {
		t.Fatalf("list multipart uploads: %v", err)
	}
	return len(out.Uploads)
}

// checkExactlyOnce compares the archive with what was produced.
func checkExactlyOnce(t *testing.T, a *sink.Archive, seen map[string]int, want map[string]*record.Article) (lost, dups int) {
	t.Helper()
	for id := range want {
		switch n := seen[id]; {
		case n == 0:
			lost++
		case n > 1:
			dups += n - 1
		}
	}
	for id := range seen {
		if want[id] == nil {
			t.Errorf("archive holds record %s, which was not produced", id)
		}
	}
	if lost > 0 || dups > 0 {
		t.Errorf("archive: %d of %d records lost, %d duplicate copies", lost, len(want), dups)
	}
	for _, p := range a.Problems() {
		t.Error(p)
	}
	return lost, dups
}

// waitReady waits until the process answers /readyz with 200: it has
// joined Kafka and handles signals.
func (p *proc) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if done, err := p.exited(); done {
			t.Fatalf("exited before ready: %v\n%s", err, tail(p.log))
		}
		if resp, err := http.Get("http://" + p.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not ready after 2m\n%s", tail(p.log))
}

// waitCaughtUp waits until the process is ready and the group has
// committed the whole topic.
func waitCaughtUp(t *testing.T, kc *kafka.Config, group, topic string, p *proc, timeout time.Duration) {
	t.Helper()
	p.waitReady(t)
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		if done, err := p.exited(); done {
			t.Fatalf("sink exited: %v\n%s", err, tail(p.log))
		}
		lags, err := kafka.GroupLag(context.Background(), kc.Client(), group, topic)
		var lag int64
		for _, l := range lags {
			lag += l.Lag
		}
		if err == nil && lag == 0 {
			return
		}
		last = fmt.Sprintf("lag %d (%v)", lag, err)
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("sink did not catch up in %s: %s\n%s", timeout, last, tail(p.log))
}

// TestSinkKilledAnywhereArchivesOnce produces 20,000 records, 1,000 with
// each of 20 runs of the sink binary, each killed with SIGKILL after a
// random 0.2-3 s of consuming while records arrive, with small batches cut by count and age (so
// no two runs cut alike and kills land all over the flush protocol), and
// finally lets it finish. Read back through the S3 API, the archive must
// hold every record exactly once, every object listed in one manifest, no
// partition pending, nothing else under the prefix, and no multipart upload
// left open.
func TestSinkKilledAnywhereArchivesOnce(t *testing.T) {
	const records, kills = 20000, 20
	kc := kafkatest.Config(t, 3)
	topic := kafkatest.Name(t, "records")
	dlq := kafkatest.Name(t, "dlq")
	group := topic + ".sink"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := kafka.EnsureTopics(ctx, &kc, kafka.TopicSpec{Name: topic}, kafka.TopicSpec{Name: dlq}); err != nil {
		t.Fatal(err)
	}
	store := blobtest.New(t)
	bin := sinkBinary(t)
	logPath := filepath.Join(t.TempDir(), "sink.log")
	args := []string{"--kafka.brokers", os.Getenv("KAFKA_BROKERS"), "--kafka.partitions", "3", "--kafka.session-timeout", "6s",
		"--topic.records", topic, "--topic.dead-letter", dlq, "--group", group,
		"--bucket", store.URL, "--prefix", store.Prefix,
		"--batch.max-records", "25", "--batch.max-age", "100ms", "--lag.interval", "1s", "--log.level", "info"}

	// Records keep arriving: with each run 1,000 more, the first 50 at once
	// (the sink's first partition shows when they arrive), the rest 50
	// every 150 ms while it consumes. Small batches make it flush over and
	// over: a kill lands in the middle of the protocol far more often than
	// between batches.
	var mu sync.Mutex
	want := map[string]*record.Article{}
	var producing sync.WaitGroup
	add := func(got map[string]*record.Article) {
		mu.Lock()
		defer mu.Unlock()
		for id, a := range got {
			want[id] = a
		}
	}
	produceChunk := func(from int, trickle <-chan struct{}) {
		defer producing.Done()
		add(produceRecords(t, &kc, topic, from, 50))
		<-trickle
		for off := from + 50; off < from+records/kills; off += 50 {
			time.Sleep(150 * time.Millisecond)
			add(produceRecords(t, &kc, topic, off, 50))
		}
	}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	logf(t, "seed %d", seed)
	start := time.Now()
	for i := 0; i < kills; i++ {
		trickle := make(chan struct{})
		producing.Add(1)
		go produceChunk(i*records/kills, trickle)
		p := startProc(t, bin, logPath, args...)
		// Time from its first partition, not from its start: a restarted
		// member waits for the killed one's session to expire first.
		deadline := time.Now().Add(3 * time.Minute)
		for p.metric(`wirefeed_sink_partition_loads_total{reason="assigned"}`) == 0 {
			if done, err := p.exited(); done {
				t.Fatalf("run %d: sink exited: %v\n%s", i, err, tail(p.log))
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d: no partition assigned after 3m\n%s", i, tail(p.log))
			}
			time.Sleep(20 * time.Millisecond)
		}
		close(trickle)
		d := 200*time.Millisecond + time.Duration(rng.Int64N(int64(2800*time.Millisecond)))
		time.Sleep(d)
		archived := p.metric(`wirefeed_sink_records_total{result="archived"}`)
		skipped := p.metric(`wirefeed_sink_records_total{result="already_archived"}`)
		p.cmd.Process.Kill()
		<-p.done
		p.done <- nil
		logf(t, "run %2d: killed after %s of consuming; it had archived %v records and skipped %v archived before", i, d.Round(time.Millisecond), archived, skipped)
	}
	producing.Wait()
	p := startProc(t, bin, logPath, args...)
	waitCaughtUp(t, &kc, group, topic, p, 5*time.Minute)
	p.stop(t)

	a, seen := archiveOf(t, store.URL, store.Prefix)
	lost, dups := checkExactlyOnce(t, a, seen, want)
	if len(want) != records {
		t.Errorf("%d records produced, want %d", len(want), records)
	}
	if n := openUploads(t, store.URL, store.Prefix); n != 0 {
		t.Errorf("%d multipart uploads left open under the prefix", n)
	}
	if len(a.States) != 3 {
		t.Errorf("%d partition states, want 3", len(a.States))
	}
	rebuilt := countLines(logPath, `"pending_first"`)
	exists := countLines(logPath, "object exists already")
	logf(t, "%d kills (SIGKILL), %d records, %d objects in %d manifests: %d lost, %d duplicates; %d pending batches rebuilt after a kill, %d objects found written already; %s in all",
		kills, len(want), len(a.Objects), len(a.Manifests), lost, dups, rebuilt, exists, time.Since(start).Round(time.Second))
}

// privateS3 is a Versity S3 gateway of the test's own, on a free port and a
// temporary folder, that the test may stop and start without disturbing
// anyone else using the stack's gateway.
type privateS3 struct {
	t    *testing.T
	addr string
	dir  string
	cmd  *exec.Cmd
	done chan error
	log  string
}

func startPrivateS3(t *testing.T) *privateS3 {
	bin, _ := filepath.Abs("../.cache/bin/versitygw")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no S3 gateway at %s (deploy/local/install.sh installs it): %v", bin, err)
	}
	s := &privateS3{t: t, addr: freeAddr(t), dir: t.TempDir(), log: filepath.Join(t.TempDir(), "s3.log")}
	if err := os.MkdirAll(filepath.Join(s.dir, "outage"), 0o755); err != nil {
		t.Fatal(err)
	}
	s.start()
	t.Cleanup(func() { s.stop(syscall.SIGKILL) })
	return s
}

func (s *privateS3) url() string {
	return "s3://outage?endpoint=http://" + s.addr + "&use_path_style=true&region=us-east-1&request_checksum_calculation=when_required&response_checksum_validation=when_required"
}

func (s *privateS3) start() {
	bin, _ := filepath.Abs("../.cache/bin/versitygw")
	f, err := os.OpenFile(s.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd = exec.Command(bin, "--port", s.addr, "--region", "us-east-1", "posix", s.dir)
	s.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+os.Getenv("AWS_ACCESS_KEY_ID"), "ROOT_SECRET_KEY="+os.Getenv("AWS_SECRET_ACCESS_KEY"))
	s.cmd.Stdout, s.cmd.Stderr = f, f
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.cmd.Wait(); f.Close() }()
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://" + s.addr + "/"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("private S3 gateway not answering\n%s", tail(s.log))
}

func (s *privateS3) stop(sig syscall.Signal) {
	if s.cmd == nil || s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(sig)
	<-s.done
}

// TestSinkRidesOutStoreOutage stops the S3 server (SIGKILL) in the middle
// of a run while records keep coming: the sink retries with backoff,
// commits nothing it has not archived, and once the server is back it
// catches up, each record archived once.
func TestSinkRidesOutStoreOutage(t *testing.T) {
	kc := kafkatest.Config(t, 3)
	topic := kafkatest.Name(t, "records")
	dlq := kafkatest.Name(t, "dlq")
	group := topic + ".sink"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := kafka.EnsureTopics(ctx, &kc, kafka.TopicSpec{Name: topic}, kafka.TopicSpec{Name: dlq}); err != nil {
		t.Fatal(err)
	}
	s3 := startPrivateS3(t)
	prefix := "outage/articles/v1"
	logPath := filepath.Join(t.TempDir(), "sink.log")
	p := startProc(t, sinkBinary(t), logPath, "--kafka.brokers", os.Getenv("KAFKA_BROKERS"), "--kafka.partitions", "3",
		"--kafka.session-timeout", "6s", "--topic.records", topic, "--topic.dead-letter", dlq, "--group", group,
		"--bucket", s3.url(), "--prefix", prefix, "--batch.max-records", "200", "--batch.max-age", "300ms", "--lag.interval", "1s")

	want := produceRecords(t, &kc, topic, 0, 3000)
	waitCaughtUp(t, &kc, group, topic, p, 2*time.Minute)

	s3.stop(syscall.SIGKILL)
	down := time.Now()
	for id, a := range produceRecords(t, &kc, topic, 3000, 3000) {
		want[id] = a
	}
	committed := func() int64 {
		// A broker starved of CPU may answer one request with a transient
		// error (UNKNOWN_SERVER_ERROR while it fences itself): ask again.
		lags, err := kafka.GroupLag(context.Background(), kc.Client(), group, topic)
		for try := 1; err != nil && try < 5; try++ {
			t.Logf("group offsets, attempt %d: %v", try, err)
			time.Sleep(time.Second)
			lags, err = kafka.GroupLag(context.Background(), kc.Client(), group, topic)
		}
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, l := range lags {
			n += l.Committed
		}
		return n
	}
	before := committed()
	time.Sleep(8 * time.Second)
	retries := p.metric("wirefeed_sink_upload_retries_total")
	after := committed()
	if done, err := p.exited(); done {
		t.Fatalf("sink exited while the store was down: %v\n%s", err, tail(p.log))
	}
	if retries == 0 {
		t.Errorf("no store retries while the store was down")
	}
	if after != before {
		t.Errorf("committed offsets moved from %d to %d while the store was down", before, after)
	}
	logf(t, "store down %s: %v retries, committed offsets held at %d, sink resident memory peak %s",
		time.Since(down).Round(time.Second), retries, after, vmHWM(p.cmd.Process.Pid))

	s3.start()
	back := time.Now()
	waitCaughtUp(t, &kc, group, topic, p, 3*time.Minute)
	logf(t, "store back: caught up in %s", time.Since(back).Round(100*time.Millisecond))
	p.stop(t)

	a, seen := archiveOf(t, s3.url(), prefix)
	lost, dups := checkExactlyOnce(t, a, seen, want)
	logf(t, "%d records through a store outage: %d lost, %d duplicates, %d objects", len(want), lost, dups, len(a.Objects))
}

// vmHWM returns a process's peak resident memory from /proc.
func vmHWM(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
