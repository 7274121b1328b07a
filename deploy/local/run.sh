#!/usr/bin/env bash
# make run: the three services as separate processes against the local real
# stack (make up), continuously, reading the spool folder .cache/run/spool,
# which starts with the bundled sample items. Drop more files into it while
# it runs. Ctrl-C stops all three (each finishes its in-flight work).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WF_ROOT"

[[ -f $RUN_DIR/env.sh ]] || die "the local stack is not up: run make up first"
# shellcheck disable=SC1091 # written by up.sh
source "$RUN_DIR/env.sh"
bash "$WF_LOCAL_DIR/status.sh" >/dev/null || die "the local stack is not healthy: see make status"

go build -o "$BIN_DIR/" ./cmd/ingest ./cmd/normalize ./cmd/sink ./cmd/devstack
spool=$RUN_DIR/spool
mkdir -p "$spool"
"$BIN_DIR/devstack" --write-samples "$spool"

pids=()
stop() {
	log "stopping the services"
	kill -TERM "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
}
trap stop EXIT INT TERM
"$BIN_DIR/sink" --log.format console &
pids+=($!)
"$BIN_DIR/normalize" --log.format console &
pids+=($!)
"$BIN_DIR/ingest" --spool "$spool" --log.format console &
pids+=($!)
log "running: ingest :9101, normalize :9102, sink :9103 (metrics), spool $spool, archive s3://$S3_BUCKET; Ctrl-C to stop"
wait -n "${pids[@]}"
