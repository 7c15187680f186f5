/* test_portal_validate.c - table-driven tests of the portal stub's report
 * validator (services/portal-stub/stub_report.c, linked with tthc_portal_stub_core). */
#include "portal-stub/stub_report.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* ---- bodies ---- */

#define IND(c, n, d) "{\"code\":\"" c "\",\"numerator\":" #n ",\"denominator\":" #d "}"
#define IND_FIRST9                                                                                                     \
    IND("online_submission", 812, 1290)                                                                                \
    "," IND("digitized_dossier", 1000, 1290) "," IND("digitized_result", 5, 702) "," IND(                              \
        "e_result", 640, 702) "," IND("id_tagged", 0, 1290) "," IND("data_reused", 1,                                  \
                                                                    1290) "," IND("online_payment", 3,                 \
                                                                                  4) "," IND("portal_synced", 700,     \
                                                                                             702) "," IND("on_time",   \
                                                                                                          0, 0)
#define INDS "[" IND_FIRST9 "," IND("satisfaction", 9, 10) "]"
#define BODY(unit, period, rev, gen, inds)                                                                             \
    "{\"unit_code\":" unit ",\"period\":" period ",\"revision\":" rev ",\"generated_at\":" gen ",\"indicators\":" inds \
    "}"
#define GOOD BODY("\"H61.07\"", "\"2025-03\"", "4", "\"2025-04-01T00:00:05+07:00\"", INDS)

typedef struct {
    const char *name;
    const char *body;
    int ok;                 /* expect TTHC_OK */
    int ndetails;           /* expected number of details when not ok; -1 = don't check */
    const char *expect[12]; /* substrings that must each appear in some detail (NULL-ended) */
} vcase;

