#!/usr/bin/env bash
# The DLQ copy of a rejected message (issue 10, items 2 and 6): personal ID
# numbers are masked in the payload (same length, every other byte kept), a
# message too large for the DLQ producer is cut to its first 64 KiB instead of
# stopping ingest, and masked or cut copies say so with the original size and
# SHA-256.  Read back with kcat: no 12-digit ID of the stream appears
# anywhere in the DLQ, payloads or headers.
source "$(dirname "$0")/common.sh"
it_setup
"${ORACLE[@]}" gen --seed dlq-copy-1 --dossiers 600 --units 8 --malformed 20 --conflicts 5 \
    --out-events "$IT_DIR/clean.tsv" --out-expected "$IT_DIR/clean.json"
# Invalid id_tagged events that carry a citizen ID (each invalid for another
# reason), one with the key spelled with an escape, one with an escape in the
# number, and a ~1 MB message (refused as too large; its DLQ copy would not
# fit the producer's 1,000,000-byte limit with its headers).
python3 - "$IT_DIR/clean.tsv" "$IT_DIR/events.tsv" "$IT_DIR/ids.txt" "$IT_DIR/big.bin" <<'PY'
import json, random, sys
src, out, ids_out, big_out = sys.argv[1:5]
lines = open(src, "rb").read().splitlines()
rng = random.Random(6)
ids, extra = [], []
def tagged(k, **over):
    idn = "0%02d2%08d" % (k % 96, rng.randrange(10**8))
    ids.append(idn)
    ev = {"event_id": "mask-%d" % k, "event_type": "dossier.id_tagged", "occurred_at": "2025-03-03T08:00:00+07:00",
          "dossier_id": "MASK-%d" % k, "id_kind": "citizen_id", "id_number": idn}
    ev.update(over)
    return ev, idn
for k in range(12):
    ev, idn = tagged(k, **[{"occurred_at": "yesterday"}, {"dossier_id": 7}, {"id_kind": "passport"},
                           {"event_type": "dossier.tagged"}][k % 4])
    extra.append(b"MASK-%d\t" % k + json.dumps(ev, separators=(",", ":")).encode())
ev, idn = tagged(20, occurred_at=None)
extra.append(b"MASK-20\t" + json.dumps(ev).encode().replace(b'"id_number"', b'"id\\u005fnumber"'))
ev, idn = tagged(21, occurred_at=None)
esc = idn[:4] + "\\u00" + hex(ord(idn[4]))[2:] + idn[5:]
extra.append(b"MASK-21\t" + json.dumps(ev).encode().replace(idn.encode(), esc.encode()))
ev, idn = tagged(22, source="x" * 999000)
big = json.dumps(ev, separators=(",", ":")).encode()
open(big_out, "wb").write(big)
extra.append(b"MASK-22\t" + big)
for e in extra:
    lines.insert(rng.randrange(len(lines) + 1), e)
open(out, "wb").write(b"\n".join(lines) + b"\n")
open(ids_out, "w").write("\n".join(ids) + "\n")
PY
"${ORACLE[@]}" expect --events "$IT_DIR/events.tsv" --out-expected "$IT_DIR/expected.json"
grep -aoE '"id_number": ?"[0-9]{12}"' "$IT_DIR/events.tsv" | grep -aoE '[0-9]{12}' >>"$IT_DIR/ids.txt"
sort -u -o "$IT_DIR/ids.txt" "$IT_DIR/ids.txt"
total=$(wc -l <"$IT_DIR/events.tsv")
# The big line as its own message (kcat -l reads lines; the default batch size is smaller).
grep -av '^MASK-22	' "$IT_DIR/events.tsv" >"$IT_DIR/small.tsv"
it_produce "$IT_DIR/small.tsv"
kcat -P -b "$TTHC_KAFKA_BROKERS" -t "$TOPIC" -k MASK-22 -X message.max.bytes=2000000 "$IT_DIR/big.bin"
it_ingest_start a --batch-max 1000 --batch-ms 100
it_wait_applied "$total" 180
it_ingest_stop a
it_dlq_dump "$IT_DIR/dlq.txt"
it_check "$IT_DIR/expected.json" "$IT_DIR/dlq.txt"
kcat -C -b "$TTHC_KAFKA_BROKERS" -t "$DLQ" -e -q -X fetch.message.max.bytes=2000000 -f '%k\t%h\t%s\n' \
    >"$IT_DIR/dlq-full.txt" 2>/dev/null
if grep -aqFf "$IT_DIR/ids.txt" "$IT_DIR/dlq-full.txt"; then
    it_fail "a personal ID number is in the DLQ: $(grep -aoFf "$IT_DIR/ids.txt" "$IT_DIR/dlq-full.txt" | head -n 3 | tr '\n' ' ')"
fi
python3 - "$IT_DIR/events.tsv" "$IT_DIR/dlq-full.txt" "$IT_DIR/big.bin" <<'PY' || it_fail "DLQ copies are not as the contract says"
import hashlib, re, sys
events, dlq, big = sys.argv[1:4]
orig = {}
for l in open(events, "rb").read().splitlines():
    k, _, v = l.partition(b"\t")
    if k.startswith(b"MASK-"):
        orig[k] = v
big = open(big, "rb").read()
orig[b"MASK-22"] = big
def mask(v):  # the contract's rule, written independently of the service
    def star(m):
        return m.group(1) + b"*" * len(m.group(2)) + b'"'
    return re.sub(rb'("(?:id_number|id\\u005fnumber)"\s*:\s*")((?:[^"\\]|\\.)*)"', star, v)
seen = set()
for line in open(dlq, "rb").read().splitlines():
    key, _, rest = line.partition(b"\t")
    headers, _, value = rest.partition(b"\t")
    if key not in orig:
        if b"tthc.dlq.masked" in headers or b"tthc.dlq.cut" in headers:
            sys.exit("an unmasked, uncut message has masked/cut headers: %r" % headers[:300])
        continue
    seen.add(key)
    o = orig[key]
    h = dict(kv.split(b"=", 1) for kv in headers.split(b",") if b"=" in kv)
    want = mask(o)
    if key == b"MASK-22":
        if h.get(b"tthc.dlq.cut") != b"true" or len(value) != 65536 or value != want[:65536]:
            sys.exit("the 1 MB message was not cut to 64 KiB of its masked bytes (%d bytes, %r)" % (len(value), headers[:200]))
    elif value != want or len(value) != len(o):
        sys.exit("%s: masked copy differs: %r" % (key, value[:300]))
    if h.get(b"tthc.dlq.masked") != b"true":
        sys.exit("%s: no tthc.dlq.masked header: %r" % (key, headers[:300]))
    if h.get(b"tthc.original.size") != str(len(o)).encode() or h.get(b"tthc.original.sha256") != hashlib.sha256(o).hexdigest().encode():
        sys.exit("%s: original size / sha256 headers wrong: %r" % (key, headers[:400]))
missing = set(orig) - seen
if missing:
    sys.exit("not in the DLQ: %r" % sorted(missing))
print("%d masked copies checked (one cut from %d bytes)" % (len(seen), len(big)))
PY
if grep -Eq 'event=(database_unavailable|batch_failed|dlq_blocked)' "$IT_DIR/ingest-a.log"; then
    it_fail "a DLQ copy stopped ingest: $(grep -E 'event=(database_unavailable|batch_failed|dlq_blocked)' "$IT_DIR/ingest-a.log" | head -n 2)"
fi
echo "it_ingest_dlq_copy: ok ($total messages, $(wc -l <"$IT_DIR/ids.txt") ID numbers absent from the DLQ)"
