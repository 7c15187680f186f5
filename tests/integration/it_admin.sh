#!/usr/bin/env bash
# tthc-admin end to end, with tthc-ingest, tthc-sync and the stub running:
#  - drill: the dossiers behind a numerator (a unit and the province roll-up)
#    add up to indicator_totals; no personal data; --dry-run counts only;
#  - recompute: a corrupted bucket found (dry run: exit 1, nothing changed),
#    then rewritten from the facts: the totals equal the reference oracle's;
#  - replay: dossiers deleted behind the service's back come back from the
#    topic (dry run first), the totals equal the oracle's again;
#  - repush: the month's reports sent to the portal again at new revisions;
#  - reload-token: a token rotation without a restart (the stub accepts a
#    second token, tthc-sync re-reads its file on SIGHUP; afterwards the
#    old token is refused and reports still go through).
source "$(dirname "$0")/common.sh"
it_setup
ADMIN=("$TTHC_BIN_DIR/tthc-admin" --dsn "$TTHC_PG_DSN")

"${ORACLE[@]}" gen --seed admin --dossiers 1500 --units 6 --months 2025-03..2025-05 --malformed 5 --conflicts 3 \
    --out-events "$IT_DIR/events.tsv" --out-expected "$IT_DIR/expected.json" >/dev/null
it_produce "$IT_DIR/events.tsv"
it_ingest_start a --metrics-listen ''
it_wait_applied "$(wc -l <"$IT_DIR/events.tsv")"
it_dlq_dump "$IT_DIR/dlq.txt"
it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt" >/dev/null || it_fail "totals wrong before any admin task"

# The stub and tthc-sync, with token files (for the rotation at the end).
TOKEN_A=admin-token-a-7f3e
TOKEN_B=admin-token-b-91c2
printf '%s\n' "$TOKEN_A" >"$IT_DIR/stub-token"
: >"$IT_DIR/stub-next-token"
printf '%s\n' "$TOKEN_A" >"$IT_DIR/sync-token"
SPORT=$(_pg_free_port)
PORTAL=http://127.0.0.1:$SPORT
"$TTHC_BIN_DIR/tthc-portal-stub" --listen "127.0.0.1:$SPORT" --dsn "$TTHC_PG_DSN" --token-file "$IT_DIR/stub-token" \
    --next-token-file "$IT_DIR/stub-next-token" </dev/null >>"$IT_DIR/stub.log" 2>&1 &
STUB=$!
echo "$STUB" >"$IT_DIR/tthc-portal-stub.pid"
wait_until 30 curl -fsS -m 2 -o /dev/null "$PORTAL/healthz" || it_fail "stub not up"
"$TTHC_BIN_DIR/tthc-sync" --portal-url "$PORTAL" --token-file "$IT_DIR/sync-token" --metrics-listen '' \
    --backoff-cap-ms 500 --auth-pause-ms 1000 </dev/null >>"$IT_DIR/sync.log" 2>&1 &
