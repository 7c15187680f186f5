#!/usr/bin/env bash
# it_httpd_slowloris: slow clients cannot starve an HTTP endpoint (issue 10, item 8).
# common/httpd.c serves the portal stub and every daemon's /metrics; this test
# attacks the stub, on loopback only, bounded in connections and time:
#  - about 300 connections from five other loopback addresses, each sending a
#    request line and then one header byte a second, reopened when closed, for
#    25 s (before the fix they held every slot and /healthz never answered);
#  - /healthz from 127.0.0.1 every 2 s during the attack: every probe answers 200
#    (each awaited at most 30 s; no timing is asserted beyond "answered");
#  - the server closed attack connections at once (more than 64 from one address)
#    and after the 10 s request deadline (counted in its log);
#  - afterwards the stub still serves the API and stops cleanly.
set -euo pipefail

src=${TTHC_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck disable=SC1091
source "$src/scripts/lib.sh"

stub=tthc-portal-stub
[[ -x $TTHC_BIN_DIR/$stub ]] || { echo "FAIL: $TTHC_BIN_DIR/$stub not built" >&2; exit 1; }
command -v jq >/dev/null || { echo "FAIL: jq is required" >&2; exit 1; }

work=$(tthc_mktemp it_httpd_slowloris)
cleanup() {
    local rc=$?
    set +e
    daemon_stop "$work" "$stub"
    pg_stop "$work"
    ((rc == 0)) || dump_logs "$work" 40
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

pg_start "$work" >/dev/null
dsn=$(pg_createdb "$work" it_slowloris)
printf 'it-token-0123456789\n' >"$work/token"
TTHC_READY_CMD="[[ -s '$work/port' ]] && curl -sf \"http://127.0.0.1:\$(cat '$work/port')/healthz\"" \
    TTHC_READY_TIMEOUT=20 daemon_start "$work" "$stub" --listen 127.0.0.1:0 --port-file "$work/port" \
    --dsn "$dsn" --token-file "$work/token" || fail "stub did not start"
port=$(cat "$work/port")

python3 "$src/tests/tools/slowloris.py" --port "$port" --seconds 25 --interval 1 --deadline-min 5 \
    --ips 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6 --per-ip 100,50,50,50,50 \
    --probe-every 2 --probe-timeout 30 >"$work/attack.json" || fail "attack script failed"
cat "$work/attack.json"
probes=$(jq '.probes | length' "$work/attack.json")
answered=$(jq '[.probes[] | select(.status == 200)] | length' "$work/attack.json")
during=$(jq '[.probes[] | select(.status == 200 and .during)] | length' "$work/attack.json")
((answered == probes)) || fail "/healthz answered $answered of $probes probes: $(jq -c '.probes' "$work/attack.json")"
((during >= 3)) || fail "/healthz answered only $during probes while the attack ran (the others waited it out)"
ok "/healthz answered all $probes probes, $during of them while the attack ran"
held=$(jq .held_max "$work/attack.json")
((held >= 250)) || fail "the attack held at most $held connections: not a real attack"
ok "the attack held up to $held connections"
refused=$(jq .refused_at_once "$work/attack.json")
((refused > 0)) || fail "no attack connection refused at once (per-address limit)"
ok "$refused attack connections refused at once (connection limits)"
later=$(jq .closed_later "$work/attack.json")
((later > 0)) || fail "no attack connection closed by the request deadline"
ok "$later attack connections closed by the request deadline"
grep -q 'httpd_slow_requests_closed' "$work/$stub.log" || fail "no httpd_slow_requests_closed line in the stub's log"
ok "the stub logged the slow requests it closed"

code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer it-token-0123456789' \
    "http://127.0.0.1:$port/api/v1/indicator-reports?period=2025-03") || code=000
[[ $code == 200 ]] || fail "API after the attack: $code"
ok "API answers after the attack"
daemon_stop "$work" "$stub" || fail "stub did not stop"
if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$work/$stub.log"; then
    fail "sanitizer report in the stub's log"
fi
ok "stub stopped cleanly"
