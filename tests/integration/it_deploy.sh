#!/usr/bin/env bash
# it_deploy: the deployment files, checked as far as a machine without a Docker
# engine allows.  Nothing here starts a container: `docker build`, `docker run`
# and `docker compose up` cannot run on the project's machines.
#
#  1. docker-compose.yml: `docker-compose config -q` (Debian's docker-compose
#     1.29) with no warning, then its structure from `docker-compose config`:
#     3 KRaft Kafka nodes, replication factor 3 / min ISR 2, the one-shot jobs,
#     scalable ingest (no container_name, no host port), health checks, start
#     order, no secret as a literal value, bind-mounted files present.
#  2. deploy/docker/Dockerfile against a real build on this Debian 12 host:
#     the build stage's packages come from scripts/packages.txt (through
#     deploy/docker/build-packages.sh) and provide every pkg-config module of
#     CMakeLists.txt; the build context that .dockerignore leaves (as docker-py
#     computes it) builds with deploy/docker/build.sh, the script the build stage
#     runs; every shared library the programs load belongs to a package of the
#     runtime stage (NEEDED entries: directly; the rest of `ldd`: through their
#     Depends) or of the base image (Essential/required), mapped with `dpkg -S`;
#     no runtime package is unused.
#  3. deploy/systemd: `systemd-analyze verify` in a temporary root (the units,
#     the host's /usr/lib/systemd/system, the built programs in
#     /usr/local/bin), any message is a failure; `systemd-analyze security
#     --offline` exposure at most 2.0; the sandbox settings the units promise.
#  4. deploy/env: every fixed environment variable (docs/configuration.md) is in an example
#     file; each unit's EnvironmentFile has its example; variables in the
#     programs' --help but in no example file are listed.
#  5. The scripts: shellcheck; deploy/docker/create-topics.sh against stand-ins
#     of the Kafka tools (its arguments: partitions, RF 3, min ISR 2);
#     entrypoint.sh's PGPASSWORD_FILE; healthcheck.sh against a live
#     tthc-ingest's /readyz.
#  6. docs/operations.md: the statement that recomputes period_totals from the
#     dossier table, extracted from the doc, run on a database that tthc-ingest
#     filled from the generator's stream: no change on correct totals; repairs
#     corrupted ones while ingest applies more messages; the oracle agrees.
#     One runbook section per alert of deploy/prometheus/rules (when present).
# Every failed check is reported; the test fails if any did.
# shellcheck disable=SC1091 # common.sh sits next to this file
source "$(dirname "$0")/common.sh"
it_setup
src=$TTHC_SOURCE_DIR
W=$IT_DIR/deploy
mkdir -p "$W"
FAILS=0
fail() {
    tthc_error "FAIL: $*"
    FAILS=$((FAILS + 1))
}
ok() { echo "ok: $*"; }
need() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null || it_fail "$t not found (scripts/deps installs it from scripts/packages.txt)"
    done
}
need docker-compose systemd-analyze shellcheck python3 dpkg-query objdump ldd psql kcat pkg-config openssl
python3 -c 'import yaml, docker.utils.build' 2>/dev/null ||
    it_fail "python3 modules yaml and docker missing (Debian's docker-compose brings them)"

# ---- 1. docker-compose.yml -----------------------------------------------------

if (cd "$src" && docker-compose -f docker-compose.yml config -q) >"$W/compose.out" 2>&1; then
    if [[ -s $W/compose.out ]]; then
        fail "docker-compose config -q accepted the file but said: $(cat "$W/compose.out")"
    else
        ok "docker-compose $(docker-compose version --short 2>/dev/null) config -q"
    fi
else
    fail "docker-compose config rejected docker-compose.yml: $(cat "$W/compose.out")"
fi
(cd "$src" && docker-compose -f docker-compose.yml config) >"$W/compose.resolved.yml" 2>/dev/null || true

python3 - "$W/compose.resolved.yml" "$src" >"$W/compose.check" 2>&1 <<'PY' || fail "compose structure: $(cat "$W/compose.check")"
import os, re, sys, yaml
path, root = sys.argv[1], sys.argv[2]
c = yaml.safe_load(open(path)) or {}
S = c.get("services", {})
errs = []
def err(m): errs.append(m)
def env(s): return {k: str(v) for k, v in (S.get(s, {}).get("environment") or {}).items()}
def cond(s, dep):
    d = S.get(s, {}).get("depends_on") or {}
    return (d.get(dep) or {}).get("condition") if isinstance(d, dict) else None

want = {"kafka-1", "kafka-2", "kafka-3", "topics", "postgres", "migrate", "ingest", "sync", "portal-stub", "prometheus"}
missing = want - set(S)
if missing: err("services missing: %s" % sorted(missing))

kafkas = [n for n in S if n.startswith("kafka-")]
if len(kafkas) != 3: err("expected 3 Kafka nodes, found %s" % kafkas)
ids = set()
for k in kafkas:
    e, s = env(k), S[k]
    if not s.get("image", "").startswith("apache/kafka:"): err("%s: not the official apache/kafka image" % k)
    if set(e.get("KAFKA_PROCESS_ROLES", "").split(",")) != {"broker", "controller"}:
        err("%s: KAFKA_PROCESS_ROLES must be broker,controller (KRaft combined)" % k)
    if len(e.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "").split(",")) != 3: err("%s: 3 quorum voters expected" % k)
    for key, v in (("KAFKA_DEFAULT_REPLICATION_FACTOR", "3"), ("KAFKA_MIN_INSYNC_REPLICAS", "2"),
                   ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "3"), ("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")):
        if e.get(key) != v: err("%s: %s = %r, want %s" % (k, key, e.get(key), v))
    ids.add(e.get("KAFKA_NODE_ID"))
    if "healthcheck" not in s: err("%s: no healthcheck" % k)
