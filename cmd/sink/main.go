// Command sink archives normalized records in object storage, in batches,
// with no loss and no duplicates.
package main

import (
	"context"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/service"
	"github.com/wirefeed/wirefeed/internal/sink"
)

const synopsis = `Usage: sink [flags]

sink joins a consumer group on the records topic and writes the records in
batches to object storage (--bucket: s3://, gs://, azblob:// or file://) as
gzip-compressed newline-delimited JSON, one object per partition batch, date
and source:

  PREFIX/dt=YYYY-MM-DD/source=SRC/TOPIC-pPPP-FIRSTOFFSET-LASTOFFSET.ndjson.gz

A partition's batch is cut at --batch.max-records, --batch.max-bytes or
--batch.max-age, whichever comes first. Offsets are committed only after the
objects are written, and objects are written only if absent, so a batch
written again after a crash lands on the same keys: nothing lost, nothing
duplicated. S3 credentials come from the usual AWS environment variables
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or profile.

It serves /metrics, /healthz and /readyz on --http.addr and stops cleanly on
SIGINT or SIGTERM: every batch in hand is written and committed first.`

func main() {
	var cfg sink.Config
	os.Exit(service.Main("sink", synopsis, os.Args[1:], &cfg, &cfg.Telemetry,
		func(ctx context.Context, log *zap.Logger, reg *prometheus.Registry) error {
			return sink.Run(ctx, cfg, log, reg)
		}))
}
