#!/usr/bin/env bash
# Starts the local real stack in the background: Apache Kafka (KRaft, one
# node) on 127.0.0.1:9092, the Versity S3 gateway on 127.0.0.1:7070 and
# Prometheus on 127.0.0.1:9090. PID files go to .cache/run, logs to
# .cache/logs. Waits until every component answers, then prints the versions
# and the environment the services need (also written to .cache/run/env.sh).
# Running it again leaves the running components alone.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

missing=$(install_missing)
if [[ -n $missing ]]; then
	log "missing: $(paste -sd' ' <<<"$missing"); running install.sh"
	bash "$WF_LOCAL_DIR/install.sh"
fi

mkdir -p "$RUN_DIR" "$LOG_DIR"
started=$SECONDS

# Check every port before starting anything, so a conflict leaves nothing
# half-started.
to_start=()
for c in "${COMPONENTS[@]}"; do
	if pid=$(live_pid "$c"); then
		log "$c already running (pid $pid)"
		continue
	fi
	rm -f "$(pid_file "$c")"
	for port in $(component_ports "$c"); do
		if port_listening "$port"; then
			die "$c: port $port is already in use by another process (pid $(port_pids "$port" | paste -sd' ')); stop it, or run down.sh in the clone that started it"
		fi
	done
	to_start+=("$c")
done
for c in "${to_start[@]}"; do
	log "starting $c"
	"${c}_start"
done

failed=()
for c in "${COMPONENTS[@]}"; do
	wait_ready "$c" || failed+=("$c")
done
if ((${#failed[@]})); then
	die "not ready: ${failed[*]} (the others are left running; stop everything with deploy/local/down.sh)"
fi

sink_bucket="s3://$S3_BUCKET?endpoint=http://$S3_ADDR&use_path_style=true&region=$S3_REGION&request_checksum_calculation=when_required&response_checksum_validation=when_required"
{
	echo "# Environment of the local stack, written by deploy/local/up.sh."
	echo "# Use: source .cache/run/env.sh"
	printf 'export KAFKA_BROKERS=%q\n' "$KAFKA_ADDR"
	printf 'export WIREFEED_KAFKA_BROKERS=%q\n' "$KAFKA_ADDR"
	printf "export WIREFEED_SINK_BUCKET='%s'\n" "$sink_bucket"
	# What sink's --bucket flag reads from the environment.
	printf "export WIREFEED_BUCKET='%s'\n" "$sink_bucket"
	printf 'export AWS_ACCESS_KEY_ID=%q\n' "$S3_ACCESS_KEY"
	printf 'export AWS_SECRET_ACCESS_KEY=%q\n' "$S3_SECRET_KEY"
} >"$RUN_DIR/env.sh"

cat <<EOT

local stack up (in $((SECONDS - started))s):
  kafka       pid $(live_pid kafka)   $KAFKA_ADDR (controller $KAFKA_CONTROLLER_ADDR)   Apache Kafka $(kafka_running_version)
  s3          pid $(live_pid s3)   http://$S3_ADDR bucket $S3_BUCKET   versitygw $(versitygw_version)
  prometheus  pid $(live_pid prometheus)   http://$PROM_ADDR   Prometheus $(prometheus_version)
logs: $LOG_DIR   data: $KAFKA_DATA $S3_DATA $PROM_DATA

environment for the services and tests (source $RUN_DIR/env.sh):
EOT
grep '^export' "$RUN_DIR/env.sh" | sed 's/^export /  /'
