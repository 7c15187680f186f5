/* diff.c - which buckets differ between period_totals and the portal (diff.h). */
#include "diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_local(const void *a, const void *b)
{
    return strcmp(((const sync_local_bucket *)a)->t.unit_code, ((const sync_local_bucket *)b)->t.unit_code);
}

static int cmp_portal(const void *a, const void *b)
{
    return strcmp(((const sync_portal_report *)a)->unit_code, ((const sync_portal_report *)b)->unit_code);
}

void sync_diff_sort_local(sync_local_bucket *loc, size_t n)
{
    if (n) qsort(loc, n, sizeof *loc, cmp_local);
}

void sync_diff_sort_portal(sync_portal_report *reps, size_t n)
{
    if (n) qsort(reps, n, sizeof *reps, cmp_portal);
}

tthc_rc sync_diff_buckets(const char *period, const sync_local_bucket *loc, size_t nloc, const sync_portal_report *reps,
                          size_t nrep, sync_bucket_diff **out, size_t *n, tthc_err *err)
{
    sync_bucket_diff *d = (nloc + nrep) ? calloc(nloc + nrep, sizeof *d) : NULL;
    *out = NULL;
    *n = 0;
    if ((nloc + nrep) && !d) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    size_t i = 0, j = 0, k = 0;
    while (i < nloc || j < nrep) {
        int cmp = i >= nloc ? 1 : j >= nrep ? -1 : strcmp(loc[i].t.unit_code, reps[j].unit_code);
        if (cmp > 0) { /* only on the portal */
            if (!strcmp(reps[j].period, period)) d[k++] = (sync_bucket_diff){.kind = SYNC_DIFF_EXTRA, .p = &reps[j]};
            j++;
            continue;
        }
        const sync_local_bucket *l = &loc[i++];
        const sync_portal_report *p = cmp == 0 ? &reps[j++] : NULL;
        if (!p) {
            d[k++] = (sync_bucket_diff){.kind = SYNC_DIFF_MISSING, .l = l};
            continue;
        }
        sync_values ours;
        sync_values_from_counts(l->t.counts, &ours);
        int rdiff = p->revision != l->t.revision, cdiff = !sync_values_equal(&ours, &p->v);
        if (rdiff || cdiff)
            d[k++] = (sync_bucket_diff){.kind = SYNC_DIFF_CHANGED, .l = l, .p = p, .rdiff = rdiff, .cdiff = cdiff};
    }
    *out = d;
    *n = k;
    return TTHC_OK;
}

const char *sync_diff_label(const sync_bucket_diff *d, char *buf, size_t cap)
{
    if (d->kind == SYNC_DIFF_EXTRA) snprintf(buf, cap, "extra");
    else if (d->kind == SYNC_DIFF_MISSING) snprintf(buf, cap, "missing");
    else
        snprintf(buf, cap, "%s%s%s", d->rdiff ? "revision" : "", d->rdiff && d->cdiff ? "+" : "",
                 d->cdiff ? "counts" : "");
    return buf;
}
