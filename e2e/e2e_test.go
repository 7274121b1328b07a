//go:build e2e

// Package e2e tests wirefeed as users run it: the three services as separate
// processes, on the real stack of `make up` (Apache Kafka, the S3 server),
// with items dropped in a spool folder and records read back through the S3
// API. Run it with `make test-e2e`, which brings the stack up and sets
// KAFKA_BROKERS, WIREFEED_TEST_BUCKET and the S3 credentials.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wirefeed/wirefeed/internal/blobtest"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
)

var binDir string

func TestMain(m *testing.M) {
	for _, v := range []string{"KAFKA_BROKERS", "WIREFEED_TEST_BUCKET", "AWS_ACCESS_KEY_ID"} {
		if os.Getenv(v) == "" {
			fmt.Fprintf(os.Stderr, "e2e: %s is not set; run these tests with `make test-e2e`, which starts the real stack\n", v)
			os.Exit(2)
		}
	}
	dir, err := os.MkdirTemp("", "wirefeed-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cmd := exec.Command("go", "build", "-race", "-o", dir+"/", "../cmd/ingest", "../cmd/normalize", "../cmd/sink", "../cmd/devstack")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: build: %v\n", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// pipeline is one test's set of topics, groups, spool and archive prefix.
type pipeline struct {
	t       *testing.T
	raw     string
	records string
	dlq     string
	spool   string
	store   *blobtest.Store
	procs   []*service
}

func newPipeline(t *testing.T) *pipeline {
	p := &pipeline{
		t:       t,
		raw:     kafkatest.Name(t, "raw"),
		records: kafkatest.Name(t, "records"),
		dlq:     kafkatest.Name(t, "dlq"),
		spool:   t.TempDir(),
		store:   blobtest.New(t),
	}
	return p
}

// service is a running service process.
type service struct {
	name string
	cmd  *exec.Cmd
	addr string
	log  string
	done chan error
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs a service with its topics and groups; it is stopped with
// SIGTERM when the test ends, and must then exit 0.
func (p *pipeline) start(name string, args ...string) *service {
	return p.startAt(name, freeAddr(p.t), args...)
}

// startAt is start with the service's HTTP address given (for a scrape
// configuration that expects the default ports).
func (p *pipeline) startAt(name, addr string, args ...string) *service {
	t := p.t
	common := []string{"--kafka.brokers", os.Getenv("KAFKA_BROKERS"), "--http.addr", addr, "--log.level", "info"}
	switch name {
	case "ingest":
		args = append(args, "--spool", p.spool, "--topic.raw", p.raw, "--spool.settle", "300ms", "--spool.poll", "200ms")
	case "normalize":
		args = append(args, "--topic.raw", p.raw, "--topic.records", p.records, "--topic.dead-letter", p.dlq,
			"--group", p.raw+".normalize", "--lag.interval", "1s")
	case "sink":
		args = append(args, "--topic.records", p.records, "--topic.dead-letter", p.dlq, "--group", p.raw+".sink",
			"--bucket", p.store.URL, "--prefix", p.store.Prefix, "--batch.max-age", "1s", "--lag.interval", "1s")
	}
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, name), append(common, args...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &service{name: name, cmd: cmd, addr: addr, log: logPath, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); logFile.Close() }()
	p.procs = append(p.procs, s)
	t.Cleanup(func() { s.stop(t) })
	p.waitReady(s)
	return s
}

func (p *pipeline) waitReady(s *service) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			p.t.Fatalf("%s exited before ready: %v\n%s", s.name, err, tail(s.log))
		default:
		}
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.t.Fatalf("%s not ready after 60s\n%s", s.name, tail(s.log))
}

// stop sends SIGTERM and checks the service exits 0 with a clean stop.
func (s *service) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("%s: exit after SIGTERM: %v\n%s", s.name, err, tail(s.log))
		}
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		t.Errorf("%s did not stop within 60s of SIGTERM\n%s", s.name, tail(s.log))
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

// drop writes items into the spool as users should: under a temporary
// name, then renamed.
func (p *pipeline) drop(items map[string]string) {
	for name, body := range items {
		tmp := filepath.Join(p.spool, "."+name+".tmp")
		if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
			p.t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(p.spool, name)); err != nil {
			p.t.Fatal(err)
		}
	}
}

var logMu sync.Mutex

func logf(t *testing.T, format string, args ...any) {
	logMu.Lock()
	defer logMu.Unlock()
	t.Logf(format, args...)
}

func countLines(path, substr string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			n++
		}
	}
	return n
}

var _ = context.Background
