/* wake.h - keeps librdkafka's fetcher busy while a backlog is consumed.
 *
 * librdkafka before 2.2 (Debian 12 ships 2.0.2) stops fetching a partition
 * whose local queue is over queued.min.messages or queued.max.messages.kbytes,
 * and its broker thread looks at that partition again only when something
 * wakes it: an operation for that broker, a socket event, or its hard-coded
 * one-second timeout (rd_kafka_max_block_ms in rdkafka_broker.c).  A queue
 * small enough for the memory budget is drained by the consumer in a few
 * milliseconds, and the consumer then starves for the rest of that second
 * (librdkafka 2.2 added fetch.queue.backoff.ms for exactly this).
 *
 * While messages are being consumed, a thread of this module sends every
 * interval_ms a ListOffsets request (rd_kafka_offsets_for_times, latest) for
 * the assigned partitions.  Handing a request to a broker is an operation on
 * that broker's thread, so each partition leader's thread wakes, re-evaluates
 * its partitions and fetches those whose queue has drained.  An idle consumer
 * sends nothing.  The answer is not used; a failed request costs nothing but
 * a debug line (the next interval sends another).
 *
 * Thread safety: wake_consumed() may be called from any thread, as often as
 * every message (one relaxed atomic store); the rest from the owner only.
 * Ownership: the handle is the caller's and must outlive the module. */
#ifndef TTHC_INGEST_WAKE_H
#define TTHC_INGEST_WAKE_H

#include <librdkafka/rdkafka.h>

#include "err.h"

typedef struct ingest_wake ingest_wake;

/* Starts the thread (interval_ms > 0), or returns a handle that does nothing
 * (interval_ms == 0). */
tthc_rc wake_start(rd_kafka_t *rk, int interval_ms, ingest_wake **out, tthc_err *err) TTHC_MUSTCHECK;

/* Notes that a message was consumed (the next interval sends a request). */
void wake_consumed(ingest_wake *w);

/* Requests sent so far (for the metrics and tests). */
unsigned long wake_requests(const ingest_wake *w);

/* Stops the thread (waits for a request in flight, at most its timeout) and
 * frees.  NULL is a no-op. */
void wake_stop(ingest_wake *w);

#endif
