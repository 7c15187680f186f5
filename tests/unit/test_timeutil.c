/* RFC 3339 parsing and the UTC+07 cohort month at its boundaries. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "check.h"
#include "timeutil.h"

static const struct {
    const char *in;
    int ok;
    const char *month; /* cohort month in UTC+07 when ok */
} cases[] = {
    {"2025-03-06T08:15:00+07:00", 1, "2025-03"},
    {"2025-03-31T19:30:00Z", 1, "2025-04"}, /* the contract's example */
    {"2025-03-31T16:59:59Z", 1, "2025-03"}, /* 23:59:59 in Vietnam */
    {"2025-03-31T16:59:59.999999Z", 1, "2025-03"},
    {"2025-03-31T17:00:00Z", 1, "2025-04"}, /* midnight in Vietnam */
    {"2025-03-31T23:59:59+07:00", 1, "2025-03"},
    {"2025-04-01T00:00:00+07:00", 1, "2025-04"},
    {"2025-03-31T12:00:00-05:00", 1, "2025-04"}, /* 17:00Z */
    {"2025-03-31T11:59:59-05:00", 1, "2025-03"},
    {"2024-12-31T17:00:00Z", 1, "2025-01"}, /* year boundary */
    {"2024-12-31T16:59:59Z", 1, "2024-12"},
    {"2024-02-29T10:00:00Z", 1, "2024-02"}, /* leap day */
    {"2025-01-01t00:00:00z", 1, "2025-01"}, /* lower case T and Z */
    {"2025-06-30T23:59:60Z", 1, "2025-07"}, /* leap second */
    {"2025-03-06T08:15:00.123456789+07:00", 1, "2025-03"},
    {"2025-03-06T08:15:00", 0, NULL},  /* no offset */
    {"2025-03-06 08:15:00Z", 0, NULL}, /* space instead of T */
    {"2025-13-01T00:00:00Z", 0, NULL},
    {"2025-00-01T00:00:00Z", 0, NULL},
    {"2025-02-29T00:00:00Z", 0, NULL}, /* not a leap year */
    {"2025-04-31T00:00:00Z", 0, NULL},
    {"2025-03-06T24:00:00Z", 0, NULL},
    {"2025-03-06T08:60:00Z", 0, NULL},
    {"2025-03-06T08:15:00+24:00", 0, NULL},
    {"2025-03-06T08:15:00+07", 0, NULL},
    {"2025-03-06T08:15:00+0700", 0, NULL},
    {"2025-03-06T08:15:00.Z", 0, NULL},
    {"2025-03-06T08:15:00Zjunk", 0, NULL},
    {"25-03-06T08:15:00Z", 0, NULL},
    {"", 0, NULL},
    {"2025-3-6T8:15:00Z", 0, NULL},
};

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t us = 0;
        tthc_err e = {{0}};
        tthc_rc r = tthc_rfc3339_parse(cases[i].in, &us, &e);
        CHECK(r == (cases[i].ok ? TTHC_OK : TTHC_EINVAL), "parse '%s' returned %s", cases[i].in, tthc_rc_name(r));
        if (r) /* a message, which does not echo the value */
            CHECK(e.msg[0] && (!cases[i].in[0] || !strstr(e.msg, cases[i].in)), "'%s': message '%s'", cases[i].in,
                  e.msg);
        if (r == TTHC_OK && cases[i].ok) {
            char m[8];
            CHECK(tthc_cohort_month(us, m, NULL) == TTHC_OK, "'%s': month", cases[i].in);
            CHECK(!strcmp(m, cases[i].month), "'%s': month %s, want %s", cases[i].in, m, cases[i].month);
        }
    }
    /* The same instant written with different offsets is equal. */
    int64_t a = 0, b = 0, c = 0;
    tthc_rc ra = tthc_rfc3339_parse("2025-03-06T08:15:00+07:00", &a, NULL);
    tthc_rc rb = tthc_rfc3339_parse("2025-03-06T01:15:00Z", &b, NULL);
    tthc_rc rc = tthc_rfc3339_parse("2025-03-05T20:15:00-05:00", &c, NULL);
    CHECK(!ra && !rb && !rc, "parse: %d %d %d", (int)ra, (int)rb, (int)rc);
    if (!ra && !rb && !rc) { /* the values are defined only after a successful parse */
        CHECK(a == b && b == c, "instants differ: %lld %lld %lld", (long long)a, (long long)b, (long long)c);
        CHECK_INT(b, 1741223700LL * 1000000);
    }
    /* Fractions are kept to the microsecond. */
    CHECK(!tthc_rfc3339_parse("1970-01-01T00:00:00.25Z", &a, NULL), "parse");
    CHECK_INT(a, 250000);
    /* Before 1970 and formatting round trip. */
    CHECK(!tthc_rfc3339_parse("1969-12-31T23:59:59.5Z", &a, NULL), "parse");
    CHECK_INT(a, -500000);
    char buf[64];
    tthc_format_pg(a, buf, sizeof buf);
    CHECK_STR(buf, "1969-12-31 23:59:59.500000+00");
    /* tthc_format_pg against the C library's calendar over the contract's range. */
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 5000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t us = TTHC_INSTANT_MIN_US + (int64_t)(x % (uint64_t)(TTHC_INSTANT_MAX_US - TTHC_INSTANT_MIN_US));
        time_t secs = (time_t)(us / 1000000);
        struct tm tm;
        char want[64], day[40];
        gmtime_r(&secs, &tm);
        CHECK(strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm) > 0, "strftime %lld", (long long)us);
        (void)snprintf(want, sizeof want, "%s.%06d+00", day, (int)(us % 1000000));
        tthc_format_pg(us, buf, sizeof buf);
        CHECK_STR(buf, want);
    }
    CHECK(!tthc_rfc3339_parse("2025-03-31T19:30:00Z", &a, NULL), "parse");
    tthc_format_vn(a, buf, sizeof buf);
    CHECK_STR(buf, "2025-04-01T02:30:00+07:00");
    /* The contract's range of instants and the cohort month at its ends (issue 10: year 10000
     * after the offset landed in bucket 0000-01). */
    CHECK(!tthc_rfc3339_parse("1970-01-01T00:00:00Z", &a, NULL) && a == TTHC_INSTANT_MIN_US, "min");
    CHECK(tthc_instant_in_range(a) && !tthc_instant_in_range(a - 1), "min bound");
    CHECK(!tthc_rfc3339_parse("9999-12-31T23:59:59.999999+07:00", &a, NULL) && a == TTHC_INSTANT_MAX_US, "max %lld",
          (long long)a);
    CHECK(tthc_instant_in_range(a) && !tthc_instant_in_range(a + 1), "max bound");
    CHECK(!tthc_rfc3339_parse("9999-12-31T23:59:59Z", &b, NULL) && !tthc_instant_in_range(b),
          "23:59:59Z is 10000-01 in Vietnam");
    CHECK(!tthc_instant_in_range(INT64_MIN) && !tthc_instant_in_range(INT64_MAX), "extremes");
    char mon[8];
    CHECK(tthc_cohort_month(TTHC_INSTANT_MIN_US, mon, NULL) == TTHC_OK, "min month");
    CHECK_STR(mon, "1970-01");
    CHECK(tthc_cohort_month(TTHC_INSTANT_MAX_US, mon, NULL) == TTHC_OK, "max month");
    CHECK_STR(mon, "9999-12");
    tthc_err err = {{0}};
    CHECK(tthc_cohort_month(TTHC_INSTANT_MAX_US + 1, mon, &err) == TTHC_EINVAL, "10000-01");
    CHECK_STR(err.msg, "cohort month: year 10000 outside 1970-9999");
    CHECK_STR(mon, "0000-00");
    CHECK(!tthc_rfc3339_parse("9999-12-31T23:59:59-05:00", &a, NULL), "parse");
    CHECK(tthc_cohort_month(a, mon, NULL) == TTHC_EINVAL, "year 10000 after the offset");
    CHECK_STR(mon, "0000-00");
    CHECK(tthc_cohort_month(-7LL * 3600 * 1000000, mon, NULL) == TTHC_OK, "1970-01-01T00:00+07:00");
    CHECK_STR(mon, "1970-01");
    CHECK(tthc_cohort_month(-7LL * 3600 * 1000000 - 1, mon, &err) == TTHC_EINVAL, "1969-12 in Vietnam");
    CHECK_STR(mon, "0000-00");
    CHECK(!tthc_rfc3339_parse("0000-01-01T00:00:00Z", &a, NULL) && tthc_cohort_month(a, mon, NULL) == TTHC_EINVAL,
          "year 0");
    CHECK_STR(mon, "0000-00");
    /* civil <-> days agree over a long range */
    for (int64_t d = -800000; d < 800000; d += 997) {
        int64_t y;
        unsigned m, dd;
        tthc_civil_from_days(d, &y, &m, &dd);
        CHECK(tthc_days_from_civil(y, m, dd) == d, "round trip day %lld", (long long)d);
    }
    /* a monotonic deadline: normalized, and ms later than the clock read before it */
    for (int64_t ms = 0; ms <= 3999; ms += 37) {
        int64_t before = tthc_mono_us();
        struct timespec ts;
        tthc_mono_deadline(&ts, ms);
        int64_t at = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        CHECK(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L, "deadline +%lld ms: tv_nsec %ld", (long long)ms, ts.tv_nsec);
        CHECK(at >= before + ms * 1000 && at <= tthc_mono_us() + ms * 1000, "deadline +%lld ms off by %lld us",
              (long long)ms, (long long)(at - before - ms * 1000));
    }
    return CHECK_DONE();
}
