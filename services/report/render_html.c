/* render_html.c - the report as one self-contained HTML page; see report_render.h.
 * Text goes through html() (escaped), numbers through fprintf; the charts
 * are inline SVG; no script and no external asset. */
#include <string.h>

#include "html.h"
#include "report_render.h"

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
    ".met{background:#dcefdc;color:#1e6b25}.behind{background:#f9dede;color:#a11d1d}.none{background:#e6e9ee;color:#"
    "56606b}"
    ".panel{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:12px}"
    ".grid{display:grid;grid-template-columns:repeat(5,1fr);gap:12px}"
    ".grid .panel h3{margin:0 0 4px;font-size:12px;color:#3d4b5c;font-weight:600;height:32px;overflow:hidden}"
    ".worst{display:grid;grid-template-columns:repeat(2,1fr);gap:12px}"
    ".worst h3{margin:0 0 6px;font-size:13px;color:#12355b}"
    ".worst table{border:0}.worst td,.worst th{padding:3px 6px;font-size:12px}"
    ".legend{font-size:12px;color:#5b6b7c;margin:6px 0 0}"
    ".legend i{display:inline-block;width:12px;height:12px;vertical-align:-2px;margin:0 4px 0 12px;border-radius:2px}"
    "footer{max-width:1240px;margin:0 auto;padding:0 28px 30px;color:#6b7a8a;font-size:12px}"
    /* narrow screens and A4 (794 CSS px): nothing wider than the page */
    "th,td.l{overflow-wrap:anywhere}td{white-space:nowrap}td.l,.trend td{white-space:normal}"
    "svg{max-width:100%;height:auto}"
    ".trend td,.trend th{padding:4px 5px;font-size:11px}.qd td,.qd th{padding:4px 6px;font-size:12px}"
    ".pts{font-weight:600;color:#12355b}.unk{color:#8a5a00}.up{color:#1e6b25}.down{color:#a11d1d}"
    ".bar{display:inline-block;height:9px;background:#1f5fa8;border-radius:2px;vertical-align:middle}"
    ".barbg{display:inline-block;width:90px;height:9px;background:#e3e8ee;border-radius:2px;vertical-align:middle;"
    "margin-right:6px;overflow:hidden;line-height:0}"
    "@media (max-width:900px){main{padding:16px 12px 28px}header{padding:14px 12px}footer{padding:0 12px 20px}"
    ".cards{flex-wrap:wrap}.card{flex:1 1 130px}.grid{grid-template-columns:repeat(3,1fr)}"
    ".worst{grid-template-columns:1fr}th,td{padding:4px 5px}}"
    /* the printed form (A4 portrait), as the provincial office files it monthly */
    "@page{size:A4 portrait;margin:12mm 11mm}"
    "@media print{*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "body{background:#fff;font-size:10.5px}header{background:#fff;color:#000;padding:0 0 6px;"
    "border-bottom:2px solid #12355b}header h1{font-size:16px;color:#12355b}header p{color:#333}"
    "main,footer,header .inner{max-width:none;padding-left:0;padding-right:0}main{padding-top:8px}"
    ".cards{gap:6px}.card{padding:6px 8px}.card b{font-size:16px}"
    ".grid{grid-template-columns:repeat(4,1fr);gap:6px}.worst{grid-template-columns:repeat(2,1fr);gap:6px}"
    ".panel,tr,.card{break-inside:avoid}h2{break-after:avoid;font-size:13px;margin:14px 0 6px}"
    "th,td{padding:3px 5px}}";

/* Colours: every target met, some met, none met, no target. */
#define COL_MET    "#2e7d32"
#define COL_SOME   "#e0a21b"
#define COL_BEHIND "#c62828"
#define COL_NONE   "#7d8a97"

/* 2 all targets met, 1 some, 0 none, -1 no target or no data. */
static int met_level(const report_data *d, int i, report_nd nd)
{
    if (!d->ntargets[i] || nd.den <= 0) return -1;
    int met = 0;
    int64_t b;
    for (int t = 0; t < d->ntargets[i]; t++) met += report_status(nd, d->targets[i][t].centi, &b) == REPORT_TARGET_MET;
    return met == d->ntargets[i] ? 2 : met ? 1 : 0;
}

static const char *level_colour(int level)
{
    return level == 2 ? COL_MET : level == 1 ? COL_SOME : level == 0 ? COL_BEHIND : COL_NONE;
}

static const char *ind_label(const report_ctx *x, int i)
{
    return report_indicator_label(x->d, i, x->lang);
}

/* Counts and percentages in the page's language. */
static const char *cnt(const report_ctx *x, int64_t v, char *buf, size_t len)
{
    return report_fmt_count(v, x->lang, buf, len);
}

static void head(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_text *T = report_text_of(x->lang);
    char months[32];
    report_months_str(&d->period, months, sizeof months);
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>",
            T->html_lang);
    html(f, T->title);
    fputs(" ", f);
    html(f, d->scope);
    fputs(" ", f);
    html(f, d->period.label);
    fprintf(f, "</title><style>%s</style></head><body>\n<header><div class=\"inner\"><h1>", css);
    html(f, x->qd_only ? T->q_h : T->h1);
    fputs(" · ", f);
    html(f, d->scope_name ? d->scope_name : d->scope);
    if (d->scope_name) {
        fputs(" (", f);
        html(f, d->scope);
        fputs(")", f);
    }
    fputs(" · ", f);
    html(f, d->period.label);
    fputs("</h1><p>", f);
    html(f, T->sub_months);
    html(f, months);
    html(f, T->sub_counts);
    html(f, d->generated_at);
    fputs("</p></div></header>\n<main>\n", f);
}

