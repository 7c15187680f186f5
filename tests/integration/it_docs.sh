#!/usr/bin/env bash
# it_docs: the repository stands alone and docs/ tells the truth about the code.
#  1. no tracked file refers to a contract outside the repository (the
#     sibling "shared" directory); every relative link of a Markdown file
#     points to a file that exists;
#  2. docs/indicators.md and the migrations name the same indicator codes (also
#     common/indicators.h), and the same 2025 targets;
#  3. docs/configuration.md and the programs' --help name the same
#     environment variables: every (variable, program) of its table is in that
#     program's --help, every variable a --help lists is in the table with that
#     program, and a default written as one literal is the --help's default;
#  4. every event type and rejection reason of common/event.c is in
#     docs/events.md (and every type in docs/events.schema.json).
set -euo pipefail

src=${TTHC_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
bin=${TTHC_BIN_DIR:-$src/build-asan/bin}
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
ok() { echo "ok: $*"; }

# ---- 1. no reference outside the repository --------------------------------------

if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    mapfile -t files < <(git -C "$src" ls-files)
else
    mapfile -t files < <(cd "$src" && find . -type f -not -path './build*' -not -path './.git/*' | sed 's|^\./||')
fi
((${#files[@]} > 50)) || fail "found only ${#files[@]} files in $src"
# The patterns are spelled in two pieces so that this file does not match itself.
pat_a='\.\./'"shared"
pat_b="shared"'/contract'
hits=$(cd "$src" && { grep -n -I -E -e "$pat_a" -e "$pat_b" -- "${files[@]}" 2>/dev/null || true; })
if [[ -n $hits ]]; then
    fail "files refer to a contract outside the repository (docs/ restates it):"$'\n'"$hits"
else
    ok "no file among ${#files[@]} refers outside the repository"
fi

broken=$(cd "$src" && python3 - "${files[@]}" <<'PY'
import os, re, sys
bad = []
for f in sys.argv[1:]:
    if not f.endswith(".md") or not os.path.isfile(f):
        continue
    text = open(f, encoding="utf-8").read()
    for m in re.finditer(r"\]\(([^)\s]+)\)", text):
        target = m.group(1).split("#", 1)[0]
        if not target or re.match(r"^[a-z]+:", target):
            continue
        if not os.path.exists(os.path.normpath(os.path.join(os.path.dirname(f), target))):
            bad.append(f"{f}: {m.group(1)}")
print("\n".join(bad))
PY
)
if [[ -n $broken ]]; then fail "broken relative links:"$'\n'"$broken"; else ok "every relative Markdown link resolves"; fi

# ---- 2. indicators and targets ---------------------------------------------------

indicators=$(cd "$src" && python3 - <<'PY'
import glob, re
doc = open("docs/indicators.md", encoding="utf-8").read()
def section(title):
    m = re.search(r"^## " + re.escape(title) + r"\n(.*?)(?=^## |\Z)", doc, re.S | re.M)
    return m.group(1) if m else ""
doc_codes = re.findall(r"^\| `([a-z_]+)` \|", section("Counting"), re.M)
doc_targets = set()
for code, source, year, pct in re.findall(
        r"^\| `([a-z_]+)` \| ([^|]+?) \| (\d{4}) \| ([\d.]+) \|", section("2025 targets"), re.M):
    doc_targets.add((code, source.strip(), int(year), float(pct)))

sql = "\n".join(open(p, encoding="utf-8").read() for p in sorted(glob.glob("migrations/*.sql")))
def blocks(table):
    return re.findall(r"INSERT INTO " + table + r"\s*\([^)]*\)\s*VALUES(.*?);", sql, re.S)
sql_codes = [c for b in blocks("indicator") for c in re.findall(r"^\s*\('([a-z_]+)',", b, re.M)]
sql_targets = {(code, source, int(year), float(pct)) for b in blocks("indicator_target")
               for code, source, year, pct in
               re.findall(r"\(\s*'([^']*)'\s*,\s*'([^']*)'\s*,\s*(\d+)\s*,\s*([\d.]+)", b)}
header = open("common/indicators.h", encoding="utf-8").read() + open("common/indicators.c", encoding="utf-8").read()
c_codes = [c for c in doc_codes if '"' + c + '"' in header]

problems = []
if len(doc_codes) < 10:
    problems.append(f"docs/indicators.md lists only {len(doc_codes)} codes")
if doc_codes != sql_codes:
    problems.append(f"codes differ: docs {doc_codes} vs migrations {sql_codes}")
if c_codes != doc_codes:
    problems.append(f"codes missing from common/indicators.[ch]: {sorted(set(doc_codes) - set(c_codes))}")
if len(doc_targets) < 10:
    problems.append(f"docs/indicators.md lists only {len(doc_targets)} targets")
for t in sorted(doc_targets - sql_targets):
    problems.append(f"target in docs/indicators.md but not in the migrations: {t}")
for t in sorted(sql_targets - doc_targets):
    problems.append(f"target in the migrations but not in docs/indicators.md: {t}")
print("\n".join(problems) if problems else f"OK {len(doc_codes)} codes, {len(doc_targets)} targets")
PY
)
if [[ $indicators == OK* ]]; then ok "indicators: ${indicators#OK }"; else fail "indicators:"$'\n'"$indicators"; fi

# ---- 3. environment variables ----------------------------------------------------

helpdir=$(mktemp -d /tmp/tthc-it-docs.XXXXXX)
trap 'rm -rf "$helpdir"' EXIT
programs=(tthc-admin tthc-emit tthc-ingest tthc-kafka-dev tthc-lag tthc-migrate tthc-portal-stub tthc-report tthc-sync)
for p in "${programs[@]}"; do
    if [[ ! -x $bin/$p ]]; then
        fail "$bin/$p not built"
        continue
    fi
    "$bin/$p" --help >"$helpdir/$p" 2>&1 || fail "$p --help exited $?"
done
config=$(python3 - "$src/docs/configuration.md" "$helpdir" "${programs[@]}" <<'PY'
import os, re, sys
doc_path, helpdir, programs = sys.argv[1], sys.argv[2], sys.argv[3:]
doc = open(doc_path, encoding="utf-8").read()
m = re.search(r"^## Every variable, by program\n(.*?)(?=^## |\Z)", doc, re.S | re.M)
rows = re.findall(r"^\| `(TTHC_[A-Z0-9_]+)` \| ([^|]+) \| ([^|]+) \|", m.group(1) if m else "", re.M)
helps = {p: open(os.path.join(helpdir, p), encoding="utf-8").read()
         for p in programs if os.path.exists(os.path.join(helpdir, p))}
problems, pairs = [], set()
for var, readers, default in rows:
    readers = readers.strip()
    progs = programs if readers == "every program" else [r.strip() for r in readers.split(",")]
    for p in progs:
        if p not in helps:
            problems.append(f"{var}: unknown program {p}")
            continue
        pairs.add((var, p))
        if not re.search(r"\b" + var + r"\b", helps[p]):
            problems.append(f"{var}: docs say {p} reads it, but {p} --help does not name it")
            continue
        lit = re.fullmatch(r"`([^`]*)`", default.strip())
        shown = re.search(r"env: " + var + r"; default: (.*)", helps[p])
        if lit and shown and shown.group(1).strip() != lit.group(1):
            problems.append(f"{var}: docs say default {lit.group(1)}, {p} --help says {shown.group(1).strip()}")
for p, text in helps.items():
    for var in sorted(set(re.findall(r"env: (TTHC_[A-Z0-9_]+)", text))):
        if (var, p) not in pairs:
            problems.append(f"{p} --help reads {var}, which docs/configuration.md does not list for {p}")
if len(rows) < 20:
    problems.append(f"docs/configuration.md lists only {len(rows)} variables")
print("\n".join(problems) if problems else f"OK {len(rows)} variables, {len(pairs)} (variable, program) pairs")
PY
)
if [[ $config == OK* ]]; then ok "configuration: ${config#OK }"; else fail "configuration:"$'\n'"$config"; fi

# ---- 4. event types and rejection reasons -------------------------------------------

events=$(cd "$src" && python3 - <<'PY'
import json, re
code = open("common/event.c", encoding="utf-8").read()
doc = open("docs/events.md", encoding="utf-8").read()
schema = json.dumps(json.load(open("docs/events.schema.json", encoding="utf-8")))
problems = []
def names(array):
    m = re.search(array + r"\[[^\]]*\]\s*=\s*\{(.*?)\};", code, re.S)
    if not m:
        problems.append(f"common/event.c has no {array}[] table (update tests/integration/it_docs.sh)")
        return []
    return re.findall(r'"([a-z0-9_.]+)"', m.group(1))
types = names("type_names")
reasons = [r for r in names("reason_names") if r != "none"]
for t in types:
    if f"`{t}`" not in doc:
        problems.append(f"event type {t} is not in docs/events.md")
    if f'"{t}"' not in schema:
        problems.append(f"event type {t} is not in docs/events.schema.json")
for r in reasons:
    if f"`{r}`" not in doc:
        problems.append(f"rejection reason {r} is not in docs/events.md")
if not problems and (len(types) < 8 or len(reasons) < 8):
    problems.append(f"found only {len(types)} types and {len(reasons)} reasons in common/event.c")
print("\n".join(problems) if problems else f"OK {len(types)} event types, {len(reasons)} reasons")
PY
)
if [[ $events == OK* ]]; then ok "events: ${events#OK }"; else fail "events:"$'\n'"$events"; fi

if ((failures)); then
    echo "it_docs: $failures check(s) failed" >&2
    exit 1
fi
echo "it_docs: all checks passed"
