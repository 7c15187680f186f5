#!/usr/bin/env bash
# it_sync_reconcile: `tthc-sync reconcile --period` finds and repairs what
# went wrong on the portal's side.
#  - in sync: exit 0, no difference;
#  - a report deleted on the portal (its Idempotency-Key still remembered
#    there, so resending the same revision would only get "duplicate"), a
#    province roll-up deleted too, and a report whose counts were changed
#    there: each is listed, re-queued under a revision above both sides,
#    exit 1; the daemon pushes them, the portal equals period_totals again,
#    and reconcile says 0;
#  - a revision planted far ahead on the portal: the next change gets 409
#    stale_revision, and the daemon resolves it (re-read, raise, resend); if
#    the portal's copy has our very counters, it acknowledges and adopts the
#    portal's revision number;
#  - a report only on the portal is listed as "extra" (exit 1, nothing to do);
#  - errors (no --period, portal unreachable, wrong token) exit 2.
source "${TTHC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/services/sync/it_lib.sh"
sit_setup
sit_stub_start
sit_seed 2 8 2025-03 2025-04
sit_sync_start a
sit_wait_in_sync 30

set +e
out=$(sit_sync reconcile --period 2025-03)
rc=$?
set -e
((rc == 0)) || sit_fail "reconcile in sync: exit $rc: $out"
grep -q '^0 difference(s), 0 re-queued; 18 bucket(s) here, 18 report(s) on the portal for 2025-03$' <<<"$out" ||
    sit_fail "reconcile in sync: $out"
sit_ok "in sync: exit 0"

# Break the portal behind tthc-sync's back (the stub's own tables).
sit_sync_stop a
sit_sql "DELETE FROM portal.report_latest WHERE unit_code = 'H61.03' AND period = '2025-03'"
sit_sql "UPDATE portal.report_indicator i SET numerator = numerator - 1
         FROM portal.report_latest l
         WHERE l.unit_code = 'H62.05' AND l.period = '2025-03' AND i.unit_code = l.unit_code
           AND i.period = l.period AND i.revision = l.revision AND i.code = 'online_submission'"