static void cards(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    const report_text *T = report_text_of(x->lang);
    char b1[32];
    int targets = 0, met = 0;
    int64_t b;
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++)
        for (int t = 0; t < d->ntargets[i]; t++) {
            report_target_status s = report_status(v->total[i], d->targets[i][t].centi, &b);
            if (s == REPORT_TARGET_NO_DATA) continue;
            targets++;
            met += s == REPORT_TARGET_MET;
        }
    report_nd rec = v->total[TTHC_IND_ONLINE_SUBMISSION], iss = v->total[TTHC_IND_E_RESULT];
    fprintf(f, "<div class=\"cards\"><div class=\"card\"><b>%d / %d</b><span>%s</span></div>", met, targets,
            T->card_targets);
    fprintf(f, "<div class=\"card\"><b>%s</b><span>%s</span></div>", cnt(x, rec.den, b1, sizeof b1), T->card_received);
    fprintf(f, "<div class=\"card\"><b>%s</b><span>%s</span></div>", cnt(x, iss.den, b1, sizeof b1), T->card_issued);
    fprintf(f, "<div class=\"card\"><b>%s</b><span>%s</span></div>",
            cnt(x, v->total[TTHC_IND_ONLINE_PAYMENT].den, b1, sizeof b1), T->card_payments);
    if (d->province_scope) {
        size_t n = 0;
        unsigned mask = ((1u << d->period.last) - 1) & ~((1u << (d->period.first - 1)) - 1);
        for (size_t u = 0; u < d->nunits; u++) n += (d->units[u].present & mask) != 0;
        fprintf(f, "<div class=\"card\"><b>%zu</b><span>%s</span></div>", n, T->card_units);
    }
    fputs("</div>\n", f);
    if (!v->has_data) fprintf(f, "<p class=\"legend\">%s</p>\n", T->no_data);
    if (v->mismatch_months) {
        char n[16], msg[256];
        snprintf(n, sizeof n, "%d", v->mismatch_months);
        fputs("<p class=\"legend\">", f);
        html(f, report_subst(T->mismatch_fmt, n, NULL, msg, sizeof msg));
        fputs("</p>\n", f);
    }
}

