#!/usr/bin/env bash
# tthc-ingest's /readyz and broker metrics when the broker freezes: with the
# broker stopped (SIGSTOP) until the group session expires, /readyz answers
# 503 with the reasons (broker unreachable, no partitions past the grace) and
# /metrics says so (broker_up 0, no partition assigned out of the topic's);
# after SIGCONT it is ready again with every partition.  Also: PostgreSQL
# down is a reason, the newest applied event's timestamp is exposed, and an
# empty TTHC_INGEST_METRICS_LISTEN turns the listener off.
source "$(dirname "$0")/common.sh"
it_setup
export TTHC_KAFKA_STATISTICS_INTERVAL_MS=500

port_of() {
    local p
    p=$(sed -n 's/.*event=metrics_listening .* port=\([0-9]*\).*/\1/p' "$IT_DIR/ingest-$1.log" | tail -n1)
    [[ -n $p ]] && echo "$p"
}
readyz() { curl -sS -m 5 -o "$IT_DIR/readyz.body" -w '%{http_code}' "http://127.0.0.1:$(port_of a)/readyz"; }
metric() { curl -fsS -m 5 "http://127.0.0.1:$(port_of a)/metrics" | grep -E "^$1(\{| )" | awk '{ print $NF }'; }
is_ready() { [[ $(readyz) == 200 ]]; }
# not_ready_with TEXT...: 503 and every TEXT in the body's reasons
not_ready_with() {
    [[ $(readyz) == 503 ]] || return 1
    local t
    for t in "$@"; do grep -qF -- "$t" "$IT_DIR/readyz.body" || return 1; done
}
all_assigned() {
    local total
    total=$(metric tthc_ingest_topic_partitions)
    [[ -n $total && $total -gt 0 && $(metric tthc_ingest_group_assigned_partitions) == "$total" ]]
}
# The broker's processes (lib.sh broker_pids: tthc-kafka-dev, or every Kafka
# node's JVM) and their descendants, frozen and thawed together.
_pid_tree() {
    local c
    echo "$1"
    for c in $(pgrep -P "$1" || true); do _pid_tree "$c"; done
}
BROKER_PIDS=$(for p in $(broker_pids "$IT_DIR"); do _pid_tree "$p"; done)
[[ -n $BROKER_PIDS ]] || it_fail "no broker pid for $IT_DIR"
frozen=0
broker_signal() { # STOP|CONT
    local p
    for p in $BROKER_PIDS; do kill "-$1" "$p"; done
    if [[ $1 == STOP ]]; then frozen=1; else frozen=0; fi
}
# Never leave a frozen broker behind (the cleanup could not stop it).
_on_exit() {
    local rc=$?
    if ((frozen)); then broker_signal CONT; fi
    (exit "$rc")
    it_cleanup
}
trap _on_exit EXIT

# 1. An empty TTHC_INGEST_METRICS_LISTEN: no listener (as --help says).
TTHC_INGEST_METRICS_LISTEN='' it_ingest_start off --group tthc-ready-off
_started_off() { grep -q 'event=started' "$IT_DIR/ingest-off.log"; }
wait_until 60 _started_off || it_fail "ingest with an empty TTHC_INGEST_METRICS_LISTEN did not start"
if grep -q 'event=metrics_listening' "$IT_DIR/ingest-off.log"; then
    it_fail "an empty TTHC_INGEST_METRICS_LISTEN still opened a listener: $(grep metrics_listening "$IT_DIR/ingest-off.log")"
fi
it_ingest_stop off

# 2. Ready: every partition, broker answering.
it_ingest_start a --metrics-listen 127.0.0.1:0 --unassigned-grace-ms 3000
wait_until 30 port_of a >/dev/null || it_fail "no metrics port logged"
wait_until 90 is_ready || it_fail "never ready: $(cat "$IT_DIR/readyz.body")"
wait_until 60 all_assigned || it_fail "not every partition assigned"
[[ $(metric tthc_ingest_broker_up) == 1 ]] || it_fail "broker_up is not 1"
partitions=$(metric tthc_ingest_topic_partitions)
echo "ready with $partitions of $partitions partitions"

