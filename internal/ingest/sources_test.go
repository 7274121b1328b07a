package ingest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// fakeEnv is an environment with the given variables and files.
func fakeEnv(vars map[string]string, files map[string]string) environment {
	return environment{
		lookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		readFile: func(p string) ([]byte, error) {
			if v, ok := files[filepath.ToSlash(p)]; ok {
				return []byte(v), nil
			}
			return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
		},
	}
}

var testDefaults = sourceDefaults{HTTPInterval: 5 * time.Minute, SpoolPoll: time.Second}

func TestParseSourcesValid(t *testing.T) {
	t.Parallel()
	env := fakeEnv(map[string]string{"WIRE_KEY": "k-123", "PUSH_TOKEN": "0123456789abcdef0123", "USER": "ann"},
		map[string]string{"/etc/wirefeed/secret": "s3cret\n", "/etc/wirefeed/rel-secret": "rel\r\n"})
	yml := `
sources:
  - id: wire-en
    type: http
    url: https://wire.example/en/rss.xml
    format: rss
    interval: 2m
    timeout: 20s
    timezone: Asia/Shanghai
    charset: windows-1252
    headers:
      x-api-key: ${WIRE_KEY}
      User-Agent: "wirefeed (${USER})"
    auth:
      bearer: file:/etc/wirefeed/secret
  - id: wire-basic
    type: http
    url: http://127.0.0.1:8080/feed
    auth:
      username: ${USER}
      password: file:rel-secret
  - id: drop
    type: spool
    path: /var/spool/wire
    format: textdump
  - id: partner
    type: push
    token: ${PUSH_TOKEN}
    format: ninjs
  - id: off
    type: http
    url: https://off.example/
    enabled: false
`
	srcs, err := parseSources("/etc/wirefeed/sources.yaml", []byte(yml), testDefaults, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 5 {
		t.Fatalf("got %d sources, want 5", len(srcs))
	}
	en := srcs[0]
	if en.ID != "wire-en" || en.Type != TypeHTTP || en.Format != "rss" || en.Interval != 2*time.Minute || en.Timeout != 20*time.Second ||
		en.Timezone != "Asia/Shanghai" || en.Location().String() != "Asia/Shanghai" || en.Charset != "windows-1252" || !en.Enabled {
		t.Errorf("wire-en: %+v", en)
	}
	wantHeaders := map[string]string{"X-Api-Key": "k-123", "User-Agent": "wirefeed (ann)", "Authorization": "Bearer s3cret"}
	for k, want := range wantHeaders {
		if got := en.Headers[k].Reveal(); got != want {
			t.Errorf("wire-en header %s: got %q, want %q", k, got, want)
		}
	}
	if got := srcs[1].Headers["Authorization"].Reveal(); got != "Basic YW5uOnJlbA==" { // ann:rel
		t.Errorf("basic auth header: %q", got)
	}
	if srcs[1].Interval != testDefaults.HTTPInterval || srcs[2].Interval != testDefaults.SpoolPoll {
		t.Errorf("default intervals: http %s spool %s", srcs[1].Interval, srcs[2].Interval)
	}
	if srcs[3].Token.Reveal() != "0123456789abcdef0123" || srcs[3].Type != TypePush {
		t.Errorf("push source: %+v", srcs[3])
	}
	if srcs[4].Enabled {
		t.Error("enabled: false was ignored")
	}
}

// TestSecretsNeverPrinted formats a source every way a log line might.
func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	env := fakeEnv(map[string]string{"TOK": "very-secret-token-value", "KEY": "key-secret-value"}, nil)
	yml := "sources:\n- {id: a, type: http, url: 'https://a.example/', headers: {X-Key: '${KEY}'}, auth: {bearer: '${TOK}'}}\n- {id: p, type: push, token: '${TOK}'}\n"
	srcs, err := parseSources("s.yaml", []byte(yml), testDefaults, env)
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(core)
	log.Info("sources", zap.Any("sources", srcs), zap.Reflect("reflected", srcs))
	js, _ := json.Marshal(srcs)
	var outs []string
	outs = append(outs, fmt.Sprintf("%v %+v %#v %s %q", srcs, srcs, srcs, srcs[0].Token, srcs[1].Token), string(js))
	for _, e := range logs.All() {
		b, _ := json.Marshal(e.ContextMap())
		outs = append(outs, string(b))
	}
	for _, out := range outs {
		for _, secret := range []string{"very-secret-token-value", "key-secret-value"} {
			if strings.Contains(out, secret) {
				t.Errorf("a secret is printed: %s", out)
			}
		}
	}
	if !strings.Contains(outs[0], "[redacted]") {
		t.Errorf("secrets do not print as [redacted]: %s", outs[0])
	}
}

