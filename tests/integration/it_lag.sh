#!/usr/bin/env bash
# tthc-lag on the broker (Apache Kafka; TTHC_BROKER=mock: the dev broker), with
# asserted rows and exit codes:
#  A. a kcat consumer group (Kafka's committed offsets, no DSN): caught up -> OK,
#     exit 0, lag 0; stopped while messages keep arriving -> STALL (commit
#     times are unknown on Kafka's offsets), group ERR, exit 2;
#  B. tthc-ingest with PostgreSQL (--dsn: applied offsets, whose updated_at
#     gives the commit time): caught up -> exit 0; stopped while messages keep
#     arriving -> STOP, exit 2; restarted -> exit 0 again;
#  C. errors: unreachable broker (bounded by --timeout), unknown group, bad
#     usage -> exit 3;
#  D. (Apache Kafka) at one stable moment, tthc-lag and Kafka's own
#     kafka-consumer-groups --describe agree on every partition's committed
#     offset, log-end offset, lag and owner (member, host, client id).
# Every wait is a bounded poll.
source "$(dirname "$0")/common.sh"
LAGT=lag.test       # 3 partitions, for the kcat group
KGROUP=lag-kcat
PRODUCER_PID=

lag_cleanup() {
    local rc=$?
    set +e
    [[ -n $PRODUCER_PID ]] && kill "$PRODUCER_PID" 2>/dev/null && wait "$PRODUCER_PID" 2>/dev/null
    (exit "$rc") # it_cleanup reads the exit status from $?
    it_cleanup
}

IT_DIR=$(tthc_mktemp "$(basename "$0" .sh)")
trap lag_cleanup EXIT
TTHC_PG_FSYNC=off pg_start "$IT_DIR" >/dev/null
TTHC_PG_DSN=$(cat "$IT_DIR/pg/dsn")
"$TTHC_BIN_DIR/tthc-migrate" --dsn "$TTHC_PG_DSN" 2>>"$IT_DIR/migrate.log"
broker_start "$IT_DIR" --partitions 4 --extra-topics "$LAGT:3" >/dev/null
TTHC_KAFKA_BROKERS=$(cat "$IT_DIR/kafka.bootstrap")
# Metrics on a free port: 9464 may be taken by another ingest on this host.
export TTHC_PG_DSN TTHC_KAFKA_BROKERS TTHC_KAFKA_SESSION_TIMEOUT_MS=6000 TTHC_INGEST_METRICS_LISTEN=127.0.0.1:0

# lag_run NAME [ARGS...]: tthc-lag --json into IT_DIR/NAME.json (stderr appended
# to IT_DIR/lag-NAME.log, checked for sanitizer reports at exit); exit code in LAG_RC.
lag_run() {
    local name=$1
    shift
    LAG_RC=0
    "$TTHC_BIN_DIR/tthc-lag" --json "$@" >"$IT_DIR/$name.json" 2>>"$IT_DIR/lag-$name.log" || LAG_RC=$?
}
# The same without a DSN, even though TTHC_PG_DSN is exported for tthc-ingest.
lag_run_kafka() { local name=$1; shift; TTHC_PG_DSN='' lag_run "$name" "$@"; }

# lag_check FILE EXPR: a Python expression over d (the JSON) and p (its partitions).
lag_check() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["partitions"]
ok = eval("(" + sys.argv[2].strip() + ")")
if not ok:
    print("check failed: " + sys.argv[2] + "\n" + json.dumps(d, indent=1), file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}

# lag_value FILE EXPR: prints a Python expression's value.
lag_value() {
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); p = d["partitions"]; print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- A. committed offsets of a kcat group --------------------------------------

for i in $(seq 1 60); do printf 'k%d:v%d\n' "$i" "$i"; done >"$IT_DIR/a.txt"
kcat -P -b "$TTHC_KAFKA_BROKERS" -t "$LAGT" -K: -l "$IT_DIR/a.txt"
# The group reads everything and commits (auto-commit every 100 ms, and at close).
timeout 60 kcat -C -b "$TTHC_KAFKA_BROKERS" -G "$KGROUP" "$LAGT" -e -q \
    -X session.timeout.ms=6000 -X auto.offset.reset=earliest -X auto.commit.interval.ms=100 \
    >"$IT_DIR/a.consumed" 2>>"$IT_DIR/kcat.log" || it_fail "kcat consumer failed"
