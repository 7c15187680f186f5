/* page.c - HTML overview; see page.h.  Written to a memory stream: text
 * through html() (escaped), numbers through fprintf. */
#include "page.h"
#include "html.h"

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
    "footer{margin-top:1em;color:#666;font-size:.9em}";

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
    fputs("<nav>Periods: ", f);
    const cJSON *p;
    int any = 0;
    cJSON_ArrayForEach(p, pg->periods)
    {
        if (!cJSON_IsString(p)) continue;
        any = 1;
        int cur = pg->period && !strcmp(pg->period, p->valuestring);
        fputs(cur ? "<a class=\"cur\" href=\"/?period=" : "<a href=\"/?period=", f);
        html(f, p->valuestring);
        fputs("\">", f);
        html(f, p->valuestring);
        fputs("</a>", f);
    }
    if (!any) fputs("none yet", f);
    fputs("</nav>\n", f);
}

static void header_row(FILE *f, const portal_targets *t)
{
    fputs("<thead><tr><th class=\"unit\">Unit</th><th>Revision</th><th class=\"unit\">Generated at</th>"
          "<th class=\"unit\">Received at</th>",
          f);
    for (int k = 0; k < TTHC_INDICATOR_COUNT; k++) {
        const portal_target *g = &t->t[k];
        fputs("<th title=\"", f);
        html(f, g->n ? g->label : "no target");
        fputs("\">", f);
        html(f, tthc_indicators[k].code);
        if (g->n == 0) fputs("<br><small>no target</small>", f);
        else if (g->lo == g->hi) fprintf(f, "<br><small>target %g%%</small>", g->hi);
        else fprintf(f, "<br><small>targets %g&ndash;%g%%</small>", g->lo, g->hi);
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n", f);
}

static void indicator_cell(FILE *f, const cJSON *ind, const portal_target *g)
{
    if (!ind) {
        fputs("<td class=\"none\">&ndash;</td>", f);
        return;
    }
    long long num = int_of(ind, "numerator"), den = int_of(ind, "denominator");
    static const char *const cls[] = {"none", "met", "partial", "missed"};
    fprintf(f, "<td class=\"%s\" title=\"", cls[portal_target_classify(g, num, den)]);
    html(f, g->n ? g->label : "no target");
    fprintf(f, "\">%lld / %lld<br>", num, den);
    if (den > 0) fprintf(f, "<b>%.1f%%</b>", 100.0 * (double)num / (double)den);
    else fputs("<small>no denominator</small>", f);
    fputs("</td>", f);
}

static void report_row(FILE *f, const cJSON *rep, const portal_targets *t)
{
    const char *unit = str_of(rep, "unit_code");
    fputs(strchr(unit, '.') ? "<tr>" : "<tr class=\"prov\">", f);
    fputs("<td class=\"unit\">", f);
    html(f, unit);
    fprintf(f, "</td><td>%lld</td><td class=\"unit\">", int_of(rep, "revision"));
    html(f, str_of(rep, "generated_at"));
    fputs("</td><td class=\"unit\">", f);
    html(f, str_of(rep, "received_at"));
    fputs("</td>", f);
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
        indicator_cell(f, ind, &t->t[k]);
    }
    fputs("</tr>\n", f);
}

char *portal_page_render(const portal_page *pg, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) return NULL;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width\"><title>Portal stub: indicator reports",
          f);
    if (pg->period) {
        fputs(" ", f);
        html(f, pg->period);
    }
    fprintf(f, "</title><style>%s</style></head>\n<body>\n<h1>National portal stub: indicator reports", css);
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
        fprintf(f, "<p>%d report%s (latest revision per unit). Targets: ", n, n == 1 ? "" : "s");
        if (pg->targets->from_db) fprintf(f, "table indicator_target, year %d.", pg->targets->year);
        else fputs("built-in 2025 table of docs/indicators.md.", f);
        fputs("</p>\n", f);
    }
    if (n > 0) {
        fputs("<table>\n", f);
        header_row(f, pg->targets);
        fputs("<tbody>\n", f);
        const cJSON *rep;
        cJSON_ArrayForEach(rep, pg->reports) report_row(f, rep, pg->targets);
        fputs("</tbody></table>\n", f);
        fputs("<p class=\"legend\"><span class=\"met\" style=\"background:#d4edda\">every target met</span>"
              "<span style=\"background:#fff3cd\">lowest target met</span>"
              "<span style=\"background:#f8d7da\">below target</span>"
              "<span>no target or no denominator</span></p>\n",
              f);
    } else if (pg->period) {
        fputs("<p>No report for this period.</p>\n", f);
    }
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
