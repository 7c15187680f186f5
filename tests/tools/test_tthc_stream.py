"""Tests of the oracle itself (tests/tools/tthc_stream.py).

Run from the repository root:  python3 -m unittest tests/tools/test_tthc_stream.py
"""

import collections
import datetime
import json
import os
import random
import stat
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tthc_stream as ts  # noqa: E402

TOOL = os.path.join(HERE, "tthc_stream.py")


def msg(**fields):
    return json.dumps(fields, ensure_ascii=False).encode("utf-8")


_n = [0]


def eid():
    _n[0] += 1
    return "t-%d" % _n[0]


def received(did, received_at="2025-03-06T08:15:00+07:00", unit="H61.07", channel="online",
             procedure="1.001234", due_at=None, event_id=None, **extra):
    ev = dict(event_id=event_id or eid(), event_type="dossier.received",
              occurred_at="2025-03-06T08:15:05+07:00", dossier_id=did, unit_code=unit,
              procedure_code=procedure, channel=channel, received_at=received_at)
    if due_at is not None:
        ev["due_at"] = due_at
    ev.update(extra)
    return msg(**ev)


def fact(did, etype, event_id=None, **fields):
    ev = dict(event_id=event_id or eid(), event_type=etype,
              occurred_at="2025-03-07T10:00:00Z", dossier_id=did)
    ev.update(fields)
    return msg(**ev)


def run(values):
    o = ts.Oracle()
    reasons = [o.feed(v) for v in values]
    return o, reasons


def row(o, bucket, indicator):
    return o.totals().get(bucket, {}).get(indicator, [0, 0])


class MonthBoundary(unittest.TestCase):
    CASES = [
        ("2025-03-31T19:30:00Z", "2025-04"),
        ("2025-03-31T16:59:59Z", "2025-03"),
        ("2025-03-31T17:00:00Z", "2025-04"),
        ("2025-03-31T16:59:59.999999Z", "2025-03"),
        ("2025-04-01T00:00:00+07:00", "2025-04"),
        ("2025-03-31T23:59:59+07:00", "2025-03"),
        ("2025-03-31T12:00:00-05:00", "2025-04"),     # 17:00Z
        ("2025-03-31T11:59:59-05:00", "2025-03"),     # 16:59:59Z
        ("2025-04-01T04:59:59-05:00", "2025-04"),
        ("2024-12-31T17:00:00Z", "2025-01"),          # year boundary
        ("2024-12-31T16:59:59+00:00", "2024-12"),
        ("2025-02-28T22:30:00+05:30", "2025-03"),     # 17:00Z
        ("2024-02-29T10:00:00Z", "2024-02"),          # leap day
    ]

    def test_cohort_period(self):
        for s, period in self.CASES:
            with self.subTest(s=s):
                self.assertEqual(ts.cohort_period(ts.parse_rfc3339(s)), period)

    def test_bucket_through_oracle(self):
        o, reasons = run([received("D1", "2025-03-31T19:30:00Z"),
                          received("D2", "2025-03-31T16:59:59Z"),
                          received("D3", "2025-03-31T12:00:00-05:00")])
        self.assertEqual(reasons, [None] * 3)
        self.assertEqual(row(o, "H61.07|2025-04", "online_submission"), [2, 2])
        self.assertEqual(row(o, "H61.07|2025-03", "online_submission"), [1, 1])
        self.assertEqual(row(o, "H61|2025-04", "online_submission"), [2, 2])

    def test_facts_count_in_receipt_bucket(self):
        o, _ = run([received("D1", "2025-03-31T19:30:00Z"),
                    fact("D1", "dossier.paid", payment_id="p1", method="online", amount_vnd=1000),
                    fact("D1", "dossier.rated", satisfied=True)])
        self.assertEqual(row(o, "H61.07|2025-04", "online_payment"), [1, 1])
        self.assertEqual(row(o, "H61.07|2025-04", "satisfaction"), [1, 1])
        self.assertNotIn("H61.07|2025-03", o.totals())


