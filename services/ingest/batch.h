/* batch.h - one unit of work of tthc-ingest: the messages of one transaction.
 *
 * Messages are parsed as they are added (valid events become items, the rest
 * rejects bound for the DLQ).  Before the transaction the batch lists the
 * dossiers it touches and its distinct event ids; the store loads the
 * dossiers' stored state into the slots and marks the event ids applied
 * before (on any dossier: an event_id is unique across the stream);
 * batch_fold() then applies the events in consumption order and computes each
 * bucket's counter deltas (unit and province roll-up).
 *
 * An item the database refuses is excluded (batch_exclude_item) and becomes
 * a reject; a partition whose rejects the DLQ cannot take is taken out of the
 * batch whole (batch_drop_partition) and listed in `blocked`.
 *
 * Ownership: the batch owns copies of everything it keeps; batch_reset()
 * frees per-batch data and keeps capacity; batch_free() frees all. */
#ifndef TTHC_INGEST_BATCH_H
#define TTHC_INGEST_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dossier.h"
#include "event.h"
#include "strbuf.h"
#include "strmap.h"

/* A validated event, packed: its strings live in the batch's arena (offsets,
 * so that the arena may grow).  About 100 bytes, against 560 for a
 * tthc_event, which keeps large batches within the memory budget. */
#define BATCH_NONE UINT32_MAX
/* batch_item.flags */
enum {
    BATCH_EXCLUDED = 1,   /* refused by the database: a reject now, never folded */
    BATCH_DB_APPLIED = 2, /* (first item of its event_id) applied in an earlier transaction */
    BATCH_APPLIED = 4,    /* (first item of its event_id) applied by this batch's fold */
    BATCH_DLQ_ACKED = 8,  /* its conflict reject was acknowledged by the DLQ already */
};

typedef struct {
    int32_t partition;
    uint8_t type, channel, applicant_type, scope, id_kind, reuse_source;
    bool has_due, pay_online, electronic, satisfied;
    uint8_t flags;
    int64_t offset, ts_ms, received_at, due_at, finished_at;
    uint32_t event_id, dossier_id, unit_code, procedure_code, payment_id; /* arena offsets or BATCH_NONE */
    uint32_t len;                                                         /* bytes of the message's value */
    uint32_t raw, raw_len, key, key_len; /* receipts only: the message, kept for a possible conflict */
    uint32_t first, slot; /* set by batch_prepare_slots: the first item of its event_id, its dossier's slot */
} ingest_batch_item;

typedef struct {
    int32_t partition;
    int64_t offset, ts_ms;
    char *key, *value; /* owned copies, unchanged bytes (value may be empty: see rej.detail) */
    size_t key_len, value_len;
    tthc_reject rej;
    tthc_event_type type; /* for conflicts */
    uint32_t item;        /* the item it came from (conflicts, store rejections), or BATCH_NONE */
    bool acked;           /* the DLQ acknowledged it (a retried transaction does not send it again) */
} ingest_batch_reject;

typedef struct {
    int32_t partition;
    int64_t first, next; /* first offset seen, offset after the last one */
    int64_t expected;    /* the stored offset the consumer started the batch from (-1: none); set before apply */
    bool dlq_failed;     /* set by the DLQ sender: a reject of this partition was not taken */
} ingest_batch_part;

typedef struct {
    tthc_dossier d;
    tthc_counts before;
    uint32_t changes_before; /* d.changes when the fold started */
    bool exists;             /* a stored row was loaded */
    bool dirty;              /* a fact changed: the row must be written */
} ingest_batch_slot;

typedef struct {
    char key[TTHC_UNIT_MAX + 10]; /* "unit|YYYY-MM" */
    char unit[TTHC_UNIT_MAX + 1];
    char period[8];
    tthc_counts delta;
} ingest_batch_bucket;

