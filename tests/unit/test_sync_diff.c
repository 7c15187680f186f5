/* test_sync_diff.c - tests of reconcile's pure core: which buckets differ
 * between period_totals and the portal's reports (services/sync/diff.c,
 * linked with tthc_sync_core). */
#include "sync/diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define PERIOD "2025-03"

static sync_local_bucket local(const char *unit, long long rev, long long base, int bad)
{
    sync_local_bucket b;
    memset(&b, 0, sizeof b);
    snprintf(b.t.unit_code, sizeof b.t.unit_code, "%s", unit);
    snprintf(b.t.period, sizeof b.t.period, "%s", PERIOD);
    b.t.revision = rev;
    for (int k = 0; k < TTHC_C__COUNT; k++) b.t.counts[k] = base + k;
    b.bad = bad;
    return b;
}

/* The portal's report with the indicator values of counters base, base + 1, ... */
static sync_portal_report portal(const char *unit, const char *period, long long rev, long long base)
{
    sync_portal_report p;
    long long counts[TTHC_C__COUNT];
    memset(&p, 0, sizeof p);
    snprintf(p.unit_code, sizeof p.unit_code, "%s", unit);
    snprintf(p.period, sizeof p.period, "%s", period);
    p.revision = rev;
    for (int k = 0; k < TTHC_C__COUNT; k++) counts[k] = base + k;
    sync_values_from_counts(counts, &p.v);
    return p;
}

static int same_local(const sync_local_bucket *a, const sync_local_bucket *b)
{
    if (strcmp(a->t.unit_code, b->t.unit_code) || strcmp(a->t.period, b->t.period)) return 0;
    if (a->t.revision != b->t.revision || a->bad != b->bad) return 0;
    for (int k = 0; k < TTHC_C__COUNT; k++)
        if (a->t.counts[k] != b->t.counts[k]) return 0;
    return 1;
}

static int same_report(const sync_portal_report *a, const sync_portal_report *b)
{
    if (strcmp(a->unit_code, b->unit_code) || strcmp(a->period, b->period) || a->revision != b->revision) return 0;
    for (int k = 0; k < TTHC_INDICATOR_COUNT; k++)
        if (a->v.num[k] != b->v.num[k] || a->v.den[k] != b->v.den[k]) return 0;
    return 1;
}

static void test_empty(void)
{
    tthc_err err = {{0}};
    sync_bucket_diff *d = (sync_bucket_diff *)&err; /* must be overwritten */
    size_t n = 99;
    CHECK_INT(sync_diff_buckets(PERIOD, NULL, 0, NULL, 0, &d, &n, &err), TTHC_OK);
    CHECK(d == NULL, "no diff array when both sides are empty");
    CHECK_INT(n, 0);
    free(d);
}

static void test_in_sync(void)
{
    tthc_err err = {{0}};
    sync_local_bucket loc[] = {local("H61", 3, 10, 0), local("H61.01", 1, 0, 0), local("H62", 7, 5, 0)};
    sync_portal_report reps[] = {portal("H61", PERIOD, 3, 10), portal("H61.01", PERIOD, 1, 0),
                                 portal("H62", PERIOD, 7, 5)};
    sync_bucket_diff *d = NULL;
    size_t n = 99;
    CHECK_INT(sync_diff_buckets(PERIOD, loc, 3, reps, 3, &d, &n, &err), TTHC_OK);
    CHECK_INT(n, 0);
    free(d);
}

