#!/usr/bin/env bash
# A DLQ that cannot take messages (issue 10, item 2).  Only the partitions
# with a message to dead-letter stop (paused at their stored offset, retried
# with backoff, shown by tthc_ingest_partition_dlq_blocked and
# tthc_ingest_dlq_failures_total, logged as dlq_blocked); every other
# partition is applied meanwhile and the instance stays ready (PostgreSQL and
# the group untouched).  Two causes:
#   A. the DLQ topic is hidden from the clients (librdkafka's topic.blacklist,
#      through the TTHC_KAFKA_* variables: the topic looks missing): any
#      broker; the instance is then restarted with a working DLQ;
#   B. the DLQ topic does not exist and may not be auto-created, then is
#      created while the instance runs, which resumes the held-back
#      partitions by itself.  B needs a broker that honours a client's "do not
#      auto-create" (real Kafka; the librdkafka mock broker creates every topic
#      asked for): on one that does not, B is skipped with a message.
# Either way the totals end exact and every reject is in the DLQ once.
source "$(dirname "$0")/common.sh"
it_setup
PARTS=12 # broker_start's default partition count
topic_exists() { kcat -b "$TTHC_KAFKA_BROKERS" -L -m 10 2>/dev/null | grep -qF "topic \"$1\" "; }
# create_topic NAME PARTITIONS: Kafka's own tool on real Kafka (lib.sh), else
# a client allowed to auto-create asks for it (the mock broker).
create_topic() {
    if [[ -s $IT_DIR/kafka/nodes ]]; then
        kafka_create_topic "$IT_DIR" "$1" "$2"
    else
        kcat -b "$TTHC_KAFKA_BROKERS" -X allow.auto.create.topics=true -L -t "$1" -m 10 >/dev/null 2>&1
    fi
    wait_until 30 topic_exists "$1"
}
port_of() {
    local p
    p=$(sed -n 's/.*event=metrics_listening .* port=\([0-9]*\).*/\1/p' "$IT_DIR/ingest-a.log" | tail -n1)
    [[ -n $p ]] && echo "$p"
}
scrape() { curl -fsS -m 5 "http://127.0.0.1:$(port_of)/metrics"; }
"${ORACLE[@]}" gen --seed dlq-blocked-1 --dossiers 1200 --units 10 --malformed 5 --conflicts 0 --same-receipts 0 \
    --dup-rate 0.03 --out-events "$IT_DIR/events.tsv" --out-expected "$IT_DIR/expected.json" \
    --out-labels "$IT_DIR/labels.tsv"
total=$(wc -l <"$IT_DIR/events.tsv")
# Where each message goes: librdkafka's default partitioner (CRC-32 of the
# key) as kcat uses it; per partition: message count, and whether it holds a
# message bound for the DLQ.
python3 - "$IT_DIR/labels.tsv" "$PARTS" >"$IT_DIR/parts.txt" <<'PY'
import sys, zlib
labels, n = sys.argv[1], int(sys.argv[2])
count, dlq = [0] * n, [0] * n
for line in open(labels, "rb"):
    f = line.rstrip(b"\n").split(b"\t")
    p = zlib.crc32(f[1]) % n
    count[p] += 1
    dlq[p] += f[2] != b"accepted"
for p in range(n):
    print(p, count[p], dlq[p])
PY
blocked=$(awk '$3 > 0 {print $1}' "$IT_DIR/parts.txt" | tr '\n' ' ')
free=$(awk '$3 == 0 && $2 > 0 {print $1}' "$IT_DIR/parts.txt" | tr '\n' ' ')
[[ -n $blocked && -n $free ]] || it_fail "the stream must have partitions with and without rejects (with: '$blocked')"
it_produce "$IT_DIR/events.tsv"

