/* test_prom_exact.c - common/prom.c prints values exactly (no %.9g rounding). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "prom.h"

static const char *fmt(double v)
{
    static char buf[64];
    size_t n = tthc_prom_format_value(buf, sizeof buf, v);
    CHECK(n == strlen(buf), "length %zu of %s", n, buf);
    return buf;
}

int main(void)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0, "0"},
        {-0.0, "0"},
        {1, "1"},
        {-42, "-42"},
        {12345678901.0, "12345678901"},
        {9007199254740993.0, "9007199254740992"}, /* 2^53 + 1 is not a double: the nearest, every digit */
        {1796152340.0, "1796152340"},             /* %.9g printed 1.79615234e+09 */
        {1796152340.125, "1796152340.125"},
        {1796152340.123456, "1796152340.123456"}, /* a timestamp keeps its microseconds */
        {0.1, "0.1"},
        {0.005, "0.005"},
        {2.5, "2.5"},
        {1.0 / 3.0, "0.3333333333333333"},
        {1e20, "1e+20"},
        {-1.5e-7, "-1.5e-07"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) CHECK_STR(fmt(cases[i].v), cases[i].want);
    CHECK_STR(fmt(NAN), "NaN");
    CHECK_STR(fmt(INFINITY), "+Inf");
    CHECK_STR(fmt(-INFINITY), "-Inf");
    /* Every non-integer reads back as the same double. */
    for (double v = 1e9 + 0.000001; v < 1e9 + 1; v += 0.0370001) CHECK(strtod(fmt(v), NULL) == v, "%s", fmt(v));

    tthc_sb b;
    tthc_sb_init(&b, 1 << 16);
    const char *labels[] = {"topic", "t\"x\\y\nz", NULL};
    CHECK(!tthc_prom_sample(&b, "m", labels, 1796152340.5), "sample");
    CHECK(!tthc_sb_addc(&b, '\0'), "nul");
    CHECK_STR(b.p, "m{topic=\"t\\\"x\\\\y\\nz\"} 1796152340.5\n");
    tthc_sb_free(&b);

    static const double le[] = {0.005, 0.1, 2.5};
    tthc_prom_hist h;
    tthc_prom_hist_init(&h, le, 3);
    tthc_prom_hist_observe(&h, 0.05);
    tthc_prom_hist_observe(&h, 3);
    tthc_sb_init(&b, 1 << 16);
    CHECK(!tthc_prom_hist_write(&b, "d", "help", &h), "hist");
    CHECK(!tthc_sb_addc(&b, '\0'), "nul");
    CHECK(strstr(b.p, "d_bucket{le=\"0.005\"} 0\nd_bucket{le=\"0.1\"} 1\nd_bucket{le=\"2.5\"} 1\n"
                      "d_bucket{le=\"+Inf\"} 2\nd_sum 3.05\nd_count 2\n") != NULL,
          "%s", b.p);
    tthc_sb_free(&b);
    return CHECK_DONE();
}