static void summary_table(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    const report_text *T = report_text_of(x->lang);
    char rate[32], tgt[32], st[96], b1[32], b2[32];
    fprintf(f,
            "<h2>%s</h2>\n<table><thead><tr><th class=\"l\">%s</th><th>%s</th><th>%s</th><th>%s</th>"
            "<th class=\"l\">%s</th>",
            T->h_summary, T->th_indicator, T->th_num, T->th_den, T->th_rate, T->th_targets);
    if (!d->province_scope) fprintf(f, "<th>%s<br><small>%s</small></th>", T->th_place, T->th_place_note);
    fputs("</tr></thead><tbody>\n", f);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        report_nd nd = v->total[i];
        fputs("<tr><td class=\"l\">", f);
        html(f, ind_label(x, i));
        fputs("<br><small>", f);
        if (x->lang == REPORT_EN && d->name_vi[i][0]) {
            html(f, d->name_vi[i]);
            fputs(" · ", f);
        }
        html(f, tthc_indicators[i].code);
        fprintf(f, "</small></td><td>%s</td><td>%s</td><td><b>%s</b></td><td class=\"l\">",
                cnt(x, nd.num, b1, sizeof b1), cnt(x, nd.den, b2, sizeof b2),
                nd.den ? report_rate_text(d, i, nd, x->lang, rate, sizeof rate) : "–");
        if (!d->ntargets[i]) fprintf(f, "<span class=\"badge none\">%s</span>", T->no_target);
        for (int t = 0; t < d->ntargets[i]; t++) {
            int64_t b;
            report_target_status s = report_status(nd, d->targets[i][t].centi, &b);
            fprintf(f, "%s%s <small>(", t ? "<br>" : "",
                    report_fmt_pct(d->targets[i][t].centi, x->lang, tgt, sizeof tgt));
            html(f, d->targets[i][t].source_doc);
            fprintf(f, ")</small> <span class=\"badge %s\">",
                    s == REPORT_TARGET_MET      ? "met"
                    : s == REPORT_TARGET_BEHIND ? "behind"
                                                : "none");
            html(f, report_status_text(d, i, nd, t, x->lang, st, sizeof st));
            fputs("</span>", f);
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
    const report_text *T = report_text_of(x->lang);
    const int label_w = 300, x0 = 310, w = 760, row = 34, top = 26, height = top + row * TTHC_INDICATOR_COUNT + 8;
    char rate[32];
    fprintf(f, "<h2>%s</h2>\n<div class=\"panel\">", T->h_bar);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%%\" viewBox=\"0 0 1190 %d\" role=\"img\" "
            "aria-label=\"%s\" font-family=\"DejaVu Sans, sans-serif\">",
            height, T->bar_aria);
    for (int p = 0; p <= 100; p += 20) {
        double gx = x0 + w * p / 100.0;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e3e8ee\"/>", gx, top - 4, gx,
                height - 6);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" fill=\"#6b7a8a\" text-anchor=\"middle\">%d%s</text>", gx,
                top - 10, p, x->lang == REPORT_VI ? " %" : "%");
    }
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        report_nd nd = v->total[i];
        int y = top + i * row;
        int64_t c = 0;
        bool has = report_rate_centi(nd, &c);
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"13\" fill=\"#1d2733\" text-anchor=\"end\">", label_w, y + 17);
        html(f, ind_label(x, i));
        fputs("</text>", f);
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"20\" fill=\"#f0f3f7\"/>", x0, y + 3, w);
        if (has)
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"20\" fill=\"%s\" rx=\"2\"/>", x0, y + 3,
                    w * (double)c / 10000.0, level_colour(met_level(d, i, nd)));
        for (int t = 0; t < d->ntargets[i]; t++) {
            double tx = x0 + w * (double)d->targets[i][t].centi / 10000.0;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#111\" stroke-width=\"2.5\"/>", tx,
                    y, tx, y + 26);
            fprintf(f,
                    "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" fill=\"#111\" stroke=\"#fff\" stroke-width=\"2.5\" "
                    "paint-order=\"stroke\" text-anchor=\"%s\">%lld</text>",
                    tx + (tx > x0 + w - 20 ? -4 : 4), y + 8, tx > x0 + w - 20 ? "end" : "start",
                    (long long)(d->targets[i][t].centi / 100));
        }
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"13\" font-weight=\"bold\" fill=\"#1d2733\">%s</text>",
                x0 + w + 14, y + 18, has ? report_rate_text(d, i, nd, x->lang, rate, sizeof rate) : T->st_no_data);
    }
    fprintf(f,
            "</svg><p class=\"legend\">%s<i style=\"background:" COL_MET "\"></i>%s<i style=\"background:" COL_SOME
            "\"></i>%s<i style=\"background:" COL_BEHIND "\"></i>%s<i style=\"background:" COL_NONE
            "\"></i>%s<i style=\"background:#111;width:3px\"></i>%s</p></div>\n",
            T->leg_bars, T->leg_all, T->leg_some, T->leg_behind, T->leg_none, T->leg_target);
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
#define PX(k)  (v->nmonths > 1 ? L + (W - L - R) * (double)(k) / (double)(v->nmonths - 1) : L + (W - L - R) / 2)
#define PY(cc) (T + (H - T - B) * (1.0 - (double)((cc)-ylo) / (double)(yhi - ylo)))
    fputs("<div class=\"panel\"><h3>", f);
    html(f, ind_label(x, i));
    fprintf(f,
            "</h3><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%%\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "font-family=\"DejaVu Sans, sans-serif\">",
            W, H);
    for (int g = 0; g <= 2; g++) {
        int64_t gc = ylo + (yhi - ylo) * g / 2;
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#e3e8ee\"/>", L, PY(gc), W - R,
                PY(gc));
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"10\" fill=\"#6b7a8a\" text-anchor=\"end\">%lld</text>",
                L - 4, PY(gc) + 3, (long long)(gc / 100));
    }
    for (int t = 0; t < d->ntargets[i]; t++)
        fprintf(f,
                "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#111\" stroke-dasharray=\"5 3\" "
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
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"10\" fill=\"#6b7a8a\" text-anchor=\"middle\">%s</text>",
                PX(k), H - 6, m + 5);
        if (!report_rate_centi(v->trend[k][i], &c)) continue;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1f5fa8\"/>", PX(k), PY(c));
        last = k;
    }
    if (last >= 0 && report_rate_centi(v->trend[last][i], &c)) {
        char r[32];
        report_fmt_hundredths(c, x->lang, r, sizeof r);
        fprintf(f,
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" font-weight=\"bold\" fill=\"#1f5fa8\" "
                "stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\" text-anchor=\"%s\">%s</text>",
                PX(last), PY(c) - 7 < T + 8 ? PY(c) + 15 : PY(c) - 7, v->nmonths > 1 ? "end" : "middle", r);
    }
