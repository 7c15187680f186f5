#!/usr/bin/env bash
# it_sync_end_state: tthc-sync carries period_totals to the portal, exactly.
#  - 2 provinces x 12 units + roll-ups x 3 periods, then 40 "ingest
#    transactions" changing random buckets (several revisions collapse), and a
#    late month appearing midway;
#  - two tthc-sync instances at once (leases: no report sent twice, so the
#    stub never answers "duplicate");
#  - at the end the portal's GET equals period_totals for every (unit, period),
#    sync_state says so, the stub's history has no revision twice or out of
#    order, the metrics agree, and SIGTERM exits 0 with no lease left.
source "${TTHC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/services/sync/it_lib.sh"
sit_setup
sit_stub_start
sit_seed 2 12 2025-01 2025-02 2025-03
sit_sync_start a --workers 2 --batch 8
sit_sync_start b --workers 2 --batch 8
sit_wait_in_sync 30
sit_ok "first push: $(sit_sql 'SELECT count(*) FROM period_totals') buckets"

for i in $(seq 1 40); do
    sit_bump 10
    if ((i == 20)); then sit_seed 2 12 2024-12; fi
done
sit_wait_in_sync 60
buckets=$(sit_sql 'SELECT count(*) FROM period_totals')
sit_ok "after 40 transactions and a late month: portal equals period_totals ($buckets buckets)"

[[ $(sit_sql "SELECT count(*) FROM sync_state s JOIN period_totals t USING (unit_code, period)
              WHERE s.sent_revision = t.revision AND s.status = 'synced'") == "$buckets" ]] ||
    sit_fail "sync_state does not say every bucket is synced at its revision"
sit_ok "sync_state: every bucket synced at its current revision"

sit_history_ok

dups=$(curl -sf "$SIT_PORTAL/metrics" | awk '$1 == "tthc_portal_reports_total{outcome=\"duplicate\"}" {print $2}')
[[ ${dups:-0} == 0 ]] || sit_fail "the stub answered 'duplicate' $dups time(s): a report was sent twice"
sit_ok "two instances, no report sent twice"

_drained() { [[ $(sit_sync_metric a tthc_sync_queue_depth) == 0 && $(sit_sync_metric b tthc_sync_queue_depth) == 0 ]]; }
wait_until 10 _drained || sit_fail "tthc_sync_queue_depth not 0"
accepted=$(($(sit_sync_metric a 'tthc_sync_reports_total{outcome="accepted"}') +
    $(sit_sync_metric b 'tthc_sync_reports_total{outcome="accepted"}')))
stored=$(sit_sql 'SELECT count(*) FROM portal.report_revision')
[[ $accepted == "$stored" ]] || sit_fail "metrics say $accepted accepted, the stub stored $stored"
sit_ok "metrics: queue depth 0, $accepted accepted = stub's stored revisions"

out=$(sit_sync status)
grep -q '^queue depth: *0 ' <<<"$out" || sit_fail "status: $out"
grep -q '^parked: *0$' <<<"$out" || sit_fail "status: $out"
sit_ok "tthc-sync status: nothing waiting, nothing parked"

sit_sync_stop a
sit_sync_stop b
[[ $(sit_sql 'SELECT count(*) FROM sync_state WHERE lease_owner IS NOT NULL') == 0 ]] || sit_fail "leases left"
sit_ok "SIGTERM: both exit 0, no lease left"

# While no sender runs, a bucket changes 5 times: only its newest revision is sent.
before=$(sit_sql 'SELECT count(*) FROM portal.report_revision')
for i in 1 2 3 4 5; do
    sit_sql "UPDATE period_totals SET received = received + 1, revision = revision + 1, updated_at = now()
             WHERE unit_code = 'H61.01' AND period = '2025-02'; NOTIFY tthc_totals;"
done
sit_sync_start a
sit_wait_in_sync 30
sit_history_ok
[[ $(sit_sql 'SELECT count(*) FROM portal.report_revision') == $((before + 1)) ]] ||
    sit_fail "5 waiting revisions did not collapse into one report"
sit_ok "5 waiting revisions collapsed into one report"
sit_sync_stop a
grep -q 'level=error' "$SIT_DIR"/sync-*.log && sit_fail "error lines in the sync logs"
grep -q "$SIT_TOKEN" "$SIT_DIR"/sync-*.log && sit_fail "the token appears in a log"
sit_ok "no error logged, token never logged"
echo "PASS it_sync_end_state"
