/* render_html.c - the report as one self-contained HTML page; see render.h.
 * Text goes through html() (escaped), numbers through fprintf; the charts
 * are inline SVG; no script and no external asset. */
#include <string.h>

#include "render.h"
#include "html.h"

/* Escaped text (common/html.h). */
static void html(FILE *f, const char *s)
{
    tthc_html_write(f, s);
}

static const char css[] =
    "*{box-sizing:border-box}"
    "body{font:14px/1.45 'DejaVu Sans',system-ui,sans-serif;margin:0;color:#1d2733;background:#f4f6f9}"
    "main{max-width:1240px;margin:0 auto;padding:24px 28px 40px}"
    "header{background:#12355b;color:#fff;padding:20px 28px}"
    "header .inner{max-width:1240px;margin:0 auto}"
    "header h1{margin:0;font-size:22px;font-weight:600}"
    "header p{margin:4px 0 0;color:#c9d6e6;font-size:13px}"
    "h2{font-size:17px;margin:28px 0 10px;color:#12355b}"
    ".cards{display:flex;gap:14px;margin-top:18px}"
    ".card{flex:1;background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:12px 16px}"
    ".card b{display:block;font-size:24px;color:#12355b}.card span{color:#5b6b7c;font-size:12px}"
    "table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dde3ea}"
    "th,td{padding:6px 10px;border-bottom:1px solid #e8ecf1;text-align:right;vertical-align:top}"
    "th{background:#eef2f7;font-weight:600;font-size:12px;color:#3d4b5c}"
    "td.l,th.l{text-align:left}td small{color:#6b7a8a}"
    ".badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;white-space:nowrap}"
    ".met{background:#dcefdc;color:#1e6b25}.behind{background:#f9dede;color:#a11d1d}.none{background:#e6e9ee;color:#56606b}"
    ".panel{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:12px}"
    ".grid{display:grid;grid-template-columns:repeat(5,1fr);gap:12px}"
    ".grid .panel h3{margin:0 0 4px;font-size:12px;color:#3d4b5c;font-weight:600;height:32px;overflow:hidden}"
    ".worst{display:grid;grid-template-columns:repeat(2,1fr);gap:12px}"
    ".worst h3{margin:0 0 6px;font-size:13px;color:#12355b}"
    ".worst table{border:0}.worst td,.worst th{padding:3px 6px;font-size:12px}"
    ".legend{font-size:12px;color:#5b6b7c;margin:6px 0 0}"
    ".legend i{display:inline-block;width:12px;height:12px;vertical-align:-2px;margin:0 4px 0 12px;border-radius:2px}"
    "footer{max-width:1240px;margin:0 auto;padding:0 28px 30px;color:#6b7a8a;font-size:12px}";

/* Colours: every target met, some met, none met, no target. */
#define COL_MET "#2e7d32"
#define COL_SOME "#e0a21b"
#define COL_BEHIND "#c62828"
#define COL_NONE "#7d8a97"

/* 2 all targets met, 1 some, 0 none, -1 no target or no data. */
static int met_level(const report_data *d, int i, report_nd nd)
{
    if (!d->ntargets[i] || nd.den <= 0) return -1;
    int met = 0;
    int64_t b;
    for (int t = 0; t < d->ntargets[i]; t++) met += report_status(nd, d->targets[i][t].centi, &b) > 0;
    return met == d->ntargets[i] ? 2 : met ? 1 : 0;
}

static const char *level_colour(int level)
{
    return level == 2 ? COL_MET : level == 1 ? COL_SOME : level == 0 ? COL_BEHIND : COL_NONE;
}

static const char *ind_label(const report_data *d, int i)
{
    return d->name_vi[i][0] ? d->name_vi[i] : tthc_indicators[i].code;
}

static void head(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    char months[32];
    report_months_str(&d->period, months, sizeof months);
    fputs("<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>",
          f);
    fputs("TTHC report ", f);
    html(f, d->scope);
    fputs(" ", f);
    html(f, d->period.label);
    fprintf(f, "</title><style>%s</style></head><body>\n<header><div class=\"inner\"><h1>", css);
    fputs("Báo cáo chỉ tiêu cải cách TTHC · ", f);
    html(f, d->scope_name ? d->scope_name : d->scope);
    if (d->scope_name) {
        fputs(" (", f);
        html(f, d->scope);
        fputs(")", f);
    }
    fputs(" · ", f);
    html(f, d->period.label);
    fputs("</h1><p>TTHC reform indicators against the targets of plan 18/KH-UBND (section III) · months ", f);
    html(f, months);
    fputs(" · counts summed from <code>period_totals</code>, never averaged rates · generated ", f);
    html(f, d->generated_at);
    fputs("</p></div></header>\n<main>\n", f);
}

