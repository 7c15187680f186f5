#!/usr/bin/env bash
# services/sync/bench.sh - how fast tthc-sync pushes, and how late.
#
#   services/sync/bench.sh [--buckets N] [--tps T] [--touch K] [--seconds S] [--workers W] [--batch B]
#                          [--latency-ms L] [--stub-threads N]
#
# 1. drain: N buckets all waiting, one tthc-sync; reports/s until the portal
#    (tthc-portal-stub, same machine) equals period_totals;
# 2. load: an ingest stand-in commits T transactions/s for S seconds, each
#    changing K random buckets of the N (5,000 events/s applied in 200 ms
#    batches is T = 5 with K = the distinct buckets of 1,000 events); a trigger
#    (bench only) records when every revision was written, and the latency of
#    a change is the time until the portal stored that revision or a newer
#    one (portal.report_revision.received_at).  Prints p50/p90/p99/max.
#
# Uses TTHC_BIN_DIR (default build/bin); a throw-away PostgreSQL with fsync off.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../scripts/lib.sh
source "$src/scripts/lib.sh"

buckets=300 tps=5 touch=150 seconds=30 workers=8 batch=32 latency=0 stub_threads=4
while (($#)); do
    case $1 in
        --buckets) buckets=$2 ;;
        --tps) tps=$2 ;;
        --touch) touch=$2 ;;
        --seconds) seconds=$2 ;;
        --workers) workers=$2 ;;
        --batch) batch=$2 ;;
        --latency-ms) latency=$2 ;; # the stub waits this long before each answer (a distant portal)
        --stub-threads) stub_threads=$2 ;;
        -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
    shift 2
done

dir=$(tthc_mktemp sync-bench)
cleanup() {
    set +e
    state_dir_stop "$dir" >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT
TTHC_PG_FSYNC=off pg_start "$dir" >/dev/null
dsn=$(cat "$dir/pg/dsn")
sql() { psql "$dsn" -XqAt -v ON_ERROR_STOP=1 -c "$1"; }
"$TTHC_BIN_DIR/tthc-migrate" --dsn "$dsn" 2>/dev/null
token=bench-token-0123456789
printf '%s\n' "$token" >"$dir/token"
port=$(_pg_free_port)
TTHC_READY_CMD="curl -sf http://127.0.0.1:$port/healthz" daemon_start "$dir" tthc-portal-stub \
    --listen "127.0.0.1:$port" --dsn "$dsn" --token-file "$dir/token" --log-level warn \
    --latency-ms "$latency" --threads "$stub_threads" >/dev/null
mport=$(_pg_free_port)
start_sync() {
    TTHC_READY_CMD="curl -sf http://127.0.0.1:$mport/readyz" daemon_start "$dir" tthc-sync --dsn "$dsn" \
        --portal-url "http://127.0.0.1:$port" --token-file "$dir/token" --workers "$workers" --batch "$batch" \
        --metrics-listen "127.0.0.1:$mport" >/dev/null
}
synced() {
    [[ $(sql "SELECT count(*) FROM period_totals t LEFT JOIN sync_state s USING (unit_code, period)
              WHERE s.sent_revision IS DISTINCT FROM t.revision") == 0 ]]
}

# N buckets: units H61.001... over two months, plus the roll-ups.
sql "INSERT INTO period_totals (unit_code, period, received, online, issued, e_result, revision)
     SELECT CASE WHEN i % 50 = 0 THEN 'H' || (61 + i / 50) ELSE 'H61.' || lpad(i::text, 3, '0') END,
            CASE WHEN i % 2 = 0 THEN '2025-03' ELSE '2025-04' END, 10, 5, 4, 3, 1
     FROM generate_series(0, $buckets - 1) i ON CONFLICT DO NOTHING"
n=$(sql 'SELECT count(*) FROM period_totals')

# ---- 1. drain ---------------------------------------------------------------------
t0=$(_now_us)
start_sync
wait_until 300 synced || { echo "drain did not finish" >&2; exit 1; }
t1=$(_now_us)
echo "drain: $n reports in $(((t1 - t0) / 1000)) ms = $((n * 1000000 / (t1 - t0))) reports/s" \
    "(workers=$workers batch=$batch, process start included)"

# ---- 2. load ------------------------------------------------------------------------
sql "CREATE TABLE bench_change (unit_code text, period text, revision bigint, changed_at timestamptz);
     CREATE FUNCTION bench_log() RETURNS trigger LANGUAGE plpgsql AS
       \$\$BEGIN INSERT INTO bench_change VALUES (NEW.unit_code, NEW.period, NEW.revision, clock_timestamp());
             RETURN NEW; END\$\$;
     CREATE TRIGGER bench_log AFTER UPDATE ON period_totals FOR EACH ROW EXECUTE FUNCTION bench_log();"
period_ms=$((1000 / tps))
txs=$((tps * seconds))
{
    for ((i = 0; i < txs; i++)); do
        echo "SELECT pg_sleep(GREATEST(0, $period_ms / 1000.0 - extract(epoch FROM clock_timestamp() - now())));"
        echo "BEGIN;"
        echo "UPDATE period_totals t SET received = received + 2, online = online + 1, issued = issued + 1,
                e_result = e_result + 1, revision = revision + 1, updated_at = now()
              FROM (SELECT unit_code, period FROM period_totals ORDER BY random() LIMIT $touch) p
              WHERE t.unit_code = p.unit_code AND t.period = p.period;"
        echo "NOTIFY tthc_totals;"
        echo "COMMIT;"
    done
} >"$dir/load.sql"
t0=$(_now_us)
psql "$dsn" -XqAt -v ON_ERROR_STOP=1 -f "$dir/load.sql" >/dev/null
t1=$(_now_us)
wait_until 120 synced || { echo "load did not drain" >&2; exit 1; }
changes=$(sql 'SELECT count(*) FROM bench_change')
sent=$(sql "SELECT count(*) FROM portal.report_revision WHERE received_at > now() - interval '1 hour'")
echo "load: $txs transactions in $(((t1 - t0) / 1000)) ms, $changes bucket changes" \
    "($((changes * 1000000 / (t1 - t0)))/s), $((sent - n)) reports stored by the portal"
sql "SELECT 'latency change -> portal (ms): p50 ' || round(1000 * extract(epoch FROM percentile_disc(0.5) WITHIN GROUP (ORDER BY lat)))
        || ' p90 ' || round(1000 * extract(epoch FROM percentile_disc(0.9) WITHIN GROUP (ORDER BY lat)))
        || ' p99 ' || round(1000 * extract(epoch FROM percentile_disc(0.99) WITHIN GROUP (ORDER BY lat)))
        || ' max ' || round(1000 * extract(epoch FROM max(lat)))
     FROM (SELECT (SELECT min(r.received_at) FROM portal.report_revision r
                   WHERE r.unit_code = c.unit_code AND r.period = c.period AND r.revision >= c.revision)
                  - c.changed_at AS lat
           FROM bench_change c) x"
curl -sf "http://127.0.0.1:$mport/metrics" | grep -E '^tthc_sync_(lag_seconds_bucket|reports_total\{outcome="(accepted|retry)"\})'
