#!/usr/bin/env python3
"""tthc_stream.py: independent reference implementation ("oracle") of the TTHC
event contract (docs/events.md, docs/indicators.md), plus stream
generators for integration tests and the benchmark.

Python 3 standard library only.  Written for clarity, not speed; it shares no
code with the C service.

Subcommands (run with --help for every option):

  gen        deterministic test stream with every hazard of the contract, plus
             the expected totals / DLQ counts computed by the oracle
  expect     run the oracle over any KEY<TAB>JSON file (e.g. a bench-gen file)
  check      compare the indicator_totals view (via psql) and optionally the DLQ
             headers captured with kcat against an expected file
  bench-gen  fast generator of a large stream of valid events
  qd766-pairs   random (numerator, denominator) pairs per QĐ 766 metric with the
                score and ratio this oracle computes (decimal), as COPY text
  qd766-expect  the QĐ 766 metrics of a stream per (unit or province, month),
                evaluated at a given instant
  qd766-check   compare qd766_metrics() in the database with a qd766-expect file

Stream file format: one Kafka message per line, `KEY<TAB>VALUE`, for
`kcat -P -K '\\t' -l FILE`.  VALUE is raw bytes (it may be invalid UTF-8 on
purpose); it never contains a newline.

Expected file (JSON, keys sorted):
  {"totals": {"H61.07|2025-03": {"online_submission": [num, den], ... 10 ...},
              "H61|2025-03": {...province roll-up...}},
   "dlq": {"invalid_json": 2, "receipt_conflict": 10, ...},
   "messages": <lines in the stream>, "accepted": <messages not dead-lettered>,
   "dossiers": {...informational...}, "dlq_forbidden_substrings": [...],
   "generator": {...the arguments...}}
"""

import argparse
import collections
import json
import os
import random
import re
import subprocess
import sys
import unicodedata

# --------------------------------------------------------------------------
# Contract constants
# --------------------------------------------------------------------------

MAX_MESSAGE_BYTES = 65536          # "larger than 64 KiB" goes to the DLQ
VN_OFFSET_SECONDS = 7 * 3600       # cohort months are taken in UTC+07:00
NS = 1_000_000_000
US = 1_000_000

DLQ_REASON_HEADER = "tthc.dlq.reason"
REASONS = [
    "too_large", "invalid_utf8", "invalid_json", "not_object", "missing_field",
    "wrong_type", "invalid_value", "unknown_event_type",
    "unsupported_schema_version", "receipt_conflict", "duplicate_key", "nul_character",
]
# Instants an event may carry (ns since the epoch): 1970-01-01T00:00:00Z up to
# 9999-12-31T23:59:59Z, with a Vietnam-time month in 1970-9999; so at most
# 9999-12-31T23:59:59.999999+07:00 (the service keeps microseconds).
INSTANT_MIN_NS = 0
INSTANT_MAX_NS = (253402275599 * 1000000 + 999999) * 1000 + 999

# indicator code -> (numerator column, denominator column) of period_totals
INDICATORS = [
    ("online_submission", "online", "received"),
    ("digitized_dossier", "comp_digitized", "received"),
    ("digitized_result", "result_digitized", "issued"),
    ("e_result", "e_result", "issued"),
    ("id_tagged", "id_tagged", "received"),
    ("data_reused", "data_reused", "received"),
    ("online_payment", "payments_online", "payments"),
    ("portal_synced", "synced", "issued"),
    ("on_time", "on_time", "due_issued"),
    ("satisfaction", "satisfied", "rated"),
]
COUNT_COLUMNS = [
    "received", "online", "comp_digitized", "data_reused", "id_tagged", "issued",
    "result_digitized", "e_result", "synced", "due_issued", "on_time", "payments",
    "payments_online", "rated", "satisfied",
]

EVENT_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
DOSSIER_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
UNIT_CODE_RE = re.compile(r"[A-Za-z0-9]{1,10}\.[A-Za-z0-9.]{1,40}")
PROCEDURE_CODE_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
CITIZEN_ID_RE = re.compile(r"[0-9]{12}")

CHANNELS = ("online", "in_person", "postal")
APPLICANT_TYPES = ("citizen", "business", "agency", "other")
SCOPES = ("components", "result")
ID_KINDS = ("citizen_id", "vneid")
METHODS = ("online", "offline")
GATEWAYS = ("dvcqg", "provincial")
REUSE_SOURCES = ("digitized_store", "national_db", "other_dossier")

# Field rules per event type, in checking order:
#   (name, required, kind, allowed values or None)
# kind: "str", "ts" (RFC 3339 string), "bool", "uint" (JSON integer >= 0),
#       "unit", "proc", "pid" (payment_id), "id_number".
EVENT_FIELDS = {
    "dossier.received": [
        ("unit_code", True, "unit", None),
        ("procedure_code", True, "proc", None),
        ("channel", True, "str", CHANNELS),
        ("received_at", True, "ts", None),
        ("due_at", False, "ts", None),
        ("applicant_type", False, "str", APPLICANT_TYPES),
    ],
    "dossier.digitized": [("scope", True, "str", SCOPES)],
    # `source` of data_reused is the envelope's optional string (any value).
    "dossier.data_reused": [],
    "dossier.id_tagged": [
        ("id_kind", True, "str", ID_KINDS),
        ("id_number", False, "id_number", None),
    ],
    "dossier.paid": [
        ("payment_id", True, "pid", None),
        ("method", True, "str", METHODS),
        ("amount_vnd", True, "uint", None),
        ("gateway", False, "str", GATEWAYS),
    ],
    "dossier.result_issued": [
        ("finished_at", True, "ts", None),
        ("electronic", True, "bool", None),
    ],
    "dossier.synced": [],
    "dossier.rated": [("satisfied", True, "bool", None)],
}


# --------------------------------------------------------------------------
# Calendar and RFC 3339
# --------------------------------------------------------------------------

def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    """Inverse of days_from_civil: (year, month, day)."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d


def days_in_month(y, m):
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    return 30 if m in (4, 6, 9, 11) else 31


# date-time = full-date "T" full-time (RFC 3339 section 5.6); T and Z may be
# lower case (section 5.6 NOTE).  Only ASCII digits ([0-9], not \d).
RFC3339_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})")


def parse_rfc3339(s):
    """Returns the instant as integer nanoseconds since the epoch (UTC), or
    None if s is not an RFC 3339 date-time with an explicit offset.
    Fractions beyond 9 digits are truncated.  Leap second 60 is rejected."""
    if not isinstance(s, str):
        return None
    m = RFC3339_RE.fullmatch(s)
    if not m:
        return None
    y, mo, d, hh, mi, ss = (int(m.group(i)) for i in range(1, 7))
    if not (1 <= mo <= 12 and 1 <= d <= days_in_month(y, mo)):
        return None
    if hh > 23 or mi > 59 or ss > 59:
        return None
    frac_ns = 0
    if m.group(7):
        digits = m.group(7)[1:10]
        frac_ns = int(digits.ljust(9, "0"))
    off = m.group(8)
    if off in ("Z", "z"):
        off_s = 0
    else:
        oh, om = int(off[1:3]), int(off[4:6])
        if oh > 23 or om > 59:
            return None
        off_s = (oh * 3600 + om * 60) * (1 if off[0] == "+" else -1)
    local_s = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss
    return (local_s - off_s) * NS + frac_ns


def cohort_period(instant_ns):
    """Calendar month YYYY-MM of an instant in Vietnam time (UTC+07:00)."""
    local_s = instant_ns // NS + VN_OFFSET_SECONDS
    y, m, _ = civil_from_days(local_s // 86400)
    return "%04d-%02d" % (y, m)


OFFSET_MINUTES = {"Z": 0, "+00:00": 0, "+07:00": 420, "-05:00": -300,
                  "+05:30": 330, "+09:00": 540}


def format_rfc3339(instant_us, offset="+07:00", digits=None, strip=False):
    """Formats an instant (integer microseconds since the epoch) in the given
    offset ("Z", "+07:00", ...).  digits: fraction digits (None: the fewest
    that are exact; 0 only if the instant is whole seconds); strip: drop
    trailing zeros of the fraction (".500" -> ".5")."""
    off_min = OFFSET_MINUTES[offset]
    secs, frac = divmod(instant_us + off_min * 60 * US, US)
    days, sod = divmod(secs, 86400)
    y, mo, d = civil_from_days(days)
    hh, rem = divmod(sod, 3600)
    mi, ss = divmod(rem, 60)
    out = "%04d-%02d-%02dT%02d:%02d:%02d" % (y, mo, d, hh, mi, ss)
    need = 0 if frac == 0 else (3 if frac % 1000 == 0 else 6)
    if digits is None:
        digits = need
    if digits < need:
        raise ValueError("fraction not representable in %d digits" % digits)
    if digits:
        f = ("%06d" % frac).ljust(digits, "0")[:digits]
        if strip:
            f = f.rstrip("0") or "0"
        out += "." + f
    return out + offset


# --------------------------------------------------------------------------
# Validation (mirrors the service; one reason per rejected message)
# --------------------------------------------------------------------------

class Rejected(Exception):
    def __init__(self, reason, detail=""):
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


def _reject_constant(name):
    # JSON has no NaN / Infinity; Python's json module would accept them.
    raise ValueError("non-JSON constant " + name)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _check_field(obj, name, required, kind, allowed):
    """Returns the field's value (None if absent and optional) or raises."""
    if obj.get(name) is None:                # absent or JSON null
        if required:
            raise Rejected("missing_field", name)
        return None
    v = obj[name]
    if kind == "bool":
        if not isinstance(v, bool):
            raise Rejected("wrong_type", name)
        return v
    if kind == "uint":
        if isinstance(v, float):            # 1500.5: not an integer; 1.0 and 1e3 are integral
            if v != v or v in (float("inf"), float("-inf")) or not v.is_integer() or abs(v) > 2**53 - 1:
                raise Rejected("invalid_value", name)
            v = int(v)
        if not _is_int(v):
            raise Rejected("wrong_type", name)
        if v < 0:
            raise Rejected("invalid_value", name)
        return v
    if not isinstance(v, str):              # every other kind is a string
        raise Rejected("wrong_type", name)
    ok = True
    if allowed is not None:
        ok = v in allowed
    elif kind == "ts":
        ns = parse_rfc3339(v)
        ok = ns is not None and INSTANT_MIN_NS <= ns <= INSTANT_MAX_NS
    elif kind == "unit":
        ok = UNIT_CODE_RE.fullmatch(v) is not None
    elif kind == "proc":
        ok = PROCEDURE_CODE_RE.fullmatch(v) is not None
    elif kind == "pid":
        ok = 1 <= len(v) <= 128 and not any(unicodedata.category(c) == "Cc" for c in v)
    if not ok:
        raise Rejected("invalid_value", name)
    return v


def _has_nul(v):
    """True if a string anywhere in v (values and member names) holds U+0000."""
    if isinstance(v, str):
        return "\x00" in v
    if isinstance(v, dict):
        return any(_has_nul(k) or _has_nul(x) for k, x in v.items())
    if isinstance(v, list):
        return any(_has_nul(x) for x in v)
    return False


