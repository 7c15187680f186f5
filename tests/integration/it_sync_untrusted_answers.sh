#!/usr/bin/env bash
# it_sync_untrusted_answers: tthc-sync trusts only what portal-api.md says (issue 10, item 9).
# The stub's fault injection answers what a pusher must not trust:
#  - 200 with an HTML page, then 200 {"status":"accepted"} naming another revision: never an
#    acceptance (nothing synced), counted as bad_answer, logged, retried with backoff; once the
#    portal answers properly every report is synced;
#  - 302 with a Location on the stub itself: the report is parked with the status and the
#    Location, shown by `tthc-sync status`; the redirect is never followed (the stub sees no
#    request on the Location's path);
#  - 503 with Retry-After as an HTTP date: the retry waits at least that long (the delay
#    tthc-sync computed, from its debug log; nothing timed by the test).
source "${TTHC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/services/sync/it_lib.sh"
sit_setup
sit_seed 1 3 2025-03
buckets=$(sit_sql 'SELECT count(*) FROM period_totals')
synced() { sit_sql "SELECT count(*) FROM sync_state WHERE status = 'synced' OR sent_revision > 0"; }

# ---- 200 that is not an acceptance ------------------------------------------------------
sit_stub_start --fail-rate 100 --fail-status 200 --fail-answer html
sit_sync_start a --workers 2 --batch 4 --backoff-base-ms 100 --backoff-cap-ms 500 --log-level debug
_bad() { (($(sit_sync_metric a 'tthc_sync_reports_total{outcome="bad_answer"}') >= 2 * buckets)); }
wait_until 30 _bad || sit_fail "HTML answers not counted as bad_answer: $(sit_sync_metric a 'tthc_sync_reports_total{outcome="bad_answer"}')"
[[ $(synced) == 0 ]] || sit_fail "a 200 HTML page was taken as an acceptance"
[[ $(sit_sync_metric a 'tthc_sync_reports_total{outcome="accepted"}') == 0 ]] || sit_fail "accepted counted"
grep -q 'level=warn .*event=portal_bad_answer .*status=200' "$SIT_DIR/sync-a.log" || sit_fail "no portal_bad_answer warning"
err=$(sit_sql "SELECT last_error FROM sync_state WHERE unit_code = 'H61.01'")
grep -q 'not an acceptance: HTTP 200' <<<"$err" || sit_fail "last_error does not say why: $err"
sit_ok "200 HTML: $(sit_sync_metric a 'tthc_sync_reports_total{outcome="bad_answer"}') bad answers, retried, nothing synced"

sit_stub_stop
sit_stub_start --fail-rate 100 --fail-status 200 --fail-answer wrong_revision
b0=$(sit_sync_metric a 'tthc_sync_reports_total{outcome="bad_answer"}')
_bad2() { (($(sit_sync_metric a 'tthc_sync_reports_total{outcome="bad_answer"}') >= b0 + 2 * buckets)); }
wait_until 30 _bad2 || sit_fail "wrong revisions not counted as bad_answer"
[[ $(synced) == 0 ]] || sit_fail "a 200 naming another revision was taken as an acceptance"
grep -q 'event=portal_bad_answer .*revision=1 status=200 answered_revision=2' "$SIT_DIR/sync-a.log" ||
    sit_fail "the warning does not name both revisions"
sit_ok "200 with another revision: bad_answer, nothing synced"

sit_stub_stop
sit_stub_start
sit_wait_in_sync 30
sit_ok "the portal answers properly again: all $buckets buckets synced"

# ---- a redirect is parked, never followed -------------------------------------------------
sit_stub_stop
sit_stub_start --fail-rate 100 --fail-status 302 --fail-location "$SIT_PORTAL/moved-here"
sit_sql "UPDATE period_totals SET received = received + 1, revision = revision + 1 WHERE unit_code = 'H61.02';
         NOTIFY tthc_totals;"
_parked302() { [[ $(sit_sql "SELECT status || ':' || last_status FROM sync_state WHERE unit_code = 'H61.02'") == parked:302 ]]; }
wait_until 20 _parked302 || sit_fail "the redirected report is not parked with 302"
out=$(sit_sync status)
grep -q "^H61.02 .* 302 .*redirect to $SIT_PORTAL/moved-here" <<<"$out" || sit_fail "status does not show the Location: $out"
for m in GET POST; do
    [[ $(sit_stub_count "$m" 404) == 0 ]] || sit_fail "the redirect was followed ($m $(sit_stub_count "$m" 404) x 404)"
done
grep -q 'level=warn .*event=parked .*status=302 .*moved-here' "$SIT_DIR/sync-a.log" || sit_fail "no parked warning with the Location"
sit_ok "302: parked with its Location, shown by status, not followed"

# ---- Retry-After as an HTTP date ----------------------------------------------------------
sit_stub_stop
sit_stub_start --fail-rate 100 --fail-status 503 --retry-after 6 --retry-after-date true
curl -s -D - -o /dev/null -X POST "$SIT_PORTAL$SIT_API" | grep -Eiq '^Retry-After: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT' ||
    sit_fail "the stub does not send an HTTP date"
sit_sql "UPDATE period_totals SET received = received + 1, revision = revision + 1 WHERE unit_code = 'H61.03';
         NOTIFY tthc_totals;"
_retried() { grep -q 'event=retry unit=H61.03 .*status=503' "$SIT_DIR/sync-a.log"; }
wait_until 20 _retried || sit_fail "no retry after a 503"
delay=$(grep 'event=retry unit=H61.03 .*status=503' "$SIT_DIR/sync-a.log" | head -n1 | sed -E 's/.*delay_ms=([0-9]+).*/\1/')
((delay >= 4000 && delay <= 6000)) || sit_fail "Retry-After date (6 s ahead) gave a delay of $delay ms"
sit_ok "Retry-After as an HTTP date honoured: delay $delay ms for 6 s"
sit_stub_stop
sit_sync_stop a
echo "PASS it_sync_untrusted_answers"