SYNC=$!
echo "$SYNC" >"$IT_DIR/tthc-sync.pid"
in_sync() {
    [[ $(it_sql "SELECT count(*) FROM period_totals t LEFT JOIN sync_state s USING (unit_code, period)
                 WHERE t.revision > 0 AND (s.sent_revision IS NULL OR s.sent_revision <> t.revision)") == 0 ]]
}
wait_until 120 in_sync || it_fail "sync did not push everything"

P=$(it_sql "SELECT period FROM dossier WHERE received GROUP BY period ORDER BY count(*) DESC, period LIMIT 1")
U=$(it_sql "SELECT unit_code FROM period_totals WHERE period = '$P' AND unit_code LIKE '%.%' ORDER BY received DESC LIMIT 1")
PROV=${U%%.*}
echo "month $P, unit $U, province $PROV"
nd() { it_sql "SELECT numerator FROM indicator_totals WHERE unit_code = '$1' AND period = '$P' AND indicator = '$2'"; }

# ---- drill ---------------------------------------------------------------------
out=$("${ADMIN[@]}" drill --unit "$U" --period "$P" --indicator on_time) || it_fail "drill exit $?: $out"
num=$(nd "$U" on_time)
((num > 0)) || it_fail "no on_time numerator to drill into"
rows=$(grep -cE '^[^ ]+ +'"${U//./\\.}"' ' <<<"$out" || true)
[[ $rows == "$num" ]] || it_fail "drill listed $rows dossiers, the numerator is $num: $out"
grep -q "on_time of numerator: $num dossier(s), weight $num; indicator_totals says $num: they agree" <<<"$out" ||
    it_fail "drill footer: $(tail -n1 <<<"$out")"
if head -n1 <<<"$out" | grep -Eiq 'applicant|id_number|citizen|name'; then it_fail "drill shows personal fields"; fi
out=$("${ADMIN[@]}" drill --unit "$PROV" --period "$P" --indicator online_payment) || it_fail "drill province: $out"
grep -q 'they agree' <<<"$out" || it_fail "drill of the roll-up $PROV does not agree: $(tail -n1 <<<"$out")"
out=$("${ADMIN[@]}" drill --unit "$U" --period "$P" --indicator on_time --denominator --dry-run) || it_fail "drill dry run"
grep -q 'dry run: counted only' <<<"$out" && ! grep -q '^DOSSIER' <<<"$out" || it_fail "drill --dry-run listed: $out"
den=$(it_sql "SELECT denominator FROM indicator_totals WHERE unit_code = '$U' AND period = '$P' AND indicator = 'on_time'")
grep -q "denominator: $den dossier(s)" <<<"$out" || it_fail "drill denominator count: $out"
set +e
"${ADMIN[@]}" drill --unit "$U" --period "$P" --indicator nope >/dev/null 2>"$IT_DIR/err.txt"
rc=$?
set -e
((rc == 2)) || it_fail "drill with an unknown indicator: exit $rc"
echo "ok: drill"

# ---- recompute -------------------------------------------------------------------
it_sql "UPDATE period_totals SET online = online + 3, received = received + 3 WHERE unit_code = '$U' AND period = '$P'"
rev=$(it_sql "SELECT revision FROM period_totals WHERE unit_code = '$U' AND period = '$P'")
set +e
out=$("${ADMIN[@]}" recompute --period "$P" --dry-run)
rc=$?
set -e
((rc == 1)) || it_fail "recompute --dry-run on a corrupted month: exit $rc: $out"
grep -q "^$P: 1 bucket(s) differ" <<<"$out" || it_fail "recompute dry run: $out"
grep -Eq '^ +online_submission +stored [0-9]+/[0-9]+ +facts [0-9]+/[0-9]+$' <<<"$out" || it_fail "no indicator line: $out"
[[ $(it_sql "SELECT revision FROM period_totals WHERE unit_code = '$U' AND period = '$P'") == "$rev" ]] ||
    it_fail "the dry run changed the bucket"
out=$("${ADMIN[@]}" recompute --period "$P") || it_fail "recompute: exit $?: $out"
grep -q 'rewritten 1, zeroed 0' <<<"$out" || it_fail "recompute: $out"
it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt" >/dev/null || it_fail "totals wrong after recompute"
out=$("${ADMIN[@]}" recompute --period "$P" --dry-run) || it_fail "recompute dry run on a correct month: $out"
grep -q "^$P: 0 bucket(s) differ" <<<"$out" || it_fail "$out"
wait_until 60 in_sync || it_fail "the recomputed bucket was not pushed"
echo "ok: recompute"

# ---- replay ----------------------------------------------------------------------
before=$(it_sql "SELECT count(*) FROM dossier WHERE period = '$P'")
out=$("${ADMIN[@]}" replay --period "$P" --dry-run --brokers "$TTHC_KAFKA_BROKERS") || it_fail "replay dry run: $out"
grep -q "dry run: would delete the $before dossier(s) of $P" <<<"$out" || it_fail "replay dry run: $out"
[[ $(it_sql "SELECT count(*) FROM dossier WHERE period = '$P'") == "$before" ]] || it_fail "the dry run deleted"
# Facts lost behind the service's back: a third of the month's dossiers, and a bucket.
it_sql "DELETE FROM dossier WHERE period = '$P' AND dossier_id IN
        (SELECT dossier_id FROM dossier WHERE period = '$P' ORDER BY dossier_id LIMIT $((before / 3)))" >/dev/null
it_sql "UPDATE period_totals SET issued = 0, on_time = 0, due_issued = 0 WHERE unit_code = '$U' AND period = '$P'"
if it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt" >/dev/null 2>&1; then it_fail "the damage went unnoticed"; fi
out=$("${ADMIN[@]}" replay --period "$P" --brokers "$TTHC_KAFKA_BROKERS") || it_fail "replay: exit $?: $out"
echo "$out"
grep -q "$P: [0-9]* dossier(s) before, $before after" <<<"$out" || it_fail "replay summary: $out"
it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt" >/dev/null || it_fail "totals wrong after replay"
[[ $(it_sql "SELECT count(*) FROM consumer_offset WHERE group_id = 'tthc-admin-replay'") == 0 ]] ||
    it_fail "the replay group's offsets were left behind"
wait_until 60 in_sync || it_fail "the replayed month was not pushed"
echo "ok: replay"

# ---- repush ------------------------------------------------------------------------
nb=$(it_sql "SELECT count(*) FROM period_totals WHERE period = '$P' AND revision > 0")
revs=$(it_sql "SELECT string_agg(revision::text, ',' ORDER BY unit_code) FROM period_totals WHERE period = '$P'")
out=$("${ADMIN[@]}" repush --period "$P" --dry-run) || it_fail "repush dry run: $out"
grep -q "dry run: $nb report(s) of $P would be pushed again" <<<"$out" || it_fail "repush dry run: $out"
[[ $(it_sql "SELECT string_agg(revision::text, ',' ORDER BY unit_code) FROM period_totals WHERE period = '$P'") == "$revs" ]] ||
    it_fail "the repush dry run changed revisions"
posts() { curl -fsS "$PORTAL/metrics" | awk '/^tthc_portal_requests_total\{.*method="POST".*status="200"/ { s += $NF } END { print s + 0 }'; }
p0=$(posts)
out=$("${ADMIN[@]}" repush --period "$P") || it_fail "repush: $out"
grep -q "^$nb report(s) of $P queued" <<<"$out" || it_fail "repush: $out"
wait_until 60 in_sync || it_fail "the repushed month did not reach the portal"
p1=$(posts)
((p1 - p0 >= nb)) || it_fail "repush: $((p1 - p0)) POSTs accepted for $nb reports"
[[ $(it_sql "SELECT count(*) FROM portal.report_latest l JOIN period_totals t USING (unit_code, period)
             WHERE t.period = '$P' AND l.revision = t.revision") == "$nb" ]] || it_fail "portal revisions differ"
echo "ok: repush"

# ---- reload-token: rotation A -> B without a restart -----------------------------------
get() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "$PORTAL/api/v1/indicator-reports?period=$P"; }
[[ $(get "$TOKEN_B") == 401 ]] || it_fail "B accepted before the rotation"
printf '%s\n' "$TOKEN_B" >"$IT_DIR/stub-next-token"
"${ADMIN[@]}" reload-token --pid "$STUB" --next-token-file "$IT_DIR/stub-next-token" || it_fail "reload-token stub"
_stub_takes_b() { [[ $(get "$TOKEN_B") == 200 && $(get "$TOKEN_A") == 200 ]]; }
wait_until 10 _stub_takes_b || it_fail "the stub does not accept A and B during the rotation"
printf '%s\n' "$TOKEN_B" >"$IT_DIR/sync-token"
out=$("${ADMIN[@]}" reload-token --pid "$SYNC" --token-file "$IT_DIR/sync-token" --dry-run) || it_fail "dry run: $out"
grep -q 'dry run: would send SIGHUP to tthc-sync' <<<"$out" || it_fail "reload-token dry run: $out"
if grep -q 'event=token_reloaded' "$IT_DIR/sync.log"; then it_fail "the dry run signalled tthc-sync"; fi
"${ADMIN[@]}" reload-token --pid "$SYNC" --token-file "$IT_DIR/sync-token" >/dev/null || it_fail "reload-token sync"
wait_until 10 grep -q 'event=token_reloaded' "$IT_DIR/sync.log" || it_fail "tthc-sync did not reload its token"
# The portal drops A.
printf '%s\n' "$TOKEN_B" >"$IT_DIR/stub-token"
: >"$IT_DIR/stub-next-token"
"${ADMIN[@]}" reload-token --pid "$STUB" >/dev/null || it_fail "reload-token stub (drop A)"
_a_refused() { [[ $(get "$TOKEN_A") == 401 && $(get "$TOKEN_B") == 200 ]]; }
wait_until 10 _a_refused || it_fail "A still accepted after the rotation"
out=$("${ADMIN[@]}" repush --period "$P" --unit "$U") || it_fail "repush one unit: $out"
wait_until 60 in_sync || it_fail "after the rotation, tthc-sync's reports do not go through"
if grep -q 'event=portal_unauthorized' "$IT_DIR/sync.log"; then it_fail "tthc-sync met a 401 during the rotation"; fi
set +e
"${ADMIN[@]}" reload-token --pid $$ >/dev/null 2>&1
rc=$?
set -e
((rc == 2)) || it_fail "reload-token to a pid that is no tthc daemon: exit $rc"
pid_alive "$SYNC" && pid_alive "$STUB" || it_fail "a daemon died from SIGHUP"
echo "ok: reload-token"

stop_pid "$IT_DIR/tthc-sync.pid" tthc-sync
stop_pid "$IT_DIR/tthc-portal-stub.pid" tthc-portal-stub
it_ingest_stop a
sanitizer_check "$IT_DIR"/*.log || it_fail "sanitizer report"
echo "it_admin: ok"
