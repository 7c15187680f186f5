/* page.c - HTML overview; see page.h.  Written to a memory stream: text
 * through html() (escaped), numbers through fprintf. */
#include "page.h"
#include "html.h"
#include "unitcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static const char css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}"
    "h1{font-size:1.3em;margin:0 0 .3em}"
    "nav a{margin-right:.6em;color:#1a5fb4}nav a.cur{font-weight:bold;color:#000;text-decoration:none}"
    ".notice{padding:.5em .8em;background:#fff3cd;border:1px solid #e0c060;margin:.8em 0}"
    "table{border-collapse:collapse;margin-top:.8em;background:#fff}"
    "th,td{border:1px solid #ccc;padding:.3em .5em;text-align:right;white-space:nowrap}"
    "th{background:#eee;font-weight:600;vertical-align:bottom}th small{font-weight:normal;color:#555}"
    "td.unit,th.unit{text-align:left}tr.prov td{font-weight:bold;background:#f0f4fa}"
    "td.met{background:#d4edda}td.partial{background:#fff3cd}td.missed{background:#f8d7da}"
    "td.none{color:#666}td small{color:#555}"
    ".legend span{display:inline-block;padding:0 .5em;margin-right:.5em;border:1px solid #ccc}"
    "footer{margin-top:1em;color:#666;font-size:.9em}"
    "td.pts{font-weight:600;color:#12355b;background:#f4f7fb}td.name{text-align:left;white-space:normal;min-width:8em}"
    "@media (max-width:900px){body{margin:.6em;font-size:12px}table{width:100%;table-layout:fixed}"
    "th,td{white-space:normal;overflow-wrap:anywhere;padding:.2em .25em}.wide{display:none}"
    "td.name{min-width:0}}"
    "@page{size:A4 portrait;margin:10mm}"
    "@media print{*{-webkit-print-color-adjust:exact;print-color-adjust:exact}body{margin:0;font-size:9px;"
    "background:#fff}table{width:100%;table-layout:fixed}th,td{white-space:normal;overflow-wrap:anywhere;"
    "padding:1px 2px}tr{break-inside:avoid}.wide,nav{display:none}}";

/* The page's words (lang 0 English, 1 Vietnamese). */
typedef struct {
    const char *html_lang, *title, *periods, *none_yet, *reports_fmt_one, *reports_fmt, *targets_db, *targets_builtin,
        *unit, *name, *revision, *generated, *received, *no_target, *target, *targets, *points, *points_note,
        *no_points, *rank, *no_den, *legend_all, *legend_low, *legend_below, *legend_none, *no_report;
} page_text;

static const page_text texts[2] = {
    {"en",
     "National portal stub: indicator reports",
     "Periods: ",
     "none yet",
     "report",
     "reports",
     "table indicator_target, year ",
     "built-in 2025 table of docs/indicators.md.",
     "Unit",
     "Name",
     "Revision",
     "Generated at",
     "Received at",
     "no target",
     "target",
     "targets",
     "QĐ 766 points",
     "known of max known; needs the procedure catalogue and petitions for the rest",
     "no QĐ 766 functions in this database",
     "rank",
     "no denominator",
     "every target met",
     "lowest target met",
     "below target",
     "no target or no denominator",
     "No report for this period."},
    {"vi",
     "Cổng DVCQG (giả lập): báo cáo chỉ tiêu",
     "Kỳ báo cáo: ",
     "chưa có",
     "báo cáo",
     "báo cáo",
     "bảng indicator_target, năm ",
     "bảng chỉ tiêu 2025 cài sẵn (docs/indicators.md).",
     "Đơn vị",
     "Tên đơn vị",
     "Lần gửi",
     "Lập lúc",
     "Nhận lúc",
     "không có chỉ tiêu",
     "chỉ tiêu",
     "chỉ tiêu",
     "Điểm QĐ 766",
     "điểm đã tính / tối đa đã tính; phần còn lại cần dữ liệu TTHC và phản ánh kiến nghị",
     "cơ sở dữ liệu chưa có các hàm QĐ 766",
     "hạng",
     "chưa có hồ sơ",
     "đạt mọi chỉ tiêu",
     "đạt mức thấp nhất",
     "chưa đạt",
     "không có chỉ tiêu hoặc chưa có hồ sơ",
     "Chưa có báo cáo của kỳ này."},
};

static const page_text *words(const portal_page *pg)
{
    return &texts[pg->vietnamese ? 1 : 0];
}

/* Counts: 79.602 in Vietnamese, 79602 in English. */
static void count(FILE *f, const portal_page *pg, long long v)
{
    char d[32];
    int n = snprintf(d, sizeof d, "%lld", v < 0 ? -v : v);
    if (v < 0) fputc('-', f);
    for (int i = 0; i < n; i++) {
        if (pg->vietnamese && i && (n - i) % 3 == 0) fputc('.', f);
        fputc(d[i], f);
    }
}

