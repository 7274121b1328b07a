#!/usr/bin/env bash
# Measures the sink against the real Kafka broker and S3 server of the local
# stack (make up): records/s and MB/s archived next to raw PUTs of the same
# objects to the same server in the same run, and peak memory at a steady
# input rate and under a 10x burst. Rewrites the "Sink on the real S3
# server" section of docs/benchmarks.md.
# Brings the stack up if it is down, and takes it down again afterwards
# (leaves it as found). Run from anywhere: bash bench/sink/run.sh [sinkbench flags]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
work=$(mktemp -d)

status=0
bash deploy/local/status.sh >/dev/null 2>&1 || status=$?
started=no
if [[ $status -ne 0 ]]; then
	echo "the local stack is not (all) up; starting it" >&2
	bash deploy/local/up.sh >&2
	# Only a stack that was entirely down is taken down again: part of it
	# was someone's.
	[[ $status -eq 3 ]] && started=yes
fi
cleanup() {
	rm -rf "$work"
	if [[ $started == yes ]]; then
		echo "stopping the local stack again" >&2
		bash deploy/local/down.sh >&2 || true
	fi
}
trap cleanup EXIT

# shellcheck disable=SC1091
source .cache/run/env.sh

go build -o "$work/sink" ./cmd/sink
go build -o "$work/sinkbench" ./bench/sink/cmd/sinkbench

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
load_before=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown)
"$work/sinkbench" -sink "$work/sink" -brokers "$KAFKA_BROKERS" -bucket "$WIREFEED_SINK_BUCKET" -out docs/benchmarks.md \
	-machine "$(nproc) CPUs, ${cpu:-unknown CPU}, $(go version | cut -d' ' -f3), load average $load_before when it started" "$@"
