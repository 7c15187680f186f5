#!/usr/bin/env bash
# it_report: tthc-report against a real database.
#  1. a generated stream (tthc-emit, July-September 2025) goes through the dev
#     broker and tthc-ingest; a few rows are inserted directly (January 2026,
#     with a target of that year);
#  2. for a month, a quarter, the year to date and one unit, the CSV and the
#     JSON outputs equal the database views (indicator_totals and
#     indicator_status, summed with SQL): numerators, denominators, rates,
#     statuses, the units' ranking and the trend;
#  3. the HTML report (--lang en), rendered by headless Chromium (Debian's
#     chromium), is a non-blank PNG and its DOM holds the expected figures;
#  4. Vietnamese by default: the page rendered in Chromium holds the Vietnamese
#     titles and statuses, the figures in Vietnamese format, the real unit names
#     sorted by code as numbers, no empty month, the QĐ 766 points equal to the
#     database's; at A4 width (794 CSS px) nothing scrolls sideways; an unknown
#     --unit is an error; --qd766-only in every format;
#  5. the portal stub's page on the same database, with the month's reports
#     posted: Vietnamese by default, the QĐ 766 points per unit equal to the
#     database's, real names, units by code as numbers, A4 width in Chromium.
# TTHC_REPORT_PNG=FILE keeps a copy of the rendered page.
source "$(dirname "$0")/common.sh"
REPORT=$TTHC_BIN_DIR/tthc-report
EMIT=$TTHC_BIN_DIR/tthc-emit
command -v chromium >/dev/null ||
    it_fail "chromium not found: headless rendering of the HTML report needs Debian's chromium (scripts/deps installs it)"
it_setup
cd "$IT_DIR"

# ---- 1. data ------------------------------------------------------------------
"$EMIT" --seed report-1 --from 2025-07-01 --to 2025-09-30 --per-day 300 --dup-rate 0.02 --late-rate 0.005 \
    --summary emit.json 2>emit.log || it_fail "tthc-emit failed"
messages=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["messages"])' emit.json)
it_ingest_start a --batch-max 5000 --batch-ms 100
it_wait_applied "$messages" 180
it_ingest_stop a
# January 2026 by hand: 1 online of 32 received (3.125 %, shown 3.13), and a
# 2026 target of 3.13 %, which 3.125 % does not meet.
it_sql "INSERT INTO period_totals (unit_code, period, received, online, issued, e_result, payments, payments_online)
        VALUES ('H61.01', '2026-01', 32, 1, 3, 2, 0, 0), ('H61.102', '2026-01', 0, 0, 0, 0, 0, 0),
               ('H61', '2026-01', 32, 1, 3, 2, 0, 0);
        INSERT INTO indicator_target (indicator, source_doc, year, target_pct, note)
        VALUES ('online_submission', 'TEST 2026', 2026, 3.13, 'test target <b>&amp;</b>')" >/dev/null
echo "1. $messages messages ingested; January 2026 inserted"

# ---- 2. the report equals the views -------------------------------------------
# compare.py SCOPE FROM TO CSV JSON: the report's numbers against SQL over the views.
cat >compare.py <<'PY'
import csv, json, subprocess, sys
from decimal import Decimal, ROUND_HALF_UP
scope, frm, to, csv_path, json_path, min_den = sys.argv[1:7]
dsn = __import__("os").environ["TTHC_PG_DSN"]
def sql(q, *params):
    # psql variables are quoted with :'name' (literal quoting by psql itself)
    args = ["psql", "-X", "-A", "-t", "-q", "-F", "\t", dsn]
    for i, p in enumerate(params):
        args += ["-v", f"p{i}={p}"]
    out = subprocess.run(args, input=q, capture_output=True, text=True, check=True).stdout
    return [l.split("\t") for l in out.splitlines() if l]
bad = []
def expect(what, got, want):
    if got != want:
        bad.append(f"{what}: report {got!r}, database {want!r}")
