#!/usr/bin/env bash
# Rebalances on a three-node Apache Kafka cluster: two tthc-ingest instances
# share the stream, a third joins mid-stream, then one is killed with SIGKILL
# (its partitions move after session.timeout.ms).  The totals and the DLQ end
# exactly as the oracle says.  Prints the rebalance count of every instance and
# the longest time the group applied nothing while the stream was flowing (the
# pause a rebalance costs), for the assignor in TTHC_IT_ASSIGNOR (default
# cooperative-sticky; "range,roundrobin" is librdkafka's eager default).
source "$(dirname "$0")/common.sh"
[[ ${TTHC_BROKER:-kafka} == kafka ]] || { echo "it_kafka_rebalance: needs Apache Kafka; skipped with TTHC_BROKER=mock"; exit 0; }
IT_BROKER_ARGS="--nodes 3" it_setup
assignor=${TTHC_IT_ASSIGNOR:-cooperative-sticky}
export TTHC_KAFKA_PARTITION_ASSIGNMENT_STRATEGY=$assignor
"${ORACLE[@]}" gen --seed rebalance-1 --dossiers 6000 --units 15 --malformed 40 --conflicts 20 \
    --pending-first 0.1 --dup-rate 0.05 --shuffle 200 \
    --out-events "$IT_DIR/events.tsv" --out-expected "$IT_DIR/expected.json" >/dev/null
total=$(wc -l <"$IT_DIR/events.tsv")
split -n l/60 -d -a 3 "$IT_DIR/events.tsv" "$IT_DIR/slice."

feed() {
    local f
    for f in "$IT_DIR"/slice.*; do
        kcat -P -b "$TTHC_KAFKA_BROKERS" -t "$TOPIC" -K $'\t' -z lz4 -X enable.idempotence=true -l "$f" ||
            { echo "feed: kcat failed on $f" >&2; return 1; }
        sleep 0.5 # paces the stream over the rebalances; awaits nothing
    done
}
# progress: "SECONDS APPLIED" every 0.2 s (for the pause figure, not asserted)
sample() {
    while :; do
        printf '%s %s\n' "$EPOCHREALTIME" "$(it_applied 2>/dev/null || echo -)"
        sleep 0.2
    done
}
assigned_of() {
    curl -fsS -m 5 "http://127.0.0.1:$(it_metrics_port "$1")/metrics" 2>/dev/null |
        awk '$1 ~ /^tthc_ingest_group_assigned_partitions/ { print $2 }'
}
rebalances_of() {
    curl -fsS -m 5 "http://127.0.0.1:$(it_metrics_port "$1")/metrics" 2>/dev/null |
        awk '$1 ~ /^tthc_ingest_rebalances_total/ { print $2 }'
}

it_ingest_start a --batch-max 500 --batch-ms 50 --metrics-listen 127.0.0.1:0
it_ingest_start b --batch-max 500 --batch-ms 50 --metrics-listen 127.0.0.1:0
_two_share() { [[ $(assigned_of a) -ge 1 && $(assigned_of b) -ge 1 && $(($(assigned_of a) + $(assigned_of b))) == 12 ]]; }
wait_until 120 _two_share || it_fail "a and b do not share the 12 partitions (a=$(assigned_of a) b=$(assigned_of b))"
sample >"$IT_DIR/progress.txt" &
sampler=$!
feed &
feeder=$!

_reached() { (($(it_applied) >= $1)); }
wait_until 180 _reached $((total / 4)) || it_fail "only $(it_applied) applied before the join"
it_ingest_start c --batch-max 500 --batch-ms 50 --metrics-listen 127.0.0.1:0
echo "c joined at $(it_applied) applied"
_three_share() { [[ $(assigned_of a) -ge 1 && $(assigned_of b) -ge 1 && $(assigned_of c) -ge 1 ]]; }
wait_until 120 _three_share || it_fail "c got no partitions (a=$(assigned_of a) b=$(assigned_of b) c=$(assigned_of c))"
rb_b=$(rebalances_of b)
wait_until 180 _reached $((total / 2)) || it_fail "only $(it_applied) applied before the kill"
it_ingest_kill b
echo "b SIGKILLed at $(it_applied) applied (it had seen $rb_b rebalance callbacks)"
_two_left() { [[ $(($(assigned_of a) + $(assigned_of c))) == 12 ]]; }
wait_until 120 _two_left || it_fail "b's partitions did not move to a and c"
wait "$feeder" || it_fail "the feeder failed"
it_wait_applied "$total" 240
kill "$sampler" 2>/dev/null
wait "$sampler" 2>/dev/null || true
rb_a=$(rebalances_of a)
rb_c=$(rebalances_of c)
it_ingest_stop a
it_ingest_stop c
it_dlq_dump "$IT_DIR/dlq.txt"
it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt"
# Figures: rebalance callbacks per instance, and the longest stall of the
# group's progress while messages were still to apply.
stall=$(awk -v total="$total" '$2 != "-" { if (prev != "" && $2 == pv && $2 < total) { if ($1 - start > m) m = $1 - start } else { start = $1 } prev = $1; pv = $2 } END { printf "%.1f", m }' "$IT_DIR/progress.txt")
echo "it_kafka_rebalance: ok ($total messages, assignor $assignor): rebalance callbacks a=$rb_a b=$rb_b (before its kill) c=$rb_c; longest group stall ${stall} s"
