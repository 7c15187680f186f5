/* test_sync_report.c - table-driven tests of the reports tthc-sync builds
 * (services/sync/sync_report.c), checked against docs/portal-api.md and against
 * the portal stub's own strict validator (services/portal-stub/stub_report.c);
 * linked with tthc_sync_core and tthc_portal_stub_core. */
#include "portal-stub/stub_report.h"
#include "sync/sync_report.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "timeutil.h"

/* The indicator_totals view of migrations/001_core.sql, as column names. */
static const struct {
    const char *code, *num, *den;
} view[TTHC_INDICATOR_COUNT] = {
    {"online_submission", "online", "received"},
    {"digitized_dossier", "comp_digitized", "received"},
    {"digitized_result", "result_digitized", "issued"},
    {"e_result", "e_result", "issued"},
    {"id_tagged", "id_tagged", "received"},
    {"data_reused", "data_reused", "received"},
    {"online_payment", "payments_online", "payments"},
    {"portal_synced", "synced", "issued"},
    {"on_time", "on_time", "due_issued"},
    {"satisfaction", "satisfied", "rated"},
};

#define MAXI 9007199254740991LL

/* Counter sets in tthc_counter order: received, online, comp_digitized,
 * data_reused, id_tagged, issued, result_digitized, e_result, synced,
 * due_issued, on_time, payments, payments_online, rated, satisfied.
 * Each is consistent (every numerator a subset of its denominator). */
typedef struct {
    const char *unit, *period;
    long long revision;
    long long counts[TTHC_C__COUNT];
} totals_case;

static const totals_case totals[] = {
    {"H61.07", "2025-03", 1, {0}},
    {"H61.07", "2025-03", 4, {1290, 812, 1000, 1, 0, 702, 5, 640, 700, 690, 0, 4, 3, 10, 9}},
    {"H61", "2025-12", 17, {5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}},
    {"H61.0701.X",
     "2024-01",
     1099511627776LL,
     {1099511627776LL, 1099511627775LL, 1, 2, 3, 1000000000000000LL, 999999999999999LL, 0, 1, 2, 2, 7, 0, 3, 3}},
    {"A1.B2",
     "2030-07",
     MAXI,
     {MAXI, MAXI, MAXI, MAXI, MAXI, MAXI, MAXI, MAXI, MAXI, MAXI, MAXI, MAXI, MAXI, MAXI, MAXI}},
};

static void check_report(const totals_case *c, int64_t gen_us, const char *gen_text)
{
    sync_totals t;
    memset(&t, 0, sizeof t);
    snprintf(t.unit_code, sizeof t.unit_code, "%s", c->unit);
    snprintf(t.period, sizeof t.period, "%s", c->period);
    t.revision = c->revision;
    memcpy(t.counts, c->counts, sizeof t.counts);
    char *json = sync_report_json(&t, gen_us);
    CHECK(json != NULL, "%s: no JSON", c->unit);
    if (!json) return;

    /* Shape: exactly these members, in the contract's order. */
    cJSON *j = cJSON_Parse(json);
    CHECK(j != NULL, "%s: not JSON: %s", c->unit, json);
    static const char *const members[] = {"unit_code", "period", "revision", "generated_at", "indicators"};
    const cJSON *m = j ? j->child : NULL;
    for (size_t k = 0; k < 5; k++, m = m ? m->next : NULL)
        CHECK(m && !strcmp(m->string, members[k]), "%s: member %zu is %s", c->unit, k, m ? m->string : "(none)");
    CHECK(m == NULL, "%s: extra member %s", c->unit, m ? m->string : "");
    CHECK_STR(cJSON_GetObjectItem(j, "unit_code")->valuestring, c->unit);
    CHECK_STR(cJSON_GetObjectItem(j, "period")->valuestring, c->period);
    CHECK_STR(cJSON_GetObjectItem(j, "generated_at")->valuestring, gen_text);
    const cJSON *inds = cJSON_GetObjectItem(j, "indicators");
    CHECK(cJSON_GetArraySize(inds) == TTHC_INDICATOR_COUNT, "%s: %d indicators", c->unit, cJSON_GetArraySize(inds));

    /* Every indicator once, in catalogue order, numerator <= denominator. */
    int k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, inds)
    {
        if (k >= TTHC_INDICATOR_COUNT) break;
        CHECK_STR(cJSON_GetObjectItem(it, "code")->valuestring, tthc_indicators[k].code);
        long long num = c->counts[sync_formulas[k].num], den = c->counts[sync_formulas[k].den];
        CHECK(num <= den, "%s: %s %lld > %lld", c->unit, tthc_indicators[k].code, num, den);
        k++;
    }

    /* Integers are printed exactly, never as 1e+15. */
    char needle[96];
    snprintf(needle, sizeof needle, "\"revision\":%lld,", c->revision);
    CHECK(strstr(json, needle) != NULL, "%s: %s not in %s", c->unit, needle, json);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        snprintf(needle, sizeof needle, "{\"code\":\"%s\",\"numerator\":%lld,\"denominator\":%lld}",
                 tthc_indicators[i].code, c->counts[sync_formulas[i].num], c->counts[sync_formulas[i].den]);
        CHECK(strstr(json, needle) != NULL, "%s: %s not in %s", c->unit, needle, json);
    }
    CHECK(strstr(json, "e+") == NULL, "%s: exponent in %s", c->unit, json);

    /* The portal stub's strict validator accepts it and reads the same values. */
    portal_report pr;
    cJSON *details = cJSON_CreateArray();
    tthc_err err = {{0}};
    tthc_rc rc = portal_report_validate(json, strlen(json), &pr, details, &err);
    char *d = cJSON_PrintUnformatted(details);
    CHECK(rc == TTHC_OK, "%s: the stub refuses %s: %s", c->unit, json, d ? d : "");
    free(d);
    cJSON_Delete(details);
    if (rc == TTHC_OK) {
        CHECK_INT(pr.revision, c->revision);
        for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
            CHECK_INT(pr.numerator[i], c->counts[sync_formulas[i].num]);
            CHECK_INT(pr.denominator[i], c->counts[sync_formulas[i].den]);
        }
    }
    cJSON_Delete(j);
    free(json);
}

