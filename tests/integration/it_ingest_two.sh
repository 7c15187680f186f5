#!/usr/bin/env bash
# (d) Two ingest instances share the partitions; one is stopped mid-stream and
# the other takes its partitions over: the totals are exact.  a applies with
# two connections (the default: transactions overlap), b with one.
source "$(dirname "$0")/common.sh"
it_setup
"${ORACLE[@]}" gen --seed two-1 --dossiers 8000 --units 20 --malformed 30 --conflicts 20 \
    --pending-first 0.1 --dup-rate 0.05 --shuffle 300 \
    --out-events "$IT_DIR/events.tsv" --out-expected "$IT_DIR/expected.json"
total=$(wc -l <"$IT_DIR/events.tsv")
split -n l/3 -d "$IT_DIR/events.tsv" "$IT_DIR/chunk."
it_ingest_start a --batch-max 300 --batch-ms 50 --apply-connections 2
it_ingest_start b --batch-max 300 --batch-ms 50 --apply-connections 1
# Both members own partitions (the group settled on two members).
_both() { grep -q 'partitions_assigned count=6' "$IT_DIR/ingest-a.log" && grep -q 'partitions_assigned count=6' "$IT_DIR/ingest-b.log"; }
wait_until 60 _both || it_fail "the two instances did not share the partitions"
it_produce "$IT_DIR/chunk.00"
_some() { (($(it_applied) > 0)); }
wait_until 60 _some || it_fail "nothing applied"
it_produce "$IT_DIR/chunk.01" &
producer=$!
it_ingest_stop b
wait "$producer"
echo "instance b stopped at $(it_applied) of $total applied"
_took_over() { grep -q 'partitions_assigned count=12' "$IT_DIR/ingest-a.log"; }
wait_until 60 _took_over || it_fail "instance a did not take the partitions over"
it_produce "$IT_DIR/chunk.02"
it_wait_applied "$total" 180
it_ingest_stop a
it_dlq_dump "$IT_DIR/dlq.txt"
it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt"
grep -q 'event=started .*apply_connections=2' "$IT_DIR/ingest-a.log" || it_fail "a did not apply with two connections"
grep -q 'event=started .*apply_connections=1' "$IT_DIR/ingest-b.log" || it_fail "b did not apply with one connection"
echo "it_ingest_two: ok ($total messages)"
