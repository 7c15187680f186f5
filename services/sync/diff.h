/* diff.h - the pure core of `tthc-sync reconcile`: which buckets of one
 * period differ between period_totals (ours) and the portal's reports.
 *
 * admin.c fetches both sides, calls sync_diff_buckets, re-queues and prints.
 * Pure functions: no I/O, no globals, thread-safe; inputs are only read. */
#ifndef SYNC_DIFF_H
#define SYNC_DIFF_H

#include <stddef.h>

#include "err.h"
#include "sync_report.h"

/* One of our buckets (one row of period_totals). */
typedef struct {
    sync_totals t;
    int bad; /* unit code too long for a report */
} sync_local_bucket;

typedef enum {
    SYNC_DIFF_MISSING, /* ours only: the portal has no report */
    SYNC_DIFF_EXTRA,   /* the portal's only (not in period_totals; the API has no delete) */
    SYNC_DIFF_CHANGED, /* both, with another revision and/or other indicator values */
} sync_diff_kind;

/* One bucket that differs; l and p point into the caller's arrays. */
typedef struct {
    sync_diff_kind kind;
    const sync_local_bucket *l;  /* ours; NULL for SYNC_DIFF_EXTRA */
    const sync_portal_report *p; /* the portal's; NULL for SYNC_DIFF_MISSING */
    int rdiff, cdiff;            /* SYNC_DIFF_CHANGED: the revision / the indicator values differ */
} sync_bucket_diff;

/* Sort by unit code (strcmp), the order sync_diff_buckets needs. */
void sync_diff_sort_local(sync_local_bucket *loc, size_t n);
void sync_diff_sort_portal(sync_portal_report *reps, size_t n);

/* Merges loc[0..nloc) and reps[0..nrep), both sorted by unit code, into the
 * buckets that differ, in unit order.  Counts are compared as the indicators'
 * numerators and denominators (sync_values), so a counter no indicator reads
 * makes no difference.  A report of the portal only counts as extra when its
 * period is `period`.  *out: malloc'd array of *n (NULL when nothing can
 * differ), owned by the caller; TTHC_ENOMEM when memory ran out. */
tthc_rc sync_diff_buckets(const char *period, const sync_local_bucket *loc, size_t nloc, const sync_portal_report *reps,
                          size_t nrep, sync_bucket_diff **out, size_t *n, tthc_err *err) TTHC_MUSTCHECK;

/* What differs, as reconcile's DIFFERENCE column writes it: "missing",
 * "extra", "revision", "counts" or "revision+counts".  Returns buf. */
const char *sync_diff_label(const sync_bucket_diff *d, char *buf, size_t cap);

#endif
