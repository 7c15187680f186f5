#include "producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "log.h"

struct emit_producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *topic;
    int64_t delivered, failed;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    emit_producer *p = opaque;
    (void)rk;
    if (!m->err) {
        p->delivered++;
        return;
    }
    p->failed++;
    if (p->failed <= 5 || p->failed % 10000 == 0)
        LOG_WARN("delivery_failed", "failed=%lld error=\"%s\"", (long long)p->failed, rd_kafka_err2str(m->err));
}

static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    char q[300];
    LOG_WARN("kafka_error", "code=%s reason=%s", rd_kafka_err2name((rd_kafka_resp_err_t)code),
             tthc_log_quote(q, sizeof q, reason));
}

tthc_rc emit_producer_new(const char *brokers, const char *topic, long message_timeout_ms, emit_producer **out,
                          tthc_err *err)
{
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%ld", message_timeout_ms);
    const char *const defaults[] = {
        "client.id",
        "tthc-emit",
        "enable.idempotence",
        "true", /* no duplicates or reordering from retries */
        "compression.type",
        "lz4",
        "linger.ms",
        "20",
        "batch.num.messages",
        "10000",
        "queue.buffering.max.messages",
        "200000",
        "queue.buffering.max.kbytes",
        "262144",
        "message.timeout.ms",
        timeout,
        NULL,
    };
    *out = NULL;
    emit_producer *p = calloc(1, sizeof *p);
    if (!p) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    const tthc_kafka_setup setup = {.opaque = p, .dr_msg_cb = on_delivery, .error_cb = on_error};
    tthc_rc rc = tthc_kafka_new(RD_KAFKA_PRODUCER, brokers, defaults, &setup, &p->rk, err);
    if (rc) {
        free(p);
        return rc;
    }
    p->topic = rd_kafka_topic_new(p->rk, topic, NULL);
    if (!p->topic) {
        rc = tthc_fail(err, TTHC_EKAFKA, "topic %s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_destroy(p->rk);
        free(p);
        return rc;
    }
    *out = p;
    return TTHC_OK;
}

tthc_rc emit_producer_send(emit_producer *p, const char *key, size_t key_len, const char *value, size_t len,
                           volatile sig_atomic_t *stop, tthc_err *err)
{
    for (;;) {
        if (rd_kafka_produce(p->topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)value, len, key, key_len,
                             NULL) == 0)
            break;
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) return tthc_fail(err, TTHC_EKAFKA, "produce: %s", rd_kafka_err2str(e));
        if (stop && *stop) return tthc_fail(err, TTHC_ETIMEOUT, "stopped while the producer queue was full");
        rd_kafka_poll(p->rk, 50);
    }
    rd_kafka_poll(p->rk, 0);
    return TTHC_OK;
}

void emit_producer_poll(emit_producer *p, int timeout_ms)
{
    rd_kafka_poll(p->rk, timeout_ms);
}

int64_t emit_producer_flush(emit_producer *p, int timeout_ms)
{
    rd_kafka_flush(p->rk, timeout_ms);
    int64_t left = rd_kafka_outq_len(p->rk);
    if (left > 0) {
        /* Give up on them: purged messages get a failed delivery report. */
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        for (int i = 0; i < 20 && rd_kafka_outq_len(p->rk) > 0; i++) rd_kafka_poll(p->rk, 100);
    }
    return left;
}

void emit_producer_counts(const emit_producer *p, int64_t *delivered, int64_t *failed)
{
    *delivered = p->delivered;
    *failed = p->failed;
}

void emit_producer_free(emit_producer *p)
{
    if (!p) return;
    rd_kafka_topic_destroy(p->topic);
    rd_kafka_destroy(p->rk);
    free(p);
}
