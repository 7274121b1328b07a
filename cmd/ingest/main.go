// Command ingest takes raw news items from their sources and publishes each
// one, once, to the raw Kafka topic.
package main

import (
	"context"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/ingest"
	"github.com/wirefeed/wirefeed/internal/service"
)

const synopsis = `Usage: ingest --spool DIR [flags]

ingest watches a spool folder and publishes each complete file dropped in it
as one raw item to the raw topic (--topic.raw), untouched, with its envelope
(source, format, origin, fetch time) in message headers. A published file is
moved to DIR/done/; a refused one (empty, too large, unreadable) to
DIR/failed/ with a .reason file beside it. Keys of published items are kept
in DIR/.wirefeed/published.log, so a restart never publishes a file twice.

Write files under a hidden or .tmp name and rename them when complete; a
file written in place is taken once unchanged for --spool.settle.

It serves /metrics, /healthz and /readyz on --http.addr and stops cleanly on
SIGINT or SIGTERM: the batch being published is finished first.`

func main() {
	var cfg ingest.Config
	os.Exit(service.Main("ingest", synopsis, os.Args[1:], &cfg, &cfg.Telemetry,
		func(ctx context.Context, log *zap.Logger, reg *prometheus.Registry) error {
			return ingest.Run(ctx, cfg, log, reg)
		}))
}
