# shellcheck shell=bash
# scripts/lib.sh - shell functions shared by scripts/* and tests/integration/*.
#
#   source "$TTHC_SOURCE_DIR/scripts/lib.sh"     # or any path to this file
#
# Every function prints diagnostics on stderr, results (a DSN, a bootstrap
# list) on stdout, and returns non-zero on failure instead of exiting, so it
# works both in `set -e` scripts and in `if` tests.  Every wait is bounded.
#
# Layout of a state directory DIR (one per stack or per test):
#   DIR/pg/data        PostgreSQL data directory (initdb)
#   DIR/pg/sock        its unix socket directory (a short /tmp path if too long)
#   DIR/pg/postgres.log, DIR/pg/port, DIR/pg/dsn
#   DIR/kafka.bootstrap                                 (the broker's bootstrap list)
#   DIR/kafka/..., DIR/kafka-K.log                      (Apache Kafka, see broker_start)
#   DIR/kafka.pid, DIR/kafka.log                        (TTHC_BROKER=mock: tthc-kafka-dev)
#   DIR/NAME.pid, DIR/NAME.log                          (daemon_start DIR NAME)
#
# Environment read:
#   TTHC_BIN_DIR       where the programs are (default REPO/build/bin)
#   TTHC_PG_BIN        PostgreSQL server binaries (default: newest /usr/lib/postgresql/*/bin)
#   TTHC_PG_TCP=1      also listen on 127.0.0.1 (a free port, kept across restarts)
#   TTHC_PG_FSYNC=off  fsync=off (throw-away test clusters only)
#   TTHC_PG_SETTINGS="name=value ..."  more postgresql.conf settings (scripts/bench
#                      measures with them; docs/operations.md "PostgreSQL settings")
#   TTHC_STOP_TIMEOUT  seconds stop_pid waits after SIGTERM before SIGKILL (default 15)

if [[ -n "${TTHC_LIB_SOURCED:-}" ]]; then return 0; fi
TTHC_LIB_SOURCED=1

TTHC_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TTHC_BIN_DIR="${TTHC_BIN_DIR:-$TTHC_REPO/build/bin}"
export TTHC_REPO TTHC_BIN_DIR

# ---- messages ------------------------------------------------------------

tthc_note() { printf '%s [%s] %s\n' "$(date +%H:%M:%S)" "${0##*/}" "$*" >&2; }
tthc_error() { printf '%s [%s] error: %s\n' "$(date +%H:%M:%S)" "${0##*/}" "$*" >&2; }

# ---- waiting and processes -----------------------------------------------

