#!/usr/bin/env bash
# it_portal_openapi: docs/portal-api.yaml is a valid OpenAPI 3.1 document, and
# tthc-portal-stub (against a throw-away PostgreSQL) answers every request that
# Schemathesis generates from it as the document says:
#  - openapi-spec-validator accepts the document;
#  - schemathesis run, a bounded number of cases per operation (positive and
#    negative data; examples, coverage, fuzzing and stateful phases, the last
#    following the link from a push to its read-back), with every check but
#    positive_data_acceptance: no 5xx, every status documented, every body and
#    header conforming to its schema, invalid input rejected with a 4xx, a
#    request without the token refused, undocumented methods answered 405.
#    positive_data_acceptance is left out because the stub rightly refuses some
#    schema-valid bodies: rules JSON Schema cannot state (numerator <=
#    denominator, each indicator exactly once, a real calendar date), and a
#    reused Idempotency-Key (422) or an older revision (409).
#
# The Python tools come from PyPI, pinned in tests/tools/requirements-openapi.txt,
# installed once into a virtual environment that later runs reuse:
# $TTHC_PY_CACHE (default ~/.cache/tthc)/venv-openapi-<hash of the requirements>.
# TTHC_SCHEMATHESIS_EXAMPLES (default 50) cases per operation and phase,
# TTHC_SCHEMATHESIS_SEED (default 1) make a run reproducible.
set -euo pipefail

