#!/usr/bin/env bash
# Values that pass validation but that PostgreSQL refuses (issue 10, item 1)
# are bad messages, not an outage: each is found by bisecting its batch,
# dead-lettered as rejected_by_store with its original bytes, and everything
# else, on every partition, is applied with exact totals.
#
# Two kinds of refusal: receipts dated year 0 (SQLSTATE 22008: no year 0 in
# PostgreSQL; if the validator rejects them, the oracle says so and they are
# expected as invalid_value instead), and receipts that break a CHECK
# constraint this test adds to the database (SQLSTATE 23514), a stand-in for
# any rule of the store that validation does not know.
source "$(dirname "$0")/common.sh"
it_setup
MARK=it-store-refuses
"${ORACLE[@]}" gen --seed store-reject-1 --dossiers 1500 --units 12 --malformed 30 --conflicts 20 \
    --pending-first 0.15 --dup-rate 0.05 --shuffle 150 \
    --out-events "$IT_DIR/clean.tsv" --out-expected "$IT_DIR/clean.json"
# Poison: receipts of their own dossiers (with a fact each, which then waits
# for a receipt that never counts), mixed in at seeded random places.
python3 - "$IT_DIR/clean.tsv" "$IT_DIR/events.tsv" "$MARK" <<'PY'
import json, random, sys
src, out, mark = sys.argv[1:4]
lines = open(src, "rb").read().splitlines()
rng = random.Random(10)
poison = []
at = ["0000-01-01T00:00:00Z", "0001-01-01T03:00:00+07:00", "2025-03-03T08:00:00+07:00"]
for k in range(24):
    did = "POISON-%02d" % k
    rec = {"event_id": "poison-r-%d" % k, "event_type": "dossier.received", "occurred_at": "2025-03-03T08:00:00+07:00",
           "dossier_id": did, "source": mark, "unit_code": "H61.%02d" % (k % 5 + 1), "channel": "online",
           "procedure_code": "STORE.REFUSES" if k % 3 == 2 else "P.%d" % k, "received_at": at[k % 3]}
    fact = {"event_id": "poison-f-%d" % k, "event_type": "dossier.digitized", "occurred_at": "2025-03-03T09:00:00+07:00",
            "dossier_id": did, "scope": "components"}
    for ev in (rec, fact):
        poison.append(did.encode() + b"\t" + json.dumps(ev, separators=(",", ":")).encode())
for p in poison:
    lines.insert(rng.randrange(len(lines) + 1), p)
open(out, "wb").write(b"\n".join(lines) + b"\n")
PY
"${ORACLE[@]}" expect --events "$IT_DIR/events.tsv" --out-expected "$IT_DIR/expected.json" --store-refuses "$MARK"
total=$(wc -l <"$IT_DIR/events.tsv")
it_sql "ALTER TABLE dossier ADD CONSTRAINT it_store_refuses CHECK (procedure_code IS DISTINCT FROM 'STORE.REFUSES')"
it_produce "$IT_DIR/events.tsv"
it_ingest_start a --batch-max 700 --batch-ms 100
it_wait_applied "$total" 180
# Pending facts of never-received dossiers (the poison ones among them) in /metrics.
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dossiers"]["never_received"])' "$IT_DIR/expected.json")
port=$(sed -n 's/.*event=metrics_listening .* port=\([0-9]*\).*/\1/p' "$IT_DIR/ingest-a.log" | tail -n1)
_pending_shown() {
    local m
    m=$(curl -fsS -m 5 "http://127.0.0.1:$port/metrics") || return 1
    grep -qx "tthc_ingest_pending_dossiers $want" <<<"$m" &&
        grep -Eq '^tthc_ingest_pending_oldest_seconds [0-9.e+-]+$' <<<"$m" &&
        ! grep -qx 'tthc_ingest_pending_oldest_seconds 0' <<<"$m"
}
wait_until 30 _pending_shown || it_fail "tthc_ingest_pending_dossiers is not $want: $(curl -fsS -m 5 "http://127.0.0.1:$port/metrics" | grep pending)"
it_ingest_stop a
it_dlq_dump "$IT_DIR/dlq.txt"
it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt"
log=$IT_DIR/ingest-a.log
grep -q 'event=rejected_by_store' "$log" || it_fail "no rejected_by_store in the log"
if grep -Eq 'event=(database_unavailable|batch_failed)' "$log"; then
    it_fail "a refused value was treated as a database failure: $(grep -E 'event=(database_unavailable|batch_failed)' "$log" | head -n 3)"
fi
# The dead letters carry the original bytes and say why.
kcat -C -b "$TTHC_KAFKA_BROKERS" -t "$DLQ" -e -q -f '%h\t%s\n' >"$IT_DIR/dlq-full.txt" 2>/dev/null
python3 - "$IT_DIR/events.tsv" "$IT_DIR/dlq-full.txt" "$MARK" <<'PY' || it_fail "DLQ copies of the refused messages are wrong"
import sys
events, dlq, mark = sys.argv[1:4]
values = {l.split(b"\t", 1)[1] for l in open(events, "rb").read().splitlines() if mark.encode() in l}
seen = 0
for line in open(dlq, "rb").read().splitlines():
    headers, _, value = line.partition(b"\t")
    if b"tthc.dlq.reason=rejected_by_store" not in headers:
        continue
    seen += 1
    if value not in values:
        sys.exit("a rejected_by_store message is not an original poison message: %r" % value[:200])
    if b"SQLSTATE 2" not in headers:
        sys.exit("no SQLSTATE in the detail: %r" % headers[:300])
if seen == 0:
    sys.exit("no rejected_by_store message in the DLQ")
print("%d rejected_by_store copies byte-identical" % seen)
PY
pending=$(it_sql "SELECT count(*) FROM dossier WHERE NOT received")
[[ $pending == "$want" ]] || it_fail "$pending dossiers wait for a receipt, the oracle says $want"
echo "it_ingest_store_reject: ok ($total messages, $(grep -c 'event=rejected_by_store' "$log") refused by the store)"
