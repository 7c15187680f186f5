#!/bin/sh
# deploy/docker/build.sh - the release build of the services, as the image has it.
#
#   deploy/docker/build.sh SRC PREFIX [BUILD_DIR]
#
# Configures SRC with CMake (Release, BUILD_TESTING=OFF) into BUILD_DIR (default
# SRC/build-release), builds with $(nproc) jobs, then installs into PREFIX:
#   PREFIX/bin/tthc-*                    every program the build made, except the
#                                        dev broker tthc-kafka-dev (tests only)
#   PREFIX/share/tthc/migrations/*.sql   the migration files (TTHC_MIGRATIONS_DIR)
#   PREFIX/share/doc/tthc/operations.md  this guide (the units' Documentation=)
# The Dockerfile's build stage runs it with PREFIX=/out and copies /out to
# /usr/local; tests/integration/it_deploy.sh runs the same script on the host
# and checks the result; on a plain Debian 12 host, PREFIX=/usr/local installs
# what the systemd units in deploy/systemd/ start.
set -eu
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: build.sh SRC PREFIX [BUILD_DIR]" >&2
    exit 2
fi
src=$1
prefix=$2
build=${3:-$src/build-release}
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
cmake --build "$build" -j "$jobs"

install -d "$prefix/bin" "$prefix/share/tthc/migrations"
n=0
for p in "$build"/bin/tthc-*; do
    if [ ! -f "$p" ] || [ ! -x "$p" ]; then continue; fi
    case ${p##*/} in tthc-kafka-dev) continue ;; esac
    install -m 0755 "$p" "$prefix/bin/"
    n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "build.sh: no tthc-* programs in $build/bin" >&2; exit 1; }
install -m 0644 "$src"/migrations/[0-9]*_*.sql "$prefix/share/tthc/migrations/"
# The units' Documentation= points here.
install -d "$prefix/share/doc/tthc"
install -m 0644 "$src/docs/operations.md" "$prefix/share/doc/tthc/"
echo "build.sh: $n programs into $prefix/bin, migrations into $prefix/share/tthc/migrations" >&2
