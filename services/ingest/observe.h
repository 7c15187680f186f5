/* observe.h - what operators see of tthc-ingest: /metrics, /healthz, /readyz.
 *
 * The main thread reports events (assignments, applied batches, statistics
 * ticks from librdkafka); the HTTP thread renders them.  Every call takes the
 * module's lock, so both sides may call at any time.
 *
 * Per assigned partition it keeps: applied offset (stored in PostgreSQL),
 * Kafka's committed offset, low/high watermarks, lag in messages against
 * both, lag in seconds (from a ring of log-end samples, see common/lag.h) and
 * a Burrow-style status over a sliding window.  Series of a revoked
 * partition disappear.  Lag is computed from raw offsets: librdkafka 2.0.2
 * reports consumer_lag as -1 in several cases, and
 * rd_kafka_query_watermark_offsets is never called (it can hang).
 *
 * /readyz answers 503 with {"status":"not_ready","reasons":[...]} when the
 * consumer loop stalled, PostgreSQL is unreachable, the broker did not answer
 * the last metadata probe, the instance has held no partition for longer
 * than the grace, or the group is not up; else 200 {"status":"ready"}. */
#ifndef TTHC_INGEST_OBSERVE_H
#define TTHC_INGEST_OBSERVE_H

#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "batch.h"
#include "err.h"

typedef struct ingest_observe ingest_observe;

/* grace_ms: /readyz answers 503 once the instance has held no partition for
 * longer than this (0: never, e.g. for standby replicas). */
tthc_rc observe_new(const char *group, const char *topic, int32_t max_parts, long grace_ms, ingest_observe **out,
                    tthc_err *err) TTHC_MUSTCHECK;
void observe_free(ingest_observe *o);

/* Starts the HTTP endpoint (listen NULL or "" = none). */
tthc_rc observe_serve(ingest_observe *o, const char *listen, tthc_err *err) TTHC_MUSTCHECK;

/* Starts a thread that sends a metadata request for the topic through rk
 * every 5 s (4 s timeout): broker reachability and the topic's partition
 * count, for /metrics and /readyz.  rk stays the caller's; call
 * observe_probe_stop() before destroying it (observe_free() does too). */
tthc_rc observe_probe_start(ingest_observe *o, rd_kafka_t *rk, tthc_err *err) TTHC_MUSTCHECK;
void observe_probe_stop(ingest_observe *o);

void observe_assign(ingest_observe *o, int32_t partition, int64_t applied_next);
void observe_revoke(ingest_observe *o, int32_t partition);
void observe_rebalance(ingest_observe *o);
/* A batch was committed to PostgreSQL after apply_seconds. dlq_total: the DLQ
 * producer's acknowledged counts per reason so far. */
void observe_applied(ingest_observe *o, const ingest_batch *b, double apply_seconds, const unsigned long *dlq_total);
/* The oldest unapplied message's timestamp (ms) of a partition, -1 if none. */
void observe_pending_ts(ingest_observe *o, int32_t partition, int64_t ts_ms);
/* A librdkafka statistics JSON document (called on the poll thread). */
void observe_stats(ingest_observe *o, const char *json, size_t len);
void observe_db(ingest_observe *o, bool up);
/* A gap (docs/events.md, semantics 6) on partition: `lost` messages are gone
 * (0 when unknown); stopped: the partition waits for an operator. */
void observe_gap(ingest_observe *o, int32_t partition, int64_t lost, bool stopped);
void observe_fenced(ingest_observe *o);
/* The main loop is alive (once a second); fetch_wakeups: wake_requests() so far. */
void observe_heartbeat(ingest_observe *o, unsigned long fetch_wakeups);
/* A partition is held back (or no longer) because the DLQ did not take one of
 * its rejects; dlq_failures: rejects the DLQ did not take so far. */
void observe_dlq_blocked(ingest_observe *o, int32_t partition, bool blocked, unsigned long dlq_failures);
/* Dossiers with facts but no receipt: how many (capped: the count stopped at
 * its bound) and the age of the oldest in seconds. */
void observe_pending_dossiers(ingest_observe *o, long count, bool capped, double oldest_seconds);

#endif
