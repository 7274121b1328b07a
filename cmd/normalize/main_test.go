package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/wirefeed/wirefeed/internal/clitest"
	"github.com/wirefeed/wirefeed/internal/kafkatest"
	"github.com/wirefeed/wirefeed/internal/normalize"
	"github.com/wirefeed/wirefeed/internal/recordtest"
)

// bin is the command under test, built once for the package.
var bin = clitest.New("normalize")

func TestMain(m *testing.M) { bin.Main(m) }

func TestHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args     []string
		register func(*flag.FlagSet)
		synopsis string
	}{
		{args: []string{"--help"}, register: func(fs *flag.FlagSet) { new(normalize.Config).RegisterFlags(fs) }, synopsis: "Usage:\n  normalize [flags]"},
		{args: []string{"-h"}, register: func(fs *flag.FlagSet) { new(normalize.Config).RegisterFlags(fs) }, synopsis: "Usage:\n  normalize [flags]"},
		{args: []string{"parse", "--help"}, register: func(fs *flag.FlagSet) {
			new(normalize.Config).RegisterParseFlags(fs)
			fs.String("source", "", "")
			fs.String("format", "", "")
			fs.String("charset", "", "")
		}, synopsis: "Usage: normalize parse"},
		{args: []string{"fix-text", "--help"}, register: func(*flag.FlagSet) {}, synopsis: "Usage: normalize fix-text"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			tt.register(fs)
			bin.CheckHelp(t, clitest.Input{}, tt.args, tt.synopsis, fs)
		})
	}
}

func TestBadFlagsExit2(t *testing.T) {
	t.Parallel()
	brokers := "127.0.0.1:1" // nothing listens: a start would show in the logs
	tests := []struct {
		name    string
		args    []string
		env     []string
		wantErr string
	}{
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined: -nope"},
		{name: "bad int", args: []string{"--batch.max=many"}, wantErr: `invalid value "many" for flag -batch.max`},
		{name: "bad duration", args: []string{"--batch.linger=10"}, wantErr: "-batch.linger"},
		{name: "out of bounds", args: []string{"--batch.max=0"}, wantErr: "--batch.max must be at least 1"},
		{name: "session timeout too short", args: []string{"--kafka.session-timeout=1s"}, wantErr: "--kafka.session-timeout must be at least 6s"},
		{name: "bad broker", args: []string{"--kafka.brokers=localhost"}, wantErr: "--kafka.brokers"},
		{name: "bad time zone", args: []string{"--default-timezone=Mars/Olympus"}, wantErr: `--default-timezone "Mars/Olympus"`},
		{name: "same topics", args: []string{"--topic.raw=x", "--topic.records=x"}, wantErr: "must differ"},
		{name: "bad log level", args: []string{"--log.level=loud"}, wantErr: "--log.level"},
		{name: "positional argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
		{name: "bad env value", env: []string{"WIREFEED_BATCH_MAX=many"}, wantErr: "WIREFEED_BATCH_MAX"},
		{name: "bad env bound", env: []string{"WIREFEED_KAFKA_PARTITIONS=0"}, wantErr: "--kafka.partitions must be at least 1"},
		{name: "parse: unknown flag", args: []string{"parse", "--nope"}, wantErr: "flag provided but not defined: -nope"},
		{name: "parse: bad time zone", args: []string{"parse", "--default-timezone=Nowhere/City", "testdata/good-harbour.txt"}, wantErr: `--default-timezone "Nowhere/City"`},
		{name: "parse: bad env time zone", args: []string{"parse", "testdata/good-harbour.txt"}, env: []string{"WIREFEED_DEFAULT_TIMEZONE=Nowhere/City"}, wantErr: "Nowhere/City"},
		{name: "fix-text: argument", args: []string{"fix-text", "file.txt"}, wantErr: "reads standard input only"},
		{name: "fix-text: unknown flag", args: []string{"fix-text", "--nope"}, wantErr: "flag provided but not defined: -nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			if len(args) == 0 || (args[0] != "parse" && args[0] != "fix-text") {
				args = append([]string{"--kafka.brokers=" + brokers, "--http.addr=" + clitest.FreeAddr(t)}, args...)
			}
			bin.CheckRefused(t, clitest.Input{Env: tt.env}, args, tt.wantErr)
		})
	}
}

// records decodes and validates the JSON records of out, one a line.
func records(t testing.TB, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.SplitAfter(out, "\n") {
		if line == "" {
			continue
		}
		if !strings.HasSuffix(line, "\n") {
			t.Errorf("last output line has no newline: %q", line)
		}
		recordtest.Validate(t, []byte(line))
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("output line is not JSON: %v\n%s", err, line)
		}
		recs = append(recs, m)
	}
	return recs
}

