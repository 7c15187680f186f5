#!/usr/bin/env bash
# it_portal_stub: tthc-portal-stub as a black box, against a throw-away PostgreSQL.
#  - /healthz without token; 401 without and with a wrong token;
#  - 415 on a wrong Content-Type; 400 listing every problem of a bad body;
#  - accepted; the same Idempotency-Key again -> duplicate, nothing changed;
#    the same key with another report -> 422; an old revision -> 409 with
#    current_revision; concurrent pushes through two stub processes -> one wins;
#  - GET: latest revision per unit, sorted, unit_code filter, history kept;
#  - restart of the stub: data and keys still there; HTML page; /metrics;
#  - database outage: 503 with Retry-After, then back without restarting the stub;
#  - fault injection at 100 % (status, Retry-After, latency) and at 50 %;
#  - body over 1 MiB -> 413 (with and without Expect: 100-continue);
#  - SIGTERM: clean exit.
set -euo pipefail

src=${TTHC_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck disable=SC1091
source "$src/scripts/lib.sh" # pg_start, pg_stop, pg_createdb, daemon_start, daemon_stop, wait_until

for v in TTHC_PORTAL_TOKEN TTHC_PORTAL_TOKEN_FILE TTHC_PORTAL_DSN TTHC_PORTAL_LISTEN TTHC_PORTAL_FAIL_RATE \
    TTHC_PORTAL_FAIL_STATUS TTHC_PORTAL_LATENCY_MS TTHC_PORTAL_RETRY_AFTER TTHC_PORTAL_SEED TTHC_PORTAL_THREADS; do
    unset "$v"
done

stub=tthc-portal-stub
[[ -x $TTHC_BIN_DIR/$stub ]] || { echo "FAIL: $TTHC_BIN_DIR/$stub not built" >&2; exit 1; }
command -v jq >/dev/null || { echo "FAIL: jq is required" >&2; exit 1; }

work=$(mktemp -d /tmp/tthc-it-portal.XXXXXX)
second_pid=
cleanup() {
    local rc=$?
    [[ -n $second_pid ]] && kill "$second_pid" 2>/dev/null && wait "$second_pid" 2>/dev/null
    daemon_stop "$work" "$stub" || true
    pg_stop "$work" || true
    ((rc == 0)) || dump_logs "$work" 40
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    [[ -f $work/body ]] && echo "last body: $(head -c 2000 "$work/body")" >&2
    exit 1
}
ok() { echo "ok: $*"; }
expect_eq() { [[ $2 == "$3" ]] || fail "$1: expected '$2', got '$3'"; ok "$1 = $3"; }

# req METHOD PATH [CURL_ARGS...]: sets $code and $body; headers in $work/headers.
req() {
    local m=$1 p=$2
    shift 2
    code=$(curl -sS -o "$work/body" -D "$work/headers" -w '%{http_code}' -X "$m" "$@" "$base$p") || code=000
    body=$(cat "$work/body")
}
header() { grep -i "^$1:" "$work/headers" | head -n1 | cut -d: -f2- | tr -d ' \r'; }

token='it-token-0123456789'
printf '%s\n' "$token" >"$work/token"
auth=(-H "Authorization: Bearer $token")
api=/api/v1/indicator-reports

# post KEY BODY [CURL_ARGS...]
post() {
    local key=$1 data=$2
    shift 2
    req POST "$api" "${auth[@]}" -H 'Content-Type: application/json' -H "Idempotency-Key: $key" \
        --data-binary "$data" "$@"
}

# report UNIT PERIOD REVISION [NUMERATOR]: a valid body, every indicator NUMERATOR/10.
report() {
    jq -cn --arg u "$1" --arg p "$2" --argjson r "$3" --argjson n "${4:-1}" '{
        unit_code: $u, period: $p, revision: $r, generated_at: "2025-04-01T00:00:05+07:00",
        indicators: (["online_submission", "digitized_dossier", "digitized_result", "e_result", "id_tagged",
                      "data_reused", "online_payment", "portal_synced", "on_time", "satisfaction"]
                     | map({code: ., numerator: $n, denominator: 10}))}'
}

