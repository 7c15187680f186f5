/* store.h - tthc-ingest's PostgreSQL side: positions and exactly-once apply.
 *
 * store_apply() runs one transaction per batch:
 *   1. move each partition's stored offset from the value this consumer
 *      expects (parts[i].expected) to the batch's next offset (a guarded
 *      upsert: if another instance moved it, or an earlier commit of ours
 *      whose answer was lost did, the batch is fenced: TTHC_EFENCED, nothing
 *      applied);
 *   2. claim the batch's event ids in applied_event (one INSERT ... ON
 *      CONFLICT DO NOTHING RETURNING: the ids not returned were applied
 *      before, on any dossier: an event_id is unique across the stream),
 *      lock and load the touched dossiers (sorted, FOR NO KEY UPDATE);
 *   3. fold the events in memory (batch_fold);
 *   4. write changed dossiers and bucket deltas through COPY into temp
 *      tables; give back the ids of events not applied (conflicts);
 *   5. hand the batch's rejects to the DLQ hook, which must return only once
 *      the broker acknowledged them;
 *   6. COMMIT.
 * A crash anywhere before 6 leaves nothing; after 6 the offsets say so.
 *
 * Steps 2-4 run inside a savepoint.  If PostgreSQL refuses a value (SQLSTATE
 * class 22 or 23), the refused message is found by bisection, excluded, and
 * becomes a rejected_by_store reject carrying the original bytes (from the
 * fetch hook); the rest is applied.  If the DLQ hook fails some partitions
 * (TTHC_EKAFKA, parts[i].dlq_failed), the transaction is rolled back, those
 * partitions are dropped from the batch (listed in b->blocked) and the rest
 * is applied.  Outages (connection lost, classes 08, 53, 57, 58) and every
 * other failure return an error with nothing applied.
 *
 * Ownership: the store owns its connection.  It never keeps batch data. */
#ifndef TTHC_INGEST_STORE_H
#define TTHC_INGEST_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "err.h"
#include "strbuf.h"

typedef struct store store;

/* Sends every reject of the batch not yet acked (marking those acked).  On
 * TTHC_EKAFKA the partitions whose rejects were not taken have dlq_failed set. */
typedef tthc_rc (*store_dlq_fn)(void *ctx, batch *b, tthc_err *err);
/* Reads the original key and value of one message into key / value (the
 * caller's buffers); has_key false for a message without a key. */
typedef tthc_rc (*store_fetch_fn)(void *ctx, int32_t partition, int64_t offset, tthc_sb *key, bool *has_key,
                                  tthc_sb *value, tthc_err *err);

typedef struct {
    store_dlq_fn dlq;
    void *dlq_ctx;
    store_fetch_fn fetch;
    void *fetch_ctx;
} store_hooks;

/* Copies the strings.  Does not connect yet. */
tthc_rc store_new(const char *dsn, const char *group, const char *topic, int statement_timeout_ms, store **out,
                  tthc_err *err) TTHC_MUSTCHECK;
void store_free(store *s);

/* (Re)connects and prepares the session (temp tables, statements). */
tthc_rc store_connect(store *s, tthc_err *err) TTHC_MUSTCHECK;
int store_connected(const store *s);
void store_disconnect(store *s);

/* For each partition, the stored next offset or -1 if none. */
tthc_rc store_load_offsets(store *s, const int32_t *parts, size_t n, int64_t *next, tthc_err *err) TTHC_MUSTCHECK;

/* Transaction helpers: BEGIN, COMMIT, ROLLBACK of the session's transaction. */
tthc_rc store_begin(store *s, tthc_err *err) TTHC_MUSTCHECK;
tthc_rc store_commit(store *s, tthc_err *err) TTHC_MUSTCHECK;
tthc_rc store_rollback(store *s, tthc_err *err) TTHC_MUSTCHECK;
/* The one savepoint, `attempt`: set, rolled back to, released. */
tthc_rc store_savepoint(store *s, tthc_err *err) TTHC_MUSTCHECK;
tthc_rc store_savepoint_rollback(store *s, tthc_err *err) TTHC_MUSTCHECK;
tthc_rc store_savepoint_release(store *s, tthc_err *err) TTHC_MUSTCHECK;

/* Moves each partition's offset from parts[i].expected to parts[i].next; TTHC_EFENCED if one was not there. */
tthc_rc store_move_offsets(store *s, const batch *b, tthc_err *err) TTHC_MUSTCHECK;
/* Claims the event ids of the items [0, limit) in applied_event; those claimed before get BATCH_DB_APPLIED. */
tthc_rc store_claim_ids(store *s, batch *b, size_t limit, tthc_err *err) TTHC_MUSTCHECK;
/* Locks (FOR NO KEY UPDATE) and loads into b's slots every stored dossier the batch touches. */
tthc_rc store_load_dossiers(store *s, batch *b, tthc_err *err) TTHC_MUSTCHECK;
/* Writes the changed dossiers (COPY new ones; TTHC_ERETRY if one was created concurrently). */
tthc_rc store_write_dossiers(store *s, const batch *b, tthc_err *err) TTHC_MUSTCHECK;
/* Adds the buckets' deltas to period_totals (bumping revisions) and notifies tthc_totals. */
tthc_rc store_write_totals(store *s, const batch *b, tthc_err *err) TTHC_MUSTCHECK;
/* Gives back the ids claimed among the items [0, limit) whose events were not applied. */
tthc_rc store_release_unapplied(store *s, batch *b, size_t limit, tthc_err *err) TTHC_MUSTCHECK;

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
} store_gap;
tthc_rc store_record_gap(store *s, const store_gap *g, tthc_err *err) TTHC_MUSTCHECK;

/* b->parts[i].expected is this consumer's belief of that partition's stored
 * offset (-1: none).  On TTHC_OK the batch (without b->blocked partitions)
 * is durably applied. */
tthc_rc store_apply(store *s, batch *b, const store_hooks *h, tthc_err *err) TTHC_MUSTCHECK;

/* Dossiers with facts but no receipt yet: their number (counted up to
 * STORE_PENDING_CAP) and the age in seconds of the oldest (0 if none).  A
 * bounded query on a partial index; outside any transaction. */
#define STORE_PENDING_CAP 100000
tthc_rc store_pending(store *s, long *count, double *oldest_s, tthc_err *err) TTHC_MUSTCHECK;

#endif
