package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/kafka"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
	"github.com/wirefeed/wirefeed/internal/recordtest"
	"github.com/wirefeed/wirefeed/internal/sink"
	"github.com/wirefeed/wirefeed/pkg/record"
)

// bin is the command under test, built once for the package.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wirefeed-sink-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "sink")
	args := []string{"build", "-o", bin}
	if raceEnabled() {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// raceEnabled reports whether this test binary runs with the race
// detector; the command is then built with it too.
func raceEnabled() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}

// environ is the test's environment without WIREFEED_ variables, plus env.
func environ(env ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, flagenv.Prefix+"_") {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// syncBuffer is a bytes.Buffer safe for a process writing and a test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run runs the command to completion and returns its exit code and output.
func run(t testing.TB, stdin string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = environ(env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	}
	if err != nil {
		t.Fatalf("run %s %q: %v", filepath.Base(bin), args, err)
	}
	return 0, out.String(), errb.String()
}

// freeAddr returns a 127.0.0.1 address with a port free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// process is a started command.
type process struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

func start(t testing.TB, env []string, args ...string) *process {
	t.Helper()
	s := &process{cmd: exec.Command(bin, args...), stderr: &syncBuffer{}, done: make(chan struct{})}
	s.cmd.Env = environ(env...)
	s.cmd.Stdout, s.cmd.Stderr = s.stderr, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// waitReady polls /readyz until it answers 200.
func (s *process) waitReady(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	last := "no answer"
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			t.Fatalf("exited before ready: %v\n%s", s.err, s.stderr)
		default:
		}
		if res, err := http.Get("http://" + addr + "/readyz"); err == nil {
			b := new(bytes.Buffer)
			b.ReadFrom(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("%d %s", res.StatusCode, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("not ready in time; /readyz said %s\n%s", last, s.stderr)
}

// stop sends SIGTERM and returns the exit code.
func (s *process) stop(t testing.TB) int {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("still running a minute after SIGTERM\n%s", s.stderr)
	}
	return s.cmd.ProcessState.ExitCode()
}

// logLines decodes the JSON log lines of out.
func logLines(out string) []map[string]any {
	var lines []map[string]any
	for _, l := range strings.Split(out, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			lines = append(lines, m)
		}
	}
	return lines
}

func hasLog(out, msg string) bool {
	for _, l := range logLines(out) {
		if l["msg"] == msg {
			return true
		}
	}
	return false
}

// checkHelp checks that out lists every flag of fs with its default and
// environment variable.
func checkHelp(t testing.TB, out string, fs *flag.FlagSet) {
	t.Helper()
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		re := regexp.MustCompile(`(?m)^  --` + regexp.QuoteMeta(f.Name) + `( \S+)?\n(      .*\n)*?      default .*, env ` + flagenv.EnvName(f.Name) + `\n`)
		if !re.MatchString(out) {
			t.Errorf("--help does not list --%s with its env variable %s", f.Name, flagenv.EnvName(f.Name))
		}
	})
	if got := strings.Count(out, ", env WIREFEED_"); got != n {
		t.Errorf("--help lists %d env variables, want %d (one per flag)", got, n)
	}
	if t.Failed() {
		t.Logf("--help said:\n%s", out)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"--help", "-h"} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(t, "", nil, arg)
			if code != 0 {
				t.Fatalf("sink %s: exit %d, want 0\n%s", arg, code, stderr)
			}
			out := stdout + stderr
			if !strings.HasPrefix(out, "Usage: sink [flags]") {
				t.Errorf("sink %s: output does not start with the synopsis:\n%s", arg, out)
			}
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			new(sink.Config).RegisterFlags(fs)
			checkHelp(t, out, fs)
		})
	}
}

