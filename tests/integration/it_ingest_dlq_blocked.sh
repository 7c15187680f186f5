#!/usr/bin/env bash
# A DLQ that cannot take messages (issue 10, item 2): the topic does not exist
# and the producer may not create it.  Only the partitions with a message to
# dead-letter stop (paused at their stored offset, retried with backoff, shown
# by tthc_ingest_partition_dlq_blocked and tthc_ingest_dlq_failures_total and
# logged as dlq_blocked); every other partition is applied meanwhile, the
# instance stays ready (PostgreSQL and the group untouched).  Once the topic
# exists, the held-back partitions resume and the totals end exact.
#
# It needs a broker that honours a client's "do not auto-create" (real Kafka
# does; the librdkafka mock broker creates every topic asked for): on one that
# does not, it says so and exits 77 (ctest: skipped).
source "$(dirname "$0")/common.sh"
it_setup
DLQ=tthc.dlq.late # not created by the broker
PARTS=12          # broker_start's default partition count
topic_exists() { kcat -b "$TTHC_KAFKA_BROKERS" -L -m 10 2>/dev/null | grep -qF "topic \"$1\" "; }
kcat -b "$TTHC_KAFKA_BROKERS" -X allow.auto.create.topics=false -L -t tthc.autocreate.probe -m 10 >/dev/null 2>&1 || true
if topic_exists tthc.autocreate.probe; then
    echo "it_ingest_dlq_blocked: SKIPPED: this broker creates every topic a client asks for (the dev mock broker); a missing DLQ needs real Kafka" >&2
    exit 77
fi
# create_topic NAME PARTITIONS: lib.sh's way for the broker if it has one,
# else a client allowed to auto-create asks for it.
create_topic() {
    if declare -F broker_create_topic >/dev/null; then
        broker_create_topic "$IT_DIR" "$1" "$2"
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
TTHC_KAFKA_ALLOW_AUTO_CREATE_TOPICS=false it_ingest_start a --dlq-topic "$DLQ" --batch-max 500 --batch-ms 100 \
    --dlq-flush-ms 5000
wait_until 30 port_of >/dev/null || it_fail "no metrics port logged"

applied_of() { it_sql "SELECT coalesce((SELECT next_offset FROM consumer_offset WHERE topic = '$TOPIC' AND partition = $1), 0)"; }
# Every partition without a reject is applied to its end; every one with a
# reject is held back short of its end and flagged.
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
wait_until 120 _held || it_fail "partitions without rejects were not all applied while the DLQ was missing (blocked: $blocked)"
while read -r p n d; do
    if ((d > 0)); then
        a=$(applied_of "$p")
        ((a < n)) || it_fail "partition $p has a reject but was applied to its end ($a of $n) without a DLQ"
    fi
done <"$IT_DIR/parts.txt"
m=$(scrape)
fails=$(sed -n 's/^tthc_ingest_dlq_failures_total \([0-9.e+]*\)$/\1/p' <<<"$m")
[[ -n $fails && $fails != 0 ]] || it_fail "tthc_ingest_dlq_failures_total is '$fails'"
curl -fsS -m 5 "http://127.0.0.1:$(port_of)/readyz" >/dev/null || it_fail "not ready while only the DLQ is missing"
grep -q 'event=dlq_blocked' "$IT_DIR/ingest-a.log" || it_fail "no dlq_blocked in the log"
if grep -Eq 'event=(database_unavailable|batch_failed)' "$IT_DIR/ingest-a.log"; then
    it_fail "a DLQ failure cost the database connection"
fi
retries_before=$(grep -c 'event=dlq_retry' "$IT_DIR/ingest-a.log" || true)

# The topic appears (a client allowed to create it asks for it).
create_topic "$DLQ" 3 || it_fail "could not create $DLQ"
it_wait_applied "$total" 180
_unblocked() {
    local m p
    m=$(scrape) || return 1
    for p in $blocked; do
        grep -q "^tthc_ingest_partition_dlq_blocked{topic=\"$TOPIC\",partition=\"$p\"} 0" <<<"$m" || return 1
    done
}
wait_until 30 _unblocked || it_fail "partitions still flagged as blocked after the DLQ came back"
it_ingest_stop a
it_dlq_dump "$IT_DIR/dlq.txt"
it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt"
echo "it_ingest_dlq_blocked: ok ($total messages; held back: $blocked; $fails DLQ failures, $retries_before retries before the topic existed)"