def validate(value):
    """Validates one message value (bytes).  Returns the event as a dict with
    normalized fields, or raises Rejected(reason).

    Check order (only matters for a message with several defects; the
    generator never produces such messages): size, UTF-8, JSON, object,
    U+0000 in a string, a member name twice, schema_version, event_id, event_type (unknown type), occurred_at,
    dossier_id, source, then the type's fields in contract order; within a
    field: missing_field, wrong_type, invalid_value."""
    if len(value) > MAX_MESSAGE_BYTES:
        raise Rejected("too_large")
    try:
        text = value.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise Rejected("invalid_utf8")
    dup = []

    def pairs(items):                       # notes a member name given twice in one object
        if len({k for k, _ in items}) != len(items):
            dup.append(True)
        return dict(items)
    try:
        obj = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        raise Rejected("invalid_json")
    if not isinstance(obj, dict):
        raise Rejected("not_object")
    if _has_nul(obj):
        raise Rejected("nul_character")
    if dup:
        raise Rejected("duplicate_key")

    if obj.get("schema_version") is not None:
        sv = obj["schema_version"]
        if isinstance(sv, float):           # 1.5: not an integer; 1.0 is integral
            if sv != sv or sv in (float("inf"), float("-inf")) or not sv.is_integer():
                raise Rejected("invalid_value", "schema_version")
            sv = int(sv)
        if not _is_int(sv):
            raise Rejected("wrong_type", "schema_version")
        if sv < 1:
            raise Rejected("invalid_value", "schema_version")
        if sv > 1:
            raise Rejected("unsupported_schema_version")

    eid = obj.get("event_id")
    if eid is None:
        raise Rejected("missing_field", "event_id")
    if not isinstance(eid, str):
        raise Rejected("wrong_type", "event_id")
    if not EVENT_ID_RE.fullmatch(eid):
        raise Rejected("invalid_value", "event_id")

    if obj.get("event_type") is None:
        raise Rejected("missing_field", "event_type")
    etype = obj["event_type"]
    if not isinstance(etype, str):
        raise Rejected("wrong_type", "event_type")
    if etype not in EVENT_FIELDS:
        raise Rejected("unknown_event_type", etype)

    _check_field(obj, "occurred_at", True, "ts", None)
    did = _check_field(obj, "dossier_id", True, "str", None)
    if not DOSSIER_ID_RE.fullmatch(did):
        raise Rejected("invalid_value", "dossier_id")
    _check_field(obj, "source", False, "str", None)

    ev = {"event_id": eid, "event_type": etype, "dossier_id": did}
    for name, required, kind, allowed in EVENT_FIELDS[etype]:
        v = _check_field(obj, name, required, kind, allowed)
        if v is not None and kind == "ts":
            v = parse_rfc3339(v)
        ev[name] = v
    if etype == "dossier.id_tagged" and ev["id_kind"] == "citizen_id" \
            and ev["id_number"] is not None and not CITIZEN_ID_RE.fullmatch(ev["id_number"]):
        raise Rejected("invalid_value", "id_number")
    ev.pop("id_number", None)               # personal data: checked, then dropped
    if etype == "dossier.received":
        ev["unit_code"] = ev["unit_code"].upper()   # unit codes are case-insensitive
    if etype == "dossier.data_reused":      # the reuse source (any string; QĐ 766 reads one value)
        ev["source"] = obj.get("source")
    return ev


# --------------------------------------------------------------------------
# The oracle: contract semantics applied to a stream, message by message
# --------------------------------------------------------------------------

class DossierState:
    """Set-once facts of one dossier (they may exist before its receipt)."""

    def __init__(self):
        self.received = False
        self.unit_code = self.period = self.procedure_code = self.channel = None
        self.received_at = self.due_at = None
        self.comp_digitized = self.result_digitized = False
        self.data_reused = self.id_tagged = self.synced = False
        self.reuse_source = None            # of the first dossier.data_reused, when a contract value
        self.issued = False
        self.electronic = self.finished_at = None
        self.rated = False
        self.satisfied = None
        self.payments = {}                  # payment_id -> online (first event)


class Oracle:
    def __init__(self, store_refuses=None):
        self.store_refuses = store_refuses  # bytes: valid messages holding it are refused by the store
        self.dossiers = {}
        self.applied_ids = set()            # an event_id is unique across the stream
        self.dlq = collections.Counter()
        self.messages = 0
        self.accepted = 0

    def feed(self, value):
        """Consumes one message value (bytes).  Returns the DLQ reason, or None
        if the message was accepted (which includes duplicates that change
        nothing)."""
        self.messages += 1
        try:
            ev = validate(value)
            if self.store_refuses and self.store_refuses in value:
                raise Rejected("rejected_by_store")
            reason = self._apply(ev)
        except Rejected as r:
            reason = r.reason
        if reason is None:
            self.accepted += 1
        else:
            self.dlq[reason] += 1
        return reason

    def _apply(self, ev):
        d = self.dossiers.get(ev["dossier_id"])
        if d is None:
            d = self.dossiers[ev["dossier_id"]] = DossierState()
        if ev["event_id"] in self.applied_ids:  # applied, on any dossier: changes nothing
            return None
        t = ev["event_type"]
        if t == "dossier.received":
            if d.received:
                first = (d.unit_code, d.procedure_code, d.channel, d.received_at)
                second = (ev["unit_code"], ev["procedure_code"], ev["channel"], ev["received_at"])
                if first != second:         # received_at compared as instants
                    return "receipt_conflict"
            else:
                d.received = True
                d.unit_code = ev["unit_code"]
                d.procedure_code = ev["procedure_code"]
                d.channel = ev["channel"]
                d.received_at = ev["received_at"]
                d.due_at = ev["due_at"]
                d.period = cohort_period(ev["received_at"])
        elif t == "dossier.digitized":
            if ev["scope"] == "components":
                d.comp_digitized = True
            else:
                d.result_digitized = True
        elif t == "dossier.data_reused":
            if not d.data_reused:
                src = ev.get("source")
                d.reuse_source = src if src in REUSE_SOURCES else None
            d.data_reused = True
        elif t == "dossier.id_tagged":
            d.id_tagged = True
        elif t == "dossier.paid":
            if ev["payment_id"] not in d.payments:
                d.payments[ev["payment_id"]] = ev["method"] == "online"
        elif t == "dossier.result_issued":
            if not d.issued:
                d.issued = True
                d.electronic = ev["electronic"]
                d.finished_at = ev["finished_at"]
        elif t == "dossier.synced":
            d.synced = True
        elif t == "dossier.rated":
            if not d.rated:
                d.rated = True
                d.satisfied = ev["satisfied"]
        self.applied_ids.add(ev["event_id"])
        return None

    def bucket_counts(self):
        """{(unit_code, period): {column: count}} for units and provinces."""
        buckets = {}

        def add(key, col, n=1):
            b = buckets.get(key)
            if b is None:
                b = buckets[key] = dict.fromkeys(COUNT_COLUMNS, 0)
            b[col] += n

        for d in self.dossiers.values():
            if not d.received:
                continue                    # only received dossiers count
            province = d.unit_code.split(".", 1)[0]
            for key in ((d.unit_code, d.period), (province, d.period)):
                add(key, "received")
                add(key, "online", d.channel == "online")
                add(key, "comp_digitized", d.comp_digitized)
                add(key, "data_reused", d.data_reused)
                add(key, "id_tagged", d.id_tagged)
                if d.issued:
                    add(key, "issued")
                    add(key, "result_digitized", d.result_digitized)
                    add(key, "e_result", d.electronic)
                    add(key, "synced", d.synced)
                    if d.due_at is not None:
                        add(key, "due_issued")
                        add(key, "on_time", d.finished_at <= d.due_at)
                add(key, "payments", len(d.payments))
                add(key, "payments_online", sum(d.payments.values()))
                if d.rated:
                    add(key, "rated")
                    add(key, "satisfied", d.satisfied)
        return buckets

    def totals(self):
        return totals_from_counts(self.bucket_counts())

    def expected(self, **extra):
        out = {
            "totals": self.totals(),
            "dlq": dict(sorted(self.dlq.items())),
            "messages": self.messages,
            "accepted": self.accepted,
            "dossiers": {
                "seen": len(self.dossiers),
                "received": sum(1 for d in self.dossiers.values() if d.received),
                "never_received": sum(1 for d in self.dossiers.values() if not d.received),
            },
        }
        out.update(extra)
        return out


def totals_from_counts(buckets):
    """{"unit|period": {indicator: [num, den]}}, all-zero buckets left out."""
    out = {}
    for (unit, period), c in sorted(buckets.items()):
        if not any(c.values()):
            continue
        out["%s|%s" % (unit, period)] = {
            code: [int(c[num]), int(c[den])] for code, num, den in INDICATORS}
    return out


def read_stream(path):
    """Yields (key bytes, value bytes) per line of a KEY<TAB>VALUE file."""
    with open(path, "rb") as f:
        for line in f:
            if line.endswith(b"\n"):
                line = line[:-1]
            key, sep, value = line.partition(b"\t")
            if not sep:                     # kcat -K: no delimiter, no key
                key, value = b"", line
            yield key, value


def compact(ev):
    """The compact UTF-8 JSON encoding used for size-exact messages."""
    return json.dumps(ev, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def write_json(path, obj):
    """Sorted keys; inside "totals" one line per bucket, for readable diffs."""
    def dump(v):
        return json.dumps(v, sort_keys=True, ensure_ascii=False)
    parts = []
    for k in sorted(obj):
        if k == "totals":
            inner = ",\n".join("  %s: %s" % (dump(b), dump(obj[k][b])) for b in sorted(obj[k]))
            parts.append(' "totals": {\n%s\n }' % inner if inner else ' "totals": {}')
        else:
            parts.append(" %s: %s" % (dump(k), dump(obj[k])))
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(parts) + "\n}\n")


# --------------------------------------------------------------------------
# Generator of test streams (gen)
# --------------------------------------------------------------------------

def parse_months(spec):
    """"2025-01..2025-06" or "2025-03" -> [(2025, 1), ..., (2025, 6)]."""
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})(?:\.\.([0-9]{4})-([0-9]{2}))?", spec)
    if not m:
        raise argparse.ArgumentTypeError("months must look like 2025-01..2025-06")
    y, mo = int(m.group(1)), int(m.group(2))
    y2, mo2 = (int(m.group(3)), int(m.group(4))) if m.group(3) else (y, mo)
    if not (1 <= mo <= 12 and 1 <= mo2 <= 12) or (y2, mo2) < (y, mo):
        raise argparse.ArgumentTypeError("bad month range " + spec)
    out = []
    while (y, mo) <= (y2, mo2):
        out.append((y, mo))
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    return out


def month_start_us(y, m):
    """UTC instant (µs) of local midnight starting month y-m in UTC+07."""
    return (days_from_civil(y, m, 1) * 86400 - VN_OFFSET_SECONDS) * US


def make_units(province, k):
    """K receiving units: departments H61.01.., every 4th a commune-like code
    (H61.104), every 7th a nested code (H61.07.01)."""
    units = []
    for i in range(1, k + 1):
        if i % 4 == 0:
            units.append("%s.%d" % (province, 100 + i))
        elif i % 7 == 0:
            units.append("%s.%02d.01" % (province, i))
        else:
            units.append("%s.%02d" % (province, i))
    return units


class Msg:
    __slots__ = ("key", "value", "intent", "label", "pos")

    def __init__(self, key, value, intent=None, label=""):
        self.key = key                      # str
        self.value = value                  # bytes
        self.intent = intent                # expected DLQ reason or None
        self.label = label                  # what the message is, for debugging
        self.pos = 0


