/* test_portal_render.c - the portal stub's HTML page and metrics text
 * (page.c, targets.c, stub_metrics.c, stub_report.c; linked with tthc_portal_stub_core). */
#include "portal-stub/page.h"
#include "portal-stub/stub_metrics.h"
#include "portal-stub/stub_report.h"
#include "portal-stub/targets.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static cJSON *one_report(const char *unit, long long num, long long den)
{
    cJSON *r = cJSON_CreateObject(), *inds = NULL;
    if (!r || !cJSON_AddStringToObject(r, "unit_code", unit) || !cJSON_AddStringToObject(r, "period", "2025-03") ||
        !portal_json_add_int(r, "revision", 3) || !cJSON_AddStringToObject(r, "generated_at", "<gen>") ||
        !cJSON_AddStringToObject(r, "received_at", "2025-04-01T00:00:00.000000Z") ||
        !(inds = cJSON_AddArrayToObject(r, "indicators")))
        return r;
    for (int k = 0; k < TTHC_INDICATOR_COUNT; k++) {
        cJSON *it = cJSON_CreateObject();
        cJSON_AddItemToArray(inds, it);
        cJSON_AddStringToObject(it, "code", tthc_indicators[k].code);
        if (!portal_json_add_int(it, "numerator", num) || !portal_json_add_int(it, "denominator", den)) break;
    }
    return r;
}

static void test_page(void)
{
    portal_targets t;
    portal_targets_builtin(&t);
    cJSON *reports = cJSON_CreateArray(), *periods = cJSON_CreateArray();
    cJSON_AddItemToArray(reports, one_report("H61", 9, 10));
    cJSON_AddItemToArray(reports, one_report("H61.<b>&\"'", 1, 10));
    cJSON_AddItemToArray(reports, one_report("H61.big", 3000000000LL, 4000000000LL));
    cJSON_AddItemToArray(periods, cJSON_CreateString("2025-03"));
    cJSON_AddItemToArray(periods, cJSON_CreateString("<2025-02>"));
    portal_page pg = {
        .period = "2025-03", .reports = reports, .periods = periods, .targets = &t, .notice = "<notice & more>"};
    size_t len = 0;
    char *html = portal_page_render(&pg, &len);
    CHECK(html && len == strlen(html), "rendered");
    if (html) {
        CHECK(!strncmp(html, "<!DOCTYPE html>", 15), "doctype");
        CHECK(strstr(html, "<style>") && !strstr(html, "<script") && !strstr(html, "<link"), "self-contained");
        CHECK(strstr(html, "H61.&lt;b&gt;&amp;&quot;&#39;") != NULL, "unit code escaped");
        CHECK(!strstr(html, "H61.<b>"), "raw unit code present");
        CHECK(strstr(html, "&lt;notice &amp; more&gt;") != NULL, "notice escaped");
        CHECK(strstr(html, "&lt;2025-02&gt;") != NULL && !strstr(html, "<2025-02>"), "period link escaped");
        CHECK(strstr(html, "&lt;gen&gt;") != NULL, "generated_at escaped");
        CHECK(strstr(html, "<tr class=\"prov\"><td class=\"unit\">H61</td>") != NULL, "province row");
        CHECK(strstr(html, "3000000000 / 4000000000") != NULL, "big counts printed exactly");
        CHECK(strstr(html, "<b>90.0%</b>") != NULL, "rate printed");
        CHECK(strstr(html, "class=\"met\"") && strstr(html, "class=\"missed\"") && strstr(html, "class=\"partial\""),
              "cells coloured");
        CHECK(strstr(html, "built-in 2025 table") != NULL, "targets source named");
        CHECK(strstr(html, "</html>") != NULL, "complete");
    }
    free(html);

    portal_page empty = {.targets = &t};
    html = portal_page_render(&empty, &len);
    CHECK(html && strstr(html, "none yet") && !strstr(html, "<table"), "empty page");
    free(html);
    cJSON_Delete(reports);
    cJSON_Delete(periods);
}

static const char *names(const char *code)
{
    return !strcmp(code, "H61.101") ? "Xã Cái Nhum" : !strcmp(code, "H61.9") ? "Sở <Y tế>" : NULL;
}

/* Vietnamese by the flag: words, 79.602 and 63,8 %, names, units by code as
 * numbers, QĐ 766 points with the rank, no "0 / 0". */