[[ $(wc -l <"$IT_DIR/a.consumed") == 60 ]] || it_fail "kcat consumed $(wc -l <"$IT_DIR/a.consumed") of 60"

_a_ok() { lag_run_kafka a_ok --group "$KGROUP" --topic "$LAGT" --samples 2 --interval-ms 200; ((LAG_RC == 0)); }
wait_until 30 _a_ok || it_fail "tthc-lag did not report the caught-up kcat group as OK (rc=$LAG_RC)"
lag_check "$IT_DIR/a_ok.json" '
    d["status"] == "OK" and d["basis"] == "committed" and d["group"] == "'"$KGROUP"'" and len(p) == 3
    and sorted(x["partition"] for x in p) == [0, 1, 2]
    and sum(x["log_end_offset"] for x in p) == 60
    and all(x["committed_offset"] == x["log_end_offset"] and x["lag"] == 0 and x["lag_committed"] == 0
            and x["lag_seconds"] == 0 and x["status"] == "OK" and x["evaluated"]
            and x["applied_offset"] is None and x["log_start_offset"] == 0 for x in p)' ||
    it_fail "caught-up rows"
if [[ ${TTHC_BROKER:-kafka} == mock ]]; then
    # The mock cluster cannot describe groups: owners unknown, and said so.
    lag_check "$IT_DIR/a_ok.json" 'd["state"] is None and "DescribeConsumerGroups" in d["owner_error"]
        and all(x["owner"] is None for x in p)' || it_fail "owners on the dev broker"
else
    # Kafka describes the group: kcat has left it, so it is Empty and nobody owns a partition.
    lag_check "$IT_DIR/a_ok.json" 'd["state"] == "Empty" and "owner_error" not in d
        and all(x["owner"] is None for x in p)' || it_fail "owners of the empty kcat group"
fi
committed_before=$(lag_value "$IT_DIR/a_ok.json" '[x["committed_offset"] for x in sorted(p, key=lambda x: x["partition"])]')

# The table: a header line, the column line, one row per partition; exit 0.
rc=0
TTHC_PG_DSN='' "$TTHC_BIN_DIR/tthc-lag" --group "$KGROUP" --topic "$LAGT" --samples 2 --interval-ms 100 \
    >"$IT_DIR/a_ok.txt" 2>>"$IT_DIR/lag-table.log" || rc=$?
((rc == 0)) || it_fail "table run exited $rc"
state=-
[[ ${TTHC_BROKER:-kafka} == kafka ]] && state=Empty
grep -q "^GROUP $KGROUP  STATE $state  STATUS OK " "$IT_DIR/a_ok.txt" || it_fail "table header: $(head -n1 "$IT_DIR/a_ok.txt")"
grep -q '^TOPIC  *PARTITION  *COMMITTED  *LOG-END  *LAG  *LAG-SECONDS  *STATUS  *OWNER$' "$IT_DIR/a_ok.txt" ||
    it_fail "table columns: $(sed -n 2p "$IT_DIR/a_ok.txt")"
[[ $(grep -c "^$LAGT .* OK  *-$" "$IT_DIR/a_ok.txt") == 3 ]] || it_fail "table rows: $(cat "$IT_DIR/a_ok.txt")"

