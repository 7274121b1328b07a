#!/usr/bin/env bash
# make test-e2e: brings the real stack up (Apache Kafka, the S3 server,
# Prometheus), runs the whole test suite against it (the same tests as
# `make test`, now on real Kafka and S3), then the end-to-end tests of
# e2e/ (the services as processes), and tears the stack down, also on
# failure. Fails when the stack cannot start: there is no fallback to the
# embedded broker.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WF_ROOT"

trap 'status=$?; bash "$WF_LOCAL_DIR/down.sh" || true; exit $status' EXIT
bash "$WF_LOCAL_DIR/up.sh"

# shellcheck disable=SC1091 # written by up.sh
source "$RUN_DIR/env.sh"
export WIREFEED_TEST_BUCKET="$WIREFEED_BUCKET"
# The services' own variables must not leak into tests of their defaults.
unset WIREFEED_KAFKA_BROKERS WIREFEED_BUCKET WIREFEED_SINK_BUCKET

log "integration suite on the real stack: KAFKA_BROKERS=$KAFKA_BROKERS WIREFEED_TEST_BUCKET=${WIREFEED_TEST_BUCKET%%\?*}"
# One package at a time: the packages share one real broker and S3 server
# on a two-core machine.
# Without the race detector here: make test runs every package with it on
# the embedded broker; on the real stack it would multiply the run time of
# the Kafka- and S3-heavy tests on two cores several times.
go test -count=1 -p 1 -timeout 30m ./...

log "end-to-end tests: services as processes, real Kafka, S3 read back through its API"
go test -tags e2e -count=1 -v -timeout 20m ./e2e/ 2>&1 | grep -v '^\s*$'
log "e2e passed"
