#include "kafka.h"

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

tthc_rc tthc_kafka_set(rd_kafka_conf_t *conf, const char *prop, const char *val, tthc_err *err)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, prop, val, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        return tthc_fail(err, TTHC_EINVAL, "kafka property %s: %s", prop, errstr);
    return TTHC_OK;
}

static int set_from_env(void *ctx, const char *prop, const char *val, tthc_err *err)
{
    return tthc_kafka_set(ctx, prop, val, err) ? -1 : 0;
}

tthc_rc tthc_kafka_conf(const char *brokers, const char *const *defaults, rd_kafka_conf_t **out, tthc_err *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, tthc_kafka_log_cb);
    tthc_rc rc = tthc_kafka_set(conf, "bootstrap.servers", brokers, err);
    for (size_t i = 0; !rc && defaults && defaults[i]; i += 2)
        rc = tthc_kafka_set(conf, defaults[i], defaults[i + 1], err);
    if (!rc) rc = tthc_config_kafka_env(set_from_env, conf, err);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        *out = NULL;
        return rc;
    }
    *out = conf;
    return TTHC_OK;
}
