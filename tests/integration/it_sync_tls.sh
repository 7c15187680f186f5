#!/usr/bin/env bash
# it_sync_tls: tthc-sync verifies the portal's TLS certificate.
# The real tthc-portal-stub sits behind a small TLS terminator (Python ssl,
# like a reverse proxy would) with a self-signed certificate for 127.0.0.1:
#  - by default the certificate is refused: nothing reaches the stub, the
#    reports wait (retry) with the TLS error stored in last_error;
#  - with --ca-file pointing at the certificate: everything is sent;
#  - --insecure also connects, and says so in a warning.
source "${TTHC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/services/sync/it_lib.sh"
command -v openssl >/dev/null || sit_fail "openssl not found"
sit_setup
sit_stub_start
sit_seed 1 3 2025-03

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$SIT_DIR/key.pem" -out "$SIT_DIR/cert.pem" -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || sit_fail "openssl req"
cat >"$SIT_DIR/tls_proxy.py" <<'PY'
import socket, ssl, sys, threading
listen_port, backend_port, cert, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port))
srv.listen(64)
def pump(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
def serve(raw):
    try:
        tls = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError) as e:
        print("handshake refused:", e, flush=True)
        raw.close()
        return
    back = socket.create_connection(("127.0.0.1", backend_port))
    threading.Thread(target=pump, args=(back, tls), daemon=True).start()
    pump(tls, back)
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
PY
tls_port=$(_pg_free_port)
python3 "$SIT_DIR/tls_proxy.py" "$tls_port" "$SIT_STUB_PORT" "$SIT_DIR/cert.pem" "$SIT_DIR/key.pem" \
    >>"$SIT_DIR/tls-proxy.log" 2>&1 &
SIT_BG_PIDS+=($!)
_proxy_up() { curl -sf --cacert "$SIT_DIR/cert.pem" "https://127.0.0.1:$tls_port/healthz" >/dev/null; }
wait_until 20 _proxy_up || sit_fail "TLS terminator not answering"
tls=(--portal-url "https://127.0.0.1:$tls_port") # the checks keep reading the stub directly

# Default: verification on, the self-signed certificate is refused.
sit_sync_start strict "${tls[@]}" --backoff-cap-ms 500
_tls_error() { [[ $(sit_sql "SELECT count(*) FROM sync_state WHERE last_status = 0 AND last_error ILIKE '%certificate%'") -gt 0 ]]; }
wait_until 20 _tls_error || sit_fail "no certificate error recorded: $(sit_sql 'SELECT last_error FROM sync_state LIMIT 1')"
[[ $(sit_stub_count POST 200) == 0 ]] || sit_fail "a report got through an unverified certificate"
grep -q 'handshake refused' "$SIT_DIR/tls-proxy.log" || sit_fail "the client did not abort the handshake"
sit_sync_stop strict
sit_ok "default: self-signed certificate refused, reports wait ($(sit_sql 'SELECT last_error FROM sync_state LIMIT 1'))"

sit_sync_start ca "${tls[@]}" --ca-file "$SIT_DIR/cert.pem"
sit_wait_in_sync 30
sit_sync_stop ca
grep -q 'event=insecure' "$SIT_DIR/sync-ca.log" && sit_fail "insecure warning without --insecure"
sit_ok "--ca-file: verified and sent"

sit_sql "UPDATE period_totals SET received = received + 1, revision = revision + 1; NOTIFY tthc_totals;"
sit_sync_start insecure "${tls[@]}" --insecure
sit_wait_in_sync 30
grep -q 'level=warn .*event=insecure' "$SIT_DIR/sync-insecure.log" || sit_fail "no warning about --insecure"
sit_sync_stop insecure
sit_ok "--insecure: sent, with a warning"
echo "PASS it_sync_tls"
