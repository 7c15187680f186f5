/* store.h - tthc-ingest's PostgreSQL side: positions and exactly-once apply.
 *
 * store_apply() runs one transaction per batch:
 *   1. move each partition's stored offset from the value this consumer
 *      expects to the batch's next offset (a guarded upsert: if another
 *      instance moved it, or an earlier commit of ours whose answer was lost
 *      did, the batch is fenced: TTHC_EFENCED, nothing applied);
 *   2. lock and load the touched dossiers (sorted, FOR UPDATE);
 *   3. fold the events in memory (batch_fold);
 *   4. write changed dossiers and bucket deltas through COPY into temp tables;
 *   5. hand the batch's rejects to the DLQ callback, which must return only
 *      once the broker acknowledged them;
 *   6. COMMIT.
 * A crash anywhere before 6 leaves nothing; after 6 the offsets say so.
 *
 * Ownership: the store owns its connection.  It never keeps batch data. */
#ifndef TTHC_INGEST_STORE_H
#define TTHC_INGEST_STORE_H

#include <stdint.h>

#include "batch.h"
#include "err.h"

typedef struct store store;

typedef tthc_rc (*store_dlq_fn)(void *ctx, const batch *b, tthc_err *err);

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

/* expected[i] is this consumer's belief of parts[i]'s stored offset (-1: none)
 * for b->parts[i].  On TTHC_OK the batch is durably applied. */
tthc_rc store_apply(store *s, batch *b, const int64_t *expected, store_dlq_fn dlq, void *dlq_ctx,
                    tthc_err *err) TTHC_MUSTCHECK;

#endif
