/* store.h - tthc-ingest's PostgreSQL side: the SQL primitives.
 *
 * Each function here is one statement or a few (connect, load and move
 * offsets, claim and release event ids, load and write dossiers, write
 * totals, pending dossiers, record a gap, transaction and savepoint
 * control); apply.h runs them, with the fold, in the order of one batch's
 * transaction.  The batch's primitives run inside the caller's transaction
 * and, when they fail, leave it to the caller to roll back; store_record_gap
 * runs a transaction of its own.
 *
 * Ownership: the store owns its connection.  It never keeps batch data. */
#ifndef TTHC_INGEST_STORE_H
#define TTHC_INGEST_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "err.h"

typedef struct ingest_store ingest_store;

/* Copies the strings.  Does not connect yet. */
tthc_rc store_new(const char *dsn, const char *group, const char *topic, int statement_timeout_ms, ingest_store **out,
                  tthc_err *err) TTHC_MUSTCHECK;
void store_free(ingest_store *s);

/* (Re)connects and prepares the session (temp tables, statements). */
tthc_rc store_connect(ingest_store *s, tthc_err *err) TTHC_MUSTCHECK;
/* Nonzero while the connection is usable. */
int store_connected(const ingest_store *s);
/* Closes the connection (an open transaction is lost); store_connect reopens it. */
void store_disconnect(ingest_store *s);

/* For each partition, the stored next offset or -1 if none. */
tthc_rc store_load_offsets(ingest_store *s, const int32_t *parts, size_t n, int64_t *next,
                           tthc_err *err) TTHC_MUSTCHECK;

/* BEGIN: opens the session's transaction. */
tthc_rc store_begin(ingest_store *s, tthc_err *err) TTHC_MUSTCHECK;
/* COMMIT: makes the transaction durable. */
tthc_rc store_commit(ingest_store *s, tthc_err *err) TTHC_MUSTCHECK;
/* ROLLBACK: undoes the whole transaction. */
tthc_rc store_rollback(ingest_store *s, tthc_err *err) TTHC_MUSTCHECK;
/* SAVEPOINT attempt: marks where an attempt at the batch's items starts. */
tthc_rc store_savepoint(ingest_store *s, tthc_err *err) TTHC_MUSTCHECK;
/* ROLLBACK TO SAVEPOINT attempt: undoes the attempt, keeps the transaction. */
tthc_rc store_savepoint_rollback(ingest_store *s, tthc_err *err) TTHC_MUSTCHECK;
/* RELEASE SAVEPOINT attempt: keeps the attempt in the transaction. */
tthc_rc store_savepoint_release(ingest_store *s, tthc_err *err) TTHC_MUSTCHECK;

/* Moves each partition's offset from parts[i].expected to parts[i].next; TTHC_EFENCED if one was not there. */
tthc_rc store_move_offsets(ingest_store *s, const ingest_batch *b, tthc_err *err) TTHC_MUSTCHECK;
/* Claims the event ids of the items [0, limit) in applied_event; those claimed before get BATCH_DB_APPLIED. */
tthc_rc store_claim_ids(ingest_store *s, ingest_batch *b, size_t limit, tthc_err *err) TTHC_MUSTCHECK;
/* Locks (FOR NO KEY UPDATE) and loads into b's slots every stored dossier the batch touches. */
tthc_rc store_load_dossiers(ingest_store *s, ingest_batch *b, tthc_err *err) TTHC_MUSTCHECK;
/* Writes the changed dossiers (COPY new ones; TTHC_ERETRY if one was created concurrently). */
tthc_rc store_write_dossiers(ingest_store *s, const ingest_batch *b, tthc_err *err) TTHC_MUSTCHECK;
/* Adds the buckets' deltas to period_totals (bumping revisions) and notifies tthc_totals. */
tthc_rc store_write_totals(ingest_store *s, const ingest_batch *b, tthc_err *err) TTHC_MUSTCHECK;
/* Gives back the ids claimed among the items [0, limit) whose events were not applied. */
tthc_rc store_release_unapplied(ingest_store *s, ingest_batch *b, size_t limit, tthc_err *err) TTHC_MUSTCHECK;

/* Records a gap (docs/events.md, semantics 6) in consumer_gap and, for
 * action "continue", moves the partition's stored offset from `expected` to
 * `resume_at` (guarded like a batch: TTHC_EFENCED when another owner moved it)
 * in the same transaction.  to_offset and lost are -1 when unknown.  Repeating
 * the same gap (same partition, from_offset, action) records nothing new. */
typedef struct {
    int32_t partition;
    int64_t from_offset, to_offset, lost, log_start, log_end, expected, resume_at;
    const char *reason; /* "deleted" or "beyond_end" */
    const char *action; /* "continue" or "stop" */
} ingest_store_gap;
tthc_rc store_record_gap(ingest_store *s, const ingest_store_gap *g, tthc_err *err) TTHC_MUSTCHECK;

/* Dossiers with facts but no receipt yet: their number (counted up to
 * STORE_PENDING_CAP) and the age in seconds of the oldest (0 if none).  A
 * bounded query on a partial index; outside any transaction. */
#define STORE_PENDING_CAP 100000
tthc_rc store_pending(ingest_store *s, long *count, double *oldest_s, tthc_err *err) TTHC_MUSTCHECK;

#endif
