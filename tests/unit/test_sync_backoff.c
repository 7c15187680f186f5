/* test_sync_backoff.c - table-driven tests of tthc-sync's retry delays
 * (services/sync/backoff.c, linked with tthc_sync_core). */
#include "sync/backoff.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include <time.h>

#include "check.h"

typedef struct {
    int attempt;
    int64_t base, cap, retry_after;
    double r;
    int64_t want;
} delay_case;

static const delay_case delays[] = {
    /* full jitter: r * min(cap, base * 2^(attempt-1)) */
    {1, 200, 60000, -1, 0.0, 0},
    {1, 200, 60000, -1, 0.5, 100},
    {1, 200, 60000, -1, 0.999999, 199},
    {0, 200, 60000, -1, 0.5, 100},  /* attempt < 1 counts as 1 */
    {-5, 200, 60000, -1, 0.5, 100},
    {2, 200, 60000, -1, 0.5, 200},
    {3, 200, 60000, -1, 0.5, 400},
    {9, 200, 60000, -1, 0.5, 25600},
    {10, 200, 60000, -1, 0.5, 30000}, /* 102400 capped at 60000 */
    {100, 200, 60000, -1, 0.5, 30000},
    {2000000000, 200, 60000, -1, 0.5, 30000}, /* no overflow */
    {100, 200, 60000, -1, 0.9999999999, 59999},
    /* r outside [0, 1) is clamped */
    {3, 200, 60000, -1, 1.0, 799},
    {3, 200, 60000, -1, 7.0, 799},
    {3, 200, 60000, -1, -1.0, 0},
    /* Retry-After is a floor */
    {1, 200, 60000, 5000, 0.0, 5000},
    {1, 200, 60000, 5000, 0.9, 5000},
    {10, 200, 60000, 5000, 0.9, 54000},
    {1, 200, 60000, 120000, 0.5, 120000},     /* may exceed the cap: the server asked */
    {1, 200, 60000, 0, 0.5, 100},             /* Retry-After: 0 */
    {1, 200, 60000, 999999999999LL, 0.5, SYNC_RETRY_AFTER_MAX_MS}, /* but not without bound */
    /* degenerate settings */
    {1, 0, 0, -1, 0.5, 0},
    {5, 1000, 500, -1, 0.5, 500}, /* cap below base: base wins */
};

typedef struct {
    const char *value;
    int64_t want;
} ra_case;

static const ra_case retry_afters[] = {
    {"120", 120000},
    {"0", 0},
    {"1", 1000},
    {" 3 ", 3000},
    {"\t7\r\n", 7000},
    {"3600", 3600000},
    {"3601", SYNC_RETRY_AFTER_MAX_MS},
    {"99999999999999999999999", SYNC_RETRY_AFTER_MAX_MS},
    {NULL, -1},
    {"", -1},
    {"   ", -1},
    {"abc", -1},
    {"-1", -1},
    {"+5", -1},
    {"1.5", -1},
    {"5s", -1},
    {"Wed, 21 Oct 2015 07:28:00 GMT", 0}, /* an HTTP date (portal-api.md), in the past: at once */
};

