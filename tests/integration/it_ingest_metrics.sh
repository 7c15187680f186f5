#!/usr/bin/env bash
# Operators' view of tthc-ingest on the dev broker: lag and status as a
# consumer falls behind (WARN), stops (STOP/STALL), catches up (OK, lag 0);
# series of a partition moved to another instance disappear; the output
# passes `promtool check metrics`.
source "$(dirname "$0")/common.sh"
command -v promtool >/dev/null || it_fail "promtool missing (Debian package prometheus; scripts/deps installs it)"
it_setup
export TTHC_KAFKA_STATISTICS_INTERVAL_MS=500
# Small fetches per partition: the consumer moves through all partitions in
# turn, instead of draining one partition's large fetch while the others wait
# (which would read as STOP on them rather than WARN).
export TTHC_KAFKA_MAX_PARTITION_FETCH_BYTES=4096
"${ORACLE[@]}" gen --seed metrics-1 --dossiers 6000 --units 10 --malformed 9 --conflicts 5 \
    --out-events "$IT_DIR/events.tsv" --out-expected "$IT_DIR/expected.json" >/dev/null
total=$(wc -l <"$IT_DIR/events.tsv")
split -n l/10 -d "$IT_DIR/events.tsv" "$IT_DIR/chunk."

port_of() {
    local p
    p=$(sed -n 's/.*event=metrics_listening .* port=\([0-9]*\).*/\1/p' "$IT_DIR/ingest-$1.log" | tail -n1)
    [[ -n $p ]] && echo "$p"
}
scrape() { curl -fsS -m 5 "http://127.0.0.1:$(port_of "$1")/metrics"; }
# metric NAME LABEL-REGEX INSTANCE -> values, one per line
metric() { scrape "$3" | grep -E "^$1(\{| )" | grep -E -- "$2" | awk '{ print $NF }'; }
group_is() { [[ $(metric tthc_ingest_group_status "status=\"$1\"" "$2") == 1 ]]; }
any_partition_is() { metric tthc_ingest_partition_status "status=\"($1)\"" "$2" | grep -qx 1; }
all_lag_zero() {
    local v
    v=$(metric tthc_ingest_partition_lag_messages 'offset="applied"' "$1" | sort -u)
    [[ $v == 0 ]] || return 1
    v=$(metric tthc_ingest_partition_lag_seconds '' "$1" | sort -u)
    [[ $v == 0 ]]
}
max_lag() { metric tthc_ingest_partition_lag_messages 'offset="applied"' "$1" | sort -n | tail -n1; }

# Slow on purpose (one-message batches, one transaction each) so that a fast
# producer outruns it while it keeps advancing.
it_ingest_start a --batch-max 1 --batch-ms 1 --metrics-listen 127.0.0.1:0
wait_until 30 port_of a >/dev/null || it_fail "no metrics port logged"
_assigned() { [[ $(metric tthc_ingest_group_assigned_partitions '' a) == 12 ]]; }
wait_until 60 _assigned || it_fail "instance a never got the 12 partitions"

# 1. Falling behind while advancing: WARN.  A steady producer (about 2,000
# messages/s for several seconds, in slices; the pause paces the producer, it
# awaits nothing) outruns the one-message batches (a few hundred a second) in
# every statistics interval.
cat "$IT_DIR/chunk.00" "$IT_DIR/chunk.01" "$IT_DIR/chunk.02" | split -l 200 -d -a 4 - "$IT_DIR/slice."
(for f in "$IT_DIR"/slice.*; do it_produce "$f"; sleep 0.1; done) &
feeder=$!
if ! wait_until 60 any_partition_is WARN a; then
    scrape a | grep -E '^tthc_ingest_partition_(status|lag_messages).* 1$|lag_messages' | head -n 40 >&2
    it_fail "no partition reached WARN while the consumer fell behind"
fi
echo "WARN seen with lag $(max_lag a)"
wait "$feeder"
_lag_seconds_positive() { metric tthc_ingest_partition_lag_seconds '' a | awk '$1 > 0 { f = 1 } END { exit !f }'; }
_lag_seconds_positive || it_fail "lag seconds is 0 while behind"
scrape a >"$IT_DIR/metrics-behind.txt"
promtool check metrics <"$IT_DIR/metrics-behind.txt" || it_fail "promtool check metrics failed"

