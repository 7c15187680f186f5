#include "pg.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

/* Server notices (RAISE NOTICE, "already exists, skipping") through the
 * logger instead of libpq's raw lines on stderr. */
static void on_notice(void *arg, const PGresult *res)
{
    (void)arg;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    if (sev && !strcmp(sev, "WARNING")) LOG_WARN("pg_notice", "severity=%s msg=%s", sev, msg ? msg : "");
    else LOG_DEBUG("pg_notice", "severity=%s msg=%s", sev ? sev : "?", msg ? msg : "");
}

tthc_rc tthc_pg_connect(const char *dsn, const char *app, int statement_timeout_ms, PGconn **out, tthc_err *err)
{
    /* Keywords before dbname are defaults that the DSN (expanded) may override. */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"5", app, dsn, NULL};
    *out = NULL;
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    PQsetNoticeReceiver(c, on_notice, NULL);
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
        msg[strcspn(msg, "\n")] = '\0';
        PQfinish(c);
        return tthc_fail(err, TTHC_ERETRY, "connect: %s", msg);
    }
    char ms[32];
    snprintf(ms, sizeof ms, "%d", statement_timeout_ms);
    const char *params[1] = {ms};
    PGresult *r = PQexecParams(c,
                               "SELECT set_config('statement_timeout', $1, false), "
                               "set_config('lock_timeout', $1, false), "
                               "set_config('idle_in_transaction_session_timeout', '600000', false)",
                               1, NULL, params, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "set timeouts", err);
    PQclear(r);
    if (rc) {
        PQfinish(c);
        return rc;
    }
    *out = c;
    return TTHC_OK;
}

tthc_rc tthc_pg_result(PGconn *c, PGresult *r, ExecStatusType want, const char *what, tthc_err *err)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == want) return TTHC_OK;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
    char m[400];
    snprintf(m, sizeof m, "%s", msg && *msg ? msg : "unexpected result status");
    m[strcspn(m, "\n")] = '\0';
    /* Retryable: serialization failure, deadlock, lock or statement timeout,
     * and every outage (no answer, connection, resources, shutdown). */
    bool retry = PQstatus(c) != CONNECTION_OK || tthc_sql_classify(state) == TTHC_SQL_OUTAGE ||
                 !strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03");
    return tthc_fail_sql(err, retry ? TTHC_ERETRY : TTHC_EDB, state, "%s: %s%s%s", what, state ? state : "",
                         state ? " " : "", m);
}

tthc_rc tthc_pg_exec(PGconn *c, const char *sql, tthc_err *err)
{
    PGresult *r = PQexec(c, sql);
    tthc_rc rc = tthc_pg_result(c, r, PGRES_COMMAND_OK, sql, err);
    PQclear(r);
    return rc;
}

tthc_rc tthc_pg_copy_put(PGconn *c, const char *buf, size_t len, tthc_err *err)
{
    while (len) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        if (PQputCopyData(c, buf, chunk) != 1)
            return tthc_fail(err, TTHC_ERETRY, "copy: %s", PQerrorMessage(c));
        buf += chunk;
        len -= (size_t)chunk;
    }
    return TTHC_OK;
}

tthc_rc tthc_pg_copy_end(PGconn *c, const char *what, tthc_err *err)
{
    if (PQputCopyEnd(c, NULL) != 1) return tthc_fail(err, TTHC_ERETRY, "%s: %s", what, PQerrorMessage(c));
    tthc_rc rc = TTHC_OK;
    PGresult *r;
    while ((r = PQgetResult(c))) {
        if (!rc) rc = tthc_pg_result(c, r, PGRES_COMMAND_OK, what, err);
        PQclear(r);
    }
    return rc;
}

bool tthc_pg_alive(PGconn *c)
{
    return c && PQstatus(c) == CONNECTION_OK;
}
