#!/usr/bin/env bash
# Broker failover on a three-node Apache Kafka cluster (replication factor 3,
# min.insync.replicas 2): while a stream is produced and ingested, the broker
# that leads most partitions of the dossier topic is killed with SIGKILL and
# restarted, twice.  tthc-ingest must keep applying while a broker is down
# (never stuck), and the totals and the DLQ end exactly as the oracle says.
source "$(dirname "$0")/common.sh"
[[ ${TTHC_BROKER:-kafka} == kafka ]] || { echo "it_kafka_failover: needs Apache Kafka; skipped with TTHC_BROKER=mock"; exit 0; }
IT_BROKER_ARGS="--nodes 3" it_setup
"${ORACLE[@]}" gen --seed failover-1 --dossiers 6000 --units 15 --malformed 40 --conflicts 20 \
    --pending-first 0.1 --dup-rate 0.05 --shuffle 200 \
    --out-events "$IT_DIR/events.tsv" --out-expected "$IT_DIR/expected.json" >/dev/null
total=$(wc -l <"$IT_DIR/events.tsv")
split -n l/60 -d -a 3 "$IT_DIR/events.tsv" "$IT_DIR/slice."

# The leader of most dossier-topic partitions (node id = index in the bootstrap list).
top_leader() {
    timeout 10 kcat -b "$TTHC_KAFKA_BROKERS" -L -t "$TOPIC" -J 2>/dev/null | python3 -c '
import collections, json, sys
parts = [t for t in json.load(sys.stdin)["topics"] if t["topic"] == sys.argv[1]][0]["partitions"]
print(collections.Counter(p["leader"] for p in parts).most_common(1)[0][0])' "$TOPIC"
}
leaders_all_on() { # every partition has a leader among the live nodes, and the ISR is complete
    timeout 10 kcat -b "$TTHC_KAFKA_BROKERS" -L -t "$TOPIC" -J 2>/dev/null | python3 -c '
import json, sys
parts = [t for t in json.load(sys.stdin)["topics"] if t["topic"] == sys.argv[1]][0]["partitions"]
sys.exit(0 if all(p["leader"] >= 1 and len(p.get("isrs", [])) == 3 for p in parts) else 1)' "$TOPIC"
}

# The feeder: idempotent, acks=all, patient producer (a broker may be down
# for a while; nothing may be lost or written twice).
feed() {
    local f
    for f in "$IT_DIR"/slice.*; do
        kcat -P -b "$TTHC_KAFKA_BROKERS" -t "$TOPIC" -K $'\t' -z lz4 -X enable.idempotence=true \
            -X message.timeout.ms=180000 -l "$f" || { echo "feed: kcat failed on $f" >&2; return 1; }
        sleep 0.5 # paces the stream over the faults; awaits nothing
    done
}
feed &
feeder=$!
it_ingest_start a --batch-max 500 --batch-ms 50 --metrics-listen 127.0.0.1:0

for round in 1 2; do
    threshold=$((total * round / 4))
    _reached() { (($(it_applied) >= threshold)); }
    wait_until 180 _reached || it_fail "round $round: only $(it_applied) applied, waiting for $threshold"
    victim=$(top_leader)
    [[ $victim =~ ^[123]$ ]] || it_fail "no leader found ($victim)"
    before=$(it_applied)
    kafka_node_kill "$IT_DIR" "$victim" KILL
    echo "round $round: SIGKILL of node $victim (leader of most partitions) at $before applied"
    # Never stuck: ingest goes on with the broker down (new leaders are elected).
    _moved() { (($(it_applied) > before + 200)); }
    wait_until 120 _moved || it_fail "round $round: ingest did not progress with node $victim down ($(it_applied) applied)"
    echo "round $round: $(($(it_applied) - before)) applied while node $victim was down"
    kafka_node_start "$IT_DIR" "$victim"
    kafka_wait "$IT_DIR" || it_fail "node $victim did not come back"
    wait_until 120 leaders_all_on || it_fail "round $round: the ISR did not become complete again"
done
wait "$feeder" || it_fail "the feeder failed"
it_wait_applied "$total" 240
it_ingest_stop a
it_dlq_dump "$IT_DIR/dlq.txt"
it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt"
echo "it_kafka_failover: ok ($total messages, 2 leader kills)"
