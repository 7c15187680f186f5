#!/usr/bin/env bash
# it_stack: the infrastructure end to end.
#  - PostgreSQL from scripts/lib.sh, a fresh database;
#  - tthc-migrate started twice at once: both succeed, each migration recorded once;
#    the seeded catalogue and the views exist; a third run changes nothing;
#    an applied file that changed is refused, naming the file;
#  - tthc-kafka-dev: topics with their partition counts; 100 keyed messages
#    produced with kcat come back, exactly 100, each key in one partition.
set -euo pipefail

src=${TTHC_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck disable=SC1091
source "$src/scripts/lib.sh"

work=$(tthc_mktemp it-stack)
cleanup() {
    local rc=$?
    state_dir_stop "$work" || true
    ((rc == 0)) || dump_logs "$work" 30
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
    [[ $2 == "$3" ]] || fail "$1: expected '$2', got '$3'"
    echo "ok: $1 = $3"
}

migrate=$TTHC_BIN_DIR/tthc-migrate
[[ -x $migrate ]] || fail "$migrate not built"
psql_q() { psql "$dsn" -XqAt -v ON_ERROR_STOP=1 -c "$1"; }

# ---- PostgreSQL and migrations ----------------------------------------------

pg_start "$work" >/dev/null
dsn=$(pg_createdb "$work" it_stack)

"$migrate" --dsn "$dsn" --dir "$src/migrations" >"$work/migrate1.log" 2>&1 &
m1=$!
"$migrate" --dsn "$dsn" --dir "$src/migrations" >"$work/migrate2.log" 2>&1 &
m2=$!
wait "$m1" || fail "first concurrent tthc-migrate failed: $(cat "$work/migrate1.log")"
wait "$m2" || fail "second concurrent tthc-migrate failed: $(cat "$work/migrate2.log")"

nfiles=$(find "$src/migrations" -maxdepth 1 -name '[0-9]*_*.sql' | wc -l)
((nfiles >= 1)) || fail "no migration files in $src/migrations"
expect_eq "schema_migrations rows" "$nfiles" "$(psql_q 'SELECT count(*) FROM schema_migrations')"
expect_eq "distinct versions" "$nfiles" "$(psql_q 'SELECT count(DISTINCT version) FROM schema_migrations')"
applied_now=$(cat "$work/migrate1.log" "$work/migrate2.log" | grep -c 'event=applied ' || true)
expect_eq "files applied across both runs" "$nfiles" "$applied_now"

expect_eq "indicators" 10 "$(psql_q 'SELECT count(*) FROM indicator')"
targets=$(psql_q 'SELECT count(*) FROM indicator_target')
((targets >= 11)) || fail "indicator_target: expected at least the 11 seeded rows, got $targets"
echo "ok: indicator_target rows = $targets"
expect_eq "target online_submission NQ 01 #3" "60.00" \
    "$(psql_q "SELECT target_pct FROM indicator_target WHERE indicator = 'online_submission' AND source_doc = 'NQ 01/NQ-CP #3' AND year = 2025")"
expect_eq "target satisfaction NQ 02 #4" "90.00" \
    "$(psql_q "SELECT target_pct FROM indicator_target WHERE indicator = 'satisfaction' AND source_doc = 'NQ 02/NQ-CP #4' AND year = 2025")"
expect_eq "view indicator_totals" 1 \
    "$(psql_q "SELECT count(*) FROM information_schema.views WHERE table_name = 'indicator_totals'")"
expect_eq "indicator_totals rows (empty database)" 0 "$(psql_q 'SELECT count(*) FROM indicator_totals')"

"$migrate" --dsn "$dsn" --dir "$src/migrations" >"$work/migrate3.log" 2>&1 || fail "third run failed"
grep -q 'event=done applied_now=0 ' "$work/migrate3.log" || fail "third run applied something: $(cat "$work/migrate3.log")"
"$migrate" --dsn "$dsn" --dir "$src/migrations" --status >"$work/status.out" 2>&1 || fail "--status failed"
grep -q "^$nfiles applied, 0 pending, 0 changed$" "$work/status.out" || fail "--status: $(cat "$work/status.out")"
echo "ok: rerun and --status"

# A changed applied file is refused, with its name in the error.
mkdir "$work/changed"
cp "$src"/migrations/*.sql "$work/changed/"
first=$(find "$work/changed" -maxdepth 1 -name '[0-9]*_*.sql' | sort | head -n1)
echo "-- edited after it was applied" >>"$first"
if "$migrate" --dsn "$dsn" --dir "$work/changed" >"$work/migrate4.log" 2>&1; then
    fail "tthc-migrate accepted a changed applied file"
fi
grep -q "${first##*/}: changed after it was applied" "$work/migrate4.log" ||
    fail "the error does not name the changed file: $(cat "$work/migrate4.log")"
echo "ok: changed file refused"

# ---- the broker (Apache Kafka by default; TTHC_BROKER=mock: tthc-kafka-dev) ----

topic=tthc.dossier.events
brokers=$(broker_start "$work" --extra-topics it.extra:2)
meta=$(timeout 30 kcat -b "$brokers" -L)
grep -q "topic \"$topic\" with 12 partitions" <<<"$meta" || fail "no $topic with 12 partitions: $meta"
grep -q 'topic "tthc.dlq" with 3 partitions' <<<"$meta" || fail "no tthc.dlq with 3 partitions: $meta"
grep -q 'topic "it.extra" with 2 partitions' <<<"$meta" || fail "no it.extra with 2 partitions: $meta"
echo "ok: topics"

# 100 messages over 25 dossiers (4 each), keyed by dossier id.
for i in $(seq 1 100); do
    printf 'D%03d:{"event_id":"e%03d","dossier_id":"D%03d"}\n' $((i % 25)) "$i" $((i % 25))
done | timeout 60 kcat -b "$brokers" -P -t "$topic" -K: || fail "kcat produce failed"

timeout 60 kcat -b "$brokers" -C -t "$topic" -e -q -f '%p %k %s\n' >"$work/consumed.txt" ||
    fail "kcat consume failed"
expect_eq "messages consumed" 100 "$(wc -l <"$work/consumed.txt")"
expect_eq "distinct events" 100 "$(grep -o '"event_id":"e[0-9]*"' "$work/consumed.txt" | sort -u | wc -l)"
expect_eq "distinct keys" 25 "$(cut -d' ' -f2 "$work/consumed.txt" | sort -u | wc -l)"
expect_eq "keys spread over several partitions" 1 \
    "$(($(cut -d' ' -f1 "$work/consumed.txt" | sort -u | wc -l) > 1))"
expect_eq "each key in exactly one partition" 25 \
    "$(cut -d' ' -f1,2 "$work/consumed.txt" | sort -u | wc -l)"

mapfile -t bpids < <(broker_pids "$work")
((${#bpids[@]} >= 1)) || fail "no broker pid recorded"
broker_stop "$work"
[[ ! -e $work/kafka.bootstrap ]] || fail "kafka.bootstrap left behind after a clean stop"
for p in "${bpids[@]}"; do pid_alive "$p" && fail "broker pid $p still running after broker_stop"; done
if [[ ${TTHC_BROKER:-kafka} == mock ]]; then
    grep -q 'event=stopped ' "$work/kafka.log" || fail "tthc-kafka-dev did not log a clean stop"
else
    grep -q 'shut down completed' "$work/kafka-1.log" || fail "Kafka did not log a clean shutdown (see $work/kafka-1.log)"
fi
sanitizer_check "$work"/*.log || fail "sanitizer report (see above)"
echo "ok: broker stopped cleanly"
echo "PASS it_stack"
