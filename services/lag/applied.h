/* applied.h - the offsets tthc-ingest applied in PostgreSQL (consumer_offset).
 *
 * consumer_offset.next_offset is written in the same transaction as the facts
 * it applied, so it is the offset that really counts for tthc-ingest; its
 * updated_at is the time of that transaction (the "commit" of Burrow's rules).
 * The age is computed by the server (now() - updated_at), so the local clock
 * and the database clock need not agree. */
#ifndef LAG_APPLIED_H
#define LAG_APPLIED_H

#include <libpq-fe.h>
#include <stddef.h>

#include "err.h"
#include "lag_model.h"

/* Sets rows[i].applied and rows[i].applied_age for the rows of group that
 * consumer_offset holds; the others get -1.  Sets rows[i].lost (messages lost
 * in gaps, consumer_gap; 0 when none) and rows[i].gap_stopped (a "stop" gap at
 * the stored offset).  The statement is bounded by the
 * connection's statement_timeout (tthc_pg_connect). */
tthc_rc lag_applied_read(PGconn *c, const char *group, lag_row *rows, size_t n, tthc_err *err) TTHC_MUSTCHECK;

#endif
