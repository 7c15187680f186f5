#include "calendar.h"

#include <stdio.h>

#include "timeutil.h"

#define VN_OFFSET_US ((int64_t)TTHC_VN_OFFSET_SECONDS * 1000000)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

tthc_rc emit_parse_day(const char *s, int64_t *day, tthc_err *err)
{
    int y, m, d;
    char tail;
    if (!s) return tthc_fail(err, TTHC_EINVAL, "missing: a date YYYY-MM-DD is required");
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return tthc_fail(err, TTHC_EINVAL, "must be YYYY-MM-DD");
    if (y < 1970 || y > 9999) return tthc_fail(err, TTHC_EINVAL, "must be a date YYYY-MM-DD in years 1970-9999");
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return tthc_fail(err, TTHC_EINVAL, "must be YYYY-MM-DD (month 01-12, day 01-31)");
    int64_t z = tthc_days_from_civil(y, (unsigned)m, (unsigned)d);
    int64_t yy;
    unsigned mm, dd;
    tthc_civil_from_days(z, &yy, &mm, &dd);
    if (yy != y || (int)mm != m || (int)dd != d) /* 2025-02-30 */
        return tthc_fail(err, TTHC_EINVAL, "must be an existing date YYYY-MM-DD (that month has fewer days)");
    *day = z;
    return TTHC_OK;
}

int64_t emit_day_at(int64_t day, int64_t minute_of_day)
{
    return day * EMIT_US_PER_DAY + minute_of_day * EMIT_US_PER_MIN - VN_OFFSET_US;
}

int64_t emit_day_of(int64_t us)
{
    return floor_div(us + VN_OFFSET_US, EMIT_US_PER_DAY);
}

int64_t emit_minute_of(int64_t us)
{
    return floor_div(us + VN_OFFSET_US - emit_day_of(us) * EMIT_US_PER_DAY, EMIT_US_PER_MIN);
}

int emit_weekday(int64_t day)
{
    return (int)((day % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
}

/* Days off by decision of the Government (Bộ luật Lao động, Điều 112), as days. */
static const struct {
    int y, m, d, n;
} holidays[] = {
    {2025, 1, 1, 1}, {2025, 1, 25, 9}, {2025, 4, 7, 1},  {2025, 4, 30, 2}, {2025, 9, 1, 2},
    {2026, 1, 1, 1}, {2026, 2, 14, 9}, {2026, 4, 27, 1}, {2026, 4, 30, 2}, {2026, 9, 1, 2},
};

bool emit_is_holiday(int64_t day)
{
    for (size_t i = 0; i < sizeof holidays / sizeof holidays[0]; i++) {
        int64_t first = tthc_days_from_civil(holidays[i].y, (unsigned)holidays[i].m, (unsigned)holidays[i].d);
        if (day >= first && day < first + holidays[i].n) return true;
    }
    return false;
}

bool emit_is_working_day(int64_t day)
{
    return emit_weekday(day) < 5 && !emit_is_holiday(day);
}

int64_t emit_add_working_days(int64_t day, int n)
{
    if (n <= 0) {
        while (!emit_is_working_day(day)) day++;
        return day;
    }
    while (n > 0) {
        day++;
        if (emit_is_working_day(day)) n--;
    }
    return day;
}

void emit_day_month(int64_t day, char out[8])
{
    (void)tthc_cohort_month(emit_day_at(day, 12 * 60), out, NULL); /* "0000-00" outside 1970-9999 */
}
