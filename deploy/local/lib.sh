# Shared settings and helpers of the local stack scripts. Sourced by
# install.sh, up.sh, down.sh, status.sh and restart-kafka.sh; not run alone.
# Every path is derived from this file's location, so the scripts work from
# any current directory and in any clone.
# shellcheck shell=bash disable=SC2034 # variables are used by the scripts

WF_LOCAL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WF_ROOT=$(cd "$WF_LOCAL_DIR/../.." && pwd)

# Pinned versions. The Kafka version lives in kafka/pom.xml only.
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$WF_LOCAL_DIR/kafka/pom.xml")
VERSITYGW_MODULE=github.com/versity/versitygw
VERSITYGW_VERSION=v1.8.0
APT_PACKAGES=(kcat prometheus curl)

JAVA_HOME_17=${WIREFEED_JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}

# Everything generated lives under the git-ignored .cache/.
CACHE_DIR=$WF_ROOT/.cache
BIN_DIR=$CACHE_DIR/bin
RUN_DIR=$CACHE_DIR/run
LOG_DIR=$CACHE_DIR/logs
KAFKA_HOME=$CACHE_DIR/kafka/$KAFKA_VERSION
KAFKA_LIBS=$KAFKA_HOME/libs
KAFKA_DATA=$CACHE_DIR/kafka-data
S3_DATA=$CACHE_DIR/s3
PROM_DATA=$CACHE_DIR/prometheus

VERSITYGW_BIN=$BIN_DIR/versitygw
S3CHECK_BIN=$BIN_DIR/s3check

# Fixed local addresses; the services' defaults and the Prometheus scrape
# config expect these.
KAFKA_ADDR=127.0.0.1:9092
KAFKA_CONTROLLER_ADDR=127.0.0.1:9093
S3_ADDR=127.0.0.1:7070
PROM_ADDR=127.0.0.1:9090
S3_BUCKET=wirefeed-archive
S3_REGION=us-east-1

# Local-only credentials of the S3 gateway; override with the environment.
S3_ACCESS_KEY=${WIREFEED_S3_ACCESS_KEY:-wirefeed}
S3_SECRET_KEY=${WIREFEED_S3_SECRET_KEY:-wirefeed-secret}

READY_TIMEOUT=${WIREFEED_READY_TIMEOUT:-240}

COMPONENTS=(kafka s3 prometheus)

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# component_* map a component name to its port(s), log file and the string
# its command line must contain (guards against a recycled PID).
component_ports() {
	case $1 in
	kafka) echo "${KAFKA_ADDR##*:} ${KAFKA_CONTROLLER_ADDR##*:}" ;;
	s3) echo "${S3_ADDR##*:}" ;;
	prometheus) echo "${PROM_ADDR##*:}" ;;
	esac
}
component_log() { echo "$LOG_DIR/$1.log"; }
component_match() {
	case $1 in
	kafka) echo "kafka.Kafka" ;;
	s3) echo "$VERSITYGW_BIN" ;;
	prometheus) echo "--storage.tsdb.path=$PROM_DATA" ;;
	esac
}
pid_file() { echo "$RUN_DIR/$1.pid"; }

# pid_alive PID: the process exists and is not a zombie. A stopped daemon
# whose parent is PID 1 stays a zombie until PID 1 reaps it, which some
# container inits do only every second or two.
pid_alive() {
	local state
	state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ -n $state && $state != Z* ]]
}

# live_pid NAME prints the PID of a running component started by up.sh, or
# fails. A PID file whose process is gone or is another program is stale.
live_pid() {
	local f pid
	f=$(pid_file "$1")
	[[ -s $f ]] || return 1
	pid=$(<"$f")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	pid_alive "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(component_match "$1")" || return 1
	echo "$pid"
}

# start_bg NAME CMD... runs CMD detached (own session, no stdin), appending
# to the component's log, and records its PID.
start_bg() {
	local name=$1 logf
	shift
	logf=$(component_log "$name")
	mkdir -p "$RUN_DIR" "$LOG_DIR"
	# Logs are appended across starts; keep one older file past 64 MiB.
	if [[ -f $logf ]] && (($(stat -c %s "$logf") > 64 << 20)); then
		mv -f "$logf" "$logf.1"
	fi
	printf '\n===== %s: starting %s =====\n' "$(date -Is)" "$name" >>"$logf"
	nohup setsid "$@" >>"$logf" 2>&1 </dev/null &
	echo $! >"$(pid_file "$name")"
}