func TestParseSourcesInvalid(t *testing.T) {
	t.Parallel()
	env := fakeEnv(map[string]string{"SET": "value", "SHORT": "short"}, map[string]string{"/empty": "\n"})
	tests := []struct {
		name string
		yml  string
		want []string // each a part of the error
	}{
		{"not yaml", "sources: [", []string{"sources.yaml"}},
		{"unknown field", "sources:\n- {id: a, type: http, url: 'http://a/', intervall: 5m}", []string{"intervall"}},
		{"no id", "sources:\n- {type: http, url: 'http://a/'}", []string{"source #1: id: is required"}},
		{"bad id", "sources:\n- {id: A B, type: http, url: 'http://a/'}", []string{`source "A B": id:`}},
		{"duplicate id", "sources:\n- {id: a, type: http, url: 'http://a/'}\n- {id: a, type: http, url: 'http://b/'}", []string{`source "a": id: also used by source #1`}},
		{"bad type", "sources:\n- {id: a, type: ftp, url: 'http://a/'}", []string{`source "a": type: "ftp" is not one of http, spool, push`}},
		{"bad format", "sources:\n- {id: a, type: http, url: 'http://a/', format: html}", []string{`source "a": format: "html"`}},
		{"no url", "sources:\n- {id: a, type: http}", []string{`source "a": url: is required`}},
		{"ftp url", "sources:\n- {id: a, type: http, url: 'ftp://a/'}", []string{`source "a": url: scheme "ftp"`}},
		{"relative url", "sources:\n- {id: a, type: http, url: '/feed'}", []string{`source "a": url: scheme ""`}},
		{"user in url", "sources:\n- {id: a, type: http, url: 'https://u:p@a/'}", []string{`source "a": url: holds user information`}},
		{"path on http", "sources:\n- {id: a, type: http, url: 'http://a/', path: /x}", []string{`source "a": path:`}},
		{"no path", "sources:\n- {id: a, type: spool}", []string{`source "a": path: is required`}},
		{"url on spool", "sources:\n- {id: a, type: spool, path: /x, url: 'http://a/'}", []string{`source "a": url:`}},
		{"bad interval", "sources:\n- {id: a, type: http, url: 'http://a/', interval: often}", []string{`source "a": interval: "often"`}},
		{"short interval", "sources:\n- {id: a, type: http, url: 'http://a/', interval: 10ms}", []string{`source "a": interval: 10ms is shorter than 1s`}},
		{"interval on push", "sources:\n- {id: a, type: push, token: '0123456789abcdef', interval: 1m}", []string{`source "a": interval: a push source is not polled`}},
		{"timeout on spool", "sources:\n- {id: a, type: spool, path: /x, timeout: 1s}", []string{`source "a": timeout:`}},
		{"long timeout", "sources:\n- {id: a, type: http, url: 'http://a/', timeout: 1h}", []string{`source "a": timeout: 1h0m0s`}},
		{"bad timezone", "sources:\n- {id: a, type: http, url: 'http://a/', timezone: Mars/Olympus}", []string{`source "a": timezone: "Mars/Olympus"`}},
		{"bad charset", "sources:\n- {id: a, type: http, url: 'http://a/', charset: klingon}", []string{`source "a": charset: "klingon"`}},
		{"unset env", "sources:\n- {id: a, type: http, url: 'http://a/', headers: {X-Key: '${NOPE}'}}", []string{`source "a": headers.X-Key: environment variable NOPE is not set`}},
		{"bad env name", "sources:\n- {id: a, type: http, url: 'http://a/', headers: {X-Key: '${1X}'}}", []string{`source "a": headers.X-Key: ${1X} is not an environment variable name`}},
		{"missing file", "sources:\n- {id: a, type: http, url: 'http://a/', auth: {bearer: 'file:/nope'}}", []string{`source "a": auth.bearer: cannot read secret file /nope`}},
		{"empty file", "sources:\n- {id: a, type: http, url: 'http://a/', auth: {bearer: 'file:/empty'}}", []string{`source "a": auth.bearer: secret file /empty is empty`}},
		{"reserved header", "sources:\n- {id: a, type: http, url: 'http://a/', headers: {accept-encoding: br}}", []string{`source "a": headers.accept-encoding: is set by ingest itself`}},
		{"conditional header", "sources:\n- {id: a, type: http, url: 'http://a/', headers: {If-None-Match: x}}", []string{`source "a": headers.If-None-Match`}},
		{"bad header name", "sources:\n- {id: a, type: http, url: 'http://a/', headers: {'X Key': v}}", []string{`source "a": headers.X Key: is not a valid header name`}},
		{"bad header value", "sources:\n- {id: a, type: http, url: 'http://a/', headers: {X-Key: \"a\\nb\"}}", []string{`source "a": headers.X-Key: the value holds characters`}},
		{"auth and authorization", "sources:\n- {id: a, type: http, url: 'http://a/', headers: {Authorization: x}, auth: {bearer: y}}", []string{`source "a": headers.Authorization: conflicts with auth`}},
		{"bearer and basic", "sources:\n- {id: a, type: http, url: 'http://a/', auth: {bearer: y, username: u, password: p}}", []string{`source "a": auth: give either bearer or username`}},
		{"user without password", "sources:\n- {id: a, type: http, url: 'http://a/', auth: {username: u}}", []string{`source "a": auth.password: is required`}},
		{"empty auth", "sources:\n- {id: a, type: http, url: 'http://a/', auth: {}}", []string{`source "a": auth: give bearer`}},
		{"headers on spool", "sources:\n- {id: a, type: spool, path: /x, headers: {X-Key: v}}", []string{`source "a": headers: only http sources`}},
		{"auth on push", "sources:\n- {id: a, type: push, token: '0123456789abcdef', auth: {bearer: x}}", []string{`source "a": auth: only http sources`}},
		{"push without token", "sources:\n- {id: a, type: push}", []string{`source "a": token: is required`}},
		{"short token", "sources:\n- {id: a, type: push, token: '${SHORT}'}", []string{`source "a": token: is shorter than 16`}},
		{"token on http", "sources:\n- {id: a, type: http, url: 'http://a/', token: '0123456789abcdef'}", []string{`source "a": token: only push sources`}},
		{"url on push", "sources:\n- {id: a, type: push, token: '0123456789abcdef', url: 'http://a/'}", []string{`source "a": url: a push source has neither`}},
		{"every problem at once", "sources:\n- {id: a, type: http}\n- {id: b, type: spool}", []string{`source "a": url`, `source "b": path`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseSources("sources.yaml", []byte(tt.yml), testDefaults, env)
			if err == nil {
				t.Fatalf("parseSources(%q): no error, want one naming %q", tt.yml, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("parseSources(%q):\ngot  %v\nwant it to contain %q", tt.yml, err, w)
				}
			}
			if strings.Contains(err.Error(), "value") && strings.Contains(tt.yml, "${SET}") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
}

// TestExampleSourcesFile validates deploy/sources.example.yaml with the
// environment and files it refers to.
func TestExampleSourcesFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "deploy", "sources.example.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := environment{
		lookupEnv: func(k string) (string, bool) { return "value-of-" + k + "-0123456789", true },
		readFile:  func(string) ([]byte, error) { return []byte("secret-from-a-file-0123456789\n"), nil },
	}
	srcs, err := parseSources(path, b, testDefaults, env)
	if err != nil {
		t.Fatalf("the example sources file does not validate: %v", err)
	}
	types := map[string]int{}
	for _, s := range srcs {
		types[s.Type]++
	}
	if types[TypeHTTP] == 0 || types[TypeSpool] == 0 || types[TypePush] == 0 {
		t.Errorf("the example shows sources of types %v; want each of http, spool, push", types)
	}
}

func TestConfigWithSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string
	}{
		{name: "sources only", change: func(c *Config) {
			c.SpoolDir = ""
			c.Sources = write("ok.yaml", "sources:\n- {id: a, type: http, url: 'http://a.example/'}\n")
		}},
		{name: "sources and spool", change: func(c *Config) {
			c.Sources = write("ok2.yaml", "sources:\n- {id: a, type: http, url: 'http://a.example/'}\n")
		}},
		{name: "neither", change: func(c *Config) { c.SpoolDir = "" }, wantErr: "--spool is required"},
		{name: "missing file", change: func(c *Config) { c.Sources = filepath.Join(dir, "nope.yaml") }, wantErr: "nope.yaml"},
		{name: "invalid file", change: func(c *Config) { c.Sources = write("bad.yaml", "sources:\n- {id: a, type: http}\n") }, wantErr: `source "a": url: is required`},
		{name: "spool id clash", change: func(c *Config) {
			c.Sources = write("clash.yaml", "sources:\n- {id: spool, type: http, url: 'http://a.example/'}\n")
		}, wantErr: `source "spool": id: also given by --spool.source`},
		{name: "same folder twice", change: func(c *Config) {
			c.Sources = write("twice.yaml", "sources:\n- {id: other, type: spool, path: '"+c.SpoolDir+"'}\n")
		}, wantErr: `path: the folder of source "other" too`},
		{name: "push without push.addr", change: func(c *Config) {
			c.Sources = write("push.yaml", "sources:\n- {id: p, type: push, token: '0123456789abcdef'}\n")
		}, wantErr: `source "p": type: a push source needs --push.addr`},
		{name: "push with push.addr", change: func(c *Config) {
			c.PushAddr = "127.0.0.1:0"
			c.Sources = write("push2.yaml", "sources:\n- {id: p, type: push, token: '0123456789abcdef'}\n")
		}},
		{name: "bad push.addr", change: func(c *Config) { c.PushAddr = "nowhere" }, wantErr: "--push.addr"},
		{name: "bad ownership", change: func(c *Config) { c.Sources = write("o.yaml", "sources: []\n"); c.Ownership = "leader" }, wantErr: "--ownership"},
		{name: "bad jitter", change: func(c *Config) { c.Sources = write("j.yaml", "sources: []\n"); c.Poll.Jitter = 0.9 }, wantErr: "--poll.jitter"},
		{name: "short interval", change: func(c *Config) { c.Sources = write("i.yaml", "sources: []\n"); c.Poll.Interval = time.Millisecond }, wantErr: "--poll.interval"},
		{name: "backoff below interval", change: func(c *Config) { c.Sources = write("b.yaml", "sources: []\n"); c.Poll.BackoffMax = time.Second }, wantErr: "--poll.backoff-max"},
		{name: "tiny body limit", change: func(c *Config) { c.Sources = write("m.yaml", "sources: []\n"); c.Poll.MaxBodyBytes = 10 }, wantErr: "--poll.max-body-bytes"},
		{name: "short seen retention", change: func(c *Config) { c.Sources = write("s.yaml", "sources: []\n"); c.SeenRetention = time.Minute }, wantErr: "--seen.retention"},
		{name: "many redirects", change: func(c *Config) { c.Sources = write("r.yaml", "sources: []\n"); c.Poll.MaxRedirects = 50 }, wantErr: "--poll.max-redirects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkValidate(t, tt.change, tt.wantErr) })
	}
}