static void test_page_vi(void)
{
    portal_targets t;
    portal_targets_builtin(&t);
    cJSON *reports = cJSON_CreateArray(), *periods = cJSON_CreateArray(), *points = cJSON_CreateObject();
    cJSON_AddItemToArray(reports, one_report("H61.101", 50812, 79602));
    cJSON_AddItemToArray(reports, one_report("H61.10", 0, 0));
    cJSON_AddItemToArray(reports, one_report("H61", 9, 10));
    cJSON_AddItemToArray(reports, one_report("H61.9", 1, 3));
    cJSON_AddItemToArray(periods, cJSON_CreateString("2025-03"));
    cJSON *p = cJSON_AddArrayToObject(points, "H61.101");
    cJSON_AddItemToArray(p, cJSON_CreateNumber(4226));
    cJSON_AddItemToArray(p, cJSON_CreateNumber(5200));
    cJSON_AddItemToArray(p, cJSON_CreateNumber(3));
    portal_page pg = {.period = "2025-03",
                      .reports = reports,
                      .periods = periods,
                      .targets = &t,
                      .vietnamese = 1,
                      .points = points,
                      .unit_name = names};
    size_t len = 0;
    char *html = portal_page_render(&pg, &len);
    CHECK(html != NULL, "rendered");
    if (html) {
        CHECK(strstr(html, "<html lang=\"vi\">") && strstr(html, "Kỳ báo cáo") && strstr(html, "Điểm QĐ 766") &&
                  strstr(html, "Tên đơn vị") && strstr(html, "đạt mọi chỉ tiêu") && !strstr(html, "every target"),
              "Vietnamese words");
        CHECK(strstr(html, "50.812 / 79.602") && strstr(html, "<b>63,8 %</b>") && strstr(html, "<b>33,3 %</b>"),
              "Vietnamese numbers");
        CHECK(strstr(html, "42,26<br><small>/ 52,00 &middot; hạng 3</small>") != NULL, "points, of, rank");
        CHECK(strstr(html, "Xã Cái Nhum") && strstr(html, "Sở &lt;Y tế&gt;"), "unit names, escaped");
        CHECK(!strstr(html, "0 / 0") && strstr(html, "chưa có hồ sơ"), "no 0 / 0");
        const char *a = strstr(html, ">H61<"), *b = strstr(html, ">H61.9<"), *c = strstr(html, ">H61.10<"),
                   *d = strstr(html, ">H61.101<");
        CHECK(a && b && c && d && a < b && b < c && c < d, "H61, H61.9, H61.10, H61.101: by code as numbers");
        CHECK(strstr(html, "@page{size:A4") && strstr(html, "@media print"), "print stylesheet");
    }
    free(html);
    pg.points = NULL;
    html = portal_page_render(&pg, &len);
    CHECK(html && strstr(html, "cơ sở dữ liệu chưa có các hàm QĐ 766"), "no QĐ 766 functions: said so");
    free(html);
    cJSON_Delete(reports);
    cJSON_Delete(periods);
    cJSON_Delete(points);
}

static void test_metrics(void)
{
    portal_metrics m;
    portal_metrics_init(&m);
    portal_metrics_request(&m, "POST", 200);
    portal_metrics_request(&m, "POST", 200);
    portal_metrics_request(&m, "GET", 401);
    portal_metrics_request(&m, "BREW", 405);
    portal_metrics_request(&m, "BREW\"}", 405);
    portal_metrics_outcome(&m, PORTAL_OUTCOME_ACCEPTED);
    portal_metrics_db_up(&m, 1);
    size_t len = 0;
    char *text = portal_metrics_render(&m, &len);
    CHECK(text && len == strlen(text), "rendered");
    if (text) {
        CHECK(strstr(text, "# TYPE tthc_portal_requests_total counter\n") != NULL, "type line");
        CHECK(strstr(text, "tthc_portal_requests_total{method=\"POST\",status=\"200\"} 2\n") != NULL, "POST 200");
        CHECK(strstr(text, "tthc_portal_requests_total{method=\"GET\",status=\"401\"} 1\n") != NULL, "GET 401");
        CHECK(strstr(text, "tthc_portal_requests_total{method=\"OTHER\",status=\"405\"} 2\n") != NULL, "OTHER");
        CHECK(strstr(text, "tthc_portal_reports_total{outcome=\"accepted\"} 1\n") != NULL, "outcome");
        CHECK(strstr(text, "tthc_portal_db_up 1\n") != NULL, "db_up");
    }
    free(text);
    portal_metrics_destroy(&m);
}

int main(void)
{
    test_page();
    test_page_vi();
    test_metrics();
    return CHECK_DONE();
}
