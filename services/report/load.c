#include "load.h"

#include <stdlib.h>
#include <string.h>

#include "pg.h"

/* In tthc_counter order (common/dossier.h); test_report checks it. */
#define COUNTERS                                                                                                 \
    "received, online, comp_digitized, data_reused, id_tagged, issued, result_digitized, e_result, synced, " \
    "due_issued, on_time, payments, payments_online, rated, satisfied"

const char report_counter_sql[] = COUNTERS;

/* A statement without rows, through PQexecParams like every other. */
static tthc_rc exec0(PGconn *c, const char *sql, tthc_err *err)
{
    PGresult *r = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(c, r, PGRES_COMMAND_OK, sql, err);
    PQclear(r);
    return rc;
}

static tthc_rc load_rows(PGconn *c, report_data *d, tthc_err *err)
{
    char from[8], to[8];
    report_month_str(d->period.year, 1, from);
    report_month_str(d->period.year, d->period.last, to);
    const char *params[3] = {d->province, from, to};
    PGresult *r = PQexecParams(c,
                               "SELECT unit_code, period, " COUNTERS " FROM period_totals"
                               " WHERE (unit_code = $1 OR left(unit_code, length($1) + 1) = $1 || '.')"
                               " AND period >= $2 AND period <= $3 ORDER BY unit_code, period",
                               3, NULL, params, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "select period_totals", err);
    for (int row = 0; !rc && row < PQntuples(r); row++) {
        tthc_counts cnt;
        for (int k = 0; k < TTHC_C__COUNT; k++) cnt.c[k] = strtoll(PQgetvalue(r, row, 2 + k), NULL, 10);
        rc = report_data_add_row(d, PQgetvalue(r, row, 0), PQgetvalue(r, row, 1), &cnt, err);
    }
    PQclear(r);
    return rc;
}

static tthc_rc load_targets(PGconn *c, report_data *d, tthc_err *err)
{
    char year[8];
    snprintf(year, sizeof year, "%d", d->period.year);
    const char *params[1] = {year};
    PGresult *r = PQexecParams(c,
                               "SELECT indicator, source_doc, round(target_pct * 100)::bigint FROM indicator_target"
                               " WHERE year = $1::integer ORDER BY indicator, target_pct, source_doc",
                               1, NULL, params, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "select indicator_target", err);
    for (int row = 0; !rc && row < PQntuples(r); row++)
        rc = report_data_add_target(d, PQgetvalue(r, row, 0), PQgetvalue(r, row, 1),
                                    strtoll(PQgetvalue(r, row, 2), NULL, 10), err);
    PQclear(r);
    if (rc) return rc;
    r = PQexecParams(c, "SELECT code, name_vi FROM indicator", 0, NULL, NULL, NULL, NULL, 0);
    rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "select indicator", err);
    for (int row = 0; !rc && row < PQntuples(r); row++) {
        int i = tthc_indicator_find(PQgetvalue(r, row, 0));
        if (i >= 0) snprintf(d->name_vi[i], sizeof d->name_vi[i], "%s", PQgetvalue(r, row, 1));
    }
    PQclear(r);
    return rc;
}

tthc_rc report_load(PGconn *c, report_data *d, report_qd766 *q, const char *at, tthc_err *err)
{
    tthc_rc rc = exec0(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
    if (rc) return rc;
    rc = load_rows(c, d, err);
    if (!rc) rc = load_targets(c, d, err);
    if (!rc && q)
        rc = report_qd766_load(c, q, d->province, d->scope, d->period.year, d->period.first, d->period.last, at, err);
    tthc_err ignore;
    if (rc) (void)!exec0(c, "ROLLBACK", &ignore);
    else rc = exec0(c, "COMMIT", err);
    return rc;
}
