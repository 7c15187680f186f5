/* kafka.h - librdkafka configuration shared by every Kafka client here.
 *
 * tthc_kafka_conf() builds a conf in three layers: bootstrap.servers, the
 * program's defaults (name/value pairs), then every TTHC_KAFKA_<PROPERTY>
 * environment variable, so a secured cluster needs no code change.
 * On success *out is owned by the caller until rd_kafka_new() takes it.
 * The conf routes librdkafka's own log lines into the project's logger
 * (tthc_kafka_log_cb), so that every line a program writes is logfmt. */
#ifndef TTHC_KAFKA_H
#define TTHC_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "err.h"

/* defaults: NULL-terminated array of alternating property names and values. */
tthc_rc tthc_kafka_conf(const char *brokers, const char *const *defaults, rd_kafka_conf_t **out,
                        tthc_err *err) TTHC_MUSTCHECK;

/* Sets one property, reporting librdkafka's message on failure. */
tthc_rc tthc_kafka_set(rd_kafka_conf_t *conf, const char *prop, const char *val, tthc_err *err) TTHC_MUSTCHECK;

/* librdkafka's log callback (rd_kafka_conf_set_log_cb): one logfmt line,
 * event=rdkafka with facility= and msg=; syslog levels 0-3 are errors, 4-5
 * warnings, 6 info, 7 debug.  Thread-safe (called from librdkafka's threads). */
void tthc_kafka_log_cb(const rd_kafka_t *rk, int level, const char *facility, const char *msg);

#endif