src=${TTHC_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck disable=SC1091
source "$src/scripts/lib.sh" # pg_start, pg_stop, wait_until, dump_logs, tthc_mktemp

for v in TTHC_PORTAL_TOKEN TTHC_PORTAL_TOKEN_FILE TTHC_PORTAL_DSN TTHC_PORTAL_LISTEN TTHC_PORTAL_FAIL_RATE \
    TTHC_PORTAL_FAIL_STATUS TTHC_PORTAL_LATENCY_MS TTHC_PORTAL_RETRY_AFTER TTHC_PORTAL_SEED TTHC_PORTAL_THREADS; do
    unset "$v"
done

stub=tthc-portal-stub
spec=$src/docs/portal-api.yaml
reqs=$src/tests/tools/requirements-openapi.txt
[[ -x $TTHC_BIN_DIR/$stub ]] || { echo "FAIL: $TTHC_BIN_DIR/$stub not built" >&2; exit 1; }
[[ -r $spec && -r $reqs ]] || { echo "FAIL: $spec or $reqs missing" >&2; exit 1; }

work=$(tthc_mktemp it-portal-openapi)
cleanup() {
    local rc=$?
    set +e
    daemon_stop "$work" "$stub"
    sanitizer_check "$work/$stub.log" || rc=1 # ASan/UBSan reports of the stub, once it has exited
    pg_stop "$work" >/dev/null 2>&1
    ((rc == 0)) || dump_logs "$work" 40
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
ok() { echo "ok: $*"; }

# ---- the virtual environment, made once per requirements file ------------------

python=/usr/bin/python3
[[ -x $python ]] || python=$(command -v python3) || fail "python3 not found (scripts/deps installs it)"
hash=$(sha256sum "$reqs" | cut -c1-16)
venv=${TTHC_PY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tthc}/venv-openapi-$hash
if [[ ! -x $venv/bin/schemathesis || ! -e $venv/.complete ]]; then
    echo "creating $venv (once; later runs reuse it)"
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv" || fail "python3 -m venv failed (scripts/deps installs python3-venv)"
    # Bounded: a registry that does not answer fails the test instead of hanging it.
    if ! timeout 900 "$venv/bin/pip" install --quiet --disable-pip-version-check --timeout 60 \
        -r "$reqs" >"$work/pip.log" 2>&1; then
        tail -n 30 "$work/pip.log" >&2
        rm -rf "$venv"
        fail "pip install -r $reqs failed"
    fi
    touch "$venv/.complete" # written last: a half-made environment is made again
fi
ok "tools: $("$venv/bin/schemathesis" --version 2>&1 | head -n1), openapi-spec-validator $("$venv/bin/pip" show openapi-spec-validator 2>/dev/null | sed -n 's/^Version: //p')"

# ---- 1. the document ----------------------------------------------------------------

"$venv/bin/openapi-spec-validator" "$spec" >"$work/validate.out" 2>&1 || {
    cat "$work/validate.out" >&2
    fail "docs/portal-api.yaml is not a valid OpenAPI document"
}
grep -q '^openapi: 3\.1\.' "$spec" || fail "docs/portal-api.yaml is not OpenAPI 3.1"
ok "docs/portal-api.yaml: $(cat "$work/validate.out")"

# Every status of the contract's table is documented for the push.
"$python" - "$spec" <<'PY' || fail "docs/portal-api.yaml misses a status of docs/portal-api.md"
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
post = doc["paths"]["/api/v1/indicator-reports"]["post"]
missing = [s for s in ("200", "400", "401", "409", "429", "503") if s not in post["responses"]]
header = [p for p in post.get("parameters", []) if p.get("$ref", "").endswith("/IdempotencyKey")]
if missing or not header or "bearer" not in doc["components"]["securitySchemes"]:
    print("missing statuses:", missing, "Idempotency-Key:", bool(header), file=sys.stderr)
    sys.exit(1)
PY
ok "push documents 200, 400, 401, 409, 429, 503, bearer auth and Idempotency-Key"

# ---- 2. the stub against the document --------------------------------------------------

TTHC_PG_FSYNC=off pg_start "$work" >/dev/null
token='openapi-token-0123456789'
printf '%s\n' "$token" >"$work/token"
"$TTHC_BIN_DIR/$stub" --dsn "$(cat "$work/pg/dsn")" --token-file "$work/token" --listen 127.0.0.1:0 \
    --port-file "$work/port" </dev/null >>"$work/$stub.log" 2>&1 &
echo $! >"$work/$stub.pid"
wait_until 30 test -s "$work/port" || fail "the stub did not start"
base=http://127.0.0.1:$(cat "$work/port")
wait_until 30 curl -fsS -o /dev/null "$base/readyz" || fail "the stub is not ready"

examples=${TTHC_SCHEMATHESIS_EXAMPLES:-50}
seed=${TTHC_SCHEMATHESIS_SEED:-1}
set +e
(cd "$work" && timeout 900 "$venv/bin/schemathesis" run "$spec" --url "$base" \
    -H "Authorization: Bearer $token" \
    --checks all --exclude-checks positive_data_acceptance \
    --max-examples "$examples" --seed "$seed" --generation-database none \
    --workers 1 --request-timeout 10 --no-color \
    --report junit --report-junit-path "$work/junit.xml") >"$work/schemathesis.out" 2>&1
rc=$?
set -e
if ((rc != 0)); then
    sed -n '/FAILURES/,$p' "$work/schemathesis.out" | head -n 150 >&2
    fail "schemathesis found non-conforming answers (exit $rc; seed $seed)"
fi
cases=$(grep -oE '[0-9]+ generated, [0-9]+ passed' "$work/schemathesis.out" | tail -n1)
generated=${cases%% generated*}
if [[ -z $cases ]] || ((generated < 100)); then
    tail -n 40 "$work/schemathesis.out" >&2
    fail "schemathesis ran too few cases: '$cases'"
fi
phases=$(sed -n '/^Test Phases:/,/^$/p' "$work/schemathesis.out" | grep -oE 'Examples|Coverage|Fuzzing|Stateful' | tr '\n' ' ')
grep -q 'Stateful (not applicable)' "$work/schemathesis.out" && fail "the stateful phase did not run (links of portal-api.yaml)"
ok "schemathesis: $cases (seed $seed, at most $examples per operation and phase; phases: ${phases% })"

# The stub saw those requests and answered none of them 5xx.
metrics=$(curl -fsS "$base/metrics")
fivexx=$(awk '/^tthc_portal_requests_total\{/ && /status="5[0-9][0-9]"/ {n += $NF} END {print n + 0}' <<<"$metrics")
total=$(awk '/^tthc_portal_requests_total\{/ {n += $NF} END {print n + 0}' <<<"$metrics")
((total >= generated)) || fail "the stub counted $total requests, fewer than the $generated cases"
((fivexx == 0)) || fail "the stub answered $fivexx requests with 5xx"
ok "the stub answered $total requests, none with 5xx"
