/* kafka.h - librdkafka configuration shared by every Kafka client here.
 *
 * tthc_kafka_conf() builds a conf in three layers: bootstrap.servers, the
 * program's defaults (name/value pairs), then every TTHC_KAFKA_<PROPERTY>
 * environment variable, so a secured cluster needs no code change.
 * On success *out is owned by the caller until rd_kafka_new() takes it. */
#ifndef TTHC_KAFKA_H
#define TTHC_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "err.h"

/* defaults: NULL-terminated array of alternating property names and values. */
tthc_rc tthc_kafka_conf(const char *brokers, const char *const *defaults, rd_kafka_conf_t **out,
                        tthc_err *err) TTHC_MUSTCHECK;

/* Sets one property, reporting librdkafka's message on failure. */
tthc_rc tthc_kafka_set(rd_kafka_conf_t *conf, const char *prop, const char *val, tthc_err *err) TTHC_MUSTCHECK;

#endif