#undef PX
#undef PY
    fputs("</svg></div>", f);
}

static void trend_charts(const report_ctx *x, FILE *f)
{
    const report_text *T = report_text_of(x->lang);
    fprintf(f, "<h2>%s</h2>\n<div class=\"grid\">", T->h_trend);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) trend_panel(x, f, i);
    fprintf(f,
            "</div><p class=\"legend\">%s<i style=\"background:#1f5fa8\"></i>%s"
            "<i style=\"background:#111;height:2px;vertical-align:3px\"></i>%s</p>\n",
            T->trend_legend, T->leg_rate, T->leg_target_dashed);
}

static void trend_table(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    const report_text *T = report_text_of(x->lang);
    char m[8], r[32], n1[32], n2[32];
    fprintf(f, "<table class=\"trend\" style=\"margin-top:12px\"><thead><tr><th class=\"l\">%s</th>", T->th_indicator);
    for (int k = 0; k < v->nmonths; k++) {
        report_month_str(d->period.year, v->months[k], m);
        fprintf(f, "<th>%s</th>", m);
    }
    fprintf(f, "<th>%s<br><small>%s</small></th></tr></thead><tbody>\n", T->th_change, T->th_change_note);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        fputs("<tr><td class=\"l\">", f);
        html(f, tthc_indicators[i].code);
        fputs("</td>", f);
        for (int k = 0; k < v->nmonths; k++) {
            report_nd nd = v->trend[k][i];
            int64_t c = 0;
            bool has = report_rate_centi(nd, &c);
            fprintf(f, "<td>%s<br><small>%s/<wbr>%s</small></td>",
                    has ? report_fmt_hundredths(c, x->lang, r, sizeof r) : "–", cnt(x, nd.num, n1, sizeof n1),
                    cnt(x, nd.den, n2, sizeof n2));
        }
        int64_t a, b;
        if (v->nmonths >= 2 && report_rate_centi(v->trend[v->nmonths - 1][i], &a) &&
            report_rate_centi(v->trend[v->nmonths - 2][i], &b)) {
            report_fmt_hundredths(a - b, x->lang, r, sizeof r);
            fprintf(f, "<td>%s%s</td>", a - b >= 0 ? "+" : "", r);
        } else {
            fputs("<td>–</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

/* Units ranked per indicator: the worst first, or the best first. */
static void ranked_units(const report_ctx *x, FILE *f, bool best)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    const report_text *T = report_text_of(x->lang);
    char r[32], md[32], n1[32], n2[32];
    fprintf(f, "<h2>%s</h2>\n<p class=\"legend\">", best ? T->h_best : T->h_worst);
    char top[16], note[256];
    snprintf(top, sizeof top, "%d", x->top);
    html(f, report_subst(T->units_note_fmt, cnt(x, d->min_den, md, sizeof md), top, note, sizeof note));
    fputs("</p>\n<div class=\"worst\">", f);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        fputs("<div class=\"panel\"><h3>", f);
        html(f, ind_label(x, i));
        char nr[24], ranked[96];
        snprintf(nr, sizeof nr, "%zu", v->nrank[i]);
        fputs(" <small>", f);
        html(f, report_subst(T->ranked_fmt, nr, NULL, ranked, sizeof ranked));
        fprintf(f,
                "</small></h3><table><thead><tr><th>#</th><th class=\"l\">%s</th><th>%s</th><th>%s</th></tr></thead>"
                "<tbody>",
                T->th_unit, T->th_rate, T->th_numden);
        for (size_t k = 0; k < v->nrank[i] && (int)k < x->top; k++) {
            size_t pos = best ? v->nrank[i] - 1 - k : k;
            const report_rank_entry *e = &v->rank[i][pos];
            const report_unit *u = &d->units[e->unit];
            int lvl = met_level(d, i, e->nd);
            int64_t c = 0;
            report_rate_centi(e->nd, &c);
            fprintf(f, "<tr%s><td>%zu</td><td class=\"l\">",
                    strcmp(u->code, d->scope) ? "" : " style=\"font-weight:bold\"", pos + 1);
            html(f, u->code);
            if (u->name) {
                fputs(" <small>", f);
                html(f, u->name);
                fputs("</small>", f);
            }
            fprintf(f, "</td><td style=\"color:%s\"><b>%s</b></td><td>%s / %s</td></tr>", level_colour(lvl),
                    report_fmt_pct(c, x->lang, r, sizeof r), cnt(x, e->nd.num, n1, sizeof n1),
                    cnt(x, e->nd.den, n2, sizeof n2));
        }
        if (!v->nrank[i]) fprintf(f, "<tr><td colspan=\"4\" class=\"l\"><small>%s</small></td></tr>", T->no_unit);
        fputs("</tbody></table></div>", f);
    }
    fputs("</div>\n", f);
}

/* Year to date against each target of the year: rate / target as progress. */
static void progress_table(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    const report_text *T = report_text_of(x->lang);
    char rate[32], tgt[32], st[96], pr[32], n1[32], n2[32];
    fprintf(f,
            "<h2>%s</h2>\n<p class=\"legend\">%s</p>\n<table><thead><tr><th class=\"l\">%s</th><th>%s</th><th>%s</th>"
            "<th class=\"l\">%s</th><th class=\"l\">%s</th></tr></thead><tbody>\n",
            T->h_progress, T->progress_note, T->th_indicator, T->th_ytd, T->th_target, T->th_progress, T->th_targets);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++)
        for (int t = 0; t < d->ntargets[i]; t++) {
            report_nd nd = v->ytd[i];
            int64_t c = 0, tc = d->targets[i][t].centi;
            int64_t t0[REPORT_MAX_TARGETS];
            for (int k = 0; k < d->ntargets[i]; k++) t0[k] = d->targets[i][k].centi;
            bool has = report_display_centi(nd, t0, d->ntargets[i], &c);
            /* progress = rate / target, in hundredths of a percent, capped at 100 % */
            int64_t prog = has && tc > 0 ? (c >= tc ? 10000 : c * 10000 / tc) : 0;
            fputs("<tr><td class=\"l\">", f);
            html(f, ind_label(x, i));
            fprintf(f, "<br><small>%s / %s</small></td><td><b>%s</b></td><td>%s <small>(",
                    cnt(x, nd.num, n1, sizeof n1), cnt(x, nd.den, n2, sizeof n2),
                    has ? report_fmt_pct(c, x->lang, rate, sizeof rate) : "–",
                    report_fmt_pct(tc, x->lang, tgt, sizeof tgt));
            html(f, d->targets[i][t].source_doc);
            fprintf(f,
                    ")</small></td><td class=\"l\"><span class=\"barbg\"><span class=\"bar\" style=\"width:%lld%%\">"
                    "</span></span>%s</td><td class=\"l\">",
                    (long long)(prog / 100), has ? report_fmt_pct(prog, x->lang, pr, sizeof pr) : "–");
            html(f, report_status_text(d, i, nd, t, x->lang, st, sizeof st));
            fputs("</td></tr>\n", f);
        }
    fputs("</tbody></table>\n", f);
}

