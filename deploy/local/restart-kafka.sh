#!/usr/bin/env bash
# Restarts the local Kafka broker with the same config and data, for tests
# that need a broker outage mid-run; waits until it is ready again.
#   --kill  stop it with SIGKILL (a crash) instead of SIGTERM (a clean
#           controlled shutdown).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

sig=TERM
for arg in "$@"; do
	case $arg in
	--kill) sig=KILL ;;
	-h | --help) sed -n '2,5s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument $arg (want --kill)" ;;
	esac
done

[[ -f $KAFKA_DATA/meta.properties ]] || die "no Kafka data in $KAFKA_DATA: start the stack with deploy/local/up.sh first"
live_pid kafka >/dev/null || log "kafka is not running; starting it"

started=$SECONDS
stop_component kafka "$sig" 60
for port in $(component_ports kafka); do
	for ((i = 0; i < 100; i++)); do
		port_listening "$port" || break
		sleep 0.1
	done
	port_listening "$port" && die "port $port still in use after stopping kafka (pid $(port_pids "$port" | paste -sd' '))"
done
stopped=$SECONDS
log "kafka down after $((stopped - started))s; starting it again"
kafka_start
wait_ready kafka
log "kafka restarted (pid $(live_pid kafka)); down $((stopped - started))s, back up $((SECONDS - stopped))s later"
