#!/bin/sh
# deploy/docker/build-packages.sh - prints the build packages of scripts/packages.txt,
# one per line: the entries of its "# build" section (from the line "# build" to the
# next line that starts with "# "), inline comments removed.
#
#   deploy/docker/build-packages.sh [PACKAGES_TXT]     (default: scripts/packages.txt)
#
# The Dockerfile's build stage installs exactly these, so scripts/packages.txt stays
# the one list of Debian packages; tests/integration/it_deploy.sh checks that they
# provide every pkg-config module CMakeLists.txt asks for.  POSIX sh: the build
# stage runs it with dash before anything else is installed.
set -eu
list=${1:-scripts/packages.txt}
[ -r "$list" ] || { echo "build-packages: cannot read $list" >&2; exit 1; }
out=$(awk '
    /^# build[[:space:]]*$/ { on = 1; seen = 1; next }
    on && /^# /             { on = 0 }
    on {
        sub(/#.*/, "")
        gsub(/[[:space:]]+/, "")
        if ($0 != "") print
    }
    END { if (!seen) exit 3 }
' "$list") || { echo "build-packages: no '# build' section in $list" >&2; exit 1; }
[ -n "$out" ] || { echo "build-packages: the '# build' section of $list is empty" >&2; exit 1; }
printf '%s\n' "$out"
