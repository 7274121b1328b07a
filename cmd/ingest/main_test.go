package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
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

	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/ingest"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
)

// bin is the command under test, built once for the package.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wirefeed-ingest-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "ingest")
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
	for _, arg := range []string{"--help", "-h", "-help"} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(t, "", nil, arg)
			if code != 0 {
				t.Fatalf("ingest %s: exit %d, want 0\n%s", arg, code, stderr)
			}
			out := stdout + stderr
			if !strings.HasPrefix(out, "Usage: ingest --spool DIR [flags]") {
				t.Errorf("ingest %s: output does not start with the synopsis:\n%s", arg, out)
			}
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			new(ingest.Config).RegisterFlags(fs)
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
		noSpool bool
		wantErr string
	}{
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined: -nope"},
		{name: "no spool", noSpool: true, wantErr: "--spool is required"},
		{name: "bad int", args: []string{"--spool.batch=many"}, wantErr: `invalid value "many" for flag -spool.batch`},
		{name: "bad duration", args: []string{"--spool.settle=2"}, wantErr: "-spool.settle"},
		{name: "zero batch", args: []string{"--spool.batch=0"}, wantErr: "--spool.batch must be at least 1"},
		{name: "zero poll", args: []string{"--spool.poll=0s"}, wantErr: "--spool.poll must be positive"},
		{name: "bad source", args: []string{"--spool.source=Wire Service"}, wantErr: `--spool.source "Wire Service"`},
		{name: "item larger than a message", args: []string{"--max-item-bytes=99999999"}, wantErr: "--max-item-bytes"},
		{name: "bad compression", args: []string{"--kafka.compression=brotli"}, wantErr: `--kafka.compression "brotli"`},
		{name: "bad log format", args: []string{"--log.format=xml"}, wantErr: "--log.format"},
		{name: "positional argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
		{name: "bad env value", env: []string{"WIREFEED_SPOOL_SETTLE=soon"}, wantErr: "WIREFEED_SPOOL_SETTLE"},
		{name: "bad env bound", env: []string{"WIREFEED_SPOOL_BATCH=0"}, wantErr: "--spool.batch must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spool := filepath.Join(t.TempDir(), "spool")
			args := []string{"--kafka.brokers=127.0.0.1:1", "--http.addr=" + freeAddr(t)}
			if !tt.noSpool {
				args = append(args, "--spool="+spool)
			}
			args = append(args, tt.args...)
			code, stdout, stderr := run(t, "", tt.env, args...)
			if code != 2 {
				t.Errorf("ingest %q (env %q): exit %d, want 2\nstderr: %s", args, tt.env, code, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("ingest %q (env %q): stderr does not contain %q:\n%s", args, tt.env, tt.wantErr, stderr)
			}
			if hasLog(stderr, "starting") || stdout != "" {
				t.Errorf("ingest %q: started or wrote output before refusing its flags:\nstdout: %s\nstderr: %s", args, stdout, stderr)
			}
			if _, err := os.Stat(spool); err == nil {
				t.Errorf("ingest %q: created the spool folder before refusing its flags", args)
			}
		})
	}
}

func TestSIGTERMStopsCleanly(t *testing.T) {
	t.Parallel()
	brokers := strings.Join(kafkatest.Brokers(t), ",")
	addr := freeAddr(t)
	spool := t.TempDir()
	s := start(t, nil, "--spool", spool, "--kafka.brokers", brokers, "--kafka.partitions=1", "--http.addr", addr,
		"--topic.raw="+kafkatest.Name(t, "raw"), "--spool.poll=50ms")
	s.waitReady(t, addr)

	// Drop an item as a feed writer would, and see it published.
	tmp := filepath.Join(spool, ".item.txt.tmp")
	if err := os.WriteFile(tmp, []byte("Title : A\nArticle :\nB.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(spool, "item.txt")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(spool, "done", "item.txt")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("item.txt not moved to done/\n%s", s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var metrics bytes.Buffer
	metrics.ReadFrom(res.Body)
	res.Body.Close()
	if want := `wirefeed_ingest_items_total{result="published",source="spool"} 1`; !strings.Contains(metrics.String(), want) {
		t.Errorf("/metrics does not show %s", want)
	}

	if code := s.stop(t); code != 0 {
		t.Errorf("exit code after SIGTERM: %d, want 0\n%s", code, s.stderr)
	}
	if !hasLog(s.stderr.String(), "stopped") {
		t.Errorf("no \"stopped\" log line after SIGTERM:\n%s", s.stderr)
	}
}
