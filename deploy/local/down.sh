#!/usr/bin/env bash
# Stops what up.sh started (by PID file: SIGTERM, then SIGKILL after a
# timeout) and checks that the stack's ports are closed.
#   --purge  also delete the data of Kafka, the S3 gateway and Prometheus;
#            installed jars and binaries stay.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=
for arg in "$@"; do
	case $arg in
	--purge) purge=1 ;;
	-h | --help) sed -n '2,5s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument $arg (want --purge)" ;;
	esac
done

# Reverse start order: Prometheus stops scraping first, Kafka last.
stop_component prometheus TERM 20
stop_component s3 TERM 20
# A single-node broker's controlled shutdown takes a few seconds.
stop_component kafka TERM 60

busy=()
for c in "${COMPONENTS[@]}"; do
	for port in $(component_ports "$c"); do
		if port_listening "$port"; then
			busy+=("$port (pid $(port_pids "$port" | paste -sd' '))")
		fi
	done
done
if ((${#busy[@]})); then
	printf 'error: still listening, not started by this clone'"'"'s up.sh: %s\n' "${busy[*]}" >&2
	exit 1
fi
log "stopped; ports $(for c in "${COMPONENTS[@]}"; do component_ports "$c"; done | paste -sd' ') are free"

if [[ -n $purge ]]; then
	rm -rf "$KAFKA_DATA" "$KAFKA_CLUSTER_ID_FILE" "$S3_DATA" "$PROM_DATA"
	log "purged $KAFKA_DATA $S3_DATA $PROM_DATA"
fi
