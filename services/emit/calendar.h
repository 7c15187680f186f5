/* calendar.h - Vietnam-time calendar of the simulated province (pure).
 *
 * Days are counted since 1970-01-01 in Vietnam time (UTC+07:00); instants are
 * microseconds since the epoch, as in common/timeutil.h.  Working days are
 * Monday to Friday except the public holidays of a small built-in table
 * (2025-2026: Tết, 30/4-1/5, 2/9, New Year). */
#ifndef EMIT_CALENDAR_H
#define EMIT_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define EMIT_US_PER_MIN  INT64_C(60000000)
#define EMIT_US_PER_HOUR (60 * EMIT_US_PER_MIN)
#define EMIT_US_PER_DAY  (24 * EMIT_US_PER_HOUR)

/* "YYYY-MM-DD" (years 1970-9999) -> Vietnam day number in *day: TTHC_OK, or
 * TTHC_EINVAL on a malformed or impossible date, with err filled (err may be
 * NULL) by a message that follows the option's name ("must be YYYY-MM-DD"). */
tthc_rc emit_parse_day(const char *s, int64_t *day, tthc_err *err) TTHC_MUSTCHECK;

/* Instant of hh:mm (minutes since midnight) of a Vietnam day. */
int64_t emit_day_at(int64_t day, int64_t minute_of_day);
/* Vietnam day of an instant, and its minute of the day. */
int64_t emit_day_of(int64_t us);
int64_t emit_minute_of(int64_t us);

/* 0 = Monday ... 6 = Sunday. */
int emit_weekday(int64_t day);
bool emit_is_holiday(int64_t day);
bool emit_is_working_day(int64_t day);
/* The n-th working day after day (n >= 1), or the first one on/after day (n = 0). */
int64_t emit_add_working_days(int64_t day, int n);

/* "YYYY-MM" month of a Vietnam day into out (8 bytes). */
void emit_day_month(int64_t day, char out[8]);

#endif
