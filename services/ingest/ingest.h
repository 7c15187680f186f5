/* ingest.h - the consumer loop of tthc-ingest: Kafka in, apply_batch out.
 *
 * The loop polls messages into a batch until it holds batch_max messages or
 * batch_ms passed since its first one, then applies it in one transaction.
 * Partitions are positioned from the offsets stored in PostgreSQL when they
 * are assigned, and again after any failed or fenced transaction; Kafka's own
 * committed offsets are written after each commit for lag tools only. */
#ifndef TTHC_INGEST_H
#define TTHC_INGEST_H

#include <signal.h>

#include "err.h"

typedef struct {
    char *brokers, *dsn, *topic, *dlq_topic, *group, *log_level, *metrics_listen;
    char *on_gap; /* "continue" or "stop": what to do when messages to apply are gone (semantics 6) */
    long batch_max, batch_ms, statement_timeout_ms, dlq_flush_ms, max_partitions;
    long unassigned_grace_ms;
    long fetch_wake_ms;     /* wake.h: 0 turns the fetch wake-up off */
    long apply_connections; /* 1, or 2: transactions overlap (apply.h) */
} ingest_config;

/* Runs until tthc_stop_requested (signals.h) is set; returns TTHC_OK after a clean shutdown. */
tthc_rc ingest_run(const ingest_config *cfg, tthc_err *err) TTHC_MUSTCHECK;

#endif
