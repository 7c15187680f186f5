#include "applied.h"

#include <stdlib.h>
#include <string.h>

#include "pg.h"

tthc_rc lag_applied_read(PGconn *c, const char *group, lag_row *rows, size_t n, tthc_err *err)
{
    for (size_t i = 0; i < n; i++) {
        rows[i].applied = -1;
        rows[i].applied_age = -1;
        rows[i].lost = 0;
        rows[i].gap_stopped = false;
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
    if (rc) return rc;
    /* Gaps: lost messages per partition (each range counted once, whatever the
     * action), and whether the partition is stopped at its latest gap. */
    r = PQexecParams(c,
                     "SELECT topic, partition, coalesce(sum(lost), 0), bool_or(stopped) FROM ("
                     " SELECT DISTINCT g.topic, g.partition, g.from_offset, g.lost,"
                     " g.action = 'stop' AND o.next_offset = g.from_offset AS stopped"
                     " FROM consumer_gap g LEFT JOIN consumer_offset o USING (group_id, topic, partition)"
                     " WHERE g.group_id = $1) d GROUP BY topic, partition",
                     1, NULL, params, NULL, NULL, 0);
    rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "select consumer_gap", err);
    for (int k = 0; !rc && k < PQntuples(r); k++) {
        const char *topic = PQgetvalue(r, k, 0);
        long partition = strtol(PQgetvalue(r, k, 1), NULL, 10);
        for (size_t i = 0; i < n; i++) {
            if (rows[i].partition != partition || strcmp(rows[i].topic, topic)) continue;
            rows[i].lost = strtoll(PQgetvalue(r, k, 2), NULL, 10);
            rows[i].gap_stopped = !strcmp(PQgetvalue(r, k, 3), "t");
            break;
        }
    }
    PQclear(r);
    return rc;
}
