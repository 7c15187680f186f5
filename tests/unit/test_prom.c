/* test_prom.c - common/prom.c, the Prometheus text format: family headers,
 * samples with and without labels, label escaping, histograms (inclusive
 * upper bounds, cumulative buckets, +Inf, sum and count, at most
 * TTHC_PROM_MAX_BUCKETS bounds), and a full buffer reported as a failure.
 * Values here are integers or short decimals, printed alike by every
 * formatting of numbers. */
#include <stdio.h>
#include <string.h>

#include "prom.h"

#include "check.h"

/* The text written so far, NUL-terminated (b keeps its length). */
static const char *text(tthc_sb *b)
{
    if (tthc_sb_addc(b, '\0')) return "(full)";
    b->len--;
    return b->p;
}

static void test_family_and_samples(void)
{
    tthc_sb b;
    tthc_sb_init(&b, 1 << 16);
    CHECK(!tthc_prom_family(&b, "tthc_x_total", "counter", "Things, counted."), "family");
    CHECK_STR(text(&b), "# HELP tthc_x_total Things, counted.\n# TYPE tthc_x_total counter\n");
    tthc_sb_reset(&b);

    CHECK(!tthc_prom_sample(&b, "up", NULL, 1), "no labels");
    const char *none[] = {NULL};
    CHECK(!tthc_prom_sample(&b, "up", none, 0), "empty label list");
    CHECK_STR(text(&b), "up 1\nup 0\n");
    tthc_sb_reset(&b);

    const char *two[] = {"topic", "tthc.dossier.events", "partition", "3", NULL};
    CHECK(!tthc_prom_sample(&b, "lag", two, 42), "two labels");
    CHECK(!tthc_prom_sample(&b, "rate", two, 2.5), "a decimal");
    CHECK(!tthc_prom_sample(&b, "neg", NULL, -7), "a negative integer");
    CHECK_STR(text(&b), "lag{topic=\"tthc.dossier.events\",partition=\"3\"} 42\n"
                        "rate{topic=\"tthc.dossier.events\",partition=\"3\"} 2.5\n"
                        "neg -7\n");
    tthc_sb_reset(&b);

    /* Backslash, quote and newline are escaped in label values; nothing else is. */
    const char *odd[] = {"v", "a\\b\"c\nd\te=é", NULL};
    CHECK(!tthc_prom_sample(&b, "m", odd, 1), "escaped");
    CHECK_STR(text(&b), "m{v=\"a\\\\b\\\"c\\nd\te=é\"} 1\n");
    tthc_sb_reset(&b);

    /* A dangling label name (odd count) is dropped, not printed without a value. */
    const char *dangling[] = {"a", "1", "b", NULL};
    CHECK(!tthc_prom_sample(&b, "m", dangling, 1), "dangling");
    CHECK_STR(text(&b), "m{a=\"1\"} 1\n");
    tthc_sb_free(&b);

    /* A bounded buffer that fills up makes the call fail instead of writing half a line silently. */
    tthc_sb small;
    tthc_sb_init(&small, 16);
    CHECK(tthc_prom_sample(&small, "a_rather_long_metric_name", NULL, 1) != 0, "full buffer reported");
    CHECK(tthc_prom_family(&small, "another_long_metric_name", "gauge", "help") != 0, "full buffer reported");
    tthc_sb_free(&small);
}

static void test_histogram(void)
{
    static const double le[] = {0.5, 1, 10};
    tthc_prom_hist h;
    tthc_prom_hist_init(&h, le, 3);
    CHECK_INT(h.nb, 3);
    tthc_prom_hist_observe(&h, 0.25);
    tthc_prom_hist_observe(&h, 0.5); /* on a bound: counts in that bucket (le is inclusive) */
    tthc_prom_hist_observe(&h, 1);
    tthc_prom_hist_observe(&h, 3);
    tthc_prom_hist_observe(&h, 100); /* above the last bound: only in +Inf */
    CHECK_INT(h.count, 5);
    tthc_sb b;
    tthc_sb_init(&b, 1 << 16);
    CHECK(!tthc_prom_hist_write(&b, "d", "Durations.", &h), "write");
    CHECK_STR(text(&b), "# HELP d Durations.\n# TYPE d histogram\n"
                        "d_bucket{le=\"0.5\"} 2\nd_bucket{le=\"1\"} 3\nd_bucket{le=\"10\"} 4\n"
                        "d_bucket{le=\"+Inf\"} 5\nd_sum 104.75\nd_count 5\n");
    tthc_sb_free(&b);

    /* More bounds than fit: the first TTHC_PROM_MAX_BUCKETS are kept. */
    double many[TTHC_PROM_MAX_BUCKETS + 4];
    for (int i = 0; i < TTHC_PROM_MAX_BUCKETS + 4; i++) many[i] = i + 1;
    tthc_prom_hist_init(&h, many, TTHC_PROM_MAX_BUCKETS + 4);
    CHECK_INT(h.nb, TTHC_PROM_MAX_BUCKETS);
    tthc_prom_hist_observe(&h, TTHC_PROM_MAX_BUCKETS + 2);
    CHECK_INT(h.count, 1);
    uint64_t in_buckets = 0;
    for (size_t i = 0; i < h.nb; i++) in_buckets += h.counts[i];
    CHECK_INT(in_buckets, 0); /* beyond the kept bounds: +Inf only */

    /* An empty histogram still writes every series, at zero. */
    tthc_prom_hist_init(&h, le, 3);
    tthc_sb_init(&b, 1 << 16);
    CHECK(!tthc_prom_hist_write(&b, "e", "Empty.", &h), "write empty");
    CHECK(strstr(text(&b), "e_bucket{le=\"+Inf\"} 0\ne_sum 0\ne_count 0\n") != NULL, "%s", text(&b));
    tthc_sb_free(&b);
}

int main(void)
{
    test_family_and_samples();
    test_histogram();
    return CHECK_DONE();
}
