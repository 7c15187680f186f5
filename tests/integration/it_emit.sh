#!/usr/bin/env bash
# it_emit: tthc-emit, the simulated provincial system.
#  (a) the same seed gives a byte-identical stream (--out), another seed another;
#      the shipped units file is the built-in list;
#  (b) over 100,000 dossiers the stream's rates match the configured
#      probabilities within 4 binomial standard errors (see TOLERANCE below);
#  (c) through the dev broker and tthc-ingest, everything but the deliberately
#      malformed messages is accepted: the totals in PostgreSQL equal the
#      oracle's (tests/tools/tthc_stream.py) and the DLQ holds exactly the
#      malformed messages, by reason;
#  (d) failed deliveries make the exit status non-zero; --rate paces the feed.
source "$(dirname "$0")/common.sh"
EMIT=$TTHC_BIN_DIR/tthc-emit
it_setup
cd "$IT_DIR"

# ---- (a) determinism ------------------------------------------------------------
knobs=(--dup-rate 0.03 --late-rate 0.01 --reorder-window 100 --malformed-rate 0.005)
"$EMIT" --seed det-1 --dossiers 5000 "${knobs[@]}" --out a1.tsv 2>a1.log
"$EMIT" --seed det-1 --dossiers 5000 "${knobs[@]}" --out a2.tsv 2>a2.log
"$EMIT" --seed det-2 --dossiers 5000 "${knobs[@]}" --out a3.tsv 2>a3.log
sanitizer_check a1.log a2.log a3.log || it_fail "sanitizer report"
[[ -s a1.tsv ]] || it_fail "no output"
cmp -s a1.tsv a2.tsv || it_fail "the same seed gave two different streams"
cmp -s a1.tsv a3.tsv && it_fail "two seeds gave the same stream"
"$EMIT" --dump-units | cmp -s - "$TTHC_SOURCE_DIR/services/emit/units-h61.tsv" ||
    it_fail "services/emit/units-h61.tsv differs from tthc-emit --dump-units"
"$EMIT" --seed det-1 --dossiers 5000 "${knobs[@]}" --units-file "$TTHC_SOURCE_DIR/services/emit/units-h61.tsv" \
    --out a4.tsv 2>a4.log
cmp -s a1.tsv a4.tsv || it_fail "the units file and the built-in list gave different streams"
echo "(a) deterministic: $(wc -l <a1.tsv) messages, $(sha256sum <a1.tsv | cut -c1-16)"

# ---- (b) calibration --------------------------------------------------------------
# TOLERANCE.  Each unit's probabilities are calibrated so that their
# volume-weighted mean is the configured province probability p, and each
# dossier's unit is drawn independently by volume; so with --trend 0 every
# dossier-level indicator is a sum of n independent Bernoulli(p) trials
# (binomial), and so is every result-level one given its denominator (issue,
# due date and rating do not depend on the unit).  Its standard error is
# sqrt(p(1-p)/n): about 0.15 points for n = 100,000.  A rate passes within 4
# standard errors (two-sided, a false alarm about once in 16,000 per
# indicator).  online_payment counts payments, up to 2 per dossier and
# correlated within a dossier: its standard error is the larger of the
# binomial one and the linearized ratio one, sqrt(sum (x_i - r d_i)^2) / sum d_i
# over dossiers.
"$EMIT" --seed calib-1 --trend 0 --print-profile >profile.json
"$EMIT" --seed calib-1 --trend 0 --dossiers 100000 --out b.tsv --summary b-summary.json 2>b.log
sanitizer_check b.log || it_fail "sanitizer report"
python3 - b.tsv profile.json b-summary.json <<'PY' || it_fail "(b) rates outside the tolerance"
import json, math, sys
events, profile, summary = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
conf = profile["configured"]
d = {}  # dossier -> facts
for line in open(events, encoding="utf-8"):
    key, _, js = line.rstrip("\n").partition("\t")
    e = json.loads(js)
    f = d.setdefault(e["dossier_id"], {"pay": {}})
    t = e["event_type"]
    if t == "dossier.received":
        f["online"] = e["channel"] == "online"
        f["due"] = e.get("due_at")
    elif t == "dossier.digitized":
        f["comp" if e["scope"] == "components" else "rdig"] = True
    elif t == "dossier.data_reused": f["reuse"] = True
    elif t == "dossier.id_tagged": f["id"] = True
    elif t == "dossier.paid": f["pay"].setdefault(e["payment_id"], e["method"] == "online")
    elif t == "dossier.result_issued":
        f["issued"] = True; f["elec"] = e["electronic"]; f["fin"] = e["finished_at"]
    elif t == "dossier.synced": f["sync"] = True
    elif t == "dossier.rated": f["rated"] = True; f["sat"] = e["satisfied"]