static void test_every_kind(void)
{
    tthc_err err = {{0}};
    sync_local_bucket loc[] = {
        local("H01", 1, 0, 0), /* missing on the portal */
        local("H02", 2, 0, 0), /* counts differ */
        local("H04", 1, 0, 1), /* missing, and too long to send (bad passes through) */
        local("H05", 3, 0, 0), /* the portal holds another revision of the same figures */
        local("H06", 2, 0, 0), /* both differ */
        local("H08", 4, 9, 0), /* equal */
    };
    sync_portal_report reps[] = {
        portal("H02", PERIOD, 2, 1),     portal("H03", PERIOD, 1, 0), /* extra */
        portal("H035", "2025-04", 1, 0),                              /* another period: not ours to list */
        portal("H05", PERIOD, 4, 0),     portal("H06", PERIOD, 5, 2),
        portal("H08", PERIOD, 4, 9),     portal("H09", PERIOD, 1, 0), /* extra, after our last bucket */
    };
    size_t nloc = sizeof loc / sizeof loc[0], nrep = sizeof reps / sizeof reps[0];
    sync_local_bucket loc_before[sizeof loc / sizeof loc[0]];
    sync_portal_report reps_before[sizeof reps / sizeof reps[0]];
    memcpy(loc_before, loc, sizeof loc);
    memcpy(reps_before, reps, sizeof reps);

    sync_bucket_diff *d = NULL;
    size_t n = 0;
    CHECK_INT(sync_diff_buckets(PERIOD, loc, nloc, reps, nrep, &d, &n, &err), TTHC_OK);
    for (size_t i = 0; i < nloc; i++) CHECK(same_local(&loc[i], &loc_before[i]), "our bucket %zu unchanged", i);
    for (size_t i = 0; i < nrep; i++) CHECK(same_report(&reps[i], &reps_before[i]), "report %zu unchanged", i);

    static const struct {
        sync_diff_kind kind;
        int l, p; /* index into loc / reps, -1 none */
        const char *label;
    } want[] = {
        {SYNC_DIFF_MISSING, 0, -1, "missing"}, {SYNC_DIFF_CHANGED, 1, 0, "counts"},
        {SYNC_DIFF_EXTRA, -1, 1, "extra"},     {SYNC_DIFF_MISSING, 2, -1, "missing"},
        {SYNC_DIFF_CHANGED, 3, 3, "revision"}, {SYNC_DIFF_CHANGED, 4, 4, "revision+counts"},
        {SYNC_DIFF_EXTRA, -1, 6, "extra"},
    };
    size_t nwant = sizeof want / sizeof want[0];
    CHECK_INT(n, nwant);
    for (size_t i = 0; i < n && i < nwant; i++) {
        char label[32];
        CHECK_INT(d[i].kind, want[i].kind);
        CHECK(d[i].l == (want[i].l < 0 ? NULL : &loc[want[i].l]), "diff %zu: our bucket", i);
        CHECK(d[i].p == (want[i].p < 0 ? NULL : &reps[want[i].p]), "diff %zu: the portal's report", i);
        CHECK_STR(sync_diff_label(&d[i], label, sizeof label), want[i].label);
    }
    if (n == nwant) {
        CHECK(d[3].l->bad, "the bad flag of H04 is seen through the diff");
        CHECK(d[1].cdiff && !d[1].rdiff, "H02: counts only");
        CHECK(d[4].rdiff && !d[4].cdiff, "H05: revision only");
        CHECK(d[5].rdiff && d[5].cdiff, "H06: both");
    }
    free(d);
}

/* An indicator the portal's answer left out reads -1/-1: a difference. */
static void test_absent_indicator(void)
{
    tthc_err err = {{0}};
    sync_local_bucket loc[] = {local("H61", 2, 1, 0)};
    sync_portal_report reps[] = {portal("H61", PERIOD, 2, 1)};
    reps[0].v.num[TTHC_INDICATOR_COUNT - 1] = -1;
    reps[0].v.den[TTHC_INDICATOR_COUNT - 1] = -1;
    sync_bucket_diff *d = NULL;
    size_t n = 0;
    char label[32];
    CHECK_INT(sync_diff_buckets(PERIOD, loc, 1, reps, 1, &d, &n, &err), TTHC_OK);
    CHECK_INT(n, 1);
    if (n == 1) CHECK_STR(sync_diff_label(&d[0], label, sizeof label), "counts");
    free(d);
}

/* Unsorted input, sorted by the module's own functions, merges right. */
static void test_sort(void)
{
    tthc_err err = {{0}};
    sync_local_bucket loc[] = {local("H63", 1, 0, 0), local("H61", 1, 0, 0), local("H62.01", 1, 0, 0),
                               local("H62", 1, 0, 0)};
    sync_portal_report reps[] = {portal("H62.01", PERIOD, 1, 0), portal("H64", PERIOD, 1, 0),
                                 portal("H62", PERIOD, 1, 0), portal("H61", PERIOD, 1, 0)};
    sync_diff_sort_local(loc, 4);
    sync_diff_sort_portal(reps, 4);
    CHECK_STR(loc[0].t.unit_code, "H61");
    CHECK_STR(loc[1].t.unit_code, "H62");
    CHECK_STR(loc[2].t.unit_code, "H62.01");
    CHECK_STR(loc[3].t.unit_code, "H63");
    CHECK_STR(reps[0].unit_code, "H61");
    CHECK_STR(reps[3].unit_code, "H64");
    sync_diff_sort_local(NULL, 0); /* nothing to sort: no call into qsort */
    sync_diff_sort_portal(NULL, 0);
    sync_bucket_diff *d = NULL;
    size_t n = 0;
    CHECK_INT(sync_diff_buckets(PERIOD, loc, 4, reps, 4, &d, &n, &err), TTHC_OK);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK(d[0].kind == SYNC_DIFF_MISSING && d[0].l == &loc[3], "H63 missing");
        CHECK(d[1].kind == SYNC_DIFF_EXTRA && d[1].p == &reps[3], "H64 extra");
    }
    free(d);
}

/* The label is cut to the buffer, never overrun. */
static void test_label_short_buffer(void)
{
    sync_bucket_diff d = {.kind = SYNC_DIFF_CHANGED, .rdiff = 1, .cdiff = 1};
    char small[9];
    CHECK_STR(sync_diff_label(&d, small, sizeof small), "revision");
}

int main(void)
{
    test_empty();
    test_in_sync();
    test_every_kind();
    test_absent_indicator();
    test_sort();
    test_label_short_buffer();
    return CHECK_DONE();
}
