/* apply.h - tthc-ingest's exactly-once apply: one batch, one transaction.
 *
 * apply_batch() runs one transaction per batch, each step a primitive of
 * store.h (the SQL) or of batch.h (the fold):
 *   1. move each partition's stored offset from the value this consumer
 *      expects (parts[i].expected) to the batch's next offset (a guarded
 *      upsert: if another instance moved it, or an earlier commit of ours
 *      whose answer was lost did, the batch is fenced: TTHC_EFENCED, nothing
 *      applied);
 *   2. claim the batch's event ids in applied_event (a COPY; if one was
 *      applied before, on any dossier, INSERT ... ON CONFLICT DO NOTHING
 *      RETURNING says which: an event_id is unique across the stream),
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
 * With the turn hooks (two connections, transactions overlapping), the
 * claim of 2 comes first: a batch claims its event ids while the batch
 * handed over before it finishes, then waits for that batch to be done
 * (the turn hook) and only then moves its offsets (1) and goes on with 2-6, so
 * the offsets of a partition still move in order.  Only the claim overlaps:
 * the claimed ids are the batch's own (a repeated id waits for the earlier
 * transaction, then counts as applied), and nothing it locks is needed by
 * the earlier one.  If PostgreSQL then refuses a value, the transaction is
 * rolled back and the batch applied again in the order above, which the
 * bisection needs.
 *
 * Each batch logs one apply_phases line (debug level) with the time of each
 * phase; scripts/bench sums them.
 *
 * Ownership: the store keeps its connection; nothing here keeps batch data. */
#ifndef TTHC_INGEST_APPLY_H
#define TTHC_INGEST_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "err.h"
#include "store.h"
#include "strbuf.h"

/* Sends every reject of the batch not yet acked (marking those acked).  On
 * TTHC_EKAFKA the partitions whose rejects were not taken have dlq_failed set. */
typedef tthc_rc (*ingest_apply_dlq_fn)(void *ctx, ingest_batch *b, tthc_err *err);
/* Reads the original key and value of one message into key / value (the
 * caller's buffers); has_key false for a message without a key. */
typedef tthc_rc (*ingest_apply_fetch_fn)(void *ctx, int32_t partition, int64_t offset, tthc_sb *key, bool *has_key,
                                         tthc_sb *value, tthc_err *err);

/* Commit order of overlapping transactions (two apply connections): the
 * turn hook is called in each transaction of b at BEGIN (first), CLAIM
 * (before the early claim: waits until the batch handed over before b has
 * claimed its own ids, so that it never waits for b's), CLAIMED (after it)
 * and WAIT (before b's offsets move: returns once the batch before b is
 * done; TTHC_ERETRY if that batch started its transaction again meanwhile,
 * whose new claim might wait for b's ids). */
typedef enum { INGEST_TURN_BEGIN, INGEST_TURN_CLAIM, INGEST_TURN_CLAIMED, INGEST_TURN_WAIT } ingest_turn_phase;
typedef tthc_rc (*ingest_apply_turn_fn)(void *ctx, const ingest_batch *b, ingest_turn_phase phase, tthc_err *err);

/* h, or any hook, may be NULL: no DLQ step, rejected_by_store rejects
 * without their original bytes, no ordering with other transactions. */
typedef struct {
    ingest_apply_dlq_fn dlq;
    void *dlq_ctx;
    ingest_apply_fetch_fn fetch;
    void *fetch_ctx;
    ingest_apply_turn_fn turn;
    void *turn_ctx;
} ingest_apply_hooks;

/* b->parts[i].expected is this consumer's belief of that partition's stored
 * offset (-1: none).  On TTHC_OK the batch (without b->blocked partitions)
 * is durably applied.  On failure the transaction is rolled back (the
 * connection closed if that fails too). */
tthc_rc apply_batch(ingest_store *s, ingest_batch *b, const ingest_apply_hooks *h, tthc_err *err) TTHC_MUSTCHECK;

#endif