class Rfc3339(unittest.TestCase):
    def test_instants(self):
        a = ts.parse_rfc3339("2025-03-06T08:15:00+07:00")
        self.assertEqual(a, ts.parse_rfc3339("2025-03-06T01:15:00Z"))
        self.assertEqual(a, ts.parse_rfc3339("2025-03-05T20:15:00.000-05:00"))
        self.assertEqual(a + 500_000_000, ts.parse_rfc3339("2025-03-06T01:15:00.5Z"))
        self.assertEqual(a, ts.parse_rfc3339("2025-03-06t01:15:00z"))   # RFC 3339 5.6 NOTE

    def test_invalid(self):
        for s in ["2025-03-06T08:15:00", "2025-13-06T08:15:00Z", "2025-02-30T08:15:00Z",
                  "2025-03-06T24:00:00Z", "2025-03-06T08:60:00Z", "2025-03-06T08:15:60Z",
                  "2025-03-06T08:15:00+7:00", "2025-03-06T08:15:00+24:00", "2025-03-06",
                  "2025-03-06 08:15:00Z", "2025-03-06T08:15:00.Z", "next week", "",
                  "2025-03-06T08:15:00Z\n", "\u0662025-03-06T08:15:00Z", 1741223700]:
            with self.subTest(s=s):
                self.assertIsNone(ts.parse_rfc3339(s))

    def test_calendar_matches_datetime(self):
        epoch = datetime.date(1970, 1, 1)
        for days in range(-800, 40000, 37):
            d = epoch + datetime.timedelta(days=days)
            self.assertEqual(ts.civil_from_days(days), (d.year, d.month, d.day))
            self.assertEqual(ts.days_from_civil(d.year, d.month, d.day), days)

    def test_format_roundtrip(self):
        rng = random.Random(5)
        for _ in range(500):
            us = rng.randrange(1_700_000_000, 1_800_000_000) * ts.US + rng.choice([0, 123000, 1])
            for off in ts.OFFSET_MINUTES:
                s = ts.format_rfc3339(us, off)
                self.assertEqual(ts.parse_rfc3339(s), us * 1000, s)


class SetOnceFacts(unittest.TestCase):
    def test_second_result_issued_and_rating_change_nothing(self):
        o, reasons = run([
            received("D1", due_at="2025-03-10T17:00:00+07:00"),
            fact("D1", "dossier.result_issued", finished_at="2025-03-09T10:00:00+07:00", electronic=True),
            fact("D1", "dossier.result_issued", finished_at="2025-03-20T10:00:00+07:00", electronic=False),
            fact("D1", "dossier.rated", satisfied=False),
            fact("D1", "dossier.rated", satisfied=True),
            fact("D1", "dossier.digitized", scope="components"),
            fact("D1", "dossier.digitized", scope="components"),
            fact("D1", "dossier.synced"), fact("D1", "dossier.synced"),
            fact("D1", "dossier.id_tagged", id_kind="vneid"),
            fact("D1", "dossier.id_tagged", id_kind="citizen_id", id_number="001095012345"),
        ])
        self.assertEqual(reasons, [None] * 11)
        b = o.totals()["H61.07|2025-03"]
        self.assertEqual(b["e_result"], [1, 1])
        self.assertEqual(b["on_time"], [1, 1])
        self.assertEqual(b["satisfaction"], [0, 1])
        self.assertEqual(b["digitized_dossier"], [1, 1])
        self.assertEqual(b["portal_synced"], [1, 1])
        self.assertEqual(b["id_tagged"], [1, 1])

    def test_on_time_inclusive_and_compared_as_instants(self):
        o, _ = run([
            received("D1", due_at="2025-03-10T17:00:00+07:00"),
            fact("D1", "dossier.result_issued", finished_at="2025-03-10T10:00:00.000Z", electronic=True),
            received("D2", due_at="2025-03-10T17:00:00+07:00"),
            fact("D2", "dossier.result_issued", finished_at="2025-03-10T10:00:00.001Z", electronic=True),
            received("D3"),   # no due_at: not in on_time at all
            fact("D3", "dossier.result_issued", finished_at="2025-03-10T10:00:00Z", electronic=False),
        ])
        b = o.totals()["H61.07|2025-03"]
        self.assertEqual(b["on_time"], [1, 2])
        self.assertEqual(b["e_result"], [2, 3])

    def test_result_facts_need_an_issued_result(self):
        o, _ = run([received("D1"), fact("D1", "dossier.digitized", scope="result"),
                    fact("D1", "dossier.synced")])
        b = o.totals()["H61.07|2025-03"]
        self.assertEqual(b["digitized_result"], [0, 0])
        self.assertEqual(b["portal_synced"], [0, 0])
        o, _ = run([received("D1"), fact("D1", "dossier.digitized", scope="result"),
                    fact("D1", "dossier.synced"),
                    fact("D1", "dossier.result_issued", finished_at="2025-03-08T10:00:00Z", electronic=True)])
        b = o.totals()["H61.07|2025-03"]
        self.assertEqual(b["digitized_result"], [1, 1])
        self.assertEqual(b["portal_synced"], [1, 1])

    def test_event_id_rule(self):
        d = fact("D1", "dossier.rated", event_id="X1", satisfied=True)
        o, reasons = run([
            received("D1"), d, d,                                    # exact redelivery
            fact("D1", "dossier.paid", event_id="X1", payment_id="p9", method="online", amount_vnd=5),
            fact("D1", "dossier.synced", event_id="X1"),
        ])
        self.assertEqual(reasons, [None] * 5)
        b = o.totals()["H61.07|2025-03"]
        self.assertEqual(b["satisfaction"], [1, 1])
        self.assertEqual(b["online_payment"], [0, 0])
        self.assertEqual(o.accepted, 5)