# _now_us: microseconds since the epoch (bash 5 EPOCHREALTIME, locale-proof).
_now_us() { local t=${EPOCHREALTIME//[!0-9]/}; printf '%s' "$((10#$t))"; }

# _seconds_to_us 1.5 -> 1500000
_seconds_to_us() {
    local s=$1 int frac
    [[ $s =~ ^([0-9]+)(\.([0-9]{1,6}))?$ ]] || { tthc_error "not a number of seconds: '$s'"; return 1; }
    int=${BASH_REMATCH[1]}
    frac=${BASH_REMATCH[3]:-0}
    while ((${#frac} < 6)); do frac+=0; done
    printf '%s' "$((10#$int * 1000000 + 10#$frac))"
}

# wait_until TIMEOUT_SECONDS CMD [ARGS...]
# Runs CMD every 0.1 s until it succeeds (returns 0) or TIMEOUT_SECONDS pass
# (returns 1).  CMD's output is not redirected.
wait_until() {
    if (($# < 2)); then tthc_error "usage: wait_until TIMEOUT_SECONDS CMD [ARGS...]"; return 2; fi
    local budget deadline
    budget=$(_seconds_to_us "$1") || return 2
    shift
    deadline=$(($(_now_us) + budget))
    while :; do
        if "$@"; then return 0; fi
        if (($(_now_us) >= deadline)); then return 1; fi
        sleep 0.1
    done
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
    local pid=$1 state
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r /proc/$pid/stat ]]; then
        state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
        [[ $state != Z ]] || return 1
    fi
    return 0
}

_pid_dead() { ! pid_alive "$1"; }

# _pid_runs PID NAME: the process's command line contains NAME (guards
# against a stale pid file whose pid was reused by another program).
_pid_runs() {
    local pid=$1 name=$2
    [[ -z $name ]] && return 0
    [[ -r /proc/$pid/cmdline ]] || return 0
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$name"
}

# pidfile_alive FILE [NAME]: FILE holds the pid of a live process (running NAME).
pidfile_alive() {
    local file=$1 name=${2:-} pid
    [[ -s $file ]] || return 1
    pid=$(head -n1 "$file")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    pid_alive "$pid" && _pid_runs "$pid" "$name"
}

# stop_pid FILE [NAME]
# Stops the process whose pid is in FILE: SIGTERM, up to TTHC_STOP_TIMEOUT
# seconds (default 15), then SIGKILL.  Removes FILE.  A missing file, a dead
# process or (with NAME) a pid now running something else is not an error.
stop_pid() {
    local file=$1 name=${2:-} pid
    [[ -e $file ]] || return 0
    pid=$(head -n1 "$file" 2>/dev/null || true)
    if [[ ! $pid =~ ^[0-9]+$ ]] || ! pid_alive "$pid" || ! _pid_runs "$pid" "$name"; then
        rm -f "$file"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until "${TTHC_STOP_TIMEOUT:-15}" _pid_dead "$pid"; then
        tthc_note "pid $pid (${name:-$file}) ignored SIGTERM for ${TTHC_STOP_TIMEOUT:-15}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        if ! wait_until 5 _pid_dead "$pid"; then
            tthc_error "pid $pid did not die after SIGKILL"
            return 1
        fi
    fi
    rm -f "$file"
}

# sanitizer_check FILE...
# Returns 1 (and shows the report) if a log holds an AddressSanitizer,
# LeakSanitizer or UndefinedBehaviorSanitizer report.  For background
# programs, whose exit status nobody sees: call it after stopping them.
sanitizer_check() {
    local f bad=0 re='ERROR: (Address|Leak)Sanitizer|runtime error: |SUMMARY: UndefinedBehaviorSanitizer'
    for f in "$@"; do
        [[ -f $f ]] || continue
        if grep -Eq "$re" "$f"; then
            tthc_error "sanitizer report in $f:"
            grep -E -A 30 "$re" "$f" | head -n 60 >&2
            bad=1
        fi
    done
    return "$bad"
}

# ---- build ---------------------------------------------------------------

# tthc_build DIR [CMAKE_ARGS...]
# Configures REPO into DIR (CMAKE_BUILD_TYPE from TTHC_BUILD_TYPE, default
# RelWithDebInfo) and builds with TTHC_JOBS (default 2) jobs.
tthc_build() {
    if (($# < 1)); then tthc_error "usage: tthc_build DIR [CMAKE_ARGS...]"; return 2; fi
    local dir=$1
    shift
    cmake -S "$TTHC_REPO" -B "$dir" -DCMAKE_BUILD_TYPE="${TTHC_BUILD_TYPE:-RelWithDebInfo}" "$@" >&2 || return 1
    cmake --build "$dir" -j "${TTHC_JOBS:-2}" >&2 || return 1
}

# ---- PostgreSQL ----------------------------------------------------------

_abs_dir() {
    if [[ -z ${1:-} ]]; then tthc_error "a state directory is required"; return 1; fi
    mkdir -p -- "$1" || return 1
    (cd -- "$1" && pwd)
}

_pg_bin() {
    local d best=''
    if [[ -n ${TTHC_PG_BIN:-} ]]; then printf '%s' "$TTHC_PG_BIN"; return 0; fi
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x $d/pg_ctl ]] && best=$(printf '%s\n%s\n' "$best" "$d" | sed '/^$/d' | sort -V | tail -n1)
    done
    if [[ -n $best ]]; then printf '%s' "$best"; return 0; fi
    d=$(command -v pg_ctl 2>/dev/null) && { printf '%s' "${d%/*}"; return 0; }
    tthc_error "PostgreSQL server binaries not found (install 'postgresql', run scripts/deps, or set TTHC_PG_BIN)"
    return 1
}

# PostgreSQL refuses to run as root: as root, server commands run as postgres.
_pg_as_owner() {
    if ((EUID == 0)); then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Gives `postgres` the execute (traverse) bit on DIR and its parents where it lacks it.
_pg_make_traversable() {
    local d=$1
    while [[ -n $d && $d != / ]]; do
        if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
            tthc_note "chmod o+x $d (so that the postgres user can reach the data directory)"
            chmod o+x "$d" || return 1
        fi
        d=${d%/*}
    done
}

_pg_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Percent-encodes a value for a libpq URI query parameter.
_uri_encode() {
    local s=$1 out='' c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
            [A-Za-z0-9/._~-]) out+=$c ;;
            *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}

# The socket directory of DIR: DIR/pg/sock, or /tmp/tthc-pg-<hash of DIR>
# when the socket path would be too long for a unix socket (about 107 bytes).
_pg_sockdir() {
    local dir=$1 tail=/pg/sock/.s.PGSQL.65535
    if ((${#dir} + ${#tail} < 100)); then
        printf '%s' "$dir/pg/sock"
    else
        printf '/tmp/tthc-pg-%s' "$(printf '%s' "$dir" | cksum | cut -d' ' -f1)"
    fi
}

# _pg_dsn DIR DBNAME
_pg_dsn() {
    local dir=$1 db=$2 port
    port=$(cat "$dir/pg/port" 2>/dev/null || echo 5432)
    printf 'postgresql:///%s?host=%s&port=%s&user=tthc' "$db" "$(_uri_encode "$(_pg_sockdir "$dir")")" "$port"
}

_pg_running() { _pg_as_owner "$1/pg_ctl" -D "$2" status >/dev/null 2>&1; }

# pg_start DIR
# Creates (initdb, first time only) and starts a PostgreSQL cluster in DIR/pg
# with trust authentication, superuser `tthc`, database `tthc`; listens on a
# unix socket only (or also 127.0.0.1 with TTHC_PG_TCP=1).  Already running:
# nothing to do.  Exports TTHC_PG_DSN and prints it.
pg_start() {
    if (($# != 1)); then tthc_error "usage: pg_start DIR"; return 2; fi
    local dir pgbin base data sockdir port listen fsync
    dir=$(_abs_dir "$1") || return 1
    pgbin=$(_pg_bin) || return 1
    base=$dir/pg
    data=$base/data
    mkdir -p "$base" || return 1
    if ((EUID == 0)); then
        id -u postgres >/dev/null 2>&1 || { tthc_error "user 'postgres' missing (apt-get install postgresql)"; return 1; }
        _pg_make_traversable "$dir" || return 1
        chown postgres: "$base" || return 1
        chmod 700 "$base" || return 1
    fi
    if [[ ! -s $data/PG_VERSION ]]; then
        tthc_note "initdb $data"
        if ! _pg_as_owner "$pgbin/initdb" -D "$data" --auth=trust -E UTF8 --locale=C.UTF-8 -U tthc \
            >"$base/initdb.log" 2>&1; then
            tthc_error "initdb failed, see $base/initdb.log:"
            tail -n 20 "$base/initdb.log" >&2
            return 1
        fi
        echo "include_if_exists = 'tthc.conf'" >>"$data/postgresql.conf" || return 1
    fi
    if [[ ! -s $base/port ]]; then
        if [[ ${TTHC_PG_TCP:-0} == 1 ]]; then
            port=$(_pg_free_port) || { tthc_error "no free TCP port found"; return 1; }
        else
            port=5432
        fi
        echo "$port" >"$base/port"
    fi
    port=$(cat "$base/port")
    sockdir=$(_pg_sockdir "$dir")
    listen="''"
    [[ ${TTHC_PG_TCP:-0} == 1 ]] && listen="'127.0.0.1'"
    fsync=on
    [[ ${TTHC_PG_FSYNC:-on} == off ]] && fsync=off
    local extra="" kv
    for kv in ${TTHC_PG_SETTINGS:-}; do
        if [[ ! $kv =~ ^[a-z_]+=[A-Za-z0-9._]+$ ]]; then
            tthc_error "TTHC_PG_SETTINGS: '$kv' is not name=value (a letter, digit, '.' or '_' value)"
            return 2
        fi
        extra+="${kv%%=*} = '${kv#*=}'"$'\n'
    done
    cat >"$data/tthc.conf" <<EOF || return 1
# Written by scripts/lib.sh pg_start at every start.
listen_addresses = $listen
port = $port
unix_socket_directories = '$sockdir'
fsync = $fsync
full_page_writes = $fsync
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
$extra
EOF
    if ((EUID == 0)); then chown postgres: "$data/tthc.conf" || return 1; fi
    if _pg_running "$pgbin" "$data"; then
        tthc_note "PostgreSQL already running in $data"
    else
        mkdir -p "$sockdir" || return 1
        if ((EUID == 0)); then chown postgres: "$sockdir" || return 1; fi
        if ! _pg_as_owner "$pgbin/pg_ctl" -D "$data" -l "$base/postgres.log" -w -t 60 start >/dev/null; then
            tthc_error "PostgreSQL did not start, see $base/postgres.log:"
            tail -n 20 "$base/postgres.log" >&2
            return 1
        fi
    fi
    local admin exists
    admin=$(_pg_dsn "$dir" postgres)
    exists=$("$pgbin/psql" "$admin" -XqAt -c "SELECT 1 FROM pg_database WHERE datname = 'tthc'") || {
        tthc_error "cannot connect to the new cluster ($admin)"
        return 1
    }
    if [[ $exists != 1 ]]; then
        "$pgbin/psql" "$admin" -Xq -v ON_ERROR_STOP=1 -c 'CREATE DATABASE tthc' || return 1
    fi
    TTHC_PG_DSN=$(_pg_dsn "$dir" tthc)
    export TTHC_PG_DSN
    printf '%s\n' "$TTHC_PG_DSN" >"$base/dsn"
    printf '%s\n' "$TTHC_PG_DSN"
}

# pg_stop DIR: fast shutdown (immediate if that fails); not running is fine.
pg_stop() {
    if (($# != 1)); then tthc_error "usage: pg_stop DIR"; return 2; fi
    local dir=$1 pgbin data sockdir
    [[ -d $dir/pg/data ]] || return 0
    dir=$(cd -- "$dir" && pwd) || return 1
    data=$dir/pg/data
    pgbin=$(_pg_bin) || return 1
    if _pg_running "$pgbin" "$data"; then
        if ! _pg_as_owner "$pgbin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null; then
            tthc_note "fast shutdown failed: immediate"
            _pg_as_owner "$pgbin/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null || return 1
        fi
    fi
    sockdir=$(_pg_sockdir "$dir")
    [[ $sockdir == /tmp/tthc-pg-* ]] && rmdir "$sockdir" 2>/dev/null
    return 0
}

# pg_restart DIR: fast stop, then pg_start (same socket, same port, same DSN).
pg_restart() {
    if (($# != 1)); then tthc_error "usage: pg_restart DIR"; return 2; fi
    pg_stop "$1" && pg_start "$1"
}

# pg_createdb DIR NAME
# (Re)creates database NAME ([a-z_][a-z0-9_]*, dropped first if it exists) in
# the running cluster of DIR and prints its DSN.
pg_createdb() {
    if (($# != 2)); then tthc_error "usage: pg_createdb DIR NAME"; return 2; fi
    local dir name=$2 pgbin admin
    if [[ ! $name =~ ^[a-z_][a-z0-9_]{0,62}$ ]]; then
        tthc_error "database name '$name' must match [a-z_][a-z0-9_]* (at most 63 characters)"
        return 2
    fi
    dir=$(cd -- "$1" && pwd) || return 1
    pgbin=$(_pg_bin) || return 1
    admin=$(_pg_dsn "$dir" postgres)
    "$pgbin/psql" "$admin" -Xq -v ON_ERROR_STOP=1 -c 'SET client_min_messages = warning' \
        -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" -c "CREATE DATABASE \"$name\"" || {
        tthc_error "could not create database $name (is PostgreSQL of $dir running?)"
        return 1
    }
    _pg_dsn "$dir" "$name"
    echo
}

# doc_block DOC NAME: the lines between "<!-- it_deploy: NAME begin -->" and
# "<!-- it_deploy: NAME end -->" in DOC, without the markers and the ``` fences:
# the runnable SQL of docs/operations.md, used as written by it_deploy and
# scripts/bench.  Prints nothing if the markers are missing.
doc_block() {
    sed -n "/<!-- it_deploy: $2 begin -->/,/<!-- it_deploy: $2 end -->/p" "$1" | sed -e '/^<!--/d' -e '/^```/d'
}

# ---- Kafka ---------------------------------------------------------------
#
# broker_start starts the broker of a state directory: real Apache Kafka (KRaft,
# one node or three) by default, or with TTHC_BROKER=mock the librdkafka mock
# cluster (tthc-kafka-dev), for machines without Java.  Either way it writes
# DIR/kafka.bootstrap and exports TTHC_KAFKA_BROKERS.
#
# Real Kafka layout in DIR:
#   DIR/kafka/cluster.id, DIR/kafka/nodes (how many)
#   DIR/kafka/node-K/server.properties, data/, ports (broker controller), pid
#   DIR/kafka-K.log (node K's output), DIR/kafka-tools.log
#
# Environment read:
#   TTHC_BROKER        kafka (default) or mock
#   TTHC_KAFKA_NODES   1 (default) or 3
#   TTHC_KAFKA_CACHE   where the jars are kept (default ~/.cache/tthc/kafka-VERSION)
#   TTHC_KAFKA_HEAP    the JVM heap options of a node (default: -Xms512m -Xmx1g for
#                      one node, -Xms256m -Xmx512m each for three)
#   TTHC_KAFKA_READY_TIMEOUT  seconds to wait for the cluster (default 120)

# The pinned release: the same as deploy/kafka/pom.xml and docker-compose.yml's image
# (tests/integration/it_kafka_config.sh checks it).
TTHC_KAFKA_VERSION=4.1.1

_kafka_cache() { printf '%s' "${TTHC_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tthc/kafka-$TTHC_KAFKA_VERSION}"; }

# The tools a test or a script may run, as kafka_tool NAME: the class behind each
# of the release's bin/kafka-*.sh scripts.
declare -A TTHC_KAFKA_TOOLS=(
    [storage]=kafka.tools.StorageTool
    [topics]=org.apache.kafka.tools.TopicCommand
    [consumer-groups]=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
    [delete-records]=org.apache.kafka.tools.DeleteRecordsCommand
    [get-offsets]=org.apache.kafka.tools.GetOffsetShell
    [configs]=kafka.admin.ConfigCommand
    [broker-api-versions]=org.apache.kafka.tools.BrokerApiVersionsCommand
    [leader-election]=org.apache.kafka.tools.LeaderElectionCommand
)

# kafka_fetch: the pinned Kafka release and its runtime dependencies, from Maven
# Central through deploy/kafka/pom.xml, into the cache (nothing to do when there).
# Also writes CACHE/bin/kafka-NAME.sh wrappers for the tools above.
kafka_fetch() {
    local cache tmp log name
    cache=$(_kafka_cache)
    if [[ ! -e $cache/.complete ]]; then
        command -v java >/dev/null || { tthc_error "java not found (scripts/deps installs it; or TTHC_BROKER=mock)"; return 1; }
        command -v mvn >/dev/null || { tthc_error "mvn not found (scripts/deps installs it; or TTHC_BROKER=mock)"; return 1; }
        mkdir -p "$cache" || return 1
        tmp=$(mktemp -d "$cache/libs.tmp.XXXXXX") || return 1
        log=$cache/maven.log
        tthc_note "fetching Apache Kafka $TTHC_KAFKA_VERSION and its dependencies through Maven into $cache"
        if ! mvn -B -q -f "$TTHC_REPO/deploy/kafka/pom.xml" dependency:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory="$tmp" >"$log" 2>&1; then
            tthc_error "Maven could not fetch Kafka $TTHC_KAFKA_VERSION (log: $log):"
            grep -E 'ERROR|Could not' "$log" | head -n 10 >&2
            rm -rf "$tmp"
            return 1
        fi
        if [[ ! -e $tmp/kafka_2.13-$TTHC_KAFKA_VERSION.jar ]]; then
            tthc_error "Maven finished but kafka_2.13-$TTHC_KAFKA_VERSION.jar is missing (log: $log)"
            rm -rf "$tmp"
            return 1
        fi
        rm -rf "$cache/libs"
        mv "$tmp" "$cache/libs" || return 1
        touch "$cache/.complete"
        tthc_note "Kafka $TTHC_KAFKA_VERSION: $(find "$cache/libs" -name '*.jar' | wc -l) jars in $cache/libs"
    fi
    mkdir -p "$cache/bin" || return 1
    for name in "${!TTHC_KAFKA_TOOLS[@]}"; do
        # written for this checkout already (another checkout's wrappers point at its
        # files; the quote keeps /x/work/main from passing for /work/main)
        grep -qsF "configurationFile=\"$TTHC_REPO/deploy/kafka/log4j2.properties\"" "$cache/bin/kafka-$name.sh" && continue
        cat >"$cache/bin/kafka-$name.sh.$$" <<EOF || return 1
#!/bin/sh
# Written by scripts/lib.sh kafka_fetch: the release's bin/kafka-$name.sh.
# Logging: WARN and above, on standard error (standard output is the tool's answer).
TTHC_KAFKA_LOG_LEVEL=\${TTHC_KAFKA_LOG_LEVEL:-WARN} TTHC_KAFKA_LOG_TARGET=SYSTEM_ERR
export TTHC_KAFKA_LOG_LEVEL TTHC_KAFKA_LOG_TARGET
exec java \${KAFKA_HEAP_OPTS:--Xmx256m} -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \\
    -Dlog4j2.configurationFile="$TTHC_REPO/deploy/kafka/log4j2.properties" \\
    -cp "$cache/libs/*" ${TTHC_KAFKA_TOOLS[$name]} "\$@"
EOF
        chmod +x "$cache/bin/kafka-$name.sh.$$" && mv -f "$cache/bin/kafka-$name.sh.$$" "$cache/bin/kafka-$name.sh" || return 1
    done
}

# kafka_tool NAME [ARGS...]: runs one of Kafka's own tools (TTHC_KAFKA_TOOLS) from
# the cached release, with WARN logging (errors still show).
kafka_tool() {
    if (($# < 1)); then tthc_error "usage: kafka_tool NAME [ARGS...]"; return 2; fi
    local name=$1
    shift
    [[ -n ${TTHC_KAFKA_TOOLS[$name]:-} ]] || { tthc_error "unknown Kafka tool '$name'"; return 2; }
    kafka_fetch || return 1
    TTHC_KAFKA_LOG_LEVEL=${TTHC_KAFKA_LOG_LEVEL:-WARN} "$(_kafka_cache)/bin/kafka-$name.sh" "$@"
}

_free_ports() { # _free_ports N: N distinct free TCP ports on 127.0.0.1, one per line
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
EOF
}

_kafka_bootstrap_of() { # DIR [N]: the broker listeners of every node, comma-separated
    local dir=$1 k n list='' ports
    n=${2:-$(cat "$dir/kafka/nodes")}
    for ((k = 1; k <= n; k++)); do
        read -r ports _ <"$dir/kafka/node-$k/ports" || return 1
        list+=${list:+,}127.0.0.1:$ports
    done
    printf '%s' "$list"
}

# _kafka_configure DIR NODES: cluster id, ports, server.properties of each node.
_kafka_configure() {
    local dir=$1 n=$2 k voters='' ports bport cport props
    mkdir -p "$dir/kafka" || return 1
    # A random UUID in Kafka's base64 form; like Kafka's Uuid.randomUuid(), never one
    # that starts with '-' (kafka-storage would read it as an option).
    [[ -s $dir/kafka/cluster.id ]] ||
        python3 -c '
import base64, uuid
while True:
    u = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not u.startswith("-"):
        break
print(u)' >"$dir/kafka/cluster.id" || return 1
    mapfile -t ports < <(_free_ports $((2 * n)))
    ((${#ports[@]} == 2 * n)) || { tthc_error "no free ports for Kafka"; return 1; }
    for ((k = 1; k <= n; k++)); do
        mkdir -p "$dir/kafka/node-$k/data" || return 1
        echo "${ports[2 * k - 2]} ${ports[2 * k - 1]}" >"$dir/kafka/node-$k/ports"
        voters+=${voters:+,}$k@127.0.0.1:${ports[2 * k - 1]}
    done
    for ((k = 1; k <= n; k++)); do
        read -r bport cport <"$dir/kafka/node-$k/ports"
        rm -rf "$dir/kafka/node-$k/data" && mkdir -p "$dir/kafka/node-$k/data" || return 1
        props=$dir/kafka/node-$k/server.properties
        {
            echo "# Written by scripts/lib.sh (scripts/kafka): node $k of $n."
            echo "# The shared settings are deploy/kafka/broker.properties, copied below."
            echo "node.id=$k"
            echo "controller.quorum.voters=$voters"
            echo "listeners=PLAINTEXT://127.0.0.1:$bport,CONTROLLER://127.0.0.1:$cport"
            echo "advertised.listeners=PLAINTEXT://127.0.0.1:$bport"
            echo "log.dirs=$dir/kafka/node-$k/data"
            sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' "$TTHC_REPO/deploy/kafka/broker.properties"
            if ((n < 3)); then
                echo "# One node cannot replicate: replication factors and min ISR lowered to $n."
                echo "default.replication.factor=$n"
                echo "min.insync.replicas=1"
                echo "offsets.topic.replication.factor=$n"
                echo "transaction.state.log.replication.factor=$n"
                echo "transaction.state.log.min.isr=1"
            fi
            # Extra settings of a test (TTHC_KAFKA_EXTRA_PROPS, one key=value per line).
            if [[ -n ${TTHC_KAFKA_EXTRA_PROPS:-} ]]; then printf '%s\n' "$TTHC_KAFKA_EXTRA_PROPS"; fi
        } >"$props" || return 1
        if ! kafka_tool storage format -t "$(cat "$dir/kafka/cluster.id")" -c "$props" \
            >>"$dir/kafka-tools.log" 2>&1; then
            tthc_error "kafka-storage format failed for node $k, see $dir/kafka-tools.log:"
            tail -n 20 "$dir/kafka-tools.log" >&2
            return 1
        fi
    done
    echo "$n" >"$dir/kafka/nodes" # last: a half-configured DIR is configured again
}

# kafka_node_start DIR K: starts node K (already configured) in the background.
kafka_node_start() {
    if (($# != 2)); then tthc_error "usage: kafka_node_start DIR K"; return 2; fi
    local dir=$1 k=$2 heap pid n
    n=$(cat "$dir/kafka/nodes")
    if pidfile_alive "$dir/kafka/node-$k/pid" kafka.Kafka; then return 0; fi
    if ((n == 1)); then heap=${TTHC_KAFKA_HEAP:--Xms512m -Xmx1g}; else heap=${TTHC_KAFKA_HEAP:--Xms256m -Xmx512m}; fi
    # shellcheck disable=SC2086 # heap is a list of JVM options
    java $heap -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -Djava.awt.headless=true -Dlog4j2.configurationFile="$TTHC_REPO/deploy/kafka/log4j2.properties" \
        -cp "$(_kafka_cache)/libs/*" kafka.Kafka "$dir/kafka/node-$k/server.properties" \
        </dev/null >>"$dir/kafka-$k.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/kafka/node-$k/pid"
}

# kafka_node_kill DIR K [SIGNAL]: sends SIGNAL (default KILL) to node K and, for
# KILL, waits until it is gone.
kafka_node_kill() {
    if (($# < 2)); then tthc_error "usage: kafka_node_kill DIR K [SIGNAL]"; return 2; fi
    local dir=$1 k=$2 sig=${3:-KILL} pid
    pid=$(cat "$dir/kafka/node-$k/pid" 2>/dev/null) || { tthc_error "node $k of $dir has no pid"; return 1; }
    kill -"$sig" "$pid" 2>/dev/null || true
    if [[ $sig == KILL ]]; then
        wait_until 10 _pid_dead "$pid" || { tthc_error "node $k (pid $pid) did not die"; return 1; }
        rm -f "$dir/kafka/node-$k/pid"
    fi
}

# _kafka_brokers_up BOOTSTRAP N: metadata lists N brokers.
_kafka_brokers_up() {
    local have
    have=$(timeout 10 kcat -b "$1" -L -J 2>/dev/null |
        python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("brokers", [])))' 2>/dev/null) || return 1
    [[ $have == "$2" ]]
}

# _kafka_leaders_ok BOOTSTRAP TOPIC PARTITIONS: the topic has that many partitions,
# each with a leader.
_kafka_leaders_ok() {
    timeout 10 kcat -b "$1" -L -t "$2" -J 2>/dev/null | python3 -c '
import json, sys
want = int(sys.argv[1])
t = [t for t in json.load(sys.stdin).get("topics", []) if t.get("topic") == sys.argv[2]]
ok = t and len(t[0].get("partitions", [])) == want and all(p.get("leader", -1) >= 0 for p in t[0]["partitions"])
sys.exit(0 if ok else 1)' "$3" "$2"
}

# _kafka_up_or_dead DIR BOOTSTRAP N: all N registered, or a node is no longer running.
_kafka_up_or_dead() {
    local k
    for ((k = 1; k <= $3; k++)); do
        # no name check: right after the fork the child may not have exec'd java yet
        pid_alive "$(head -n1 "$1/kafka/node-$k/pid" 2>/dev/null || echo 0)" ||
            { tthc_error "Kafka node $k of $1 is not running"; return 0; }
    done
    _kafka_brokers_up "$2" "$3"
}

# kafka_wait DIR: every node of DIR is registered (bounded by TTHC_KAFKA_READY_TIMEOUT).
kafka_wait() {
    local dir=$1 n bootstrap k
    n=$(cat "$dir/kafka/nodes")
    bootstrap=$(_kafka_bootstrap_of "$dir") || return 1
    if ! wait_until "${TTHC_KAFKA_READY_TIMEOUT:-120}" _kafka_up_or_dead "$dir" "$bootstrap" "$n" ||
        ! _kafka_brokers_up "$bootstrap" "$n"; then
        tthc_error "Kafka in $dir: not all $n nodes answered within ${TTHC_KAFKA_READY_TIMEOUT:-120} s; see $dir/kafka-*.log"
        for ((k = 1; k <= n; k++)); do tail -n 5 "$dir/kafka-$k.log" >&2; done
        return 1
    fi
}

# kafka_create_topic DIR NAME PARTITIONS [--config K=V ...]: creates the topic if
# missing (replication factor = nodes, min ISR from broker.properties) and waits
# until every partition has a leader.
kafka_create_topic() {
    if (($# < 3)); then tthc_error "usage: kafka_create_topic DIR NAME PARTITIONS [--config K=V...]"; return 2; fi
    local dir=$1 name=$2 parts=$3 n bootstrap
    shift 3
    n=$(cat "$dir/kafka/nodes")
    bootstrap=$(_kafka_bootstrap_of "$dir") || return 1
    if ! kafka_tool topics --bootstrap-server "$bootstrap" --create --if-not-exists --topic "$name" \
        --partitions "$parts" --replication-factor "$n" "$@" >>"$dir/kafka-tools.log" 2>&1; then
        tthc_error "creating topic $name failed, see $dir/kafka-tools.log:"
        tail -n 10 "$dir/kafka-tools.log" >&2
        return 1
    fi
    wait_until 60 _kafka_leaders_ok "$bootstrap" "$name" "$parts" ||
        { tthc_error "topic $name: not every partition has a leader after 60 s"; return 1; }
}

# kafka_start DIR [--nodes N] [--partitions N] [--dlq-partitions N]
#                 [--extra-topics NAME:P[,NAME:P...]] [--brokers N (ignored)]
# Fetches the release if needed, formats (first time) and starts a KRaft cluster
# of N nodes (default TTHC_KAFKA_NODES or 1) on free loopback ports, waits until
# every node is registered, creates the dossier topic (TTHC_DOSSIER_TOPIC, 12
# partitions), the DLQ (TTHC_DLQ_TOPIC, 3) and the extra topics if missing, then
# writes DIR/kafka.bootstrap, exports TTHC_KAFKA_BROKERS and prints it.  A cluster
# already running for DIR is reused; a stopped one restarts with its data.
kafka_start() {
    if (($# < 1)); then tthc_error "usage: kafka_start DIR [OPTIONS]"; return 2; fi
    local dir n=${TTHC_KAFKA_NODES:-1} parts=12 dlq_parts=3 extra='' k spec t0 bootstrap
    dir=$(_abs_dir "$1") || return 1
    shift
    while (($#)); do
        case $1 in
            --nodes) n=$2; shift ;;
            --partitions) parts=$2; shift ;;
            --dlq-partitions) dlq_parts=$2; shift ;;
            --extra-topics) extra=$2; shift ;;
            --brokers) shift ;; # the mock's option; real clusters use --nodes
            *) tthc_error "kafka_start: unknown option '$1'"; return 2 ;;
        esac
        shift
    done
    [[ $n == 1 || $n == 3 ]] || { tthc_error "kafka_start: --nodes must be 1 or 3"; return 2; }
    command -v kcat >/dev/null || { tthc_error "kcat not found (scripts/deps installs it)"; return 1; }
    kafka_fetch || return 1
    t0=$(_now_us)
    if [[ ! -s $dir/kafka/nodes ]]; then
        _kafka_configure "$dir" "$n" || return 1
    fi
    n=$(cat "$dir/kafka/nodes")
    for ((k = 1; k <= n; k++)); do kafka_node_start "$dir" "$k" || return 1; done
    kafka_wait "$dir" || return 1
    kafka_create_topic "$dir" "${TTHC_DOSSIER_TOPIC:-tthc.dossier.events}" "$parts" || return 1
    kafka_create_topic "$dir" "${TTHC_DLQ_TOPIC:-tthc.dlq}" "$dlq_parts" || return 1
    local specs=()
    [[ -n $extra ]] && IFS=, read -ra specs <<<"$extra"
    for spec in "${specs[@]}"; do
        [[ $spec =~ ^([A-Za-z0-9._-]+):([0-9]+)$ ]] || { tthc_error "bad topic spec '$spec' (NAME:PARTITIONS)"; return 2; }
        kafka_create_topic "$dir" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" || return 1
    done
    bootstrap=$(_kafka_bootstrap_of "$dir") || return 1
    printf '%s\n' "$bootstrap" >"$dir/kafka.bootstrap.tmp" && mv -f "$dir/kafka.bootstrap.tmp" "$dir/kafka.bootstrap"
    tthc_note "Apache Kafka $TTHC_KAFKA_VERSION: $n node(s) at $bootstrap, ready in $((($(_now_us) - t0) / 1000)) ms"
    TTHC_KAFKA_BROKERS=$bootstrap
    export TTHC_KAFKA_BROKERS
    printf '%s\n' "$bootstrap"
}

# kafka_stop DIR: SIGTERM to every node at once (a node stopped after the others
# would wait for a controller quorum that is gone), SIGKILL to those still running
# after TTHC_STOP_TIMEOUT (default 15) s; removes DIR/kafka.bootstrap.  Not
# running is fine.
kafka_stop() {
    local dir=$1 k n f pids=() pid
    [[ -s $dir/kafka/nodes ]] || return 0
    n=$(cat "$dir/kafka/nodes")
    for ((k = 1; k <= n; k++)); do
        f=$dir/kafka/node-$k/pid
        if pidfile_alive "$f" kafka.Kafka; then
            pid=$(head -n1 "$f")
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
        rm -f "$f"
    done
    for pid in "${pids[@]}"; do
        if ! wait_until "${TTHC_STOP_TIMEOUT:-15}" _pid_dead "$pid"; then
            tthc_note "Kafka pid $pid ignored SIGTERM for ${TTHC_STOP_TIMEOUT:-15}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_until 5 _pid_dead "$pid" || { tthc_error "Kafka pid $pid did not die after SIGKILL"; return 1; }
        fi
    done
    rm -f "$dir/kafka.bootstrap"
}

_broker_kind() {
    case ${TTHC_BROKER:-kafka} in
        kafka | mock) printf '%s' "${TTHC_BROKER:-kafka}" ;;
        *) tthc_error "TTHC_BROKER must be kafka or mock, not '$TTHC_BROKER'"; return 1 ;;
    esac
}

_broker_answers() {
    [[ -s $1 ]] || return 1
    timeout 10 kcat -b "$(cat "$1")" -L -m 3 >/dev/null 2>&1
}

# broker_start DIR [OPTIONS...]
# The broker of DIR: real Kafka (kafka_start, above) unless TTHC_BROKER=mock,
# which starts TTHC_BIN_DIR/tthc-kafka-dev (pid DIR/kafka.pid, log DIR/kafka.log)
# with the same options (--partitions N --dlq-partitions N --extra-topics t:N).
# Waits until it answers, exports TTHC_KAFKA_BROKERS and prints it.
broker_start() {
    if (($# < 1)); then tthc_error "usage: broker_start DIR [OPTIONS...]"; return 2; fi
    local kind
    kind=$(_broker_kind) || return 1
    if [[ $kind == kafka ]]; then
        kafka_start "$@"
        return
    fi
    mock_broker_start "$@"
}

mock_broker_start() {
    local dir bin pid deadline
    dir=$(_abs_dir "$1") || return 1
    shift
    bin=$TTHC_BIN_DIR/tthc-kafka-dev
    if [[ ! -x $bin ]]; then
        tthc_error "$bin not found: build first (cmake -S . -B build && cmake --build build) or set TTHC_BIN_DIR"
        return 1
    fi
    command -v kcat >/dev/null || { tthc_error "kcat not found (scripts/deps installs it)"; return 1; }
    if pidfile_alive "$dir/kafka.pid" tthc-kafka-dev && _broker_answers "$dir/kafka.bootstrap"; then
        tthc_note "broker already running for $dir (pid $(head -n1 "$dir/kafka.pid"))"
    else
        stop_pid "$dir/kafka.pid" tthc-kafka-dev || return 1
        rm -f "$dir/kafka.bootstrap"
        "$bin" --bootstrap-file "$dir/kafka.bootstrap" "$@" </dev/null >>"$dir/kafka.log" 2>&1 &
        pid=$!
        echo "$pid" >"$dir/kafka.pid"
        deadline=$(($(_now_us) + 30000000))
        until _broker_answers "$dir/kafka.bootstrap"; do
            if ! pid_alive "$pid"; then
                tthc_error "tthc-kafka-dev exited, see $dir/kafka.log:"
                tail -n 20 "$dir/kafka.log" >&2
                rm -f "$dir/kafka.pid"
                return 1
            fi
            if (($(_now_us) >= deadline)); then
                tthc_error "tthc-kafka-dev did not answer within 30 s, see $dir/kafka.log"
                stop_pid "$dir/kafka.pid"
                return 1
            fi
            sleep 0.1
        done
    fi
    TTHC_KAFKA_BROKERS=$(cat "$dir/kafka.bootstrap")
    export TTHC_KAFKA_BROKERS
    printf '%s\n' "$TTHC_KAFKA_BROKERS"
}

# broker_stop DIR: whichever broker DIR runs (both kinds are checked).
broker_stop() {
    if (($# != 1)); then tthc_error "usage: broker_stop DIR"; return 2; fi
    local rc=0
    stop_pid "$1/kafka.pid" tthc-kafka-dev || rc=1
    kafka_stop "$1" || rc=1
    return "$rc"
}

# broker_pids DIR: the pids of DIR's broker processes (for fault tests).
broker_pids() {
    local dir=$1 f
    [[ -s $dir/kafka.pid ]] && head -n1 "$dir/kafka.pid"
    for f in "$dir"/kafka/node-*/pid; do
        [[ -s $f ]] && head -n1 "$f"
    done
    return 0
}

# ---- project daemons -----------------------------------------------------

# url_port URL: the port of an http(s) URL (80 or 443 when it names none).
url_port() {
    local rest=${1#*://} hostport
    hostport=${rest%%/*}
    if [[ $hostport =~ :([0-9]+)$ ]]; then
        printf '%s\n' "${BASH_REMATCH[1]}"
    elif [[ $1 == https://* ]]; then
        echo 443
    else
        echo 80
    fi
}

# pid_listens PID PORT: process PID itself holds a TCP socket listening on
# PORT (IPv4 or IPv6), read from /proc/net/tcp{,6} and /proc/PID/fd.  A
# health check answered on PORT may come from another process (another
# stack's daemon): this says whether it is ours.
pid_listens() {
    local pid=$1 port=$2 hex inode
    printf -v hex ':%04X' "$port"
    for inode in $(awk -v p="$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
        [[ -n $(find "/proc/$pid/fd" -lname "socket:\[$inode\]" -print -quit 2>/dev/null) ]] && return 0
    done
    return 1
}

# daemon_start DIR NAME [ARGS...]
# Starts TTHC_BIN_DIR/NAME in the background with the current environment
# (pid DIR/NAME.pid, log DIR/NAME.log, appended).  If TTHC_READY_CMD is set,
# waits up to TTHC_READY_TIMEOUT (default 30) s for `eval "$TTHC_READY_CMD"`
# to succeed, with TTHC_DAEMON_PID set to the new process's pid (e.g.
# 'pid_listens "$TTHC_DAEMON_PID" 8088 && curl ...'); otherwise checks that the
# process is still alive after 0.3 s.  A daemon already running for DIR is left alone.
daemon_start() {
    if (($# < 2)); then tthc_error "usage: daemon_start DIR NAME [ARGS...]"; return 2; fi
    local dir name=$2 bin pid deadline
    dir=$(_abs_dir "$1") || return 1
    shift 2
    bin=$TTHC_BIN_DIR/$name
    [[ -x $bin ]] || { tthc_error "$bin not found"; return 1; }
    if pidfile_alive "$dir/$name.pid" "$name"; then
        tthc_note "$name already running (pid $(head -n1 "$dir/$name.pid"))"
        return 0
    fi
    "$bin" "$@" </dev/null >>"$dir/$name.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/$name.pid"
    TTHC_DAEMON_PID=$pid
    deadline=$(($(_now_us) + $(_seconds_to_us "${TTHC_READY_TIMEOUT:-30}")))
    if [[ -z ${TTHC_READY_CMD:-} ]]; then
        deadline=$(($(_now_us) + 300000))
    fi
    while :; do
        if ! pid_alive "$pid"; then
            tthc_error "$name exited at start, see $dir/$name.log:"
            tail -n 20 "$dir/$name.log" >&2
            rm -f "$dir/$name.pid"
            return 1
        fi
        if [[ -n ${TTHC_READY_CMD:-} ]] && eval "$TTHC_READY_CMD" >/dev/null 2>&1; then break; fi
        if (($(_now_us) >= deadline)); then
            [[ -z ${TTHC_READY_CMD:-} ]] && break
            tthc_error "$name not ready within ${TTHC_READY_TIMEOUT:-30} s ($TTHC_READY_CMD), see $dir/$name.log"
            stop_pid "$dir/$name.pid" # no name check: this pid is surely ours (it may have exec'd)
            return 1
        fi
        sleep 0.1
    done
    tthc_note "$name started (pid $pid, log $dir/$name.log)"
}

# daemon_stop DIR NAME
daemon_stop() {
    if (($# != 2)); then tthc_error "usage: daemon_stop DIR NAME"; return 2; fi
    stop_pid "$1/$2.pid" "$2"
}

# ---- test directories ----------------------------------------------------

# dump_logs DIR [LINES]: the tail (default 30 lines) of every log a test's
# state directory holds (DIR/*.log and PostgreSQL's), on stderr.
dump_logs() {
    local dir=$1 n=${2:-30} f
    for f in "$dir"/*.log "$dir"/pg/postgres.log; do
        [[ -f $f ]] || continue
        echo "---- $f (last $n lines)" >&2
        tail -n "$n" "$f" >&2
    done
}

# tthc_mktemp NAME: creates and prints a fresh state directory for a test,
# under TTHC_TEST_TMP (set by scripts/test, which cleans up whatever a killed
# test left running there) or /tmp.
tthc_mktemp() {
    local base=${TTHC_TEST_TMP:-/tmp} name=${1:-test}
    mkdir -p "$base" || return 1
    mktemp -d "$base/tthc-$name.XXXXXX"
}

# state_dir_stop DIR: stops everything lib.sh started for DIR: daemons
# (DIR/NAME.pid), the broker, PostgreSQL.  Leaves the files.
state_dir_stop() {
    if (($# != 1)); then tthc_error "usage: state_dir_stop DIR"; return 2; fi
    local dir=$1 f name rc=0
    [[ -d $dir ]] || return 0
    for f in "$dir"/*.pid; do
        [[ -e $f ]] || continue
        name=${f##*/}
        name=${name%.pid}
        [[ $name == kafka ]] && continue
        stop_pid "$f" "$name" || rc=1
    done
    broker_stop "$dir" || rc=1
    pg_stop "$dir" || rc=1
    return "$rc"
}
