/* refetch.h - reads one message of the dossier topic again, by offset.
 *
 * A batch keeps the bytes of a message only when it might have to
 * dead-letter them later (receipts, for a conflict).  When PostgreSQL refuses
 * another message's values (rejected_by_store), its original bytes are read
 * again from the topic with this module: a consumer without a group that
 * reads one partition from the given offset.  The cost is paid only then.
 *
 * Ownership: the module owns its librdkafka handle (created at first use). */
#ifndef TTHC_INGEST_REFETCH_H
#define TTHC_INGEST_REFETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "strbuf.h"

typedef struct ingest_refetch ingest_refetch;

/* Copies the strings; connects at the first refetch_one(). */
tthc_rc refetch_new(const char *brokers, const char *topic, int timeout_ms, ingest_refetch **out,
                    tthc_err *err) TTHC_MUSTCHECK;
void refetch_free(ingest_refetch *r);

/* Matches apply_fetch_fn: the key and value of (partition, offset) appended
 * to key / value.  TTHC_ETIMEOUT if it did not arrive within the timeout,
 * TTHC_EKAFKA if the log no longer has it. */
tthc_rc refetch_one(void *r, int32_t partition, int64_t offset, tthc_sb *key, bool *has_key, tthc_sb *value,
                    tthc_err *err) TTHC_MUSTCHECK;

#endif