class Truth:
    """What a received dossier must count, as the generator designed it (the
    hazards it adds must change none of it).  Checked against the oracle."""

    def __init__(self, unit, rec_us, channel, due_us):
        self.unit, self.rec_us, self.channel, self.due_us = unit, rec_us, channel, due_us
        self.comp = self.resdig = self.reused = self.tagged = self.synced = False
        self.issued = None                  # (electronic, finished_us)
        self.rated = None                   # satisfied
        self.payments = []                  # online flags


def _pick(rng, weighted):
    """weighted: [(value, weight), ...]"""
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for v, w in weighted:
        x -= w
        if x < 0:
            return v
    return weighted[-1][0]


OFFSET_MIX = [("+07:00", 55), ("Z", 25), ("-05:00", 8), ("+00:00", 4),
              ("+05:30", 4), ("+09:00", 4)]
PROCEDURES = ["1.001234", "1.004227", "2.000889", "1.010099.000.00.00.H61",
              "TT-KS-01", "dat_dai.1.3", "1.012345"]
SOURCES = ["motcua.vinhlong", "igate-h61", "tthc-sim"]

DAY_US = 86400 * US
HOUR_US = 3600 * US


class Generator:
    def __init__(self, args):
        self.a = args
        self.rng = random.Random("tthc-gen:%s" % args.seed)
        self.months = parse_months(args.months)
        self.units = make_units(args.province, args.units)
        self.n_eid = 0
        self.n_bad = 0
        self.groups = collections.OrderedDict()   # key -> [Msg] in dossier order
        self.start = {}                            # key -> stream time of its first message
        self.truth = {}                            # dossier_id -> Truth
        self.forbidden = []                        # id numbers inside DLQ'd messages

    # ---- small helpers ----

    def eid(self):
        self.n_eid += 1
        style = self.n_eid % 5
        if style == 0:
            return "motcua:%s:%07d" % (self.a.seed, self.n_eid)
        if style == 1:
            return "ev.%s.%07d" % (self.a.seed, self.n_eid)
        return "ev-%s-%07d" % (self.a.seed, self.n_eid)

    def ts(self, us, offset=None, digits=None, strip=False):
        return format_rfc3339(us, offset or _pick(self.rng, OFFSET_MIX), digits, strip)

    def envelope(self, etype, did, occurred_us):
        rng = self.rng
        ev = {"event_id": self.eid(), "event_type": etype,
              "occurred_at": self.ts(occurred_us), "dossier_id": did}
        if rng.random() < 0.6:
            ev["source"] = rng.choice(SOURCES)
        if rng.random() < 0.2:
            ev["schema_version"] = 1
        return ev

    def extras(self, ev):
        """Unknown extra fields (must be ignored), sometimes non-ASCII."""
        r = self.rng.random()
        if r < 0.05:
            ev["trace"] = {"span": self.rng.randrange(1 << 30), "tags": ["a", 1, None, True]}
        elif r < 0.08:
            ev["ghi_chu"] = "Hồ sơ đất đai – cấp đổi"
        elif r < 0.10:
            ev["priority"] = 3.5
        return ev

    def encode(self, ev):
        if self.rng.random() < 0.1:
            text = json.dumps(ev, ensure_ascii=False, separators=(", ", ": "))
        else:
            text = json.dumps(ev, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8")

    # ---- time ----

    def pick_received_us(self):
        rng = self.rng
        y, m = rng.choice(self.months)
        start = month_start_us(y, m)
        if rng.random() < 0.15:
            # Around a month boundary in UTC+07 (inside --months when it spans
            # several months).  +2.5 h after local midnight is 19:30Z on the
            # last day of the previous month (2025-03-31T19:30:00Z -> 2025-04).
            if len(self.months) > 1:
                start = month_start_us(*rng.choice(self.months[1:]))
            delta = rng.choice([-US, 0, US, -1000, -30 * 60 * US, int(2.5 * HOUR_US),
                                -7 * HOUR_US, -7 * HOUR_US - US, 7 * HOUR_US])
            return start + delta
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        span_s = (month_start_us(ny, nm) - start) // US
        us = start + rng.randrange(span_s) * US
        if rng.random() < 0.1:
            us += rng.randrange(1, 1000) * 1000      # millisecond fraction
        return us

    # ---- one received dossier ----

    def dossier_id(self, unit, rec_us, n):
        y, m, d = civil_from_days((rec_us // US + VN_OFFSET_SECONDS) // 86400)
        return "%s-%02d%02d%02d-%05d" % (unit, y % 100, m, d, n)

    def build_received(self, n, pending, special):
        """Builds one received dossier's messages.  pending: None, "last" or
        "middle" (where its dossier.received goes)."""
        rng, a = self.rng, self.a
        unit = rng.choice(self.units)
        rec = self.pick_received_us()
        did = self.dossier_id(unit, rec, n)
        if special == "long_id":
            did = (did + "-" + "x" * 64)[:64]
        channel = _pick(rng, [("online", 55), ("in_person", 35), ("postal", 10)])
        due = rec + rng.randrange(2 * 24, 15 * 24) * HOUR_US if rng.random() < 0.8 else None
        tr = Truth(unit, rec, channel, due)
        facts = []                              # (time µs, event dict)

        receipt = self.envelope("dossier.received", did, rec + rng.randrange(0, 120) * US)
        receipt.update(unit_code=unit.lower() if rng.random() < 0.03 else unit,  # case-insensitive
                       procedure_code=rng.choice(PROCEDURES),
                       channel=channel, received_at=self.ts(rec))
        if due is not None:
            receipt["due_at"] = self.ts(due)
        if rng.random() < 0.5:
            receipt["applicant_type"] = rng.choice(APPLICANT_TYPES)
        if special == "long_eid":
            # no digit runs: tests grep stored rows for 12-digit (ID-number-like) runs
            receipt["event_id"] = ("ev-long-%s-" % a.seed + "abcdefghi:" * 13)[:128]
        self.extras(receipt)

        def fact(etype, t, **fields):
            ev = self.envelope(etype, did, t)
            ev.update(fields)
            self.extras(ev)
            facts.append((t, ev))
            return ev

        if rng.random() < 0.7:
            tr.comp = True
            fact("dossier.digitized", rec + rng.randrange(1, 7200) * US, scope="components")
        if rng.random() < 0.4:
            tr.reused = True
            ev = fact("dossier.data_reused", rec + rng.randrange(1, 3600) * US)
            if rng.random() < 0.7:
                ev["source"] = rng.choice(["digitized_store", "national_db", "other_dossier"])
        if rng.random() < 0.5:
            tr.tagged = True
            kind = _pick(rng, [("cid", 60), ("vneid", 25), ("cid_none", 10), ("vneid_num", 5)])
            ev = fact("dossier.id_tagged", rec + rng.randrange(1, 3600) * US,
                      id_kind="vneid" if kind.startswith("vneid") else "citizen_id")
            if kind in ("cid", "vneid_num"):
                ev["id_number"] = "0%011d" % rng.randrange(10 ** 11)
        for i in range(_pick(rng, [(0, 40), (1, 35), (2, 15), (3, 10)])):
            online = rng.random() < 0.6
            tr.payments.append(online)
            pid = "PAY-%s-%d-%d" % (a.seed, n, i)
            if special == "unicode_pid" and i == 0:
                pid = "Biên lai số %d/2025 #%d" % (n, i)
            ev = fact("dossier.paid", rec + rng.randrange(60, 3 * 86400) * US,
                      payment_id=pid, method="online" if online else "offline",
                      amount_vnd=rng.choice([0, 15000, 50000, 100000, 1250000, rng.randrange(1, 10 ** 7)]))
            if rng.random() < 0.5:
                ev["gateway"] = rng.choice(GATEWAYS)
        fin = None
        if rng.random() < 0.75:
            fin = rec + rng.randrange(HOUR_US // US, 20 * 86400) * US
            if due is not None and rng.random() < 0.12:
                fin = due                       # finished exactly at the deadline: on time
            electronic = rng.random() < 0.7
            tr.issued = (electronic, fin)
            fact("dossier.result_issued", fin, finished_at=self.ts(fin), electronic=electronic)
            if rng.random() < 0.7:
                tr.synced = True
                fact("dossier.synced", fin + rng.randrange(60, 2 * 86400) * US)
            if rng.random() < 0.45:
                tr.rated = rng.random() < 0.85
                fact("dossier.rated", fin + rng.randrange(60, 5 * 86400) * US, satisfied=tr.rated)
        elif rng.random() < 0.08:
            tr.synced = True                    # synced without a result: counts nowhere
            fact("dossier.synced", rec + rng.randrange(60, 86400) * US)
        if rng.random() < 0.6:
            tr.resdig = True
            base = fin if fin is not None else rec
            # sometimes before dossier.result_issued in the stream
            fact("dossier.digitized", base + rng.randrange(-3600, 86400) * US, scope="result")
        if fin is None and rng.random() < 0.05:
            tr.rated = rng.random() < 0.5       # rated without a result: still counts
            fact("dossier.rated", rec + rng.randrange(60, 86400) * US, satisfied=tr.rated)
        facts.sort(key=lambda f: f[0])
        msgs = [(t, Msg(did, self.encode(ev), None, ev["event_type"]), ev) for t, ev in facts]
        self.add_fact_hazards(did, n, msgs, tr)

        # place the receipt
        value = self.encode(receipt)
        if special == "exact_64k":           # the largest accepted message
            receipt["padding"] = ""
            receipt["padding"] = "p" * (MAX_MESSAGE_BYTES - len(compact(receipt)))
            value = compact(receipt)
            assert len(value) == MAX_MESSAGE_BYTES
        rmsg = Msg(did, value, None, "dossier.received")
        if pending == "last":
            idx = len(msgs)
        elif pending == "middle" and msgs:
            idx = rng.randrange(1, len(msgs) + 1)
        else:
            idx = 0
        msgs.insert(idx, (rec, rmsg, receipt))
        if rng.random() < a.dup_rate:
            self.insert_after(msgs, idx, (rec, Msg(did, rmsg.value, None, "duplicate receipt"), receipt))
        self.groups[did] = [m for _, m, _ in msgs]
        self.start[did] = min(t for t, _, _ in msgs)
        self.truth[did] = tr
        return did, receipt

    def insert_after(self, msgs, idx, item):
        msgs.insert(self.rng.randrange(idx + 1, len(msgs) + 1), item)

    def add_fact_hazards(self, did, n, msgs, tr):
        """Redeliveries and second events for facts already present; none of
        them may change the dossier's totals."""
        rng, a = self.rng, self.a
        originals = list(msgs)
        for item in originals:
            t, msg, ev = item
            idx = msgs.index(item)
            et = ev["event_type"]
            if rng.random() < a.dup_rate:       # exact redelivery
                self.insert_after(msgs, idx, (t, Msg(did, msg.value, None, "duplicate " + et), ev))
            if rng.random() < a.second_rate and et != "dossier.paid":
                ev2 = self.envelope(et, did, t + rng.randrange(1, 86400) * US)
                if et == "dossier.digitized":
                    ev2["scope"] = ev["scope"]  # same fact: same scope
                if et == "dossier.result_issued":
                    ev2["electronic"] = not ev["electronic"]
                    f2 = (tr.due_us + DAY_US) if tr.due_us is not None else tr.issued[1] + DAY_US
                    if tr.due_us is not None and tr.issued[1] > tr.due_us:
                        f2 = tr.due_us - HOUR_US      # would flip late -> on time
                    ev2["finished_at"] = self.ts(f2)
                elif et == "dossier.rated":
                    ev2["satisfied"] = not ev["satisfied"]
                elif et == "dossier.id_tagged":
                    ev2["id_kind"] = "vneid" if ev["id_kind"] == "citizen_id" else "citizen_id"
                    if ev2["id_kind"] == "citizen_id":
                        ev2["id_number"] = "%012d" % rng.randrange(10 ** 12)
                self.insert_after(msgs, idx, (t, Msg(did, self.encode(ev2), None, "second " + et), ev2))
            if et == "dossier.paid" and rng.random() < a.payment_repeat_rate:
                ev2 = self.envelope(et, did, t + rng.randrange(1, 86400) * US)
                ev2.update(payment_id=ev["payment_id"],
                           method="offline" if ev["method"] == "online" else "online",
                           amount_vnd=ev["amount_vnd"] + 1000)
                self.insert_after(msgs, idx, (t, Msg(did, self.encode(ev2), None,
                                                     "repeated payment_id"), ev2))
            if rng.random() < a.eid_reuse_rate:
                # another message with an already applied event_id: any content
                kind = rng.choice(["dossier.rated", "dossier.paid", "dossier.result_issued",
                                   "dossier.digitized", "dossier.synced", "dossier.id_tagged",
                                   "dossier.data_reused"])
                ev2 = self.template(kind, did)
                ev2["event_id"] = ev["event_id"]
                if kind == "dossier.paid":
                    ev2["payment_id"] = "PAY-REUSED-%s-%d" % (a.seed, n)
                self.insert_after(msgs, idx, (t, Msg(did, self.encode(ev2), None,
                                                     "event_id reuse " + kind), ev2))

    # ---- second receipts ----

    def second_receipt(self, did, receipt, conflict):
        """A second dossier.received for did: a conflict (DLQ) or the same
        values in another representation (accepted, changes nothing)."""
        rng = self.rng
        ev = dict(receipt)
        ev["event_id"] = self.eid()
        rec = parse_rfc3339(receipt["received_at"]) // 1000     # µs
        ev["occurred_at"] = self.ts(rec + rng.randrange(60, 86400) * US)
        ev.pop("padding", None)
        if conflict:
            kind = rng.choice(["unit", "procedure", "channel", "plus1s", "wallclock", "plus1ms"])
            if kind == "unit":
                ev["unit_code"] = rng.choice([u for u in self.units if u != receipt["unit_code"]]
                                             or [self.a.province + ".99"])
            elif kind == "procedure":
                ev["procedure_code"] = receipt["procedure_code"] + "-B"
            elif kind == "channel":
                ev["channel"] = rng.choice([c for c in CHANNELS if c != receipt["channel"]])
            elif kind == "plus1s":
                ev["received_at"] = self.ts(rec + US)
            elif kind == "plus1ms":
                ev["received_at"] = self.ts(rec + 1000, digits=3)
            else:
                # same wall clock, other offset: another instant
                off = receipt["received_at"][-6:] if receipt["received_at"][-1] != "Z" else "Z"
                other = "Z" if off != "Z" and OFFSET_MINUTES.get(off, 0) != 0 else "+07:00"
                wall = RFC3339_RE.fullmatch(receipt["received_at"])
                ev["received_at"] = receipt["received_at"][:wall.start(8)] + other
            label, intent = "conflicting receipt (%s)" % kind, "receipt_conflict"
        else:
            cur = receipt["received_at"]
            offs = [o for o in OFFSET_MINUTES if not cur.endswith(o)]
            ev["received_at"] = self.ts(rec, rng.choice(offs),
                                        digits=rng.choice([None, 3, 6]) if rec % 1000 == 0 else 6,
                                        strip=rng.random() < 0.3)
            # fields outside the conflict rule may differ: the first stands
            if rng.random() < 0.5:
                ev["due_at"] = self.ts(rec + 30 * DAY_US)
            if rng.random() < 0.3:
                ev["applicant_type"] = "other"
            if rng.random() < 0.3:              # unit codes are case-insensitive
                ev["unit_code"] = receipt["unit_code"].swapcase()
            label, intent = "same receipt, other representation", None
        self.insert_after_key(did, Msg(did, self.encode(ev), intent, label), after_receipt=True)

    def insert_after_key(self, key, msg, after_receipt=False):
        lst = self.groups.setdefault(key, [])
        lo = 0
        if after_receipt:
            lo = next(i for i, m in enumerate(lst) if m.label == "dossier.received") + 1
        lst.insert(self.rng.randrange(lo, len(lst) + 1), msg)

    # ---- dossiers never received ----

    def build_orphan(self, n):
        rng = self.rng
        unit = rng.choice(self.units)
        rec = self.pick_received_us()
        did = self.dossier_id(unit, rec, n) + "-NR"
        msgs = []
        for etype in rng.sample(["dossier.digitized", "dossier.data_reused", "dossier.id_tagged",
                                 "dossier.paid", "dossier.result_issued", "dossier.synced",
                                 "dossier.rated"], rng.randrange(1, 5)):
            ev = self.template(etype, did, rec + rng.randrange(1, 86400) * US)
            msgs.append(Msg(did, self.encode(ev), None, "never received " + etype))
        self.groups[did] = msgs
        self.start[did] = rec

    # ---- templates for malformed messages ----

    def template(self, etype, did, t=None):
        """A valid, ASCII-only event of etype for did."""
        rng = self.rng
        if t is None:
            t = self.pick_received_us() + rng.randrange(0, 5 * 86400) * US
        ev = {"event_id": self.eid(), "event_type": etype,
              "occurred_at": self.ts(t), "dossier_id": did, "source": "motcua.vinhlong"}
        if etype == "dossier.received":
            ev.update(unit_code=rng.choice(self.units), procedure_code=rng.choice(PROCEDURES),
                      channel=rng.choice(CHANNELS), received_at=self.ts(t),
                      due_at=self.ts(t + 10 * DAY_US), applicant_type="citizen")
        elif etype == "dossier.digitized":
            ev["scope"] = rng.choice(SCOPES)
        elif etype == "dossier.id_tagged":
            ev.update(id_kind="citizen_id", id_number="%012d" % rng.randrange(10 ** 12))
        elif etype == "dossier.paid":
            ev.update(payment_id="PAY-X-%d" % self.n_eid, method=rng.choice(METHODS),
                      amount_vnd=50000, gateway="dvcqg")
        elif etype == "dossier.result_issued":
            ev.update(finished_at=self.ts(t), electronic=rng.random() < 0.5)
        elif etype == "dossier.rated":
            ev["satisfied"] = rng.random() < 0.5
        return ev

    def build_malformed(self, i, target_dids):
        """The i-th malformed message: cycles through MALFORMED (all reasons
        first, then their other variants)."""
        reason, name, build = MALFORMED[i % len(MALFORMED)]
        did = self.rng.choice(target_dids) if target_dids else "HS-bad-%d" % i
        out = build(self, did)
        if isinstance(out, dict):
            value = compact(out)
            key = out.get("dossier_id")
            if out.get("event_type") == "dossier.id_tagged" and isinstance(out.get("id_number"), str):
                if len(out["id_number"]) >= 11:
                    self.forbidden.append(out["id_number"])
        else:
            value, key = out, did
        if not isinstance(key, str) or not key or "\t" in key or "\n" in key:
            self.n_bad += 1
            key = "bad-%d" % self.n_bad
        msg = Msg(key, value, reason, "malformed %s: %s" % (reason, name))
        if key in self.groups:
            self.insert_after_key(key, msg)
        else:
            self.groups[key] = [msg]

    # ---- the whole stream ----

    def generate(self):
        a, rng = self.a, self.rng
        n_rec = a.dossiers
        specials = {1: "long_id", 2: "long_eid", 3: "exact_64k", 4: "unicode_pid"}
        receipts = []
        for n in range(n_rec):
            r = rng.random()
            pending = "last" if r < a.pending_first else (
                "middle" if r < a.pending_first + a.pending_middle else None)
            receipts.append(self.build_received(n, pending, specials.get(n)))
        for n in range(a.never_received):
            self.build_orphan(n_rec + n)
        if receipts:
            picks = rng.sample(range(n_rec), min(n_rec, a.conflicts))
            for j in range(a.conflicts):
                self.second_receipt(*receipts[picks[j % len(picks)]], conflict=True)
            picks = rng.sample(range(n_rec), min(n_rec, a.same_receipts))
            for j in range(a.same_receipts):
                self.second_receipt(*receipts[picks[j % len(picks)]], conflict=False)
        targets = [did for did, _ in receipts]
        for i in range(a.malformed):
            self.build_malformed(i, targets)
        return self.interleave()

    def interleave(self):
        """Merges the per-key lists into one stream: a dossier enters the
        stream around its first event's time and its later messages follow
        over the next days, interleaved with other dossiers; each key keeps
        its own order.  Then --shuffle W permutes each window of W messages
        across keys only."""
        rng = self.rng
        t0 = month_start_us(*self.months[0])
        t1 = month_start_us(*self.months[-1]) + 40 * DAY_US
        stream = []
        for gi, (key, msgs) in enumerate(self.groups.items()):
            pos = self.start.get(key)
            if pos is None:                 # malformed-only keys: anywhere
                pos = t0 + rng.randrange((t1 - t0) // US) * US
            for k, m in enumerate(msgs):
                pos += rng.randrange(1, 2 * DAY_US)       # later facts arrive later
                m.pos = (pos, gi, k)
                stream.append(m)
        stream.sort(key=lambda m: m.pos)
        w = self.a.shuffle
        if w and w > 1:
            for start in range(0, len(stream), w):
                window = stream[start:start + w]
                perm = list(range(len(window)))
                rng.shuffle(perm)
                shuffled = [window[p] for p in perm]
                # each key's messages take the slots it got, in its own order
                own = collections.OrderedDict()
                for m in window:
                    own.setdefault(m.key, []).append(m)
                taken = {k: iter(v) for k, v in own.items()}
                stream[start:start + w] = [next(taken[m.key]) for m in shuffled]
        return stream

    def truth_totals(self):
        """Totals from the generator's own model (independent of the oracle)."""
        buckets = {}
        for tr in self.truth.values():
            period = cohort_period(tr.rec_us * 1000)
            province = tr.unit.split(".", 1)[0]
            for key in ((tr.unit, period), (province, period)):
                c = buckets.setdefault(key, dict.fromkeys(COUNT_COLUMNS, 0))
                c["received"] += 1
                c["online"] += tr.channel == "online"
                c["comp_digitized"] += tr.comp
                c["data_reused"] += tr.reused
                c["id_tagged"] += tr.tagged
                if tr.issued is not None:
                    c["issued"] += 1
                    c["result_digitized"] += tr.resdig
                    c["e_result"] += tr.issued[0]
                    c["synced"] += tr.synced
                    if tr.due_us is not None:
                        c["due_issued"] += 1
                        c["on_time"] += tr.issued[1] <= tr.due_us
                c["payments"] += len(tr.payments)
                c["payments_online"] += sum(tr.payments)
                if tr.rated is not None:
                    c["rated"] += 1
                    c["satisfied"] += tr.rated
        return totals_from_counts(buckets)


# ---- the malformed-message catalogue: (reason, name, builder(gen, did)) ----

def _mut(etype, fn):
    def build(g, did):
        ev = g.template(etype, did)
        fn(ev, g)
        return ev
    return build


def _raw(etype, fn):
    def build(g, did):
        ev = g.template(etype, did)
        return fn(compact(ev), ev, g)
    return build


def _pop(name):
    return lambda ev, g: ev.pop(name)


def _set(name, value):
    return lambda ev, g: ev.__setitem__(name, value)


def _size(target):
    def fn(ev, g):
        ev["padding"] = ""
        ev["padding"] = "x" * (target - len(compact(ev)))
    return fn


def _utf8(bad):
    def fn(raw, ev, g):
        return raw.replace(b'"motcua.vinhlong"', b'"motcua' + bad + b'"', 1)
    return fn


_V = {  # reason -> [(name, builder)], each message has exactly one defect
    "too_large": [
        ("65537 bytes", _mut("dossier.rated", _size(MAX_MESSAGE_BYTES + 1))),
        ("70000 bytes", _mut("dossier.result_issued", _size(70000))),
    ],
    "invalid_utf8": [
        ("0xff byte", _raw("dossier.rated", _utf8(b"\xff"))),
        ("truncated 2-byte sequence", _raw("dossier.synced", _utf8(b"\xc3"))),
        ("overlong encoding", _raw("dossier.digitized", _utf8(b"\xc0\xaf"))),
        ("encoded surrogate", _raw("dossier.paid", _utf8(b"\xed\xa0\x80"))),
        ("lone continuation byte", _raw("dossier.received", _utf8(b"\x80"))),
    ],
    "invalid_json": [
        ("truncated", _raw("dossier.received", lambda r, ev, g: r[:len(r) // 2])),
        ("trailing comma", _raw("dossier.rated", lambda r, ev, g: r[:-1] + b",}")),
        ("single quotes", _raw("dossier.synced", lambda r, ev, g: r.replace(b'"', b"'"))),
        ("trailing garbage", _raw("dossier.rated", lambda r, ev, g: r + b" x")),
        ("NaN", _raw("dossier.paid", lambda r, ev, g: r.replace(b":50000", b":NaN"))),
        ("unquoted key", _raw("dossier.digitized", lambda r, ev, g: r.replace(b'"scope"', b"scope"))),
        ("two objects", _raw("dossier.synced", lambda r, ev, g: r + r)),
    ],
    "not_object": [
        ("array", _raw("dossier.rated", lambda r, ev, g: b"[" + r + b"]")),
        ("string", lambda g, did: b'"dossier.received"'),
        ("number", lambda g, did: b"42"),
        ("null", lambda g, did: b"null"),
        ("true", lambda g, did: b"true"),
    ],
    "missing_field": [
        ("event_id", _mut("dossier.rated", _pop("event_id"))),
        ("event_type", _mut("dossier.synced", _pop("event_type"))),
        ("occurred_at", _mut("dossier.digitized", _pop("occurred_at"))),
        ("dossier_id", _mut("dossier.received", _pop("dossier_id"))),
        ("unit_code", _mut("dossier.received", _pop("unit_code"))),
        ("procedure_code", _mut("dossier.received", _pop("procedure_code"))),
        ("channel", _mut("dossier.received", _pop("channel"))),
        ("received_at", _mut("dossier.received", _pop("received_at"))),
        ("scope", _mut("dossier.digitized", _pop("scope"))),
        ("id_kind", _mut("dossier.id_tagged", _pop("id_kind"))),
        ("payment_id", _mut("dossier.paid", _pop("payment_id"))),
        ("method", _mut("dossier.paid", _pop("method"))),
        ("amount_vnd", _mut("dossier.paid", _pop("amount_vnd"))),
        ("finished_at", _mut("dossier.result_issued", _pop("finished_at"))),
        ("electronic", _mut("dossier.result_issued", _pop("electronic"))),
        ("satisfied", _mut("dossier.rated", _pop("satisfied"))),
    ],
    "wrong_type": [
        ("event_id number", _mut("dossier.rated", _set("event_id", 12345))),
        ("electronic string", _mut("dossier.result_issued", _set("electronic", "true"))),
        ("amount_vnd string", _mut("dossier.paid", _set("amount_vnd", "150000"))),
        ("satisfied number", _mut("dossier.rated", _set("satisfied", 1))),
        ("dossier_id number", _mut("dossier.received", _set("dossier_id", 20250306))),
        ("event_type number", _mut("dossier.synced", _set("event_type", 7))),
        ("occurred_at number", _mut("dossier.synced", _set("occurred_at", 1741223700))),
        ("schema_version string", _mut("dossier.rated", _set("schema_version", "1"))),
        ("source number", _mut("dossier.data_reused", _set("source", 3))),
        ("unit_code number", _mut("dossier.received", _set("unit_code", 61.07))),
        ("channel bool", _mut("dossier.received", _set("channel", True))),
        ("received_at number", _mut("dossier.received", _set("received_at", 1741223700))),
        ("due_at number", _mut("dossier.received", _set("due_at", 1741223700))),
        ("scope array", _mut("dossier.digitized", _set("scope", ["components"]))),
        ("id_kind number", _mut("dossier.id_tagged", _set("id_kind", 1))),
        ("payment_id number", _mut("dossier.paid", _set("payment_id", 991))),
        ("amount_vnd bool", _mut("dossier.paid", _set("amount_vnd", True))),
        ("method bool", _mut("dossier.paid", _set("method", False))),
        ("electronic number", _mut("dossier.result_issued", _set("electronic", 0))),
        ("satisfied string", _mut("dossier.rated", _set("satisfied", "yes"))),
        ("finished_at object", _mut("dossier.result_issued", _set("finished_at", {"t": 1}))),
        ("applicant_type number", _mut("dossier.received", _set("applicant_type", 2))),
    ],
    "invalid_value": [
        ("event_id with space", _mut("dossier.rated", _set("event_id", "ev 1"))),
        ("unit_code province alone", _mut("dossier.received", _set("unit_code", "H61"))),
        ("received_at without offset", _mut("dossier.received", _set("received_at", "2025-03-06T08:15:00"))),
        ("amount_vnd negative", _mut("dossier.paid", _set("amount_vnd", -5000))),
        ("citizen_id 11 digits", _mut("dossier.id_tagged", _set("id_number", "00109501234"))),
        ("channel fax", _mut("dossier.received", _set("channel", "fax"))),
        ("unit_code trailing dot", _mut("dossier.received", _set("unit_code", "H61."))),
        ("amount_vnd fraction", _mut("dossier.paid", _set("amount_vnd", 1500.5))),
        ("received_at month 13", _mut("dossier.received", _set("received_at", "2025-13-06T08:15:00+07:00"))),
        ("dossier_id too long", _mut("dossier.rated", lambda ev, g: ev.__setitem__("dossier_id", "D" * 65))),
        ("unit_code leading dot", _mut("dossier.received", _set("unit_code", ".07"))),
        ("citizen_id 13 digits", _mut("dossier.id_tagged", _set("id_number", "0010950123456"))),
        ("event_id slash", _mut("dossier.synced", _set("event_id", "ev/2025/1"))),
        ("event_id 129 chars", _mut("dossier.synced", _set("event_id", "e" * 129))),
        ("event_id empty", _mut("dossier.synced", _set("event_id", ""))),
        ("dossier_id with space", _mut("dossier.rated", _set("dossier_id", "HS 0001"))),
        ("dossier_id empty", _mut("dossier.rated", _set("dossier_id", ""))),
        ("channel wrong case", _mut("dossier.received", _set("channel", "Online"))),
        ("unit_code dash", _mut("dossier.received", _set("unit_code", "H61-07"))),
        ("unit_code prefix 11 chars", _mut("dossier.received", _set("unit_code", "ABCDEFGHIJK.01"))),
        ("unit_code suffix 41 chars", _mut("dossier.received", _set("unit_code", "H61." + "1" * 41))),
        ("procedure_code empty", _mut("dossier.received", _set("procedure_code", ""))),
        ("procedure_code space", _mut("dossier.received", _set("procedure_code", "1.0012 34"))),
        ("received_at Feb 30", _mut("dossier.received", _set("received_at", "2025-02-30T08:15:00+07:00"))),
        ("received_at hour 24", _mut("dossier.received", _set("received_at", "2025-03-06T24:00:00+07:00"))),
        ("received_at short offset", _mut("dossier.received", _set("received_at", "2025-03-06T08:15:00+7:00"))),
        ("received_at date only", _mut("dossier.received", _set("received_at", "2025-03-06"))),
        ("due_at garbage", _mut("dossier.received", _set("due_at", "next week"))),
        ("occurred_at no offset", _mut("dossier.rated", _set("occurred_at", "2025-03-06T08:15:00.123"))),
        ("finished_at month 00", _mut("dossier.result_issued", _set("finished_at", "2025-00-10T10:00:00Z"))),
        ("scope all", _mut("dossier.digitized", _set("scope", "all"))),
        ("id_kind passport", _mut("dossier.id_tagged", _set("id_kind", "passport"))),
        ("citizen_id letters", _mut("dossier.id_tagged", _set("id_number", "0010950123AB"))),
        ("method cash", _mut("dossier.paid", _set("method", "cash"))),
        ("payment_id empty", _mut("dossier.paid", _set("payment_id", ""))),
        ("payment_id control char", _mut("dossier.paid", _set("payment_id", "PAY\u0007-1"))),
        ("payment_id 129 chars", _mut("dossier.paid", _set("payment_id", "P" * 129))),
        ("gateway paypal", _mut("dossier.paid", _set("gateway", "paypal"))),
        ("applicant_type alien", _mut("dossier.received", _set("applicant_type", "alien"))),
        ("schema_version 0", _mut("dossier.rated", _set("schema_version", 0))),
        ("schema_version -1", _mut("dossier.synced", _set("schema_version", -1))),
        ("received_at year 0", _mut("dossier.received", _set("received_at", "0000-01-01T00:00:00Z"))),
        ("received_at year 1 +07:00", _mut("dossier.received", _set("received_at", "0001-01-01T03:00:00+07:00"))),
        ("received_at year 10000 after the offset",
         _mut("dossier.received", _set("received_at", "9999-12-31T23:59:59-05:00"))),
        ("received_at 10000-01 in Vietnam", _mut("dossier.received", _set("received_at", "9999-12-31T17:00:00Z"))),
        ("occurred_at before 1970", _mut("dossier.rated", _set("occurred_at", "1969-12-31T23:59:59.999Z"))),
        ("finished_at year 0", _mut("dossier.result_issued", _set("finished_at", "0000-03-01T00:00:00+07:00"))),
        ("due_at year 1", _mut("dossier.received", _set("due_at", "0001-01-01T00:00:00Z"))),
    ],
    "unknown_event_type": [
        ("dossier.archived", _mut("dossier.synced", _set("event_type", "dossier.archived"))),
        ("payment.refunded", _mut("dossier.paid", _set("event_type", "payment.refunded"))),
        ("wrong case", _mut("dossier.rated", _set("event_type", "dossier.Rated"))),
    ],
    "duplicate_key": [
        ("event_id twice", _raw("dossier.rated", lambda r, ev, g: r[:-1] + b',"event_id":"other-id"}')),
        ("nested name twice", _raw("dossier.synced",
                                   lambda r, ev, g: r[:-1] + b',"x":{"a":1,"b":{"c":[{"d":1,"d":2}]}}}')),
        ("unit_code twice", _raw("dossier.received", lambda r, ev, g: r[:-1] + b',"unit_code":"H61.99"}')),
        ("escaped spelling", _raw("dossier.synced", lambda r, ev, g: r[:-1] + b',"src":1,"\\u0073rc":2}')),
    ],
    "nul_character": [
        ("event_id a\\u0000junk", _mut("dossier.rated", _set("event_id", "a\u0000junk"))),
        ("payment_id with U+0000", _mut("dossier.paid", _set("payment_id", "PAY-1\u0000tail"))),
        ("U+0000 in a nested name", _mut("dossier.synced", _set("extra", [{"k\u0000": 1}]))),
        ("unit_code with U+0000", _mut("dossier.received", _set("unit_code", "H61.07\u0000"))),
    ],
    "unsupported_schema_version": [
        ("2", _mut("dossier.received", _set("schema_version", 2))),
        ("3", _mut("dossier.rated", _set("schema_version", 3))),
        ("2 on a payment", _mut("dossier.paid", _set("schema_version", 2))),
    ],
}


def _round_robin():
    """All variants, reason by reason in turn: the first len(REASONS) - 1
    messages (11) cover every malformed reason, and len(MALFORMED) (119) cover
    every variant."""
    out, i = [], 0
    keys = list(_V)
    while any(i < len(_V[k]) for k in keys):
        for k in keys:
            if i < len(_V[k]):
                name, build = _V[k][i]
                out.append((k, name, build))
        i += 1
    return out


MALFORMED = _round_robin()


# --------------------------------------------------------------------------
# Subcommands
# --------------------------------------------------------------------------

def cmd_gen(a):
    if a.second_rate is None:
        a.second_rate = a.dup_rate
    if a.eid_reuse_rate is None:
        a.eid_reuse_rate = a.dup_rate / 2
    if a.payment_repeat_rate is None:
        a.payment_repeat_rate = min(1.0, 2 * a.dup_rate)
    if a.same_receipts is None:
        a.same_receipts = a.conflicts
    if a.never_received is None:
        a.never_received = max(1, a.dossiers // 50)
    g = Generator(a)
    stream = g.generate()

    oracle = Oracle()
    labels = open(a.out_labels, "w", encoding="utf-8") if a.out_labels else None
    with open(a.out_events, "wb") as f:
        for lineno, m in enumerate(stream, 1):
            if labels:
                labels.write("%d\t%s\t%s\t%s\n" % (lineno, m.key, m.intent or "accepted", m.label))
            key = m.key.encode("utf-8")
            assert b"\t" not in key and b"\n" not in key and b"\n" not in m.value
            f.write(key + b"\t" + m.value + b"\n")
            got = oracle.feed(m.value)
            if got != m.intent:             # generator and validator must agree
                raise AssertionError("message %r (%s): oracle says %r, generator meant %r"
                                     % (m.value[:200], m.label, got, m.intent))
    if labels:
        labels.close()
    totals = oracle.totals()
    truth = g.truth_totals()
    if totals != truth:
        diff = [k for k in sorted(set(totals) | set(truth)) if totals.get(k) != truth.get(k)]
        raise AssertionError("oracle and generator model disagree on %s" % diff[:5])
    gen_args = {k: v for k, v in sorted(vars(a).items())
                if k not in ("func", "out_events", "out_expected", "out_labels", "cmd")}
    expected = oracle.expected(generator=gen_args,
                               dlq_forbidden_substrings=sorted(set(g.forbidden)))
    write_json(a.out_expected, expected)
    print("gen: %d messages, %d accepted, %d dead-lettered %s, %d buckets -> %s, %s"
          % (oracle.messages, oracle.accepted, sum(oracle.dlq.values()),
             dict(sorted(oracle.dlq.items())), len(totals), a.out_events, a.out_expected),
          file=sys.stderr)
    return 0


def cmd_expect(a):
    oracle = Oracle(a.store_refuses.encode() if a.store_refuses else None)
    for _, value in read_stream(a.events):
        oracle.feed(value)
    write_json(a.out_expected, oracle.expected(generator={"events": a.events}))
    print("expect: %d messages, %d accepted, dlq %s, %d buckets"
          % (oracle.messages, oracle.accepted, dict(sorted(oracle.dlq.items())),
             len(oracle.totals())), file=sys.stderr)
    return 0


TOTALS_SQL = ("SELECT unit_code, period, indicator, numerator, denominator "
              "FROM indicator_totals")


def read_db_totals(dsn, psql="psql"):
    """{(unit, period, indicator): (num, den)} from the indicator_totals view."""
    cmd = [psql, "-X", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", dsn, "-c", TOTALS_SQL]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("psql failed (%d): %s" % (p.returncode, p.stderr.decode(errors="replace").strip()))
    rows = {}
    for line in p.stdout.decode("utf-8").splitlines():
        if not line.strip():
            continue
        parts = line.split("|")
        if len(parts) != 5:
            raise RuntimeError("unexpected psql line: %r" % line)
        unit, period, ind, num, den = parts
        key = (unit, period, ind)
        if key in rows:
            raise RuntimeError("duplicate row in indicator_totals: %r" % (key,))
        rows[key] = (int(num), int(den))
    return rows


def flatten_expected(totals):
    rows = {}
    for bucket, inds in totals.items():
        unit, period = bucket.split("|")
        for ind, (num, den) in inds.items():
            rows[(unit, period, ind)] = (int(num), int(den))
    return rows


def compare_totals(expected_rows, actual_rows):
    """Differences as strings; (0, 0) and absent are the same."""
    diffs = []
    for key in sorted(set(expected_rows) | set(actual_rows)):
        e = expected_rows.get(key, (0, 0))
        g = actual_rows.get(key, (0, 0))
        if e != g:
            diffs.append("totals %s %s %-18s expected %d/%d, database %d/%d%s"
                         % (key[0], key[1], key[2], e[0], e[1], g[0], g[1],
                            "" if key in actual_rows else " (row missing)"))
    return diffs


def parse_dlq_headers(lines, header=DLQ_REASON_HEADER):
    """Counts reasons in lines printed by `kcat -C -e -f '%h\\n'` (headers as
    name=value pairs separated by commas).  A line without the header counts
    as "<no reason header>"."""
    pat = re.compile(r"(?:^|,)" + re.escape(header) + r"=([^,]*)")
    counts = collections.Counter()
    for line in lines:
        line = line.rstrip("\r\n")
        m = pat.search(line)
        counts[m.group(1).strip() if m else "<no reason header>"] += 1
    return counts


def cmd_check(a):
    with open(a.expected, encoding="utf-8") as f:
        expected = json.load(f)
    try:
        actual = read_db_totals(a.dsn, a.psql)
    except (RuntimeError, OSError) as e:
        print("check: ERROR %s" % e, file=sys.stderr)
        return 2
    exp_rows = flatten_expected(expected["totals"])
    diffs = compare_totals(exp_rows, actual)
    dlq_note = ""
    if a.dlq_file:
        with open(a.dlq_file, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        got = parse_dlq_headers(lines, a.reason_header)
        want = collections.Counter({k: v for k, v in expected.get("dlq", {}).items() if v})
        for reason in sorted(set(got) | set(want)):
            if got[reason] != want[reason]:
                diffs.append("dlq %-28s expected %d, topic %d" % (reason, want[reason], got[reason]))
        for s in expected.get("dlq_forbidden_substrings", []):
            if any(s in line for line in lines):
                diffs.append("dlq headers contain personal data (an id_number from a message)")
                break
        dlq_note = ", %d DLQ messages" % sum(got.values())
    nonzero = sum(1 for v in exp_rows.values() if v != (0, 0))
    if diffs:
        print("check: %d differences (showing %d):" % (len(diffs), min(20, len(diffs))))
        for d in diffs[:20]:
            print("  " + d)
        print("check: FAIL %d differences; %d expected non-zero rows, %d database rows%s"
              % (len(diffs), nonzero, len(actual), dlq_note))
        return 1
    print("check: OK %d non-zero indicator rows over %d buckets match%s"
          % (nonzero, len(expected["totals"]), dlq_note))
    return 0


# ---- bench-gen: fast, valid events only ----

BENCH_POOL = ["comp", "reused", "tagged", "paid1", "paid2", "issued", "resdig",
              "synced", "rated", "paid3"]
BENCH_ORDER = {k: i for i, k in enumerate(BENCH_POOL)}


def cmd_bench_gen(a):
    rng = random.Random("tthc-bench:%s" % a.seed)
    rand, randrange = rng.random, rng.randrange
    D = min(a.dossiers, a.events)
    extra_total = a.events - D
    cap = len(BENCH_POOL)
    if extra_total > D * cap:
        raise SystemExit("bench-gen: at most %d events per dossier" % (cap + 1))
    extras = [0] * D
    for _ in range(extra_total):
        i = randrange(D)
        while extras[i] >= cap:
            i = randrange(D)
        extras[i] += 1

    units = make_units(a.province, a.units)
    months = parse_months(a.months)
    first_day = days_from_civil(*months[0], 1)
    ly, lm = months[-1]
    last_day = days_from_civil(ly + (lm == 12), 1 if lm == 12 else lm + 1, 1)
    n_days = last_day - first_day
    dates = []
    for dd in range(first_day, last_day + 40):
        y, m, d = civil_from_days(dd)
        dates.append("%04d-%02d-%02d" % (y, m, d))

    def ts(day, sec):                      # local UTC+07 time as RFC 3339
        day += sec // 86400
        sec %= 86400
        return "%sT%02d:%02d:%02d+07:00" % (dates[day], sec // 3600, sec // 60 % 60, sec % 60)

    seed = a.seed
    span = float(D)                        # stream positions: receipt i at ~i
    lag_mean = max(1.0, D * 0.02)          # later facts ~2 % of the stream later
    out = []
    append = out.append
    for i in range(D):
        unit = units[randrange(len(units))]
        did = "%s-%s-%07d" % (unit, seed, i)
        day = int(i * n_days / D)
        sec = randrange(86400)
        pos = i + rand()
        ch = "online" if rand() < 0.6 else ("in_person" if rand() < 0.85 else "postal")
        head = '{"event_id":"b%s-%d-' % (seed, i)
        tail = ',"dossier_id":"%s"' % did
        due_day = day + 5 + randrange(10)
        append((pos, '%s\t%s0","event_type":"dossier.received","occurred_at":"%s"%s,'
                     '"unit_code":"%s","procedure_code":"1.00%04d","channel":"%s",'
                     '"received_at":"%s","due_at":"%sT17:00:00+07:00"}\n'
                % (did, head, ts(day, sec), tail, unit, i % 3000, ch, ts(day, sec), dates[due_day])))
        k = extras[i]
        if not k:
            continue
        facts = rng.sample(BENCH_POOL, k)
        facts.sort(key=BENCH_ORDER.__getitem__)
        t = pos
        fday = day
        for j, f in enumerate(facts, 1):
            t += rng.expovariate(1.0 / lag_mean) / k
            if f == "comp":
                body = '"dossier.digitized","occurred_at":"%s"%s,"scope":"components"' % (ts(fday, sec + 600), tail)
            elif f == "resdig":
                body = '"dossier.digitized","occurred_at":"%s"%s,"scope":"result"' % (ts(fday + 3, sec), tail)
            elif f == "reused":
                body = '"dossier.data_reused","occurred_at":"%s"%s,"source":"national_db"' % (ts(fday, sec + 300), tail)
            elif f == "tagged":
                body = '"dossier.id_tagged","occurred_at":"%s"%s,"id_kind":"vneid"' % (ts(fday, sec + 120), tail)
            elif f.startswith("paid"):
                body = ('"dossier.paid","occurred_at":"%s"%s,"payment_id":"P%d-%s","method":"%s","amount_vnd":%d'
                        % (ts(fday + 1, sec), tail, i, f[-1], "online" if rand() < 0.6 else "offline",
                           randrange(1, 200) * 5000))
            elif f == "issued":
                fday = day + 1 + randrange(14)
                body = ('"dossier.result_issued","occurred_at":"%s"%s,"finished_at":"%s","electronic":%s'
                        % (ts(fday, sec), tail, ts(fday, sec), "true" if rand() < 0.7 else "false"))
            elif f == "synced":
                body = '"dossier.synced","occurred_at":"%s"%s' % (ts(fday + 1, sec), tail)
            else:
                body = '"dossier.rated","occurred_at":"%s"%s,"satisfied":%s' % (
                    ts(fday + 2, sec), tail, "true" if rand() < 0.88 else "false")
            append((t, '%s\t%s%d","event_type":%s}\n' % (did, head, j, body)))
    del extras
    out.sort()
    with open(a.out, "w", encoding="ascii", newline="\n") as f:
        f.writelines(line for _, line in out)
    size = os.path.getsize(a.out)
    print("bench-gen: %d events over %d dossiers, %.0f bytes/event -> %s"
          % (len(out), D, size / max(1, len(out)), a.out), file=sys.stderr)
    return 0


# --------------------------------------------------------------------------

# --------------------------------------------------------------------------
# QĐ 766/QĐ-TTg: the national portal's score (docs/qd766.md), an independent
# implementation: Python decimal arithmetic at 60 digits, ROUND_HALF_UP, each
# figure from ONE division of integers.  (Exact to the last digit: such a
# quotient is either a terminating decimal, computed exactly, or at least
# 1/(2 d T) away from every tie, far beyond the 60th digit.)
# --------------------------------------------------------------------------

import decimal
from decimal import Decimal, ROUND_HALF_UP

QD_CTX = decimal.Context(prec=60, rounding=ROUND_HALF_UP)
QD_CENT = Decimal("0.01")

# code: (max points, threshold % or None, rule, zero-denominator rule)
#   rule: rate | constant | informational | composite
#   zero: zero (ratio 0, score 0) | null (both null) | full (ratio 0, score max)
#         | ratio_only (ratio 0, score null) | part (composite: that part 0)
QD766_METRICS = {
    "DVC_PROGRESS": (20, 100, "rate", "zero"),
    "ORIGINAL_RESULT_AVAILABLE": (6, 100, "rate", "null"),
    "SO_HOA_GIAY_TO_GIAI_QUYET": (4, 100, "rate", "null"),
    "REUSED_DIGITIZED_DATA": (2, 80, "rate", "null"),
    "SYNCED_WITH_DVCQG_PERSONAL_STORAGE": (4, 100, "rate", "null"),
    "CITIZEN_DATA_CONNECTED_DOSSIER": (2, 100, "rate", "null"),
    "CITIZEN_DATA_CONNECTED_FORMALITY": (2, 100, "rate", "null"),
    "ELECTRONIC_CERTIFIED_COPY": (2, None, "constant", None),
    "DOSSIER_RECEIVING_SATISFACTION": (6, 90, "rate", "zero"),
    "PETITION_PROCESSING_ON_TIME": (6, 100, "rate", "full"),
    "PETITION_HANDLING_SATISFACTION": (6, 100, "rate", "full"),
    "PETITION_CLASSIFICATION_TTHC": (0, None, "informational", "ratio_only"),
    "PETITION_CLASSIFICATION_STAFF": (0, None, "informational", "ratio_only"),
    "ONLINE_PAYMENT_TOTAL": (10, None, "composite", "part"),
}
QD766_GROUPS = {"transparency": 18, "progress": 20, "online_services": 12, "online_payment": 10,
                "satisfaction": 18, "digitization": 22}
# metric -> (group, stream numerator, stream denominator) for what the stream determines
QD766_STREAM = {
    "DVC_PROGRESS": ("progress", "on_time", "received"),
    "ORIGINAL_RESULT_AVAILABLE": ("digitization", "e_result", "received"),
    "SO_HOA_GIAY_TO_GIAI_QUYET": ("digitization", "comp_digitized", "received"),
    "REUSED_DIGITIZED_DATA": ("digitization", "data_reused", "received"),
    "SYNCED_WITH_DVCQG_PERSONAL_STORAGE": ("digitization", "reused_store", "received"),
    "CITIZEN_DATA_CONNECTED_DOSSIER": ("digitization", "id_tagged", "received"),
    "DOSSIER_RECEIVING_SATISFACTION": ("satisfaction", "satisfaction", "received"),
    "ONLINE_PAYMENT_TOTAL": ("online_payment", "paid_online", "paid"),
}
QD766_OTHER = {  # metrics known without the stream, or needing another feed: group
    "CITIZEN_DATA_CONNECTED_FORMALITY": "digitization", "ELECTRONIC_CERTIFIED_COPY": "digitization",
    "PETITION_PROCESSING_ON_TIME": "satisfaction", "PETITION_HANDLING_SATISFACTION": "satisfaction",
    "PETITION_CLASSIFICATION_TTHC": "satisfaction", "PETITION_CLASSIFICATION_STAFF": "satisfaction",
}


def qd_r2(x):
    return x.quantize(QD_CENT, rounding=ROUND_HALF_UP, context=QD_CTX)


def qd_p(n, d):
    """100 n / d, unrounded (60 digits)."""
    return QD_CTX.divide(Decimal(100 * n), Decimal(d))


def qd766_ratio(code, n, d):
    mx, t, rule, zero = QD766_METRICS[code]
    if rule == "constant":
        return Decimal("100.00")
    if d == 0:
        return None if zero == "null" else Decimal("0.00")
    return qd_r2(qd_p(n, d))


def qd766_score(code, n, d):
    """The metric's score, or None where the portal gives null.  KeyError for
    an unknown code."""
    mx, t, rule, zero = QD766_METRICS[code]
    if rule == "constant":
        return qd_r2(Decimal(mx))
    if rule == "informational":
        return None
    if rule == "composite":
        raise ValueError("composite: use qd766_online_payment")
    if d == 0:
        return {"zero": Decimal("0.00"), "full": qd_r2(Decimal(mx)), "null": None}[zero]
    if 100 * n >= t * d:                    # p >= T: full points
        return qd_r2(Decimal(mx))
    # max * p / T in ONE division: a chain (p, then / T, then * max) rounds at
    # each step and turns an exact tie such as 6 * 14/96 = 0.875 into 0.8749...
    return qd_r2(QD_CTX.divide(Decimal(mx * 100 * n), Decimal(d) * Decimal(t)))


def qd_q(n, d):
    return Decimal("0.00") if d == 0 else qd_r2(qd_p(n, d))


def qd766_online_payment_part_ab(a, b):
    return qd_r2(QD_CTX.divide(QD_CTX.multiply(Decimal(6), min(Decimal(100), qd_q(a, b))), Decimal(100)))


def qd766_online_payment(a, b, c, d, e, f):
    def cat(n, m):
        return qd_r2(QD_CTX.divide(2 * min(Decimal(100), QD_CTX.divide(qd_q(n, m), Decimal("0.8"))), Decimal(100)))
    return qd_r2(cat(c, d) + cat(e, f) + qd766_online_payment_part_ab(a, b))


def period_end_ns(period):
    """The instant month 'YYYY-MM' ends in Vietnam time (the next month's first instant)."""
    y, m = int(period[:4]), int(period[5:7])
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return (days_from_civil(y, m, 1) * 86400 - VN_OFFSET_SECONDS) * NS


def qd766_counts(oracle, at_ns, p_from="0000-00", p_to="9999-99", per_month=True):
    """{(unit or province, period): counts} of the received dossiers of months
    p_from..p_to, each evaluated at the end of its month (per_month) or of the
    range, never later than at_ns."""
    out = {}
    for d in oracle.dossiers.values():
        if not d.received or not (p_from <= d.period <= p_to):
            continue
        if per_month:
            label, end = d.period, period_end_ns(d.period)
        else:
            label, end = (p_from if p_from == p_to else p_from + ".." + p_to), period_end_ns(p_to)
        e = min(end, at_ns)
        if d.due_at is None:
            on_time = True
        elif d.issued:
            on_time = d.finished_at <= d.due_at
        else:
            on_time = d.due_at >= e         # not passed at the evaluation instant
        row = {"received": 1, "on_time": int(on_time), "e_result": int(bool(d.issued and d.electronic)),
               "comp_digitized": int(d.comp_digitized), "data_reused": int(d.data_reused),
               "reused_store": int(d.data_reused and d.reuse_source == "digitized_store"),
               "id_tagged": int(d.id_tagged), "unsatisfied": int(d.rated and d.satisfied is False),
               "paid": int(len(d.payments) > 0), "paid_online": int(any(d.payments.values()))}
        province = d.unit_code.split(".", 1)[0]
        for key in ((d.unit_code, label), (province, label)):
            acc = out.setdefault(key, dict.fromkeys(row, 0))
            for k, v in row.items():
                acc[k] += v
    for c in out.values():
        c["satisfaction"] = max(0, c["on_time"] - c["unsatisfied"])
    return out


def qd766_metrics_of(c):
    """{code: {...}} and {group: {...}} of one bucket's counts."""
    metrics, groups = {}, {g: [Decimal(0), Decimal(0)] for g in QD766_GROUPS}
    for code, (group, num, den) in QD766_STREAM.items():
        n, d = c[num], c[den]
        if code == "ONLINE_PAYMENT_TOTAL":
            part = qd766_online_payment_part_ab(n, d)
            metrics[code] = {"numerator": n, "denominator": d, "ratio": qd_q(n, d), "score": None,
                             "status": "partial", "points_known": part, "max_known": Decimal(6)}
        else:
            sc = qd766_score(code, n, d)
            metrics[code] = {"numerator": n, "denominator": d, "ratio": qd766_ratio(code, n, d), "score": sc,
                             "status": "known", "points_known": sc if sc is not None else Decimal(0),
                             "max_known": Decimal(QD766_METRICS[code][0])}
    for code, group in QD766_OTHER.items():
        if QD766_METRICS[code][2] == "constant":
            metrics[code] = {"numerator": None, "denominator": None, "ratio": qd766_ratio(code, 0, 0),
                             "score": qd766_score(code, 0, 0), "status": "known",
                             "points_known": qd766_score(code, 0, 0), "max_known": Decimal(QD766_METRICS[code][0])}
        else:
            metrics[code] = {"numerator": None, "denominator": None, "ratio": None, "score": None,
                             "status": "unknown", "points_known": Decimal(0), "max_known": Decimal(0)}
    for code, m in metrics.items():
        group = QD766_STREAM[code][0] if code in QD766_STREAM else QD766_OTHER[code]
        groups[group][0] += m["points_known"]
        groups[group][1] += m["max_known"]
    gout = {g: {"points_known": qd_r2(v[0]), "max_known": v[1], "max_unknown": QD766_GROUPS[g] - v[1]}
            for g, v in groups.items()}
    return metrics, gout


def _qd_str(v):
    return None if v is None else str(v)


def cmd_qd766_pairs(a):
    """COPY text: code, n, d, ratio, score (\\N for null); with --composite:
    a..f and the composite score."""
    rng = random.Random(a.seed)
    out = sys.stdout
    codes = [c for c, m in QD766_METRICS.items() if m[2] != "composite"] if not a.metric else a.metric

    def den():
        k = rng.random()
        if k < 0.02:
            return 0
        if k < 0.45:
            return rng.randint(1, 400)          # small: many exact ties
        if k < 0.8:
            return rng.randint(1, 10 ** rng.randint(3, 9))
        return rng.randint(1, 10 ** rng.randint(10, 15))

    def num(d, t):
        k = rng.random()
        if d == 0:
            return 0 if k < 0.9 else rng.randint(1, 5)
        if k < 0.15 and t:                      # near the threshold
            return max(0, min(d, (d * t) // 100 + rng.randint(-2, 2)))
        if k < 0.2:
            return d
        return rng.randint(0, d)

    n_rows = 0
    if a.composite:
        for _ in range(a.count):
            v = []
            for _ in range(3):
                d = den()
                v += [num(d, 80), d]
            a_, b_, c_, d_, e_, f_ = v
            out.write("%d\t%d\t%d\t%d\t%d\t%d\t%s\n" % (a_, b_, c_, d_, e_, f_,
                                                         qd766_online_payment(a_, b_, c_, d_, e_, f_)))
            n_rows += 1
    else:
        for code in codes:
            t = QD766_METRICS[code][1]
            for _ in range(a.count):
                d = den()
                n = num(d, t)
                r, sc = qd766_ratio(code, n, d), qd766_score(code, n, d)
                out.write("%s\t%d\t%d\t%s\t%s\n" % (code, n, d, "\\N" if r is None else r,
                                                    "\\N" if sc is None else sc))
                n_rows += 1
    print("qd766-pairs: %d rows" % n_rows, file=sys.stderr)
    return 0


def cmd_qd766_expect(a):
    oracle = Oracle()
    for _, value in read_stream(a.events):
        oracle.feed(value)
    at = parse_rfc3339(a.at)
    if at is None:
        raise SystemExit("qd766-expect: --at must be RFC 3339 with an offset")
    out = {"at": a.at, "from": a.period_from, "to": a.period_to, "per_month": not a.range, "buckets": {}}
    counts = qd766_counts(oracle, at, a.period_from, a.period_to, not a.range)
    for (unit, period), c in sorted(counts.items()):
        metrics, groups = qd766_metrics_of(c)
        out["buckets"]["%s|%s" % (unit, period)] = {
            "counts": c,
            "metrics": {k: {f: (_qd_str(v) if isinstance(v, Decimal) else v) for f, v in m.items()}
                        for k, m in sorted(metrics.items())},
            "groups": {k: {f: _qd_str(v) for f, v in g.items()} for k, g in sorted(groups.items())},
        }
    write_json(a.out_expected, out)
    print("qd766-expect: %d buckets at %s" % (len(counts), a.at), file=sys.stderr)
    return 0


def _psql_rows(dsn, sql, psql="psql"):
    cmd = [psql, "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", dsn, "-c", sql]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("psql failed: %s" % p.stderr.decode(errors="replace").strip())
    return [line.split("\t") for line in p.stdout.decode("utf-8").splitlines() if line]


def _num_eq(db, want):
    if want is None:
        return db == ""
    return db != "" and Decimal(db) == Decimal(want)


def cmd_qd766_check(a):
    exp = json.load(open(a.expected, encoding="utf-8"))
    lit = lambda s: "'" + s.replace("'", "''") + "'"
    args = "%s, %s, %s::timestamptz, %s" % (lit(exp["from"]), lit(exp["to"]), lit(exp["at"]),
                                           "true" if exp["per_month"] else "false")
    bad, seen = [], set()
    for row in _psql_rows(a.dsn, "SELECT unit_code, period, metric_code, coalesce(numerator::text, ''), "
                                 "coalesce(denominator::text, ''), coalesce(ratio::text, ''), "
                                 "coalesce(score::text, ''), status, points_known, max_known "
                                 "FROM qd766_metrics(%s)" % args, a.psql):
        unit, period, code, n, d, ratio, score, status, pk, mk = row
        key = "%s|%s" % (unit, period)
        seen.add(key)
        b = exp["buckets"].get(key)
        if b is None:
            bad.append("%s: in the database, not expected" % key)
            continue
        m = b["metrics"][code]
        got = (n, d, status)
        want = ("" if m["numerator"] is None else str(m["numerator"]),
                "" if m["denominator"] is None else str(m["denominator"]), m["status"])
        if got != want or not _num_eq(ratio, m["ratio"]) or not _num_eq(score, m["score"]) \
                or not _num_eq(pk, m["points_known"]) or not _num_eq(mk, m["max_known"]):
            bad.append("%s %s: database %r, oracle %r" % (key, code, row[3:], m))
    for row in _psql_rows(a.dsn, "SELECT unit_code, period, group_code, points_known, max_known, max_unknown "
                                 "FROM qd766_groups(%s)" % args, a.psql):
        unit, period, g, pk, mk, mu = row
        want = exp["buckets"].get("%s|%s" % (unit, period), {}).get("groups", {}).get(g)
        if not want or not (_num_eq(pk, want["points_known"]) and _num_eq(mk, want["max_known"])
                            and _num_eq(mu, want["max_unknown"])):
            bad.append("%s|%s group %s: database %r, oracle %r" % (unit, period, g, row[3:], want))
    missing = sorted(set(exp["buckets"]) - seen)
    bad += ["%s: expected, not in the database" % k for k in missing]
    if bad:
        print("qd766-check: %d differences, first: %s" % (len(bad), "\n  ".join(bad[:10])), file=sys.stderr)
        return 1
    print("qd766-check: %d buckets x %d metrics equal the oracle (at %s)"
          % (len(seen), len(QD766_METRICS), exp["at"]), file=sys.stderr)
    return 0


def build_parser():
    p = argparse.ArgumentParser(prog="tthc_stream.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    g = sub.add_parser("gen", help="test stream + expected totals")
    g.add_argument("--seed", required=True)
    g.add_argument("--dossiers", type=int, required=True, help="received dossiers")
    g.add_argument("--out-events", required=True)
    g.add_argument("--out-expected", required=True)
    g.add_argument("--units", type=int, default=12)
    g.add_argument("--province", default="H61")
    g.add_argument("--months", default="2025-01..2025-06")
    g.add_argument("--dup-rate", type=float, default=0.05,
                   help="probability that a valid message is redelivered as is")
    g.add_argument("--second-rate", type=float, default=None,
                   help="probability of a second event for a fact, other event_id and values "
                        "(default: --dup-rate)")
    g.add_argument("--payment-repeat-rate", type=float, default=None,
                   help="probability that a payment_id comes again with another method "
                        "(default: 2 x --dup-rate)")
    g.add_argument("--eid-reuse-rate", type=float, default=None,
                   help="probability that an applied event_id comes again with other content "
                        "(default: --dup-rate / 2)")
    g.add_argument("--malformed", type=int, default=20,
                   help="malformed messages (the first %d cover every reason; %d variants)"
                        % (len(REASONS) - 1, len(MALFORMED)))
    g.add_argument("--conflicts", type=int, default=10, help="conflicting second receipts")
    g.add_argument("--same-receipts", type=int, default=None,
                   help="second receipts with the same values in another representation "
                        "(default: --conflicts)")
    g.add_argument("--pending-first", type=float, default=0.1,
                   help="fraction of dossiers whose dossier.received comes last")
    g.add_argument("--pending-middle", type=float, default=0.05,
                   help="fraction of dossiers whose dossier.received comes after some facts")
    g.add_argument("--never-received", type=int, default=None,
                   help="dossiers with facts but no receipt (default: dossiers/50, at least 1)")
    g.add_argument("--shuffle", type=int, default=0,
                   help="permute each window of W messages across dossiers")
    g.add_argument("--out-labels", help="also write LINE<TAB>KEY<TAB>accepted|reason<TAB>what, "
                                        "one line per message (for debugging)")
    g.set_defaults(func=cmd_gen)

    e = sub.add_parser("expect", help="run the oracle over a KEY<TAB>JSON file")
    e.add_argument("--events", required=True)
    e.add_argument("--out-expected", required=True)
    e.add_argument("--store-refuses", metavar="MARKER",
                   help="valid messages whose bytes hold MARKER are refused by the database (a test makes "
                        "it so): expected in the DLQ as rejected_by_store, not applied")
    e.set_defaults(func=cmd_expect)

    c = sub.add_parser("check", help="compare the database (and DLQ) with an expected file")
    c.add_argument("--expected", required=True)
    c.add_argument("--dsn", required=True)
    c.add_argument("--dlq-file", help="output of kcat -C -e -f '%%h\\n' on the DLQ topic")
    c.add_argument("--reason-header", default=DLQ_REASON_HEADER)
    c.add_argument("--psql", default="psql", help="psql executable")
    c.set_defaults(func=cmd_check)

    b = sub.add_parser("bench-gen", help="fast generator of valid events")
    b.add_argument("--events", type=int, required=True)
    b.add_argument("--units", type=int, default=150)
    b.add_argument("--dossiers", type=int, default=250000)
    b.add_argument("--seed", default="1")
    b.add_argument("--province", default="H61")
    b.add_argument("--months", default="2025-01..2025-06")
    b.add_argument("--out", required=True)
    b.set_defaults(func=cmd_bench_gen)

    q = sub.add_parser("qd766-pairs", help="random QD 766 (numerator, denominator) pairs with the oracle's "
                                           "ratio and score, as COPY text on stdout")
    q.add_argument("--count", type=int, default=1000000, help="pairs per metric (or sextuples)")
    q.add_argument("--seed", default="qd766")
    q.add_argument("--metric", action="append", help="only this metric (repeatable)")
    q.add_argument("--composite", action="store_true",
                   help="ONLINE_PAYMENT_TOTAL: a, b, c, d, e, f and the composite score")
    q.set_defaults(func=cmd_qd766_pairs)

    qe = sub.add_parser("qd766-expect", help="the QD 766 metrics of a stream, evaluated at an instant")
    qe.add_argument("--events", required=True)
    qe.add_argument("--at", required=True, help="the evaluation instant ('now'), RFC 3339")
    qe.add_argument("--from", dest="period_from", default="0000-00")
    qe.add_argument("--to", dest="period_to", default="9999-99")
    qe.add_argument("--range", action="store_true", help="one bucket for the months from..to, not one per month")
    qe.add_argument("--out-expected", required=True)
    qe.set_defaults(func=cmd_qd766_expect)

    qc = sub.add_parser("qd766-check", help="compare qd766_metrics() and qd766_groups() with a qd766-expect file")
    qc.add_argument("--expected", required=True)
    qc.add_argument("--dsn", required=True)
    qc.add_argument("--psql", default="psql")
    qc.set_defaults(func=cmd_qd766_check)
    return p


def main(argv=None):
    a = build_parser().parse_args(argv)
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
