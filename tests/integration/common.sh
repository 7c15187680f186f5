# shellcheck shell=bash
# tests/integration/common.sh - shared set-up of the ingest integration tests.
# Each test gets its own PostgreSQL cluster and dev broker in a fresh /tmp
# directory, removed at exit (kept with TTHC_KEEP=1 for debugging).

set -euo pipefail
TTHC_SOURCE_DIR=${TTHC_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=../../scripts/lib.sh
source "$TTHC_SOURCE_DIR/scripts/lib.sh"
ORACLE=(python3 "$TTHC_SOURCE_DIR/tests/tools/tthc_stream.py")
TOPIC=tthc.dossier.events
DLQ=tthc.dlq

it_fail() {
    tthc_error "FAIL: $*"
    exit 1
}

it_cleanup() {
    local rc=$?
    set +e
    for f in "$IT_DIR"/ingest-*.pid; do
        [[ -e $f ]] && kill -KILL "$(cat "$f")" 2>/dev/null
    done
    state_dir_stop "$IT_DIR" >/dev/null 2>&1
    sanitizer_check "$IT_DIR"/*.log || rc=1
    ((rc == 0)) || dump_logs "$IT_DIR"
    if [[ -z ${TTHC_KEEP:-} ]]; then rm -rf "$IT_DIR"; else echo "kept $IT_DIR" >&2; fi
    exit "$rc"
}

# it_setup: PostgreSQL + schema + broker; exports TTHC_PG_DSN, TTHC_KAFKA_BROKERS.
# IT_BROKER_ARGS: options of broker_start (e.g. "--nodes 3").
it_setup() {
    IT_DIR=$(tthc_mktemp "$(basename "$0" .sh)")
    trap it_cleanup EXIT
    TTHC_PG_FSYNC=off pg_start "$IT_DIR" >/dev/null
    TTHC_PG_DSN=$(cat "$IT_DIR/pg/dsn")
    "$TTHC_BIN_DIR/tthc-migrate" --dsn "$TTHC_PG_DSN" 2>>"$IT_DIR/migrate.log"
    # shellcheck disable=SC2086 # a list of options
    broker_start "$IT_DIR" ${IT_BROKER_ARGS:-} >/dev/null
    TTHC_KAFKA_BROKERS=$(cat "$IT_DIR/kafka.bootstrap")
    # A short session timeout: the dev broker waits session.timeout.ms - 1 s for rejoins.
    export TTHC_PG_DSN TTHC_KAFKA_BROKERS TTHC_KAFKA_SESSION_TIMEOUT_MS=6000
    export TTHC_INGEST_METRICS_LISTEN=127.0.0.1:0 # an ephemeral port: tests run side by side
}

# it_metrics_port NAME: the /metrics port instance NAME logged (started with
# --metrics-listen 127.0.0.1:0).
it_metrics_port() {
    local p
    p=$(sed -n 's/.*event=metrics_listening .* port=\([0-9]*\).*/\1/p' "$IT_DIR/ingest-$1.log" | tail -n1)
    [[ -n $p ]] && echo "$p"
}

# it_log_end_offsets TOPIC: "PARTITION OFFSET" lines, the log-end offsets, from
# Kafka's own GetOffsetShell (real broker) or kcat -Q (mock).
it_log_end_offsets() {
    local topic=$1
    if [[ ${TTHC_BROKER:-kafka} == kafka ]]; then
        kafka_tool get-offsets --bootstrap-server "$TTHC_KAFKA_BROKERS" --topic "$topic" --time latest |
            awk -F: '{ print $(NF-1), $NF }' | sort -n
    else
        local p
        for p in $(kcat -b "$TTHC_KAFKA_BROKERS" -L -t "$topic" | sed -n 's/.*partition \([0-9]*\),.*/\1/p'); do
            echo "$p $(kcat -b "$TTHC_KAFKA_BROKERS" -Q -t "$topic:$p:-1" | awk '{ print $NF }')"
        done | sort -n
    fi
}

# it_sql SQL: one value, unaligned.
it_sql() { psql -X -A -t -q "$TTHC_PG_DSN" -c "$1"; }

# it_produce FILE: KEY<TAB>JSON lines into the dossier topic (lz4, keyed).
it_produce() {
    kcat -P -b "$TTHC_KAFKA_BROKERS" -t "$TOPIC" -K $'\t' -z lz4 -l "$1"
}

# it_ingest_start NAME [ARGS...]: an ingest process in the background; its pid
# in IT_DIR/ingest-NAME.pid and $IT_PID.
it_ingest_start() {
    local name=$1
    shift
    "$TTHC_BIN_DIR/tthc-ingest" "$@" </dev/null >>"$IT_DIR/ingest-$name.log" 2>&1 &
    IT_PID=$!
    echo "$IT_PID" >"$IT_DIR/ingest-$name.pid"
}

# it_ingest_stop NAME: SIGTERM, then the exit status must be 0 (a clean
# shutdown, and no leak or UB report from the sanitizers).
it_ingest_stop() {
    local name=$1 pid rc=0
    pid=$(cat "$IT_DIR/ingest-$name.pid")
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    rm -f "$IT_DIR/ingest-$name.pid"
    ((rc == 0)) || it_fail "ingest $name exited with $rc after SIGTERM (see $IT_DIR/ingest-$name.log)"
    sanitizer_check "$IT_DIR/ingest-$name.log" || it_fail "sanitizer report in ingest-$name.log"
}

it_ingest_kill() {
    local name=$1 pid
    pid=$(cat "$IT_DIR/ingest-$name.pid")
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$IT_DIR/ingest-$name.pid"
}

# The stored offsets of the dossier topic add up to the number of messages
# produced into a fresh topic once everything is applied.
it_applied() { it_sql "SELECT coalesce(sum(next_offset), 0) FROM consumer_offset WHERE topic = '$TOPIC'"; }
_applied_is() { [[ $(it_applied 2>/dev/null) == "$1" ]]; }
it_wait_applied() {
    local n=$1 timeout=${2:-120}
    wait_until "$timeout" _applied_is "$n" || it_fail "only $(it_applied) of $n messages applied within ${timeout}s"
}

# it_dlq_dump FILE: the DLQ's headers, one line per message, repeats removed
# (the DLQ is at-least-once across crashes; a repeat has identical headers).
it_dlq_dump() {
    kcat -C -b "$TTHC_KAFKA_BROKERS" -t "$DLQ" -e -q -f '%h\n' >"$1.raw" 2>/dev/null || true
    sort -u "$1.raw" >"$1"
}

it_check() {
    local expected=$1 dlq=$2
    "${ORACLE[@]}" check --expected "$expected" --dsn "$TTHC_PG_DSN" --dlq-file "$dlq"
}