/* ---- QĐ 766 ----------------------------------------------------------------- */

static const char *pts(const report_ctx *x, int64_t centi, char *buf, size_t len)
{
    return report_fmt_hundredths(centi, x->lang, buf, len);
}

static const char *qd_name(const report_ctx *x, const qd_metric_def *m)
{
    return x->lang == REPORT_VI ? m->name_vi : m->name_en;
}

static void qd_scope(const report_ctx *x, FILE *f, const qd_unit *s)
{
    const report_data *d = x->d;
    const report_qd766 *q = x->qd;
    const report_text *T = report_text_of(x->lang);
    char a[32], b[32], c[32], n1[32], n2[32];
    fprintf(f, "<div class=\"cards\"><div class=\"card\"><b>%s / %s</b><span>%s</span></div>",
            pts(x, s->total_centi, a, sizeof a), pts(x, s->max_known_centi, b, sizeof b), T->q_points);
    fprintf(f, "<div class=\"card\"><b class=\"unk\">%s</b><span>%s</span></div>",
            pts(x, s->max_unknown_centi, c, sizeof c), T->q_unknown);
    if (!d->province_scope) {
        char r1[16], r2[16], rk[96];
        snprintf(r1, sizeof r1, "%d", s->rank);
        snprintf(r2, sizeof r2, "%d", q->nranked);
        fprintf(f, "<div class=\"card\"><b>%d / %d</b><span>", s->rank, q->nranked);
        html(f, report_subst(T->q_rank_fmt, r1, r2, rk, sizeof rk));
        fputs("</span></div>", f);
    }
    fputs("</div>\n", f);
    /* groups and metrics */
    fprintf(
        f,
        "<table class=\"qd\" style=\"margin-top:12px\"><thead><tr><th class=\"l\">%s / %s</th><th>%s</th><th>%s</th>"
        "<th>%s</th><th>%s</th><th>%s</th><th class=\"l\">%s</th></tr></thead><tbody>\n",
        T->q_group, T->q_metric, T->th_num, T->th_den, T->th_rate, T->q_score, T->q_max, T->q_status);
    for (int g = 0; g < q->ngroups; g++) {
        fputs("<tr style=\"background:#eef2f7\"><td class=\"l\"><b>", f);
        html(f, x->lang == REPORT_VI ? q->groups[g].name_vi : q->groups[g].name_en);
        fprintf(f, "</b></td><td></td><td></td><td></td><td class=\"pts\">%s</td><td>%s</td><td class=\"l\">",
                pts(x, s->g[g].points_centi, a, sizeof a), pts(x, q->groups[g].max_centi, b, sizeof b));
        if (s->g[g].max_unknown_centi)
            fprintf(f, "<span class=\"unk\">%s %s</span>", pts(x, s->g[g].max_unknown_centi, c, sizeof c),
                    T->q_unknown);
        fputs("</td></tr>\n", f);
        for (int i = 0; i < q->nmetrics; i++) {
            if (q->metrics[i].group_index != g) continue;
            const qd_metric_val *v = &s->m[i];
            fputs("<tr><td class=\"l\">", f);
            html(f, qd_name(x, &q->metrics[i]));
            fputs("<br><small>", f);
            html(f, q->metrics[i].code);
            fprintf(
                f, "</small></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class=\"l\">%s</td></tr>\n",
                v->has_nd ? cnt(x, v->num, n1, sizeof n1) : "–", v->has_nd ? cnt(x, v->den, n2, sizeof n2) : "–",
                v->has_ratio ? report_fmt_pct(v->ratio_centi, x->lang, a, sizeof a) : "–",
                v->status == QD_UNKNOWN ? "?" : pts(x, v->points_centi, b, sizeof b),
                pts(x, q->metrics[i].max_centi, c, sizeof c),
                v->status == QD_KNOWN     ? T->q_known
                : v->status == QD_PARTIAL ? T->q_partial
                                          : T->q_needs_feed);
        }
    }
    fputs("</tbody></table>\n", f);
    /* losing most, month over month */
    fprintf(f, "<div class=\"worst\" style=\"margin-top:12px\"><div class=\"panel\"><h3>%s</h3><table><tbody>",
            T->q_losing);
    for (int k = 0; k < q->nlosing; k++) {
        const qd_metric_val *v = &s->m[q->losing[k]];
        fputs("<tr><td class=\"l\">", f);
        html(f, qd_name(x, &q->metrics[q->losing[k]]));
        fprintf(f, "</td><td class=\"down\">−%s</td><td><small>%s</small></td></tr>",
                pts(x, v->max_known_centi - v->points_centi, a, sizeof a), T->q_lost);
    }
    fprintf(f,
            "</tbody></table></div><div class=\"panel\"><h3>%s</h3><table><thead><tr><th class=\"l\">%s</th>"
            "<th>%s</th><th>%s</th></tr></thead><tbody>",
            T->q_months_h, T->q_month, T->q_score, T->q_change);
    for (int k = 0; k < q->nmonths; k++) {
        char m[8];
        report_month_str(d->period.year, q->months[k], m);
        fprintf(f, "<tr><td class=\"l\">%s</td><td class=\"pts\">%s <small>/ %s</small></td>", m,
                pts(x, q->month_points[k], a, sizeof a), pts(x, q->month_max[k], b, sizeof b));
        if (k) {
            int64_t ch = q->month_points[k] - q->month_points[k - 1];
            fprintf(f, "<td class=\"%s\">%s%s</td></tr>", ch >= 0 ? "up" : "down", ch >= 0 ? "+" : "",
                    pts(x, ch, c, sizeof c));
        } else {
            fputs("<td>–</td></tr>", f);
        }
    }
    fputs("</tbody></table></div></div>\n", f);
}

