#include "backoff.h"

#include <ctype.h>
#include <string.h>

#include "timeutil.h"

int64_t sync_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, int64_t retry_after_ms, double r)
{
    if (attempt < 1) attempt = 1;
    if (base_ms < 1) base_ms = 1;
    if (cap_ms < base_ms) cap_ms = base_ms;
    if (!(r >= 0.0)) r = 0.0; /* also NaN */
    if (r >= 1.0) r = 0.999999;
    int64_t ceiling = base_ms;
    for (int i = 1; i < attempt && ceiling < cap_ms; i++) ceiling *= 2; /* no overflow: stops at cap */
    if (ceiling > cap_ms) ceiling = cap_ms;
    int64_t delay = (int64_t)(r * (double)ceiling);
    if (delay >= ceiling) delay = ceiling - 1;
    if (delay < 0) delay = 0;
    if (retry_after_ms > SYNC_RETRY_AFTER_MAX_MS) retry_after_ms = SYNC_RETRY_AFTER_MAX_MS;
    if (retry_after_ms > delay) delay = retry_after_ms;
    return delay;
}

static int64_t cap_ms(int64_t ms)
{
    return ms > SYNC_RETRY_AFTER_MAX_MS ? SYNC_RETRY_AFTER_MAX_MS : ms;
}

/* n digits at *p into *out (advancing *p); -1 if one is missing. */
static int take_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int take(const char **p, const char *lit)
{
    size_t n = strlen(lit);
    if (strncmp(*p, lit, n)) return -1;
    *p += n;
    return 0;
}

/* "Jan".."Dec" -> 1..12, advancing *p; -1 if none. */
static int take_month(const char **p)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int m = 0; m < 12; m++)
        if (!strncmp(*p, months + 3 * m, 3)) {
            *p += 3;
            return m + 1;
        }
    return -1;
}

/* "HH:MM:SS" into seconds of the day. */
static int take_time(const char **p, int *sod)
{
    int h, mi, s;
    if (take_digits(p, 2, &h) || take(p, ":") || take_digits(p, 2, &mi) || take(p, ":") || take_digits(p, 2, &s))
        return -1;
    if (h > 23 || mi > 59 || s > 60) return -1;
    *sod = h * 3600 + mi * 60 + s;
    return 0;
}

/* Skips a day name ("Sun" or "Sunday"): letters only. */
static void skip_day_name(const char **p)
{
    while (isalpha((unsigned char)**p)) (*p)++;
}

static int valid_date(int y, int m, int d)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m >= 1 && m <= 12 && d >= 1 && d <= dim[m - 1] + (m == 2 && leap);
}

/* An HTTP-date into seconds since the epoch; -1 when not one. */
static int parse_http_date(const char *p, int64_t now_s, int64_t *out)
{
    int y, m, d, sod;
    skip_day_name(&p);
    if (!take(&p, ", ")) {
        if (p[0] && p[1] && p[2] == ' ') { /* IMF-fixdate: "06 Nov 1994 08:49:37 GMT" */
            if (take_digits(&p, 2, &d) || take(&p, " ") || (m = take_month(&p)) < 0 || take(&p, " ") ||
                take_digits(&p, 4, &y))
                return -1;
        } else { /* RFC 850: "06-Nov-94 08:49:37 GMT" */
            int yy;
            if (take_digits(&p, 2, &d) || take(&p, "-") || (m = take_month(&p)) < 0 || take(&p, "-") ||
                take_digits(&p, 2, &yy))
                return -1;
            /* Two-digit year: the most recent year with those digits not more than 50 years ahead. */
            int64_t cy;
            unsigned cm, cd;
            tthc_civil_from_days(now_s / 86400, &cy, &cm, &cd);
            y = (int)(cy - cy % 100) + yy;
            if (y < cy - 50) y += 100;
            if (y > cy + 50) y -= 100;
        }
        if (take(&p, " ") || take_time(&p, &sod) || take(&p, " GMT")) return -1;
    } else if (!take(&p, " ")) { /* asctime: "Nov  6 08:49:37 1994" */
        if ((m = take_month(&p)) < 0 || take(&p, " ")) return -1;
        if (*p == ' ') p++;
        if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])) {
            if (take_digits(&p, 2, &d)) return -1;
        } else if (take_digits(&p, 1, &d)) {
            return -1;
        }
        if (take(&p, " ") || take_time(&p, &sod) || take(&p, " ") || take_digits(&p, 4, &y)) return -1;
    } else {
        return -1;
    }
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    if (*p || !valid_date(y, m, d)) return -1;
    *out = tthc_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + sod;
    return 0;
}

int64_t sync_retry_after_ms_at(const char *value, int64_t now_us)
{
    if (!value) return -1;
    while (*value == ' ' || *value == '\t') value++;
    if (!isdigit((unsigned char)*value)) {
        int64_t at;
        if (parse_http_date(value, now_us / 1000000, &at)) return -1;
        int64_t ms = at * 1000 - now_us / 1000;
        return ms < 0 ? 0 : cap_ms(ms);
    }
    int64_t s = 0;
    for (; isdigit((unsigned char)*value); value++) {
        if (s <= SYNC_RETRY_AFTER_MAX_MS / 1000) s = s * 10 + (*value - '0');
    }
    while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n') value++;
    if (*value) return -1;
    return cap_ms(s * 1000);
}

int64_t sync_retry_after_ms(const char *value)
{
    return sync_retry_after_ms_at(value, tthc_now_us());
}

uint64_t sync_rand_next(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

double sync_rand_unit(uint64_t *state)
{
    return (double)(sync_rand_next(state) >> 11) * (1.0 / 9007199254740992.0);
}
