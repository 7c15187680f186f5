#!/usr/bin/env bash
# Semantics 6 on a three-node Apache Kafka cluster: messages the service has
# not applied yet are deleted from the log (DeleteRecords moves the log start
# offset, as retention does when it deletes a segment).  tthc-ingest must say
# so (a messages_lost log line with the partition and the offset range, a
# counter per partition, consumer_gap rows that tthc-lag shows) and, by
# default, go on from the earliest message still in the log; with --on-gap
# stop, the partition waits (readyz 503, nothing moved) while the others go on,
# until it is restarted with --on-gap continue.  Totals end equal to the
# oracle's over exactly the messages that were not lost.
source "$(dirname "$0")/common.sh"
[[ ${TTHC_BROKER:-kafka} == kafka ]] || { echo "it_kafka_gap: needs Apache Kafka (DeleteRecords); skipped with TTHC_BROKER=mock"; exit 0; }
IT_BROKER_ARGS="--nodes 3" it_setup
"${ORACLE[@]}" gen --seed gap-1 --dossiers 2400 --units 10 --malformed 20 --conflicts 10 \
    --out-events "$IT_DIR/events.tsv" --out-expected "$IT_DIR/unused.json" >/dev/null
total=$(wc -l <"$IT_DIR/events.tsv")
split -n l/3 -d "$IT_DIR/events.tsv" "$IT_DIR/part."

port() { it_metrics_port "$1"; }
scrape() { curl -fsS -m 5 "http://127.0.0.1:$(port "$1")/metrics"; }
log_end_total() { it_log_end_offsets "$TOPIC" | awk '{ s += $2 } END { print s + 0 }'; }
stored() { it_sql "SELECT next_offset FROM consumer_offset WHERE topic = '$TOPIC' AND partition = $1"; }

# delete_half_of_new PARTITIONS: for each partition, delete the log up to the
# middle of the messages produced since the stored offset (they are not
# applied: ingest is stopped).  Writes "P FROM TO" lines (the lost range).
delete_half_of_new() {
    local p from end to json='' out=$IT_DIR/deleted.$RANDOM
    : >"$out"
    for p in "$@"; do
        from=$(stored "$p")
        end=$(it_log_end_offsets "$TOPIC" | awk -v p="$p" '$1 == p { print $2 }')
        ((end - from >= 2)) || it_fail "partition $p has only $((end - from)) new messages"
        to=$((from + (end - from) / 2)) # first offset kept
        json+=${json:+,}"{\"topic\":\"$TOPIC\",\"partition\":$p,\"offset\":$to}"
        echo "$p $from $((to - 1))" >>"$out"
    done
    echo "{\"version\":1,\"partitions\":[$json]}" >"$IT_DIR/delete.json"
    kafka_tool delete-records --bootstrap-server "$TTHC_KAFKA_BROKERS" \
        --offset-json-file "$IT_DIR/delete.json" >>"$IT_DIR/kafka-tools.log" 2>&1 || it_fail "kafka-delete-records failed"
    echo "$out"
}

# The messages produced after the stored offsets that are still in the log,
# as KEY<TAB>JSON (for the oracle), partition by partition in log order.
surviving_since_stored() {
    local p from
    while read -r p _; do
        from=$(stored "$p")
        timeout 60 kcat -C -b "$TTHC_KAFKA_BROKERS" -t "$TOPIC" -p "$p" -o beginning -e -q -f '%o\t%k\t%s\n' |
            awk -F'\t' -v lo="$from" '$1 >= lo' | cut -f2-
    done < <(it_log_end_offsets "$TOPIC")
}

# 1. The first third, applied by a running consumer.
it_produce "$IT_DIR/part.00"
it_ingest_start a --batch-max 2000 --batch-ms 100 --metrics-listen 127.0.0.1:0
it_wait_applied "$(wc -l <"$IT_DIR/part.00")" 180
it_ingest_stop a
cp "$IT_DIR/part.00" "$IT_DIR/applied-stream.tsv"

# 2. While it is stopped: the second third arrives, and half of what is new in
#    partitions 0-3 is deleted before it is applied.
it_produce "$IT_DIR/part.01"
lost1=$(delete_half_of_new 0 1 2 3)
surviving_since_stored >>"$IT_DIR/applied-stream.tsv"
it_ingest_start b --batch-max 2000 --batch-ms 100 --metrics-listen 127.0.0.1:0
wait_until 30 port b >/dev/null || it_fail "no metrics port logged"
_caught_up() { [[ $(it_applied) == "$(log_end_total)" ]]; }
wait_until 180 _caught_up || it_fail "ingest did not go on after the gap: applied $(it_applied) of $(log_end_total)"
while read -r p from to; do
    grep -q "event=messages_lost partition=$p reason=deleted from_offset=$from to_offset=$to lost=$((to - from + 1)) .*action=continue" \
        "$IT_DIR/ingest-b.log" || it_fail "no messages_lost line for partition $p, offsets $from-$to (see ingest-b.log)"
    v=$(scrape b | awk -v p="partition=\"$p\"" 'index($0, "tthc_ingest_messages_lost_total{") == 1 && index($0, p) { print $NF }')
    [[ $v == $((to - from + 1)) ]] || it_fail "tthc_ingest_messages_lost_total for partition $p is '$v', not $((to - from + 1))"
    [[ $(it_sql "SELECT lost FROM consumer_gap WHERE partition = $p AND from_offset = $from AND to_offset = $to AND action = 'continue'") == $((to - from + 1)) ]] ||
        it_fail "no consumer_gap row for partition $p, $from-$to"