if len(ids) != 3: err("Kafka node ids not distinct: %s" % ids)

t = env("topics")
for key, v in (("TOPIC_REPLICATION_FACTOR", "3"), ("TOPIC_MIN_INSYNC_REPLICAS", "2"), ("TTHC_DOSSIER_PARTITIONS", "12")):
    if t.get(key) != v: err("topics: %s = %r, want %s" % (key, t.get(key), v))
if S.get("topics", {}).get("restart") != "no": err("topics: a one-shot job needs restart: \"no\"")
for k in kafkas:
    if cond("topics", k) != "service_healthy": err("topics must wait for %s healthy" % k)

if not S.get("postgres", {}).get("image", "").startswith("postgres:"): err("postgres: not the official image")
if cond("migrate", "postgres") != "service_healthy": err("migrate must wait for postgres healthy")
if S.get("migrate", {}).get("restart") != "no": err("migrate: a one-shot job needs restart: \"no\"")
for s in ("ingest", "sync", "portal-stub"):
    if cond(s, "migrate") != "service_completed_successfully": err("%s must wait for migrate to complete" % s)
if cond("ingest", "topics") != "service_completed_successfully": err("ingest must wait for topics to complete")
if cond("sync", "portal-stub") != "service_healthy": err("sync must wait for portal-stub healthy")

ing = S.get("ingest", {})
if "container_name" in ing: err("ingest: container_name prevents --scale")
if ing.get("ports"): err("ingest: host ports prevent --scale")
for s in ("postgres", "ingest", "sync", "portal-stub", "prometheus"):
    if "healthcheck" not in S.get(s, {}): err("%s: no healthcheck" % s)
for s in ("migrate", "ingest", "sync", "portal-stub"):
    b = S.get(s, {}).get("build") or {}
    if b.get("dockerfile") != "deploy/docker/Dockerfile": err("%s: not built from deploy/docker/Dockerfile" % s)
    e = env(s)
    if e.get("PGPASSWORD_FILE", "").startswith("/run/secrets/") is False: err("%s: PGPASSWORD_FILE not a secret" % s)
for s in ("sync", "portal-stub"):
    if not env(s).get("TTHC_PORTAL_TOKEN_FILE", "").startswith("/run/secrets/"):
        err("%s: the token must come from a secret (TTHC_PORTAL_TOKEN_FILE)" % s)

secret_re = re.compile(r"(PASSWORD|TOKEN|SECRET)$")
for name, s in S.items():
    for k, v in env(name).items():
        if secret_re.search(k): err("%s: %s given as a literal value; use a *_FILE secret" % (name, k))
        if re.search(r"password=", v, re.I): err("%s: %s holds a password" % (name, k))
for name, sec in (c.get("secrets") or {}).items():
    f = sec.get("file", "")
    if not f.startswith(os.path.join(root, "deploy/env/secrets/")): err("secret %s: %s is not under deploy/env/secrets/" % (name, f))

for name, s in S.items():
    for v in s.get("volumes") or []:
        src = v.get("source") if isinstance(v, dict) else v.split(":")[0]
        typ = v.get("type") if isinstance(v, dict) else ("bind" if src.startswith(("/", ".")) else "volume")
        if typ != "bind": continue
        if not os.path.exists(src):
            err("%s: bind-mounted %s does not exist" % (name, src))
if errs:
    print("\n".join(errs)); sys.exit(1)
print("compose structure: %d services, %d Kafka nodes" % (len(S), len(kafkas)))
PY
[[ -s $W/compose.check ]] && cat "$W/compose.check"

