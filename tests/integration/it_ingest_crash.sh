#!/usr/bin/env bash
# (b) tthc-ingest killed with SIGKILL at random moments and restarted, several
# times in one stream: the totals are exact, nothing lost or counted twice.
source "$(dirname "$0")/common.sh"
it_setup
"${ORACLE[@]}" gen --seed crash-1 --dossiers 8000 --units 20 --malformed 40 --conflicts 30 \
    --pending-first 0.1 --dup-rate 0.05 --shuffle 300 \
    --out-events "$IT_DIR/events.tsv" --out-expected "$IT_DIR/expected.json"
total=$(wc -l <"$IT_DIR/events.tsv")
it_produce "$IT_DIR/events.tsv"
RANDOM=4242
kills=4
for ((k = 1; k <= kills; k++)); do
    # Small batches: many transactions, so that a kill lands inside one.
    it_ingest_start run$k --batch-max 300 --batch-ms 50
    threshold=$((total * k / (kills + 1)))
    _reached() { (($(it_applied) >= threshold)); }
    wait_until 120 _reached || it_fail "run $k did not reach $threshold applied"
    sleep "0.0$((RANDOM % 10))" # the random moment of the kill, not a wait for a condition
    it_ingest_kill run$k
    echo "SIGKILL $k at $(it_applied) of $total applied"
done
it_ingest_start final --batch-max 300 --batch-ms 50
it_wait_applied "$total" 180
it_ingest_stop final
it_dlq_dump "$IT_DIR/dlq.txt"
it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt"
echo "it_ingest_crash: ok ($total messages, $kills SIGKILLs)"