class Payments(unittest.TestCase):
    def test_first_payment_values(self):
        o, reasons = run([
            received("D1"),
            fact("D1", "dossier.paid", payment_id="p1", method="offline", amount_vnd=1000),
            fact("D1", "dossier.paid", payment_id="p1", method="online", amount_vnd=2000),
            fact("D1", "dossier.paid", payment_id="p2", method="online", amount_vnd=0, gateway="dvcqg"),
            fact("D1", "dossier.paid", payment_id="P1", method="online", amount_vnd=0),
        ])
        self.assertEqual(reasons, [None] * 5)
        self.assertEqual(row(o, "H61.07|2025-03", "online_payment"), [2, 3])
        self.assertEqual(row(o, "H61|2025-03", "online_payment"), [2, 3])

    def test_payment_of_unreceived_dossier_counts_nowhere(self):
        o, reasons = run([fact("N1", "dossier.paid", payment_id="p1", method="online", amount_vnd=1)])
        self.assertEqual(reasons, [None])
        self.assertEqual(o.totals(), {})


class PendingFirst(unittest.TestCase):
    def test_facts_before_receipt_count_once_it_arrives(self):
        facts = [
            fact("D1", "dossier.digitized", scope="components"),
            fact("D1", "dossier.result_issued", finished_at="2025-03-08T10:00:00Z", electronic=True),
            fact("D1", "dossier.result_issued", finished_at="2025-03-09T10:00:00Z", electronic=False),
            fact("D1", "dossier.paid", payment_id="p1", method="online", amount_vnd=1),
            fact("D1", "dossier.paid", payment_id="p1", method="offline", amount_vnd=1),
        ]
        o, _ = run(facts)
        self.assertEqual(o.totals(), {})                 # waits, counts nowhere yet
        o.feed(received("D1", due_at="2025-03-08T17:00:00+07:00"))
        b = o.totals()["H61.07|2025-03"]
        self.assertEqual(b["online_submission"], [1, 1])
        self.assertEqual(b["digitized_dossier"], [1, 1])
        self.assertEqual(b["e_result"], [1, 1])
        self.assertEqual(b["on_time"], [1, 1])
        self.assertEqual(b["online_payment"], [1, 1])
        # redeliveries after the receipt change nothing
        for v in facts:
            o.feed(v)
        self.assertEqual(o.totals()["H61.07|2025-03"], b)

    def test_same_result_in_any_interleaving(self):
        path_events = os.path.join(self.tmp, "e.tsv")
        subprocess.check_call([sys.executable, TOOL, "gen", "--seed", "perm", "--dossiers", "150",
                               "--malformed", "30", "--out-events", path_events,
                               "--out-expected", os.path.join(self.tmp, "x.json")],
                              stderr=subprocess.DEVNULL)
        lines = list(ts.read_stream(path_events))
        base = run([v for _, v in lines])[0]
        rng = random.Random(1)
        for _ in range(5):
            # random merge of the per-key sequences (each key keeps its order)
            per_key = collections.OrderedDict()
            for k, v in lines:
                per_key.setdefault(k, []).append(v)
            queues = [list(reversed(vs)) for vs in per_key.values()]
            merged = []
            while queues:
                q = rng.choice(queues)
                merged.append(q.pop())
                if not q:
                    queues.remove(q)
            other = run(merged)[0]
            self.assertEqual(other.totals(), base.totals())
            self.assertEqual(other.dlq, base.dlq)

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()