/* Hundredths: 42,26 / 42.26. */
static void hundredths(FILE *f, const portal_page *pg, long long centi)
{
    count(f, pg, centi / 100);
    fprintf(f, "%c%02lld", pg->vietnamese ? ',' : '.', centi % 100);
}

/* Escaped text (common/html.h). */
static void html(FILE *f, const char *s)
{
    tthc_html_write(f, s);
}

static const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static long long int_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsNumber(v)) return (long long)v->valuedouble;
    if (cJSON_IsRaw(v)) return strtoll(v->valuestring, NULL, 10);
    return 0;
}

static void nav(FILE *f, const portal_page *pg)
{
    fputs("<nav>", f);
    fputs(words(pg)->periods, f);
    const cJSON *p;
    int any = 0;
    cJSON_ArrayForEach(p, pg->periods)
    {
        if (!cJSON_IsString(p)) continue;
        any = 1;
        int cur = pg->period && !strcmp(pg->period, p->valuestring);
        fputs(cur ? "<a class=\"cur\" href=\"/?period=" : "<a href=\"/?period=", f);
        html(f, p->valuestring);
        if (!pg->vietnamese) fputs("&amp;lang=en", f);
        fputs("\">", f);
        html(f, p->valuestring);
        fputs("</a>", f);
    }
    if (!any) fputs(words(pg)->none_yet, f);
    fputs("</nav>\n", f);
}