# Totals and statuses: indicator_status summed over the period's months.
status = sql("""SELECT indicator, coalesce(source_doc, ''), coalesce(to_char(target_pct, 'FM990.00'), ''),
                       sum(numerator), sum(denominator),
                       coalesce(round(100.0 * sum(numerator) / nullif(sum(denominator), 0), 2)::text, ''),
                       CASE WHEN target_pct IS NULL OR sum(denominator) = 0 THEN ''
                            WHEN 100.0 * sum(numerator) / sum(denominator) >= target_pct THEN 'met' ELSE 'behind' END
                FROM indicator_status WHERE unit_code = :'p0' AND period BETWEEN :'p1' AND :'p2'
                GROUP BY indicator, source_doc, target_pct ORDER BY 1, 2""", scope, frm, to)
totals = {r[0]: (int(r[1]), int(r[2])) for r in sql(
    """SELECT indicator, sum(numerator), sum(denominator) FROM indicator_totals
       WHERE unit_code = :'p0' AND period BETWEEN :'p1' AND :'p2' GROUP BY indicator""", scope, frm, to)}
rows = list(csv.DictReader(open(csv_path, encoding="utf-8", newline="")))
report_totals = {(r["indicator"], r["source_doc"]): r for r in rows if r["section"] == "total"}
expect("total rows", sorted(report_totals), sorted((s[0], s[1]) for s in status))
for ind, doc, tgt, num, den, rate, st in status:
    r = report_totals.get((ind, doc))
    if not r: continue
    expect(f"{ind} {doc} numerator", int(r["numerator"]), int(num))
    expect(f"{ind} {doc} denominator", int(r["denominator"]), int(den))
    expect(f"{ind} {doc} rate", r["rate_pct"], rate)
    expect(f"{ind} {doc} target", r["target_pct"], tgt)
    if tgt: expect(f"{ind} {doc} status", r["status"], st if st else "no_data")
    if r["status"] == "behind":
        # behind by target - exact rate, rounded up to 0.01
        exact = Decimal(100) * int(num) / Decimal(int(den))
        want = (Decimal(tgt) - exact).quantize(Decimal("0.01"), rounding="ROUND_CEILING")
        expect(f"{ind} {doc} behind", r["behind_pts"], str(want))
