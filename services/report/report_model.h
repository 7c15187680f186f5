/* report_model.h - the monthly report's numbers, computed from period_totals rows
 * (pure: no I/O).
 *
 * The loader fills a report_data with the rows of one province for the
 * months of the period's year up to the period's end (the province roll-up
 * rows and every unit's rows), the year's targets and the indicator names.
 * report_compute() derives a report_view: for the scope (the province or one
 * unit) each indicator's numerator and denominator over the period, summed
 * from counts and never averaged from rates; the units ranked worst-first;
 * and the trend month by month.  Rates are kept as exact counts and shown in
 * hundredths of a percent rounded half up, as PostgreSQL's
 * round(100.0 * num / den, 2) in the indicator_status view.
 *
 * Ownership: report_data owns its unit array (report_data_free); a view owns
 * its rankings (report_view_free).  Unit names point into a unit list the
 * caller keeps alive. */
#ifndef REPORT_MODEL_H
#define REPORT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dossier.h"
#include "err.h"
#include "event.h"
#include "indicators.h"

#define REPORT_MAX_TARGETS 4

typedef enum { REPORT_MONTH = 0, REPORT_QUARTER, REPORT_YEAR, REPORT_YTD } report_period_kind;

typedef struct {
    report_period_kind kind;
    int year, first, last; /* months 1..12, first <= last */
    char label[16];        /* 2025-09, 2025-Q3, 2025, 2025-09 YTD */
} report_period;

/* Parses "YYYY-MM" (a month), "YYYY-Qn" (a quarter) or "YYYY" (a year); with
 * ytd, "YYYY-MM" means January to that month; years 1970-9999.  TTHC_EINVAL
 * on anything else, with err filled (err may be NULL) by a message that
 * follows the option's name ("must be YYYY-MM, YYYY-Qn or YYYY"). */
tthc_rc report_period_parse(const char *s, bool ytd, report_period *out, tthc_err *err) TTHC_MUSTCHECK;

/* "YYYY-MM" into out (8 bytes). */
void report_month_str(int year, int month, char out[8]);

typedef struct {
    char source_doc[64];
    int64_t centi; /* target in hundredths of a percent (60.00 % = 6000) */
} report_target;

typedef struct {
    char code[TTHC_UNIT_MAX + 1];
    const char *name;      /* display name, or NULL */
    tthc_counts month[12]; /* by month of the year */
    uint16_t present;      /* bit m-1: a row exists for month m */
} report_unit;

typedef struct {
    report_period period;
    char scope[TTHC_UNIT_MAX + 1];    /* "H61" or "H61.07" */
    char province[TTHC_UNIT_MAX + 1]; /* "H61" */
    bool province_scope;
    const char *scope_name; /* or NULL */
    report_unit rollup;     /* the province's roll-up rows */
    report_unit *units;     /* owned; the province's units */
    size_t nunits, capunits;
    report_target targets[TTHC_INDICATOR_COUNT][REPORT_MAX_TARGETS];
    int ntargets[TTHC_INDICATOR_COUNT];
    char name_vi[TTHC_INDICATOR_COUNT][160];
    int64_t min_den; /* smallest denominator a unit needs to be ranked */
    char generated_at[40];
} report_data;

typedef struct {
    int64_t num, den;
} report_nd;

typedef struct {
    int unit; /* index in report_data.units */
    report_nd nd;
} report_rank_entry;

typedef struct {
    report_nd total[TTHC_INDICATOR_COUNT]; /* the scope over the period */
    report_nd ytd[TTHC_INDICATOR_COUNT];   /* the scope from January to the period's last month */
    bool has_data;                         /* any row of the scope in the period */
    int nmonths;
    int months[12]; /* trend months (1..12) with data, ascending; empty months left out */
    report_nd trend[12][TTHC_INDICATOR_COUNT];
    report_rank_entry *rank[TTHC_INDICATOR_COUNT]; /* owned, worst first */
    size_t nrank[TTHC_INDICATOR_COUNT];
    int scope_rank[TTHC_INDICATOR_COUNT]; /* unit scope: 1-based place (1 = worst), 0 = not ranked */
    int mismatch_months;                  /* months where the units do not add up to the roll-up */
    bool rollup_from_units;               /* no roll-up rows: the province is the sum of its units */
} report_view;

/* Sets scope and province from a unit or province code; TTHC_EINVAL if
 * invalid, with err filled as report_period_parse does (the message follows
 * the option's name). */
tthc_rc report_data_init(report_data *d, const char *scope, const report_period *p, tthc_err *err) TTHC_MUSTCHECK;
/* Adds one period_totals row (period "YYYY-MM" within the year). */
tthc_rc report_data_add_row(report_data *d, const char *unit_code, const char *period, const tthc_counts *c,
                            tthc_err *err) TTHC_MUSTCHECK;
tthc_rc report_data_add_target(report_data *d, const char *indicator, const char *source_doc, int64_t centi,
                               tthc_err *err) TTHC_MUSTCHECK;
void report_data_free(report_data *d);

tthc_rc report_compute(const report_data *d, report_view *v, tthc_err *err) TTHC_MUSTCHECK;
void report_view_free(report_view *v);

/* The indicator's numerator and denominator in a bucket (the indicator_totals view). */
report_nd report_nd_of(const tthc_counts *c, int ind);
/* Rate in hundredths of a percent, rounded half up; false when den == 0. */
bool report_rate_centi(report_nd nd, int64_t *centi);
/* How a rate stands against one target (not an error code). */
typedef enum {
    REPORT_TARGET_NO_DATA = -1, /* den == 0 */
    REPORT_TARGET_BEHIND = 0,   /* *behind_centi = target - rate, rounded up to 0.01 */
    REPORT_TARGET_MET = 1,
} report_target_status;
report_target_status report_status(report_nd nd, int64_t target_centi, int64_t *behind_centi);
/* The rate shown next to targets: rounded half up, except that it is never
 * shown at or above a target it misses (then rounded down), so that "rate +
 * behind" is the target exactly.  false when den == 0. */
bool report_display_centi(report_nd nd, const int64_t *targets_centi, int ntargets, int64_t *centi);
/* "63.83", "-1.50", "100.00" */
void report_fmt_centi(int64_t centi, char *buf, size_t len);
/* Exact comparison of two rates: <0, 0, >0 (den > 0). */
int report_rate_cmp(report_nd a, report_nd b);

#endif
