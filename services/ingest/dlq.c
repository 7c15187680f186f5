#include "dlq.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "log.h"

struct dlq {
    rd_kafka_t *rk;
    char *topic, *source_topic;
    int flush_timeout_ms;
    unsigned long failed;                   /* delivery failures since start */
    unsigned long sent[TTHC_REJ__COUNT];    /* acknowledged, per reason */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    dlq *d = opaque;
    (void)rk;
    if (m->err) {
        d->failed++;
        LOG_ERROR("dlq_delivery_failed", "error=\"%s\"", rd_kafka_err2str(m->err));
        return;
    }
    uintptr_t reason = (uintptr_t)m->_private;
    if (reason < TTHC_REJ__COUNT) d->sent[reason]++;
}

tthc_rc dlq_new(const char *brokers, const char *topic, const char *source_topic, int flush_timeout_ms, dlq **out,
                tthc_err *err)
{
    static const char *const defaults[] = {
        "enable.idempotence", "true", "acks", "all", "linger.ms", "5", "message.timeout.ms", "30000",
        "client.id", "tthc-ingest-dlq", NULL,
    };
    dlq *d = calloc(1, sizeof *d);
    if (!d) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    d->topic = strdup(topic);
    d->source_topic = strdup(source_topic);
    d->flush_timeout_ms = flush_timeout_ms;
    if (!d->topic || !d->source_topic) {
        dlq_free(d);
        return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    }
    rd_kafka_conf_t *conf = NULL;
    tthc_rc rc = tthc_kafka_conf(brokers, defaults, &conf, err);
    if (rc) {
        dlq_free(d);
        return rc;
    }
    rd_kafka_conf_set_opaque(conf, d);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char errstr[256];
    d->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!d->rk) {
        rd_kafka_conf_destroy(conf); /* not taken on failure */
        dlq_free(d);
        return tthc_fail(err, TTHC_EKAFKA, "DLQ producer: %s", errstr);
    }
    conf = NULL; /* rd_kafka_new() took ownership */
    *out = d;
    return TTHC_OK;
}

void dlq_free(dlq *d)
{
    if (!d) return;
    if (d->rk) {
        rd_kafka_flush(d->rk, d->flush_timeout_ms);
        rd_kafka_destroy(d->rk);
    }
    free(d->topic);
    free(d->source_topic);
    free(d);
}

const unsigned long *dlq_counts(const dlq *d)
{
    return d->sent;
}

static tthc_rc produce_one(dlq *d, const batch_reject *r, tthc_err *err)
{
    char part[16], off[24], ts[24];
    snprintf(part, sizeof part, "%d", (int)r->partition);
    snprintf(off, sizeof off, "%lld", (long long)r->offset);
    snprintf(ts, sizeof ts, "%lld", (long long)r->ts_ms);
    const char *reason = tthc_reject_reason_name(r->rej.reason);
    rd_kafka_resp_err_t e;
    for (int attempt = 0;; attempt++) {
        e = rd_kafka_producev(
            d->rk, RD_KAFKA_V_TOPIC(d->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(r->key, r->key ? r->key_len : 0), RD_KAFKA_V_VALUE(r->value, r->value_len),
            RD_KAFKA_V_HEADER("tthc.dlq.reason", reason, -1), RD_KAFKA_V_HEADER("tthc.dlq.field", r->rej.field, -1),
            RD_KAFKA_V_HEADER("tthc.dlq.detail", r->rej.detail, -1),
            RD_KAFKA_V_HEADER("tthc.original.topic", d->source_topic, -1),
            RD_KAFKA_V_HEADER("tthc.original.partition", part, -1), RD_KAFKA_V_HEADER("tthc.original.offset", off, -1),
            RD_KAFKA_V_HEADER("tthc.original.timestamp", ts, -1),
            RD_KAFKA_V_HEADER("tthc.dlq.service", "tthc-ingest", -1),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)r->rej.reason), RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || attempt > 100) break;
        rd_kafka_poll(d->rk, 100);
    }
    if (e) return tthc_fail(err, TTHC_EKAFKA, "DLQ produce: %s", rd_kafka_err2str(e));
    return TTHC_OK;
}

tthc_rc dlq_send_batch(void *ctx, const batch *b, tthc_err *err)
{
    dlq *d = ctx;
    unsigned long failed_before = d->failed;
    for (size_t i = 0; i < b->nrejects; i++) {
        tthc_rc rc = produce_one(d, &b->rejects[i], err);
        if (rc) return rc;
    }
    rd_kafka_resp_err_t e = rd_kafka_flush(d->rk, d->flush_timeout_ms);
    if (e) return tthc_fail(err, TTHC_ETIMEOUT, "DLQ flush: %s", rd_kafka_err2str(e));
    if (d->failed != failed_before)
        return tthc_fail(err, TTHC_EKAFKA, "%lu DLQ messages were not delivered", d->failed - failed_before);
    return TTHC_OK;
}