static const vcase cases[] = {
    {"valid report", GOOD, 1, 0, {NULL}},
    {"valid province roll-up", BODY("\"H61\"", "\"2025-12\"", "1", "\"2025-04-01T00:00:05Z\"", INDS), 1, 0, {NULL}},
    {"valid with whitespace and reordered indicators",
     " {\n \"indicators\": [" IND(
         "satisfaction", 9,
         10) "," IND_FIRST9 "],\n \"revision\" : 4, \"period\":\"2025-03\","
             "\"generated_at\":\"2025-04-01t00:00:05.123456789-03:30\", \"unit_code\":\"H61.07.a.b\"} \n",
     1,
     0,
     {NULL}},
    {"valid zero denominators",
     BODY("\"H61.07\"", "\"2025-03\"", "9007199254740991", "\"2024-02-29T23:59:60Z\"", INDS),
     1,
     0,
     {NULL}},
    {"empty body", "", 0, 1, {"body: empty"}},
    {"malformed JSON",
     "{\"unit_code\": \"H61.07\",",
     0,
     1,
     {"body: malformed JSON at byte 23: expected a member name"}},
    {"trailing garbage", GOOD " x", 0, 1, {"trailing characters"}},
    {"leading zero number",
     BODY("\"H61.07\"", "\"2025-03\"", "04", "\"2025-04-01T00:00:05Z\"", INDS),
     0,
     1,
     {"leading zero"}},
    {"plus sign number",
     BODY("\"H61.07\"", "\"2025-03\"", "+4", "\"2025-04-01T00:00:05Z\"", INDS),
     0,
     1,
     {"malformed JSON"}},
    {"NaN", BODY("\"H61.07\"", "\"2025-03\"", "NaN", "\"2025-04-01T00:00:05Z\"", INDS), 0, 1, {"malformed JSON"}},
    {"single quotes", "{'unit_code':'H61'}", 0, 1, {"expected a member name"}},
    {"raw control char in string", "{\"unit_code\":\"H61\t\"}", 0, 1, {"control character"}},
    {"NUL escape",
     BODY("\"H61.07\"", "\"2025-03\"", "4", "\"2025-04-01T00:00:05Z\"",
          "[{\"code\":\"e_result\\u0000x\",\"numerator\":1,\"denominator\":1}]"),
     0,
     1,
     {"\\u0000"}},
    {"lone surrogate", "{\"unit_code\":\"\\ud800\"}", 0, 1, {"lone surrogate"}},
    {"invalid UTF-8", "{\"unit_code\":\"H\xC3\x28\"}", 0, 1, {"not valid UTF-8 (byte 15)"}},
    {"overlong UTF-8", "{\"unit_code\":\"\xC0\xAF\"}", 0, 1, {"not valid UTF-8"}},
    {"too deep",
     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
     0,
     1,
     {"nested too deeply"}},
    {"not an object", "[1,2]", 0, 1, {"body: must be a JSON object"}},
    {"empty object lists every field",
     "{}",
     0,
     5,
     {"unit_code: required", "period: required", "revision: required", "generated_at: required",
      "indicators: required"}},
    {"wrong types everywhere",
     BODY("7", "202503", "\"4\"", "null", "{}"),
     0,
     5,
     {"unit_code: must be a string", "period: must be a string", "revision: must be an integer",
      "generated_at: must be a string", "indicators: must be an array"}},
    {"bad values everywhere",
     BODY("\"H61.07/x\"", "\"2025-13\"", "0", "\"2025-04-01 00:00:05\"",
          "[" IND("online_submission", 5, 4) "," IND("bogus", 1, 1) "," IND("e_result", 1.5, 2) "," IND(
              "e_result", 1, 2) "," IND("id_tagged", -1, 2) "]"),
     0,
     -1,
     {"unit_code: 'H61.07/x' is neither", "period: '2025-13' is not YYYY-MM", "revision: must be an integer between 1",
      "generated_at: '2025-04-01 00:00:05' is not an RFC 3339", "indicators[0]: numerator 5 exceeds denominator 4",
      "indicators[1].code: unknown indicator 'bogus'", "indicators[3].code: indicator 'e_result' listed again",
      "indicators: indicator 'satisfaction' missing"}},
    {"non-integer and negative counts",
     BODY("\"H61\"", "\"2025-01\"", "2", "\"2025-04-01T00:00:05Z\"",
          "[" IND("online_submission", 1.5, 4) "," IND("digitized_dossier", -1, 2) "," IND("digitized_result", 1,
                                                                                           1e300) "]"),
     0,
     -1,
     {"indicators[0].numerator: must be an integer", "indicators[1].numerator: must be an integer",
      "indicators[2].denominator: must be an integer", "indicators: indicator 'e_result' missing"}},
    {"revision too big",
     BODY("\"H61\"", "\"2025-01\"", "9007199254740992", "\"2025-04-01T00:00:05Z\"", INDS),
     0,
     1,
     {"revision: must be an integer"}},
    {"revision fraction",
     BODY("\"H61\"", "\"2025-01\"", "2.5", "\"2025-04-01T00:00:05Z\"", INDS),
     0,
     1,
     {"revision: must be an integer"}},
    {"unknown and repeated members",
     "{\"unit_code\":\"H61\",\"unit_code\":\"H62\",\"extra\":1,\"period\":\"2025-01\",\"revision\":1,"
     "\"generated_at\":\"2025-04-01T00:00:05Z\",\"indicators\":[" IND_FIRST9 ",{\"code\":\"satisfaction\","
     "\"numerator\":1,\"denominator\":2,\"rate\":0.5}]}",
     0,
     3,
     {"body: member 'unit_code' given more than once", "body: unknown member 'extra'",
      "indicators[9]: unknown member 'rate'"}},
    {"indicator not an object and missing fields",
     BODY("\"H61\"", "\"2025-01\"", "1", "\"2025-04-01T00:00:05Z\"", "[" IND_FIRST9 ",7,{\"code\":\"satisfaction\"}]"),
     0,
     3,
     {"indicators[9]: must be an object", "indicators[10].numerator: required",
      "indicators[10].denominator: required"}},
    {"empty indicators lists all missing",
     BODY("\"H61\"", "\"2025-01\"", "1", "\"2025-04-01T00:00:05Z\"", "[]"),
     0,
     10,
     {"indicator 'online_submission' missing", "indicator 'satisfaction' missing"}},
};

static int has_detail(const cJSON *details, const char *needle)
{
    for (const cJSON *d = details->child; d; d = d->next)
        if (cJSON_IsString(d) && strstr(d->valuestring, needle)) return 1;
    return 0;
}

static void print_details(const cJSON *details)
{
    for (const cJSON *d = details->child; d; d = d->next) printf("    detail: %s\n", d->valuestring);
}

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const vcase *c = &cases[i];
        portal_report r;
        tthc_err err = {{0}};
        cJSON *details = cJSON_CreateArray();
        tthc_rc rc = portal_report_validate(c->body, strlen(c->body), &r, details, &err);
        int n = cJSON_GetArraySize(details);
        int before = check_failed;
        CHECK((rc == TTHC_OK) == c->ok, "%s: rc=%s (%s)", c->name, tthc_rc_name(rc), err.msg);
        if (!c->ok) {
            CHECK(rc == TTHC_EINVAL, "%s: rc=%s, want einval", c->name, tthc_rc_name(rc));
            if (c->ndetails >= 0) CHECK(n == c->ndetails, "%s: %d details, want %d", c->name, n, c->ndetails);
        } else {
            CHECK(n == 0, "%s: %d details on success", c->name, n);
        }
        for (int k = 0; k < 12 && c->expect[k]; k++)
            CHECK(has_detail(details, c->expect[k]), "%s: no detail containing \"%s\"", c->name, c->expect[k]);
        if (check_failed != before) print_details(details);
        cJSON_Delete(details);
    }
}