start_stub() {
    rm -f "$work/port"
    TTHC_READY_CMD="[[ -s '$work/port' ]] && curl -sf \"http://127.0.0.1:\$(cat '$work/port')/healthz\"" \
        TTHC_READY_TIMEOUT=20 daemon_start "$work" "$stub" --listen 127.0.0.1:0 --port-file "$work/port" \
        --dsn "$dsn" --token-file "$work/token" --log-level debug "$@" || fail "stub did not start"
    base="http://127.0.0.1:$(cat "$work/port")"
}
# Stops the stub; its log must hold no sanitizer report (ASan/UBSan builds).
stop_stub() {
    daemon_stop "$work" "$stub" || fail "stub did not stop"
    if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$work/$stub.log" "$work"/stub2.log 2>/dev/null; then
        fail "sanitizer report in the stub's log"
    fi
}

psql_q() { psql "$dsn" -XqAt -v ON_ERROR_STOP=1 -c "$1"; }

# ---- setup ----------------------------------------------------------------

pg_start "$work" >/dev/null
dsn=$(pg_createdb "$work" it_portal)
start_stub

# ---- health and authentication --------------------------------------------

req GET /healthz
expect_eq "healthz status" 200 "$code"
expect_eq "healthz body" '{"status":"ok"}' "$body"
req GET /readyz
expect_eq "readyz" 200 "$code"

req GET "$api?period=2025-03"
expect_eq "GET without token" 401 "$code"
expect_eq "401 body" '{"error":"unauthorized"}' "$body"
req GET "$api?period=2025-03" -H "Authorization: Bearer wrong-$token"
expect_eq "GET with wrong token" 401 "$code"
req POST "$api" -H "Authorization: Bearer ${token}x" -H 'Content-Type: application/json' -H 'Idempotency-Key: k' \
    --data-binary "$(report H61.07 2025-03 1)"
expect_eq "POST with wrong token" 401 "$code"
req POST "$api" -H "Authorization: Basic $(printf 'u:%s' "$token" | base64)" -H 'Content-Type: application/json' \
    --data-binary "$(report H61.07 2025-03 1)"
expect_eq "POST with Basic auth" 401 "$code"
expect_eq "nothing stored by refused requests" 0 "$(psql_q 'SELECT count(*) FROM portal.report_revision')"

# ---- validation -----------------------------------------------------------

req POST "$api" "${auth[@]}" -H 'Content-Type: text/plain' -H 'Idempotency-Key: k' --data-binary "$(report H61.07 2025-03 1)"
expect_eq "text/plain" 415 "$code"
expect_eq "415 error" unsupported_media_type "$(jq -r .error <<<"$body")"

bad=$(jq -cn '{unit_code: "H61/07", period: "2025-13", revision: 0, generated_at: "2025-04-01 00:00:05",
  extra: true,
  indicators: [{code: "online_submission", numerator: 5, denominator: 4},
               {code: "bogus", numerator: 1, denominator: 1},
               {code: "online_submission", numerator: 1, denominator: 2},
               {code: "e_result", numerator: -1, denominator: 2.5}]}')
req POST "$api" "${auth[@]}" -H 'Content-Type: application/json' --data-binary "$bad"
expect_eq "bad body" 400 "$code"
expect_eq "400 error" invalid_report "$(jq -r .error <<<"$body")"
for needle in "Idempotency-Key: header required" "unit_code: 'H61/07'" "period: '2025-13'" "revision: must be" \
    "generated_at: '2025-04-01 00:00:05'" "unknown member 'extra'" "indicators[0]: numerator 5 exceeds denominator 4" \
    "indicators[1].code: unknown indicator 'bogus'" "indicators[2].code: indicator 'online_submission' listed again" \
    "indicators[3].numerator: must be" "indicators[3].denominator: must be" "indicator 'satisfaction' missing"; do
    jq -e --arg n "$needle" 'any(.details[]; contains($n))' <<<"$body" >/dev/null || fail "no detail containing: $needle"