"${ORACLE[@]}" gen --seed ready-1 --dossiers 200 --units 3 --out-events "$IT_DIR/events.tsv" \
    --out-expected "$IT_DIR/expected.json" >/dev/null
before=$(date +%s)
it_produce "$IT_DIR/events.tsv"
it_wait_applied "$(wc -l <"$IT_DIR/events.tsv")"
# The gauge follows the commit: tthc-ingest's main thread sets it when it collects
# the applied batch from the apply thread, a poll after PostgreSQL has it.
_has_last_event() {
    last_event=$(metric tthc_ingest_last_event_timestamp_seconds || true)
    [[ -n $last_event ]]
}
wait_until 30 _has_last_event || it_fail "no tthc_ingest_last_event_timestamp_seconds within 30 s of applying events"
awk -v t="$last_event" -v b="$before" 'BEGIN { exit !(t >= b - 1 && t <= b + 600) }' ||
    it_fail "newest event timestamp $last_event is not the produce time (~$before)"
[[ $last_event == *.* || $last_event =~ ^[0-9]{10}$ ]] || it_fail "timestamp printed inexactly: $last_event"

# 3. The broker frozen until the group session (6 s) expires.
broker_signal STOP
wait_until 60 not_ready_with "broker unreachable" || it_fail "readyz not 503 'broker unreachable': $(cat "$IT_DIR/readyz.body")"
_broker_down() { [[ $(metric tthc_ingest_broker_up) == 0 ]]; }
wait_until 30 _broker_down || it_fail "broker_up not 0 while the broker is frozen"
_no_partitions() { [[ $(metric tthc_ingest_group_assigned_partitions) == 0 ]]; }
wait_until 90 _no_partitions || it_fail "partitions still held with the broker frozen"
wait_until 30 not_ready_with "broker unreachable" "no partitions assigned" ||
    it_fail "readyz does not name both reasons: $(cat "$IT_DIR/readyz.body")"
echo "frozen: $(cat "$IT_DIR/readyz.body")"
awk -v s="$(metric tthc_ingest_unassigned_seconds)" 'BEGIN { exit !(s > 3) }' ||
    it_fail "unassigned_seconds $(metric tthc_ingest_unassigned_seconds) not past the grace"
[[ $(metric tthc_ingest_topic_partitions) == "$partitions" ]] || it_fail "topic partition count lost"
curl -fsS -m 5 "http://127.0.0.1:$(port_of a)/healthz" >/dev/null || it_fail "healthz failed: the loop itself runs"

# 4. Thawed: ready again with every partition.
broker_signal CONT
wait_until 120 is_ready || it_fail "not ready again after SIGCONT: $(cat "$IT_DIR/readyz.body")"
wait_until 60 all_assigned || it_fail "partitions not all back after SIGCONT"
[[ $(metric tthc_ingest_broker_up) == 1 ]] || it_fail "broker_up not 1 after SIGCONT"
echo "thawed: $(cat "$IT_DIR/readyz.body")"

# 5. PostgreSQL down (found by the next batch) is a reason too.
pg_stop "$IT_DIR" >/dev/null
"${ORACLE[@]}" gen --seed ready-2 --dossiers 20 --units 2 --out-events "$IT_DIR/events2.tsv" \
    --out-expected "$IT_DIR/expected2.json" >/dev/null
it_produce "$IT_DIR/events2.tsv" # the next transaction finds the database gone
wait_until 60 not_ready_with "database unreachable" || it_fail "readyz without PostgreSQL: $(cat "$IT_DIR/readyz.body")"
pg_start "$IT_DIR" >/dev/null
wait_until 60 is_ready || it_fail "not ready after PostgreSQL came back: $(cat "$IT_DIR/readyz.body")"

it_ingest_stop a
echo "it_ingest_ready: ok"
