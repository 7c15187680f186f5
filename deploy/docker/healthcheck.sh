#!/bin/bash
# tthc-healthcheck PORT [PATH] - exits 0 when GET http://127.0.0.1:PORT/PATH
# (default /readyz) answers 2xx within 5 s, else prints the answer and exits 1.
# The image carries no curl (runtime libraries only): bash's /dev/tcp does.
set -u
port=${1:-}
path=${2:-/readyz}
if [[ ! $port =~ ^[0-9]+$ ]]; then
    echo "usage: tthc-healthcheck PORT [PATH]" >&2
    exit 2
fi
probe() {
    local status
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$path" "$port" >&3
    IFS= read -r -t 5 status <&3 || { echo "no answer from 127.0.0.1:$port$path" >&2; return 1; }
    status=${status%$'\r'}
    [[ $status =~ ^HTTP/1\.[01]\ 2[0-9][0-9] ]] && return 0
    echo "127.0.0.1:$port$path: $status" >&2
    return 1
}
probe
