#!/usr/bin/env bash
# Checks the Prometheus configuration and the alert rules of wirefeed, and
# runs the rules' unit tests:
#   promtool check config  deploy/prometheus/prometheus.yml (and the rule files it loads)
#   promtool check rules   deploy/prometheus/rules/*.rules.yml
#   promtool test rules    deploy/prometheus/rules/*.rules.test.yml
# Needs promtool (Debian package prometheus; deploy/local/install.sh installs
# it). Set PROMTOOL to use another binary. Exit 0 only if everything passed.
set -euo pipefail
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
promtool=${PROMTOOL:-promtool}

if ! command -v "$promtool" >/dev/null 2>&1; then
	echo "test-rules: promtool not found (looked for '$promtool')." >&2
	echo "test-rules: install it with 'bash deploy/local/install.sh' (Debian package prometheus) or set PROMTOOL=/path/to/promtool." >&2
	# On a clone with only Go, make test must still pass: the rule tests
	# are then not run, and this says so. CI sets WIREFEED_REQUIRE_PROMTOOL
	# so that there they always run.
	if [[ -z ${WIREFEED_REQUIRE_PROMTOOL:-} ]]; then
		echo "test-rules: NOT RUN (set WIREFEED_REQUIRE_PROMTOOL=1 to make this an error)" >&2
		exit 0
	fi
	exit 127
fi
echo "test-rules: $("$promtool" --version 2>&1 | head -n 1)"

shopt -s nullglob
rules=("$dir"/rules/*.rules.yml)
tests=("$dir"/rules/*.rules.test.yml)
if ((${#rules[@]} == 0 || ${#tests[@]} == 0)); then
	echo "test-rules: no rule files or no rule tests under $dir/rules" >&2
	exit 1
fi

run() {
	echo "test-rules: $*"
	"$@"
}
# promtool resolves rule_files relative to the file naming them; run from
# the files' folders so the messages name them short.
(cd "$dir" && run "$promtool" check config prometheus.yml)
(cd "$dir/rules" && run "$promtool" check rules "${rules[@]##*/}")
(cd "$dir/rules" && run "$promtool" test rules "${tests[@]##*/}")
echo "test-rules: ok"