func TestParse(t *testing.T) {
	t.Parallel()
	harbour, err := os.ReadFile("testdata/good-harbour.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantTitles []string
		wantErr    []string // substrings of stderr
	}{
		{name: "one good file", args: []string{"testdata/good-harbour.txt"},
			wantTitles: []string{"Dense fog closes harbour for second day"}},
		{name: "two good files", args: []string{"testdata/good-harbour.txt", "testdata/good-bridge.txt"},
			wantTitles: []string{"Dense fog closes harbour for second day", "Old town bridge reopens after repairs"}},
		{name: "one bad among good ones", args: []string{"testdata/good-harbour.txt", "testdata/bad-no-title.txt", "testdata/good-bridge.txt"},
			wantCode:   1,
			wantTitles: []string{"Dense fog closes harbour for second day", "Old town bridge reopens after repairs"},
			wantErr:    []string{"testdata/bad-no-title.txt: cannot normalize (missing_title)", "1 input(s) could not be normalized"}},
		{name: "missing file", args: []string{"testdata/no-such-file.txt", "testdata/good-bridge.txt"},
			wantCode:   1,
			wantTitles: []string{"Old town bridge reopens after repairs"},
			wantErr:    []string{"testdata/no-such-file.txt:", "no such file"}},
		{name: "stdin with -", args: []string{"-"}, stdin: string(harbour),
			wantTitles: []string{"Dense fog closes harbour for second day"}},
		{name: "stdin without arguments", args: nil, stdin: string(harbour),
			wantTitles: []string{"Dense fog closes harbour for second day"}},
		{name: "stdin among files", args: []string{"testdata/good-bridge.txt", "-"}, stdin: string(harbour),
			wantTitles: []string{"Old town bridge reopens after repairs", "Dense fog closes harbour for second day"}},
		{name: "empty stdin", args: []string{"-"}, stdin: "", wantCode: 1, wantErr: []string{"-: cannot normalize"}},
		{name: "flags before files", args: []string{"--source=wire", "--format=textdump", "testdata/good-bridge.txt"},
			wantTitles: []string{"Old town bridge reopens after repairs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"parse"}, tt.args...)
			code, stdout, stderr := bin.Run(t, clitest.Input{Stdin: tt.stdin}, args...)
			if code != tt.wantCode {
				t.Errorf("normalize %q: exit %d, want %d\nstderr: %s", args, code, tt.wantCode, stderr)
			}
			recs := records(t, stdout)
			var titles []string
			for _, r := range recs {
				titles = append(titles, fmt.Sprint(r["title"]))
			}
			if strings.Join(titles, "|") != strings.Join(tt.wantTitles, "|") {
				t.Errorf("normalize %q: titles %q, want %q", args, titles, tt.wantTitles)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(stderr, w) {
					t.Errorf("normalize %q: stderr does not contain %q:\n%s", args, w, stderr)
				}
			}
			if tt.wantErr == nil && stderr != "" {
				t.Errorf("normalize %q: unexpected stderr:\n%s", args, stderr)
			}
		})
	}
}

func TestFixText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "mojibake end mark", in: "fight \u00e2\u2013\u00a0\n", want: "fight \u25a0\n"},
		{name: "lone CR inside a line", in: "one\rtwo\n", want: "one two\n"},
		{name: "CRLF line end", in: "one\r\ntwo\r\n", want: "one\ntwo\n"},
		{name: "empty lines", in: "\n\n", want: "\n\n"},
		{name: "last line without newline", in: "a\nb", want: "a\nb"},
		{name: "nothing", in: "", want: ""},
		{name: "entities and mojibake", in: "itâ€™s caf&eacute;\n", want: "it\u2019s caf\u00e9\n"},
		{name: "all together", in: "fight \u00e2\u2013\u00a0\none\rtwo\n\nclean line\nlast", want: "fight \u25a0\none two\n\nclean line\nlast"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := bin.Run(t, clitest.Input{Stdin: tt.in}, "fix-text")
			if code != 0 || stderr != "" {
				t.Errorf("fix-text on %q: exit %d, stderr %q; want 0 and nothing", tt.in, code, stderr)
			}
			if stdout != tt.want {
				t.Errorf("fix-text on %q:\n got %q\nwant %q", tt.in, stdout, tt.want)
			}
			if in, out := strings.Count(tt.in, "\n"), strings.Count(stdout, "\n"); in != out {
				t.Errorf("fix-text on %q: %d line ends out for %d in", tt.in, out, in)
			}
		})
	}
}

func TestSIGTERMStopsCleanly(t *testing.T) {
	t.Parallel()
	brokers := strings.Join(kafkatest.Brokers(t), ",")
	addr := clitest.FreeAddr(t)
	s := bin.Start(t, clitest.Input{},
		"--kafka.brokers="+brokers, "--kafka.partitions=1", "--http.addr="+addr, "--lag.interval=200ms",
		"--topic.raw="+kafkatest.Name(t, "raw"), "--topic.records="+kafkatest.Name(t, "records"),
		"--topic.dead-letter="+kafkatest.Name(t, "dlq"), "--group="+kafkatest.Name(t, "group"))
	s.WaitReady(t, addr)
	if code := s.Stop(t); code != 0 {
		t.Errorf("exit code after SIGTERM: %d, want 0\n%s", code, s.Output())
	}
	if !clitest.HasLog(s.Output(), "stopped") {
		t.Errorf("no \"stopped\" log line after SIGTERM:\n%s", s.Output())
	}
}