static void test_parsed_values(void)
{
    portal_report r;
    tthc_err err;
    cJSON *details = cJSON_CreateArray();
    tthc_rc rc = portal_report_validate(GOOD, strlen(GOOD), &r, details, &err);
    CHECK(rc == TTHC_OK, "good body: %s", err.msg);
    CHECK(!strcmp(r.unit_code, "H61.07"), "unit_code %s", r.unit_code);
    CHECK(!strcmp(r.period, "2025-03"), "period %s", r.period);
    CHECK(r.revision == 4, "revision %lld", r.revision);
    CHECK(!strcmp(r.generated_at, "2025-04-01T00:00:05+07:00"), "generated_at %s", r.generated_at);
    CHECK(r.numerator[TTHC_IND_ONLINE_SUBMISSION] == 812 && r.denominator[TTHC_IND_ONLINE_SUBMISSION] == 1290,
          "online_submission values");
    CHECK(r.numerator[TTHC_IND_SATISFACTION] == 9 && r.denominator[TTHC_IND_SATISFACTION] == 10, "satisfaction");
    CHECK(r.numerator[TTHC_IND_ON_TIME] == 0 && r.denominator[TTHC_IND_ON_TIME] == 0, "on_time");

    /* Same report, other member and indicator order and spacing: same canonical text. */
    const char *other = "{\"indicators\":[" IND(
        "satisfaction", 9,
        10) ", " IND_FIRST9 "], \"generated_at\":"
            "\"2025-04-01T00:00:05+07:00\",\"revision\":4,\"period\":\"2025-03\",\"unit_code\":\"H61.07\"}";
    portal_report r2;
    rc = portal_report_validate(other, strlen(other), &r2, details, &err);
    CHECK(rc == TTHC_OK, "reordered body: %s", err.msg);
    char *c1 = portal_report_canonical(&r), *c2 = portal_report_canonical(&r2);
    CHECK(c1 && c2 && !strcmp(c1, c2), "canonical texts differ:\n%s\n%s", c1 ? c1 : "(null)", c2 ? c2 : "(null)");
    CHECK(c1 && !strncmp(c1, "{\"unit_code\":\"H61.07\",\"period\":\"2025-03\",\"revision\":4,", 52),
          "canonical starts %s", c1 ? c1 : "(null)");
    r2.revision = 5;
    char *c3 = portal_report_canonical(&r2);
    CHECK(c1 && c3 && strcmp(c1, c3), "different revision, same canonical text");
    free(c1);
    free(c2);
    free(c3);
    cJSON_Delete(details);
}

static void test_many_problems_capped(void)
{
    /* 200 unknown indicators: capped at PORTAL_DETAILS_MAX + one summary line. */
    char *body = malloc(64 * 1024);
    size_t o = (size_t)snprintf(body, 64 * 1024,
                                "{\"unit_code\":\"H61\",\"period\":\"2025-01\",\"revision\":1,"
                                "\"generated_at\":\"2025-04-01T00:00:05Z\",\"indicators\":[");
    for (int i = 0; i < 200; i++)
        o += (size_t)snprintf(body + o, 64 * 1024 - o, "%s{\"code\":\"x%d\",\"numerator\":1,\"denominator\":1}",
                              i ? "," : "", i);
    snprintf(body + o, 64 * 1024 - o, "]}");
    portal_report r;
    tthc_err err;
    cJSON *details = cJSON_CreateArray();
    tthc_rc rc = portal_report_validate(body, strlen(body), &r, details, &err);
    CHECK(rc == TTHC_EINVAL, "capped: rc %s", tthc_rc_name(rc));
    CHECK(cJSON_GetArraySize(details) == PORTAL_DETAILS_MAX + 1, "capped: %d details", cJSON_GetArraySize(details));
    CHECK(has_detail(details, "... and 160 more problems"), "capped: no summary line");
    cJSON_Delete(details);
    free(body);
}

typedef struct {
    const char *s;
    int ok;
} scase;

static void run_strings(const char *what, bool (*fn)(const char *), const scase *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        CHECK(fn(t[i].s) == t[i].ok, "%s(\"%s\") = %d, want %d", what, t[i].s ? t[i].s : "(null)", !t[i].ok, t[i].ok);
}

#define RUN(fn, t) run_strings(#fn, fn, t, sizeof(t) / sizeof((t)[0]))