# The group stops (kcat has exited) while messages keep arriving: lag grows on
# a fixed committed offset -> STALL, group ERR, exit 2.
(
    for i in $(seq 1 600); do
        printf 'm%d:v\n' "$i" | kcat -P -b "$TTHC_KAFKA_BROKERS" -t "$LAGT" -K: 2>/dev/null
        sleep 0.05
    done
) &
PRODUCER_PID=$!
_a_stalled() {
    lag_run_kafka a_stall --group "$KGROUP" --topic "$LAGT" --samples 4 --interval-ms 250
    ((LAG_RC == 2)) && lag_check "$IT_DIR/a_stall.json" 'all(x["status"] == "STALL" for x in p)' 2>/dev/null
}
wait_until 60 _a_stalled || it_fail "tthc-lag did not report the stopped kcat group as STALL everywhere (rc=$LAG_RC)"
lag_check "$IT_DIR/a_stall.json" '
    d["status"] == "ERR"
    and [x["committed_offset"] for x in sorted(p, key=lambda x: x["partition"])] == '"$committed_before"'
    and all(x["status"] == "STALL" and x["evaluated"] and x["lag"] == x["log_end_offset"] - x["committed_offset"]
            and x["lag_committed"] == x["lag"] and x["lag_seconds"] > 0 for x in p)' || it_fail "stalled rows"
kill "$PRODUCER_PID" 2>/dev/null || true
wait "$PRODUCER_PID" 2>/dev/null || true
PRODUCER_PID=
echo "A: kcat group OK (exit 0), then STALL (exit 2) with lag $(lag_value "$IT_DIR/a_stall.json" 'sum(x["lag"] for x in p)')"

# ---- B. applied offsets of tthc-ingest (--dsn) ----------------------------------

"${ORACLE[@]}" gen --seed lag-1 --dossiers 300 --units 5 --out-events "$IT_DIR/events.tsv" \
    --out-expected "$IT_DIR/expected.json"
total=$(wc -l <"$IT_DIR/events.tsv")
half=$((total / 2))
head -n "$half" "$IT_DIR/events.tsv" >"$IT_DIR/first.tsv"
tail -n "+$((half + 1))" "$IT_DIR/events.tsv" >"$IT_DIR/second.tsv"
it_produce "$IT_DIR/first.tsv"
it_ingest_start a --batch-max 100 --batch-ms 50
it_wait_applied "$half" 120

_b_ok() {
    lag_run b_ok --samples 2 --interval-ms 200 &&
        ((LAG_RC == 0)) && lag_check "$IT_DIR/b_ok.json" 'all(x["committed_offset"] == x["log_end_offset"] for x in p)' 2>/dev/null
}
wait_until 60 _b_ok || it_fail "tthc-lag --dsn did not report the caught-up ingest as OK (rc=$LAG_RC)"
lag_check "$IT_DIR/b_ok.json" '
    d["status"] == "OK" and d["basis"] == "applied" and d["group"] == "tthc-ingest" and len(p) == 4
    and sum(x["applied_offset"] for x in p) == '"$half"'
    and all(x["applied_offset"] == x["log_end_offset"] and x["lag"] == 0 and x["lag_applied"] == 0
            and x["status"] == "OK" and x["lag_seconds"] == 0 for x in p)' || it_fail "ingest caught-up rows"

# Ingest stops while the second half arrives: no transaction any more, the
# applied offsets stay, their updated_at ages -> STOP, group ERR, exit 2.
it_ingest_stop a
it_produce "$IT_DIR/second.tsv"
_b_stopped() {
    lag_run b_stop --samples 4 --interval-ms 250
    ((LAG_RC == 2)) && lag_check "$IT_DIR/b_stop.json" 'all(x["status"] == "STOP" for x in p)' 2>/dev/null
}
wait_until 60 _b_stopped || it_fail "tthc-lag --dsn did not report the stopped ingest as STOP everywhere (rc=$LAG_RC)"
lag_check "$IT_DIR/b_stop.json" '
    d["status"] == "ERR" and d["basis"] == "applied"
    and sum(x["applied_offset"] for x in p) == '"$half"'
    and sum(x["log_end_offset"] for x in p) == '"$total"'
    and all(x["status"] == "STOP" and x["lag_applied"] == x["lag"] == x["log_end_offset"] - x["applied_offset"]
            and x["lag_seconds"] > 0 for x in p)' || it_fail "stopped ingest rows"

# Restarted, it catches up: OK again.
it_ingest_start a --batch-max 100 --batch-ms 50
it_wait_applied "$total" 120
wait_until 60 _b_ok || it_fail "tthc-lag --dsn did not report the restarted ingest as OK (rc=$LAG_RC)"
echo "B: ingest OK (exit 0), STOP while stopped (exit 2), OK after the restart ($total events)"