done
ok "400 lists $(jq '.details | length' <<<"$body") problems, each expected one present"
req POST "$api" "${auth[@]}" -H 'Content-Type: application/json' -H 'Idempotency-Key: k' --data-binary '{"unit_code": "H61",'
expect_eq "malformed JSON" 400 "$code"
jq -e '.details[0] | startswith("body: malformed JSON")' <<<"$body" >/dev/null || fail "malformed JSON detail"
req GET "$api?period=2025-3" "${auth[@]}"
expect_eq "GET bad period" 400 "$code"
expect_eq "nothing stored by invalid requests" 0 "$(psql_q 'SELECT count(*) FROM portal.report_revision')"

# ---- accept, duplicate, key reuse, stale ------------------------------------

post k-h6107-2 "$(report H61.07 2025-03 2 4)"
expect_eq "accepted" '200 {"status":"accepted","revision":2}' "$code $body"
received=$(psql_q "SELECT received_at FROM portal.report_revision WHERE unit_code = 'H61.07'")

post k-h6107-2 "$(report H61.07 2025-03 2 4 | jq .)" # same report, other formatting
expect_eq "duplicate" '200 {"status":"duplicate","revision":2}' "$code $body"
expect_eq "duplicate changed nothing" "1 $received" \
    "$(psql_q "SELECT count(*) || ' ' || max(received_at) FROM portal.report_revision WHERE unit_code = 'H61.07'")"
expect_eq "keys after duplicate" 1 "$(psql_q 'SELECT count(*) FROM portal.idempotency_key')"

post k-h6107-2 "$(report H61.07 2025-03 3 5)"
expect_eq "same key, other report" 422 "$code"
expect_eq "422 error" idempotency_key_reused "$(jq -r .error <<<"$body")"

post k-h6107-1 "$(report H61.07 2025-03 1 3)"
expect_eq "older revision" '409 {"error":"stale_revision","current_revision":2}' "$code $body"
post k-h6107-2b "$(report H61.07 2025-03 2 9)"
expect_eq "same revision, new key" '409 {"error":"stale_revision","current_revision":2}' "$code $body"

post k-h6107-3 "$(report H61.07 2025-03 3 6)"
expect_eq "newer revision" '200 {"status":"accepted","revision":3}' "$code $body"
post k-h61-1 "$(report H61 2025-03 1 7)"
expect_eq "province roll-up" 200 "$code"
post k-h6101-5 "$(report H61.01 2025-03 5 2)"
expect_eq "other unit" 200 "$code"
post k-h6107-feb "$(report H61.07 2025-02 1 1)"
expect_eq "other period" 200 "$code"

# ---- read back --------------------------------------------------------------

req GET "$api?period=2025-03" "${auth[@]}"
expect_eq "GET period" 200 "$code"
expect_eq "sorted units" '["H61","H61.01","H61.07"]' "$(jq -c '[.reports[].unit_code]' <<<"$body")"
expect_eq "latest revisions" '[1,5,3]' "$(jq -c '[.reports[].revision]' <<<"$body")"
expect_eq "H61.07 latest values" '6 10' \
    "$(jq -r '.reports[2].indicators[0] | "\(.numerator) \(.denominator)"' <<<"$body")"
expect_eq "report members" '["generated_at","indicators","period","received_at","revision","unit_code"]' \
    "$(jq -c '.reports[0] | keys' <<<"$body")"
expect_eq "indicators listed" 10 "$(jq '.reports[0].indicators | length' <<<"$body")"
jq -e '.reports[0].received_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")' <<<"$body" >/dev/null ||
    fail "received_at not RFC 3339"
req GET "$api?period=2025-03&unit_code=H61.07" "${auth[@]}"
expect_eq "GET one unit" '["H61.07"] 3' "$(jq -c '[.reports[].unit_code]' <<<"$body") $(jq '.reports[0].revision' <<<"$body")"
req GET "$api?period=2024-01" "${auth[@]}"
expect_eq "GET empty period" '200 {"reports":[]}' "$code $body"
expect_eq "history kept" '2,3' \
    "$(psql_q "SELECT string_agg(revision::text, ',' ORDER BY revision) FROM portal.report_revision
               WHERE unit_code = 'H61.07' AND period = '2025-03'")"

# ---- two stub processes, concurrent pushes of one revision -----------------