static void header_row(FILE *f, const portal_page *pg)
{
    const portal_targets *t = pg->targets;
    const page_text *w = words(pg);
    fprintf(f,
            "<thead><tr><th class=\"unit\">%s</th><th class=\"unit\">%s</th><th class=\"wide\">%s</th>"
            "<th class=\"unit wide\">%s</th><th class=\"unit wide\">%s</th>",
            w->unit, w->name, w->revision, w->generated, w->received);
    fprintf(f, "<th title=\"%s\">%s</th>", w->points_note, w->points);
    for (int k = 0; k < TTHC_INDICATOR_COUNT; k++) {
        const portal_target *g = &t->t[k];
        fputs("<th title=\"", f);
        html(f, g->n ? g->label : w->no_target);
        fputs("\">", f);
        html(f, tthc_indicators[k].code);
        if (g->n == 0) fprintf(f, "<br><small>%s</small>", w->no_target);
        else if (!pg->vietnamese && g->lo == g->hi) fprintf(f, "<br><small>target %g%%</small>", g->hi);
        else if (!pg->vietnamese) fprintf(f, "<br><small>targets %g&ndash;%g%%</small>", g->lo, g->hi);
        else {
            char a[32], b[32];
            snprintf(a, sizeof a, "%g", g->lo);
            snprintf(b, sizeof b, "%g", g->hi);
            for (char *c = a; *c; c++)
                if (*c == '.') *c = ',';
            for (char *c = b; *c; c++)
                if (*c == '.') *c = ',';
            if (g->lo == g->hi) fprintf(f, "<br><small>%s %s %%</small>", w->target, b);
            else fprintf(f, "<br><small>%s %s&ndash;%s %%</small>", w->targets, a, b);
        }
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n", f);
}

static void indicator_cell(FILE *f, const portal_page *pg, const cJSON *ind, const portal_target *g)
{
    if (!ind) {
        fputs("<td class=\"none\">&ndash;</td>", f);
        return;
    }
    const page_text *w = words(pg);
    long long num = int_of(ind, "numerator"), den = int_of(ind, "denominator");
    static const char *const cls[] = {"none", "met", "partial", "missed"};
    fprintf(f, "<td class=\"%s\" title=\"", cls[portal_target_classify(g, num, den)]);
    html(f, g->n ? g->label : w->no_target);
    fputs("\">", f);
    if (pg->vietnamese && den == 0) { /* nothing received: no "0 / 0" */
        fprintf(f, "<small>%s</small></td>", w->no_den);
        return;
    }
    count(f, pg, num);
    fputs(" / ", f);
    count(f, pg, den);
    fputs("<br>", f);
    if (den > 0 && !pg->vietnamese) {
        fprintf(f, "<b>%.1f%%</b>", 100.0 * (double)num / (double)den);
    } else if (den > 0) {
        long long tenths = (2000LL * num + den) / (2 * den); /* half up, exact */
        fprintf(f, "<b>%lld,%lld %%</b>", tenths / 10, tenths % 10);
    } else {
        fprintf(f, "<small>%s</small>", w->no_den);
    }
    fputs("</td>", f);
}

static void points_cell(FILE *f, const portal_page *pg, const char *unit)
{
    const cJSON *p = pg->points ? cJSON_GetObjectItemCaseSensitive(pg->points, unit) : NULL;
    if (!cJSON_IsArray(p) || cJSON_GetArraySize(p) != 3) {
        fputs("<td class=\"pts none\">&ndash;</td>", f);
        return;
    }
    long long pts = (long long)cJSON_GetArrayItem(p, 0)->valuedouble,
              mx = (long long)cJSON_GetArrayItem(p, 1)->valuedouble;
    int rank = (int)cJSON_GetArrayItem(p, 2)->valuedouble;
    fputs("<td class=\"pts\">", f);
    hundredths(f, pg, pts);
    fputs("<br><small>/ ", f);
    hundredths(f, pg, mx);
    if (rank > 0) fprintf(f, " &middot; %s %d", words(pg)->rank, rank);
    fputs("</small></td>", f);
}

static void report_row(FILE *f, const portal_page *pg, const cJSON *rep)
{
    const char *unit = str_of(rep, "unit_code");
    const char *name = pg->unit_name ? pg->unit_name(unit) : NULL;
    fputs(strchr(unit, '.') ? "<tr>" : "<tr class=\"prov\">", f);
    fputs("<td class=\"unit\">", f);
    html(f, unit);
    fputs("</td><td class=\"name\">", f);
    if (name) html(f, name);
    fprintf(f, "</td><td class=\"wide\">%lld</td><td class=\"unit wide\">", int_of(rep, "revision"));
    html(f, str_of(rep, "generated_at"));
    fputs("</td><td class=\"unit wide\">", f);
    html(f, str_of(rep, "received_at"));
    fputs("</td>", f);
    points_cell(f, pg, unit);
    const cJSON *inds = cJSON_GetObjectItemCaseSensitive(rep, "indicators");
    for (int k = 0; k < TTHC_INDICATOR_COUNT; k++) {
        const cJSON *ind = NULL, *it;
        cJSON_ArrayForEach(it, inds)
        {
            if (!strcmp(str_of(it, "code"), tthc_indicators[k].code)) {
                ind = it;
                break;
            }
        }
        indicator_cell(f, pg, ind, &pg->targets->t[k]);
    }
    fputs("</tr>\n", f);
}

static int by_unit_code(const void *a, const void *b)
{
    return tthc_unit_code_cmp(str_of(*(const cJSON *const *)a, "unit_code"),
                              str_of(*(const cJSON *const *)b, "unit_code"));
}

char *portal_page_render(const portal_page *pg, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) return NULL;
    const page_text *w = words(pg);
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width\"><title>%s",
            w->html_lang, w->title);
    if (pg->period) {
        fputs(" ", f);
        html(f, pg->period);
    }
    fprintf(f, "</title><style>%s</style></head>\n<body>\n<h1>%s", css, w->title);
    if (pg->period) {
        fputs(" &middot; ", f);
        html(f, pg->period);
    }
    fputs("</h1>\n", f);
    nav(f, pg);
    if (pg->notice) {
        fputs("<p class=\"notice\">", f);
        html(f, pg->notice);
        fputs("</p>\n", f);
    }
    int n = pg->reports ? cJSON_GetArraySize(pg->reports) : 0;
    if (pg->period) {
        if (pg->vietnamese) fprintf(f, "<p>%d %s (lần gửi mới nhất của mỗi đơn vị). Chỉ tiêu: ", n, w->reports_fmt);
        else fprintf(f, "<p>%d report%s (latest revision per unit). Targets: ", n, n == 1 ? "" : "s");
        if (pg->targets->from_db) fprintf(f, "%s%d.", w->targets_db, pg->targets->year);
        else fputs(w->targets_builtin, f);
        fprintf(f, " %s: %s.</p>\n", w->points, pg->points ? w->points_note : w->no_points);
    }
    const cJSON **rows = n > 0 ? calloc((size_t)n, sizeof(const cJSON *)) : NULL;
    if (n > 0 && rows) {
        int k = 0;
        const cJSON *rep;
        cJSON_ArrayForEach(rep, pg->reports) rows[k++] = rep;
        qsort(rows, (size_t)n, sizeof(const cJSON *), by_unit_code); /* H61, H61.2, H61.10, H61.101 */
        fputs("<table>\n", f);
        header_row(f, pg);
        fputs("<tbody>\n", f);
        for (k = 0; k < n; k++) report_row(f, pg, rows[k]);
        fputs("</tbody></table>\n", f);
        fprintf(f,
                "<p class=\"legend\"><span class=\"met\" style=\"background:#d4edda\">%s</span>"
                "<span style=\"background:#fff3cd\">%s</span><span style=\"background:#f8d7da\">%s</span>"
                "<span>%s</span></p>\n",
                w->legend_all, w->legend_low, w->legend_below, w->legend_none);
    } else if (pg->period) {
        fprintf(f, "<p>%s</p>\n", w->no_report);
    }
    free(rows);
    fputs("<footer>tthc-portal-stub &middot; API: <code>GET /api/v1/indicator-reports?period=YYYY-MM</code>"
          " &middot; <a href=\"/metrics\">metrics</a> &middot; <a href=\"/healthz\">healthz</a></footer>\n"
          "</body></html>\n",
          f);
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    *len = size;
    return buf;
}
