#include "freshness.h"

#include <stdio.h>
#include <stdlib.h>

#include "pg.h"

#define UNITS_MAX 100000 /* a province has a few hundred */

tthc_rc sync_freshness_refresh(PGconn *c, sync_metrics *m, tthc_err *err)
{
    PGresult *r = PQexecParams(c,
                               "SELECT t.unit_code, extract(epoch FROM max(t.updated_at))::text,"
                               " extract(epoch FROM max(s.last_success_at))::text"
                               " FROM period_totals t LEFT JOIN sync_state s"
                               "   ON s.unit_code = t.unit_code AND s.period = t.period"
                               " WHERE t.revision > 0 GROUP BY t.unit_code ORDER BY t.unit_code LIMIT 100000",
                               0, NULL, NULL, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "unit freshness", err);
    if (rc) {
        PQclear(r);
        return rc;
    }
    size_t n = (size_t)PQntuples(r);
    if (n > UNITS_MAX) n = UNITS_MAX;
    sync_unit_fresh *u = n ? calloc(n, sizeof *u) : NULL;
    if (n && !u) {
        PQclear(r);
        return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(u[i].unit_code, sizeof u[i].unit_code, "%s", PQgetvalue(r, (int)i, 0));
        u[i].applied = PQgetisnull(r, (int)i, 1) ? -1 : strtod(PQgetvalue(r, (int)i, 1), NULL);
        u[i].accepted = PQgetisnull(r, (int)i, 2) ? -1 : strtod(PQgetvalue(r, (int)i, 2), NULL);
    }
    PQclear(r);
    sync_metrics_units(m, u, n); /* takes u */
    return TTHC_OK;
}