j = json.load(open(json_path, encoding="utf-8"))
expect("json indicators", [i["code"] for i in j["indicators"]], [r[0] for r in sql("SELECT code FROM indicator ORDER BY sort_order")])
for i in j["indicators"]:
    num, den = totals[i["code"]]
    expect(f"json {i['code']}", (i["numerator"], i["denominator"]), (num, den))
    rate = None if den == 0 else float((Decimal(100) * num / den).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    expect(f"json {i['code']} rate", i["rate_pct"], rate)
    for t in i["targets"]:
        st = next(s for s in status if s[0] == i["code"] and s[1] == t["source_doc"])
        expect(f"json {i['code']} {t['source_doc']} met", t["met"], None if st[6] == "" else st[6] == "met")
# Ranking (units of the province, worst first) and trend, for every indicator.
prov = scope.split(".")[0]
for code in totals:
    units = sql("""SELECT unit_code, sum(numerator), sum(denominator) FROM indicator_totals
                   WHERE split_part(unit_code, '.', 1) = :'p0' AND unit_code LIKE '%.%' AND indicator = :'p1'
                     AND period BETWEEN :'p2' AND :'p3'
                   GROUP BY unit_code HAVING sum(denominator) >= :'p4'::bigint
                   ORDER BY sum(numerator)::numeric / sum(denominator), sum(denominator) DESC, unit_code""",
                prov, code, frm, to, min_den)
    got = [(r["unit_code"], int(r["numerator"]), int(r["denominator"]), int(r["rank"]))
           for r in rows if r["section"] == "unit" and r["indicator"] == code]
    expect(f"ranking of {code}", got, [(u[0], int(u[1]), int(u[2]), k + 1) for k, u in enumerate(units)])
    if j["scope"]["kind"] == "unit":
        place = next((k + 1 for k, u in enumerate(units) if u[0] == scope), None)
        ji = next(i for i in j["indicators"] if i["code"] == code)
        expect(f"place of {scope} in {code}", ji["rank_worst_first"]["place"], place)
trend = {(r["month"], r["indicator"]): (int(r["numerator"]), int(r["denominator"])) for r in rows if r["section"] == "trend"}
for m, ind, num, den in sql("""SELECT period, indicator, numerator, denominator FROM indicator_totals
                               WHERE unit_code = :'p0' AND period BETWEEN :'p1' AND :'p2'""",
                            scope, min(m for m, _ in trend) if trend else frm, to):
    expect(f"trend {m} {ind}", trend.get((m, ind)), (int(num), int(den)))
if bad:
    print("\n".join(bad[:30])); sys.exit(1)
print(f"   {scope} {frm}..{to}: {len(status)} total rows, {len(rows)} CSV rows equal the views")
PY
check_report() { # NAME SCOPE FROM TO REPORT_ARGS...
    local name=$1 scope=$2 from=$3 to=$4
    shift 4
    "$REPORT" --unit "$scope" "$@" --format csv --out "$name.csv" 2>"$name.log" || it_fail "tthc-report $* (csv) failed"
    "$REPORT" --unit "$scope" "$@" --format json --out "$name.json" 2>>"$name.log" || it_fail "tthc-report $* (json) failed"
    "$REPORT" --unit "$scope" "$@" >"$name.txt" 2>>"$name.log" || it_fail "tthc-report $* (table) failed"
    sanitizer_check "$name.log" || it_fail "sanitizer report in $name.log"
    python3 compare.py "$scope" "$from" "$to" "$name.csv" "$name.json" 10 || it_fail "$name: the report differs from the views"
}
check_report month H61 2025-09 2025-09 --period 2025-09
check_report quarter H61 2025-07 2025-09 --period 2025-Q3
check_report ytd H61 2025-01 2025-09 --ytd 2025-09
unit=$(it_sql "SELECT unit_code FROM period_totals WHERE period = '2025-08' AND unit_code LIKE 'H61.%'
               ORDER BY received DESC, unit_code LIMIT 1")
check_report unit "$unit" 2025-08 2025-08 --period 2025-08
check_report unit-q "$unit" 2025-07 2025-09 --period 2025-Q3
check_report jan H61.01 2026-01 2026-01 --period 2026-01
grep -q 'online_submission,1,32,3.13,3.13,TEST 2026,behind,0.01' jan.csv ||
    it_fail "3.125 % against a 3.13 % target: not 'behind 0.01'"
rc=0
"$REPORT" --period 2025-13 >/dev/null 2>bad.log || rc=$?
((rc == 2)) || it_fail "a bad period: exit status $rc, not 2"
rc=0
"$REPORT" --period 2025-09 --dsn "postgresql:///nosuchdb?host=/nonexistent" >/dev/null 2>bad.log || rc=$?
((rc == 1)) || it_fail "an unreachable database: exit status $rc, not 1"
echo "2. month, quarter, year to date and unit $unit: CSV and JSON equal the views"

# ---- 3. HTML in headless Chromium ---------------------------------------------
"$REPORT" --period 2025-09 --format html --lang en --out report.html 2>html.log || it_fail "tthc-report --format html failed"
sanitizer_check html.log || it_fail "sanitizer report in html.log"
grep -Eq '<script|<link|src=|url\(' report.html && it_fail "the HTML page refers to a script or an external asset"
chrome=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
    --disable-component-update --disable-sync)
timeout 120 "${chrome[@]}" --user-data-dir="$(mktemp -d "$IT_DIR/chrome.XXXXXX")" --screenshot="$IT_DIR/report.png" \
    --window-size=1280,2000 "file://$IT_DIR/report.html" >chrome.log 2>&1 ||
    it_fail "chromium could not render the page: $(tail -n 5 chrome.log)"
timeout 120 "${chrome[@]}" --user-data-dir="$(mktemp -d "$IT_DIR/chrome.XXXXXX")" --dump-dom \
    "file://$IT_DIR/report.html" >dom.html 2>>chrome.log || it_fail "chromium --dump-dom failed: $(tail -n 5 chrome.log)"
[[ -s report.png ]] || it_fail "no screenshot"
python3 - report.png dom.html <<'PY' || it_fail "the rendered page is not what was expected"
import os, re, struct, subprocess, sys, zlib
png, dom_path = sys.argv[1], sys.argv[2]
# A minimal PNG decoder (8-bit RGB/RGBA, no interlace): the standard library has none.
data = open(png, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR": w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
    if kind == b"IDAT": idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
bpp = 4 if ctype == 6 else 3
raw, stride, prev, rows = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(bytes(line)); prev = line
px = lambda x, y: tuple(rows[y][x * bpp:x * bpp + 3])
assert (w, h) == (1280, 2000), (w, h)
sample = [px(x, y) for y in range(0, h, 4) for x in range(0, w, 4)]
colours = len(set(sample))
light = sum(1 for p in sample if min(p) > 235) / len(sample)
print(f"   screenshot {w}x{h}, {os.path.getsize(png)} bytes, {colours} colours in a 1/16 sample, {100 * (1 - light):.1f} % not near-white")
assert colours > 200, "too few colours: blank or unstyled page"
assert 0.10 < 1 - light < 0.95, "the page is almost blank (or all dark)"
assert px(10, 10) == (0x12, 0x35, 0x5b), f"the header band is not drawn: {px(10, 10)}"
# Bars of the chart: the three status colours are on the page.
have = set(sample)
for name, c in (("met", (0x2e, 0x7d, 0x32)), ("behind", (0xc6, 0x28, 0x28))):
    assert c in have, f"no {name}-coloured bar in the screenshot"
# The figures in the DOM equal the database's.
dom = open(dom_path, encoding="utf-8").read()
dsn = os.environ["TTHC_PG_DSN"]
q = """SELECT indicator, sum(numerator), sum(denominator),
              coalesce(round(100.0 * sum(numerator) / nullif(sum(denominator), 0), 2)::text, '')
       FROM indicator_totals WHERE unit_code = 'H61' AND period = '2025-09' GROUP BY indicator"""
out = subprocess.run(["psql", "-X", "-A", "-t", "-q", "-F", "\t", dsn, "-c", q], capture_output=True, text=True, check=True).stdout
missing = []
for ind, num, den, rate in (l.split("\t") for l in out.splitlines() if l):
    for fig in (f">{num}<", f">{den}<", f"{rate}%"):
        if fig not in dom: missing.append(f"{ind} {fig}")
for text in ("Tỉnh Vĩnh Long (H61)", "2025-09", "Rate against target", "Trend month by month", "Units, worst first",
             "Tỷ lệ hồ sơ trực tuyến", "NQ 01/NQ-CP #3"):
    if text not in dom: missing.append(text)
if len(re.findall(r"<svg", dom)) < 11: missing.append("11 SVG charts")
if missing:
    print("missing in the DOM:", missing); sys.exit(1)
print("   the DOM holds every indicator's numerator, denominator and rate")
PY
if [[ -n ${TTHC_REPORT_PNG:-} ]]; then cp report.png "$TTHC_REPORT_PNG" && cp report.html "${TTHC_REPORT_PNG%.png}.html"; fi
echo "3. HTML rendered by $(chromium --version 2>/dev/null | head -n1): $(stat -c %s report.png) bytes PNG"

# ---- 4. Vietnamese, QĐ 766, A4 ----------------------------------------------------
AT=2025-10-15T12:00:00+07:00 # a fixed evaluation instant: the report is reproducible
"$REPORT" --period 2025-09 --format html --at "$AT" --out vi.html 2>vi.log || it_fail "tthc-report (vi) failed"
"$REPORT" --ytd 2025-09 --format html --at "$AT" --out ytd.html 2>>vi.log || it_fail "tthc-report --ytd (vi) failed"
"$REPORT" --period 2025-09 --format json --at "$AT" --out vi.json 2>>vi.log || it_fail "tthc-report json failed"
sanitizer_check vi.log || it_fail "sanitizer report in vi.log"
# A test copy measures the layout at A4 width (the report itself has no script).
sed 's|</body>|<script>document.body.setAttribute("data-scroll-width", document.documentElement.scrollWidth)</script></body>|' \
    vi.html >vi-measure.html
for page in vi ytd vi-measure; do
    timeout 120 "${chrome[@]}" --user-data-dir="$(mktemp -d "$IT_DIR/chrome.XXXXXX")" --dump-dom --window-size=794,1123 \
        "file://$IT_DIR/$page.html" >"$page.dom.html" 2>>chrome.log || it_fail "chromium --dump-dom $page failed"
done
timeout 120 "${chrome[@]}" --user-data-dir="$(mktemp -d "$IT_DIR/chrome.XXXXXX")" --screenshot="$IT_DIR/vi-a4.png" \
    --window-size=794,1123 --hide-scrollbars "file://$IT_DIR/vi.html" >>chrome.log 2>&1 || it_fail "chromium screenshot (A4) failed"
[[ -s vi-a4.png ]] || it_fail "no A4 screenshot"
python3 - vi.dom.html ytd.dom.html vi-measure.dom.html vi-a4.png vi.json "$AT" <<'PY' || it_fail "the Vietnamese page is not what was expected"
import json, os, re, struct, subprocess, sys
from decimal import Decimal, ROUND_HALF_UP, ROUND_FLOOR
dom, ytd, measure, png, js, at = [open(p, encoding="utf-8").read() if p.endswith((".html", ".json")) else p for p in sys.argv[1:7]]
dsn = os.environ["TTHC_PG_DSN"]
def sql(q):
    out = subprocess.run(["psql", "-X", "-A", "-t", "-q", "-F", "\t", dsn, "-c", q], capture_output=True, text=True, check=True).stdout
    return [l.split("\t") for l in out.splitlines() if l]
def vn_int(n):
    return f"{int(n):,}".replace(",", ".")
def vn_dec(d):
    s = f"{Decimal(d):.2f}"
    whole, frac = s.split(".")
    return (("-" + vn_int(whole[1:])) if whole.startswith("-") else vn_int(whole)) + "," + frac
missing = []
def want(text, where=dom, what=None):
    if text not in where: missing.append(what or text)
# Vietnamese words, statuses and the page language
for text in ('lang="vi"', "Báo cáo chỉ tiêu cải cách TTHC", "Kết quả thực hiện so với chỉ tiêu kế hoạch", "Tỷ lệ so với chỉ tiêu",
             "Diễn biến theo tháng", "Đơn vị có tỷ lệ thấp nhất", "Đơn vị có tỷ lệ cao nhất", "Tiến độ thực hiện chỉ tiêu năm",
             "Điểm đánh giá theo QĐ 766/QĐ-TTg", "Điểm theo đơn vị", "Tiêu chí mất nhiều điểm nhất", "So sánh theo tháng",
             "Tỉnh Vĩnh Long (H61)", "chưa đạt, còn thiếu", "NQ 01/NQ-CP #3"):
    want(text)
for text in ("Rate against target", "Units, worst first", " pts<", "Xã số", ">met<"):
    if text in dom: missing.append("English or placeholder text on the Vietnamese page: " + text)
if re.search(r"behind [0-9]", dom): missing.append("English status 'behind N' on the Vietnamese page")
# every indicator's counts in Vietnamese format, its rate as shown (never rounded up to a target it misses)
targets = {}
for ind, t in sql("SELECT indicator, target_pct FROM indicator_target WHERE year = 2025"):
    targets.setdefault(ind, []).append(Decimal(t))
for ind, num, den in sql("""SELECT indicator, sum(numerator), sum(denominator) FROM indicator_totals
                            WHERE unit_code = 'H61' AND period = '2025-09' GROUP BY indicator"""):
    num, den = int(num), int(den)
    want(f">{vn_int(num)}<", what=f"{ind} numerator {vn_int(num)}")
    want(f">{vn_int(den)}<", what=f"{ind} denominator {vn_int(den)}")
    if den == 0: continue
    exact = Decimal(100 * num) / Decimal(den)
    shown = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if any(exact < t <= shown for t in targets.get(ind, [])):
        shown = exact.quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
    want(f"{vn_dec(shown)} %", what=f"{ind} rate {vn_dec(shown)} %")
    for t in targets.get(ind, []):
        if exact < t: want(f"chưa đạt, còn thiếu {vn_dec(t - shown)} điểm %", what=f"{ind}: behind {t - shown}")
        else: want("đạt</span>", what=f"{ind}: đạt")
# QĐ 766: the province's points and every unit's total, as the database computes them at the same instant
(total, mx, unk), = sql(f"""SELECT sum(points_known), sum(max_known), sum(max_unknown)
                           FROM qd766_groups('2025-09', '2025-09', '{at}', false) WHERE unit_code = 'H61'""")
want(f"{vn_dec(total)} / {vn_dec(mx)}", what=f"QĐ 766 province points {total} / {mx}")
want(f">{vn_dec(unk)}<", what=f"QĐ 766 points unknown {unk}")
units = sql(f"""SELECT unit_code, sum(points_known) FROM qd766_groups('2025-09', '2025-09', '{at}', false)
                WHERE unit_code LIKE 'H61.%' GROUP BY unit_code""")
table = dom[dom.index("Điểm theo đơn vị"):]
rows = re.findall(r'<tr[^>]*><td class="l">(H61\.[0-9.]+)(?: <small>([^<]*)</small>)?</td><td>(\d+)</td><td class="pts">([^<]*)</td>', table)
got = {code: pts for code, _, _, pts in rows}
if got != {u: vn_dec(p) for u, p in units}:
    missing.append(f"QĐ 766 points per unit differ: {len(got)} rows in the page, {len(units)} units in the database")
codes = [code for code, _, _, _ in rows]
key = lambda c: [int(p) for p in c.split(".")[1:]]
if codes != sorted(codes, key=key): missing.append("units not sorted by code as numbers: " + " ".join(codes[:12]))
names = {code: name for code, name, _, _ in rows}
if names.get("H61.101") not in (None, "Xã Cái Nhum") or names.get("H61.108") not in (None, "Phường Thanh Đức"):
    missing.append(f"real unit names: H61.101 {names.get('H61.101')!r}, H61.108 {names.get('H61.108')!r}")
if not any(n and (n.startswith("Xã ") or n.startswith("Phường ")) for n in names.values()):
    missing.append("no commune or ward name in the units table")
# JSON: the same points
j = json.loads(js)
if Decimal(str(j["qd766"]["scope"]["points_known"])) != Decimal(total): missing.append("JSON QĐ 766 points")
# Year to date: the months without dossiers (January to June) are left out, not shown as 0/0
for m in ("2025-01", "2025-06"):
    if f"<th>{m}</th>" in ytd: missing.append(f"empty month {m} shown")
for m in ("2025-07", "2025-08", "2025-09"): want(f"<th>{m}</th>", ytd, f"month {m} in the year-to-date trend")
# A4: nothing wider than the page at 794 CSS px
w = re.search(r'data-scroll-width="(\d+)"', measure)
if not w: missing.append("no layout measure")
elif int(w.group(1)) > 794: missing.append(f"the page is {w.group(1)} px wide at A4 width (794)")
data = open(png, "rb").read()
width, height = struct.unpack(">II", data[16:24])
if (width, height) != (794, 1123): missing.append(f"A4 screenshot is {width}x{height}")
if missing:
    print("\n".join(missing[:40])); sys.exit(1)
print(f"   Vietnamese page: {len(units)} units with QĐ 766 points, province {total} / {mx} known, {unk} unknown;"
      f" {w.group(1)} px wide at A4 width")
PY
# The print stylesheet: Chromium prints A4 portrait pages.
pdf_a4() { # FILE: every page A4 portrait (595 x 842 pt)
    python3 -c '
import re, sys
boxes = re.findall(rb"/MediaBox \[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]", open(sys.argv[1], "rb").read())
assert boxes and all(abs(float(w) - 595.3) < 1.5 and abs(float(h) - 841.9) < 1.5 for w, h in boxes), boxes[:3]
print(f"   {sys.argv[1]}: {len(boxes)} A4 portrait pages")' "$1"
}
timeout 120 "${chrome[@]}" --user-data-dir="$(mktemp -d "$IT_DIR/chrome.XXXXXX")" --no-pdf-header-footer \
    --print-to-pdf="$IT_DIR/vi.pdf" "file://$IT_DIR/vi.html" >>chrome.log 2>&1 || it_fail "chromium --print-to-pdf failed"
pdf_a4 vi.pdf || it_fail "the printed report is not A4 portrait"
rc=0
"$REPORT" --period 2025-09 --unit H61.999 >/dev/null 2>unknown.log || rc=$?
((rc == 2)) && grep -q "unknown unit H61.999" unknown.log || it_fail "an unknown --unit: exit $rc, $(cat unknown.log)"
for fmt in table csv json html; do
    "$REPORT" --period 2025-09 --qd766-only --at "$AT" --format "$fmt" --out "qd.$fmt" 2>qd.log || it_fail "--qd766-only $fmt failed"
done
grep -q "Điểm đánh giá theo QĐ 766" qd.table || it_fail "--qd766-only table: no QĐ 766 section"
grep -q "online_submission" qd.table && it_fail "--qd766-only table shows the indicators"
[[ $(cut -d, -f1 qd.csv | sort -u | tr '\n' ' ') == "qd766_group qd766_metric qd766_month qd766_total section " ]] ||
    it_fail "--qd766-only csv sections: $(cut -d, -f1 qd.csv | sort -u | tr '\n' ' ')"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert "qd766" in j and "indicators" not in j' qd.json ||
    it_fail "--qd766-only json"
grep -q 'id="qd766"' qd.html && ! grep -q "Kết quả thực hiện so với chỉ tiêu" qd.html || it_fail "--qd766-only html"
echo "4. Vietnamese page, QĐ 766 points, A4 width, unknown unit, --qd766-only in 4 formats"

# ---- 5. the stub's page ---------------------------------------------------------
printf 'it-report-token-0123456789\n' >token
TTHC_READY_CMD="[[ -s '$IT_DIR/stub.port' ]] && curl -sf \"http://127.0.0.1:\$(cat '$IT_DIR/stub.port')/healthz\"" \
    TTHC_READY_TIMEOUT=30 daemon_start "$IT_DIR" tthc-portal-stub --listen 127.0.0.1:0 --port-file "$IT_DIR/stub.port" \
    --dsn "$TTHC_PG_DSN" --token-file "$IT_DIR/token" || it_fail "the portal stub did not start"
stub="http://127.0.0.1:$(cat stub.port)"
it_sql "SELECT json_build_object('unit_code', unit_code, 'period', period, 'revision', 1,
               'generated_at', '2025-10-01T00:00:00+07:00',
               'indicators', json_agg(json_build_object('code', indicator, 'numerator', numerator,
                                                        'denominator', denominator)))
        FROM indicator_totals WHERE period = '2025-09' GROUP BY unit_code, period" >reports.jsonl
n=0
while IFS= read -r body; do
    n=$((n + 1))
    code=$(curl -sS -o post.out -w '%{http_code}' -H "Authorization: Bearer it-report-token-0123456789" \
        -H 'Content-Type: application/json' -H "Idempotency-Key: it-report-$n" --data-binary "$body" \
        "$stub/api/v1/indicator-reports") || code=000
    [[ $code == 200 || $code == 201 ]] || it_fail "posting report $n: HTTP $code $(head -c 300 post.out)"
done <reports.jsonl
curl -sSf "$stub/?period=2025-09" -o stub.html || it_fail "GET / of the stub"
sed 's|</body>|<script>document.body.setAttribute("data-scroll-width", document.documentElement.scrollWidth)</script></body>|' \
    stub.html >stub-measure.html
timeout 120 "${chrome[@]}" --user-data-dir="$(mktemp -d "$IT_DIR/chrome.XXXXXX")" --dump-dom --window-size=794,1123 \
    "file://$IT_DIR/stub-measure.html" >stub.dom.html 2>>chrome.log || it_fail "chromium --dump-dom of the stub's page"
timeout 120 "${chrome[@]}" --user-data-dir="$(mktemp -d "$IT_DIR/chrome.XXXXXX")" --screenshot="$IT_DIR/stub-a4.png" \
    --window-size=794,1123 --hide-scrollbars "file://$IT_DIR/stub.html" >>chrome.log 2>&1 || it_fail "stub screenshot"
[[ -s stub-a4.png ]] || it_fail "no screenshot of the stub's page"
python3 - stub.dom.html "$n" <<'PY' || it_fail "the stub's page is not what was expected"
import os, re, subprocess, sys
from decimal import Decimal
dom, posted = open(sys.argv[1], encoding="utf-8").read(), int(sys.argv[2])
dsn = os.environ["TTHC_PG_DSN"]
def sql(q):
    out = subprocess.run(["psql", "-X", "-A", "-t", "-q", "-F", "\t", dsn, "-c", q], capture_output=True, text=True, check=True).stdout
    return [l.split("\t") for l in out.splitlines() if l]
def vn(d):
    s = f"{Decimal(d):.2f}"; w, f = s.split(".")
    return f"{int(w):,}".replace(",", ".") + "," + f
bad = []
for text in ('lang="vi"', "Điểm QĐ 766", "Tên đơn vị", "Kỳ báo cáo", "chưa đạt"):
    if text not in dom: bad.append("missing: " + text)
rows = re.findall(r'<tr(?: class="prov")?><td class="unit">(H61[0-9.]*)</td><td class="name">([^<]*)</td>.*?'
                  r'<td class="pts">([^<]*)<br><small>/ ([^<]*?)(?: · hạng (\d+))?</small></td>', dom)
if len(rows) != posted: bad.append(f"{len(rows)} rows with points, {posted} reports posted")
want = {u: (vn(p), vn(m), r) for u, p, m, r in sql("""SELECT unit_code, sum(points_known), sum(max_known),
        CASE WHEN unit_code LIKE '%.%' THEN rank() OVER (PARTITION BY unit_code LIKE '%.%' ORDER BY sum(points_known) DESC)::text
             ELSE '' END
        FROM qd766_groups('2025-09', '2025-09', now(), true) GROUP BY unit_code""")}
got = {u: (p, m, r) for u, _, p, m, r in rows}
diff = [u for u in want if got.get(u) != want[u]]
if diff: bad.append(f"points differ for {len(diff)} units, e.g. {diff[0]}: page {got.get(diff[0])}, database {want[diff[0]]}")
codes = [u for u, *_ in rows]
if codes != sorted(codes, key=lambda c: [int(x) for x in c.split(".")[1:]] if "." in c else []):
    bad.append("units not sorted by code as numbers: " + " ".join(codes[:10]))
names = {u: n for u, n, *_ in rows}
if "H61.101" in names and names["H61.101"] != "Xã Cái Nhum": bad.append(f"H61.101 is {names['H61.101']!r}")
if any(re.match(r"Xã số", n) for n in names.values()): bad.append("placeholder names")
(rec,), = sql("SELECT denominator FROM indicator_totals WHERE unit_code = 'H61' AND period = '2025-09' AND indicator = 'online_submission'")
if f" / {int(rec):,}".replace(",", ".") not in dom: bad.append(f"received {rec} not in Vietnamese format")
w = re.search(r'data-scroll-width="(\d+)"', dom)
if not w or int(w.group(1)) > 794: bad.append(f"the page is {w.group(1) if w else '?'} px wide at A4 width (794)")
if bad:
    print("\n".join(bad)); sys.exit(1)
print(f"   stub page: {len(rows)} units with QĐ 766 points equal to the database's, {w.group(1)} px wide at A4 width")
PY
timeout 120 "${chrome[@]}" --user-data-dir="$(mktemp -d "$IT_DIR/chrome.XXXXXX")" --no-pdf-header-footer \
    --print-to-pdf="$IT_DIR/stub.pdf" "file://$IT_DIR/stub.html" >>chrome.log 2>&1 || it_fail "chromium --print-to-pdf (stub)"
pdf_a4 stub.pdf || it_fail "the printed stub page is not A4 portrait"
daemon_stop "$IT_DIR" tthc-portal-stub || it_fail "the stub did not stop"
sanitizer_check tthc-portal-stub.log || it_fail "sanitizer report in the stub's log"
echo "5. the stub's page: Vietnamese, QĐ 766 points per unit, A4 width"
echo "it_report: ok"
