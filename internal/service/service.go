// Package service runs a wirefeed service process: flags and environment,
// validation, logger, registry, signals, exit code. Each cmd/ main is a call
// to Main.
package service

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/telemetry"
)

// Config is what a service's configuration offers.
type Config interface {
	RegisterFlags(fs *flag.FlagSet)
	Validate() error
}

// RunFunc runs a service until ctx is done.
type RunFunc func(ctx context.Context, log *zap.Logger, reg *prometheus.Registry) error

// Main parses args into cfg (flags, then WIREFEED_* environment variables),
// validates it, builds the logger and registry, and calls run with a context
// cancelled by SIGINT or SIGTERM. It returns the process exit code: 0 after
// a clean stop, 1 when run fails, 2 for bad flags (before anything starts).
func Main(name, synopsis string, args []string, cfg Config, tel *telemetry.Config, run RunFunc) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = flagenv.Usage(fs, synopsis)
	cfg.RegisterFlags(fs)
	if err := flagenv.Parse(fs, args, os.LookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "%s: unexpected arguments %q (see --help)\n", name, fs.Args())
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 2
	}
	log, err := tel.NewLogger()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: logger: %v\n", name, err)
		return 2
	}
	defer log.Sync() //nolint:errcheck // stderr sync fails on some terminals
	log = log.With(zap.String("service", name))
	version, goVersion, revision := telemetry.BuildInfo()
	log.Info("starting", zap.String("version", version), zap.String("go", goVersion), zap.String("revision", revision))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, telemetry.NewRegistry(name)); err != nil {
		log.Error("stopped with error", zap.Error(err))
		return 1
	}
	log.Info("stopped")
	return 0
}