# ---- D. tthc-lag against Kafka's own kafka-consumer-groups (Apache Kafka) --------

if [[ ${TTHC_BROKER:-kafka} == kafka ]]; then
    # A moment that stays put: PostgreSQL stopped, so the running ingest (still a
    # member of the group, owning every partition) applies and commits nothing,
    # while the first half arrives once more (new offsets to lag behind).
    pg_stop "$IT_DIR"
    it_produce "$IT_DIR/first.tsv"
    kcg() {
        kafka_tool consumer-groups --bootstrap-server "$TTHC_KAFKA_BROKERS" --describe --group tthc-ingest \
            2>>"$IT_DIR/kafka-tools.log" | awk 'NF && $1 == "tthc-ingest"' | sort -k3,3n
    }
    _same_moment() {
        kcg >"$IT_DIR/kcg.before" &&
            lag_run_kafka d --group tthc-ingest --samples 2 --interval-ms 100 &&
            kcg >"$IT_DIR/kcg.after" && [[ -s $IT_DIR/kcg.before ]] && cmp -s "$IT_DIR/kcg.before" "$IT_DIR/kcg.after"
    }
    wait_until 90 _same_moment || it_fail "no stable moment to compare with kafka-consumer-groups"
    python3 - "$IT_DIR/kcg.after" "$IT_DIR/d.json" <<'EOF' || it_fail "tthc-lag and kafka-consumer-groups disagree"
import json, sys
kafka = {}
for line in open(sys.argv[1]):
    f = line.split()
    # GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
    kafka[int(f[2])] = {"committed": int(f[3]), "log_end": int(f[4]), "lag": int(f[5]),
                        "member_id": f[6], "host": f[7], "client_id": f[8]}
ours = {x["partition"]: x for x in json.load(open(sys.argv[2]))["partitions"]}
bad = []
if sorted(kafka) != sorted(ours):
    bad.append(("partitions", sorted(kafka), sorted(ours)))
for part, k in kafka.items():
    o = ours.get(part)
    if not o:
        continue
    mine = {"committed": o["committed_offset"], "log_end": o["log_end_offset"], "lag": o["lag"],
            "member_id": (o["owner"] or {}).get("member_id"), "host": (o["owner"] or {}).get("host"),
            "client_id": (o["owner"] or {}).get("client_id")}
    if mine != k:
        bad.append((part, k, mine))
if not any(k["lag"] > 0 for k in kafka.values()):
    bad.append("no lag to compare")
if bad:
    print("differences:", *bad, sep="\n  ", file=sys.stderr)
    sys.exit(1)
print(f"D: tthc-lag and kafka-consumer-groups agree on {len(kafka)} partitions "
      f"(committed, log end, lag {sum(k['lag'] for k in kafka.values())}, owner)")
EOF
    pg_start "$IT_DIR" >/dev/null
    it_wait_applied "$((total + half))" 120
fi
it_ingest_stop a

# ---- C. errors: exit 3 -------------------------------------------------------

start=$(date +%s)
lag_run c_down --brokers 127.0.0.1:1 --samples 2 --interval-ms 100 --timeout 4
((LAG_RC == 3)) || it_fail "unreachable broker: exit $LAG_RC, want 3"
(($(date +%s) - start <= 10)) || it_fail "unreachable broker: --timeout 4 took $(($(date +%s) - start)) s"
lag_run_kafka c_nogroup --group no-such-group --topic "$LAGT" --samples 2 --interval-ms 100
((LAG_RC == 3)) || it_fail "unknown group: exit $LAG_RC, want 3"
grep -q "has no committed offset" "$IT_DIR/lag-c_nogroup.log" || it_fail "unknown group: no reason given"
lag_run c_usage --samples 1
((LAG_RC == 3)) || it_fail "bad --samples: exit $LAG_RC, want 3"
lag_run c_fit --samples 10 --interval-ms 1000 --timeout 5
((LAG_RC == 3)) || it_fail "window longer than --timeout: exit $LAG_RC, want 3"
echo "C: errors exit 3"
echo "it_lag: ok"