# stop_component NAME [SIGNAL] [TIMEOUT]: signal the recorded process, wait
# for it to exit, SIGKILL it after TIMEOUT seconds, remove the PID file.
stop_component() {
	local name=$1 sig=${2:-TERM} timeout=${3:-30} pid i
	if ! pid=$(live_pid "$name"); then
		rm -f "$(pid_file "$name")"
		return 0
	fi
	log "stopping $name (pid $pid, SIG$sig)"
	kill -s "$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < timeout * 10; i++)); do
		pid_alive "$pid" || break
		sleep 0.1
	done
	if pid_alive "$pid"; then
		log "$name (pid $pid) still running after ${timeout}s: SIGKILL"
		kill -s KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			pid_alive "$pid" || break
			sleep 0.1
		done
	fi
	rm -f "$(pid_file "$name")"
}

port_listening() { [[ -n $(ss -Hltn "sport = :$1") ]]; }
port_accepts() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

# PIDs of the processes listening on a port (needs ss -p, i.e. root).
port_pids() {
	ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

# Readiness probes: each succeeds once the component answers real requests.
kafka_ready() {
	port_accepts "$KAFKA_ADDR" &&
		timeout 10 kcat -b "$KAFKA_ADDR" -L -m 5 2>/dev/null | grep -q "broker 1 at $KAFKA_ADDR"
}
s3_ready() {
	AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY \
		"$S3CHECK_BIN" -endpoint "http://$S3_ADDR" -region "$S3_REGION" -timeout 5s head "$S3_BUCKET" 2>/dev/null
}
prometheus_ready() {
	[[ $(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://$PROM_ADDR/-/ready") == 200 ]]
}

# wait_ready NAME: poll the probe until READY_TIMEOUT; on failure print the
# end of the log and return non-zero. Fails early if the process died.
wait_ready() {
	local name=$1 start=$SECONDS
	while ((SECONDS - start < READY_TIMEOUT)); do
		if "${name}_ready"; then
			log "$name ready after $((SECONDS - start))s"
			return 0
		fi
		if ! live_pid "$name" >/dev/null; then
			printf 'error: %s exited during start-up; last 40 lines of %s:\n' "$name" "$(component_log "$name")" >&2
			tail -n 40 "$(component_log "$name")" >&2
			return 1
		fi
		sleep 0.5
	done
	printf 'error: %s not ready after %ss; last 40 lines of %s:\n' "$name" "$READY_TIMEOUT" "$(component_log "$name")" >&2
	tail -n 40 "$(component_log "$name")" >&2
	return 1
}

# Versions, as the installed artefacts and running processes report them.
kafka_jar_version() {
	local jar
	for jar in "$KAFKA_LIBS"/kafka_2.13-*.jar; do
		[[ -f $jar ]] || return 1
		jar=${jar##*/kafka_2.13-}
		echo "${jar%.jar}"
		return 0
	done
}
kafka_running_version() {
	# AppInfoParser logs "Kafka version: X" at start; take the newest.
	grep -o 'Kafka version: [^ ]*' "$(component_log kafka)" 2>/dev/null | tail -n 1 | cut -d' ' -f3
}
# A `go install` build has no version stamped in (`versitygw --version`
# says "git"); the module version recorded in the binary is the truth.
versitygw_version() {
	[[ -x $VERSITYGW_BIN ]] || return 1
	go version -m "$VERSITYGW_BIN" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'
}
prometheus_version() {
	command -v prometheus >/dev/null || return 1
	prometheus --version 2>&1 | sed -n '1s/^prometheus, version \([^ ]*\).*/\1/p'
}
kcat_version() {
	# Debian's kcat -V says "Version: git"; the package version is the truth.
	dpkg-query -W -f='${Version}' kcat 2>/dev/null
}

kafka_pom_hash() { sha256sum "$WF_LOCAL_DIR/kafka/pom.xml" | cut -d' ' -f1; }

# install_missing lists what install.sh would have to do; empty when all is
# in place.
install_missing() {
	local p
	for p in "${APT_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "apt:$p"
	done
	[[ $(versitygw_version) == "$VERSITYGW_VERSION" ]] || echo "versitygw"
	[[ $(cat "$KAFKA_HOME/.complete" 2>/dev/null) == "$(kafka_pom_hash)" ]] || echo "kafka-jars"
	[[ -x $S3CHECK_BIN && ! $WF_LOCAL_DIR/s3check/main.go -nt $S3CHECK_BIN ]] || echo "s3check"
	[[ -x $JAVA_HOME_17/bin/java ]] || echo "jdk17"
	command -v mvn >/dev/null || echo "apt:maven"
	return 0
}

# --- starting components ---------------------------------------------------

KAFKA_PROPS=$RUN_DIR/kafka.properties
KAFKA_CLUSTER_ID_FILE=$CACHE_DIR/kafka-cluster-id

# kafka_tool runs a command-line class of the Kafka jars; its logs go to
# stderr.
kafka_tool() {
	"$JAVA_HOME_17/bin/java" -cp "$KAFKA_LIBS/*" \
		-Dlog4j2.configurationFile="$WF_LOCAL_DIR/kafka/log4j2.yaml" \
		-Dwirefeed.log.target=SYSTEM_ERR -Dkafka.logs.dir="$LOG_DIR" "$@"
}

# kafka_start writes the broker config, formats the data folder on first use
# (cluster id from StorageTool random-uuid, kept in .cache/kafka-cluster-id)
# and starts the broker in the background.
kafka_start() {
	local id
	mkdir -p "$RUN_DIR" "$LOG_DIR" "$KAFKA_DATA"
	{
		cat "$WF_LOCAL_DIR/kafka/server.properties"
		printf '\n# Added by deploy/local/lib.sh\nlog.dirs=%s\n' "$KAFKA_DATA"
	} >"$KAFKA_PROPS"
	if [[ ! -f $KAFKA_DATA/meta.properties ]]; then
		# A cluster id is 16 random bytes in URL-safe base64: 22 characters.
		if ! grep -qxE '[A-Za-z0-9_-]{22}' "$KAFKA_CLUSTER_ID_FILE" 2>/dev/null; then
			id=$(kafka_tool kafka.tools.StorageTool random-uuid 2>>"$(component_log kafka)") || true
			[[ $id =~ ^[A-Za-z0-9_-]{22}$ ]] || die "StorageTool random-uuid printed '$id', not a cluster id"
			echo "$id" >"$KAFKA_CLUSTER_ID_FILE"
		fi
		id=$(<"$KAFKA_CLUSTER_ID_FILE")
		log "formatting $KAFKA_DATA (cluster id $id)"
		kafka_tool kafka.tools.StorageTool format -t "$id" -c "$KAFKA_PROPS" >>"$(component_log kafka)" 2>&1 ||
			{ tail -n 40 "$(component_log kafka)" >&2; die "kafka storage format failed"; }
	fi
	start_bg kafka "$JAVA_HOME_17/bin/java" \
		-Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
		-XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
		-Dlog4j2.configurationFile="$WF_LOCAL_DIR/kafka/log4j2.yaml" \
		-Dkafka.logs.dir="$LOG_DIR" \
		-cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS"
}

# s3_start runs the Versity S3 gateway on a posix folder; each subfolder is
# a bucket. The root credentials go through the environment, not argv.
s3_start() {
	mkdir -p "$S3_DATA/$S3_BUCKET"
	start_bg s3 env ROOT_ACCESS_KEY="$S3_ACCESS_KEY" ROOT_SECRET_KEY="$S3_SECRET_KEY" \
		"$VERSITYGW_BIN" --port "$S3_ADDR" --region "$S3_REGION" posix "$S3_DATA"
}

prometheus_start() {
	mkdir -p "$PROM_DATA"
	start_bg prometheus prometheus \
		--config.file="$WF_ROOT/deploy/prometheus/prometheus.yml" \
		--storage.tsdb.path="$PROM_DATA" \
		--web.listen-address="$PROM_ADDR" \
		--web.enable-lifecycle
}