/* HTTP dates against a fixed clock: now = Sun, 06 Nov 1994 08:49:37 GMT (RFC 7231's example). */
#define NOW_US (784111777LL * 1000000)
static const ra_case dates[] = {
    {"Sun, 06 Nov 1994 08:49:37 GMT", 0},
    {"Sun, 06 Nov 1994 08:49:38 GMT", 1000},          /* IMF-fixdate */
    {"Sun, 06 Nov 1994 08:51:37 GMT", 120000},
    {"  Sun, 06 Nov 1994 09:49:37 GMT\r\n", 3600000},
    {"Sun, 06 Nov 1994 09:49:38 GMT", SYNC_RETRY_AFTER_MAX_MS}, /* capped */
    {"Mon, 07 Nov 2094 08:49:37 GMT", SYNC_RETRY_AFTER_MAX_MS},
    {"Sun, 06 Nov 1994 08:49:36 GMT", 0},             /* in the past */
    {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
    {"Sunday, 06-Nov-94 08:50:07 GMT", 30000},        /* RFC 850 (obsolete) */
    {"Sunday, 06-Nov-40 08:50:07 GMT", SYNC_RETRY_AFTER_MAX_MS}, /* 2040: within 50 years ahead */
    {"Sunday, 06-Nov-45 08:50:07 GMT", 0},            /* 1945: more than 50 years ahead is the past */
    {"Sun Nov  6 08:50:37 1994", 60000},              /* asctime (obsolete) */
    {"Sun Nov 16 08:49:37 1994", SYNC_RETRY_AFTER_MAX_MS},
    {"Sun, 06 Nov 1994 08:49:47 GMT ", 10000},
    {"45", 45000},                                    /* seconds still work */
    {"Sun, 06 Nov 1994 08:49:37 UTC", -1},            /* only GMT */
    {"Sun, 06 Nov 1994 08:49:37", -1},
    {"Sun, 6 Nov 1994 08:49:37 GMT", -1},             /* two-digit day */
    {"Sun, 06 Noe 1994 08:49:37 GMT", -1},
    {"Sun, 31 Nov 1994 08:49:37 GMT", -1},            /* no such day */
    {"Sun, 06 Nov 1994 24:00:00 GMT", -1},
    {"Sun, 06 Nov 94 08:49:37 GMT", -1},
    {"Sun, ", -1},
    {"Sun,", -1},
    {"Sun", -1},
    {"Sun Nov", -1},
    {"Sun, 06-Nov-1994 08:49:37 GMT", -1},
    {"Sun, 06 Nov 1994 08:49:37 GMT x", -1},
};

int main(void)
{
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
        const delay_case *c = &delays[i];
        int64_t got = sync_backoff_ms(c->attempt, c->base, c->cap, c->retry_after, c->r);
        CHECK(got == c->want, "case %zu (attempt %d, r %g, retry-after %lld): got %lld, want %lld", i, c->attempt,
              c->r, (long long)c->retry_after, (long long)got, (long long)c->want);
    }
    CHECK(sync_backoff_ms(1, 200, 60000, -1, NAN) == 0, "NaN draw");

    /* Bounds over many draws: 0 <= d < ceiling(attempt), and the draws spread. */
    uint64_t st = 12345;
    for (int attempt = 1; attempt <= 20; attempt++) {
        int64_t ceiling = 200;
        for (int k = 1; k < attempt && ceiling < 60000; k++) ceiling *= 2;
        if (ceiling > 60000) ceiling = 60000;
        int64_t lo = ceiling, hi = -1;
        double sum = 0;
        const int n = 20000;
        for (int k = 0; k < n; k++) {
            int64_t d = sync_backoff_ms(attempt, 200, 60000, -1, sync_rand_unit(&st));
            if (d < lo) lo = d;
            if (d > hi) hi = d;
            sum += (double)d;
        }
        CHECK(lo >= 0 && hi < ceiling, "attempt %d: range [%lld, %lld] outside [0, %lld)", attempt, (long long)lo,
              (long long)hi, (long long)ceiling);
        double mean = sum / n;
        CHECK(fabs(mean - (double)ceiling / 2) < (double)ceiling * 0.03, "attempt %d: mean %.1f, want about %.1f",
              attempt, mean, (double)ceiling / 2);
        CHECK(lo < ceiling / 10 && hi > ceiling - ceiling / 10 - 1, "attempt %d: draws not spread [%lld, %lld]",
              attempt, (long long)lo, (long long)hi);
        int64_t with_ra = sync_backoff_ms(attempt, 200, 60000, 2000, sync_rand_unit(&st));
        CHECK(with_ra >= 2000, "attempt %d: Retry-After 2 s not honoured (%lld)", attempt, (long long)with_ra);
    }

    /* The PRNG stays in [0, 1) and is not stuck. */
    uint64_t z = 0; /* a zero seed is replaced */
    double prev = -1;
    int same = 0;
    for (int k = 0; k < 100000; k++) {
        double u = sync_rand_unit(&z);
        CHECK(u >= 0.0 && u < 1.0, "draw %d = %f", k, u);
        same += u == prev;
        prev = u;
    }
    CHECK(same == 0, "%d repeated draws", same);

    for (size_t i = 0; i < sizeof retry_afters / sizeof retry_afters[0]; i++) {
        const ra_case *c = &retry_afters[i];
        int64_t got = sync_retry_after_ms(c->value);
        CHECK(got == c->want, "Retry-After '%s': got %lld, want %lld", c->value ? c->value : "(null)",
              (long long)got, (long long)c->want);
    }
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        const ra_case *c = &dates[i];
        int64_t got = sync_retry_after_ms_at(c->value, NOW_US);
        CHECK(got == c->want, "Retry-After '%s' at 1994-11-06T08:49:37Z: got %lld, want %lld", c->value,
              (long long)got, (long long)c->want);
    }
    /* A date 90 s ahead of the wall clock, formatted as IMF-fixdate: about 90 s (the clock moves on). */
    char date[64] = "";
    time_t t = time(NULL) + 90;
    struct tm tm;
    size_t dl = gmtime_r(&t, &tm) ? strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm) : 0;
    CHECK(dl > 0, "strftime");
    int64_t got = sync_retry_after_ms(date);
    CHECK(got > 80000 && got <= 90000, "Retry-After '%s': %lld ms", date, (long long)got);
    return CHECK_DONE();
}
