#!/usr/bin/env python3
"""End-to-end latency probe: event produced -> figure visible on the portal.

Every --interval seconds it produces one probe receipt (a dossier of the probe
unit, received in the probe month) with kcat, and a poller reads the portal's
report of that unit and month every few milliseconds; probe k is visible when
the report's received count reaches k.  Prints p50/p90/p99/max in seconds.
Meant to run while a steady load goes through the same pipeline."""
import argparse
import json
import subprocess
import threading
import time
import urllib.request


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", default="tthc.dossier.events")
    ap.add_argument("--portal", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--unit", default="H61.999")
    ap.add_argument("--month", default="2025-01")
    ap.add_argument("--probes", type=int, default=100)
    ap.add_argument("--interval", type=float, default=0.25)
    ap.add_argument("--timeout", type=float, default=60.0)
    a = ap.parse_args()

    produced = {}
    visible = {}
    done = threading.Event()
    url = f"{a.portal}/api/v1/indicator-reports?period={a.month}&unit_code={a.unit}"

    def poll():
        seen = 0
        while not done.is_set():
            req = urllib.request.Request(url, headers={"Authorization": f"Bearer {a.token}"})
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    body = json.load(r)
                now = time.time()
                for rep in body.get("reports", []):
                    for ind in rep["indicators"]:
                        if ind["code"] == "online_submission":
                            n = ind["denominator"]
                            for k in range(seen + 1, n + 1):
                                visible[k] = now
                            seen = max(seen, n)
            except OSError:
                pass
            time.sleep(0.005)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    run = str(int(time.time()))
    for k in range(1, a.probes + 1):
        ev = {"event_id": f"probe-{run}-{k}", "event_type": "dossier.received",
              "occurred_at": f"{a.month}-15T08:00:00+07:00", "dossier_id": f"PROBE-{run}-{k}",
              "unit_code": a.unit, "procedure_code": "probe", "channel": "online",
              "received_at": f"{a.month}-15T08:00:00+07:00", "source": "e2e-latency-probe"}
        line = f"PROBE-{run}-{k}\t{json.dumps(ev)}\n"
        produced[k] = time.time()
        subprocess.run(["kcat", "-P", "-b", a.brokers, "-t", a.topic, "-K", "\t"], input=line.encode(),
                       check=True)
        time.sleep(a.interval)
    deadline = time.time() + a.timeout
    while len(visible) < a.probes and time.time() < deadline:
        time.sleep(0.05)
    done.set()
    lat = sorted(visible[k] - produced[k] for k in produced if k in visible)
    if len(lat) < a.probes:
        print(f"e2e: only {len(lat)} of {a.probes} probes became visible within {a.timeout:.0f} s")
    if not lat:
        raise SystemExit(1)
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    print(f"e2e latency over {len(lat)} probes: p50 {q(0.50):.3f} s  p90 {q(0.90):.3f} s  "
          f"p99 {q(0.99):.3f} s  max {lat[-1]:.3f} s")


if __name__ == "__main__":
    main()
