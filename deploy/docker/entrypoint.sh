#!/bin/sh
# tthc-entrypoint - the image's entry point: turns PGPASSWORD_FILE (a compose or
# swarm secret such as /run/secrets/pg_password) into libpq's PGPASSWORD, then
# execs the command (tthc-ingest, tthc-sync, ...) as PID 1, so that SIGTERM from
# `docker stop` reaches the program itself.  The portal token needs no help here:
# tthc-sync and tthc-portal-stub read TTHC_PORTAL_TOKEN_FILE themselves.
set -eu
if [ -n "${PGPASSWORD_FILE:-}" ]; then
    if [ -n "${PGPASSWORD:-}" ]; then
        echo "tthc-entrypoint: both PGPASSWORD and PGPASSWORD_FILE are set; set one" >&2
        exit 64
    fi
    if [ ! -r "$PGPASSWORD_FILE" ]; then
        echo "tthc-entrypoint: cannot read PGPASSWORD_FILE=$PGPASSWORD_FILE as uid $(id -u)" \
            "(the secret file must be readable by that uid)" >&2
        exit 78
    fi
    PGPASSWORD=$(cat "$PGPASSWORD_FILE") # $(...) drops the trailing newline
    export PGPASSWORD
    unset PGPASSWORD_FILE
fi
if [ $# -eq 0 ]; then
    echo "tthc-entrypoint: no command given (e.g. tthc-ingest)" >&2
    exit 64
fi
exec "$@"
