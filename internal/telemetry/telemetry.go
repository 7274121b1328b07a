// Package telemetry builds what every wirefeed service exposes: a zap logger,
// a Prometheus registry with the Go, process and build metrics, and an HTTP
// server for /metrics, /healthz and /readyz.
package telemetry

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/wirefeed/wirefeed/internal/flagenv"
)

// Config is the logging and HTTP configuration shared by the services.
type Config struct {
	HTTPAddr  string
	LogLevel  string
	LogFormat string
}

// RegisterFlags registers the telemetry flags; defaultAddr differs per
// service so that all three can run on one machine.
func (c *Config) RegisterFlags(fs *flag.FlagSet, defaultAddr string) {
	fs.StringVar(&c.HTTPAddr, "http.addr", defaultAddr, "address of the HTTP server for /metrics, /healthz and /readyz (empty: none)")
	fs.StringVar(&c.LogLevel, "log.level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log.format", "json", "log format: json or console")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var lvl zapcore.Level
	return flagenv.Validate(
		flagenv.Check{OK: lvl.Set(c.LogLevel) == nil, Msg: fmt.Sprintf("--log.level %q is not one of debug, info, warn, error", c.LogLevel)},
		flagenv.Check{OK: c.LogFormat == "json" || c.LogFormat == "console", Msg: fmt.Sprintf("--log.format %q is not json or console", c.LogFormat)},
	)
}

// NewLogger returns a logger writing to stderr as configured.
func (c *Config) NewLogger() (*zap.Logger, error) {
	var zc zap.Config
	if c.LogFormat == "console" {
		zc = zap.NewDevelopmentConfig()
		zc.DisableStacktrace = true
	} else {
		zc = zap.NewProductionConfig()
		zc.EncoderConfig.TimeKey = "ts"
		zc.EncoderConfig.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	}
	lvl, err := zap.ParseAtomicLevel(c.LogLevel)
	if err != nil {
		return nil, err
	}
	zc.Level = lvl
	return zc.Build()
}

// NewRegistry returns a registry holding the Go runtime, process and
// wirefeed_build_info metrics of a service.
func NewRegistry(service string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	version, goVersion, revision := BuildInfo()
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "wirefeed_build_info",
		Help:        "Build information of the running service; always 1.",
		ConstLabels: prometheus.Labels{"service": service, "version": version, "goversion": goVersion, "revision": revision},
	})
	info.Set(1)
	reg.MustRegister(info)
	return reg
}

// BuildInfo returns the module version, Go version and VCS revision of the
// running binary, as far as the build recorded them.
func BuildInfo() (version, goVersion, revision string) {
	version, goVersion, revision = "devel", "unknown", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	goVersion = bi.GoVersion
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		version = v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return
}

// Health holds the readiness of a service: it is ready once every named
// check has reported nil. Checks start out not ready.
type Health struct {
	mu     sync.Mutex
	checks map[string]error
}

// NewHealth returns a Health with the named checks, all not yet ready.
func NewHealth(names ...string) *Health {
	h := &Health{checks: map[string]error{}}
	for _, n := range names {
		h.checks[n] = errors.New("starting")
	}
	return h
}

// Set records the state of one check; nil means ready.
func (h *Health) Set(name string, err error) {
	h.mu.Lock()
	h.checks[name] = err
	h.mu.Unlock()
}

// Ready returns nil when every check is ready, else the first failure found.
func (h *Health) Ready() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for n, err := range h.checks {
		if err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
	}
	return nil
}

// Serve runs the HTTP server on addr until ctx is done, then shuts it down
// within five seconds. An empty addr serves nothing and waits for ctx.
func Serve(ctx context.Context, addr string, reg *prometheus.Registry, h *Health, log *zap.Logger) error {
	if addr == "" {
		<-ctx.Done()
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http server: %w", err)
	}
	return ServeListener(ctx, ln, reg, h, log)
}

// ServeListener is Serve on an open listener.
func ServeListener(ctx context.Context, ln net.Listener, reg *prometheus.Registry, h *Health, log *zap.Logger) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := h.Ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("http server listening", zap.String("addr", ln.Addr().String()))
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("http server shutdown: %w", err)
	}
	return nil
}
