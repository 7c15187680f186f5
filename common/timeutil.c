#include "timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Howard Hinnant's civil-date algorithms (public domain). */
int64_t tthc_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void tthc_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dm[m - 1];
}

/* The value itself is not echoed: the caller names the field. */
static tthc_rc bad_rfc3339(tthc_err *err)
{
    return tthc_fail(
        err, TTHC_EINVAL,
        "must be an RFC 3339 date-time with an offset (YYYY-MM-DDTHH:MM:SS[.frac] then Z, +HH:MM or -HH:MM)");
}

tthc_rc tthc_rfc3339_parse(const char *s, int64_t *us, tthc_err *err)
{
    int Y, M, D, h, mi, sec;
    if (!s) return tthc_fail(err, TTHC_EINVAL, "missing: an RFC 3339 date-time is required");
    if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' || digits(s + 8, 2, &D))
        return bad_rfc3339(err);
    if (s[10] != 'T' && s[10] != 't') return bad_rfc3339(err);
    if (digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
        return bad_rfc3339(err);
    if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || mi > 59 || sec > 60) return bad_rfc3339(err);
    const char *p = s + 19;
    int64_t frac_us = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        int64_t scale = 100000;
        while (*p >= '0' && *p <= '9') {
            if (nd < 6) frac_us += (*p - '0') * scale;
            scale /= 10;
            nd++;
            p++;
        }
        if (nd == 0 || nd > 9) return bad_rfc3339(err);
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return bad_rfc3339(err);
        off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return bad_rfc3339(err);
    }
    if (*p) return bad_rfc3339(err);
    int64_t days = tthc_days_from_civil(Y, (unsigned)M, (unsigned)D);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - off;
    *us = secs * 1000000 + frac_us;
    return TTHC_OK;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

bool tthc_instant_in_range(int64_t us)
{
    return us >= TTHC_INSTANT_MIN_US && us <= TTHC_INSTANT_MAX_US;
}

tthc_rc tthc_cohort_month(int64_t us, char out[8], tthc_err *err)
{
    int64_t secs = floor_div(us, 1000000) + TTHC_VN_OFFSET_SECONDS;
    int64_t y;
    unsigned m, d;
    tthc_civil_from_days(floor_div(secs, 86400), &y, &m, &d);
    if (y < 1970 || y > 9999) {
        memcpy(out, "0000-00", 8);
        return tthc_fail(err, TTHC_EINVAL, "cohort month: year %lld outside 1970-9999", (long long)y);
    }
    unsigned yy = (unsigned)y;
    out[0] = (char)('0' + yy / 1000);
    out[1] = (char)('0' + yy / 100 % 10);
    out[2] = (char)('0' + yy / 10 % 10);
    out[3] = (char)('0' + yy % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '\0';
    return TTHC_OK;
}

static void split(int64_t us, int64_t shift, int64_t *y, unsigned *mo, unsigned *d, int *h, int *mi, int *s, int *frac)
{
    int64_t secs = floor_div(us, 1000000);
    *frac = (int)(us - secs * 1000000);
    secs += shift;
    int64_t day = floor_div(secs, 86400), rem = secs - day * 86400;
    tthc_civil_from_days(day, y, mo, d);
    *h = (int)(rem / 3600);
    *mi = (int)(rem % 3600 / 60);
    *s = (int)(rem % 60);
}

/* Writes v as exactly n decimal digits (zero-padded; v < 10^n). */
static char *put_digits(char *p, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

void tthc_format_pg(int64_t us, char *out, size_t len)
{
    int64_t y;
    unsigned mo, d;
    int h, mi, s, frac;
    split(us, 0, &y, &mo, &d, &h, &mi, &s, &frac);
    if (y < 0 || y > 9999 || len < sizeof "YYYY-MM-DD hh:mm:ss.ffffff+00") {
        snprintf(out, len, "%04d-%02u-%02u %02d:%02d:%02d.%06d+00", (int)y, mo, d, h, mi, s, frac);
        return;
    }
    /* The same text without snprintf: three timestamps a changed dossier, in
     * tthc-ingest's apply thread. */
    char *p = put_digits(out, (unsigned)y, 4);
    *p++ = '-';
    p = put_digits(p, mo, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = ' ';
    p = put_digits(p, (unsigned)h, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)mi, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)s, 2);
    *p++ = '.';
    p = put_digits(p, (unsigned)frac, 6);
    memcpy(p, "+00", 4);
}

void tthc_format_vn(int64_t us, char *out, size_t len)
{
    int64_t y;
    unsigned mo, d;
    int h, mi, s, frac;
    split(us, TTHC_VN_OFFSET_SECONDS, &y, &mo, &d, &h, &mi, &s, &frac);
    snprintf(out, len, "%04d-%02u-%02uT%02d:%02d:%02d+07:00", (int)y, mo, d, h, mi, s);
}

int64_t tthc_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void tthc_mono_deadline(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int64_t tthc_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tthc_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