typedef struct {
    ingest_batch_item *items;
    size_t nitems, capitems;
    tthc_sb arena; /* the items' strings */
    ingest_batch_reject *rejects;
    size_t nrejects, caprejects;
    ingest_batch_part *parts;
    size_t nparts, capparts;
    ingest_batch_slot *slots;
    size_t nslots, capslots;
    tthc_strmap slotmap;
    ingest_batch_bucket *buckets;
    size_t nbuckets, capbuckets;
    tthc_strmap bucketmap;
    tthc_strmap evmap; /* event_id -> first item carrying it (built by batch_prepare_slots) */
    size_t nkeep;      /* rejects that stay across folds (malformed, refused by the store) */
    int32_t *blocked;  /* partitions dropped because the DLQ failed them */
    size_t nblocked, capblocked;
    size_t messages; /* messages added (items + malformed) */
    size_t bytes;    /* payload bytes added */
    size_t applied_by_type[TTHC_EV__COUNT];
    size_t duplicates; /* events whose event_id was already applied */
    int64_t parse_us;  /* main thread's time in batch_add() for this batch (measured by the caller) */
    uint64_t seq;      /* hand-off order, set by the caller (1, 2, ...): transactions commit in this order */
} ingest_batch;

void batch_init(ingest_batch *b);
void batch_free(ingest_batch *b);
void batch_reset(ingest_batch *b);

/* Number of messages (items + rejects). */
size_t batch_count(const ingest_batch *b);

/* Parses one message and keeps it.  Returns 0, or -1 on allocation failure. */
int batch_add(ingest_batch *b, int32_t partition, int64_t offset, int64_t ts_ms, const void *key, size_t key_len,
              const void *value, size_t value_len) TTHC_MUSTCHECK;

/* Builds one slot per distinct dossier (state empty, exists = false) and the
 * event-id index of the items that are not excluded (flags of an earlier
 * attempt cleared).  -1 on allocation failure. */
int batch_prepare_slots(ingest_batch *b) TTHC_MUSTCHECK;
/* The slot of a dossier id, or NULL. */
ingest_batch_slot *batch_slot_find(ingest_batch *b, const char *dossier_id);

/* Marks an event id as applied before this batch, or not (after
 * batch_prepare_slots).  Returns false if no item carries it. */
bool batch_mark_applied(ingest_batch *b, const char *event_id, bool applied);

/* Applies the items [0, limit) that are not excluded to the loaded slots, in
 * order, and fills the bucket deltas: an event whose event_id was applied
 * before (marked) or earlier in the batch changes nothing; receipt conflicts
 * are appended to the rejects (those of an earlier fold removed first); the
 * first item of each newly applied event_id gets BATCH_APPLIED.  A slot is
 * dirty when a fact changed.  -1 on allocation failure. */
int batch_fold(ingest_batch *b, size_t limit) TTHC_MUSTCHECK;

/* Item i was refused by the database: excluded from every later fold, and a
 * reject (reason rejected_by_store, detail as given) carrying the original
 * key and value (copied; value NULL: not available, then the detail says so).
 * -1 on allocation failure. */
int batch_exclude_item(ingest_batch *b, size_t i, const char *detail, const void *key, size_t key_len,
                       const void *value, size_t value_len) TTHC_MUSTCHECK;

/* Takes every message of a partition out of the batch (items, rejects, its
 * entry in parts) and lists it in `blocked`.  Slots and the event-id index
 * must be rebuilt (batch_prepare_slots) before the next fold.  -1 on
 * allocation failure (the batch is unchanged). */
int batch_drop_partition(ingest_batch *b, int32_t partition) TTHC_MUSTCHECK;

/* The dossier id of an item. */
const char *batch_item_dossier(const ingest_batch *b, const ingest_batch_item *it);
/* Unpacks an item into a full event. */
void batch_item_event(const ingest_batch *b, const ingest_batch_item *it, tthc_event *ev);

/* True if a bucket's delta is all zero. */
bool batch_bucket_empty(const ingest_batch_bucket *bk);

#endif