sit_sql "DELETE FROM portal.report_latest WHERE unit_code = 'H61' AND period = '2025-03'"
# A bucket that changed in March but whose April twin is untouched stays as is.
set +e
out=$(sit_sync reconcile --period 2025-03)
rc=$?
set -e
echo "$out"
((rc == 1)) || sit_fail "reconcile with differences: exit $rc"
grep -Eq '^H61\.03 +2025-03 +missing +1 +- +requeued r2$' <<<"$out" || sit_fail "H61.03 missing not listed"
grep -Eq '^H62\.05 +2025-03 +counts +1 +1 +requeued r2$' <<<"$out" || sit_fail "H62.05 counts not listed"
grep -Eq '^H61 +2025-03 +missing +1 +- +requeued r2$' <<<"$out" || sit_fail "H61 (roll-up) missing not listed"
grep -q '^3 difference(s), 3 re-queued;' <<<"$out" || sit_fail "summary"
# Per indicator, what differs: the database's and the portal's numerator/denominator.
# block UNIT: the indented indicator lines under UNIT's line.
block() { awk -v u="$1" '$1 == u { f = 1; next } /^[^ ]/ { f = 0 } f' <<<"$out"; }
nd=$(sit_sql "SELECT numerator || ' ' || denominator FROM indicator_totals
              WHERE unit_code = 'H62.05' AND period = '2025-03' AND indicator = 'online_submission'")
read -r num den <<<"$nd"
((num > 0)) || sit_fail "H62.05 has no online submission to change"
grep -Eq "^ +online_submission +database $num/$den +portal $((num - 1))/$den\$" <<<"$(block H62.05)" ||
    sit_fail "H62.05: online_submission $num/$den against $((num - 1))/$den not shown: $(block H62.05)"
[[ $(block H62.05 | wc -l) == 1 ]] || sit_fail "H62.05: indicators that do not differ are listed: $(block H62.05)"
[[ $(block H61.03 | grep -Ec '^ +[a-z_]+ +database [0-9]+/[0-9]+ +portal -$') == 10 ]] ||
    sit_fail "H61.03 (missing on the portal): not every indicator as database N/D, portal -: $(block H61.03)"
if grep -Eq '^[^ ].* r[0-9]+ +r[0-9]+' <<<"$out"; then sit_fail "revisions shown as the difference"; fi
[[ $(sit_sql "SELECT count(*) FROM period_totals WHERE period = '2025-04' AND revision <> 1") == 0 ]] ||
    sit_fail "reconcile of March touched April"
sit_ok "deleted, changed and roll-up reports found and re-queued (exit 1)"

sit_sync_start a
sit_wait_in_sync 30
sit_history_ok
set +e
out=$(sit_sync reconcile --period 2025-03)
rc=$?
set -e
((rc == 0)) || sit_fail "after repair: exit $rc: $out"
sit_ok "the daemon pushed the repairs; reconcile now exits 0"

# A revision far ahead on the portal (another sender?): our next change is
# stale, tthc-sync resolves it by itself (409 -> re-read -> raise).
body=$(jq -cn '{unit_code: "H61.04", period: "2025-04", revision: 50, generated_at: "2025-05-01T00:00:00+07:00",
                indicators: (["online_submission", "digitized_dossier", "digitized_result", "e_result", "id_tagged",
                              "data_reused", "online_payment", "portal_synced", "on_time", "satisfaction"]
                             | map({code: ., numerator: 0, denominator: 1}))}')
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SIT_TOKEN" -H 'Content-Type: application/json' \
    -H 'Idempotency-Key: someone-else-1' --data-binary "$body" "$SIT_PORTAL$SIT_API")
[[ $code == 200 ]] || sit_fail "planting revision 50: $code"
sit_sql "UPDATE period_totals SET received = received + 1, revision = revision + 1, updated_at = now()
         WHERE unit_code = 'H61.04' AND period = '2025-04'; NOTIFY tthc_totals;"
sit_wait_in_sync 30
[[ $(sit_sql "SELECT revision FROM period_totals WHERE unit_code = 'H61.04' AND period = '2025-04'") == 51 ]] ||
    sit_fail "the stale revision was not raised to 51"
grep -q 'event=stale_resolved unit=H61.04 period=2025-04 revision=2 portal_revision=50 action=raised new_revision=51' \
    "$SIT_DIR/sync-a.log" || sit_fail "no stale_resolved line"
sit_ok "409 stale_revision: re-read the portal, raised to 51, sent"

# Ahead on the portal with the very same counters: acknowledged, and our
# revision adopts the portal's number (so the next change is not stale again).
same=$(curl -sf -H "Authorization: Bearer $SIT_TOKEN" "$SIT_PORTAL$SIT_API?period=2025-04&unit_code=H61.06" |
    jq -c '.reports[0] | {unit_code, period, revision: 60, generated_at: "2025-05-01T00:00:00+07:00",
                          indicators: [.indicators[] | {code, numerator, denominator}]}')
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SIT_TOKEN" -H 'Content-Type: application/json' \
    -H 'Idempotency-Key: someone-else-3' --data-binary "$same" "$SIT_PORTAL$SIT_API")
[[ $code == 200 ]] || sit_fail "planting revision 60: $code"
sit_sql "UPDATE period_totals SET revision = revision + 1 WHERE unit_code = 'H61.06' AND period = '2025-04';
         NOTIFY tthc_totals;"
_adopted() { [[ $(sit_sql "SELECT t.revision || ':' || s.sent_revision FROM period_totals t JOIN sync_state s
                           USING (unit_code, period) WHERE unit_code = 'H61.06' AND period = '2025-04'") == 60:60 ]]; }
wait_until 20 _adopted || sit_fail "409 with equal counters: revision 60 not adopted"
sit_wait_in_sync 30
grep -q 'event=stale_resolved unit=H61.06 period=2025-04 revision=2 portal_revision=60 action=acknowledged' \
    "$SIT_DIR/sync-a.log" || sit_fail "no stale_resolved acknowledged line"
[[ $(sit_sync_metric a 'tthc_sync_reports_total{outcome="stale_synced"}') == 1 ]] || sit_fail "stale_synced != 1"
sit_ok "409 with the same counters on the portal: acknowledged, revision 60 adopted"

# Only on the portal: listed, nothing to re-queue.
body=$(jq -c '.unit_code = "H63.01" | .period = "2025-03" | .revision = 1' <<<"$body")
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SIT_TOKEN" -H 'Content-Type: application/json' \
    -H 'Idempotency-Key: someone-else-2' --data-binary "$body" "$SIT_PORTAL$SIT_API")
[[ $code == 200 ]] || sit_fail "planting an extra report: $code"
set +e
out=$(sit_sync reconcile --period 2025-03)
rc=$?
set -e
((rc == 1)) || sit_fail "extra: exit $rc: $out"
grep -Eq '^H63\.01 +2025-03 +extra +- +1 +none' <<<"$out" || sit_fail "extra not listed: $out"
grep -q '^1 difference(s), 0 re-queued;' <<<"$out" || sit_fail "extra summary: $out"
grep -Eq '^ +online_submission +database - +portal 0/1$' <<<"$(block H63.01)" ||
    sit_fail "extra: the portal's figures not shown: $(block H63.01)"
sit_ok "a report only on the portal is listed as extra"

# Errors: exit 2.
expect_exit2() {
    local what=$1 rc
    shift
    set +e
    "$@" >"$SIT_DIR/err.out" 2>&1
    rc=$?
    set -e
    ((rc == 2)) || sit_fail "$what: exit $rc, want 2: $(cat "$SIT_DIR/err.out")"
}
expect_exit2 "no --period" sit_sync reconcile
expect_exit2 "bad --period" sit_sync reconcile --period 2025-13
expect_exit2 "wrong token" "$TTHC_BIN_DIR/tthc-sync" reconcile --period 2025-03 --dsn "$SIT_DSN" \
    --portal-url "$SIT_PORTAL" --token-file "$SIT_DIR/wrong-token"
expect_exit2 "portal down" "$TTHC_BIN_DIR/tthc-sync" reconcile --period 2025-03 --dsn "$SIT_DSN" \
    --portal-url "http://127.0.0.1:1" --token-file "$SIT_DIR/token" --connect-timeout-ms 500
expect_exit2 "database down" "$TTHC_BIN_DIR/tthc-sync" reconcile --period 2025-03 --dsn "postgresql:///nope?host=/nonexistent" \
    --portal-url "$SIT_PORTAL" --token-file "$SIT_DIR/token"
sit_ok "errors exit 2"
sit_sync_stop a
echo "PASS it_sync_reconcile"
