// Command devstack runs the whole wirefeed pipeline in one process on an
// embedded Kafka broker and a local folder: the demo behind `make demo`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/wirefeed/wirefeed/internal/demo"
	"github.com/wirefeed/wirefeed/internal/devstack"
	"github.com/wirefeed/wirefeed/internal/flagenv"
)

const synopsis = `Usage: devstack [flags]

devstack starts an embedded Kafka broker (in memory, on 127.0.0.1), the
ingest, normalize and sink stages wired to it over TCP, a spool folder
(DATA/spool) and an archive folder (DATA/archive). It drops the bundled
sample items into the spool, waits until every one is archived or
dead-lettered, prints a summary and exits 0. With --serve it keeps running
with metrics served, so more files can be dropped into the spool.`

func main() {
	var cfg devstack.Config
	fs := flag.NewFlagSet("devstack", flag.ContinueOnError)
	fs.Usage = flagenv.Usage(fs, synopsis)
	cfg.RegisterFlags(fs)
	writeSamples := fs.String("write-samples", "", "only write the bundled sample items into this folder (e.g. a spool) and exit")
	if err := flagenv.Parse(fs, os.Args[1:], os.LookupEnv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "devstack: %v\n", err)
		os.Exit(2)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "devstack: unexpected arguments %q (see --help)\n", fs.Args())
		os.Exit(2)
	}
	if *writeSamples != "" {
		n, err := demo.WriteSamples(*writeSamples)
		if err != nil {
			fmt.Fprintf(os.Stderr, "devstack: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("wrote %d sample items into %s\n", n, *writeSamples)
		return
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "devstack: %v\n", err)
		os.Exit(2)
	}
	log, err := cfg.Telemetry.NewLogger()
	if err != nil {
		fmt.Fprintf(os.Stderr, "devstack: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := devstack.Run(ctx, cfg, log, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "devstack: %v\n", err)
		os.Exit(1)
	}
	if !cfg.Serve {
		sum.Print(os.Stdout)
	}
}
