/* page.h - the server-rendered HTML overview of the stub (GET /): the latest
 * report of every unit for one period (units sorted by code as numbers, with
 * their names), numerator/denominator and rate per indicator, coloured
 * against the plan's targets, and the unit's QĐ 766 points.  Vietnamese or
 * English; a print stylesheet for A4.  One self-contained page:
 * inline CSS, no script, no external asset; every value is HTML-escaped.
 * Pure (no I/O), thread-safe. */
#ifndef PORTAL_PAGE_H
#define PORTAL_PAGE_H

#include <stddef.h>

#include "targets.h"

struct cJSON;

typedef struct {
    const char *period;          /* period shown, or NULL when nothing is stored */
    const struct cJSON *reports; /* array in the GET representation (stub_store.h), or NULL */
    const struct cJSON *periods; /* array of period strings, newest first, or NULL */
    const portal_targets *targets;
    const char *notice; /* a message shown above the table (e.g. an error), or NULL */
    int vietnamese;     /* 1: Vietnamese words and numbers (79.602; 63,8 %); 0: English */
    /* QĐ 766 points per unit for the period: {"H61.07": [points_centi, max_known_centi, rank], ...}
     * (rank 0 for the province), or NULL when the database has no qd766 functions */
    const struct cJSON *points;
    const char *(*unit_name)(const char *code); /* a unit's display name or NULL; the function may be NULL */
} portal_page;

/* Returns the page as a malloc'd string owned by the caller (length in
 * *len), or NULL when memory ran out. */
char *portal_page_render(const portal_page *pg, size_t *len);

#endif
