#!/usr/bin/env python3
"""promlive.py - promtool tests of the dashboard and the alert rules against
the series the daemons really expose.

Input: /metrics texts scraped from live daemons (--scrape JOB=INSTANCE=FILE).
Output (in --out-dir): live.rules.yml and live.test.yml for
`promtool test rules`, built from those series:

  * every scraped sample becomes an input series of that job and instance
    (gauges constant, counters and histogram parts growing by 1 a minute),
    plus up{job,instance} = 1;
  * every PromQL query of the Grafana dashboard must return something
    (an alert absent(<query>) that must not fire);
  * every selector of every alert rule must match a series (absent(<selector>));
  * every dashboard query of the form `sum|max|min by (L) (metric{matchers})`
    over a gauge must give the aggregate computed here from the scraped
    values (this is what catches a panel that multiplies by something);
  * every input series of the hand-written rule tests (--tests-dir) must
    carry the label names of a real series of its metric (job and instance
    aside), so that those tests model what the daemons export.

Exit status 1 (with the reasons on stderr) when the hand-written tests use
label sets no daemon exposes; promtool reports the rest.
"""
import argparse
import glob
import json
import os
import re
import sys

import yaml

MINUTES = 20      # input series length (1 sample a minute)
EVAL = "10m"      # evaluation time of every generated test


def parse_labels(text):
    """'a="x",b="y\\"z"' -> dict (exposition-format escapes undone)."""
    labels, i, n = {}, 0, len(text)
    while i < n:
        m = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"').match(text, i)
        if not m:
            break
        name, i, val = m.group(1), m.end(), []
        while i < n and text[i] != '"':
            if text[i] == "\\" and i + 1 < n:
                val.append({"n": "\n", "\\": "\\", '"': '"'}.get(text[i + 1], text[i + 1]))
                i += 2
            else:
                val.append(text[i])
                i += 1
        labels[name] = "".join(val)
        i += 1
        m = re.compile(r"\s*,?").match(text, i)
        i = m.end()
    return labels


def parse_exposition(text):
    """-> (samples [(name, labels, value)], types {family: type})."""
    samples, types = [], {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, fam, typ = line.split(None, 3)
            types[fam] = typ
            continue
        if not line.strip() or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$", line)
        if not m:
            raise ValueError(f"unparsable exposition line: {line!r}")
        samples.append((m.group(1), parse_labels(m.group(3) or ""), float(m.group(4))))
    return samples, types


def sample_type(name, types):
    if name in types:
        return types[name]
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[: -len(suffix)]) in ("histogram", "summary"):
            return "counter"
    return "untyped"