from datetime import datetime
def ts(s): return datetime.fromisoformat(s)
def ind(f):
    """(numerator, denominator) of every indicator for one dossier."""
    iss = f.get("issued", False)
    ontime_den = iss and f.get("due") is not None
    return {
        "online_submission": (f["online"], 1), "digitized_dossier": (f.get("comp", False), 1),
        "digitized_result": (iss and f.get("rdig", False), iss), "e_result": (iss and f["elec"], iss) if iss else (0, 0),
        "id_tagged": (f.get("id", False), 1), "data_reused": (f.get("reuse", False), 1),
        "online_payment": (sum(f["pay"].values()), len(f["pay"])),
        "portal_synced": (iss and f.get("sync", False), iss),
        "on_time": (ontime_den and ts(f["fin"]) <= ts(f["due"]), ontime_den),
        "satisfaction": (iss and f.get("rated", False) and f["sat"], iss and f.get("rated", False)),
    }
rows = [ind(f) for f in d.values()]
assert len(rows) == 100000, len(rows)
bad = 0
print(f"{'indicator':<18} {'configured':>10} {'emitted':>8} {'n':>7} {'SE':>7} {'z':>6}")
for code, p in conf.items():
    xs = [(int(r[code][0]), int(r[code][1])) for r in rows]
    num = sum(x for x, _ in xs); den = sum(y for _, y in xs)
    rate = num / den
    se = math.sqrt(p * (1 - p) / den)
    if code == "online_payment":
        se = max(se, math.sqrt(sum((x - rate * y) ** 2 for x, y in xs)) / den)
    z = (rate - p) / se
    ok = abs(z) <= 4
    bad += not ok
    print(f"{code:<18} {p:>10.4f} {rate:>8.4f} {den:>7} {se:>7.4f} {z:>6.2f} {'ok' if ok else 'OUT'}")
    if summary["province_totals"][code] != [num, den]:
        print(f"  emitter's own totals differ: {summary['province_totals'][code]} != {[num, den]}"); bad += 1
sys.exit(1 if bad else 0)
PY
echo "(b) rates within 4 standard errors of the configured probabilities"

# ---- (c) through Kafka and tthc-ingest ------------------------------------------------
run=(--seed valid-1 --dossiers 20000 --dup-rate 0.03 --late-rate 0.005 --reorder-window 200 --malformed-rate 0.003)
"$EMIT" "${run[@]}" --out c.tsv 2>c-file.log
"$EMIT" "${run[@]}" --summary c-summary.json --progress-ms 200 2>emit.log || it_fail "tthc-emit failed (see emit.log)"
sanitizer_check emit.log || it_fail "sanitizer report in emit.log"
grep -q 'event=progress sent=' emit.log || it_fail "no progress line on stderr"
messages=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["messages"])' c-summary.json)
malformed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["malformed"])' c-summary.json)
[[ $messages == "$(wc -l <c.tsv)" ]] || it_fail "the file run and the Kafka run differ in size"
grep -q "event=done messages=$messages .* delivered=$messages failed=0" emit.log || it_fail "not every message delivered"
((malformed > 0)) || it_fail "no malformed messages to look for"
"${ORACLE[@]}" expect --events c.tsv --out-expected expected.json
it_ingest_start a --batch-max 5000 --batch-ms 100
it_wait_applied "$messages" 180
it_ingest_stop a
it_dlq_dump dlq.txt
dlq=$(wc -l <dlq.txt.raw)
((dlq == malformed)) || it_fail "the DLQ holds $dlq messages, the emitter sent $malformed malformed ones"
it_check expected.json dlq.txt
python3 - c-summary.json dlq.txt.raw <<'PY' || it_fail "DLQ reasons differ from the malformed kinds sent"
import collections, json, re, sys
want = json.load(open(sys.argv[1]))["malformed_by_reason"]
got = collections.Counter(re.search(r"tthc\.dlq\.reason=([a-z0-9_]+)", l).group(1) for l in open(sys.argv[2]))
print("DLQ by reason:", dict(got))
sys.exit(0 if dict(got) == want else 1)
PY
echo "(c) $messages messages through Kafka: totals equal the oracle's, the DLQ holds the $malformed malformed ones"

# ---- (d) delivery failures, pacing --------------------------------------------------------
rc=0
"$EMIT" --brokers 127.0.0.1:1 --dossiers 5 --message-timeout-ms 1000 --flush-timeout-ms 5000 2>fail.log || rc=$?
sanitizer_check fail.log || it_fail "sanitizer report in fail.log"
((rc == 1)) || it_fail "undeliverable messages: exit status $rc, not 1"
grep -q 'event=delivery failed=' fail.log || it_fail "no delivery failure logged"
start=$(_now_us)
"$EMIT" --rate 2000 --events 3000 --out paced.tsv 2>paced.log
elapsed_ms=$((($(_now_us) - start) / 1000))
[[ $(wc -l <paced.tsv) == 3000 ]] || it_fail "--events 3000 wrote $(wc -l <paced.tsv) messages"
((elapsed_ms >= 1400)) || it_fail "--rate 2000 sent 3000 messages in ${elapsed_ms} ms"
echo "(d) failed deliveries exit 1; --rate 2000: 3000 messages in ${elapsed_ms} ms"
echo "it_emit: ok"
