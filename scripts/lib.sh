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
#   DIR/kafka.bootstrap, DIR/kafka.pid, DIR/kafka.log   (tthc-kafka-dev)
#   DIR/NAME.pid, DIR/NAME.log                          (daemon_start DIR NAME)
#
# Environment read:
#   TTHC_BIN_DIR       where the programs are (default REPO/build/bin)
#   TTHC_PG_BIN        PostgreSQL server binaries (default: newest /usr/lib/postgresql/*/bin)
#   TTHC_PG_TCP=1      also listen on 127.0.0.1 (a free port, kept across restarts)
#   TTHC_PG_FSYNC=off  fsync=off (throw-away test clusters only)
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
    cat >"$data/tthc.conf" <<EOF || return 1
# Written by scripts/lib.sh pg_start at every start.
listen_addresses = $listen
port = $port
unix_socket_directories = '$sockdir'
fsync = $fsync
full_page_writes = $fsync
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
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

# ---- Kafka dev broker ----------------------------------------------------

_broker_answers() {
    [[ -s $1 ]] || return 1
    timeout 10 kcat -b "$(cat "$1")" -L -m 3 >/dev/null 2>&1
}

# broker_start DIR [EXTRA_ARGS...]
# Starts TTHC_BIN_DIR/tthc-kafka-dev in the background (pid DIR/kafka.pid,
# log DIR/kafka.log, bootstrap list DIR/kafka.bootstrap) with EXTRA_ARGS
# (e.g. --partitions 4 --extra-topics t:1), waits up to 30 s until it answers
# a metadata request, exports TTHC_KAFKA_BROKERS and prints it.  A broker
# already running for DIR is reused (EXTRA_ARGS are then ignored).
broker_start() {
    if (($# < 1)); then tthc_error "usage: broker_start DIR [EXTRA_ARGS...]"; return 2; fi
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

# broker_stop DIR
broker_stop() {
    if (($# != 1)); then tthc_error "usage: broker_stop DIR"; return 2; fi
    stop_pid "$1/kafka.pid" tthc-kafka-dev
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
