#!/usr/bin/env bash
# it_sync_wrong_token: answers that must never be retried in a loop.
#  - wrong token: reports are parked with 401, tthc-sync logs exactly one
#    error line about the token (not one per report), and the stub sees only
#    a handful of requests over several seconds (no busy retry), while the
#    /metrics show the pause; a restart with the right token un-parks and
#    sends everything;
#  - a report the portal refuses (400: a unit code it does not accept) is
#    parked at that revision with the answer stored, shown by `tthc-sync
#    status`, not retried; `tthc-sync unpark --unit` lets it try again once;
#    a later revision of the bucket is tried again by itself.
source "${TTHC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/services/sync/it_lib.sh"
sit_setup
sit_stub_start
sit_seed 1 15 2025-03 2025-04
buckets=$(sit_sql 'SELECT count(*) FROM period_totals')

# ---- wrong token ------------------------------------------------------------------
sit_sync_start bad --token-file "$SIT_DIR/wrong-token" --workers 4 --batch 4
_parked401() { (($(sit_sql "SELECT count(*) FROM sync_state WHERE status = 'parked' AND last_status = 401") > 0)); }
wait_until 20 _parked401 || sit_fail "no report parked with 401"
n0=$(sit_stub_count POST 401)
# Watch for 4 s that the stub does not get hammered (a poll that must NOT succeed).
_hammered() { (($(sit_stub_count POST 401) > n0 + 2)); }
if wait_until 4 _hammered; then sit_fail "busy retry: $(sit_stub_count POST 401) requests with the wrong token"; fi
total401=$(sit_stub_count POST 401)
((total401 <= 8)) || sit_fail "$total401 requests with a wrong token (at most one per worker expected)"
sit_ok "wrong token: $total401 request(s) in all, then sending paused"
[[ $(sit_stub_count POST 200) == 0 ]] || sit_fail "something was accepted with a wrong token"

errors=$(grep -c 'level=error' "$SIT_DIR/sync-bad.log" || true)
[[ $errors == 1 ]] || sit_fail "expected exactly one error line, got $errors"
grep -q 'level=error .*event=portal_unauthorized' "$SIT_DIR/sync-bad.log" || sit_fail "the error line is not about the token"
grep -q "$SIT_TOKEN" "$SIT_DIR/sync-bad.log" && sit_fail "a token appears in the log"
sit_ok "exactly one error line, about the token; no token in the log"
[[ $(sit_sync_metric bad tthc_sync_auth_blocked) == 1 ]] || sit_fail "tthc_sync_auth_blocked is not 1"
[[ $(sit_sync_metric bad 'tthc_sync_reports_total{outcome="parked_401"}') -ge 1 ]] || sit_fail "no parked_401 counted"
out=$(sit_sync status)
grep -Eq '^H61[.0-9]* +2025-0[34] +[0-9]+ +401 ' <<<"$out" || sit_fail "status does not list the 401: $out"
sit_ok "metrics and status show the pause and the 401"

sit_sync_stop bad
sit_sync_start good
grep -Eq 'event=startup unparked_401=[1-9]' "$SIT_DIR/sync-good.log" || sit_fail "401 reports not un-parked at start"
sit_wait_in_sync 30
sit_ok "restart with the right token: un-parked, all $buckets buckets sent"

# ---- a report the portal refuses ----------------------------------------------------
sit_sql "INSERT INTO period_totals (unit_code, period, received, online, revision) VALUES ('H61 07', '2025-03', 5, 2, 1);
         NOTIFY tthc_totals;"
_parked400() { [[ $(sit_sql "SELECT status || ':' || last_status || ':' || parked_revision FROM sync_state
                              WHERE unit_code = 'H61 07'") == parked:400:1 ]]; }
wait_until 20 _parked400 || sit_fail "the refused report is not parked with 400"
answer=$(sit_sql "SELECT last_error FROM sync_state WHERE unit_code = 'H61 07'")
grep -q 'invalid_report' <<<"$answer" || sit_fail "the portal's answer is not stored: $answer"
n400=$(sit_stub_count POST 400)
_again() { (($(sit_stub_count POST 400) > n400)); }
if wait_until 3 _again; then sit_fail "a parked report was sent again"; fi
out=$(sit_sync status)
grep -q '^parked: *1$' <<<"$out" || sit_fail "status: $out"
grep -q "^H61 07 .* 400 .*invalid_report" <<<"$out" || sit_fail "status does not show the answer: $out"
sit_ok "400: parked at revision 1 with the answer, shown by status, not retried"

out=$(sit_sync unpark --unit 'H61 07')
[[ $out == "1 report(s) un-parked" ]] || sit_fail "unpark: $out"
wait_until 20 _again || sit_fail "un-parked report not sent again"
wait_until 20 _parked400 || sit_fail "not parked again"
n400=$(sit_stub_count POST 400)
if wait_until 2 _again; then sit_fail "sent more than once after unpark"; fi
sit_ok "unpark: sent once more, parked again"

sit_sql "UPDATE period_totals SET received = received + 1, revision = 2 WHERE unit_code = 'H61 07'; NOTIFY tthc_totals;"
_parked400r2() { [[ $(sit_sql "SELECT parked_revision FROM sync_state WHERE unit_code = 'H61 07'") == 2 ]]; }
wait_until 20 _parked400r2 || sit_fail "a new revision of a parked bucket was not tried"
sit_ok "a new revision un-parks the bucket by itself (and is parked at revision 2)"
[[ $(sit_sync_metric good 'tthc_sync_reports_total{outcome="parked_400"}') == 3 ]] || sit_fail "parked_400 != 3"
grep -q 'level=warn .*event=parked .*status=400' "$SIT_DIR/sync-good.log" || sit_fail "no parked warning"
sit_sync_stop good
echo "PASS it_sync_wrong_token"