def series_text(name, labels):
    inner = ",".join(f'{k}="{json.dumps(v)[1:-1]}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def fmt_value(v):
    return repr(float(v)) if v != int(v) or abs(v) >= 1e15 else str(int(v))


def dashboard_queries(path):
    d = json.load(open(path))

    def walk(panels):
        for p in panels:
            yield p
            yield from walk(p.get("panels", []))

    out = []
    for p in walk(d["panels"]):
        for t in p.get("targets", []):
            if "expr" in t:
                e = (t["expr"].replace("$__rate_interval", "5m").replace("$__interval", "1m")
                     .replace('=~"$group"', '=~".*"'))
                out.append((f"panel {p['id']} {t['refId']} ({p['title']})", e))
    return out


def rule_exprs(paths):
    out = []
    for f in paths:
        for g in yaml.safe_load(open(f))["groups"]:
            for r in g["rules"]:
                out.append((r.get("alert") or r.get("record"), r["expr"]))
    return out


SELECTOR = re.compile(r"\b((?:tthc_[a-z0-9_]+)|up)\b(\{[^}]*\})?(?!\s*\()")


def selectors(expr):
    """Vector selectors of an expression (metric name with its matchers)."""
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    return sorted({m.group(1) + (m.group(2) or "") for m in SELECTOR.finditer(expr)})


def matchers(text):
    """'{a="x",b=~"y"}' -> [(label, op, value)]"""
    return [(m.group(1), m.group(2), m.group(3))
            for m in re.finditer(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"', text or "")]


def matches(labels, ms):
    for k, op, v in ms:
        have = labels.get(k, "")
        if op == "=" and have != v:
            return False
        if op == "!=" and have == v:
            return False
        if op == "=~" and not re.fullmatch(v, have):
            return False
        if op == "!~" and re.fullmatch(v, have):
            return False
    return True


AGG = re.compile(r"^\s*(sum|max|min)\s+by\s*\(([^)]*)\)\s*\(\s*(tthc_[a-z0-9_]+)(\{[^}]*\})?\s*\)\s*$")


def expected_aggregate(expr, samples, types):
    """For `agg by (L) (metric{m})` over a gauge: [(labels, value)], else None."""
    m = AGG.match(expr)
    if not m or sample_type(m.group(3), types) != "gauge":
        return None
    agg, by, name, ms = m.group(1), [x.strip() for x in m.group(2).split(",") if x.strip()], m.group(3), matchers(m.group(4))
    groups = {}
    for n, labels, v in samples:
        if n != name or not matches(labels, ms):
            continue
        key = tuple((k, labels[k]) for k in by if k in labels)
        groups.setdefault(key, []).append(v)
    if not groups:
        return None
    f = {"sum": sum, "max": max, "min": min}[agg]
    return [(dict(k), f(vs)) for k, vs in sorted(groups.items())]


def check_handwritten(tests_dir, real):
    """Label-name sets of the hand-written tests' series against the live ones."""
    bad = []
    for f in sorted(glob.glob(os.path.join(tests_dir, "*.yml"))):
        for t in yaml.safe_load(open(f))["tests"]:
            for s in t.get("input_series", []):
                m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?$", s["series"].strip())
                name = m.group(1)
                if not name.startswith("tthc_"):
                    continue
                names = frozenset(parse_labels(m.group(3) or "")) - {"job", "instance"}
                if name not in real:
                    bad.append(f"{os.path.basename(f)}: {name} is exposed by no daemon")
                elif names not in real[name]:
                    want = " or ".join("{" + ",".join(sorted(x)) + "}" for x in real[name])
                    bad.append(f"{os.path.basename(f)}: {s['series']} has labels {{{','.join(sorted(names))}}}, "
                               f"the daemons expose {want}")
    return sorted(set(bad))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scrape", action="append", required=True, help="JOB=INSTANCE=FILE")
    ap.add_argument("--dashboard", required=True)
    ap.add_argument("--rules", nargs="+", required=True)
    ap.add_argument("--tests-dir", required=True)
    ap.add_argument("--out-dir", required=True)
    a = ap.parse_args()

    samples, types, inputs, real = [], {}, [], {}
    for spec in a.scrape:
        job, instance, path = spec.split("=", 2)
        s, t = parse_exposition(open(path).read())
        if not s:
            sys.exit(f"{path}: no samples scraped from {job}")
        types.update(t)
        inputs.append({"series": series_text("up", {"job": job, "instance": instance}), "values": f"1x{MINUTES}"})
        for name, labels, v in s:
            real.setdefault(name, set()).add(frozenset(labels))
            samples.append((name, labels, v))
            full = dict(labels, job=job, instance=instance)
            growing = sample_type(name, t) == "counter"
            inputs.append({"series": series_text(name, full),
                           "values": f"{fmt_value(v)}{'+1' if growing else ''}x{MINUTES}"})

    rules, alert_tests, expr_tests, index = [], [], [], []
    for i, (what, e) in enumerate(dashboard_queries(a.dashboard)):
        name = f"LiveDashboard{i}"
        rules.append({"alert": name, "expr": f"absent({e})"})
        alert_tests.append({"eval_time": EVAL, "alertname": name, "exp_alerts": []})
        index.append(f"{name}: {what} returns nothing on the live series: {e}")
        exp = expected_aggregate(e, samples, types)
        if exp:
            expr_tests.append({"expr": e, "eval_time": EVAL,
                               "exp_samples": [{"labels": "{" + ",".join(f'{k}="{v}"' for k, v in sorted(l.items())) + "}",
                                                "value": v} for l, v in exp]})
            index.append(f"  value check: {what} = {exp}")
    for what, e in rule_exprs(a.rules):
        for j, sel in enumerate(selectors(e)):
            name = f"LiveRule{len(rules)}"
            rules.append({"alert": name, "expr": f"absent({sel})"})
            alert_tests.append({"eval_time": EVAL, "alertname": name, "exp_alerts": []})
            index.append(f"{name}: rule {what}: selector {sel} matches no live series")

    os.makedirs(a.out_dir, exist_ok=True)
    yaml.safe_dump({"groups": [{"name": "live", "rules": rules}]}, open(os.path.join(a.out_dir, "live.rules.yml"), "w"),
                   sort_keys=False, width=1 << 20)
    test = {"rule_files": ["live.rules.yml"], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": inputs, "alert_rule_test": alert_tests,
                       "promql_expr_test": expr_tests}]}
    yaml.safe_dump(test, open(os.path.join(a.out_dir, "live.test.yml"), "w"), sort_keys=False, width=1 << 20)
    open(os.path.join(a.out_dir, "live.index.txt"), "w").write("\n".join(index) + "\n")
    print(f"promlive: {len(inputs)} live series, {len(dashboard_queries(a.dashboard))} dashboard queries "
          f"({len(expr_tests)} with an exact value), {len(rules) - len(dashboard_queries(a.dashboard))} rule selectors",
          file=sys.stderr)
    bad = check_handwritten(a.tests_dir, real)
    for b in bad:
        print("hand-written rule test: " + b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
