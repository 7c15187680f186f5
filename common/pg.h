/* pg.h - libpq helpers shared by the daemons: bounded connects, one error path.
 *
 * Every connection gets connect_timeout (unless the DSN sets one), an
 * application_name, and statement_timeout / lock_timeout so that no query
 * waits forever.  Statements with values go through PQexecParams only. */
#ifndef TTHC_PG_H
#define TTHC_PG_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "err.h"

/* Opens a connection; *out is owned by the caller (PQfinish). */
tthc_rc tthc_pg_connect(const char *dsn, const char *app, int statement_timeout_ms, PGconn **out,
                        tthc_err *err) TTHC_MUSTCHECK;

/* Runs a statement without parameters and without rows (BEGIN, DDL, ...). */
tthc_rc tthc_pg_exec(PGconn *c, const char *sql, tthc_err *err) TTHC_MUSTCHECK;

/* Checks a result (which the caller still owns and clears) for `want`
 * (PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_COPY_IN).  On failure the detail
 * names the statement tag `what` and err carries the SQLSTATE
 * (tthc_err_sqlstate, "" when the server gave none); returns TTHC_ERETRY for
 * serialization failures, deadlocks, lock timeouts and outages (no answer,
 * classes 08, 53, 57, 58: the unit of work may be retried), TTHC_EDB
 * otherwise (tthc_sql_classify tells a refused value, class 22/23, from the
 * rest). */
tthc_rc tthc_pg_result(PGconn *c, PGresult *r, ExecStatusType want, const char *what, tthc_err *err) TTHC_MUSTCHECK;

/* Streams len bytes into a COPY FROM STDIN in progress. */
tthc_rc tthc_pg_copy_put(PGconn *c, const char *buf, size_t len, tthc_err *err) TTHC_MUSTCHECK;
/* Ends the COPY and checks its outcome. */
tthc_rc tthc_pg_copy_end(PGconn *c, const char *what, tthc_err *err) TTHC_MUSTCHECK;

bool tthc_pg_alive(PGconn *c);

#endif
