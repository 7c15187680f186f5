/* test_sync_outcome.c - table-driven tests of how tthc-sync reads the
 * portal's answers (services/sync/outcome.c) and of the metric labels
 * (services/sync/sync_metrics.c), linked with tthc_sync_core. */
#include "sync/outcome.h"
#include "sync/sync_metrics.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

typedef struct {
    long status;
    const char *body;
    sync_outcome want;
    long long want_rev;
} classify_case; /* the revision pushed is 4 */

static const classify_case cases[] = {
    {0, NULL, SYNC_RETRY, -1}, /* no answer: refused, reset, timeout */
    {200, "{\"status\":\"accepted\",\"revision\":4}", SYNC_ACCEPTED, 4},
    {200, "{\"status\":\"duplicate\",\"revision\":4}", SYNC_DUPLICATE, 4},
    /* A 2xx is an acceptance only as portal-api.md writes it (issue 10: an HTML page marked 200
     * was taken as "synced" for good); anything else is a failed attempt, retried. */
    {200, "{\"status\":\"duplicate\"}", SYNC_BAD_ANSWER, -1},
    {200, "<html>ok</html>", SYNC_BAD_ANSWER, -1},
    {200, NULL, SYNC_BAD_ANSWER, -1},
    {200, "", SYNC_BAD_ANSWER, -1},
    {201, "{\"status\":\"accepted\",\"revision\":4}", SYNC_BAD_ANSWER, 4},
    {204, "", SYNC_BAD_ANSWER, -1},
    {200, "{\"status\":\"accepted\",\"revision\":5}", SYNC_BAD_ANSWER, 5}, /* not the revision sent */
    {200, "{\"status\":\"accepted\",\"revision\":3}", SYNC_BAD_ANSWER, 3},
    {200, "{\"status\":\"duplicate\",\"revision\":5}", SYNC_BAD_ANSWER, 5},
    {200, "{\"status\":\"accepted\",\"revision\":\"4\"}", SYNC_BAD_ANSWER, -1},
    {200, "{\"status\":\"accepted\",\"revision\":4.5}", SYNC_BAD_ANSWER, -1},
    {200, "{\"status\":\"ok\",\"revision\":4}", SYNC_BAD_ANSWER, 4},
    {200, "{\"status\":\"ACCEPTED\",\"revision\":4}", SYNC_BAD_ANSWER, 4},
    {200, "{\"revision\":4}", SYNC_BAD_ANSWER, 4},
    {200, "[{\"status\":\"accepted\",\"revision\":4}]", SYNC_BAD_ANSWER, -1},
    {200, "{\"status\":\"accepted\",\"revision\":4} trailing", SYNC_BAD_ANSWER, -1},
    {200, "{\"status\":\"accepted\",\"revision\":4,\"note\":\"extra members are fine\"}", SYNC_ACCEPTED, 4},
    {202, "{\"status\":\"accepted\",\"revision\":4}", SYNC_BAD_ANSWER, 4},
    {400, "{\"error\":\"invalid_report\",\"details\":[\"revision: must be >= 1\"]}", SYNC_PARK, -1},
    {401, "{\"error\":\"unauthorized\"}", SYNC_UNAUTHORIZED, -1},
    {401, NULL, SYNC_UNAUTHORIZED, -1},
    {403, "{\"error\":\"forbidden\"}", SYNC_PARK, -1},
    {404, "{\"error\":\"not_found\"}", SYNC_PARK, -1},
    {405, NULL, SYNC_PARK, -1},
    {408, NULL, SYNC_RETRY, -1},
    {409, "{\"error\":\"stale_revision\",\"current_revision\":5}", SYNC_STALE, 5},
    {409, "{\"error\":\"stale_revision\",\"current_revision\":\"5\"}", SYNC_STALE, -1},
    {409, "{\"error\":\"stale_revision\",\"current_revision\":5.5}", SYNC_STALE, -1},
    {409, "{\"error\":\"stale_revision\",\"current_revision\":-3}", SYNC_STALE, -1},
    {409, "not json", SYNC_STALE, -1},
    {409, NULL, SYNC_STALE, -1},
    {413, "{\"error\":\"payload_too_large\"}", SYNC_PARK, -1},
    {415, "{\"error\":\"unsupported_media_type\"}", SYNC_PARK, -1},
    {422, "{\"error\":\"invalid\"}", SYNC_PARK, -1},
    {422, "{\"error\":\"idempotency_key_reused\",\"details\":[]}", SYNC_STALE, -1},
    {425, NULL, SYNC_RETRY, -1},
    {429, "{\"error\":\"injected\"}", SYNC_RETRY, -1},
    {500, "{\"error\":\"internal\"}", SYNC_RETRY, -1},
    {502, "<html>bad gateway</html>", SYNC_RETRY, -1},
    {503, "{\"error\":\"unavailable\"}", SYNC_RETRY, -1},
    {504, NULL, SYNC_RETRY, -1},
    {599, NULL, SYNC_RETRY, -1},
    {100, NULL, SYNC_PARK, -1},
    {301, NULL, SYNC_PARK, -1}, /* redirects are not followed: a wrong URL, for an operator */
    {302, NULL, SYNC_PARK, -1},
};

