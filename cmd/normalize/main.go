// Command normalize turns raw news items into clean, structured records. As a
// service it consumes the raw topic and publishes records; its offline modes
// parse files and repair text without Kafka.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/flagenv"
	"github.com/wirefeed/wirefeed/internal/normalize"
	"github.com/wirefeed/wirefeed/internal/service"
)

const synopsis = `Usage:
  normalize [flags]                 run the stage: raw topic -> records topic
  normalize parse [flags] [FILE...|-]  print one JSON record per item, no Kafka
  normalize fix-text                repair text: stdin lines -> stdout lines

As a service, normalize joins a consumer group on the raw topic, decodes each
raw item (BOM, declared or guessed charset), repairs its text (mojibake,
entities, control characters, whitespace), parses it (text dump, RSS and
Atom, NewsML-G2, ninjs or IPTC 7901: the envelope's format hint, else
sniffed), extracts dateline, captions and publication time, and publishes
one record (pkg/record, schema v1) per story to the records topic, keyed by
record ID. Items that hold no text story (photos, packages, events) are
counted and passed over. Items it cannot parse go to the dead-letter topic with the reason in the
wirefeed-dlq-reason header, and the stream goes on. Offsets are committed
only after the broker acknowledged the output, so a crash loses nothing.

To reprocess the raw topic (after a parser fix, say), start it with a new
--group and a new --topic.records, and --reset-offsets earliest (or latest,
offset:N, timestamp:RFC3339): the group is moved there before consuming;
--reset-offsets.dry-run prints the plan per partition (committed offset,
target, lag) and exits. A reset is refused while the group has members.
Runbook: docs/replay.md.

It serves /metrics, /healthz and /readyz on --http.addr and stops cleanly on
SIGINT or SIGTERM: the batch in hand is finished and committed first.`

const parseSynopsis = `Usage: normalize parse [flags] [FILE...|-]

Normalizes each FILE (standard input for "-" or no FILE) and prints one JSON
record per line on standard output. A file that cannot be normalized is
reported on standard error with the reason, the others go on, and the exit
status is 1.`

const fixTextSynopsis = `Usage: normalize fix-text < in.txt > out.txt

Reads UTF-8 lines on standard input and writes each one repaired (mojibake,
HTML entities, control characters, odd whitespace, NFC) on standard output,
one line for one, in order.`

func main() {
	args := os.Args[1:]
	if len(args) > 0 {
		switch args[0] {
		case "parse":
			os.Exit(parse(args[1:], os.Stdin, os.Stdout, os.Stderr))
		case "fix-text":
			os.Exit(fixText(args[1:], os.Stdin, os.Stdout, os.Stderr))
		}
	}
	var cfg normalize.Config
	os.Exit(service.Main("normalize", synopsis, args, &cfg, &cfg.Telemetry,
		func(ctx context.Context, log *zap.Logger, reg *prometheus.Registry) error {
			return normalize.Run(ctx, cfg, log, reg)
		}))
}

func parse(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var cfg normalize.Config
	var opts normalize.ParseOptions
	fs := flag.NewFlagSet("normalize parse", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = flagenv.Usage(fs, parseSynopsis)
	cfg.RegisterParseFlags(fs)
	fs.StringVar(&opts.Source, "source", "file", "source slug of the items; a known agency's profile (by URL or ID) takes precedence")
	fs.StringVar(&opts.Format, "format", "auto", "format of the items: auto (sniff), "+strings.Join(normalize.Formats(), ", "))
	fs.StringVar(&opts.Charset, "charset", "", "charset of the files when known (else declared or guessed)")
	if err := flagenv.Parse(fs, args, os.LookupEnv); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if err := cfg.ValidateParse(); err != nil {
		fmt.Fprintf(stderr, "normalize parse: %v\n", err)
		return 2
	}
	if failed := cfg.NewNormalizer().ParseFiles(fs.Args(), opts, stdin, stdout, stderr); failed > 0 {
		fmt.Fprintf(stderr, "normalize parse: %d input(s) could not be normalized\n", failed)
		return 1
	}
	return 0
}

func fixText(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("normalize fix-text", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = flagenv.Usage(fs, fixTextSynopsis)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "normalize fix-text: reads standard input only; unexpected arguments %q\n", fs.Args())
		return 2
	}
	if err := normalize.FixText(stdin, stdout); err != nil {
		fmt.Fprintf(stderr, "normalize fix-text: %v\n", err)
		return 1
	}
	return 0
}
