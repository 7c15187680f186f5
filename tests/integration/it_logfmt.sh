#!/usr/bin/env bash
# Every line the daemons log is logfmt (tests/tools/logfmt_check.py, strict):
# tthc-ingest, tthc-sync, tthc-portal-stub, tthc-lag and tthc-migrate, at work
# and failing on purpose (bad settings, PostgreSQL gone, broker unreachable,
# portal unreachable, wrong token, port taken), librdkafka's own lines
# included.  The lines that failed before (values with quotes pasted raw, the
# stub's err=) are among them.
source "$(dirname "$0")/common.sh"
CHECK=(python3 "$TTHC_SOURCE_DIR/tests/tools/logfmt_check.py")

# The checker itself rejects what the issue saw.
bad_line='ts=2026-01-01T00:00:00.000Z level=error svc=tthc-ingest event=exit error="connect: connection to server at "127.0.0.1" failed"'
if "${CHECK[@]}" - <<<"$bad_line" 2>/dev/null; then it_fail "the checker accepts a quote inside a quoted value"; fi
if "${CHECK[@]}" - <<<'rdkafka: %3|1|FAIL|rdkafka#consumer-1| connect failed' 2>/dev/null; then
    it_fail "the checker accepts librdkafka's raw line"
fi
"${CHECK[@]}" - <<<'ts=2026-01-01T00:00:00.000Z level=info svc=x event=y k="a \"q\" \\ \n" e="" u=Xã' ||
    it_fail "the checker rejects a valid line"

it_setup
L=$IT_DIR/logs
mkdir -p "$L"
"${ORACLE[@]}" gen --seed logfmt --dossiers 300 --units 3 --malformed 9 --conflicts 3 \
    --out-events "$IT_DIR/events.tsv" --out-expected "$IT_DIR/expected.json" >/dev/null
it_produce "$IT_DIR/events.tsv"
TOKEN=it-logfmt-token
printf '%s\n' "$TOKEN" >"$IT_DIR/token"
printf '%s\n' "wrong-$TOKEN" >"$IT_DIR/wrong-token"
NODB='postgresql:///nope?host=/nonexistent-dir&connect_timeout=2'

# run NAME CMD...: a short-lived program, its stderr to L/NAME.log (exit status ignored).
run() {
    local name=$1
    shift
    "$@" </dev/null >"$L/$name.out" 2>>"$L/$name.log" || true
}
# bg NAME CMD...: a daemon in the background, stderr and stdout to L/NAME.log.
bg() {
    local name=$1
    shift
    "$@" </dev/null >>"$L/$name.log" 2>&1 &
    echo $! >"$IT_DIR/$name.pid"
}
logged() { grep -q -- "$2" "$L/$1.log" 2>/dev/null; }
stop() {
    stop_pid "$IT_DIR/$1.pid" || it_fail "$1 did not stop"
}

# ---- tthc-migrate: applied again (nothing to do), bad database, bad option.
run migrate "$TTHC_BIN_DIR/tthc-migrate" --dsn "$TTHC_PG_DSN" --dir "$TTHC_SOURCE_DIR/migrations"
run migrate "$TTHC_BIN_DIR/tthc-migrate" --dsn "$NODB" --dir "$TTHC_SOURCE_DIR/migrations"
run migrate "$TTHC_BIN_DIR/tthc-migrate" --no-such-option
logged migrate 'level=error' || it_fail "tthc-migrate logged no failure"

# ---- the stub: at work (debug: one line per request), an invalid report, port taken, no token.
SPORT=$(_pg_free_port)
PORTAL=http://127.0.0.1:$SPORT
bg stub "$TTHC_BIN_DIR/tthc-portal-stub" --listen "127.0.0.1:$SPORT" --dsn "$TTHC_PG_DSN" \
    --token-file "$IT_DIR/token" --log-level debug
wait_until 30 curl -fsS -m 2 "$PORTAL/healthz" -o /dev/null || it_fail "stub not up"
curl -sS -m 5 -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -H 'Idempotency-Key: k "quoted"' --data-binary '{"unit_code": "x"}' "$PORTAL/api/v1/indicator-reports" || true
curl -sS -m 5 -o /dev/null "$PORTAL/no/such/%22path%22?q=%0a" || true
run stub-clash "$TTHC_BIN_DIR/tthc-portal-stub" --listen "127.0.0.1:$SPORT" --dsn "$TTHC_PG_DSN" \
    --token-file "$IT_DIR/token"
logged stub-clash 'event=exit rc=' || it_fail "the stub on a taken port logged no exit line"
if grep -q ' err=' "$L/stub-clash.log"; then it_fail "the stub still says err=: $(cat "$L/stub-clash.log")"; fi
logged stub-clash ' error=' || it_fail "the stub's failure has no error= key"
run stub-notoken env -u TTHC_PORTAL_TOKEN "$TTHC_BIN_DIR/tthc-portal-stub" --listen 127.0.0.1:0 --dsn "$TTHC_PG_DSN"

