#!/usr/bin/env bash
# scripts/stack and ports: the stub listens on TTHC_PORTAL_URL's port; a
# second stack whose stub cannot bind that port (the first one's stub holds
# it) fails instead of reporting a stub "started" that exited, although the
# first stub answers /healthz on that port.  The daemons' metrics listen on
# ephemeral ports here, so that the test runs beside others.
set -euo pipefail
TTHC_SOURCE_DIR=${TTHC_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=../../scripts/lib.sh
source "$TTHC_SOURCE_DIR/scripts/lib.sh"
fail() {
    tthc_error "FAIL: $*"
    exit 1
}
W=$(tthc_mktemp it_stack_ports)
cleanup() {
    local rc=$? d
    set +e
    for d in "$W/a" "$W/b"; do "$TTHC_SOURCE_DIR/scripts/stack" down "$d" >/dev/null 2>&1; done
    sanitizer_check "$W"/a/*.log "$W"/b/*.log || rc=1
    if ((rc != 0)); then
        for f in "$W"/a/*.log "$W"/b/*.log "$W"/*.out; do
            [[ -f $f ]] && { echo "---- $f" >&2; tail -n 20 "$f" >&2; }
        done
    fi
    if [[ -z ${TTHC_KEEP:-} ]]; then rm -rf "$W"; else echo "kept $W" >&2; fi
    exit "$rc"
}
trap cleanup EXIT

port=$(_pg_free_port)
export TTHC_PORTAL_URL=http://127.0.0.1:$port TTHC_PG_FSYNC=off
# Two stacks side by side: the mock broker is enough (the ports are the point).
export TTHC_BROKER=mock
export TTHC_INGEST_METRICS_LISTEN=127.0.0.1:0 TTHC_SYNC_METRICS_LISTEN=127.0.0.1:0
unset TTHC_PORTAL_LISTEN TTHC_PORTAL_TOKEN

"$TTHC_SOURCE_DIR/scripts/stack" up "$W/a" >"$W/a.out" 2>&1 || fail "first stack up failed"
stub_a=$(head -n1 "$W/a/tthc-portal-stub.pid")
pid_listens "$stub_a" "$port" || fail "stack a's stub (pid $stub_a) does not listen on TTHC_PORTAL_URL's port $port"
grep -q "port=$port" "$W/a/tthc-portal-stub.log" || fail "stub a logged another port: $(grep listening "$W/a/tthc-portal-stub.log")"
curl -fsS -m 5 "$TTHC_PORTAL_URL/healthz" >/dev/null || fail "stub a does not answer on $TTHC_PORTAL_URL"
echo "stack a: stub pid $stub_a listens on $port"

rc=0
"$TTHC_SOURCE_DIR/scripts/stack" up "$W/b" >"$W/b.out" 2>&1 || rc=$?
cat "$W/b.out"
if grep -q 'tthc-portal-stub started' "$W/b.out"; then
    fail "stack b reported a stub started on a port that stack a's stub holds"
fi
((rc != 0)) || fail "stack b up succeeded although its stub could not bind port $port"
grep -Eq 'tthc-portal-stub (exited at start|not ready)' "$W/b.out" || fail "stack b does not say the stub failed"
if pidfile_alive "$W/b/tthc-portal-stub.pid" tthc-portal-stub; then fail "stack b's stub is running"; fi
pid_listens "$stub_a" "$port" || fail "stack a's stub lost its port"
echo "it_stack_ports: ok"
