/* prom.h - Prometheus text exposition (format 0.0.4) into a tthc_sb.
 *
 * Helpers only format; the caller owns the values and their locking.
 * Label values are escaped (backslash, quote, newline).  The writers return
 * int 0, or -1 when the buffer is full or memory ran out, like the tthc_sb_*
 * appenders they are made of (OR them, check once; see err.h). */
#ifndef TTHC_PROM_H
#define TTHC_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Writes v as the exposition format wants it, exactly: integers (below 1e17)
 * with every digit, other values in the shortest form that reads back as the
 * same double (so a Unix time keeps its microseconds), NaN, +Inf, -Inf.
 * Returns the length; buf (cap >= 32) is NUL-terminated. */
size_t tthc_prom_format_value(char *buf, size_t cap, double v);

/* "# HELP name help\n# TYPE name type\n" */
int tthc_prom_family(tthc_sb *b, const char *name, const char *type, const char *help) TTHC_MUSTCHECK;

/* name{labels} value\n.  labels: NULL or pairs "k","v",...,NULL. */
int tthc_prom_sample(tthc_sb *b, const char *name, const char *const *labels, double value) TTHC_MUSTCHECK;

#define TTHC_PROM_MAX_BUCKETS 16

/* A histogram with fixed upper bounds (le), cumulative on output. */
typedef struct {
    size_t nb;
    double le[TTHC_PROM_MAX_BUCKETS];
    uint64_t counts[TTHC_PROM_MAX_BUCKETS]; /* per bucket, not cumulative */
    uint64_t count;
    double sum;
} tthc_prom_hist;

void tthc_prom_hist_init(tthc_prom_hist *h, const double *le, size_t n);
void tthc_prom_hist_observe(tthc_prom_hist *h, double v);
/* Writes name_bucket{le=...}, name_sum, name_count (the family header too). */
int tthc_prom_hist_write(tthc_sb *b, const char *name, const char *help, const tthc_prom_hist *h) TTHC_MUSTCHECK;

#endif
