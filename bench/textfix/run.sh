#!/usr/bin/env bash
# Compares pkg/textfix with ftfy 6.3.1 on the same inputs in one run: speed
# (MB/s, and the ratio) and accuracy on the same damaged set. Rewrites the
# "Text repair (pkg/textfix)" section of docs/benchmarks.md.
# Run from anywhere: bash bench/textfix/run.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "setting up a throwaway Python environment with ftfy 6.3.1" >&2
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check ftfy==6.3.1

cd "$root"
go build -o "$work/gobench" ./bench/textfix/cmd/gobench
"$work/gobench" -gen "$work/data" -clean pkg/textfix/testdata/clean.txt

# Other work on the machine slows both sides: the two take turns, three
# rounds each, and the report keeps each one's best; the load average
# before and after goes into it.
load_before=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown)
results=()
for round in 1 2 3; do
	echo "round $round: measuring pkg/textfix" >&2
	"$work/gobench" -data "$work/data" > "$work/go.$round.json"
	echo "round $round: measuring ftfy" >&2
	"$work/venv/bin/python" bench/textfix/ftfy_bench.py "$work/data" > "$work/ftfy.$round.json"
	results+=("$work/go.$round.json" "$work/ftfy.$round.json")
done
load_after=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo unknown)

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
machine="$(nproc) CPUs, ${cpu:-unknown CPU}, $(go version | cut -d' ' -f3), $("$work/venv/bin/python" --version), load average $load_before before and $load_after after the measurements"
python3 bench/textfix/report.py docs/benchmarks.md "$machine" "$(date -u +%Y-%m-%d)" "${results[@]}"
