/* page.h - the server-rendered HTML overview of the stub (GET /): the latest
 * report of every unit for one period, numerator/denominator and rate per
 * indicator, coloured against the plan's targets.  One self-contained page:
 * inline CSS, no script, no external asset; every value is HTML-escaped.
 * Pure (no I/O), thread-safe. */
#ifndef PORTAL_PAGE_H
#define PORTAL_PAGE_H

#include <stddef.h>

#include "targets.h"

struct cJSON;

typedef struct {
    const char *period;           /* period shown, or NULL when nothing is stored */
    const struct cJSON *reports;  /* array in the GET representation (store.h), or NULL */
    const struct cJSON *periods;  /* array of period strings, newest first, or NULL */
    const portal_targets *targets;
    const char *notice;           /* a message shown above the table (e.g. an error), or NULL */
} portal_page;

/* Returns the page as a malloc'd string owned by the caller (length in
 * *len), or NULL when memory ran out. */
char *portal_page_render(const portal_page *pg, size_t *len);

#endif
