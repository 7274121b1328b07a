#!/usr/bin/env bash
# Shows each component of the local stack: running or not, PID, address,
# version and readiness. Exit status: 0 all ready, 3 nothing running,
# 1 anything in between.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

running=0 ready=0
printf '%-11s %-8s %-8s %-26s %-12s %s\n' COMPONENT STATE PID ADDRESS VERSION READY
for c in "${COMPONENTS[@]}"; do
	case $c in
	kafka) addr="$KAFKA_ADDR,:${KAFKA_CONTROLLER_ADDR##*:}" version=$(kafka_jar_version || true) ;;
	s3) addr="http://$S3_ADDR" version=$(versitygw_version || true) ;;
	prometheus) addr="http://$PROM_ADDR" version=$(prometheus_version || true) ;;
	esac
	state=stopped pid=- ok=-
	if pid=$(live_pid "$c"); then
		state=running
		running=$((running + 1))
		if [[ $c == kafka ]]; then
			version=$(kafka_running_version || true)
		fi
		if "${c}_ready"; then
			ok=yes
			ready=$((ready + 1))
		else
			ok=no
		fi
	else
		pid=-
		[[ -e $(pid_file "$c") ]] && state=stale
		for port in $(component_ports "$c"); do
			if port_listening "$port"; then
				ok="port $port held by pid $(port_pids "$port" | paste -sd' ')"
			fi
		done
	fi
	printf '%-11s %-8s %-8s %-26s %-12s %s\n' "$c" "$state" "$pid" "$addr" "${version:-?}" "$ok"
done
echo "logs: $LOG_DIR"
if ((ready == ${#COMPONENTS[@]})); then
	exit 0
elif ((running == 0)); then
	exit 3
fi
exit 1
