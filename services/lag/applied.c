#include "applied.h"

#include <stdlib.h>
#include <string.h>

#include "pg.h"

tthc_rc lag_applied_read(PGconn *c, const char *group, lag_row *rows, size_t n, tthc_err *err)
{
    for (size_t i = 0; i < n; i++) {
        rows[i].applied = -1;
        rows[i].applied_age = -1;
    }
    const char *params[1] = {group};
    PGresult *r = PQexecParams(c,
                               "SELECT topic, partition, next_offset, "
                               "greatest(0, extract(epoch FROM now() - updated_at))::float8 "
                               "FROM consumer_offset WHERE group_id = $1",
                               1, NULL, params, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "select consumer_offset", err);
    for (int k = 0; !rc && k < PQntuples(r); k++) {
        const char *topic = PQgetvalue(r, k, 0);
        long partition = strtol(PQgetvalue(r, k, 1), NULL, 10);
        for (size_t i = 0; i < n; i++) {
            if (rows[i].partition != partition || strcmp(rows[i].topic, topic)) continue;
            rows[i].applied = strtoll(PQgetvalue(r, k, 2), NULL, 10);
            rows[i].applied_age = strtod(PQgetvalue(r, k, 3), NULL);
            break;
        }
    }
    PQclear(r);
    return rc;
}
