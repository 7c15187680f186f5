/* dlq.h - the dead-letter producer of tthc-ingest.
 *
 * Each rejected message is produced to the DLQ topic with its original key and
 * value unchanged, plus headers: tthc.dlq.reason, tthc.dlq.field,
 * tthc.dlq.detail, tthc.original.topic, tthc.original.partition,
 * tthc.original.offset, tthc.original.timestamp, tthc.dlq.service.
 * dlq_send_batch() returns only when the broker acknowledged every message
 * (idempotent producer, acks=all), so the transaction that moves the offsets
 * past them commits after they are safe.  A crash between the two re-sends
 * them: the DLQ is at-least-once; (topic, partition, offset) identify repeats. */
#ifndef TTHC_INGEST_DLQ_H
#define TTHC_INGEST_DLQ_H

#include "batch.h"
#include "err.h"

typedef struct dlq dlq;

tthc_rc dlq_new(const char *brokers, const char *topic, const char *source_topic, int flush_timeout_ms, dlq **out,
                tthc_err *err) TTHC_MUSTCHECK;
void dlq_free(dlq *d);

/* Matches store_dlq_fn: sends every reject of the batch and waits for the acks. */
tthc_rc dlq_send_batch(void *d, const batch *b, tthc_err *err) TTHC_MUSTCHECK;

/* Messages acknowledged so far, per reason. */
const unsigned long *dlq_counts(const dlq *d);

#endif