typedef struct {
    const char *unit, *period;
    long long rev;
    size_t cap;
    const char *want; /* NULL: must fail */
} key_case;

static char long_unit[260];

int main(void)
{
    /* The formulas are the indicator_totals view's, in catalogue order. */
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        CHECK_STR(tthc_indicators[i].code, view[i].code);
        CHECK_STR(tthc_counter_column[sync_formulas[i].num], view[i].num);
        CHECK_STR(tthc_counter_column[sync_formulas[i].den], view[i].den);
    }

    int64_t gen;
    CHECK(tthc_rfc3339_parse("2025-03-31T17:00:05Z", &gen, NULL) == TTHC_OK, "parse");
    for (size_t i = 0; i < sizeof totals / sizeof totals[0]; i++)
        check_report(&totals[i], gen, "2025-04-01T00:00:05+07:00");
    CHECK(tthc_rfc3339_parse("2025-12-31T23:59:59+07:00", &gen, NULL) == TTHC_OK, "parse");
    check_report(&totals[1], gen, "2025-12-31T23:59:59+07:00");

    /* sync_values_from_counts follows the formulas; equality compares all 20 numbers. */
    sync_values a, b;
    sync_values_from_counts(totals[1].counts, &a);
    CHECK_INT(a.num[TTHC_IND_ONLINE_SUBMISSION], 812);
    CHECK_INT(a.den[TTHC_IND_ONLINE_SUBMISSION], 1290);
    CHECK_INT(a.num[TTHC_IND_ON_TIME], 0);
    CHECK_INT(a.den[TTHC_IND_ON_TIME], 690);
    CHECK_INT(a.num[TTHC_IND_SATISFACTION], 9);
    b = a;
    CHECK(sync_values_equal(&a, &b), "equal");
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        b = a;
        b.num[i]++;
        CHECK(!sync_values_equal(&a, &b), "numerator %d differs", i);
        b = a;
        b.den[i]--;
        CHECK(!sync_values_equal(&a, &b), "denominator %d differs", i);
    }

    /* Idempotency keys: one per (unit, period, revision), at most 200 characters. */
    memset(long_unit, 'U', 200);
    const key_case keys[] = {
        {"H61.07", "2025-03", 4, 256, "tthc:H61.07:2025-03:r4"},
        {"H61", "2025-03", 4, 256, "tthc:H61:2025-03:r4"},
        {"H61.07", "2025-04", 4, 256, "tthc:H61.07:2025-04:r4"},
        {"H61.07", "2025-03", 5, 256, "tthc:H61.07:2025-03:r5"},
        {"H61.07", "2025-03", MAXI, 256, "tthc:H61.07:2025-03:r9007199254740991"},
        {"H61.07", "2025-03", 4, 23, "tthc:H61.07:2025-03:r4"}, /* exactly fits */
        {"H61.07", "2025-03", 4, 22, NULL},                     /* one byte short */
        {long_unit, "2025-03", 4, 1024, NULL},                  /* over 200 characters */
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char out[1024];
        int r = sync_idempotency_key(out, keys[i].cap, keys[i].unit, keys[i].period, keys[i].rev);
        if (keys[i].want) {
            CHECK(r == 0, "key case %zu failed", i);
            CHECK_STR(out, keys[i].want);
            CHECK(portal_idempotency_key_valid(out), "stub refuses key %s", out);
        } else {
            CHECK(r == -1 && out[0] == '\0', "key case %zu: want failure, got %d '%s'", i, r, out);
        }
    }

    /* Reading the portal's GET answer. */
    const char *answer =
        "{\"reports\":[{\"unit_code\":\"H61\",\"period\":\"2025-03\",\"revision\":7,"
        "\"generated_at\":\"2025-04-01T00:00:05+07:00\",\"received_at\":\"2025-04-01T00:00:06+07:00\","
        "\"indicators\":[{\"code\":\"online_submission\",\"numerator\":812,\"denominator\":1290},"
        "{\"code\":\"future_indicator\",\"numerator\":1,\"denominator\":2},"
        "{\"code\":\"satisfaction\",\"numerator\":9,\"denominator\":10}]},"
        "{\"unit_code\":\"H61.07\",\"period\":\"2025-03\",\"revision\":9007199254740991,\"indicators\":[]}]}";
    sync_portal_report *reps = NULL;
    size_t n = 0;
    tthc_err err = {{0}};
    CHECK(sync_parse_reports(answer, strlen(answer), &reps, &n, &err) == TTHC_OK, "parse: %s", err.msg);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(reps[0].unit_code, "H61");
        CHECK_STR(reps[0].period, "2025-03");
        CHECK_INT(reps[0].revision, 7);
        CHECK_INT(reps[0].v.num[TTHC_IND_ONLINE_SUBMISSION], 812);
        CHECK_INT(reps[0].v.den[TTHC_IND_SATISFACTION], 10);
        CHECK_INT(reps[0].v.num[TTHC_IND_E_RESULT], -1); /* absent: never equal to real counts */
        CHECK_INT(reps[1].revision, MAXI);
        sync_values zero;
        long long zc[TTHC_C__COUNT] = {0};
        sync_values_from_counts(zc, &zero);
        CHECK(!sync_values_equal(&zero, &reps[1].v), "an empty indicator list is not all zero");
    }
    free(reps);
    CHECK(sync_parse_reports("{\"reports\":[]}", 14, &reps, &n, &err) == TTHC_OK && n == 0 && !reps, "empty");

    static const char *const bad[] = {
        "",
        "not json",
        "{}",
        "{\"reports\":{}}",
        "{\"reports\":[1]}",
        "{\"reports\":[{\"unit_code\":\"H61\",\"period\":\"2025-03\",\"revision\":\"7\",\"indicators\":[]}]}",
        "{\"reports\":[{\"unit_code\":\"H61\",\"period\":\"2025-03\",\"revision\":-1,\"indicators\":[]}]}",
        "{\"reports\":[{\"unit_code\":\"H61\",\"period\":\"2025-03\",\"revision\":1.5,\"indicators\":[]}]}",
        "{\"reports\":[{\"unit_code\":\"H61\",\"period\":\"2025-03\",\"revision\":1}]}",
        "{\"reports\":[{\"unit_code\":\"H61\",\"period\":\"2025-033\",\"revision\":1,\"indicators\":[]}]}",
        ("{\"reports\":[{\"unit_code\":\"H61\",\"period\":\"2025-03\",\"revision\":1,\"indicators\":"
         "[{\"code\":\"e_result\",\"numerator\":\"1\",\"denominator\":2}]}]}"), /* one string */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        reps = (sync_portal_report *)1;
        tthc_rc rc = sync_parse_reports(bad[i], strlen(bad[i]), &reps, &n, &err);
        CHECK(rc == TTHC_EINVAL && reps == NULL && n == 0, "bad answer %zu accepted: %s", i, bad[i]);
    }
    return CHECK_DONE();
}
