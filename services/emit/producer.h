/* producer.h - the Kafka side of tthc-emit: an idempotent, lz4-compressed
 * librdkafka producer that keys each message by dossier id and counts
 * deliveries as the broker acknowledges them.
 *
 * Configuration: bootstrap servers, the emitter's defaults, then every
 * TTHC_KAFKA_<PROPERTY> variable (common/kafka.h).  The producer owns its
 * librdkafka handle; emit_producer_free() destroys it (after a flush, or
 * dropping what is still queued). */
#ifndef EMIT_PRODUCER_H
#define EMIT_PRODUCER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct emit_producer emit_producer;

tthc_rc emit_producer_new(const char *brokers, const char *topic, long message_timeout_ms, emit_producer **out,
                          tthc_err *err) TTHC_MUSTCHECK;

/* Queues one message (copied).  While the local queue is full it serves
 * delivery reports and retries, until *stop is set (then TTHC_ETIMEOUT). */
tthc_rc emit_producer_send(emit_producer *p, const char *key, size_t key_len, const char *value, size_t len,
                           volatile sig_atomic_t *stop, tthc_err *err) TTHC_MUSTCHECK;

/* Serves delivery reports for up to timeout_ms. */
void emit_producer_poll(emit_producer *p, int timeout_ms);

/* Waits up to timeout_ms for every queued message; returns how many were
 * still not acknowledged.  Those are purged and counted as failed. */
int64_t emit_producer_flush(emit_producer *p, int timeout_ms);

void emit_producer_counts(const emit_producer *p, int64_t *delivered, int64_t *failed);

void emit_producer_free(emit_producer *p);

#endif
