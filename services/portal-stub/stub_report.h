/* stub_report.h - validation of what a client pushes to the portal (docs/portal-api.md).
 *
 * Pure functions: no I/O, no globals, thread-safe.  The validator reports
 * every problem it finds, one human-readable string each ("field: problem"),
 * so that a client learns everything wrong with a body from one answer.
 *
 * Rules (stricter than "JSON parses"):
 *  - the body is UTF-8 and RFC 8259 JSON (no leading zeros, no "+1", no NUL
 *    characters, no lone surrogates), an object with exactly the members
 *    unit_code, period, revision, generated_at, indicators (no unknown or
 *    repeated member);
 *  - unit_code: a unit "PROV.UNIT" (PROV 1-10 ASCII letters/digits, UNIT 1-40
 *    letters/digits/dots) or a province code alone (1-10 letters/digits);
 *  - period: "YYYY-MM", month 01-12;
 *  - revision: an integer >= 1;
 *  - generated_at: RFC 3339 date-time with an offset ("Z" or +hh:mm), real
 *    calendar date, at most 9 fractional digits;
 *  - indicators: an array listing each indicator of common/indicators.h
 *    exactly once, each {code, numerator, denominator} with integers
 *    0 <= numerator <= denominator.
 * Integers must be exact in IEEE doubles: at most PORTAL_INT_MAX (2^53 - 1). */
#ifndef STUB_REPORT_H
#define STUB_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "indicators.h"

struct cJSON;

#define PORTAL_UNIT_CODE_MAX       51 /* 10 + '.' + 40 */
#define PORTAL_GENERATED_AT_MAX    35
#define PORTAL_IDEMPOTENCY_KEY_MAX 200
#define PORTAL_INT_MAX             9007199254740991LL /* 2^53 - 1 */
#define PORTAL_DETAILS_MAX         50                 /* problems listed; then one "... more" line */
#define PORTAL_JSON_DEPTH_MAX      32

typedef struct {
    char unit_code[PORTAL_UNIT_CODE_MAX + 1];
    char period[8];
    long long revision;
    char generated_at[PORTAL_GENERATED_AT_MAX + 1];
    long long numerator[TTHC_INDICATOR_COUNT]; /* indexed by catalogue position */
    long long denominator[TTHC_INDICATOR_COUNT];
} portal_report;

/* Validates body[0..len).  No problem: fills *out, returns TTHC_OK.
 * Problems: appends one string per problem to details (a cJSON array owned by
 * the caller; at most PORTAL_DETAILS_MAX + 1 entries) and returns TTHC_EINVAL;
 * *out is then unspecified.  TTHC_ENOMEM if memory ran out. */
tthc_rc portal_report_validate(const char *body, size_t len, portal_report *out, struct cJSON *details,
                               tthc_err *err) TTHC_MUSTCHECK;

/* The report as canonical JSON (members in contract order, indicators in
 * catalogue order, no spaces): equal reports give equal text.  Returns a
 * malloc'd string owned by the caller, or NULL when memory ran out. */
char *portal_report_canonical(const portal_report *r);

/* Field checks, also used for query parameters: true if valid. */
bool portal_unit_code_valid(const char *s);
bool portal_period_valid(const char *s);
bool portal_rfc3339_valid(const char *s);
/* 1..200 characters (UTF-8 code points counted), valid UTF-8, no control characters. */
bool portal_idempotency_key_valid(const char *s);
/* "application/json", any case, optional parameters; a charset parameter must be utf-8. */
bool portal_content_type_is_json(const char *s);

/* Adds an integer member to obj, printed exactly (cJSON would print integers
 * above INT_MAX as doubles, e.g. 1e+15).  Returns the member added, or NULL
 * when memory ran out, as cJSON's own cJSON_Add*ToObject() do. */
struct cJSON *portal_json_add_int(struct cJSON *obj, const char *name, long long v) TTHC_MUSTCHECK;

#endif