# ---- tthc-ingest: at work with dead letters and librdkafka debug lines,
# then PostgreSQL gone (libpq's message quotes the socket path), a bad
# setting, and an unreachable broker (librdkafka's own error lines).
TTHC_KAFKA_DEBUG=cgrp bg ingest "$TTHC_BIN_DIR/tthc-ingest" --log-level debug --metrics-listen 127.0.0.1:0
it_wait_applied "$(wc -l <"$IT_DIR/events.tsv")"
logged ingest 'event=rdkafka ' || it_fail "no librdkafka line went through the logger"

# ---- tthc-sync: at work against the stub, then the portal unreachable, a wrong token, bad usage.
bg sync "$TTHC_BIN_DIR/tthc-sync" --portal-url "$PORTAL" --token-file "$IT_DIR/token" \
    --metrics-listen 127.0.0.1:0 --log-level debug
_pushed() { [[ $(it_sql "SELECT count(*) FROM sync_state WHERE status = 'synced'") -gt 0 ]]; }
wait_until 60 _pushed || it_fail "sync pushed nothing"
stop sync
bg sync-down "$TTHC_BIN_DIR/tthc-sync" --portal-url "http://127.0.0.1:1" --token-file "$IT_DIR/token" \
    --metrics-listen '' --log-level debug --connect-timeout-ms 200 --backoff-cap-ms 200
it_sql "UPDATE period_totals SET revision = revision + 1; NOTIFY tthc_totals" >/dev/null
wait_until 30 logged sync-down 'event=retry' || it_fail "sync logged no retry with the portal down"
stop sync-down
bg sync-token "$TTHC_BIN_DIR/tthc-sync" --portal-url "$PORTAL" --token-file "$IT_DIR/wrong-token" --metrics-listen ''
it_sql "UPDATE period_totals SET revision = revision + 1; NOTIFY tthc_totals" >/dev/null
wait_until 30 logged sync-token 'event=portal_unauthorized' || it_fail "sync logged no portal_unauthorized"
stop sync-token
run sync-usage "$TTHC_BIN_DIR/tthc-sync" reconcile --period 2025-13 --portal-url "$PORTAL" --token-file "$IT_DIR/token"
run sync-usage "$TTHC_BIN_DIR/tthc-sync" frobnicate
run sync-usage "$TTHC_BIN_DIR/tthc-sync" --workers 0
run sync-usage "$TTHC_BIN_DIR/tthc-sync" reconcile --period 2025-03 --portal-url "$PORTAL" \
    --token-file "$IT_DIR/token" --dsn "$NODB"
[[ $(grep -c 'level=error' "$L/sync-usage.log") -ge 4 ]] || it_fail "tthc-sync's usage errors are not log lines"

# PostgreSQL gone under a running ingest.
pg_stop "$IT_DIR" >/dev/null
"${ORACLE[@]}" gen --seed logfmt-2 --dossiers 20 --units 1 --out-events "$IT_DIR/more.tsv" \
    --out-expected "$IT_DIR/more.json" >/dev/null
it_produce "$IT_DIR/more.tsv"
wait_until 60 logged ingest 'event=database_connect_failed' || it_fail "ingest logged no database failure"
stop ingest
pg_start "$IT_DIR" >/dev/null
run ingest-bad "$TTHC_BIN_DIR/tthc-ingest" --batch-max 0
run ingest-bad "$TTHC_BIN_DIR/tthc-ingest" --metrics-listen 'not an address'
bg ingest-nobroker "$TTHC_BIN_DIR/tthc-ingest" --brokers 127.0.0.1:1 --metrics-listen '' --group logfmt-nobroker
wait_until 60 logged ingest-nobroker 'event=rdkafka .*level=error\|level=error .*event=rdkafka' ||
    it_fail "no librdkafka error line from an unreachable broker"
stop ingest-nobroker

# ---- tthc-lag: at work (its table on stdout, not checked), a bad broker, bad options.
run lag "$TTHC_BIN_DIR/tthc-lag" --group tthc-ingest --dsn "$TTHC_PG_DSN" --log-level info
run lag "$TTHC_BIN_DIR/tthc-lag" --group tthc-ingest --brokers 127.0.0.1:1 --timeout 3
run lag "$TTHC_BIN_DIR/tthc-lag" --samples 0
logged lag 'level=error' || it_fail "tthc-lag logged no failure"

sanitizer_check "$L"/*.log || it_fail "sanitizer report"
echo "events logged per program and file:"
"${CHECK[@]}" --summary "$L"/*.log || it_fail "a log line is not logfmt (above)"
echo "it_logfmt: ok"
