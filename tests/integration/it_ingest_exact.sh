#!/usr/bin/env bash
# (a) A stream with duplicates, redeliveries, shuffled order, received-last
# dossiers, conflicting receipts and malformed messages of every kind ends with
# exactly the oracle's totals and DLQ messages.
source "$(dirname "$0")/common.sh"
it_setup
"${ORACLE[@]}" gen --seed exact-1 --dossiers 3000 --units 15 --malformed 60 --conflicts 40 \
    --pending-first 0.15 --dup-rate 0.08 --shuffle 200 \
    --out-events "$IT_DIR/events.tsv" --out-expected "$IT_DIR/expected.json"
total=$(wc -l <"$IT_DIR/events.tsv")
# The first half, then a restart-free second half with a redelivered chunk.
head -n $((total / 2)) "$IT_DIR/events.tsv" >"$IT_DIR/part1.tsv"
tail -n +$((total / 2 + 1)) "$IT_DIR/events.tsv" >"$IT_DIR/part2.tsv"
it_produce "$IT_DIR/part1.tsv"
it_ingest_start a --batch-max 2000 --batch-ms 100
it_wait_applied "$((total / 2))"
it_produce "$IT_DIR/part2.tsv"
it_wait_applied "$total"
it_ingest_stop a
it_dlq_dump "$IT_DIR/dlq.txt"
raw=$(wc -l <"$IT_DIR/dlq.txt.raw")
uniq=$(wc -l <"$IT_DIR/dlq.txt")
((raw == uniq)) || it_fail "DLQ holds $raw messages, $uniq distinct: repeats without any crash"
it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt"
# The personal ID numbers of the stream are never stored, logged or copied
# into DLQ headers.
grep -oE '"id_number": ?"[0-9]{12}"' "$IT_DIR/events.tsv" | grep -oE '[0-9]{12}' | sort -u >"$IT_DIR/ids.txt"
[[ -s $IT_DIR/ids.txt ]] || it_fail "the stream has no citizen ID numbers to look for"
psql -X -q "$TTHC_PG_DSN" -c "\\copy dossier TO '$IT_DIR/dossier.dump'"
for f in "$IT_DIR/dossier.dump" "$IT_DIR/ingest-a.log" "$IT_DIR/dlq.txt"; do
    if grep -qFf "$IT_DIR/ids.txt" "$f"; then it_fail "a personal ID number found in $f"; fi
done
echo "it_ingest_exact: ok ($total messages, $uniq DLQ)"
