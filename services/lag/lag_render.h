/* lag_render.h - tthc-lag's output: an aligned table (like kafka-consumer-groups
 * --describe) or one JSON object.  Unknown values print as "-" / null. */
#ifndef LAG_RENDER_H
#define LAG_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "lag_model.h"

typedef struct {
    const char *group;
    const char *state;       /* group state from DescribeConsumerGroups, or NULL */
    const char *owner_error; /* why owners are unknown, or NULL */
    tthc_group_status status;
    bool use_applied; /* a DSN was given: APPLIED column, status on applied offsets */
    long samples, interval_ms;
    const lag_row *rows;
    size_t n;
} lag_report;

/* Both return TTHC_EIO when writing fails (e.g. a closed pipe), TTHC_ENOMEM. */
tthc_rc lag_render_table(const lag_report *rep, FILE *out, tthc_err *err) TTHC_MUSTCHECK;
tthc_rc lag_render_json(const lag_report *rep, FILE *out, tthc_err *err) TTHC_MUSTCHECK;

#endif