"$TTHC_BIN_DIR/$stub" --listen 127.0.0.1:0 --port-file "$work/port2" --dsn "$dsn" --token "$token" \
    >"$work/stub2.log" 2>&1 &
second_pid=$!
wait_until 20 test -s "$work/port2" || fail "second stub did not start"
base2="http://127.0.0.1:$(cat "$work/port2")"
body4=$(report H61.07 2025-03 4 8)
pids=()
for i in $(seq 1 12); do
    b=$base
    ((i % 2)) && b=$base2
    curl -sS -o /dev/null -w '%{http_code}\n' "${auth[@]}" -H 'Content-Type: application/json' \
        -H "Idempotency-Key: race-$i" --data-binary "$body4" "$b$api" >>"$work/race" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent push failed"; done
expect_eq "concurrent pushes: one accepted, others stale" '1 11' \
    "$(grep -c '^200$' "$work/race") $(grep -c '^409$' "$work/race")"
kill "$second_pid"
wait "$second_pid" || fail "second stub exited non-zero on SIGTERM"
second_pid=

# ---- restart: data survives ---------------------------------------------------

stop_stub
[[ ! -e $work/port ]] || fail "port file left behind after SIGTERM"
grep -q 'event=stopped' "$work/$stub.log" || fail "no 'stopped' log line"
start_stub
req GET "$api?period=2025-03" "${auth[@]}"
expect_eq "after restart" '["H61","H61.01","H61.07"] [1,5,4]' \
    "$(jq -c '[.reports[].unit_code]' <<<"$body") $(jq -c '[.reports[].revision]' <<<"$body")"
post k-h6107-3 "$(report H61.07 2025-03 3 6)"
expect_eq "key remembered after restart" '200 {"status":"duplicate","revision":3}' "$code $body"

# ---- HTML page -------------------------------------------------------------

req GET /
expect_eq "page status" 200 "$code"
[[ $(header Content-Type) == text/html* ]] || fail "page content type: $(header Content-Type)"
grep -q '<td class="unit">H61.07</td>' "$work/body" || fail "page lacks the H61.07 row"
grep -q '<html lang="vi">' "$work/body" && grep -q 'Sở Xây dựng' "$work/body" && grep -q 'Điểm QĐ 766' "$work/body" ||
    fail "the page is not Vietnamese by default, with unit names and a QĐ 766 column"
req GET "/?lang=en"
grep -q '<td class="unit">H61.07</td>' "$work/body" || fail "page lacks the H61.07 row"
grep -q 'built-in 2025 table' "$work/body" || fail "page does not name the built-in targets"
grep -q 'class="missed"' "$work/body" || fail "page has no below-target cell"
# Targets are data: an indicator_target table (the shape of migrations/001_core.sql) wins.
psql_q "CREATE TABLE indicator_target (indicator text, source_doc text, year integer, target_pct numeric(5, 2));
        INSERT INTO indicator_target VALUES ('online_submission', 'IT-DOC #1', 2025, 55),
                                            ('online_submission', 'IT-DOC #2', 2026, 99)" >/dev/null
req GET "/?period=2025-03&lang=en"
grep -q 'table indicator_target, year 2025' "$work/body" || fail "page does not read indicator_target"
grep -q '55% IT-DOC #1' "$work/body" || fail "page does not show the database target"
grep -q 'IT-DOC #2' "$work/body" && fail "page shows a target of another year"
req GET "/?period=2025-02"
grep -q 'H61.07' "$work/body" || fail "page for 2025-02"
req GET "/?period=<script>"
expect_eq "page with a bad period" 400 "$code"
grep -q '<script>' "$work/body" && fail "page echoes unescaped input"
ok "HTML page"

# ---- body over 1 MiB -----------------------------------------------------------

head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$work/big"
req POST "$api" "${auth[@]}" -H 'Content-Type: application/json' -H 'Idempotency-Key: big' --data-binary "@$work/big"
expect_eq "1 MiB + 1 byte" 413 "$code"
req POST "$api" "${auth[@]}" -H 'Content-Type: application/json' -H 'Idempotency-Key: big' -H 'Expect:' \
    --data-binary "@$work/big"
