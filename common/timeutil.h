/* timeutil.h - RFC 3339 instants and cohort months (pure functions, no I/O).
 *
 * Instants are int64 microseconds since 1970-01-01T00:00:00Z. */
#ifndef TTHC_TIMEUTIL_H
#define TTHC_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define TTHC_VN_OFFSET_SECONDS (7 * 3600)

/* Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)` (T and Z in either case;
 * the offset is required).  Returns 0 and sets *us, or -1 if s is not a valid
 * RFC 3339 date-time with an offset (bad field ranges included). */
int tthc_rfc3339_parse(const char *s, int64_t *us) TTHC_MUSTCHECK;

/* Writes the cohort month "YYYY-MM" of an instant in Vietnam time (UTC+07:00)
 * into out (at least 8 bytes). */
void tthc_cohort_month(int64_t us, char out[8]);

/* Writes an instant as `YYYY-MM-DD HH:MM:SS.ffffff+00` (PostgreSQL input). */
void tthc_format_pg(int64_t us, char *out, size_t len);

/* Writes an instant as RFC 3339 in Vietnam time: `2025-03-06T08:15:00+07:00`. */
void tthc_format_vn(int64_t us, char *out, size_t len);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t tthc_days_from_civil(int64_t y, unsigned m, unsigned d);
void tthc_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* Current wall clock, microseconds since the epoch; and a monotonic clock in ms. */
int64_t tthc_now_us(void);
int64_t tthc_mono_ms(void);
int64_t tthc_mono_us(void);

#endif