# 2. Stopped (PostgreSQL gone: partitions paused) while events keep coming: STOP or STALL, group ERR.
pg_stop "$IT_DIR" >/dev/null
it_produce "$IT_DIR/chunk.03"
it_produce "$IT_DIR/chunk.04"
wait_until 60 any_partition_is 'STOP|STALL' a || it_fail "no partition reached STOP or STALL while stopped"
wait_until 30 group_is ERR a || it_fail "group not ERR while stopped"
[[ $(metric tthc_ingest_db_up '' a) == 0 ]] || it_fail "db_up is not 0 while PostgreSQL is down"
curl -fsS -m 5 "http://127.0.0.1:$(port_of a)/healthz" >/dev/null || it_fail "healthz failed while the loop runs"
if curl -fsS -m 5 "http://127.0.0.1:$(port_of a)/readyz" >/dev/null; then it_fail "readyz says ready without PostgreSQL"; fi

# 3. Back, caught up: OK and lag exactly 0.
pg_start "$IT_DIR" >/dev/null
it_ingest_stop a
for c in 05 06 07; do it_produce "$IT_DIR/chunk.$c"; done
it_ingest_start a --metrics-listen 127.0.0.1:0
_port_again() { [[ $(grep -c event=metrics_listening "$IT_DIR/ingest-a.log") -ge 2 ]]; }
wait_until 30 _port_again || it_fail "restarted instance logged no port"
it_wait_applied "$(($(wc -l <"$IT_DIR/chunk.00") + $(wc -l <"$IT_DIR/chunk.01") + $(wc -l <"$IT_DIR/chunk.02") +
    $(wc -l <"$IT_DIR/chunk.03") + $(wc -l <"$IT_DIR/chunk.04") + $(wc -l <"$IT_DIR/chunk.05") +
    $(wc -l <"$IT_DIR/chunk.06") + $(wc -l <"$IT_DIR/chunk.07")))" 120
wait_until 60 all_lag_zero a || it_fail "lag not 0 after catching up: max $(max_lag a)"
wait_until 60 group_is OK a || it_fail "group not OK after catching up"
curl -fsS -m 5 "http://127.0.0.1:$(port_of a)/readyz" >/dev/null || it_fail "readyz not ready when caught up"
# The backlog was read with the fetch wake-up on (the default): its requests are counted.
_woken() { metric tthc_ingest_fetch_wakeups_total '' a | awk '$1 > 0 { f = 1 } END { exit !f }'; }
wait_until 30 _woken || it_fail "tthc_ingest_fetch_wakeups_total stayed 0 while a backlog was consumed"

# 4. A second instance takes half the partitions: their series leave instance a.
it_ingest_start b --metrics-listen 127.0.0.1:0
wait_until 30 port_of b >/dev/null || it_fail "no metrics port for b"
_split() { [[ $(metric tthc_ingest_group_assigned_partitions '' a) == 6 && $(metric tthc_ingest_group_assigned_partitions '' b) == 6 ]]; }
wait_until 60 _split || it_fail "the partitions were not split 6/6"
parts_of() { scrape "$1" | sed -n 's/^tthc_ingest_partition_status{.*partition="\([0-9]*\)".*status="OK".*/\1/p' | sort -n | tr '\n' ' '; }
pa=$(parts_of a)
pb=$(parts_of b)
echo "a: $pa / b: $pb"
[[ $(wc -w <<<"$pa") == 6 && $(wc -w <<<"$pb") == 6 ]] || it_fail "each instance should show exactly its 6 partitions"
for p in $pb; do
    if grep -qw "$p" <<<"$pa"; then it_fail "partition $p shows on both instances"; fi
done
for c in 08 09; do it_produce "$IT_DIR/chunk.$c"; done
it_wait_applied "$total" 120
scrape b | promtool check metrics || it_fail "promtool check metrics failed on b"
it_ingest_stop b
it_ingest_stop a
echo "it_ingest_metrics: ok"
