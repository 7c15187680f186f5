#!/bin/sh
# deploy/docker/create-topics.sh - the one-shot "topics" job of docker-compose.yml.
# Runs in the apache/kafka image (kafka-topics.sh); usable against any cluster:
#
#   BOOTSTRAP=kafka-1:19092 sh create-topics.sh
#
# Waits (bounded) until TOPIC_REPLICATION_FACTOR brokers are registered, then
# creates, if missing:
#   TTHC_DOSSIER_TOPIC (default tthc.dossier.events) with TTHC_DOSSIER_PARTITIONS
#       (default 12) partitions, retention TTHC_DOSSIER_RETENTION_MS (default -1:
#       kept forever, so the indicators can always be rebuilt by replay);
#   TTHC_DLQ_TOPIC (default tthc.dlq) with TTHC_DLQ_PARTITIONS (default 3)
#       partitions, retention TTHC_DLQ_RETENTION_MS (default 30 days);
# both with replication factor TOPIC_REPLICATION_FACTOR (default 3) and
# min.insync.replicas TOPIC_MIN_INSYNC_REPLICAS (default 2).  An existing topic is
# left as it is (partitions are never added: that would move keys between
# partitions); a difference from the wanted layout is reported.  Exit 0 when both
# topics exist.
set -eu
bin=${KAFKA_BIN:-/opt/kafka/bin}
bootstrap=${BOOTSTRAP:?BOOTSTRAP (host:port of a broker) is required}
rf=${TOPIC_REPLICATION_FACTOR:-3}
min_isr=${TOPIC_MIN_INSYNC_REPLICAS:-2}
wait_s=${TOPICS_WAIT_SECONDS:-180}

log() { echo "create-topics: $*" >&2; }

brokers_up() {
    "$bin/kafka-broker-api-versions.sh" --bootstrap-server "$bootstrap" 2>/dev/null |
        grep -c '(id: [0-9]* rack:' || true
}

waited=0
while :; do
    n=$(brokers_up)
    [ "$n" -ge "$rf" ] && break
    if [ "$waited" -ge "$wait_s" ]; then
        log "only $n of $rf brokers registered after ${wait_s}s at $bootstrap"
        exit 1
    fi
    log "$n of $rf brokers registered; waiting"
    sleep 5
    waited=$((waited + 5))
done
log "$n brokers registered"

# ensure TOPIC PARTITIONS RETENTION_MS
ensure() {
    topic=$1 parts=$2 retention=$3
    "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --create --if-not-exists \
        --topic "$topic" --partitions "$parts" --replication-factor "$rf" \
        --config min.insync.replicas="$min_isr" --config retention.ms="$retention"
    desc=$("$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --describe --topic "$topic") || {
        log "topic $topic missing after --create"
        return 1
    }
    # The topic's own line, not the first: Kafka 4.1's tools may print log4j
    # status lines ("main ERROR Reconfiguration failed ...") to stdout first.
    head=$(printf '%s\n' "$desc" | grep -m 1 'PartitionCount' || true)
    log "$head"
    have_parts=$(printf '%s\n' "$head" | sed -n 's/.*PartitionCount: *\([0-9]*\).*/\1/p')
    have_rf=$(printf '%s\n' "$head" | sed -n 's/.*ReplicationFactor: *\([0-9]*\).*/\1/p')
    [ "$have_parts" = "$parts" ] || log "WARNING: $topic has $have_parts partitions, not $parts (left as it is)"
    [ "$have_rf" = "$rf" ] || log "WARNING: $topic has replication factor $have_rf, not $rf (left as it is)"
    case $head in
        *min.insync.replicas=$min_isr*) ;;
        *) log "WARNING: $topic does not have min.insync.replicas=$min_isr" ;;
    esac
}

ensure "${TTHC_DOSSIER_TOPIC:-tthc.dossier.events}" "${TTHC_DOSSIER_PARTITIONS:-12}" \
    "${TTHC_DOSSIER_RETENTION_MS:--1}"
ensure "${TTHC_DLQ_TOPIC:-tthc.dlq}" "${TTHC_DLQ_PARTITIONS:-3}" "${TTHC_DLQ_RETENTION_MS:-2592000000}"
log "done"
