// Package clitest runs the commands of this module in their own tests. A
// command's TestMain builds it once for the package, with the race detector
// when the tests run with it; a test then runs it to completion, or starts
// it, waits until it is ready and stops it with SIGTERM, and reads its JSON
// logs, its /metrics and its --help.
//
// Every run gets the test's environment without the WIREFEED_ variables, so
// that a setting of the developer's shell does not leak into a test.
package clitest

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
)

// runTimeout kills a run that has not ended by then.
const runTimeout = 2 * time.Minute

// Binary is a command under test, built from the main package in the
// working directory of the tests (the package's folder).
type Binary struct {
	name string
	path string
}

// New returns the command called name; its package's TestMain builds it
// with Main.
func New(name string) *Binary { return &Binary{name: name} }

// Main is the package's TestMain: it builds the command into a temporary
// folder, runs the tests, removes the folder and exits with the tests'
// exit code.
func (b *Binary) Main(m *testing.M) {
	os.Exit(b.main(m))
}

func (b *Binary) main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "wirefeed-"+b.name+"-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	b.path = filepath.Join(dir, b.name)
	args := []string{"build", "-o", b.path}
	if raceEnabled() {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
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

// Input is what a run of the command gets besides its arguments.
type Input struct {
	Stdin string   // standard input
	Env   []string // KEY=value pairs added to the environment
	Dir   string   // working folder; "" for the tests' own
}

// command returns the command with args, set up as in says.
func (b *Binary) command(ctx context.Context, t testing.TB, in Input, args []string) *exec.Cmd {
	t.Helper()
	if b.path == "" {
		t.Fatalf("%s is not built: its package's TestMain must call Main", b.name)
	}
	cmd := exec.CommandContext(ctx, b.path, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, flagenv.Prefix+"_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, in.Env...)
	cmd.Stdin = strings.NewReader(in.Stdin)
	cmd.Dir = in.Dir
	return cmd
}

// Run runs the command to completion and returns its exit code and output.
// A run that fails to start, or is still running after two minutes, fails
// the test.
func (b *Binary) Run(t testing.TB, in Input, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := b.command(ctx, t, in, args)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %q still running after %v\nstdout: %s\nstderr: %s", b.name, args, runTimeout, out.String(), errb.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	}
	if err != nil {
		t.Fatalf("run %s %q: %v", b.name, args, err)
	}
	return 0, out.String(), errb.String()
}

// Process is a started command. The test's cleanup kills it if it still
// runs then.
type Process struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // of Wait, once done is closed
}

// Start starts the command, its standard output and error going to one
// buffer that Output returns.
func (b *Binary) Start(t testing.TB, in Input, args ...string) *Process {
	t.Helper()
	p := &Process{cmd: b.command(context.Background(), t, in, args), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// Output returns what the process wrote so far.
func (p *Process) Output() string { return p.out.String() }

// WaitReady polls http://addr/readyz until it answers 200. The process
// exiting first, or no 200 within 45 seconds, fails the test.
func (p *Process) WaitReady(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	last := "no answer"
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("exited before ready: %v\n%s", p.err, p.Output())
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
	t.Fatalf("not ready in time; /readyz said %s\n%s", last, p.Output())
}

// Stop sends SIGTERM and returns the exit code. A process still running a
// minute later fails the test.
func (p *Process) Stop(t testing.TB) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("still running a minute after SIGTERM\n%s", p.Output())
	}
	return p.cmd.ProcessState.ExitCode()
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

// FreeAddr returns a 127.0.0.1 address with a port free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Metrics returns what http://addr/metrics answers.
func Metrics(t testing.TB, addr string) string {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(res.Body); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// HasLog reports whether out holds a JSON log line with the message msg.
func HasLog(out, msg string) bool {
	for _, l := range strings.Split(out, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			return true
		}
	}
	return false
}

// CheckHelp runs the command with args that ask for its help, and checks
// that it exits 0 with an output that starts with synopsis and lists the
// flags of fs: every one with its default and environment variable, none
// that fs lacks, one environment variable a flag.
func (b *Binary) CheckHelp(t testing.TB, in Input, args []string, synopsis string, fs *flag.FlagSet) {
	t.Helper()
	code, stdout, stderr := b.Run(t, in, args...)
	if code != 0 {
		t.Fatalf("%s %q: exit %d, want 0\n%s", b.name, args, code, stderr)
	}
	out := stdout + stderr
	if !strings.HasPrefix(out, synopsis) {
		t.Errorf("%s %q: output does not start with %q:\n%s", b.name, args, synopsis, out)
	}
	checkFlags(t, out, fs)
}

// CheckRefused runs the command with bad flags or settings, and checks that
// it refuses them before it starts: exit 2, wantErr on standard error, no
// "starting" log line and nothing on standard output.
func (b *Binary) CheckRefused(t testing.TB, in Input, args []string, wantErr string) {
	t.Helper()
	code, stdout, stderr := b.Run(t, in, args...)
	if code != 2 {
		t.Errorf("%s %q (env %q): exit %d, want 2\nstderr: %s", b.name, args, in.Env, code, stderr)
	}
	if !strings.Contains(stderr, wantErr) {
		t.Errorf("%s %q (env %q): stderr does not contain %q:\n%s", b.name, args, in.Env, wantErr, stderr)
	}
	if HasLog(stderr, "starting") || stdout != "" {
		t.Errorf("%s %q: started or wrote output before refusing its flags:\nstdout: %s\nstderr: %s", b.name, args, stdout, stderr)
	}
}

var flagLineRe = regexp.MustCompile(`(?m)^  --(\S+)`)

// checkFlags checks that a help output lists the flags of fs as CheckHelp
// says.
func checkFlags(t testing.TB, out string, fs *flag.FlagSet) {
	t.Helper()
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		t.Helper()
		n++
		re := regexp.MustCompile(`(?m)^  --` + regexp.QuoteMeta(f.Name) + `( \S+)?\n(      .*\n)*?      default .*, env ` + flagenv.EnvName(f.Name) + `\n`)
		if !re.MatchString(out) {
			t.Errorf("--help does not list --%s with its env variable %s", f.Name, flagenv.EnvName(f.Name))
		}
	})
	for _, m := range flagLineRe.FindAllStringSubmatch(out, -1) {
		if fs.Lookup(m[1]) == nil {
			t.Errorf("--help lists --%s, which is not a flag", m[1])
		}
	}
	if got := strings.Count(out, ", env "+flagenv.Prefix+"_"); got != n {
		t.Errorf("--help lists %d env variables, want %d (one per flag)", got, n)
	}
	if t.Failed() {
		t.Logf("--help said:\n%s", out)
	}
}