expect_eq "1 MiB + 1 byte, no Expect" 413 "$code"
req POST "$api" "${auth[@]}" -H 'Content-Type: application/json' -H 'Idempotency-Key: big' \
    -H 'Transfer-Encoding: chunked' --data-binary "@$work/big"
expect_eq "1 MiB + 1 byte, chunked" 413 "$code"
{ report H61.07 2025-03 9 1 | tr -d '\n'; head -c $((1024 * 1024 - $(report H61.07 2025-03 9 1 | tr -d '\n' | wc -c))) /dev/zero | tr '\0' ' '; } >"$work/exact"
expect_eq "exactly 1 MiB body size" $((1024 * 1024)) "$(wc -c <"$work/exact")"
req POST "$api" "${auth[@]}" -H 'Content-Type: application/json' -H 'Idempotency-Key: exact' --data-binary "@$work/exact"
expect_eq "exactly 1 MiB accepted" '200 {"status":"accepted","revision":9}' "$code $body"

# ---- metrics ---------------------------------------------------------------

req GET /metrics
expect_eq "metrics" 200 "$code"
grep -Eq '^tthc_portal_requests_total\{method="POST",status="200"\} [1-9][0-9]*$' "$work/body" || fail "no POST 200 counter"
grep -Eq '^tthc_portal_requests_total\{method="POST",status="413"\} 3$' "$work/body" || fail "no POST 413 counter"
ok "metrics counters"

# ---- database outage ------------------------------------------------------------

pg_stop "$work"
post k-outage "$(report H61.09 2025-03 1 1)"
expect_eq "POST while the database is down" 503 "$code"
expect_eq "503 Retry-After" 1 "$(header Retry-After)"
req GET /readyz
expect_eq "readyz while the database is down" 503 "$code"
req GET /healthz
expect_eq "healthz while the database is down" 200 "$code"
pg_start "$work" >/dev/null
wait_until 20 curl -sf -o /dev/null "$base/readyz" || fail "stub did not reconnect"
post k-outage "$(report H61.09 2025-03 1 1)"
expect_eq "POST after the database came back" '200 {"status":"accepted","revision":1}' "$code $body"
pg_restart "$work" >/dev/null
req GET "$api?period=2025-03&unit_code=H61.09" "${auth[@]}"
expect_eq "GET right after a database restart (reconnects at once)" '200 1' "$code $(jq '.reports[0].revision' <<<"$body")"
pg_restart "$work" >/dev/null
post k-outage-2 "$(report H61.09 2025-03 2 1)"
expect_eq "POST right after a database restart" '200 {"status":"accepted","revision":2}' "$code $body"

# ---- fault injection ------------------------------------------------------------

stop_stub
start_stub --fail-rate 100 --fail-status 429 --retry-after 7 --latency-ms 300
t0=$(date +%s%N)
post k-injected "$(report H61.07 2025-03 10 1)"
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "injected fault" '429 {"error":"injected"}' "$code $body"
expect_eq "injected Retry-After" 7 "$(header Retry-After)"
((elapsed_ms >= 300)) || fail "latency not applied (${elapsed_ms} ms)"
ok "latency applied (${elapsed_ms} ms)"
req GET "$api?period=2025-03" "${auth[@]}"
expect_eq "injected fault on GET" 429 "$code"
req GET /healthz
expect_eq "healthz not injected" 200 "$code"
expect_eq "nothing stored by injected faults" 0 "$(psql_q "SELECT count(*) FROM portal.idempotency_key WHERE key = 'k-injected'")"

stop_stub
start_stub --fail-rate 50 --fail-status 503 --seed 42
for _ in $(seq 1 40); do
    curl -s -o /dev/null -w '%{http_code}\n' "${auth[@]}" "$base$api?period=2025-03" >>"$work/mix"
done
expect_eq "50% injection gives both answers" '2' "$(sort -u "$work/mix" | grep -c -E '^(200|503)$')"
stop_stub
grep -q "$token" "$work"/*.log && fail "the token appears in a log"
ok "token never logged"

echo "PASS it_portal_stub"
