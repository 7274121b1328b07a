#!/usr/bin/env bash
# Runs an Apache Kafka command-line tool from the jars of the local stack, as
# the scripts of a Kafka distribution would. Examples:
#   deploy/local/kafka-cli.sh kafka-topics --bootstrap-server 127.0.0.1:9092 --list
#   deploy/local/kafka-cli.sh kafka-topics --bootstrap-server 127.0.0.1:9092 \
#       --create --topic demo --partitions 3
#   deploy/local/kafka-cli.sh kafka-consumer-groups --bootstrap-server 127.0.0.1:9092 \
#       --describe --group wirefeed-normalize
# Tools: kafka-topics, kafka-consumer-groups, kafka-get-offsets, kafka-configs,
# kafka-console-producer, kafka-console-consumer, kafka-delete-records,
# kafka-log-dirs, kafka-metadata-quorum, kafka-storage.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($#)) || { sed -n '2,11s/^# \{0,1\}//p' "$0" >&2; exit 2; }
tool=$1
shift
case $tool in
kafka-topics) class=org.apache.kafka.tools.TopicCommand ;;
kafka-consumer-groups) class=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
kafka-get-offsets) class=org.apache.kafka.tools.GetOffsetShell ;;
kafka-configs) class=kafka.admin.ConfigCommand ;;
kafka-console-producer) class=org.apache.kafka.tools.ConsoleProducer ;;
kafka-console-consumer) class=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
kafka-delete-records) class=org.apache.kafka.tools.DeleteRecordsCommand ;;
kafka-log-dirs) class=org.apache.kafka.tools.LogDirsCommand ;;
kafka-metadata-quorum) class=org.apache.kafka.tools.MetadataQuorumCommand ;;
kafka-storage) class=kafka.tools.StorageTool ;;
*) die "unknown tool $tool (see: $0 with no arguments)" ;;
esac

[[ -n $(kafka_jar_version) ]] || die "no Kafka jars in $KAFKA_LIBS: run deploy/local/install.sh"
# Tools log warnings only, to stderr; a small heap is plenty.
exec "$JAVA_HOME_17/bin/java" -Xmx256m -cp "$KAFKA_LIBS/*" \
	-Dlog4j2.configurationFile="$WF_LOCAL_DIR/kafka/log4j2.yaml" \
	-Dwirefeed.log.target=SYSTEM_ERR -Dwirefeed.log.level=WARN \
	"$class" "$@"
