package flagenv

import (
	"bytes"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnvName(t *testing.T) {
	t.Parallel()
	tests := []struct{ flag, want string }{
		{"kafka.brokers", "WIREFEED_KAFKA_BROKERS"},
		{"http.addr", "WIREFEED_HTTP_ADDR"},
		{"max-item-bytes", "WIREFEED_MAX_ITEM_BYTES"},
		{"topic.dead-letter", "WIREFEED_TOPIC_DEAD_LETTER"},
		{"kafka.session-timeout", "WIREFEED_KAFKA_SESSION_TIMEOUT"},
		{"spool", "WIREFEED_SPOOL"},
		{"Batch.Max", "WIREFEED_BATCH_MAX"},
	}
	for _, tt := range tests {
		if got := EnvName(tt.flag); got != tt.want {
			t.Errorf("EnvName(%q) = %q, want %q", tt.flag, got, tt.want)
		}
	}
}

// testFlags is a small configuration registered the way the stages do.
type testFlags struct {
	brokers    Strings
	clientID   string
	partitions int
	timeout    time.Duration
	verbose    bool
}

func newTestFlags() (*flag.FlagSet, *testFlags) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := &testFlags{brokers: Strings{"127.0.0.1:9092"}}
	fs.Var(&c.brokers, "kafka.brokers", "brokers")
	fs.StringVar(&c.clientID, "kafka.client-id", "wirefeed", "client ID")
	fs.IntVar(&c.partitions, "kafka.partitions", 3, "partitions")
	fs.DurationVar(&c.timeout, "kafka.dial-timeout", 10*time.Second, "dial timeout")
	fs.BoolVar(&c.verbose, "verbose", false, "more output")
	return fs, c
}

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestParsePrecedence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want testFlags
	}{
		{name: "defaults", want: testFlags{brokers: Strings{"127.0.0.1:9092"}, clientID: "wirefeed", partitions: 3, timeout: 10 * time.Second}},
		{name: "env over default",
			env:  map[string]string{"WIREFEED_KAFKA_BROKERS": "a:1,b:2", "WIREFEED_KAFKA_CLIENT_ID": "env-id", "WIREFEED_KAFKA_PARTITIONS": "6", "WIREFEED_KAFKA_DIAL_TIMEOUT": "3s", "WIREFEED_VERBOSE": "true"},
			want: testFlags{brokers: Strings{"a:1", "b:2"}, clientID: "env-id", partitions: 6, timeout: 3 * time.Second, verbose: true}},
		{name: "flag over env",
			args: []string{"--kafka.brokers=c:3", "--kafka.client-id", "flag-id", "-kafka.partitions=9", "--verbose=false"},
			env:  map[string]string{"WIREFEED_KAFKA_BROKERS": "a:1,b:2", "WIREFEED_KAFKA_CLIENT_ID": "env-id", "WIREFEED_KAFKA_PARTITIONS": "6", "WIREFEED_VERBOSE": "true"},
			want: testFlags{brokers: Strings{"c:3"}, clientID: "flag-id", partitions: 9, timeout: 10 * time.Second}},
		{name: "flag set to its default still wins",
			args: []string{"--kafka.partitions=3"},
			env:  map[string]string{"WIREFEED_KAFKA_PARTITIONS": "6"},
			want: testFlags{brokers: Strings{"127.0.0.1:9092"}, clientID: "wirefeed", partitions: 3, timeout: 10 * time.Second}},
		{name: "mixed",
			args: []string{"--kafka.client-id=flag-id"},
			env:  map[string]string{"WIREFEED_KAFKA_PARTITIONS": "1", "UNRELATED": "x", "WIREFEED_UNKNOWN_FLAG": "y"},
			want: testFlags{brokers: Strings{"127.0.0.1:9092"}, clientID: "flag-id", partitions: 1, timeout: 10 * time.Second}},
		{name: "empty env value is a value",
			env:  map[string]string{"WIREFEED_KAFKA_CLIENT_ID": ""},
			want: testFlags{brokers: Strings{"127.0.0.1:9092"}, clientID: "", partitions: 3, timeout: 10 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, got := newTestFlags()
			if err := Parse(fs, tt.args, lookupIn(tt.env)); err != nil {
				t.Fatalf("Parse(%q, env %v): %v", tt.args, tt.env, err)
			}
			if !slices.Equal(got.brokers, tt.want.brokers) || got.clientID != tt.want.clientID || got.partitions != tt.want.partitions ||
				got.timeout != tt.want.timeout || got.verbose != tt.want.verbose {
				t.Errorf("Parse(%q, env %v):\n got %+v\nwant %+v", tt.args, tt.env, *got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantErr  []string // substrings of the error; nil for no error
		wantArgs []string
	}{
		{name: "bad env int", env: map[string]string{"WIREFEED_KAFKA_PARTITIONS": "three"},
			wantErr: []string{"WIREFEED_KAFKA_PARTITIONS", `"three"`}},
		{name: "bad env duration", env: map[string]string{"WIREFEED_KAFKA_DIAL_TIMEOUT": "10"},
			wantErr: []string{"WIREFEED_KAFKA_DIAL_TIMEOUT", `"10"`}},
		{name: "bad env bool", env: map[string]string{"WIREFEED_VERBOSE": "maybe"},
			wantErr: []string{"WIREFEED_VERBOSE"}},
		{name: "bad env value shadowed by a flag", args: []string{"--kafka.partitions=2"}, env: map[string]string{"WIREFEED_KAFKA_PARTITIONS": "three"}},
		{name: "bad flag value", args: []string{"--kafka.partitions=three"}, wantErr: []string{"kafka.partitions"}},
		{name: "unknown flag", args: []string{"--kafka.partition=3"}, wantErr: []string{"kafka.partition"}},
		{name: "positional arguments are left", args: []string{"--verbose", "parse", "x.txt"}, wantArgs: []string{"parse", "x.txt"}},
		{name: "help", args: []string{"--help"}, wantErr: []string{flag.ErrHelp.Error()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, _ := newTestFlags()
			err := Parse(fs, tt.args, lookupIn(tt.env))
			if tt.wantErr == nil {
				if err != nil {
					t.Errorf("Parse(%q, env %v): got %v, want nil", tt.args, tt.env, err)
				}
			} else if err == nil {
				t.Errorf("Parse(%q, env %v): got nil, want an error naming %q", tt.args, tt.env, tt.wantErr)
			} else {
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("Parse(%q, env %v): error %q does not contain %q", tt.args, tt.env, err, w)
					}
				}
			}
			if tt.wantArgs != nil && !slices.Equal(fs.Args(), tt.wantArgs) {
				t.Errorf("Parse(%q): args %q, want %q", tt.args, fs.Args(), tt.wantArgs)
			}
		})
	}
}

func TestStringsSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		start Strings
		in    string
		want  Strings
		str   string
	}{
		{start: nil, in: "a:1", want: Strings{"a:1"}, str: "a:1"},
		{start: nil, in: "a:1,b:2", want: Strings{"a:1", "b:2"}, str: "a:1,b:2"},
		{start: nil, in: " a:1 , ,b:2 ,", want: Strings{"a:1", "b:2"}, str: "a:1,b:2"},
		{start: Strings{"x:9"}, in: "a:1", want: Strings{"a:1"}, str: "a:1"},
		{start: Strings{"x:9", "y:8", "z:7"}, in: "a:1", want: Strings{"a:1"}, str: "a:1"},
		{start: Strings{"x:9"}, in: "", want: Strings{}, str: ""},
		{start: nil, in: " , ", want: Strings{}, str: ""},
	}
	for _, tt := range tests {
		s := slices.Clone(tt.start)
		if err := s.Set(tt.in); err != nil {
			t.Errorf("%q.Set(%q): %v", tt.start, tt.in, err)
		}
		if !slices.Equal(s, tt.want) || s.String() != tt.str {
			t.Errorf("%q.Set(%q): got %q (String %q), want %q (String %q)", tt.start, tt.in, s, s.String(), tt.want, tt.str)
		}
	}
}

