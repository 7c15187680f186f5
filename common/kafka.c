#include "kafka.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

void tthc_kafka_log_cb(const rd_kafka_t *rk, int level, const char *facility, const char *msg)
{
    const char *name = rk ? rd_kafka_name(rk) : "-";
    if (level <= 3) LOG_ERROR("rdkafka", "client=%s facility=%s msg=%s", name, facility, msg);
    else if (level <= 5) LOG_WARN("rdkafka", "client=%s facility=%s msg=%s", name, facility, msg);
    else if (level == 6) LOG_INFO("rdkafka", "client=%s facility=%s msg=%s", name, facility, msg);
    else LOG_DEBUG("rdkafka", "client=%s facility=%s msg=%s", name, facility, msg);
}

/* The properties that librdkafka (CONFIGURATION.md, column C/P) applies to
 * one kind of handle only and that can be set as strings; callbacks are left
 * out.  Sorted for bsearch; tests/unit/test_kafka.c checks it against the
 * linked librdkafka's own table (rd_kafka_conf_properties_show). */
typedef struct {
    const char *name;
    char role;
} prop_role;

static const prop_role roles[] = {
    {"acks", 'P'},
    {"auto.commit.enable", 'C'},
    {"auto.commit.interval.ms", 'C'},
    {"auto.offset.reset", 'C'},
    {"batch.num.messages", 'P'},
    {"batch.size", 'P'},
    {"check.crcs", 'C'},
    {"compression.codec", 'P'},
    {"compression.level", 'P'},
    {"compression.type", 'P'},
    {"consume.callback.max.messages", 'C'},
    {"coordinator.query.interval.ms", 'C'},
    {"delivery.report.only.error", 'P'},
    {"delivery.timeout.ms", 'P'},
    {"enable.auto.commit", 'C'},
    {"enable.auto.offset.store", 'C'},
    {"enable.gapless.guarantee", 'P'},
    {"enable.idempotence", 'P'},
    {"enable.partition.eof", 'C'},
    {"fetch.error.backoff.ms", 'C'},
    {"fetch.max.bytes", 'C'},
    {"fetch.message.max.bytes", 'C'},
    {"fetch.min.bytes", 'C'},
    {"fetch.wait.max.ms", 'C'},
    {"group.id", 'C'},
    {"group.instance.id", 'C'},
    {"group.protocol.type", 'C'},
    {"heartbeat.interval.ms", 'C'},
    {"isolation.level", 'C'},
    {"linger.ms", 'P'},
    {"max.partition.fetch.bytes", 'C'},
    {"max.poll.interval.ms", 'C'},
    {"message.send.max.retries", 'P'},
    {"message.timeout.ms", 'P'},
    {"offset.store.method", 'C'},
    {"offset.store.path", 'C'},
    {"offset.store.sync.interval.ms", 'C'},
    {"partition.assignment.strategy", 'C'},
    {"partitioner", 'P'},
    {"produce.offset.report", 'P'},
    {"queue.buffering.backpressure.threshold", 'P'},
    {"queue.buffering.max.kbytes", 'P'},
    {"queue.buffering.max.messages", 'P'},
    {"queue.buffering.max.ms", 'P'},
    {"queued.max.messages.kbytes", 'C'},
    {"queued.min.messages", 'C'},
    {"queuing.strategy", 'P'},
    {"request.required.acks", 'P'},
    {"request.timeout.ms", 'P'},
    {"retries", 'P'},
    {"retry.backoff.ms", 'P'},
    {"session.timeout.ms", 'C'},
    {"sticky.partitioning.linger.ms", 'P'},
    {"transaction.timeout.ms", 'P'},
    {"transactional.id", 'P'},
};

static int cmp_role(const void *key, const void *elem)
{
    return strcmp(key, ((const prop_role *)elem)->name);
}

char tthc_kafka_prop_role(const char *prop)
{
    const prop_role *r = bsearch(prop, roles, sizeof roles / sizeof roles[0], sizeof roles[0], cmp_role);
    if (!r) return '*';
    return r->role;
}

static tthc_rc set_prop(rd_kafka_conf_t *conf, const char *prop, const char *val, tthc_err *err)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, prop, val, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        return tthc_fail(err, TTHC_EINVAL, "kafka property %s: %s", prop, errstr);
    return TTHC_OK;
}

typedef struct {
    rd_kafka_conf_t *conf;
    rd_kafka_type_t type;
} env_ctx;

static int set_from_env(void *ctx, const char *prop, const char *val, tthc_err *err)
{
    const env_ctx *e = ctx;
    char role = tthc_kafka_prop_role(prop), mine = e->type == RD_KAFKA_PRODUCER ? 'P' : 'C';
    if (role != '*' && role != mine) {
        LOG_DEBUG("kafka_conf", "property=%s skipped=true reason=%s", prop,
                  role == 'C' ? "consumer-only" : "producer-only");
        return 0;
    }
    return set_prop(e->conf, prop, val, err) ? -1 : 0;
}

tthc_rc tthc_kafka_new(rd_kafka_type_t type, const char *brokers, const char *const *defaults,
                       const tthc_kafka_setup *setup, rd_kafka_t **out, tthc_err *err)
{
    static const tthc_kafka_setup none;
    if (!setup) setup = &none;
    *out = NULL;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf) return tthc_fail(err, TTHC_ENOMEM, "rd_kafka_conf_new failed");
    rd_kafka_conf_set_log_cb(conf, setup->quiet ? NULL : tthc_kafka_log_cb);
    tthc_rc rc = set_prop(conf, "bootstrap.servers", brokers, err);
    for (size_t i = 0; !rc && defaults && defaults[i]; i += 2) rc = set_prop(conf, defaults[i], defaults[i + 1], err);
    if (!rc) rc = tthc_config_kafka_env(set_from_env, &(env_ctx){conf, type}, err);
    if (!rc && setup->group_id) rc = set_prop(conf, "group.id", setup->group_id, err);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    if (setup->opaque) rd_kafka_conf_set_opaque(conf, setup->opaque);
    if (setup->error_cb) rd_kafka_conf_set_error_cb(conf, setup->error_cb);
    if (setup->stats_cb) rd_kafka_conf_set_stats_cb(conf, setup->stats_cb);
    if (setup->dr_msg_cb) rd_kafka_conf_set_dr_msg_cb(conf, setup->dr_msg_cb);
    if (setup->rebalance_cb) rd_kafka_conf_set_rebalance_cb(conf, setup->rebalance_cb);
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (!rk) {
        char id[128] = "-";
        size_t idlen = sizeof id;
        if (rd_kafka_conf_get(conf, "client.id", id, &idlen) != RD_KAFKA_CONF_OK) strcpy(id, "-");
        rd_kafka_conf_destroy(conf); /* rd_kafka_new() takes conf only on success */
        return tthc_fail(err, TTHC_EKAFKA, "kafka %s %s: %s", type == RD_KAFKA_PRODUCER ? "producer" : "consumer", id,
                         errstr);
    }
    *out = rk;
    return TTHC_OK;
}