typedef struct {
    const char *in;
    size_t len; /* 0: strlen */
    size_t cap;
    const char *want;
} sanitize_case;

static const sanitize_case sanitize[] = {
    {"{\"error\":\"invalid_report\"}", 0, 100, "{\"error\":\"invalid_report\"}"},
    {"line1\nline2\ttab\r", 0, 100, "line1 line2 tab "},
    {"x\x7fy", 0, 100, "x y"},
    {"caf\xc3\xa9", 0, 100, "caf\xc3\xa9"},                         /* é kept */
    {"H\xe1\xbb\x93 s\xc6\xa1", 0, 100, "H\xe1\xbb\x93 s\xc6\xa1"}, /* Hồ sơ kept */
    {"bad\xff\xfe", 0, 100, "bad??"},
    {"\xc3", 0, 100, "?"},                            /* truncated sequence */
    {"\xed\xa0\x80", 0, 100, "???"},                  /* a surrogate is not UTF-8 */
    {"\xc0\xaf", 0, 100, "??"},                       /* overlong */
    {"abcdefghij", 0, 8, "abcd..."},                  /* cut: room for "..." and NUL */
    {"abcdefg", 0, 8, "abcdefg"},                     /* fits exactly */
    {"ab\xc3\xa9\xc3\xa9xyz", 0, 9, "ab\xc3\xa9..."}, /* never splits a character */
    {"abc", 0, 1, ""},
    {"abc", 0, 3, ""},       /* no room for anything plus "..." */
    {"a\0b", 3, 100, "a b"}, /* NUL in the body */
    {NULL, 0, 100, ""},
};

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const classify_case *c = &cases[i];
        long long rev = 123;
        sync_outcome got = sync_classify(c->status, c->body, c->body ? strlen(c->body) : 0, 4, &rev);
        CHECK(got == c->want, "status %ld body %s: got %s, want %s", c->status, c->body ? c->body : "(none)",
              sync_outcome_name(got), sync_outcome_name(c->want));
        CHECK(rev == c->want_rev, "status %ld body %s: revision %lld, want %lld", c->status,
              c->body ? c->body : "(none)", rev, c->want_rev);
    }
    /* Other revisions sent: the answer must name that one. */
    long long r2 = 0;
    const char *big = "{\"status\":\"accepted\",\"revision\":9007199254740991}";
    CHECK(sync_classify(200, big, strlen(big), 9007199254740991LL, &r2) == SYNC_ACCEPTED && r2 == 9007199254740991LL,
          "2^53-1");
    CHECK(sync_classify(201, big, strlen(big), 9007199254740991LL, &r2) == SYNC_BAD_ANSWER, "201");
    const char *one = "{\"status\":\"accepted\",\"revision\":1}";
    CHECK(sync_classify(200, one, strlen(one), 1, &r2) == SYNC_ACCEPTED && r2 == 1, "revision 1");
    CHECK(sync_classify(200, one, strlen(one), 2, &r2) == SYNC_BAD_ANSWER && r2 == 1, "revision 1 for 2");
    CHECK(sync_classify(409, "{\"current_revision\":5}", 22, 4, NULL) == SYNC_STALE, "NULL revision pointer");
    CHECK(sync_classify(200, "{\"status\":\"accepted\",\"revision\":4}", 34, 4, NULL) == SYNC_ACCEPTED,
          "NULL revision pointer (200)");
    /* The body length bounds parsing: the tail after len is not read. */
    long long rev = 0;
    CHECK(sync_classify(200, "{\"status\":\"duplicate\",\"revision\":4}XXXX", 35, 4, &rev) == SYNC_DUPLICATE,
          "length respected");
    CHECK_STR(sync_outcome_name(SYNC_BAD_ANSWER), "bad_answer");
    CHECK_STR(sync_metrics_outcome_name(SYNC_M_BAD_ANSWER), "bad_answer");

    for (size_t i = 0; i < sizeof sanitize / sizeof sanitize[0]; i++) {
        const sanitize_case *c = &sanitize[i];
        char out[128];
        memset(out, 'Z', sizeof out);
        size_t len = c->len ? c->len : c->in ? strlen(c->in) : 0;
        sync_sanitize(out, c->cap, c->in, len);
        CHECK(!strcmp(out, c->want), "sanitize case %zu: got '%s', want '%s'", i, out, c->want);
        CHECK(strlen(out) < c->cap, "sanitize case %zu: %zu bytes in a %zu-byte buffer", i, strlen(out), c->cap);
    }

    /* Metric labels of parked answers. */
    static const struct {
        int status;
        const char *label;
    } labels[] = {{400, "parked_400"}, {401, "parked_401"},   {403, "parked_403"}, {413, "parked_413"},
                  {422, "parked_422"}, {404, "parked_other"}, {0, "parked_other"}, {301, "parked_other"}};
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        CHECK_STR(sync_metrics_outcome_name(sync_metrics_park_label(labels[i].status)), labels[i].label);

    /* The exposition lists every outcome (also at zero) and the histograms. */
    sync_metrics *m = sync_metrics_new();
    CHECK(m != NULL, "metrics");
    sync_metrics_outcome(m, SYNC_M_ACCEPTED);
    sync_metrics_outcome(m, SYNC_M_RETRY);
    sync_metrics_outcome(m, SYNC_M_RETRY);
    sync_metrics_outcome(m, SYNC_M_BAD_ANSWER); /* a failed attempt: a retry too */
    sync_metrics_request(m, 0.003);
    sync_metrics_request(m, 0.2);
    sync_metrics_request(m, 99);
    sync_metrics_queue(m, 7, 1.5, 2, 1);
    size_t len = 0;
    char *text = sync_metrics_render(m, &len);
    CHECK(text && strlen(text) == len, "render");
    static const char *const want[] = {
        "tthc_sync_queue_depth 7\n",
        "tthc_sync_oldest_waiting_seconds 1.5\n",
        "tthc_sync_reports_total{outcome=\"accepted\"} 1\n",
        "tthc_sync_reports_total{outcome=\"duplicate\"} 0\n",
        "tthc_sync_reports_total{outcome=\"parked_401\"} 0\n",
        "tthc_sync_reports_total{outcome=\"retry\"} 2\n",
        "tthc_sync_reports_total{outcome=\"bad_answer\"} 1\n",
        "tthc_sync_retries_total 3\n",
        "tthc_sync_request_duration_seconds_bucket{le=\"0.005\"} 1\n",
        "tthc_sync_request_duration_seconds_bucket{le=\"0.25\"} 2\n",
        "tthc_sync_request_duration_seconds_bucket{le=\"30\"} 2\n",
        "tthc_sync_request_duration_seconds_bucket{le=\"+Inf\"} 3\n",
        "tthc_sync_request_duration_seconds_count 3\n",
        "tthc_sync_last_success_timestamp_seconds 0\n",
        "# TYPE tthc_sync_request_duration_seconds histogram\n",
    };
    for (size_t i = 0; text && i < sizeof want / sizeof want[0]; i++)
        CHECK(strstr(text, want[i]) != NULL, "metrics text lacks: %s", want[i]);
    free(text);
    sync_metrics_free(m);
    return CHECK_DONE();
}
