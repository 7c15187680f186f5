/* load.h - reads one province's period_totals rows, the year's targets and
 * the indicator names from PostgreSQL into a report_data (report_model.h).
 *
 * One read-only transaction (REPEATABLE READ): the roll-up rows and the unit
 * rows come from the same snapshot, so they add up.  Every statement goes
 * through PQexecParams. */
#ifndef REPORT_LOAD_H
#define REPORT_LOAD_H

#include <libpq-fe.h>

#include "err.h"
#include "qd766.h"
#include "report_model.h"

/* d must have been set up with report_data_init().  With q not NULL, the QĐ
 * 766 section is read in the same snapshot (qd766.h), evaluated at `at` (an
 * RFC 3339 instant, or NULL for now). */
tthc_rc report_load(PGconn *c, report_data *d, report_qd766 *q, const char *at, tthc_err *err) TTHC_MUSTCHECK;

/* The SELECT list of counters, in tthc_counter order (exposed for tests). */
extern const char report_counter_sql[];

#endif
