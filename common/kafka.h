/* kafka.h - the one way to create a librdkafka handle here.
 *
 * tthc_kafka_new() builds the handle's conf in four layers, then creates it:
 *   1. bootstrap.servers;
 *   2. the program's defaults (name/value pairs);
 *   3. every TTHC_KAFKA_<PROPERTY> environment variable (tthc_config_kafka_env),
 *      so a secured cluster needs no code change; a property that librdkafka
 *      marks as consumer-only (C) is skipped for a producer handle and a
 *      producer-only one (P) for a consumer handle (one environment serves
 *      both kinds of handle of a program, without CONFWARN warnings);
 *   4. the setup: group.id, the opaque and the callbacks.
 * librdkafka's own log lines go to the project's logger (tthc_kafka_log_cb),
 * so that every line a program writes is logfmt.  The conf never escapes:
 * rd_kafka_new() takes it on success, tthc_kafka_new() destroys it on every
 * failure.  (services/kafka-dev hosts librdkafka's mock cluster with a bare
 * handle of its own: no brokers, no TTHC_KAFKA_* properties.) */
#ifndef TTHC_KAFKA_H
#define TTHC_KAFKA_H

#include <stdbool.h>

#include <librdkafka/rdkafka.h>

#include "err.h"

/* What a handle needs beyond properties.  Zero-initialize, then set what is
 * needed; a NULL callback is not installed. */
typedef struct {
    const char *group_id; /* group.id, applied after the TTHC_KAFKA_* properties (NULL: none) */
    void *opaque;         /* passed to every callback below */
    bool quiet;           /* drop librdkafka's log lines (a helper whose parent logs the same trouble) */
    void (*error_cb)(rd_kafka_t *rk, int err, const char *reason, void *opaque);
    int (*stats_cb)(rd_kafka_t *rk, char *json, size_t json_len, void *opaque);
    void (*dr_msg_cb)(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque);
    void (*rebalance_cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts, void *opaque);
} tthc_kafka_setup;

/* Creates a producer or consumer handle (see above).  defaults: NULL or a
 * NULL-terminated array of alternating property names and values; setup may
 * be NULL.  *out is NULL on failure: TTHC_EINVAL for a refused property (its
 * name and librdkafka's reason in err), TTHC_EKAFKA if rd_kafka_new() fails. */
tthc_rc tthc_kafka_new(rd_kafka_type_t type, const char *brokers, const char *const *defaults,
                       const tthc_kafka_setup *setup, rd_kafka_t **out, tthc_err *err) TTHC_MUSTCHECK;

/* Which kind of handle a property is for, per librdkafka's CONFIGURATION.md
 * column C/P: 'C' consumer only, 'P' producer only, '*' both (or unknown). */
char tthc_kafka_prop_role(const char *prop);

/* librdkafka's log callback (rd_kafka_conf_set_log_cb): one logfmt line,
 * event=rdkafka with facility= and msg=; syslog levels 0-3 are errors, 4-5
 * warnings, 6 info, 7 debug.  Thread-safe (called from librdkafka's threads). */
void tthc_kafka_log_cb(const rd_kafka_t *rk, int level, const char *facility, const char *msg);

#endif