static void cards(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    int targets = 0, met = 0;
    int64_t b;
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++)
        for (int t = 0; t < d->ntargets[i]; t++) {
            int s = report_status(v->total[i], d->targets[i][t].centi, &b);
            if (s < 0) continue;
            targets++;
            met += s > 0;
        }
    report_nd rec = v->total[TTHC_IND_ONLINE_SUBMISSION], iss = v->total[TTHC_IND_E_RESULT];
    fprintf(f, "<div class=\"cards\"><div class=\"card\"><b>%d / %d</b><span>targets met</span></div>", met, targets);
    fprintf(f, "<div class=\"card\"><b>%lld</b><span>dossiers received</span></div>", (long long)rec.den);
    fprintf(f, "<div class=\"card\"><b>%lld</b><span>results issued</span></div>", (long long)iss.den);
    fprintf(f, "<div class=\"card\"><b>%lld</b><span>payments</span></div>",
            (long long)v->total[TTHC_IND_ONLINE_PAYMENT].den);
    if (d->province_scope) {
        size_t n = 0;
        unsigned mask = ((1u << d->period.last) - 1) & ~((1u << (d->period.first - 1)) - 1);
        for (size_t u = 0; u < d->nunits; u++) n += (d->units[u].present & mask) != 0;
        fprintf(f, "<div class=\"card\"><b>%zu</b><span>units reporting</span></div>", n);
    }
    fputs("</div>\n", f);
    if (!v->has_data) fputs("<p class=\"legend\">No data for this scope in this period.</p>\n", f);
    if (v->mismatch_months)
        fprintf(f, "<p class=\"legend\">Warning: in %d month(s) the units do not add up to the province roll-up.</p>\n",
                v->mismatch_months);
}

static void summary_table(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    char rate[32], tgt[32], st[64];
    fputs("<h2>Indicators against the plan's targets</h2>\n<table><thead><tr><th class=\"l\">Indicator</th>"
          "<th>Numerator</th><th>Denominator</th><th>Rate</th><th class=\"l\">Targets (source) and status</th>",
          f);
    if (!d->province_scope) fputs("<th>Place among units<br><small>1 = worst</small></th>", f);
    fputs("</tr></thead><tbody>\n", f);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        report_nd nd = v->total[i];
        fputs("<tr><td class=\"l\">", f);
        html(f, ind_label(d, i));
        fputs("<br><small>", f);
        html(f, tthc_indicators[i].code);
        fprintf(f, "</small></td><td>%lld</td><td>%lld</td><td><b>%s%s</b></td><td class=\"l\">", (long long)nd.num,
                (long long)nd.den, nd.den ? report_rate_str(nd, rate, sizeof rate) : "–", nd.den ? "%" : "");
        if (!d->ntargets[i]) fputs("<span class=\"badge none\">no target in the plan</span>", f);
        for (int t = 0; t < d->ntargets[i]; t++) {
            int64_t b;
            int s = report_status(nd, d->targets[i][t].centi, &b);
            report_fmt_centi(d->targets[i][t].centi, tgt, sizeof tgt);
            fprintf(f, "%s%s%% <small>(", t ? "<br>" : "", tgt);
            html(f, d->targets[i][t].source_doc);
            fprintf(f, ")</small> <span class=\"badge %s\">%s</span>", s > 0 ? "met" : s == 0 ? "behind" : "none",
                    report_status_str(nd, d->targets[i][t].centi, st, sizeof st));
        }
        fputs("</td>", f);
        if (!d->province_scope) {
            if (v->scope_rank[i]) fprintf(f, "<td>%d / %zu</td>", v->scope_rank[i], v->nrank[i]);
            else fputs("<td>–</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

/* Chart 1: one horizontal bar per indicator, 0-100 %, a line at each target. */
static void bar_chart(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    const int label_w = 300, x0 = 310, w = 760, row = 34, top = 26, height = top + row * TTHC_INDICATOR_COUNT + 8;
    char rate[32];
    fputs("<h2>Rate against target</h2>\n<div class=\"panel\">", f);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%%\" viewBox=\"0 0 1190 %d\" role=\"img\" "
               "aria-label=\"rate against target per indicator\" font-family=\"DejaVu Sans, sans-serif\">",
            height);
    for (int p = 0; p <= 100; p += 20) {
        double gx = x0 + w * p / 100.0;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e3e8ee\"/>", gx, top - 4, gx, height - 6);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" fill=\"#6b7a8a\" text-anchor=\"middle\">%d%%</text>", gx,
                top - 10, p);
    }
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        report_nd nd = v->total[i];
        int y = top + i * row;
        int64_t c = 0;
        bool has = report_rate_centi(nd, &c);
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"13\" fill=\"#1d2733\" text-anchor=\"end\">", label_w, y + 17);
        html(f, ind_label(d, i));
        fputs("</text>", f);
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"20\" fill=\"#f0f3f7\"/>", x0, y + 3, w);
        if (has)
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"20\" fill=\"%s\" rx=\"2\"/>", x0, y + 3,
                    w * (double)c / 10000.0, level_colour(met_level(d, i, nd)));
        for (int t = 0; t < d->ntargets[i]; t++) {
            double tx = x0 + w * (double)d->targets[i][t].centi / 10000.0;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#111\" stroke-width=\"2.5\"/>", tx, y,
                    tx, y + 26);
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" fill=\"#111\" stroke=\"#fff\" stroke-width=\"2.5\" "
                       "paint-order=\"stroke\" text-anchor=\"%s\">%lld</text>",
                    tx + (tx > x0 + w - 20 ? -4 : 4), y + 8, tx > x0 + w - 20 ? "end" : "start",
                    (long long)(d->targets[i][t].centi / 100));
        }
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"13\" font-weight=\"bold\" fill=\"#1d2733\">%s%s</text>",
                x0 + w + 14, y + 18, has ? report_rate_str(nd, rate, sizeof rate) : "no data", has ? "%" : "");
    }
    fputs("</svg><p class=\"legend\">Bars: rate over the period"
          "<i style=\"background:" COL_MET "\"></i>every target met<i style=\"background:" COL_SOME
          "\"></i>some met<i style=\"background:" COL_BEHIND "\"></i>behind<i style=\"background:" COL_NONE
          "\"></i>no target<i style=\"background:#111;width:3px\"></i>target</p></div>\n",
          f);
}

