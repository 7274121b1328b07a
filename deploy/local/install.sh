#!/usr/bin/env bash
# Installs what the local stack and the end-to-end tests need, from this
# repository alone: kcat, Prometheus (and curl, a JDK 17 and Maven when
# missing) from Debian, the Versity S3 gateway built with `go install` into
# .cache/bin, the Apache Kafka jars from Maven Central into
# .cache/kafka/<version>/libs, and the s3check probe. Idempotent: a second
# run only checks and prints the versions.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

started=$SECONDS
mkdir -p "$BIN_DIR" "$RUN_DIR" "$LOG_DIR"

# --- Debian packages ---------------------------------------------------------
missing_pkgs=()
for p in "${APT_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing_pkgs+=("$p")
done
[[ -x $JAVA_HOME_17/bin/java ]] || missing_pkgs+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing_pkgs+=(maven)

# Debian starts (and enables) a prometheus service on install. The stack runs
# its own Prometheus, so while installing, a policy-rc.d forbids service
# starts unless the machine already has one.
temp_policy=
cleanup() { [[ -n $temp_policy ]] && rm -f /usr/sbin/policy-rc.d; return 0; }
trap cleanup EXIT

if ((${#missing_pkgs[@]})); then
	((EUID == 0)) || die "need root for apt-get install ${missing_pkgs[*]}"
	log "apt-get install ${missing_pkgs[*]}"
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		temp_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# No recommends: prometheus would pull in prometheus-node-exporter.
	apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >"$LOG_DIR/apt-install.log" 2>&1 ||
		{ tail -n 40 "$LOG_DIR/apt-install.log" >&2; die "apt-get install failed"; }
	cleanup
	temp_policy=
fi

# Whatever the package did, no system Prometheus may run or start at boot.
# `systemctl disable` also works where systemd is not running (it removes the
# symlink the package made); the init script covers machines without it.
if command -v systemctl >/dev/null && [[ -e /lib/systemd/system/prometheus.service ]]; then
	if [[ -d /run/systemd/system ]]; then
		systemctl disable --now prometheus.service >/dev/null 2>&1 || true
	else
		systemctl disable prometheus.service >/dev/null 2>&1 || true
	fi
fi
if [[ -x /etc/init.d/prometheus ]]; then
	/etc/init.d/prometheus stop >/dev/null 2>&1 || true
	update-rc.d prometheus disable >/dev/null 2>&1 || true
fi
ours=$(live_pid prometheus || true)
for pid in $(port_pids "${PROM_ADDR##*:}"); do
	[[ $pid == "$ours" ]] && continue
	# The packaged daemon runs as the user prometheus; a stack's own
	# Prometheus (this clone's or another's) runs as whoever ran up.sh.
	if [[ $(ps -o uid= -p "$pid" 2>/dev/null | tr -d ' ') == "$(id -u prometheus 2>/dev/null)" ]]; then
		log "stopping the system Prometheus (pid $pid) left by the Debian package"
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.1; done
	fi
done
for pid in $(port_pids "${PROM_ADDR##*:}"); do
	[[ $pid == "$ours" ]] && continue
	die "port ${PROM_ADDR##*:} is held by pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)); the stack's Prometheus needs it"
done

[[ -x $JAVA_HOME_17/bin/java ]] || die "no JDK 17 at $JAVA_HOME_17 (set WIREFEED_JAVA_HOME)"
command -v go >/dev/null || die "go is not on PATH; it builds the S3 gateway and s3check"

# --- Versity S3 gateway ------------------------------------------------------
if [[ $(versitygw_version) != "$VERSITYGW_VERSION" ]]; then
	log "go install $VERSITYGW_MODULE/cmd/versitygw@$VERSITYGW_VERSION (a cold build takes minutes)"
	t=$SECONDS
	GOBIN=$BIN_DIR go install "$VERSITYGW_MODULE/cmd/versitygw@$VERSITYGW_VERSION"
	log "versitygw built in $((SECONDS - t))s"
fi

# --- Apache Kafka jars -------------------------------------------------------
# .complete marks a finished copy of the jars the current pom.xml asks for, so
# an interrupted download or a changed pom is fetched again.
if [[ $(cat "$KAFKA_HOME/.complete" 2>/dev/null) != "$(kafka_pom_hash)" ]]; then
	# The broker reads its classes from this folder while it runs.
	if pid=$(live_pid kafka); then
		die "the Kafka jars in $KAFKA_LIBS need fetching again, but the broker (pid $pid) runs from them: run deploy/local/down.sh first"
	fi
	log "fetching Apache Kafka $KAFKA_VERSION jars with Maven"
	t=$SECONDS
	rm -rf "$KAFKA_LIBS"
	JAVA_HOME=$JAVA_HOME_17 mvn -B -f "$WF_LOCAL_DIR/kafka/pom.xml" \
		dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" \
		>"$LOG_DIR/mvn-kafka.log" 2>&1 ||
		{ tail -n 40 "$LOG_DIR/mvn-kafka.log" >&2; die "mvn dependency:copy-dependencies failed (log: $LOG_DIR/mvn-kafka.log)"; }
	[[ -n $(kafka_jar_version) ]] || die "no kafka_2.13 jar in $KAFKA_LIBS after mvn"
	kafka_pom_hash >"$KAFKA_HOME/.complete"
	log "Kafka jars fetched in $((SECONDS - t))s"
fi

# --- s3check probe -----------------------------------------------------------
if [[ ! -x $S3CHECK_BIN || $WF_LOCAL_DIR/s3check/main.go -nt $S3CHECK_BIN ]]; then
	log "building s3check"
	(cd "$WF_ROOT" && go build -o "$S3CHECK_BIN" ./deploy/local/s3check)
fi

[[ -z $(install_missing) ]] || die "still missing after install: $(install_missing | paste -sd' ')"

cat <<EOT
installed (in $((SECONDS - started))s):
  Apache Kafka       $(kafka_jar_version)   $KAFKA_LIBS ($(find "$KAFKA_LIBS" -name "*.jar" | wc -l) jars)
  Versity S3 gateway $(versitygw_version)   $VERSITYGW_BIN
  Prometheus         $(prometheus_version)   $(command -v prometheus)
  kcat               $(kcat_version)   $(command -v kcat)
  Java               $("$JAVA_HOME_17/bin/java" -version 2>&1 | head -n 1)
EOT
