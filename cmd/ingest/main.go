// Command ingest takes raw news items from their sources and publishes each
// one, once, to the raw Kafka topic.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/wirefeed/wirefeed/internal/ingest"
	"github.com/wirefeed/wirefeed/internal/service"
)

const synopsis = `Usage: ingest --spool DIR [flags]
       ingest --sources FILE [--spool DIR] [flags]

ingest publishes raw news items to the raw topic (--topic.raw), untouched,
each once, with its envelope (source, format, origin, fetch time, content
type, charset) in message headers.

Sources file (--sources, or WIREFEED_SOURCES): YAML, a list of sources, each
with an id, a type and where the items come from; see
deploy/sources.example.yaml and docs/ingest.md:

  sources:
    - id: harbour-wire            # lower-case slug: envelope source, metric label
      type: http                  # http, spool or push
      url: https://feeds.harbour-wire.example/world/rss.xml
      format: rss                 # rss, atom, textdump, newsml-g2, ninjs, iptc7901 or empty
      interval: 2m                # default --poll.interval
      timezone: Europe/Lisbon     # zone of times written without an offset
      charset: windows-1252       # overrides the charset the origin declares
      headers: {X-Api-Key: ${HARBOUR_KEY}}   # secrets: ${ENV_NAME} or file:/path
      auth: {bearer: file:/run/secrets/harbour}
      enabled: true
    - {id: drop, type: spool, path: /var/spool/wirefeed/drop, format: textdump}
    - {id: partner, type: push, format: ninjs, token: ${PARTNER_TOKEN}}

Secrets are never logged. An invalid file is refused at start (exit 2) with
every problem named by source and field. SIGHUP re-reads the file: added
sources start, removed ones stop once the fetch in hand is published,
changed ones restart, unchanged ones keep running; an invalid file then
changes nothing.

http sources are fetched on their interval (with --poll.jitter) by a
conditional GET (ETag, Last-Modified), gzip accepted, within
--poll.timeout, up to --poll.max-body-bytes and --poll.max-redirects
(http and https only); 5xx, 429, timeouts and network errors back off
(doubling up to --poll.backoff-max, at least any Retry-After). RSS and Atom
documents are split: each entry is published as the document with every
other entry cut out. Which entries were published is kept on the compacted
--seen.topic, read at start and tailed, shared by all replicas; an entry
whose content changed is published again. With --ownership=group each http
source is polled by one replica.

push sources take POST /v1/items on --push.addr with the source's bearer
token; 202 once the broker acknowledged the item.

spool (--spool DIR is the shorthand for one spool source, --spool.source):
each complete file dropped in the folder is one raw item. A published file
is moved to DIR/done/; a refused one (empty, too large, unreadable) to
DIR/failed/ with a .reason file beside it. Keys of published items are kept
in DIR/.wirefeed/published.log, so a restart never publishes a file twice.
Write files under a hidden or .tmp name and rename them when complete; a
file written in place is taken once unchanged for --spool.settle.

It serves /metrics, /healthz and /readyz on --http.addr and stops cleanly on
SIGINT or SIGTERM: pushed items and fetches or batches in hand are
published first.`

func main() {
	// SIGHUP reloads the sources file; caught from the start, so that an
	// early one does not end the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	var cfg ingest.Config
	os.Exit(service.Main("ingest", synopsis, os.Args[1:], &cfg, &cfg.Telemetry,
		func(ctx context.Context, log *zap.Logger, reg *prometheus.Registry) error {
			svc := ingest.New(cfg, log, reg)
			go ingest.ReloadOn(ctx, svc, hup)
			return svc.Run(ctx)
		}))
}
