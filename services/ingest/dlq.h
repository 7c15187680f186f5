/* dlq.h - the dead-letter producer of tthc-ingest.
 *
 * Each rejected message is produced to the DLQ topic with its original key
 * and, as its value, its original bytes with every id_number value masked and,
 * if it would exceed the producer's message.max.bytes, cut to its first
 * 64 KiB (dlqcopy.h).  Headers: tthc.dlq.reason, tthc.dlq.field,
 * tthc.dlq.detail, tthc.original.topic, tthc.original.partition,
 * tthc.original.offset, tthc.original.timestamp, tthc.dlq.service; for a
 * masked or cut copy also tthc.dlq.masked / tthc.dlq.cut ("true"),
 * tthc.original.size and tthc.original.sha256 (of the original bytes).
 *
 * dlq_send_batch() returns only when the broker acknowledged every reject
 * (idempotent producer, acks=all), so the transaction that moves the offsets
 * past them commits after they are safe.  A crash between the two re-sends
 * them: the DLQ is at-least-once; (topic, partition, offset) identify repeats.
 *
 * A reject the DLQ does not take within the flush timeout (topic missing,
 * access denied, a fatal error of the idempotent producer, which is then
 * recreated) marks its partition dlq_failed and the call returns TTHC_EKAFKA:
 * the caller holds back that partition only.  While the DLQ is failing, one
 * call per backoff period (1 s doubling to 60 s, jittered) really tries,
 * first asking the broker for the topic's metadata (a topic still missing
 * costs one round trip) and then waiting at most 5 s for the acks; the
 * calls in between fail at once, so retries do not stall other partitions.
 *
 * Ownership: the module owns its producer; the main thread may read the
 * counters only while no dlq_send_batch() runs (the worker hand-off). */
#ifndef TTHC_INGEST_DLQ_H
#define TTHC_INGEST_DLQ_H

#include "batch.h"
#include "err.h"

typedef struct ingest_dlq ingest_dlq;

tthc_rc dlq_new(const char *brokers, const char *topic, const char *source_topic, int flush_timeout_ms,
                ingest_dlq **out, tthc_err *err) TTHC_MUSTCHECK;
void dlq_free(ingest_dlq *d);

/* Matches apply_dlq_fn: sends every reject of the batch not acked yet, waits
 * for the acks, marks them acked. */
tthc_rc dlq_send_batch(void *d, ingest_batch *b, tthc_err *err) TTHC_MUSTCHECK;

/* Messages acknowledged so far, per reason. */
const unsigned long *dlq_counts(const ingest_dlq *d);
/* Rejects the DLQ did not take so far (each failed attempt counts). */
unsigned long dlq_failures(const ingest_dlq *d);
/* Why the last failed call failed ("" before any). */
const char *dlq_last_error(const ingest_dlq *d);

#endif