static void qd_units(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_qd766 *q = x->qd;
    const report_text *T = report_text_of(x->lang);
    char a[32];
    fprintf(f, "<h2>%s</h2>\n<table class=\"qd\"><thead><tr><th class=\"l\">%s</th><th>%s</th><th>%s</th>", T->q_units,
            T->th_unit, T->q_rank, T->q_total);
    for (int g = 0; g < q->ngroups; g++) {
        fputs("<th>", f);
        html(f, x->lang == REPORT_VI ? q->groups[g].name_vi : q->groups[g].name_en);
        fputs("</th>", f);
    }
    fputs("</tr></thead><tbody>\n", f);
    for (size_t u = 0; u < q->nunits; u++) {
        const qd_unit *qu = &q->units[u];
        fprintf(f, "<tr%s><td class=\"l\">", strcmp(qu->code, d->scope) ? "" : " style=\"font-weight:bold\"");
        html(f, qu->code);
        if (qu->name) {
            fputs(" <small>", f);
            html(f, qu->name);
            fputs("</small>", f);
        }
        fprintf(f, "</td><td>%d</td><td class=\"pts\">%s</td>", qu->rank, pts(x, qu->total_centi, a, sizeof a));
        for (int g = 0; g < q->ngroups; g++)
            fprintf(f, "<td>%s</td>",
                    q->groups[g].max_centi == qu->g[g].max_unknown_centi ? "?"
                                                                         : pts(x, qu->g[g].points_centi, a, sizeof a));
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

static void qd_best_worst(const report_ctx *x, FILE *f)
{
    const report_qd766 *q = x->qd;
    const report_text *T = report_text_of(x->lang);
    char a[32];
    if (!q->nunits) return;
    /* units are sorted by code; walk them by rank */
    fputs("<div class=\"worst\" style=\"margin-top:12px\">", f);
    for (int side = 0; side < 2; side++) {
        fprintf(f, "<div class=\"panel\"><h3>%s</h3><table><tbody>", side ? T->q_worst : T->q_best);
        int shown = 0;
        for (int r = side ? (int)q->nunits : 1; shown < x->top && (side ? r >= 1 : r <= (int)q->nunits);
             r += side ? -1 : 1)
            for (size_t u = 0; u < q->nunits && shown < x->top; u++) {
                const qd_unit *qu = &q->units[u];
                if (qu->rank != r) continue;
                fprintf(f, "<tr><td>%d</td><td class=\"l\">", qu->rank);
                html(f, qu->code);
                if (qu->name) {
                    fputs(" <small>", f);
                    html(f, qu->name);
                    fputs("</small>", f);
                }
                fprintf(f, "</td><td class=\"pts\">%s</td></tr>", pts(x, qu->total_centi, a, sizeof a));
                shown++;
            }
        fputs("</tbody></table></div>", f);
    }
    fputs("</div>\n", f);
}

static void qd766_section(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_qd766 *q = x->qd;
    const report_text *T = report_text_of(x->lang);
    fprintf(f, "<h2 id=\"qd766\">%s</h2>\n<p class=\"legend\">", T->q_h);
    char note[512];
    report_subst(T->q_note_fmt, q->evaluated_at, NULL, note, sizeof note);
    html(f, note);
    fputs("</p>\n", f);
    const qd_unit *s = report_qd766_scope(q, d->scope, d->province_scope);
    if (!s) {
        fprintf(f, "<p class=\"legend\">%s</p>\n", T->q_none);
        return;
    }
    qd_scope(x, f, s);
    if (d->province_scope) {
        qd_best_worst(x, f);
        qd_units(x, f);
    }
}

tthc_rc report_render_html(const report_ctx *x, FILE *f, tthc_err *err)
{
    const report_text *T = report_text_of(x->lang);
    head(x, f);
    if (!x->qd_only) {
        cards(x, f);
        summary_table(x, f);
        progress_table(x, f);
        bar_chart(x, f);
        trend_charts(x, f);
        trend_table(x, f);
        ranked_units(x, f, false);
        ranked_units(x, f, true);
    }
    if (x->qd) qd766_section(x, f);
    fputs("</main>\n<footer>", f);
    html(f, T->footer);
    fputs("</footer>\n</body></html>\n", f);
    return ferror(f) ? tthc_fail(err, TTHC_EIO, "write failed") : TTHC_OK;
}