applied_of() { it_sql "SELECT coalesce((SELECT next_offset FROM consumer_offset WHERE topic = '$TOPIC' AND partition = $1), 0)"; }
# Every partition without a reject is applied to its end; every one with a
# reject is flagged as held back.
_held() {
    local p n m
    while read -r p n _; do
        [[ " $free " == *" $p "* ]] && { [[ $(applied_of "$p") == "$n" ]] || return 1; }
    done <"$IT_DIR/parts.txt"
    m=$(scrape) || return 1
    for p in $blocked; do
        grep -q "^tthc_ingest_partition_dlq_blocked{topic=\"$TOPIC\",partition=\"$p\"} 1" <<<"$m" || return 1
    done
}
# check_held PHASE: the state while the DLQ refuses.
check_held() {
    local p n d a m fails
    wait_until 120 _held || it_fail "$1: partitions without rejects were not all applied while the DLQ failed (held: $blocked)"
    while read -r p n d; do
        if ((d > 0)); then
            a=$(applied_of "$p")
            ((a < n)) || it_fail "$1: partition $p has a reject but was applied to its end ($a of $n)"
        fi
    done <"$IT_DIR/parts.txt"
    m=$(scrape)
    fails=$(sed -n 's/^tthc_ingest_dlq_failures_total \([0-9.e+]*\)$/\1/p' <<<"$m")
    [[ -n $fails && $fails != 0 ]] || it_fail "$1: tthc_ingest_dlq_failures_total is '$fails'"
    curl -fsS -m 5 "http://127.0.0.1:$(port_of)/readyz" >/dev/null || it_fail "$1: not ready while only the DLQ fails"
    grep -q 'event=dlq_blocked' "$IT_DIR/ingest-a.log" || it_fail "$1: no dlq_blocked in the log"
    if grep -Eq 'event=(database_unavailable|batch_failed)' "$IT_DIR/ingest-a.log"; then
        it_fail "$1: a DLQ failure cost the database connection"
    fi
    echo "$1: held back $blocked; applied the others; $fails DLQ failures" >&2
}
_unblocked() {
    local m p
    m=$(scrape) || return 1
    for p in $blocked; do
        grep -q "^tthc_ingest_partition_dlq_blocked{topic=\"$TOPIC\",partition=\"$p\"} 0" <<<"$m" || return 1
    done
}

# A. The DLQ topic looks missing to the instance.
TTHC_KAFKA_TOPIC_BLACKLIST='^tthc\.dlq$' it_ingest_start a --batch-max 500 --batch-ms 100 --dlq-flush-ms 5000
wait_until 30 port_of >/dev/null || it_fail "no metrics port logged"
check_held "A (topic hidden)"
it_ingest_stop a
mv "$IT_DIR/ingest-a.log" "$IT_DIR/ingest-a1.log"

# B. The DLQ topic is missing, then created.
DLQ=tthc.dlq.late
kcat -b "$TTHC_KAFKA_BROKERS" -X allow.auto.create.topics=false -L -t tthc.autocreate.probe -m 10 >/dev/null 2>&1 || true
if topic_exists tthc.autocreate.probe; then
    echo "it_ingest_dlq_blocked: B skipped: this broker creates every topic a client asks for (the dev mock broker)" >&2
    DLQ=tthc.dlq
    it_ingest_start a --batch-max 500 --batch-ms 100
    phase="A, then a working DLQ after a restart"
else
    TTHC_KAFKA_ALLOW_AUTO_CREATE_TOPICS=false it_ingest_start a --dlq-topic "$DLQ" --batch-max 500 --batch-ms 100 \
        --dlq-flush-ms 5000
    wait_until 30 port_of >/dev/null || it_fail "no metrics port logged"
    check_held "B (topic missing)"
    create_topic "$DLQ" 3 || it_fail "could not create $DLQ"
    phase="A and B (resumed in place once the topic existed)"
fi
it_wait_applied "$total" 180
wait_until 30 port_of >/dev/null || it_fail "no metrics port logged"
wait_until 30 _unblocked || it_fail "partitions still flagged as held back after the DLQ came back"
it_ingest_stop a
it_dlq_dump "$IT_DIR/dlq.txt"
it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt"
echo "it_ingest_dlq_blocked: ok ($total messages; $phase)"