/* Chart 2: one small line chart per indicator, rate month by month, dashed targets. */
static void trend_panel(const report_ctx *x, FILE *f, int i)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    const double W = 220, H = 150, L = 34, R = 10, T = 10, B = 22;
    int64_t lo = 10000, hi = 0, c;
    for (int k = 0; k < v->nmonths; k++)
        if (report_rate_centi(v->trend[k][i], &c)) {
            if (c < lo) lo = c;
            if (c > hi) hi = c;
        }
    for (int t = 0; t < d->ntargets[i]; t++) {
        if (d->targets[i][t].centi < lo) lo = d->targets[i][t].centi;
        if (d->targets[i][t].centi > hi) hi = d->targets[i][t].centi;
    }
    if (lo > hi) lo = 0, hi = 10000;
    /* whole steps of 5 points around the values, at least 10 points tall */
    int64_t ylo = (lo - 200) / 500 * 500, yhi = (hi + 200 + 499) / 500 * 500;
    if (ylo < 0) ylo = 0;
    if (yhi > 10000) yhi = 10000;
    if (yhi - ylo < 1000) {
        if (yhi - 1000 >= 0) ylo = yhi - 1000;
        else yhi = ylo + 1000;
    }
    if ((yhi - ylo) % 1000) { /* an even number of 5-point steps: the middle line is a whole step too */
        if (yhi + 500 <= 10000) yhi += 500;
        else ylo -= 500;
    }
#define PX(k) (v->nmonths > 1 ? L + (W - L - R) * (double)(k) / (double)(v->nmonths - 1) : L + (W - L - R) / 2)
#define PY(cc) (T + (H - T - B) * (1.0 - (double)((cc) - ylo) / (double)(yhi - ylo)))
    fputs("<div class=\"panel\"><h3>", f);
    html(f, ind_label(d, i));
    fprintf(f, "</h3><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%%\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
               "font-family=\"DejaVu Sans, sans-serif\">",
            W, H);
    for (int g = 0; g <= 2; g++) {
        int64_t gc = ylo + (yhi - ylo) * g / 2;
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#e3e8ee\"/>", L, PY(gc), W - R, PY(gc));
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"10\" fill=\"#6b7a8a\" text-anchor=\"end\">%lld</text>", L - 4,
                PY(gc) + 3, (long long)(gc / 100));
    }
    for (int t = 0; t < d->ntargets[i]; t++)
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#111\" stroke-dasharray=\"5 3\" "
                   "stroke-width=\"1.2\"/>",
                L, PY(d->targets[i][t].centi), W - R, PY(d->targets[i][t].centi));
    fputs("<polyline fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"2\" points=\"", f);
    for (int k = 0; k < v->nmonths; k++)
        if (report_rate_centi(v->trend[k][i], &c)) fprintf(f, "%.1f,%.1f ", PX(k), PY(c));
    fputs("\"/>", f);
    int last = -1;
    for (int k = 0; k < v->nmonths; k++) {
        char m[8];
        report_month_str(d->period.year, v->months[k], m);
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"10\" fill=\"#6b7a8a\" text-anchor=\"middle\">%s</text>", PX(k),
                H - 6, m + 5);
        if (!report_rate_centi(v->trend[k][i], &c)) continue;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1f5fa8\"/>", PX(k), PY(c));
        last = k;
    }
    if (last >= 0 && report_rate_centi(v->trend[last][i], &c)) {
        char r[32];
        report_fmt_centi(c, r, sizeof r);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" font-weight=\"bold\" fill=\"#1f5fa8\" "
                   "stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\" text-anchor=\"%s\">%s</text>",
                PX(last), PY(c) - 7 < T + 8 ? PY(c) + 15 : PY(c) - 7, v->nmonths > 1 ? "end" : "middle", r);
    }
