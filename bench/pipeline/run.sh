#!/usr/bin/env bash
# make bench-pipeline: the three services, as processes, on the real local
# stack (Apache Kafka, the S3 server), fed 50,000 generated items at once,
# against the broker's own ceiling measured with kcat in the same run.
# Prints the tables and rewrites the "Pipeline on the real stack" section
# of docs/benchmarks.md.
#
# The stack is left as it was found: used if it is up, brought up (and
# down again at the end) if nothing of it runs; a stack partly up is
# waited for a minute (another run may be restarting the broker), then
# refused.
#
# Arguments go to the Go program (bench/pipeline/main.go), e.g. -n 5000,
# -keep, -perf; PERF=1 is -perf; REV=HEAD builds the services from a
# commit instead of the working tree. Run from anywhere:
# bash bench/pipeline/run.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=../../deploy/local/lib.sh
source deploy/local/lib.sh

command -v kcat >/dev/null || die "kcat is missing: bash deploy/local/install.sh installs it"

started=no
work=$(mktemp -d)
finish() {
	local status=$?
	rm -rf "$work"
	if [[ $started == yes ]]; then
		log "stopping the stack this run started"
		bash deploy/local/down.sh || status=1
	fi
	exit "$status"
}
trap finish EXIT

state=0
bash deploy/local/status.sh >/dev/null || state=$?
for ((i = 0; i < 12 && state == 1; i++)); do
	log "the local stack is partly up; waiting for it (make status)"
	sleep 5
	state=0
	bash deploy/local/status.sh >/dev/null || state=$?
done
case $state in
0) log "using the local stack that is up" ;;
3)
	log "bringing the local stack up for this run"
	started=yes
	bash deploy/local/up.sh
	;;
*)
	bash deploy/local/status.sh || true
	die "the local stack is partly up; bring it fully up (make up) or down (make down) first"
	;;
esac

# shellcheck disable=SC1091 # written by up.sh
source "$RUN_DIR/env.sh"

# The services are built from the working tree, or from commit REV when
# set (REV=HEAD leaves out uncommitted changes).
if [[ -n ${REV:-} ]]; then
	commit=$(git rev-parse --short "$REV^{commit}")
	log "building the services of commit $commit"
	mkdir "$work/src"
	git archive "$commit" | tar -x -C "$work/src"
	(cd "$work/src" && go build -o "$work/" ./cmd/ingest ./cmd/normalize ./cmd/sink)
	built="commit $commit"
else
	log "building the services of the working tree"
	go build -o "$work/" ./cmd/ingest ./cmd/normalize ./cmd/sink
	built="commit $(git rev-parse --short HEAD)"
	if [[ -n $(git status --porcelain -- cmd internal pkg go.mod go.sum) ]]; then
		built+=" with uncommitted changes"
	fi
fi
go build -o "$work/bench-pipeline" ./bench/pipeline

args=(-bin "$work" -built "$built")
for c in kafka s3 prometheus; do
	if pid=$(live_pid "$c"); then
		args+=(-pid "$c=$pid")
	fi
done
if [[ ${PERF:-} == 1 ]]; then
	command -v perf >/dev/null || die "PERF=1 needs perf (linux-perf)"
	args+=(-perf)
fi
"$work/bench-pipeline" "${args[@]}" "$@"
