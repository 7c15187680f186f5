#!/usr/bin/env bash
# (c) PostgreSQL restarted mid-stream, twice: the ingest service reconnects
# with backoff and the totals are exact.
source "$(dirname "$0")/common.sh"
it_setup
"${ORACLE[@]}" gen --seed pg-1 --dossiers 8000 --units 20 --malformed 30 --conflicts 20 \
    --pending-first 0.1 --dup-rate 0.05 --shuffle 300 \
    --out-events "$IT_DIR/events.tsv" --out-expected "$IT_DIR/expected.json"
total=$(wc -l <"$IT_DIR/events.tsv")
split -n l/3 -d "$IT_DIR/events.tsv" "$IT_DIR/chunk."
it_ingest_start a --batch-max 300 --batch-ms 50
it_produce "$IT_DIR/chunk.00"
for chunk in 01 02; do
    _some() { (($(it_applied 2>/dev/null || echo 0) > 0)); }
    wait_until 60 _some || it_fail "nothing applied"
    it_produce "$IT_DIR/chunk.$chunk" &
    producer=$!
    pg_restart "$IT_DIR" >/dev/null
    wait "$producer"
    echo "PostgreSQL restarted at $(it_applied) of $total applied"
done
it_wait_applied "$total" 180
grep -q 'event=database_unavailable' "$IT_DIR/ingest-a.log" || it_fail "the restarts were not noticed"
grep -q 'event=database_connected' "$IT_DIR/ingest-a.log" || it_fail "no reconnect logged"
it_ingest_stop a
it_dlq_dump "$IT_DIR/dlq.txt"
it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt"
echo "it_ingest_pg_restart: ok ($total messages)"