#undef PX
#undef PY
    fputs("</svg></div>", f);
}

static void trend_charts(const report_ctx *x, FILE *f)
{
    fputs("<h2>Trend month by month</h2>\n<div class=\"grid\">", f);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) trend_panel(x, f, i);
    fputs("</div><p class=\"legend\">Rate in % per month of receipt (cohort month, Vietnam time)"
          "<i style=\"background:#1f5fa8\"></i>rate<i style=\"background:#111;height:2px;vertical-align:3px\"></i>"
          "target (dashed)</p>\n",
          f);
}

static void trend_table(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    char m[8], r[32];
    fputs("<table style=\"margin-top:12px\"><thead><tr><th class=\"l\">Indicator</th>", f);
    for (int k = 0; k < v->nmonths; k++) {
        report_month_str(d->period.year, v->months[k], m);
        fprintf(f, "<th>%s</th>", m);
    }
    fputs("<th>Change<br><small>last month, pts</small></th></tr></thead><tbody>\n", f);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        fputs("<tr><td class=\"l\">", f);
        html(f, tthc_indicators[i].code);
        fputs("</td>", f);
        for (int k = 0; k < v->nmonths; k++) {
            report_nd nd = v->trend[k][i];
            fprintf(f, "<td>%s<br><small>%lld/%lld</small></td>", nd.den ? report_rate_str(nd, r, sizeof r) : "–",
                    (long long)nd.num, (long long)nd.den);
        }
        int64_t a, b;
        if (v->nmonths >= 2 && report_rate_centi(v->trend[v->nmonths - 1][i], &a) &&
            report_rate_centi(v->trend[v->nmonths - 2][i], &b)) {
            report_fmt_centi(a - b, r, sizeof r);
            fprintf(f, "<td>%s%s</td>", a - b >= 0 ? "+" : "", r);
        } else {
            fputs("<td>–</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

static void worst_units(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    char r[32];
    fprintf(f, "<h2>Units, worst first</h2>\n<p class=\"legend\">Units with a denominator of at least %lld in the "
               "period; %d shown per indicator.</p>\n<div class=\"worst\">",
            (long long)d->min_den, x->top);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        fputs("<div class=\"panel\"><h3>", f);
        html(f, ind_label(d, i));
        fprintf(f, " <small>(%zu units ranked)</small></h3><table><thead><tr><th>#</th><th class=\"l\">Unit</th>"
                   "<th>Rate</th><th>Num / den</th></tr></thead><tbody>",
                v->nrank[i]);
        for (size_t k = 0; k < v->nrank[i] && (int)k < x->top; k++) {
            const report_rank_entry *e = &v->rank[i][k];
            const report_unit *u = &d->units[e->unit];
            int lvl = met_level(d, i, e->nd);
            fprintf(f, "<tr%s><td>%zu</td><td class=\"l\">", strcmp(u->code, d->scope) ? "" : " style=\"font-weight:bold\"",
                    k + 1);
            html(f, u->code);
            if (u->name) {
                fputs(" <small>", f);
                html(f, u->name);
                fputs("</small>", f);
            }
            fprintf(f, "</td><td style=\"color:%s\"><b>%s%%</b></td><td>%lld / %lld</td></tr>", level_colour(lvl),
                    report_rate_str(e->nd, r, sizeof r), (long long)e->nd.num, (long long)e->nd.den);
        }
        if (!v->nrank[i]) fputs("<tr><td colspan=\"4\" class=\"l\"><small>no unit with enough data</small></td></tr>", f);
        fputs("</tbody></table></div>", f);
    }
    fputs("</div>\n", f);
}

tthc_rc report_render_html(const report_ctx *x, FILE *f, tthc_err *err)
{
    head(x, f);
    cards(x, f);
    summary_table(x, f);
    bar_chart(x, f);
    trend_charts(x, f);
    trend_table(x, f);
    worst_units(x, f);
    fputs("</main>\n<footer>Rates are numerator / denominator of counts summed over the period and scope "
          "(docs/indicators.md); statuses compare them exactly with each target of indicator_target. "
          "Produced by tthc-report.</footer>\n</body></html>\n",
          f);
    return ferror(f) ? tthc_fail(err, TTHC_EIO, "write failed") : TTHC_OK;
}
