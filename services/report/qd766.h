/* qd766.h - the report's QĐ 766/QĐ-TTg section: the national portal's score
 * per unit as the database computes it (migrations/006_qd766.sql,
 * docs/qd766.md).
 *
 * report_qd766_load() reads, in the caller's transaction, the metric and
 * group catalogue, every metric of every unit of the province and of the
 * province roll-up over the period (one evaluation instant: the period's end,
 * or --at / now when earlier), and the scope's points month by month (each
 * month evaluated at its own end).  report_qd766_compute() (pure) ranks the
 * units by points known, finds the metrics losing most points and the month-
 * over-month change.  Points are kept as exact hundredths (1568 = 15.68).
 *
 * Ownership: a report_qd766 owns its unit array (report_qd766_free). */
#ifndef REPORT_QD766_H
#define REPORT_QD766_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "event.h"

#define QD_MAX_METRICS 20
#define QD_MAX_GROUPS  8
#define QD_LOSING      3

typedef enum { QD_KNOWN = 0, QD_PARTIAL, QD_UNKNOWN } qd_status;

typedef struct {
    char code[48], group[24];
    char name_vi[160], name_en[160];
    int group_index;
    int64_t max_centi;
} qd_metric_def;

typedef struct {
    char code[24];
    char name_vi[80], name_en[80];
    int64_t max_centi;
} qd_group_def;

typedef struct {
    bool has_nd, has_ratio, has_score;
    int64_t num, den, ratio_centi, score_centi;
    qd_status status;
    int64_t points_centi, max_known_centi, max_unknown_centi;
} qd_metric_val;

typedef struct {
    int64_t points_centi, max_known_centi, max_unknown_centi;
} qd_group_val;

typedef struct {
    char code[TTHC_UNIT_MAX + 1];
    const char *name; /* display name, or NULL (points into the caller's unit list) */
    bool present;     /* the unit received dossiers in the period */
    qd_metric_val m[QD_MAX_METRICS];
    qd_group_val g[QD_MAX_GROUPS];
    int64_t total_centi, max_known_centi, max_unknown_centi;
    int rank; /* among the province's units, 1 = most points (ties share); 0 for the province */
} qd_unit;

typedef struct {
    bool loaded;
    char evaluated_at[40]; /* "2025-10-01 00:00" Vietnam time */
    qd_metric_def metrics[QD_MAX_METRICS];
    int nmetrics;
    qd_group_def groups[QD_MAX_GROUPS];
    int ngroups;
    qd_unit rollup; /* the province */
    qd_unit *units; /* owned; the province's units with dossiers in the period, by code as numbers */
    size_t nunits, capunits;
    int nranked;
    /* the scope month by month (months with dossiers only) */
    int nmonths;
    int months[12];
    int64_t month_points[12], month_max[12];
    /* computed */
    int losing[QD_LOSING]; /* metric indices of the scope losing most points (max known - points) */
    int nlosing;
} report_qd766;

/* Index of a unit in q->units, or -1. */
int report_qd766_find(const report_qd766 *q, const char *code);
/* The scope's figures: the roll-up for a province, the unit otherwise (NULL if absent). */
const qd_unit *report_qd766_scope(const report_qd766 *q, const char *scope, bool province_scope);

/* Loads the section for the months first..last of year.  at: an RFC 3339
 * instant or NULL (now). */
tthc_rc report_qd766_load(PGconn *c, report_qd766 *q, const char *province, const char *scope, int year, int first,
                          int last, const char *at, tthc_err *err) TTHC_MUSTCHECK;

/* Exposed for tests: adds one metric row to a unit (created on first use). */
tthc_rc report_qd766_add(report_qd766 *q, const char *unit, const char *metric, const qd_metric_val *v,
                         tthc_err *err) TTHC_MUSTCHECK;
void report_qd766_compute(report_qd766 *q, const char *scope, bool province_scope);
void report_qd766_free(report_qd766 *q);

/* Unit codes compared part by part, digits as numbers: H61.9 < H61.10 < H61.101. */
int report_unit_code_cmp(const char *a, const char *b);

#endif