class Conflicts(unittest.TestCase):
    def test_conflicting_receipts(self):
        variants = [dict(unit="H61.08"), dict(procedure="1.009999"), dict(channel="postal"),
                    dict(received_at="2025-03-06T08:15:01+07:00"),
                    dict(received_at="2025-03-06T08:15:00.001+07:00"),
                    dict(received_at="2025-03-06T08:15:00Z")]        # same wall clock, other instant
        for v in variants:
            with self.subTest(v=v):
                o, reasons = run([received("D1"), received("D1", **v)])
                self.assertEqual(reasons, [None, "receipt_conflict"])
                self.assertEqual(o.dlq, {"receipt_conflict": 1})
                self.assertEqual(row(o, "H61.07|2025-03", "online_submission"), [1, 1])
                self.assertNotIn("H61.08|2025-03", o.totals())

    def test_same_instant_other_offset_is_not_a_conflict(self):
        for same in ["2025-03-06T01:15:00Z", "2025-03-06T01:15:00.000+00:00",
                     "2025-03-05T20:15:00-05:00", "2025-03-06T06:45:00.0+05:30"]:
            with self.subTest(received_at=same):
                o, reasons = run([received("D1"),
                                  received("D1", received_at=same, due_at="2025-04-01T00:00:00Z",
                                           applicant_type="other")])
                self.assertEqual(reasons, [None, None])
                self.assertEqual(o.dlq, {})
                self.assertEqual(row(o, "H61.07|2025-03", "online_submission"), [1, 1])

    def test_first_due_at_stands(self):
        o, _ = run([received("D1", due_at="2025-03-07T00:00:00Z"),
                    received("D1", received_at="2025-03-06T01:15:00Z", due_at="2025-04-30T00:00:00Z"),
                    fact("D1", "dossier.result_issued", finished_at="2025-03-10T00:00:00Z", electronic=True)])
        self.assertEqual(row(o, "H61.07|2025-03", "on_time"), [0, 1])

    def test_conflict_before_facts_keeps_first(self):
        o, _ = run([fact("D1", "dossier.rated", satisfied=True), received("D1"),
                    received("D1", unit="H61.08", received_at="2025-05-01T00:00:00Z")])
        self.assertEqual(row(o, "H61.07|2025-03", "satisfaction"), [1, 1])
        self.assertEqual(o.dlq["receipt_conflict"], 1)


class Validation(unittest.TestCase):
    def test_reasons(self):
        good = received("D1")
        cases = [
            (b"x" * 10 + good, "invalid_json"),
            (b'{"a":"\xff"}', "invalid_utf8"),
            (b"[1,2]", "not_object"),
            (b'"str"', "not_object"),
            (received("D1", unit="H61"), "invalid_value"),
            (received("D1", unit="H61."), "invalid_value"),
            (received("D1", unit=".07"), "invalid_value"),
            (received("D1", unit="H61..x"), None),            # the regex allows it
            (received("D1", channel="fax"), "invalid_value"),
            (received("D1", received_at="2025-03-06T08:15:00"), "invalid_value"),
            (received("D1", received_at="2025-13-06T08:15:00Z"), "invalid_value"),
            (received("D1", schema_version=2), "unsupported_schema_version"),
            (received("D1", schema_version=0), "invalid_value"),
            (received("D1", schema_version=1), None),
            (received("D1", schema_version=True), "wrong_type"),
            (received("D1", whatever={"x": [1]}), None),      # unknown extra field ignored
            (received("D" * 64), None),
            (received("D" * 65), "invalid_value"),
            (received("D1", event_id="e" * 128), None),
            (received("D1", event_id="e" * 129), "invalid_value"),
            (fact("D1", "dossier.paid", payment_id="p", method="online", amount_vnd=-1), "invalid_value"),
            (fact("D1", "dossier.paid", payment_id="p", method="online", amount_vnd=1.5), "invalid_value"),
            (fact("D1", "dossier.paid", payment_id="p", method="online", amount_vnd="1"), "wrong_type"),
            (fact("D1", "dossier.paid", payment_id="p", method="online", amount_vnd=True), "wrong_type"),
            (fact("D1", "dossier.paid", payment_id="p\u0007", method="online", amount_vnd=1), "invalid_value"),
            (fact("D1", "dossier.paid", payment_id="Biên lai 1", method="online", amount_vnd=0), None),
            (fact("D1", "dossier.paid", payment_id="p", amount_vnd=1), "missing_field"),
            (fact("D1", "dossier.id_tagged", id_kind="citizen_id", id_number="12345"), "invalid_value"),
            (fact("D1", "dossier.id_tagged", id_kind="citizen_id", id_number="001095012345"), None),
            (fact("D1", "dossier.id_tagged", id_kind="citizen_id"), None),
            (fact("D1", "dossier.id_tagged", id_kind="vneid"), None),
            (fact("D1", "dossier.result_issued", finished_at="2025-03-06T08:15:00Z", electronic="true"),
             "wrong_type"),
            (fact("D1", "dossier.rated"), "missing_field"),
            (fact("D1", "dossier.archived"), "unknown_event_type"),
            (fact("D1", "dossier.data_reused", source="anything at all"), None),
            (fact("D1", "dossier.data_reused", source=5), "wrong_type"),
            (b'{"event_type":"dossier.synced","occurred_at":"2025-03-06T08:15:00Z","dossier_id":"D1"}',
             "missing_field"),
            (b'{"event_id":"a","event_type":"dossier.synced","occurred_at":"2025-03-06T08:15:00Z",'
             b'"dossier_id":"D1","x":NaN}', "invalid_json"),
        ]
        for value, reason in cases:
            with self.subTest(value=value[:120]):
                self.assertEqual(run([value])[1], [reason])

    def test_size_limit(self):
        base = json.loads(received("D1"))
        for size, reason in [(65536, None), (65537, "too_large")]:
            base["pad"] = ""
            base["pad"] = "x" * (size - len(ts.compact(base)))
            value = ts.compact(base)
            self.assertEqual(len(value), size)
            self.assertEqual(run([value])[1], [reason])

    def test_catalogue_covers_every_reason(self):
        g = ts.Generator(ts.build_parser().parse_args(
            ["gen", "--seed", "1", "--dossiers", "1", "--out-events", "x", "--out-expected", "y"]))
        seen = set()
        for i, (reason, name, build) in enumerate(ts.MALFORMED):
            out = build(g, "H61.07-D1")
            value = ts.compact(out) if isinstance(out, dict) else out
            with self.subTest(variant=name):
                self.assertEqual(run([value])[1], [reason])
            seen.add(reason)
        self.assertEqual(seen, set(ts.REASONS) - {"receipt_conflict"})
        first = len(ts.REASONS) - 1                                    # every reason but receipt_conflict
        self.assertEqual({r for r, _, _ in ts.MALFORMED[:first]}, seen)   # the first ones cover all

    def test_id_number_is_dropped(self):
        ev = ts.validate(fact("D1", "dossier.id_tagged", id_kind="citizen_id", id_number="001095012345"))
        self.assertNotIn("001095012345", repr(ev))


