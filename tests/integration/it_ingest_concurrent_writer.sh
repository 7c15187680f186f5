#!/usr/bin/env bash
# No lost update: a dossier row changed by another transaction while tthc-ingest
# applies an event to it keeps both changes.  That other writer is, in
# production, a second instance applying the same dossier from another
# partition (a producer that broke the key-to-partition rule); here it is a
# psql session that holds the row, lets tthc-ingest reach it, then changes a
# column the event does not touch and commits.  A read-modify-write that did
# not account for that commit would write the stale column back.
source "$(dirname "$0")/common.sh"
it_setup
D=CW-0001
received='{"event_id":"cw-1","event_type":"dossier.received","occurred_at":"2025-03-01T08:00:00+07:00","dossier_id":"'$D'","source":"tthc-sim","unit_code":"H61.01","procedure_code":"1.010099.000.00.00.H61","channel":"online","received_at":"2025-03-01T08:00:00+07:00","due_at":"2025-03-11T08:00:00+07:00","applicant_type":"citizen"}'
paid='{"event_id":"cw-2","event_type":"dossier.paid","occurred_at":"2025-03-02T09:00:00+07:00","dossier_id":"'$D'","source":"motcua.vinhlong","payment_id":"PAY-CW-1","method":"online","amount_vnd":15000}'
printf '%s\t%s\n' "$D" "$received" >"$IT_DIR/e1.tsv"
printf '%s\t%s\n' "$D" "$paid" >"$IT_DIR/e2.tsv"

it_produce "$IT_DIR/e1.tsv"
it_ingest_start a --batch-ms 50
it_wait_applied 1
[[ $(it_sql "SELECT procedure_code FROM dossier WHERE dossier_id = '$D'") == 1.010099.000.00.00.H61 ]] ||
    it_fail "the receipt was not applied"

# The other writer: a psql session fed through a FIFO, holding the row.
mkfifo "$IT_DIR/holder.in"
PGAPPNAME=cw-holder psql -X -q -v ON_ERROR_STOP=1 "$TTHC_PG_DSN" <"$IT_DIR/holder.in" >"$IT_DIR/holder.log" 2>&1 &
holder=$!
exec 3>"$IT_DIR/holder.in"
echo "BEGIN; SELECT 1 FROM dossier WHERE dossier_id = '$D' FOR UPDATE;" >&3
_holding() { [[ $(it_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cw-holder' AND state = 'idle in transaction'") == 1 ]]; }
wait_until 30 _holding || it_fail "the psql session did not take the row: $(cat "$IT_DIR/holder.log")"

# tthc-ingest applies the payment and reaches the held row.
it_produce "$IT_DIR/e2.tsv"
_ingest_waits() { [[ $(it_sql "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name <> 'cw-holder'") -ge 1 ]]; }
wait_until 60 _ingest_waits || it_fail "tthc-ingest never waited for the held dossier row"

# The other writer changes a column the payment does not touch, and commits.
echo "UPDATE dossier SET procedure_code = 'cw.changed.meanwhile' WHERE dossier_id = '$D'; COMMIT;" >&3
exec 3>&-
wait "$holder" || it_fail "the psql session failed: $(cat "$IT_DIR/holder.log")"

it_wait_applied 2
row=$(it_sql "SELECT procedure_code || ' ' || array_to_string(payment_ids, ',') FROM dossier WHERE dossier_id = '$D'")
[[ $row == "cw.changed.meanwhile PAY-CW-1" ]] ||
    it_fail "dossier $D is '$row', want 'cw.changed.meanwhile PAY-CW-1' (both changes)"
[[ $(it_sql "SELECT count(*) FROM applied_event WHERE event_id IN ('cw-1', 'cw-2')") == 2 ]] ||
    it_fail "applied_event does not hold both events"
it_ingest_stop a
echo "it_ingest_concurrent_writer: ok"
