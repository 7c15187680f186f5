# shellcheck shell=bash
# services/sync/it_lib.sh - shared set-up of the tthc-sync integration tests
# (tests/integration/it_sync_*.sh).  It lives here, not in tests/integration/,
# because every it_*.sh there is run as a test.
#
# Each test gets its own PostgreSQL cluster in a fresh directory (removed at
# exit; kept with TTHC_KEEP=1), runs tthc-migrate, simulates the ingest
# service by writing period_totals with psql (bumping revision, NOTIFY
# tthc_totals), and runs tthc-portal-stub and tthc-sync from TTHC_BIN_DIR.
# Every wait is a bounded poll of a condition (wait_until).

set -euo pipefail
TTHC_SOURCE_DIR=${TTHC_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=../../scripts/lib.sh
source "$TTHC_SOURCE_DIR/scripts/lib.sh"

SIT_TOKEN=it-sync-token-6d1f0c2a9b
SIT_API=/api/v1/indicator-reports
unset TTHC_PORTAL_TOKEN TTHC_PORTAL_TOKEN_FILE TTHC_SYNC_METRICS_LISTEN

sit_fail() {
    tthc_error "FAIL: $*"
    exit 1
}
sit_ok() { echo "ok: $*"; }

SIT_BG_PIDS=() # helpers started by a test (killed at exit)

sit_cleanup() {
    local rc=$? f
    set +e
    sit_writer_stop
    for f in "${SIT_BG_PIDS[@]}"; do kill "$f" 2>/dev/null; done
    for f in "$SIT_DIR"/sync-*.pid; do
        [[ -e $f ]] && kill -KILL "$(cat "$f")" 2>/dev/null
    done
    state_dir_stop "$SIT_DIR" >/dev/null 2>&1
    sanitizer_check "$SIT_DIR"/*.log || rc=1
    if ((rc != 0)); then
        for f in "$SIT_DIR"/*.log; do
            [[ -e $f ]] || continue
            echo "---- tail of $f" >&2
            tail -n 40 "$f" >&2
        done
    fi
    if [[ -z ${TTHC_KEEP:-} ]]; then rm -rf "$SIT_DIR"; else echo "kept $SIT_DIR" >&2; fi
    exit "$rc"
}

# sit_setup: PostgreSQL + schema; the stub's port; exports SIT_DSN, SIT_PORTAL.
sit_setup() {
    SIT_DIR=$(tthc_mktemp "$(basename "$0" .sh)")
    trap sit_cleanup EXIT
    [[ -x $TTHC_BIN_DIR/tthc-sync ]] || sit_fail "$TTHC_BIN_DIR/tthc-sync not built"
    [[ -x $TTHC_BIN_DIR/tthc-portal-stub ]] || sit_fail "$TTHC_BIN_DIR/tthc-portal-stub not built"
    TTHC_PG_FSYNC=off pg_start "$SIT_DIR" >/dev/null
    SIT_DSN=$(cat "$SIT_DIR/pg/dsn")
    export TTHC_PG_DSN=$SIT_DSN
    "$TTHC_BIN_DIR/tthc-migrate" --dsn "$SIT_DSN" 2>>"$SIT_DIR/migrate.log" || sit_fail "tthc-migrate failed"
    printf '%s\n' "$SIT_TOKEN" >"$SIT_DIR/token"
    printf '%s\n' "wrong-$SIT_TOKEN" >"$SIT_DIR/wrong-token"
    SIT_STUB_PORT=$(_pg_free_port)
    SIT_PORTAL=http://127.0.0.1:$SIT_STUB_PORT
    export SIT_DSN SIT_PORTAL
}

sit_sql() { psql "$SIT_DSN" -XqAt -v ON_ERROR_STOP=1 -c "$1"; }

# ---- the portal stub --------------------------------------------------------------

# sit_stub_start [ARGS...]: on the same port every time, so that tthc-sync's
# --portal-url stays valid across stub restarts.
sit_stub_start() {
    TTHC_READY_CMD="curl -sf '$SIT_PORTAL/healthz'" TTHC_READY_TIMEOUT=20 \
        daemon_start "$SIT_DIR" tthc-portal-stub --listen "127.0.0.1:$SIT_STUB_PORT" --dsn "$SIT_DSN" \
        --token-file "$SIT_DIR/token" "$@" || sit_fail "tthc-portal-stub did not start"
}
sit_stub_stop() {
    daemon_stop "$SIT_DIR" tthc-portal-stub || sit_fail "tthc-portal-stub did not stop"
    sanitizer_check "$SIT_DIR/tthc-portal-stub.log" || sit_fail "sanitizer report in the stub's log"
}

# sit_stub_count METHOD STATUS: requests the stub answered so (0 if none).
sit_stub_count() {
    local v
    v=$(curl -sf "$SIT_PORTAL/metrics" |
        awk -v m="$1" -v s="$2" '$1 == "tthc_portal_requests_total{method=\"" m "\",status=\"" s "\"}" {print $2}')
    echo "${v:-0}"
}

# ---- tthc-sync instances ------------------------------------------------------------

# sit_sync_start NAME [ARGS...]: a tthc-sync daemon in the background (pid in
# SIT_DIR/sync-NAME.pid, log SIT_DIR/sync-NAME.log, metrics port in
# SIT_DIR/sync-NAME.mport); waits until /readyz answers 200.
sit_sync_start() {
    local name=$1 mport pid
    shift
    mport=$(_pg_free_port)
    "$TTHC_BIN_DIR/tthc-sync" --dsn "$SIT_DSN" --portal-url "$SIT_PORTAL" --token-file "$SIT_DIR/token" \
        --metrics-listen "127.0.0.1:$mport" --instance "it-$name" "$@" </dev/null >>"$SIT_DIR/sync-$name.log" 2>&1 &
    pid=$!
    echo "$pid" >"$SIT_DIR/sync-$name.pid"
    echo "$mport" >"$SIT_DIR/sync-$name.mport"
    _sit_ready() { pid_alive "$pid" && curl -sf "http://127.0.0.1:$mport/readyz" >/dev/null; }
    wait_until 30 _sit_ready || sit_fail "tthc-sync $name not ready (see $SIT_DIR/sync-$name.log)"
}

# sit_sync_stop NAME: SIGTERM; it must exit 0 within 30 s with a clean sanitizer log.
sit_sync_stop() {
    local name=$1 pid rc=0
    pid=$(cat "$SIT_DIR/sync-$name.pid")
    kill -TERM "$pid"
    wait_until 30 _pid_dead "$pid" || sit_fail "tthc-sync $name ignored SIGTERM for 30 s"
    wait "$pid" || rc=$?
    rm -f "$SIT_DIR/sync-$name.pid"
    ((rc == 0)) || sit_fail "tthc-sync $name exited with $rc after SIGTERM"
    sanitizer_check "$SIT_DIR/sync-$name.log" || sit_fail "sanitizer report in sync-$name.log"
}

# sit_sync_kill NAME: SIGKILL (a crash).
sit_sync_kill() {
    local name=$1 pid
    pid=$(cat "$SIT_DIR/sync-$name.pid")
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    rm -f "$SIT_DIR/sync-$name.pid"
}

# sit_sync_metric NAME SERIES: one value of tthc-sync NAME's /metrics (0 if absent).
sit_sync_metric() {
    local v
    v=$(curl -sf "http://127.0.0.1:$(cat "$SIT_DIR/sync-$1.mport")/metrics" | awk -v k="$2" '$1 == k {print $2}')
    echo "${v:-0}"
}

# sit_sync() runs the tthc-sync command line (subcommands).
sit_sync() {
    "$TTHC_BIN_DIR/tthc-sync" --dsn "$SIT_DSN" --portal-url "$SIT_PORTAL" --token-file "$SIT_DIR/token" \
        --log-level warn "$@"
}

# ---- simulating the ingest service ------------------------------------------------

# sit_seed PROVINCES UNITS PERIOD...: for each province Pn (H61, H62, ...) its
# UNITS units (H61.01 ...) and the roll-up, one bucket per period, revision 1.
sit_seed() {
    local provinces=$1 units=$2
    shift 2
    local periods
    periods=$(printf "'%s'," "$@")
    sit_sql "INSERT INTO period_totals (unit_code, period, received, online, comp_digitized, data_reused, id_tagged,
               issued, result_digitized, e_result, synced, due_issued, on_time, payments, payments_online, rated,
               satisfied, revision, updated_at)
             SELECT u, p, 10, 6, 8, 5, 4, 7, 5, 6, 7, 6, 5, 3, 2, 4, 3, 1, now()
             FROM (SELECT 'H' || (60 + pr) || CASE WHEN un = 0 THEN '' ELSE '.' || lpad(un::text, 2, '0') END AS u
                   FROM generate_series(1, $provinces) pr, generate_series(0, $units) un) units,
                  unnest(ARRAY[${periods%,}]) p
             ON CONFLICT DO NOTHING;
             NOTIFY tthc_totals;"
}

# sit_bump K: one "ingest transaction" that changes K random buckets, keeping
# every numerator within its denominator, bumping each revision by 1.
sit_bump() {
    sit_sql "WITH pick AS (SELECT unit_code, period, 1 + (random() * 4)::int AS a, random() AS f
                           FROM period_totals ORDER BY random() LIMIT $1)
             UPDATE period_totals t SET received = received + a, online = online + (a * f)::int,
               comp_digitized = comp_digitized + a / 2, data_reused = data_reused + (a * f)::int,
               id_tagged = id_tagged + a / 3, issued = issued + a, result_digitized = result_digitized + a / 2,
               e_result = e_result + (a * f)::int, synced = synced + a / 2, due_issued = due_issued + a,
               on_time = on_time + (a * f)::int, payments = payments + a, payments_online = payments_online + a / 2,
               rated = rated + a, satisfied = satisfied + (a * f)::int,
               revision = revision + 1, updated_at = now()
             FROM pick WHERE t.unit_code = pick.unit_code AND t.period = pick.period;
             NOTIFY tthc_totals;" >/dev/null
}

# sit_writer_start K: the ingest stand-in in the background: sit_bump K over
# and over (errors ignored: PostgreSQL may be restarting) until sit_writer_stop.
sit_writer_start() {
    rm -f "$SIT_DIR/writer.stop"
    (
        while [[ ! -e $SIT_DIR/writer.stop && -d $SIT_DIR ]]; do sit_bump "$1" 2>/dev/null || true; done
    ) &
    SIT_WRITER=$!
}
sit_writer_stop() {
    [[ -n ${SIT_WRITER:-} ]] || return 0
    touch "$SIT_DIR/writer.stop" 2>/dev/null || kill "$SIT_WRITER" 2>/dev/null
    wait "$SIT_WRITER" 2>/dev/null || true
    SIT_WRITER=
}

# ---- comparing the portal with period_totals ---------------------------------------

# One line per (unit, period, indicator): unit|period|revision|code|numerator|denominator.
sit_local_dump() {
    sit_sql "SELECT t.unit_code || '|' || t.period || '|' || t.revision || '|' || it.indicator || '|' ||
                    it.numerator || '|' || it.denominator
             FROM period_totals t JOIN indicator_totals it ON it.unit_code = t.unit_code AND it.period = t.period
             WHERE t.revision > 0" | LC_ALL=C sort
}

# The same, from the portal's GET (the API, as any client sees it).
sit_portal_dump() {
    local p
    for p in $(sit_sql "SELECT DISTINCT period FROM period_totals ORDER BY 1"); do
        curl -sf -H "Authorization: Bearer $SIT_TOKEN" "$SIT_PORTAL$SIT_API?period=$p" |
            jq -r '.reports[] | . as $r | .indicators[] |
                   "\($r.unit_code)|\($r.period)|\($r.revision)|\(.code)|\(.numerator)|\(.denominator)"' ||
            return 1
    done | LC_ALL=C sort
}

sit_in_sync() {
    local a b
    a=$(sit_local_dump) || return 1
    b=$(sit_portal_dump) || return 1
    [[ -n $a && $a == "$b" ]]
}

# sit_wait_in_sync SECONDS: until the portal's GET equals period_totals.
sit_wait_in_sync() {
    if ! wait_until "$1" sit_in_sync; then
        diff <(sit_local_dump) <(sit_portal_dump) | head -n 20 >&2 || true
        sit_fail "the portal does not equal period_totals after $1 s"
    fi
}

# sit_history_ok: the stub's history holds each (unit, period, revision) once
# and, per bucket, revisions only ever grew in the order they were stored.
sit_history_ok() {
    local dup ooo
    dup=$(sit_sql "SELECT count(*) - count(DISTINCT (unit_code, period, revision)) FROM portal.report_revision")
    ooo=$(sit_sql "SELECT count(*) FROM (SELECT revision, lag(revision) OVER (PARTITION BY unit_code, period
                                               ORDER BY received_at, revision) AS prev
                                        FROM portal.report_revision) h WHERE prev >= revision")
    [[ $dup == 0 ]] || sit_fail "the stub stored $dup revision(s) twice"
    [[ $ooo == 0 ]] || sit_fail "the stub stored $ooo revision(s) out of order"
    sit_ok "stub history: $(sit_sql 'SELECT count(*) FROM portal.report_revision') revisions, none twice, none out of order"
}
