#!/usr/bin/env bash
# it_sync_fault_storm: tthc-sync under faults, while "ingest" keeps writing.
#  - the stub fails 30 % of requests (500, then 503, then 429, with
#    Retry-After and latency), and is restarted between phases;
#  - a phase where the stub answers slower than tthc-sync's timeout: reports
#    are stored although the client gave up; tthc-sync is SIGKILLed right
#    then (leases held) and restarted: it releases its dead predecessor's
#    leases at once, and its resends come back "duplicate" (same
#    Idempotency-Key, byte-identical body);
#  - PostgreSQL is restarted under everything.
# At the end the portal holds exactly the latest totals, and the stub's stored
# history has no revision applied twice or out of order.
source "${TTHC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/services/sync/it_lib.sh"
sit_setup
faults=(--fail-rate 30 --retry-after 1 --latency-ms 20 --seed 7)
sync_args=(--workers 3 --batch 8 --timeout-ms 1000 --lease-ms 10000 --backoff-cap-ms 2000 --poll-ms 500)
sit_seed 2 10 2025-02 2025-03
sit_stub_start "${faults[@]}" --fail-status 500
sit_sync_start a "${sync_args[@]}"
sit_writer_start 5

stub_outcome() {
    local v
    v=$(curl -sf "$SIT_PORTAL/metrics" | awk -v o="$1" '$1 == "tthc_portal_reports_total{outcome=\"" o "\"}" {print $2}')
    echo "${v:-0}"
}
# progress N: the stub accepts N more reports (through whatever faults are on).
progress() {
    local want=$(($(stub_outcome accepted) + $1))
    _got() { (($(stub_outcome accepted) >= want)); }
    wait_until 60 _got || sit_fail "no progress: fewer than $1 reports accepted in 60 s"
}
retries() { sit_sync_metric a tthc_sync_retries_total; }
# The stub's counters live in memory: check each instance before stopping it.
stub_stop() {
    [[ $(stub_outcome idempotency_key_reused) == 0 ]] || sit_fail "a resend reused a key with another body"
    sit_stub_stop
}

progress 30
_retried() { (($(retries) > 0)); }
wait_until 30 _retried || sit_fail "no retry under a 30 % 500 fault rate"
sit_ok "phase 500: progress, $(retries) retries"

stub_stop
sit_stub_start "${faults[@]}" --fail-status 503
progress 30
sit_ok "stub restarted, phase 503: progress, $(retries) retries"

# Slower than the client's 1 s timeout: the stub stores what the client gave up on.
sit_writer_stop
stub_stop
sit_stub_start --latency-ms 1300
sit_bump 1000 # every bucket changes once: work for everyone
progress 5
_leased() { (($(sit_sql 'SELECT count(*) FROM sync_state WHERE lease_until > now()') > 0)); }
wait_until 30 _leased || sit_fail "no lease held while requests hang"
sit_sync_kill a
sit_sync_start a "${sync_args[@]}"
released=$(grep -o 'released_dead_leases=[0-9]*' "$SIT_DIR/sync-a.log" | tail -n1 | cut -d= -f2)
((released > 0)) || sit_fail "the SIGKILLed predecessor's leases were not released at start"
sit_ok "tthc-sync SIGKILLed with requests in flight: its $released lease(s) released at restart"
stub_stop
sit_stub_start "${faults[@]}" --fail-status 429
_dups() { (($(stub_outcome duplicate) > 0)); }
wait_until 60 _dups || sit_fail "no 'duplicate' after timeouts: resends were not recognised"
sit_ok "reports stored behind the client's back came back 'duplicate' when resent ($(stub_outcome duplicate))"

sit_writer_start 5
progress 30
sit_ok "phase 429: progress, $(retries) retries"

pg_restart "$SIT_DIR" >/dev/null
progress 30
sit_ok "PostgreSQL restarted: progress"

sit_writer_stop
sit_ok "writer stopped: $(sit_sql 'SELECT sum(revision) FROM period_totals') revisions written in all"

sit_wait_in_sync 120
sit_ok "the portal equals period_totals ($(sit_sql 'SELECT count(*) FROM period_totals') buckets)"
sit_history_ok
[[ $(sit_sql "SELECT count(*) FROM sync_state WHERE status = 'parked'") == 0 ]] || sit_fail "parked reports"
sit_ok "nothing parked; tthc-sync counted $(retries) retries; stub: $(stub_outcome accepted) accepted, $(stub_outcome duplicate) duplicate"
sit_sync_stop a
stub_stop
echo "PASS it_sync_fault_storm"
