/* fuzz_portal_validate.c - libFuzzer target: the portal stub's request
 * validation (services/portal-stub/stub_report.c, linked from tthc_portal_stub_core):
 * the report body, and the same bytes as an Idempotency-Key and a
 * Content-Type header.  A valid report's canonical form is itself valid and
 * canonical; a valid key has 1-200 characters and no control character. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portal-stub/stub_report.h"

#include <cjson/cJSON.h>

#include "fuzz.h"

static void check_headers(const uint8_t *data, size_t size)
{
    char h[PORTAL_IDEMPOTENCY_KEY_MAX * 4 + 8];
    if (size >= sizeof h || memchr(data, '\0', size)) return; /* a header never holds NUL */
    memcpy(h, data, size);
    h[size] = '\0';
    if (portal_idempotency_key_valid(h)) {
        FUZZ_ASSERT(size >= 1, "empty key accepted");
        size_t chars = 0;
        for (size_t i = 0; i < size; i++) {
            unsigned char c = (unsigned char)h[i];
            FUZZ_ASSERT(c >= 0x20 && c != 0x7f, "control character in an accepted key");
            chars += (c & 0xC0) != 0x80;
        }
        FUZZ_ASSERT(chars >= 1 && chars <= PORTAL_IDEMPOTENCY_KEY_MAX, "key of %zu characters accepted", chars);
    }
    if (portal_content_type_is_json(h)) {
        const char *t = h + strspn(h, " \t");
        FUZZ_ASSERT(!strncasecmp(t, "application/json", 16), "content type '%s'", h);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_headers(data, size);
    cJSON *details = cJSON_CreateArray();
    if (!details) return 0;
    portal_report r, r2;
    tthc_err err;
    tthc_rc rc = portal_report_validate((const char *)data, size, &r, details, &err);
    int n = cJSON_GetArraySize(details);
    if (rc == TTHC_EINVAL) FUZZ_ASSERT(n >= 1 && n <= PORTAL_DETAILS_MAX + 1, "%d details", n);
    if (rc == TTHC_OK) {
        FUZZ_ASSERT(n == 0, "valid with %d details", n);
        FUZZ_ASSERT(portal_unit_code_valid(r.unit_code) && portal_period_valid(r.period) && r.revision >= 1 &&
                        portal_rfc3339_valid(r.generated_at),
                    "accepted report has an invalid field");
        for (int i = 0; i < TTHC_INDICATOR_COUNT; i++)
            FUZZ_ASSERT(r.numerator[i] >= 0 && r.numerator[i] <= r.denominator[i] && r.denominator[i] <= PORTAL_INT_MAX,
                        "indicator %d: %lld/%lld", i, r.numerator[i], r.denominator[i]);
        char *c1 = portal_report_canonical(&r);
        if (c1) {
            cJSON *d2 = cJSON_CreateArray();
            if (d2) {
                tthc_rc rc2 = portal_report_validate(c1, strlen(c1), &r2, d2, &err);
                FUZZ_ASSERT(rc2 == TTHC_OK, "canonical form refused: %s", c1);
                char *c2 = portal_report_canonical(&r2);
                FUZZ_ASSERT(!c2 || !strcmp(c1, c2), "canonical form not stable: %s / %s", c1, c2);
                free(c2);
                cJSON_Delete(d2);
            }
            free(c1);
        }
    }
    cJSON_Delete(details);
    return 0;
}