# Compose's Prometheus: its configuration with the project's rules in the
# layout the bind mounts make (/etc/prometheus/{prometheus.yml,rules/}), checked
# by promtool; every job an alert names is scraped.
need promtool
prom=$W/prometheus
mkdir -p "$prom/rules"
cp "$src/deploy/docker/prometheus.yml" "$prom/"
cp "$src"/deploy/prometheus/rules/*.yml "$prom/rules/" 2>/dev/null || fail "no rule files in deploy/prometheus/rules/"
if promtool check config "$prom/prometheus.yml" >"$W/promtool.out" 2>&1; then
    ok "promtool check config: compose Prometheus with $(grep -o '[0-9]* rules found' "$W/promtool.out" | head -n1)"
else
    fail "promtool check config (compose layout): $(cat "$W/promtool.out")"
fi
python3 - "$prom" >"$W/promjobs.out" 2>&1 <<'PY' || fail "$(cat "$W/promjobs.out")"
import glob, re, sys, yaml
d = sys.argv[1]
jobs = {j["job_name"] for j in yaml.safe_load(open(d + "/prometheus.yml"))["scrape_configs"]}
wanted = set()
for f in glob.glob(d + "/rules/*.yml"):
    for g in yaml.safe_load(open(f))["groups"]:
        for r in g["rules"]:
            wanted |= set(re.findall(r'job="([^"]+)"', r.get("expr", "")))
missing = wanted - jobs
if missing: sys.exit("compose Prometheus does not scrape the jobs the alerts name: %s" % sorted(missing))
print("jobs %s" % " ".join(sorted(jobs)))
PY

# ---- 2. the Dockerfile against a build on this host -------------------------------

dockerfile=$src/deploy/docker/Dockerfile
mapfile -t froms < <(grep -E '^FROM ' "$dockerfile")
[[ ${#froms[@]} == 2 && ${froms[0]} == "FROM debian:bookworm-slim AS build" &&
    ${froms[1]} == "FROM debian:bookworm-slim AS runtime" ]] ||
    fail "Dockerfile stages must be 'debian:bookworm-slim AS build' then AS runtime; found: ${froms[*]}"
if ! grep -q 'build-packages.sh /tmp/tthc/packages.txt' "$dockerfile" ||
    ! grep -q '^COPY scripts/packages.txt deploy/docker/build-packages.sh' "$dockerfile"; then
    fail "the build stage does not install the build-packages.sh selection of scripts/packages.txt"
fi
grep -q '^RUN sh deploy/docker/build.sh /src /out' "$dockerfile" || fail "the build stage does not run deploy/docker/build.sh"
grep -q '^COPY --from=build /out/ /usr/local/' "$dockerfile" || fail "the runtime stage does not take /out from the build stage"
user=$(grep -E '^USER ' "$dockerfile" | tail -n1 | cut -d' ' -f2) || true
[[ -n $user && $user != root && $user != 0 && ${user%%:*} != 0 ]] || fail "the image's last USER is '$user', not a non-root user"
runtime=$(sed -n 's/^ARG TTHC_RUNTIME_PACKAGES="\(.*\)"$/\1/p' "$dockerfile")
[[ -n $runtime ]] || fail "no ARG TTHC_RUNTIME_PACKAGES=\"...\" in the Dockerfile"
# shellcheck disable=SC2016 # a literal $ in the Dockerfile
grep -q 'apt-get install -y --no-install-recommends \$TTHC_RUNTIME_PACKAGES' "$dockerfile" ||
    fail "the runtime stage does not install \$TTHC_RUNTIME_PACKAGES"
for p in $runtime; do
    [[ $p == *-dev || $p == build-essential || $p == cmake || $p == pkg-config ]] && fail "runtime package $p is a build tool"
done

if ! sh "$src/deploy/docker/build-packages.sh" "$src/scripts/packages.txt" >"$W/build-packages.txt" 2>"$W/bp.err"; then
    fail "build-packages.sh: $(cat "$W/bp.err")"
fi
mapfile -t buildpkgs <"$W/build-packages.txt"
all_listed=$("$src/scripts/deps" --list)
for p in "${buildpkgs[@]}"; do
    grep -qx -- "$p" <<<"$all_listed" || fail "build package $p is not in scripts/packages.txt"
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] ||
        fail "build package $p is not installed here: the host build below would not be the image's"
done
for p in build-essential cmake pkg-config; do
    printf '%s\n' "${buildpkgs[@]}" | grep -qx "$p" || fail "build stage lacks $p"
done
# Every pkg-config module CMakeLists.txt requires comes from a build package.
mapfile -t modules < <(sed -n 's/.*pkg_check_modules([A-Z_]* REQUIRED IMPORTED_TARGET \([a-z0-9_-]*\)).*/\1/p' "$src/CMakeLists.txt")
((${#modules[@]} >= 5)) || fail "found only ${#modules[@]} pkg_check_modules in CMakeLists.txt"
for m in "${modules[@]}"; do
    pc=$(pkg-config --variable=pcfiledir "$m" 2>/dev/null)/$m.pc || true
    owner=$(dpkg-query -S "$pc" 2>/dev/null | head -n1 | cut -d: -f1) || true
    if [[ -z $owner ]]; then
        fail "pkg-config module $m ($pc) belongs to no Debian package"
    elif ! printf '%s\n' "${buildpkgs[@]}" | grep -qx "$owner"; then
        fail "pkg-config module $m comes from $owner, which the build stage does not install"
    fi
done
ok "build stage: ${#buildpkgs[@]} packages from scripts/packages.txt, providing ${modules[*]}"

# The build context .dockerignore leaves, built with the build stage's script.
ctx=$W/context
mkdir -p "$ctx"
python3 - "$src" "$ctx" <<'PY' || it_fail "could not assemble the build context"
import os, shutil, sys
from docker.utils.build import exclude_paths
root, dst = sys.argv[1], sys.argv[2]
pats = [l.strip() for l in open(os.path.join(root, ".dockerignore")) if l.strip() and not l.startswith("#")]
files = [f for f in exclude_paths(root, pats) if os.path.isfile(os.path.join(root, f))]
for f in files:
    os.makedirs(os.path.join(dst, os.path.dirname(f)), exist_ok=True)
    shutil.copy2(os.path.join(root, f), os.path.join(dst, f))
if any(f.startswith(("deploy/env/secrets/", ".git/", ".stack/")) or f.startswith("build") for f in files):
    sys.exit("the build context holds secrets, git objects or build state")
print("build context: %d files" % len(files))
PY
out=$W/out
if ! TTHC_JOBS=2 sh "$ctx/deploy/docker/build.sh" "$ctx" "$out" "$W/build" >"$W/build.log" 2>&1; then
    tail -n 30 "$W/build.log" >&2
    it_fail "deploy/docker/build.sh failed in the .dockerignore'd context (see above)"
fi
ok "release build of the image's context: $(tail -n1 "$W/build.log")"
for p in tthc-migrate tthc-ingest tthc-sync tthc-portal-stub; do
    [[ -x $out/bin/$p ]] || fail "$p missing from the image's /usr/local/bin"
    "$out/bin/$p" --version >/dev/null 2>&1 || fail "$p --version failed"
done
[[ ! -e $out/bin/tthc-kafka-dev ]] || fail "the dev broker tthc-kafka-dev is in the image"
[[ -f $out/share/doc/tthc/operations.md ]] || fail "docs/operations.md (the units' Documentation=) is not in the image"
diff <(cd "$src/migrations" && ls [0-9]*_*.sql) <(cd "$out/share/tthc/migrations" && ls) >/dev/null ||
    fail "the image's migrations differ from migrations/"
for f in "$src"/migrations/[0-9]*_*.sql; do
    cmp -s "$f" "$out/share/tthc/migrations/${f##*/}" || fail "migration ${f##*/} differs in the image"
done

# Runtime libraries -> packages.
python3 - "$out/bin" "$runtime" >"$W/runtime.check" 2>&1 <<'PY' || fail "runtime stage: $(cat "$W/runtime.check")"
import glob, os, re, subprocess, sys
bindir, runtime = sys.argv[1], set(sys.argv[2].split())
errs = []

def run(*a):
    return subprocess.run(a, capture_output=True, text=True).stdout

def owner(path):
    cands = [path, os.path.realpath(path)]
    for p in list(cands):
        if p.startswith("/usr/lib/"): cands.append(p[4:])
        elif p.startswith("/lib/"): cands.append("/usr" + p)
    for p in cands:
        o = run("dpkg-query", "-S", p).strip()
        if o: return o.split(":")[0].split(",")[0].strip()
    return None

# Installed packages, their dependencies and what they provide.
deps, provides, essential = {}, {}, set()
for line in run("dpkg-query", "-W", "-f", "${Package}\t${db:Status-Status}\t${Essential}\t${Priority}\t${Pre-Depends}, ${Depends}\t${Provides}\n").splitlines():
    pkg, status, ess, prio, dep, prov = (line.split("\t") + [""] * 6)[:6]
    if status != "installed": continue
    deps[pkg] = [[re.sub(r"[\s(:].*", "", alt.strip()) for alt in d.split("|")] for d in dep.split(",") if d.strip()]
    for p in prov.split(","):
        p = re.sub(r"[\s(].*", "", p.strip())
        if p: provides.setdefault(p, []).append(pkg)
    if ess == "yes" or prio == "required": essential.add(pkg)

def closure(seeds):
    seen, todo = set(), list(seeds)
    while todo:
        p = todo.pop()
        if p in seen or p not in deps: continue
        seen.add(p)
        for alts in deps[p]:
            for a in alts:
                real = [a] if a in deps else provides.get(a, [])
                if real:
                    todo.extend(real)
                    break
    return seen

base = closure(essential)
for p in runtime:
    if p not in deps: errs.append("runtime package %s is not installed here (cannot check it)" % p)
full = closure(runtime | essential)
used = set()
progs = sorted(glob.glob(os.path.join(bindir, "tthc-*")))
for prog in progs:
    name = os.path.basename(prog)
    needed = re.findall(r"NEEDED\s+(\S+)", run("objdump", "-p", prog))
    paths = {}
    for line in run("ldd", prog).splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line)
        if m: paths[m.group(1)] = m.group(2)
        elif "not found" in line: errs.append("%s: %s" % (name, line.strip()))
    for lib, path in sorted(paths.items()):
        pkg = owner(path)
        if pkg is None:
            errs.append("%s: %s (%s) belongs to no package" % (name, lib, path)); continue
        if lib in needed:
            if pkg in runtime: used.add(pkg)
            elif pkg not in base:
                errs.append("%s needs %s from %s: neither in TTHC_RUNTIME_PACKAGES nor in the base image" % (name, lib, pkg))
        elif pkg not in full:
            errs.append("%s loads %s from %s, which no runtime package depends on" % (name, lib, pkg))
    for lib in needed:
        if lib not in paths and not lib.startswith("ld-linux"): errs.append("%s: NEEDED %s not resolved by ldd" % (name, lib))
for p in sorted(runtime - used - {"ca-certificates"}):
    errs.append("runtime package %s provides no library the programs need (runtime libraries only)" % p)
if not progs: errs.append("no programs in %s" % bindir)
if errs:
    print("\n".join(errs)); sys.exit(1)
print("runtime stage: %d programs; direct libraries from %s; the rest from their dependencies or the base image"
      % (len(progs), " ".join(sorted(used))))
PY
cat "$W/runtime.check"

# ---- 3. systemd units -------------------------------------------------------------

units=(tthc-migrate.service tthc-ingest@.service tthc-sync.service tthc-portal-stub.service)
root=$W/root
mkdir -p "$root/usr/lib/systemd" "$root/usr/local/bin" "$root/etc/systemd/system" "$root/etc/tthc"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp "$out"/bin/tthc-* "$root/usr/local/bin/"
for u in "${units[@]}"; do
    [[ -f $src/deploy/systemd/$u ]] || { fail "deploy/systemd/$u missing"; continue; }
    cp "$src/deploy/systemd/$u" "$root/etc/systemd/system/"
done
for f in "$src"/deploy/env/*.env.example; do
    b=${f##*/}
    cp "$f" "$root/etc/tthc/${b%.example}"
done
instances=(tthc-migrate.service tthc-ingest@9464.service tthc-sync.service tthc-portal-stub.service)
rc=0
(cd "$root" && systemd-analyze verify --root="$root" "${instances[@]/#/etc/systemd/system/}") >"$W/verify.out" 2>&1 || rc=$?
if ((rc != 0)) || [[ -s $W/verify.out ]]; then
    fail "systemd-analyze verify (exit $rc): $(cat "$W/verify.out")"
else
    ok "systemd-analyze $(systemd-analyze --version | head -n1 | cut -d' ' -f2) verify: ${instances[*]}"
fi
for u in "${instances[@]}"; do
    if ! (cd "$root" && systemd-analyze security --offline=yes --threshold=20 --root="$root" "etc/systemd/system/$u") >"$W/sec.out" 2>&1; then
        fail "$u: exposure above 2.0: $(tail -n1 "$W/sec.out")"
    else
        ok "$(grep -o 'Overall exposure level.*' "$W/sec.out")"
    fi
done
sandbox() { sed -n '/^DynamicUser=yes$/,/^UMask=/p' "$1"; }
ref=$(sandbox "$src/deploy/systemd/tthc-migrate.service")
for u in "${units[@]}"; do
    f=$src/deploy/systemd/$u
    [[ -f $f ]] || continue
    for line in DynamicUser=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes NoNewPrivileges=yes \
        CapabilityBoundingSet= SystemCallFilter=@system-service 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'; do
        grep -qx -- "$line" "$f" || fail "$u lacks $line"
    done
    [[ $(sandbox "$f") == "$ref" ]] || fail "$u: its sandbox block differs from tthc-migrate.service's"
    grep -qE '^ExecStart=/usr/local/bin/tthc-[a-z-]+$' "$f" || fail "$u: ExecStart is not /usr/local/bin/tthc-*"
    if [[ $u == tthc-migrate.service ]]; then
        grep -qx Type=oneshot "$f" || fail "$u: not Type=oneshot"
    else
        if ! grep -qx Restart=on-failure "$f" || ! grep -qE '^RestartSec=' "$f"; then
            fail "$u: no Restart=on-failure with RestartSec"
        fi
        if ! grep -qx Requires=tthc-migrate.service "$f" || ! grep -qE '^After=tthc-migrate.service' "$f"; then
            fail "$u: does not require and follow tthc-migrate.service"
        fi
    fi
    while read -r ef; do
        ef=${ef#-}
        base=${ef##*/}
        [[ $base == *%i* ]] && continue # per-instance file, optional, documented in ingest.env.example
        [[ -f $src/deploy/env/$base.example ]] || fail "$u reads $ef: no deploy/env/$base.example"
    done < <(sed -n 's/^EnvironmentFile=//p' "$f")
done
ok "units: sandbox, restart, ordering, environment files"

# ---- 4. example environment files --------------------------------------------------

# The fixed variables: the first table of docs/configuration.md.
contract=$src/docs/configuration.md
examples=("$src"/deploy/env/*.env.example)
if [[ ! -r $contract ]]; then
    fail "$contract is missing"
else
    # shellcheck disable=SC2016 # literal backquotes of the markdown table
    mapfile -t cvars < <(sed -n '/^## The variables every deployment sets/,/^## /p' "$contract" |
        grep -oE '^\| `TTHC_[A-Z0-9_]+`' | grep -oE 'TTHC_[A-Z0-9_]+')
    ((${#cvars[@]} >= 7)) || fail "found only ${#cvars[@]} variables in $contract"
    for v in "${cvars[@]}"; do
        grep -qE "^#?$v=" "${examples[@]}" || fail "contract variable $v is in no deploy/env/*.env.example"
    done
    ok "contract variables in the example env files: ${cvars[*]}"
fi
undocumented=()
for p in tthc-migrate tthc-ingest tthc-sync tthc-portal-stub; do
    for v in $("$out/bin/$p" --help 2>&1 | grep -oE 'env: TTHC_[A-Z0-9_]+' | cut -d' ' -f2 | sort -u); do
        grep -qE "^#?$v=" "${examples[@]}" || undocumented+=("$p:$v")
    done
done
if ((${#undocumented[@]})); then
    echo "WARNING: in --help but in no deploy/env/*.env.example (not a failure): ${undocumented[*]}"
else
    ok "every variable of the units' programs' --help is in an example env file"
fi

# ---- 5. the scripts ------------------------------------------------------------------

if shellcheck "$src"/deploy/docker/*.sh "$src/tests/integration/it_deploy.sh" >"$W/shellcheck.out" 2>&1; then
    ok "shellcheck deploy/docker/*.sh it_deploy.sh"
else
    fail "shellcheck: $(cat "$W/shellcheck.out")"
fi

fake=$W/fakebin
mkdir -p "$fake"
cat >"$fake/kafka-broker-api-versions.sh" <<'EOF'
#!/bin/sh
# stand-in: the first call sees 2 brokers, later calls 3
n=$(cat "$FAKE_DIR/calls" 2>/dev/null || echo 0); echo $((n + 1)) >"$FAKE_DIR/calls"
echo "kafka-1:19092 (id: 1 rack: null) -> ("; echo "kafka-2:19092 (id: 2 rack: null) -> ("
[ "$n" -ge 1 ] && [ -z "${FAKE_TWO:-}" ] && echo "kafka-3:19092 (id: 3 rack: null) -> ("
exit 0
EOF
cat >"$fake/kafka-topics.sh" <<'EOF'
#!/bin/sh
echo "$*" >>"$FAKE_DIR/topics.args"
case " $* " in *" --describe "*)
    t=$(echo "$*" | sed 's/.*--topic \([^ ]*\).*/\1/')
    p=12; [ "$t" = tthc.dlq ] && p=3
    printf 'Topic: %s\tTopicId: x\tPartitionCount: %s\tReplicationFactor: 3\tConfigs: min.insync.replicas=2\n' "$t" "$p" ;;
esac
EOF
chmod +x "$fake"/*.sh
if FAKE_DIR=$W KAFKA_BIN=$fake BOOTSTRAP=k:1 sh "$src/deploy/docker/create-topics.sh" >"$W/topics.out" 2>&1; then
    if ! grep -q -- '--create --if-not-exists --topic tthc.dossier.events --partitions 12 --replication-factor 3 --config min.insync.replicas=2 --config retention.ms=-1' "$W/topics.args" ||
        ! grep -q -- '--topic tthc.dlq --partitions 3 --replication-factor 3 --config min.insync.replicas=2' "$W/topics.args"; then
        fail "create-topics.sh called kafka-topics.sh with: $(cat "$W/topics.args")"
    fi
    grep -q WARNING "$W/topics.out" && fail "create-topics.sh warned: $(cat "$W/topics.out")"
    ok "create-topics.sh (stand-in Kafka tools): waited for the third broker, 12 + 3 partitions, RF 3, min ISR 2"
else
    fail "create-topics.sh failed: $(cat "$W/topics.out")"
fi
rm -f "$W/calls"
if FAKE_TWO=1 FAKE_DIR=$W KAFKA_BIN=$fake BOOTSTRAP=k:1 TOPICS_WAIT_SECONDS=0 sh "$src/deploy/docker/create-topics.sh" >"$W/topics2.out" 2>&1; then
    fail "create-topics.sh went on with 2 of 3 brokers"
else
    ok "create-topics.sh gives up when fewer brokers than the replication factor register"
fi

ep=$src/deploy/docker/entrypoint.sh
# shellcheck disable=SC2016 # a literal $ in the password
printf 's3cr$t\n' >"$W/pw"
got=$(PGPASSWORD='' PGPASSWORD_FILE=$W/pw sh "$ep" sh -c 'printf "%s|%s" "$PGPASSWORD" "${PGPASSWORD_FILE-unset}"')
# shellcheck disable=SC2016
[[ $got == 's3cr$t|unset' ]] || fail "entrypoint.sh: PGPASSWORD_FILE gave '$got'"
rc=0
PGPASSWORD=x PGPASSWORD_FILE=$W/pw sh "$ep" true 2>/dev/null || rc=$?
((rc == 64)) || fail "entrypoint.sh with PGPASSWORD and PGPASSWORD_FILE: exit $rc, want 64"
rc=0
PGPASSWORD_FILE=$W/missing sh "$ep" true 2>/dev/null || rc=$?
((rc == 78)) || fail "entrypoint.sh with a missing PGPASSWORD_FILE: exit $rc, want 78"
ok "entrypoint.sh: PGPASSWORD_FILE"

# ---- 6. docs/operations.md ---------------------------------------------------------

doc=$src/docs/operations.md
[[ -r $doc ]] || it_fail "docs/operations.md missing"
# doc_sql NAME: the SQL block between the doc's it_deploy markers for NAME.
doc_sql() {
    doc_block "$doc" "$1" >"$W/$1"
    [[ -s $W/$1 ]] || it_fail "docs/operations.md: no SQL between the it_deploy markers of $1"
}
doc_sql recompute.sql
doc_sql replay-before.sql
doc_sql replay-after.sql
if ! grep -q 'LOCK TABLE period_totals' "$W/recompute.sql" || ! grep -q 'INSERT INTO period_totals' "$W/recompute.sql"; then
    it_fail "docs/operations.md: no recompute statement between the it_deploy markers"
fi
recompute() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$TTHC_PG_DSN" -f "$W/recompute.sql"; }

"${ORACLE[@]}" gen --seed it-deploy --dossiers 2500 --units 12 --months 2025-01..2025-05 --malformed 20 \
    --conflicts 15 --pending-first 0.1 --dup-rate 0.05 --shuffle 100 \
    --out-events "$IT_DIR/events.tsv" --out-expected "$IT_DIR/expected.json" >/dev/null
total=$(wc -l <"$IT_DIR/events.tsv")
head -n $((total / 2)) "$IT_DIR/events.tsv" >"$IT_DIR/part1.tsv"
tail -n +$((total / 2 + 1)) "$IT_DIR/events.tsv" >"$IT_DIR/part2.tsv"
it_produce "$IT_DIR/part1.tsv"
it_ingest_start a --batch-max 500 --batch-ms 50
it_wait_applied "$((total / 2))"

# healthcheck.sh against a live daemon: the portal stub's /readyz (answers 200
# once its database answers), 404 for an unknown path, nothing on a closed port.
_stub_port() { [[ -s $W/stub.port ]]; }
"$TTHC_BIN_DIR/tthc-portal-stub" --listen 127.0.0.1:0 --port-file "$W/stub.port" --token it-deploy \
    --dsn "$TTHC_PG_DSN" </dev/null >>"$IT_DIR/portal-stub.log" 2>&1 &
echo $! >"$IT_DIR/portal-stub.pid"
hc=$src/deploy/docker/healthcheck.sh
if ! wait_until 30 _stub_port; then
    fail "tthc-portal-stub did not write its port (see $IT_DIR/portal-stub.log)"
else
    port=$(cat "$W/stub.port")
    wait_until 30 bash "$hc" "$port" /readyz 2>/dev/null || fail "healthcheck.sh $port /readyz: $(bash "$hc" "$port" 2>&1)"
    bash "$hc" "$port" /no-such-path >/dev/null 2>&1 && fail "healthcheck.sh accepted a 404"
    ok "healthcheck.sh: 200 from tthc-portal-stub's /readyz, a 404 fails"
fi
daemon_stop "$IT_DIR" portal-stub
bash "$hc" "${port:-1}" >/dev/null 2>&1 && fail "healthcheck.sh accepted a closed port"

# Correct totals: the statement changes nothing, not even a revision.
rev_before=$(it_sql 'SELECT sum(revision) FROM period_totals')
res=$(recompute) || it_fail "the recompute statement of docs/operations.md failed"
[[ $res == '0|0' ]] || fail "recompute on correct totals changed something: $res"
[[ $(it_sql 'SELECT sum(revision) FROM period_totals') == "$rev_before" ]] || fail "recompute on correct totals bumped revisions"
# Corrupt: inflate some rows, delete others, add a bucket no dossier supports.
it_sql "UPDATE period_totals SET on_time = on_time + 3, payments_online = 0
        WHERE (unit_code, period) IN (SELECT unit_code, period FROM period_totals ORDER BY 1, 2 LIMIT 5)" >/dev/null
it_sql "DELETE FROM period_totals
        WHERE (unit_code, period) IN (SELECT unit_code, period FROM period_totals ORDER BY 2 DESC, 1 DESC LIMIT 3)" >/dev/null
it_sql "INSERT INTO period_totals (unit_code, period, received, issued) VALUES ('H99.1', '2024-01', 5, 2)" >/dev/null
# Repair while tthc-ingest applies the second half (the LOCK makes that safe).
it_produce "$IT_DIR/part2.tsv"
res=$(recompute) || it_fail "the recompute statement failed on corrupted totals"
[[ $res =~ ^([0-9]+)\|1$ && ${BASH_REMATCH[1]} -ge 8 ]] || fail "recompute on corrupted totals: '$res', want >= 8 rewritten and 1 zeroed"
it_wait_applied "$total"
it_ingest_stop a
it_dlq_dump "$IT_DIR/dlq.txt"
if it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt" >"$W/oracle.out" 2>&1; then
    ok "recompute statement: no-op on correct totals; repaired corrupted ones ($res) during ingest; $(tail -n1 "$W/oracle.out")"
else
    fail "totals after recompute differ from the oracle: $(cat "$W/oracle.out")"
fi
res=$(recompute) || it_fail "the second recompute failed"
[[ $res == '0|0' ]] || fail "a second recompute changed something: $res"

# Replay, as the doc's steps say: save revisions and empty the derived tables,
# start ingest (positions from PostgreSQL: none, so from the beginning, whatever
# Kafka's committed offsets say), wait, lift the revisions.
buckets_sql="SELECT unit_code || ' ' || period || ' ' || revision FROM period_totals ORDER BY 1"
it_sql "$buckets_sql" >"$W/revisions.before"
psql -X -q -v ON_ERROR_STOP=1 -v group=tthc-ingest "$TTHC_PG_DSN" -f "$W/replay-before.sql" ||
    it_fail "the replay's first SQL step of docs/operations.md failed"
[[ $(it_sql 'SELECT (SELECT count(*) FROM dossier) + (SELECT count(*) FROM period_totals) + (SELECT count(*) FROM consumer_offset)') == 0 ]] ||
    fail "replay-before.sql left rows in dossier, period_totals or consumer_offset"
it_ingest_start b --batch-max 500 --batch-ms 50
it_wait_applied "$total"
psql -X -q -v ON_ERROR_STOP=1 "$TTHC_PG_DSN" -f "$W/replay-after.sql" ||
    it_fail "the replay's last SQL step of docs/operations.md failed"
it_ingest_stop b
if "${ORACLE[@]}" check --expected "$IT_DIR/expected.json" --dsn "$TTHC_PG_DSN" >"$W/oracle2.out" 2>&1; then
    ok "replay: totals rebuilt from the topic match the oracle: $(tail -n1 "$W/oracle2.out")"
else
    fail "totals after the replay differ from the oracle: $(cat "$W/oracle2.out")"
fi
it_sql "$buckets_sql" >"$W/revisions.after"
lifted=$(awk 'NR == FNR { old[$1 " " $2] = $3; next }
              ($1 " " $2) in old { n++; if ($3 <= old[$1 " " $2]) bad++ }
              END { printf "%d %d", n, bad }' "$W/revisions.before" "$W/revisions.after")
[[ $lifted == "$(wc -l <"$W/revisions.before") 0" ]] ||
    fail "replay: of the buckets before, (present, not above their old revision) = $lifted"
[[ $(it_sql "SELECT count(*) FROM pg_tables WHERE tablename = 'rebuild_revision'") == 0 ]] ||
    fail "replay-after.sql left rebuild_revision behind"
res=$(recompute) || it_fail "recompute after the replay failed"
[[ $res == '0|0' ]] || fail "recompute after the replay changed something: $res"
ok "replay: every bucket back, each revision above its old one; recompute agrees"

# The secured-cluster blocks of tthc.env.example, each given to tthc-ingest
# (no broker answers: the point is that the build accepts the properties).
tls=$W/tls
mkdir -p "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=tthc-it-deploy \
    -keyout "$tls/kafka-client.key" -out "$tls/kafka-client.pem" >/dev/null 2>&1 ||
    it_fail "openssl could not make a test certificate"
cp "$tls/kafka-client.pem" "$tls/kafka-ca.pem"
python3 - "$src/deploy/env/tthc.env.example" "$tls" "$W" >"$W/blocks.txt" <<'PY' || fail "tthc.env.example: $(cat "$W/blocks.txt")"
import re, sys
path, tls, out = sys.argv[1:4]
blocks, cur = {}, None
for line in open(path):
    m = re.match(r"#\s+\[(\w+)\]", line)
    if m:
        cur = m.group(1); blocks[cur] = []; continue
    m = re.match(r"#(TTHC_KAFKA_[A-Z0-9_]+=.*)$", line.rstrip("\n"))
    if m and cur:
        blocks[cur].append(m.group(1).replace("/etc/tthc/", tls + "/"))
    elif not line.startswith("#   ") and not m:
        cur = None
want = {"tls", "mtls", "scram", "oidc"}
if set(blocks) != want:
    sys.exit("secured-cluster blocks %s, want %s" % (sorted(blocks), sorted(want)))
for name, lines in blocks.items():
    if not lines: sys.exit("block [%s] is empty" % name)
    open("%s/kafka-%s.env" % (out, name), "w").write("\n".join(lines) + "\n")
print(" ".join(sorted(blocks)))
PY
read -r -a blocks <"$W/blocks.txt"
for name in "${blocks[@]}"; do
    envf=$W/kafka-$name.env
    log=$IT_DIR/kafka-$name.log
    rc=0
    (
        set -a
        # shellcheck disable=SC1090
        source "$envf"
        # --metrics-listen= (empty: off); an empty variable would count as unset and bind 9464.
        exec timeout -k 10 4 "$TTHC_BIN_DIR/tthc-ingest" --brokers 127.0.0.1:1 \
            --group it-deploy-"$name" --metrics-listen=""
    ) </dev/null >"$log" 2>&1 || rc=$?
    if [[ $name == oidc ]]; then
        if ((rc != 124)) && grep -q 'not supported in this build' "$log"; then
            ok "[oidc] refused by this build, as tthc.env.example and the doc say"
        elif ((rc == 124)); then
            echo "NOTE: [oidc] is accepted by this librdkafka now: update tthc.env.example and docs/operations.md"
        else
            fail "[oidc]: exit $rc without the documented message: $(tail -n 3 "$log")"
        fi
    elif ((rc == 124)) && grep -q 'event=started' "$log"; then
        ok "[$name] accepted by tthc-ingest: $(tr '\n' ' ' <"$envf" | sed "s|$tls/||g")"
    else
        fail "[$name] not accepted by tthc-ingest (exit $rc): $(grep 'level=error' "$log" | tail -n 2)"
    fi
done

# One runbook section per alert, anchored by the alert's name in lower case,
# and no section for an alert that does not exist.
rules=("$src"/deploy/prometheus/rules/*.y*ml)
if [[ ! -e ${rules[0]} ]]; then
    fail "deploy/prometheus/rules/ has no rule files: the runbook cannot be checked"
else
    mapfile -t alerts < <(sed -n 's/^[[:space:]]*-[[:space:]]*alert:[[:space:]]*\([A-Za-z0-9_]*\).*/\1/p' "${rules[@]}" | sort -u)
    ((${#alerts[@]})) || fail "no alert: entries in ${rules[*]}"
    for a in "${alerts[@]}"; do
        lower=$(tr '[:upper:]' '[:lower:]' <<<"$a")
        if ! grep -qx "<a id=\"$lower\"></a>" "$doc" || ! grep -qx "### $a" "$doc"; then
            fail "docs/operations.md: no runbook section '### $a' with anchor <a id=\"$lower\">"
        fi
    done
    lowers=$(printf '%s\n' "${alerts[@]}" | tr '[:upper:]' '[:lower:]')
    while read -r id; do
        grep -qx -- "$id" <<<"$lowers" || fail "docs/operations.md: runbook section #$id names no alert of deploy/prometheus/rules"
    done < <(sed -n 's/^<a id="\(tthc[a-z]*\)"><\/a>$/\1/p' "$doc")
    ok "runbook: one section per alert (${#alerts[@]}), none for an unknown alert"
fi

if ((FAILS)); then
    it_fail "$FAILS check(s) failed (see above)"
fi
echo "it_deploy: ok (no Docker engine here: no image was built, no container or unit was started)"