func TestBadFlagsExit2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     []string
		wantErr string
	}{
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined: -nope"},
		{name: "bucket not a URL", args: []string{"--bucket=./archive"}, wantErr: `--bucket "./archive" is not a URL`},
		{name: "prefix with slash", args: []string{"--prefix=/articles"}, wantErr: `--prefix "/articles"`},
		{name: "zero max-records", args: []string{"--batch.max-records=0"}, wantErr: "--batch.max-records must be at least 1"},
		{name: "bad max-age", args: []string{"--batch.max-age=60"}, wantErr: "-batch.max-age"},
		{name: "bad compression", args: []string{"--compression=brotli"}, wantErr: `--compression "brotli"`},
		{name: "no group", args: []string{"--group="}, wantErr: "--group is empty"},
		{name: "positional argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
		{name: "bad env value", env: []string{"WIREFEED_BATCH_MAX_RECORDS=lots"}, wantErr: "WIREFEED_BATCH_MAX_RECORDS"},
		{name: "bad env bound", env: []string{"WIREFEED_BATCH_MAX_BYTES=10"}, wantErr: "--batch.max-bytes must be at least 1024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			archive := filepath.Join(t.TempDir(), "archive")
			args := append([]string{"--kafka.brokers=127.0.0.1:1", "--http.addr=" + freeAddr(t), "--bucket=file://" + archive + "?create_dir=true"}, tt.args...)
			code, stdout, stderr := run(t, "", tt.env, args...)
			if code != 2 {
				t.Errorf("sink %q (env %q): exit %d, want 2\nstderr: %s", args, tt.env, code, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("sink %q (env %q): stderr does not contain %q:\n%s", args, tt.env, tt.wantErr, stderr)
			}
			if hasLog(stderr, "starting") || stdout != "" {
				t.Errorf("sink %q: started or wrote output before refusing its flags:\nstdout: %s\nstderr: %s", args, stdout, stderr)
			}
			if _, err := os.Stat(archive); err == nil {
				t.Errorf("sink %q: opened the bucket before refusing its flags", args)
			}
		})
	}
}

var bufferedRe = regexp.MustCompile(`(?m)^wirefeed_sink_buffered_bytes (\S+)$`)

// TestSIGTERMStopsCleanly stops the sink while it holds a record in a batch
// far from its bounds: the record is archived before the process exits 0.
func TestSIGTERMStopsCleanly(t *testing.T) {
	t.Parallel()
	brokers := kafkatest.Brokers(t)
	addr := freeAddr(t)
	archive := t.TempDir()
	topic := kafkatest.Name(t, "records")
	s := start(t, nil, "--kafka.brokers="+strings.Join(brokers, ","), "--kafka.partitions=1", "--http.addr="+addr,
		"--lag.interval=200ms", "--batch.max-age=1h", "--bucket=file://"+archive,
		"--topic.records="+topic, "--topic.dead-letter="+kafkatest.Name(t, "dlq"), "--group="+kafkatest.Name(t, "group"))
	s.waitReady(t, addr)

	var kc kafka.Config
	kc.RegisterFlags(flag.NewFlagSet("kafka", flag.ContinueOnError))
	kc.Brokers = flagenv.Strings(brokers)
	a := &record.Article{SchemaVersion: record.SchemaVersion, ID: record.NewID("alpha", "A1", ""), Source: "alpha", SourceID: "A1",
		Format: "textdump", Title: "A title", Body: []string{"A paragraph."},
		PublishedAt: time.Date(2024, 2, 1, 8, 0, 0, 0, time.UTC), NormalizedAt: time.Now().UTC()}
	a.ContentHash = record.Hash(a.Title, a.Body, nil)
	b, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	w := kafka.NewWriter(&kc, topic, zap.NewNop())
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Write(ctx, nil, kafka.Message{Key: []byte(a.ID), Value: b}); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		var m bytes.Buffer
		m.ReadFrom(res.Body)
		res.Body.Close()
		if g := bufferedRe.FindStringSubmatch(m.String()); g != nil && g[1] != "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the record was never buffered\n%s", s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := archived(t, archive); len(n) != 0 {
		t.Fatalf("archived before SIGTERM with max-age 1h: %d records", len(n))
	}

	if code := s.stop(t); code != 0 {
		t.Errorf("exit code after SIGTERM: %d, want 0\n%s", code, s.stderr)
	}
	if !hasLog(s.stderr.String(), "stopped") {
		t.Errorf("no \"stopped\" log line after SIGTERM:\n%s", s.stderr)
	}
	if got := archived(t, archive); len(got) != 1 || !strings.Contains(got[0], `"title":"A title"`) {
		t.Errorf("archive after SIGTERM: %q, want the one record", got)
	}
}

// archived returns the records of every object under dir, validated.
func archived(t testing.TB, dir string) []string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".ndjson.gz") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			recordtest.Validate(t, sc.Bytes())
			lines = append(lines, sc.Text())
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}
