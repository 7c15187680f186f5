/* sync_report.h - one bucket's totals as a portal report (docs/portal-api.md), and the
 * portal's reports read back.
 *
 * Pure functions: no I/O, no globals besides const tables, thread-safe.
 * Integers are printed exactly (never as 1e+15), up to 2^53 - 1. */
#ifndef SYNC_REPORT_H
#define SYNC_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "dossier.h"
#include "err.h"
#include "indicators.h"

#define SYNC_UNIT_MAX 64  /* longer unit codes are refused locally (the portal allows 51) */
#define SYNC_KEY_MAX  200 /* Idempotency-Key length limit of docs/portal-api.md */

/* One row of period_totals. */
typedef struct {
    char unit_code[SYNC_UNIT_MAX + 1];
    char period[8];
    long long revision;
    long long counts[TTHC_C__COUNT]; /* period_totals counters, tthc_counter order */
} sync_totals;

/* Numerator and denominator of every indicator, by catalogue position. */
typedef struct {
    long long num[TTHC_INDICATOR_COUNT];
    long long den[TTHC_INDICATOR_COUNT];
} sync_values;

/* The formula of each indicator as counter columns (the indicator_totals view). */
typedef struct {
    tthc_counter num, den;
} sync_formula;
extern const sync_formula sync_formulas[TTHC_INDICATOR_COUNT];

void sync_values_from_counts(const long long counts[TTHC_C__COUNT], sync_values *out);
int sync_values_equal(const sync_values *a, const sync_values *b);

/* The POST body for t, generated_at (µs since the epoch) written in +07:00.
 * Returns a malloc'd NUL-terminated string owned by the caller, or NULL when
 * memory ran out. */
char *sync_report_json(const sync_totals *t, int64_t generated_at_us);

/* Writes "tthc:<unit>:<period>:r<revision>" into out.  Returns 0, or -1 when
 * it would not fit in len or exceed SYNC_KEY_MAX characters. */
int sync_idempotency_key(char *out, size_t len, const char *unit_code, const char *period, long long revision);

/* A report as the portal's GET returns it. */
typedef struct {
    char unit_code[SYNC_UNIT_MAX + 1];
    char period[8];
    long long revision;
    sync_values v; /* indicators absent from the answer are -1/-1 */
} sync_portal_report;

/* Parses a GET answer {"reports":[...]}.  On success *out is a malloc'd
 * array of *n reports owned by the caller (free()), possibly NULL when
 * *n == 0.  TTHC_EINVAL with a detail when the answer does not follow
 * docs/portal-api.md, TTHC_ENOMEM when memory ran out; *out is then NULL. */
tthc_rc sync_parse_reports(const char *body, size_t len, sync_portal_report **out, size_t *n,
                           tthc_err *err) TTHC_MUSTCHECK;

#endif
