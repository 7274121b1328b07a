package telemetry

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// serve runs ServeListener on a fresh 127.0.0.1 port and returns its base
// URL and a stop function returning ServeListener's error.
func serve(t testing.TB, reg *prometheus.Registry, h *Health) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, reg, h, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))) }()
	stopped, result := false, error(nil)
	stop := func() error {
		if !stopped {
			cancel()
			result, stopped = <-done, true
		}
		return result
	}
	t.Cleanup(func() { stop() })
	return "http://" + ln.Addr().String(), stop
}

func get(t testing.TB, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

func TestServeListener(t *testing.T) {
	t.Parallel()
	reg := NewRegistry("test")
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "wirefeed_test_things_total", Help: "Things."})
	reg.MustRegister(c)
	c.Add(7)
	h := NewHealth("kafka", "consumer-lag")
	base, stop := serve(t, reg, h)

	type probe struct {
		method, path string
		wantCode     int
		wantBody     []string
	}
	check := func(stage string, probes ...probe) {
		t.Helper()
		for _, p := range probes {
			code, body := get(t, p.method, base+p.path)
			if code != p.wantCode {
				t.Errorf("%s: %s %s: got %d, want %d; body %q", stage, p.method, p.path, code, p.wantCode, body)
			}
			for _, w := range p.wantBody {
				if !strings.Contains(body, w) {
					t.Errorf("%s: %s %s: body does not contain %q:\n%s", stage, p.method, p.path, w, body)
				}
			}
		}
	}

	check("starting",
		probe{"GET", "/healthz", 200, []string{"ok"}},
		probe{"GET", "/readyz", 503, []string{"not ready", "starting"}},
		probe{"GET", "/metrics", 200, []string{
			"wirefeed_test_things_total 7",
			`wirefeed_build_info{goversion="`,
			`service="test"`,
			"go_goroutines",
			"process_",
		}},
		probe{"POST", "/metrics", 405, nil},
		probe{"GET", "/nothing", 404, nil},
	)
	h.Set("kafka", nil)
	check("one check ready", probe{"GET", "/readyz", 503, []string{"consumer-lag: starting"}})
	h.Set("consumer-lag", nil)
	check("all ready", probe{"GET", "/readyz", 200, []string{"ready"}}, probe{"GET", "/healthz", 200, []string{"ok"}})
	h.Set("consumer-lag", errors.New("lag unknown"))
	check("a check fails again", probe{"GET", "/readyz", 503, []string{"consumer-lag: lag unknown"}})

	if err := stop(); err != nil {
		t.Errorf("ServeListener after cancel: got %v, want nil", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Errorf("server still answers after stop")
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	t.Run("no address serves nothing and waits", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Serve(ctx, "", NewRegistry("x"), NewHealth(), zap.NewNop()) }()
		select {
		case err := <-done:
			t.Fatalf("Serve with no address returned %v before ctx ended", err)
		default:
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve with no address: got %v, want nil", err)
		}
	})
	t.Run("address in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		err = Serve(context.Background(), ln.Addr().String(), NewRegistry("x"), NewHealth(), zap.NewNop())
		if err == nil || !strings.Contains(err.Error(), "http server") {
			t.Errorf("Serve on %s in use: got %v, want an http server error", ln.Addr(), err)
		}
	})
	t.Run("on an address", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Serve(ctx, addr, NewRegistry("x"), NewHealth(), zap.NewNop()) }()
		var code int
		for range 200 {
			if res, err := http.Get("http://" + addr + "/readyz"); err == nil {
				code = res.StatusCode
				res.Body.Close()
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if code != http.StatusOK {
			t.Errorf("GET /readyz with no checks: got %d, want 200", code)
		}
	})
}

func TestHealth(t *testing.T) {
	t.Parallel()
	if err := NewHealth().Ready(); err != nil {
		t.Errorf("no checks: Ready() = %v, want nil", err)
	}
	h := NewHealth("a")
	if err := h.Ready(); err == nil || !strings.Contains(err.Error(), "a: starting") {
		t.Errorf("new check: Ready() = %v, want a: starting", err)
	}
	h.Set("a", nil)
	if err := h.Ready(); err != nil {
		t.Errorf("ready check: Ready() = %v, want nil", err)
	}
	h.Set("b", errors.New("down"))
	if err := h.Ready(); err == nil || !strings.Contains(err.Error(), "b: down") {
		t.Errorf("a check added later and failing: Ready() = %v, want b: down", err)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		level, format string
		wantErr       []string
	}{
		{level: "debug", format: "json"},
		{level: "info", format: "console"},
		{level: "warn", format: "json"},
		{level: "error", format: "json"},
		{level: "loud", format: "json", wantErr: []string{`--log.level "loud"`}},
		{level: "info", format: "xml", wantErr: []string{`--log.format "xml"`}},
		{level: "", format: "", wantErr: []string{"--log.format"}},
		{level: "trace", format: "text", wantErr: []string{"--log.level", "--log.format"}},
	}
	for _, tt := range tests {
		c := Config{LogLevel: tt.level, LogFormat: tt.format}
		err := c.Validate()
		if tt.wantErr == nil {
			if err != nil {
				t.Errorf("Validate(level %q, format %q) = %v, want nil", tt.level, tt.format, err)
				continue
			}
			log, err := c.NewLogger()
			if err != nil || log == nil {
				t.Errorf("NewLogger(level %q, format %q) = %v, %v; want a logger", tt.level, tt.format, log, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("Validate(level %q, format %q) = nil, want an error naming %q", tt.level, tt.format, tt.wantErr)
			continue
		}
		for _, w := range tt.wantErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Validate(level %q, format %q) = %q, want it to contain %q", tt.level, tt.format, err, w)
			}
		}
	}
}

func TestRegisterFlagsDefaults(t *testing.T) {
	t.Parallel()
	var c Config
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	c.RegisterFlags(fs, "127.0.0.1:9999")
	if c.HTTPAddr != "127.0.0.1:9999" || c.LogLevel != "info" || c.LogFormat != "json" {
		t.Errorf("defaults: %+v, want addr 127.0.0.1:9999, info, json", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	if err := fs.Parse([]string{"--http.addr=", "--log.level=debug", "--log.format=console"}); err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "" || c.LogLevel != "debug" || c.LogFormat != "console" {
		t.Errorf("after flags: %+v", c)
	}
}