// TestStringsSetLeavesCopiesAlone sets a list that shares its backing array
// with a copy (a configuration struct copied before parsing, say): the copy
// must keep its own items.
func TestStringsSetLeavesCopiesAlone(t *testing.T) {
	t.Parallel()
	orig := Strings{"a:1", "b:2"}
	cp := orig
	if err := cp.Set("c:3"); err != nil {
		t.Fatal(err)
	}
	if want := (Strings{"a:1", "b:2"}); !slices.Equal(orig, want) {
		t.Errorf("after Set(%q) on a copy, the original is %q, want %q", "c:3", orig, want)
	}
	if !slices.Equal(cp, Strings{"c:3"}) {
		t.Errorf("copy after Set: %q, want [c:3]", cp)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	fs, _ := newTestFlags()
	fs.String("empty", "", "a flag with an empty default")
	fs.String("multi", "x", "first line\nsecond line")
	fs.String("spool", "", "the `DIR` to watch")
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	Usage(fs, "Usage: test [flags]\n\nDoes things.\n")()
	out := buf.String()

	if !strings.HasPrefix(out, "Usage: test [flags]\n\nDoes things.\n\nFlags (each may also be set by the environment variable shown):\n") {
		t.Errorf("usage does not start with the synopsis and the flags heading:\n%s", out)
	}
	wantOrder := []string{"--empty", "--kafka.brokers", "--kafka.client-id", "--kafka.dial-timeout", "--kafka.partitions", "--multi", "--spool", "--verbose"}
	last := -1
	for _, name := range wantOrder {
		i := strings.Index(out, "  "+name)
		if i < 0 {
			t.Errorf("usage does not list %s:\n%s", name, out)
			continue
		}
		if i < last {
			t.Errorf("usage lists %s out of order:\n%s", name, out)
		}
		last = i
	}
	for _, want := range []string{
		"  --kafka.brokers value\n      brokers\n      default 127.0.0.1:9092, env WIREFEED_KAFKA_BROKERS\n",
		"  --kafka.partitions int\n      partitions\n      default 3, env WIREFEED_KAFKA_PARTITIONS\n",
		"  --kafka.dial-timeout duration\n      dial timeout\n      default 10s, env WIREFEED_KAFKA_DIAL_TIMEOUT\n",
		"  --verbose\n      more output\n      default false, env WIREFEED_VERBOSE\n",
		"  --empty string\n      a flag with an empty default\n      default \"\", env WIREFEED_EMPTY\n",
		"  --multi string\n      first line\n      second line\n      default x, env WIREFEED_MULTI\n",
		"  --spool DIR\n      the DIR to watch\n      default \"\", env WIREFEED_SPOOL\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("usage lacks\n%s\ngot:\n%s", want, out)
		}
	}
	if n := strings.Count(out, ", env WIREFEED_"); n != len(wantOrder) {
		t.Errorf("usage names %d env variables, want %d:\n%s", n, len(wantOrder), out)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		checks []Check
		want   string // "" for nil
	}{
		{name: "none", want: ""},
		{name: "all pass", checks: []Check{{OK: true, Msg: "a"}, {OK: true, Msg: "b"}}, want: ""},
		{name: "one fails", checks: []Check{{OK: true, Msg: "a"}, {OK: false, Msg: "b is bad"}}, want: "invalid configuration: b is bad"},
		{name: "every failure listed", checks: []Check{{OK: false, Msg: "a is bad"}, {OK: true, Msg: "b"}, {OK: false, Msg: "c is bad"}},
			want: "invalid configuration: a is bad; c is bad"},
		{name: "positive", checks: []Check{Positive("x.y", 0), Positive("z", time.Second), Positive("w", -time.Second)},
			want: "invalid configuration: --x.y must be positive, got 0s; --w must be positive, got -1s"},
	}
	for _, tt := range tests {
		err := Validate(tt.checks...)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: Validate(%+v) = %q, want %q", tt.name, tt.checks, got, tt.want)
		}
	}
}
