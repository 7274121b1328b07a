// Command sink archives normalized records in object storage, in batches,
// each record exactly once.
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

sink joins a consumer group on the records topic and archives the records in
object storage (--bucket: s3://, gs://, azblob:// or file://), in batches
cut per partition at --batch.max-records, --batch.max-bytes or
--batch.max-age, whichever comes first. A batch is written as one object per
folder of --key-template (default {prefix}/dt={date}/source={source}/),
named after the batch's topic, partition and offsets:

  PREFIX/dt=YYYY-MM-DD/source=SRC/TOPIC-pPPP-FIRSTOFFSET-LASTOFFSET.ndjson.gz

in --format ndjson or parquet, --compression gzip, zstd or none. Each flush
also writes a manifest per date (PREFIX/dt=D/_manifest/...json: objects,
record counts, offset ranges), and the partition's progress
(PREFIX/_state/TOPIC/pPPP.json): the store, not the consumer group, says what
is archived. Killed anywhere (even kill -9), a restarted sink skips what is
archived and writes a batch it had begun again, exactly, under the same keys:
every record ends up in the archive exactly once. Offsets are committed only
after the objects are written; while the store is down the sink retries with
backoff and commits nothing. Protocol and guarantees: docs/sink.md.

--reset-offsets earliest|latest|offset:N|timestamp:RFC3339 moves the group
before consuming (--reset-offsets.dry-run prints the plan and exits); records
already archived under --prefix are still skipped, so a replay writes to a
new --prefix (docs/replay.md).

S3 credentials come from the usual AWS environment variables
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or profile. It serves /metrics,
/healthz and /readyz on --http.addr and stops cleanly on SIGINT or SIGTERM:
every batch in hand is written and committed first.`

func main() {
	var cfg sink.Config
	os.Exit(service.Main("sink", synopsis, os.Args[1:], &cfg, &cfg.Telemetry,
		func(ctx context.Context, log *zap.Logger, reg *prometheus.Registry) error {
			cfg.ApplyMemoryLimit(log)
			return sink.Run(ctx, cfg, log, reg)
		}))
}