static void test_fields(void)
{
    static const scase units[] = {
        {"H61.07", 1},
        {"H61", 1},
        {"H61.07.01", 1},
        {"0123456789.a", 1},
        {"a.0123456789012345678901234567890123456789", 1},
        {"a.01234567890123456789012345678901234567890", 0},
        {"01234567890", 0},
        {"01234567890.a", 0},
        {"", 0},
        {".07", 0},
        {"H61.", 0},
        {"H61-07", 0},
        {"H61.0 7", 0},
        {"H61.Đ", 0},
        {NULL, 0},
    };
    static const scase periods[] = {
        {"2025-01", 1}, {"2025-12", 1},    {"2025-00", 0}, {"2025-13", 0}, {"2025-1", 0}, {"25-01", 0},
        {"2025/01", 0}, {"2025-01-01", 0}, {"202a-01", 0}, {"", 0},        {NULL, 0},
    };
    static const scase times[] = {
        {"2025-04-01T00:00:05+07:00", 1},
        {"2025-04-01T00:00:05Z", 1},
        {"2025-04-01t00:00:05z", 1},
        {"2025-04-01T00:00:05.1-00:30", 1},
        {"2025-04-01T00:00:05.123456789Z", 1},
        {"2024-02-29T12:00:00Z", 1},
        {"2025-06-30T23:59:60Z", 1},
        {"2025-04-01T00:00:05", 0},
        {"2025-04-01 00:00:05Z", 0},
        {"2025-02-29T12:00:00Z", 0},
        {"2025-04-31T12:00:00Z", 0},
        {"2025-13-01T12:00:00Z", 0},
        {"2025-04-01T24:00:00Z", 0},
        {"2025-04-01T00:60:00Z", 0},
        {"2025-04-01T00:00:05.Z", 0},
        {"2025-04-01T00:00:05.1234567890Z", 0},
        {"2025-04-01T00:00:05+0700", 0},
        {"2025-04-01T00:00:05+24:00", 0},
        {"2025-04-01T00:00:05+07:60", 0},
        {"2025-04-01T00:00:05+07:00x", 0},
        {"2025-04-01", 0},
        {"", 0},
        {NULL, 0},
    };
    static const scase keys[] = {
        {"a", 1},         {"H61.07:2025-03:4", 1}, {"khóa-tiếng-việt", 1}, {"with space", 1}, {"", 0},
        {"tab\there", 0}, {"bad\xC3", 0},          {"del\x7F", 0},         {NULL, 0},
    };
    static const scase ctypes[] = {
        {"application/json", 1},
        {"Application/JSON", 1},
        {"application/json; charset=utf-8", 1},
        {"application/json;charset=\"UTF-8\"", 1},
        {"application/json ; foo=bar", 1},
        {"application/json; charset=latin1", 0},
        {"application/jsonx", 0},
        {"text/json", 0},
        {"application/x-www-form-urlencoded", 0},
        {"application/json;", 0},
        {"", 0},
        {NULL, 0},
    };
    RUN(portal_unit_code_valid, units);
    RUN(portal_period_valid, periods);
    RUN(portal_rfc3339_valid, times);
    RUN(portal_idempotency_key_valid, keys);
    RUN(portal_content_type_is_json, ctypes);

    char key[PORTAL_IDEMPOTENCY_KEY_MAX * 2 + 3];
    memset(key, 'k', PORTAL_IDEMPOTENCY_KEY_MAX);
    key[PORTAL_IDEMPOTENCY_KEY_MAX] = '\0';
    CHECK(portal_idempotency_key_valid(key), "200-char key refused");
    key[PORTAL_IDEMPOTENCY_KEY_MAX] = 'k';
    key[PORTAL_IDEMPOTENCY_KEY_MAX + 1] = '\0';
    CHECK(!portal_idempotency_key_valid(key), "201-char key accepted");
    for (int i = 0; i < PORTAL_IDEMPOTENCY_KEY_MAX; i++) memcpy(key + 2 * i, "\xC3\xA9", 2); /* 'é' x 200 */
    key[2 * PORTAL_IDEMPOTENCY_KEY_MAX] = '\0';
    CHECK(portal_idempotency_key_valid(key), "200 two-byte characters refused");
}

static void test_json_int(void)
{
    cJSON *o = cJSON_CreateObject();
    CHECK(portal_json_add_int(o, "a", 7), "add small");
    CHECK(portal_json_add_int(o, "b", 9007199254740991LL), "add big");
    CHECK(portal_json_add_int(o, "c", 1000000000000000LL), "add 1e15");
    char *s = cJSON_PrintUnformatted(o);
    CHECK(s && !strcmp(s, "{\"a\":7,\"b\":9007199254740991,\"c\":1000000000000000}"), "printed %s", s ? s : "(null)");
    free(s);
    cJSON_Delete(o);
}

int main(void)
{
    test_cases();
    test_parsed_values();
    test_many_problems_capped();
    test_fields();
    test_json_int();
    return CHECK_DONE();
}