done <"$lost1"
[[ $(it_sql "SELECT count(*) FROM consumer_gap") == 4 ]] || it_fail "consumer_gap: $(it_sql "SELECT count(*) FROM consumer_gap") rows, not 4"
"$TTHC_BIN_DIR/tthc-lag" --group tthc-ingest --dsn "$TTHC_PG_DSN" --samples 2 --interval-ms 200 --json >"$IT_DIR/lag.json" 2>>"$IT_DIR/lag.log" || true
python3 - "$IT_DIR/lag.json" "$lost1" <<'PY' || it_fail "tthc-lag does not show the lost messages (see lag.json)"
import json, sys
rows = {p["partition"]: p for p in json.load(open(sys.argv[1]))["partitions"]}
want = {int(l.split()[0]): int(l.split()[2]) - int(l.split()[1]) + 1 for l in open(sys.argv[2])}
bad = [(p, rows[p]["lost"]) for p in rows if rows[p]["lost"] != want.get(p, 0)]
if bad:
    print("partition, lost shown:", bad, "wanted:", want, file=sys.stderr)
    sys.exit(1)
PY
it_ingest_stop b
echo "ok: continue mode ($(awk '{ s += $3 - $2 + 1 } END { print s }' "$lost1") messages lost in 4 partitions, said and counted)"

# 3. --on-gap stop: the last third, half of what is new in partitions 4-5
#    deleted; those two partitions wait, the other ten go on.
it_produce "$IT_DIR/part.02"
lost2=$(delete_half_of_new 4 5)
surviving_since_stored >>"$IT_DIR/applied-stream.tsv"
s4=$(stored 4)
s5=$(stored 5)
it_ingest_start c --batch-max 2000 --batch-ms 100 --metrics-listen 127.0.0.1:0 --on-gap stop
wait_until 30 port c >/dev/null || it_fail "no metrics port logged"
_stopped_two() { [[ $(scrape c | awk '$1 == "tthc_ingest_partitions_stopped_on_gap" { print $2 }') == 2 ]]; }
wait_until 120 _stopped_two || it_fail "partitions 4 and 5 did not stop on their gaps"
_others_done() {
    local p e
    while read -r p e; do
        [[ $p == 4 || $p == 5 ]] && continue
        [[ $(stored "$p") == "$e" ]] || return 1
    done < <(it_log_end_offsets "$TOPIC")
}
wait_until 180 _others_done || it_fail "the other partitions did not go on while 4 and 5 were stopped"
[[ $(stored 4) == "$s4" && $(stored 5) == "$s5" ]] || it_fail "a stopped partition moved"
code=$(curl -s -o "$IT_DIR/readyz.json" -w '%{http_code}' "http://127.0.0.1:$(port c)/readyz")
[[ $code == 503 ]] && grep -q partition_stopped_on_gap "$IT_DIR/readyz.json" ||
    it_fail "/readyz answered $code $(cat "$IT_DIR/readyz.json") with two partitions stopped"
grep -q 'event=partition_stopped partition=4 ' "$IT_DIR/ingest-c.log" || it_fail "no partition_stopped line for partition 4"
"$TTHC_BIN_DIR/tthc-lag" --group tthc-ingest --dsn "$TTHC_PG_DSN" --samples 2 --interval-ms 200 >"$IT_DIR/lag.txt" 2>>"$IT_DIR/lag.log" || true
grep -Eq "^$TOPIC +4 .*\(GAP\)" "$IT_DIR/lag.txt" || it_fail "tthc-lag does not show partition 4 stopped on a gap: $(cat "$IT_DIR/lag.txt")"
it_ingest_stop c
echo "ok: stop mode (partitions 4 and 5 waited, readyz 503, the others went on)"

# 4. The operator chooses to go on: the stopped partitions resume from the log start.
it_ingest_start d --batch-max 2000 --batch-ms 100 --metrics-listen 127.0.0.1:0
wait_until 180 _caught_up || it_fail "after --on-gap continue: applied $(it_applied) of $(log_end_total)"
while read -r p from to; do
    grep -q "event=messages_lost partition=$p reason=deleted from_offset=$from to_offset=$to .*action=continue" \
        "$IT_DIR/ingest-d.log" || it_fail "no messages_lost (continue) line for partition $p after the restart"
done <"$lost2"
it_ingest_stop d

# 5. Totals: the oracle over exactly the messages that were not lost.
"${ORACLE[@]}" expect --events "$IT_DIR/applied-stream.tsv" --out-expected "$IT_DIR/expected.json" >/dev/null
it_dlq_dump "$IT_DIR/dlq.txt"
it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt"
echo "it_kafka_gap: ok ($total produced, $(wc -l <"$IT_DIR/applied-stream.tsv") not lost)"