class GenerateAndCheck(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def gen(self, name, *extra):
        ev, ex = os.path.join(self.tmp, name + ".tsv"), os.path.join(self.tmp, name + ".json")
        subprocess.check_call([sys.executable, TOOL, "gen", "--dossiers", "300", "--out-events", ev,
                               "--out-expected", ex] + list(extra), stderr=subprocess.DEVNULL)
        with open(ev, "rb") as f, open(ex, "rb") as g:
            return f.read(), g.read()

    def test_deterministic_per_seed(self):
        a = self.gen("a", "--seed", "42", "--shuffle", "20", "--malformed", "60")
        b = self.gen("b", "--seed", "42", "--shuffle", "20", "--malformed", "60")
        c = self.gen("c", "--seed", "43", "--shuffle", "20", "--malformed", "60")
        self.assertEqual(a, b)
        self.assertNotEqual(a[0], c[0])

    def test_stream_shape(self):
        events, expected = self.gen("s", "--seed", "7", "--malformed", "40", "--conflicts", "5")
        exp = json.loads(expected)
        lines = events.split(b"\n")[:-1]
        self.assertEqual(exp["messages"], len(lines))
        self.assertEqual(exp["accepted"] + sum(exp["dlq"].values()), len(lines))
        self.assertEqual(exp["dlq"]["receipt_conflict"], 5)
        self.assertEqual(sum(v for k, v in exp["dlq"].items() if k != "receipt_conflict"), 40)
        for line in lines:
            self.assertIn(b"\t", line)
        for bucket, inds in exp["totals"].items():
            self.assertEqual(len(inds), 10)
            for num, den in inds.values():
                self.assertLessEqual(num, den)
        # the province roll-up is the sum of its units
        sums = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0]))
        for bucket, inds in exp["totals"].items():
            unit, period = bucket.split("|")
            if "." in unit:
                for k, (n, d) in inds.items():
                    sums["H61|" + period][k][0] += n
                    sums["H61|" + period][k][1] += d
        for bucket, inds in sums.items():
            self.assertEqual({k: list(v) for k, v in inds.items()}, exp["totals"][bucket])

    def test_shuffle_keeps_each_dossier_order(self):
        plain, exp_plain = self.gen("p", "--seed", "9")
        shuf, exp_shuf = self.gen("q", "--seed", "9", "--shuffle", "50")
        self.assertNotEqual(plain, shuf)

        def per_key(data):
            d = collections.defaultdict(list)
            for line in data.split(b"\n")[:-1]:
                k, _, v = line.partition(b"\t")
                d[k].append(v)
            return d
        self.assertEqual(per_key(plain), per_key(shuf))
        a, b = json.loads(exp_plain), json.loads(exp_shuf)
        self.assertEqual(a["totals"], b["totals"])
        self.assertEqual(a["dlq"], b["dlq"])

    def fake_psql(self, rows, rc=0):
        path = os.path.join(self.tmp, "psql")
        with open(path, "w") as f:
            f.write("#!/bin/sh\ncat <<'EOF'\n%s\nEOF\nexit %d\n" % ("\n".join(rows), rc))
        os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
        return path

    def check(self, expected, rows, dlq_lines=None, rc=0):
        ex = os.path.join(self.tmp, "exp.json")
        ts.write_json(ex, expected)
        cmd = [sys.executable, TOOL, "check", "--expected", ex, "--dsn", "postgresql:///x",
               "--psql", self.fake_psql(rows, rc)]
        if dlq_lines is not None:
            dl = os.path.join(self.tmp, "dlq.txt")
            with open(dl, "w") as f:
                f.write("".join(l + "\n" for l in dlq_lines))
            cmd += ["--dlq-file", dl]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        return p.returncode, p.stdout

    def test_check(self):
        o, _ = run([received("D1"), received("D2", channel="postal"),
                    fact("D1", "dossier.paid", payment_id="p1", method="online", amount_vnd=1),
                    b"[]", received("D1", unit="H61.08")])
        exp = o.expected()
        rows = []
        for bucket, inds in exp["totals"].items():
            unit, period = bucket.split("|")
            for ind, (n, d) in inds.items():
                rows.append("%s|%s|%s|%d|%d" % (unit, period, ind, n, d))
        rows.append("H61.99|2025-01|on_time|0|0")                 # zero rows may exist
        dlq = ["tthc.dlq.reason=not_object,tthc.dlq.detail=x",
               "tthc.dlq.source=a,tthc.dlq.reason=receipt_conflict"]
        rc, out = self.check(exp, rows, dlq)
        self.assertEqual(rc, 0, out)
        self.assertIn("OK", out)
        # rows with zero counts may be missing
        rc, out = self.check(exp, [r for r in rows if not r.endswith("|0|0")], dlq)
        self.assertEqual(rc, 0, out)
        bad = [r.replace("online_submission|1|2", "online_submission|2|2") for r in rows]
        rc, out = self.check(exp, bad, dlq)
        self.assertEqual(rc, 1)
        self.assertIn("online_submission", out)
        rc, out = self.check(exp, rows, dlq[:1])
        self.assertEqual(rc, 1)
        self.assertIn("receipt_conflict", out)
        rc, out = self.check(exp, rows + ["H61.05|2025-03|e_result|1|1"])
        self.assertEqual(rc, 1)
        rc, out = self.check(exp, rows, rc=2)
        self.assertEqual(rc, 2)

    def test_dlq_header_parsing(self):
        c = ts.parse_dlq_headers(["tthc.dlq.reason=too_large", "x=1,tthc.dlq.reason=invalid_json,y=2",
                                  "", "tthc.dlq.reasonx=1"])
        self.assertEqual(c, {"too_large": 1, "invalid_json": 1, "<no reason header>": 2})

    def test_bench_gen(self):
        out = os.path.join(self.tmp, "b.tsv")
        subprocess.check_call([sys.executable, TOOL, "bench-gen", "--events", "4000", "--dossiers",
                               "1000", "--units", "20", "--seed", "3", "--out", out],
                              stderr=subprocess.DEVNULL)
        lines = list(ts.read_stream(out))
        self.assertEqual(len(lines), 4000)
        o = ts.Oracle()
        first = {}
        for k, v in lines:
            self.assertIsNone(o.feed(v))
            first.setdefault(k, json.loads(v)["event_type"])
        self.assertEqual(set(first.values()), {"dossier.received"})
        self.assertEqual(len(first), 1000)
        size = os.path.getsize(out) / 4000
        self.assertTrue(150 < size < 240, size)


if __name__ == "__main__":
    unittest.main()
