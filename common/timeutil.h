/* timeutil.h - RFC 3339 instants and cohort months (pure functions, no I/O).
 *
 * Instants are int64 microseconds since 1970-01-01T00:00:00Z. */
#ifndef TTHC_TIMEUTIL_H
#define TTHC_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define TTHC_VN_OFFSET_SECONDS (7 * 3600)

/* Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)` (T and Z in either case;
 * the offset is required).  Returns TTHC_OK and sets *us, or TTHC_EINVAL if s
 * is not a valid RFC 3339 date-time with an offset (bad field ranges
 * included), with err filled (err may be NULL).  The message ("must be an
 * RFC 3339 ...") neither echoes s nor names the field: the caller prefixes
 * the field's name. */
tthc_rc tthc_rfc3339_parse(const char *s, int64_t *us, tthc_err *err) TTHC_MUSTCHECK;

/* The instants an event may carry (events.md): from 1970-01-01T00:00:00Z, up to
 * 9999-12-31T23:59:59Z, and with a Vietnam-time month in years 1970-9999, which
 * makes the last one 9999-12-31T23:59:59.999999+07:00 = 16:59:59.999999Z. */
#define TTHC_INSTANT_MIN_US INT64_C(0)
#define TTHC_INSTANT_MAX_US (INT64_C(253402275599) * 1000000 + 999999)

/* true when us lies in [TTHC_INSTANT_MIN_US, TTHC_INSTANT_MAX_US]. */
bool tthc_instant_in_range(int64_t us);

/* Writes the cohort month "YYYY-MM" of an instant in Vietnam time (UTC+07:00)
 * into out (at least 8 bytes).  Returns TTHC_OK; or TTHC_EINVAL (err filled,
 * err may be NULL) when that month's year is outside 1970-9999, and then
 * writes "0000-00", which no period column accepts (never a wrapped year such
 * as 10000 -> "0000").  Every instant tthc_instant_in_range() accepts has a
 * month: a caller holding a validated event may ignore the result. */
tthc_rc tthc_cohort_month(int64_t us, char out[8], tthc_err *err);

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

/* *ts = CLOCK_MONOTONIC now + ms: the deadline of a pthread_cond_timedwait on a
 * condition variable created with that clock (pthread_condattr_setclock). */
void tthc_mono_deadline(struct timespec *ts, int64_t ms);

#endif
