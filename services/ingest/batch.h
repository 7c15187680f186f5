/* batch.h - one unit of work of tthc-ingest: the messages of one transaction.
 *
 * Messages are parsed as they are added (valid events become items, the rest
 * rejects bound for the DLQ).  Before the transaction the batch lists the
 * dossiers it touches; the store loads their stored state into the slots;
 * batch_fold() then applies the events in consumption order and computes each
 * bucket's counter deltas (unit and province roll-up).
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
typedef struct {
    int32_t partition;
    uint8_t type, channel, applicant_type, scope, id_kind, reuse_source;
    bool has_due, pay_online, electronic, satisfied;
    int64_t offset, ts_ms, received_at, due_at, finished_at;
    uint32_t event_id, dossier_id, unit_code, procedure_code, payment_id; /* arena offsets or BATCH_NONE */
    uint32_t raw, raw_len, key, key_len; /* receipts only: the message, kept for a possible conflict */
} batch_item;

typedef struct {
    int32_t partition;
    int64_t offset, ts_ms;
    char *key, *value;  /* owned copies, unchanged bytes */
    size_t key_len, value_len;
    tthc_reject rej;
    tthc_event_type type; /* for conflicts */
} batch_reject;

typedef struct {
    int32_t partition;
    int64_t first, next; /* first offset seen, offset after the last one */
} batch_part;

typedef struct {
    tthc_dossier d;
    tthc_counts before;
    bool exists; /* a stored row was loaded */
    bool dirty;
} batch_slot;

typedef struct {
    char key[TTHC_UNIT_MAX + 10]; /* "unit|YYYY-MM" */
    char unit[TTHC_UNIT_MAX + 1];
    char period[8];
    tthc_counts delta;
} batch_bucket;

typedef struct {
    batch_item *items;
    size_t nitems, capitems;
    tthc_sb arena;           /* the items' strings */
    batch_reject *rejects;
    size_t nrejects, caprejects;
    batch_part *parts;
    size_t nparts, capparts;
    batch_slot *slots;
    size_t nslots, capslots;
    tthc_strmap slotmap;
    batch_bucket *buckets;
    size_t nbuckets, capbuckets;
    tthc_strmap bucketmap;
    size_t messages;         /* messages added (items + malformed) */
    size_t bytes;            /* payload bytes added */
    size_t applied_by_type[TTHC_EV__COUNT];
    size_t duplicates;       /* events whose event_id was already applied */
} batch;

void batch_init(batch *b);
void batch_free(batch *b);
void batch_reset(batch *b);

/* Number of messages (items + rejects). */
size_t batch_count(const batch *b);

/* Parses one message and keeps it.  Returns 0, or -1 on allocation failure. */
int batch_add(batch *b, int32_t partition, int64_t offset, int64_t ts_ms, const void *key, size_t key_len,
              const void *value, size_t value_len) TTHC_MUSTCHECK;

/* Builds one slot per distinct dossier (state empty, exists = false). */
int batch_prepare_slots(batch *b) TTHC_MUSTCHECK;
/* The slot of a dossier id, or NULL. */
batch_slot *batch_slot_find(batch *b, const char *dossier_id);

/* Applies the items to the loaded slots and fills the bucket deltas; receipt
 * conflicts are appended to the rejects.  -1 on allocation failure. */
int batch_fold(batch *b) TTHC_MUSTCHECK;

/* The dossier id of an item. */
const char *batch_item_dossier(const batch *b, const batch_item *it);
/* Unpacks an item into a full event. */
void batch_item_event(const batch *b, const batch_item *it, tthc_event *ev);

/* True if a bucket's delta is all zero. */
bool batch_bucket_empty(const batch_bucket *bk);

#endif
