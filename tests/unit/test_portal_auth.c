/* test_portal_auth.c - bearer-token check and target classification of the
 * portal stub (auth.c, targets.c; linked with tthc_portal_stub_core). */
#include "portal-stub/auth.h"
#include "portal-stub/targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "check.h"

static void test_bearer(void)
{
    static const struct {
        const char *header, *token;
        int ok;
    } cases[] = {
        {"Bearer s3cret", "s3cret", 1},
        {"bearer s3cret", "s3cret", 1},
        {"BEARER   s3cret", "s3cret", 1},
        {"Bearer s3cret", "s3cre", 0},       /* prefix of the header token */
        {"Bearer s3cre", "s3cret", 0},       /* prefix of the expected token */
        {"Bearer s3cretx", "s3cret", 0},
        {"Bearer S3CRET", "s3cret", 0},      /* tokens are case-sensitive */
        {"Bearer ", "s3cret", 0},
        {"Bearer", "s3cret", 0},
        {"Bearers3cret", "s3cret", 0},
        {"Basic s3cret", "s3cret", 0},
        {"s3cret", "s3cret", 0},
        {"", "s3cret", 0},
        {NULL, "s3cret", 0},
        {"Bearer ", "", 0},                  /* an empty expected token never matches */
        {"Bearer x", NULL, 0},
        {"Bearer abcabc", "abc", 0},         /* cycling over expected must not make this match */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(portal_bearer_ok(cases[i].header, cases[i].token) == cases[i].ok, "bearer(\"%s\", \"%s\") != %d",
              cases[i].header ? cases[i].header : "(null)", cases[i].token ? cases[i].token : "(null)", cases[i].ok);

    static const struct {
        const char *token;
        int ok;
    } tokens[] = {{"s3cret", 1}, {"a-b_c.d~e+f/g=", 1}, {"", 0}, {"with space", 0}, {"tab\t", 0}, {"caf\xC3\xA9", 0},
                  {NULL, 0}};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++)
        CHECK(portal_token_valid(tokens[i].token) == tokens[i].ok, "token_valid(\"%s\") != %d",
              tokens[i].token ? tokens[i].token : "(null)", tokens[i].ok);
}

static void test_targets(void)
{
    portal_targets t;
    portal_targets_builtin(&t);
    CHECK(t.year == 2025 && !t.from_db, "built-in year %d from_db %d", t.year, t.from_db);
    const portal_target *os = &t.t[TTHC_IND_ONLINE_SUBMISSION];
    CHECK(os->n == 2 && os->lo == 60 && os->hi == 80, "online_submission n=%d lo=%g hi=%g", os->n, os->lo, os->hi);
    CHECK(!strcmp(os->label, "60% NQ 01/NQ-CP #3; 80% TB 56/TB-VPCP #2"), "label '%s'", os->label);
    CHECK(t.t[TTHC_IND_ON_TIME].n == 0, "on_time has no target");
    for (int k = 0; k < TTHC_INDICATOR_COUNT; k++)
        CHECK(k == TTHC_IND_ON_TIME || t.t[k].n > 0, "no built-in target for %s", tthc_indicators[k].code);

    static const struct {
        int ind;
        long long num, den;
        portal_rate_class want;
    } cases[] = {
        {TTHC_IND_ONLINE_SUBMISSION, 80, 100, PORTAL_RATE_MET},
        {TTHC_IND_ONLINE_SUBMISSION, 4, 5, PORTAL_RATE_MET},         /* exactly 80 % */
        {TTHC_IND_ONLINE_SUBMISSION, 79, 100, PORTAL_RATE_PARTIAL},
        {TTHC_IND_ONLINE_SUBMISSION, 3, 5, PORTAL_RATE_PARTIAL},     /* exactly 60 % */
        {TTHC_IND_ONLINE_SUBMISSION, 599999, 1000000, PORTAL_RATE_MISSED},
        {TTHC_IND_ONLINE_SUBMISSION, 0, 0, PORTAL_RATE_NONE},
        {TTHC_IND_E_RESULT, 702, 702, PORTAL_RATE_MET},
        {TTHC_IND_E_RESULT, 701, 702, PORTAL_RATE_MISSED},
        {TTHC_IND_E_RESULT, 9007199254740990LL, 9007199254740991LL, PORTAL_RATE_MISSED},
        {TTHC_IND_ON_TIME, 1, 2, PORTAL_RATE_NONE},
        {TTHC_IND_SATISFACTION, 9, 10, PORTAL_RATE_MET},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        portal_rate_class got = portal_target_classify(&t.t[cases[i].ind], cases[i].num, cases[i].den);
        CHECK(got == cases[i].want, "%s %lld/%lld: class %d, want %d", tthc_indicators[cases[i].ind].code,
              cases[i].num, cases[i].den, got, cases[i].want);
    }

    portal_targets_clear(&t, 2026, 1);
    portal_targets_add(&t, "data_reused", 55.5, "X");
    portal_targets_add(&t, "unknown_code", 10, "Y");
    CHECK(t.t[TTHC_IND_DATA_REUSED].n == 1 && t.t[TTHC_IND_DATA_REUSED].lo == 55.5, "added target");
    CHECK(portal_target_classify(&t.t[TTHC_IND_DATA_REUSED], 555, 1000) == PORTAL_RATE_MET, "55.5 %% met");
    CHECK(portal_target_classify(&t.t[TTHC_IND_DATA_REUSED], 554, 1000) == PORTAL_RATE_MISSED, "55.4 %% missed");
}

int main(void)
{
    test_bearer();
    test_targets();
    return CHECK_DONE();
}
