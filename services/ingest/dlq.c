#include "dlq.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlqcopy.h"
#include "kafka.h"
#include "log.h"
#include "timeutil.h"

/* Delivery state of one reject during a call. */
typedef struct {
    rd_kafka_resp_err_t err;
    bool pending, sent, force_cut;
} slot_state;

struct ingest_dlq {
    char *brokers; /* to recreate the producer after a fatal error */
    rd_kafka_t *rk;
    char *topic, *source_topic;
    int flush_timeout_ms;
    size_t max_bytes; /* the producer's message.max.bytes */
    uint32_t gen;     /* call number: delivery reports of an older call are ignored */
    slot_state *st;
    size_t stcap, pending;
    bool degraded;       /* the last attempt failed */
    int64_t retry_at_ms; /* while degraded: no attempt before (others fail at once) */
    int backoff_ms;      /* between attempts while degraded: 1 s doubling to 60 s, jittered */
    tthc_sb copy;
    unsigned long failures;              /* rejects not taken, every attempt */
    tthc_err last;                       /* why the last call failed */
    unsigned long sent[TTHC_REJ__COUNT]; /* acknowledged, per reason */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    ingest_dlq *d = opaque;
    (void)rk;
    uintptr_t tag = (uintptr_t)m->_private;
    uint32_t gen = (uint32_t)(tag >> 32);
    size_t idx = (size_t)(tag & 0xffffffffu);
    if (gen != d->gen || idx >= d->stcap || !d->st[idx].pending) return; /* a report for an earlier call */
    d->st[idx].pending = false;
    d->st[idx].err = m->err;
    d->pending--;
}

static tthc_rc make_producer(ingest_dlq *d, tthc_err *err)
{
    static const char *const defaults[] = {
        "enable.idempotence",
        "true",
        "acks",
        "all",
        "linger.ms",
        "5",
        "message.timeout.ms",
        "30000",
        "client.id",
        "tthc-ingest-dlq",
        /* a missing DLQ topic is reported after 2 s instead of 30 (the call is retried with backoff) */
        "topic.metadata.propagation.max.ms",
        "2000",
        NULL,
    };
    const tthc_kafka_setup setup = {.opaque = d, .dr_msg_cb = on_delivery};
    tthc_rc rc = tthc_kafka_new(RD_KAFKA_PRODUCER, d->brokers, defaults, &setup, &d->rk, err);
    if (rc) return rc;
    char v[32];
    size_t vlen = sizeof v;
    d->max_bytes = 1000000;
    if (rd_kafka_conf_get(rd_kafka_conf(d->rk), "message.max.bytes", v, &vlen) == RD_KAFKA_CONF_OK)
        d->max_bytes = strtoul(v, NULL, 10);
    return TTHC_OK;
}

tthc_rc dlq_new(const char *brokers, const char *topic, const char *source_topic, int flush_timeout_ms,
                ingest_dlq **out, tthc_err *err)
{
    ingest_dlq *d = calloc(1, sizeof *d);
    if (!d) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    d->brokers = strdup(brokers);
    d->topic = strdup(topic);
    d->source_topic = strdup(source_topic);
    d->flush_timeout_ms = flush_timeout_ms;
    tthc_sb_init(&d->copy, (size_t)256 << 20);
    if (!d->brokers || !d->topic || !d->source_topic) {
        dlq_free(d);
        return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    }
    tthc_rc rc = make_producer(d, err);
    if (rc) {
        dlq_free(d);
        return rc;
    }
    *out = d;
    return TTHC_OK;
}

static void destroy_producer(ingest_dlq *d)
{
    if (!d->rk) return;
    rd_kafka_purge(d->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(d->rk, 0);
    rd_kafka_destroy(d->rk);
    d->rk = NULL;
}

void dlq_free(ingest_dlq *d)
{
    if (!d) return;
    if (d->rk) {
        rd_kafka_flush(d->rk, d->flush_timeout_ms);
        destroy_producer(d);
    }
    free(d->brokers);
    free(d->topic);
    free(d->source_topic);
    free(d->st);
    tthc_sb_free(&d->copy);
    free(d);
}

const unsigned long *dlq_counts(const ingest_dlq *d)
{
    return d->sent;
}

unsigned long dlq_failures(const ingest_dlq *d)
{
    return d->failures;
}

const char *dlq_last_error(const ingest_dlq *d)
{
    return d->last.msg;
}

/* Queues one reject (its copy built here); on success the delivery report
 * arrives through on_delivery with tag. */
static rd_kafka_resp_err_t produce_one(ingest_dlq *d, const ingest_batch_reject *r, bool force_cut, uintptr_t tag)
{
    char part[16], off[24], ts[24], size[24];
    snprintf(part, sizeof part, "%d", (int)r->partition);
    snprintf(off, sizeof off, "%lld", (long long)r->offset);
    snprintf(ts, sizeof ts, "%lld", (long long)r->ts_ms);
    const char *reason = tthc_reject_reason_name(r->rej.reason);
    /* Room for the key, the headers and the record's framing. */
    size_t overhead = r->key_len + strlen(r->rej.field) + strlen(r->rej.detail) + strlen(d->source_topic) + 1024;
    size_t max_value = d->max_bytes > overhead ? d->max_bytes - overhead : 0;
    ingest_dlqcopy_info info;
    if (dlqcopy_build(r->value, r->value_len, max_value, force_cut, &d->copy, &info))
        return RD_KAFKA_RESP_ERR__FAIL; /* out of memory */
    snprintf(size, sizeof size, "%zu", info.original_size);
    rd_kafka_headers_t *h = rd_kafka_headers_new(12);
    rd_kafka_header_add(h, "tthc.dlq.reason", -1, reason, -1);
    rd_kafka_header_add(h, "tthc.dlq.field", -1, r->rej.field, -1);
    rd_kafka_header_add(h, "tthc.dlq.detail", -1, r->rej.detail, -1);
    rd_kafka_header_add(h, "tthc.original.topic", -1, d->source_topic, -1);
    rd_kafka_header_add(h, "tthc.original.partition", -1, part, -1);
    rd_kafka_header_add(h, "tthc.original.offset", -1, off, -1);
    rd_kafka_header_add(h, "tthc.original.timestamp", -1, ts, -1);
    rd_kafka_header_add(h, "tthc.dlq.service", -1, "tthc-ingest", -1);
    if (info.masked) rd_kafka_header_add(h, "tthc.dlq.masked", -1, "true", -1);
    if (info.cut) rd_kafka_header_add(h, "tthc.dlq.cut", -1, "true", -1);
    if (info.masked || info.cut) {
        rd_kafka_header_add(h, "tthc.original.size", -1, size, -1);
        rd_kafka_header_add(h, "tthc.original.sha256", -1, info.sha256, -1);
    }
    rd_kafka_resp_err_t e;
    int64_t deadline = tthc_mono_ms() + d->flush_timeout_ms;
    for (;;) {
        e = rd_kafka_producev(d->rk, RD_KAFKA_V_TOPIC(d->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_KEY(r->key, r->key ? r->key_len : 0),
                              RD_KAFKA_V_VALUE(d->copy.p ? d->copy.p : "", d->copy.len), RD_KAFKA_V_HEADERS(h),
                              RD_KAFKA_V_OPAQUE((void *)tag), RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || tthc_mono_ms() >= deadline) break;
        rd_kafka_poll(d->rk, 100);
    }
    if (e) rd_kafka_headers_destroy(h); /* taken by producev only on success */
    return e;
}

/* Asks the broker whether the DLQ topic exists and may be written (after a
 * failure, so that a topic still missing is found in one round trip). */
static rd_kafka_resp_err_t probe_topic(ingest_dlq *d)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(d->rk, d->topic, NULL);
    if (!rkt) return rd_kafka_last_error();
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(d->rk, 0, rkt, &md, 5000);
    if (!e && md) e = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return e;
}

/* One round: queues every reject in it, waits for the reports (bounded). */
static void send_round(ingest_dlq *d, ingest_batch *b, int wait_ms)
{
    uint64_t g = d->gen;
    for (size_t i = 0; i < b->nrejects; i++) {
        slot_state *s = &d->st[i];
        if (b->rejects[i].acked || s->sent) continue;
        s->sent = true;
        s->pending = true;
        d->pending++;
        rd_kafka_resp_err_t e = produce_one(d, &b->rejects[i], s->force_cut, (uintptr_t)(g << 32 | i));
        if (e) {
            s->pending = false;
            s->err = e;
            d->pending--;
        }
    }
    int64_t deadline = tthc_mono_ms() + wait_ms;
    while (d->pending && tthc_mono_ms() < deadline) rd_kafka_poll(d->rk, 100);
    if (d->pending) { /* not acknowledged in time: give them up (a later call sends them again) */
        rd_kafka_purge(d->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(d->rk, 100);
        for (size_t i = 0; i < b->nrejects; i++)
            if (d->st[i].pending) {
                d->st[i].pending = false;
                d->st[i].err = RD_KAFKA_RESP_ERR__TIMED_OUT;
            }
        d->pending = 0;
    }
}

tthc_rc dlq_send_batch(void *ctx, ingest_batch *b, tthc_err *err)
{
    ingest_dlq *d = ctx;
    if (d->stcap < b->nrejects) {
        slot_state *p = realloc(d->st, sizeof *p * b->nrejects);
        if (!p) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
        d->st = p;
        d->stcap = b->nrejects;
    }
    d->gen++;
    d->pending = 0;
    size_t todo = 0;
    for (size_t i = 0; i < b->nrejects; i++) {
        d->st[i] = (slot_state){0};
        todo += !b->rejects[i].acked;
    }
    if (!todo) return TTHC_OK;
    /* While the DLQ is failing, one real attempt per backoff period: the
     * others fail at once, so that held-back partitions retrying do not
     * stall the batches of the rest. */
    int64_t now = tthc_mono_ms();
    if (d->degraded && now < d->retry_at_ms) {
        for (size_t i = 0; i < b->nrejects; i++)
            if (!b->rejects[i].acked)
                for (size_t p = 0; p < b->nparts; p++)
                    if (b->parts[p].partition == b->rejects[i].partition) b->parts[p].dlq_failed = true;
        if (err) *err = d->last;
        return TTHC_EKAFKA;
    }
    tthc_err perr = {{0}};
    rd_kafka_resp_err_t probe = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!d->rk && make_producer(d, &perr)) probe = RD_KAFKA_RESP_ERR__INVALID_ARG; /* still cannot create it */
    else if (d->degraded) probe = probe_topic(d);
    /* a failing DLQ gets at most 5 s an attempt (a healthy one answers in milliseconds) */
    int wait = d->degraded && d->flush_timeout_ms > 5000 ? 5000 : d->flush_timeout_ms;
    if (probe) {
        for (size_t i = 0; i < b->nrejects; i++) d->st[i] = (slot_state){.err = probe, .sent = true};
    } else {
        send_round(d, b, wait);
        /* A copy the broker found too large (the topic's own max.message.bytes) is cut and sent again. */
        bool again = false;
        for (size_t i = 0; i < b->nrejects; i++)
            if (d->st[i].sent && d->st[i].err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && !d->st[i].force_cut) {
                d->st[i] = (slot_state){.force_cut = true};
                again = true;
            }
        if (again) send_round(d, b, wait);
    }
    size_t failed = 0;
    rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (size_t i = 0; i < b->nrejects; i++) {
        ingest_batch_reject *r = &b->rejects[i];
        if (r->acked || !d->st[i].sent) continue;
        if (!d->st[i].err) {
            r->acked = true;
            if (r->item != BATCH_NONE) b->items[r->item].flags |= BATCH_DLQ_ACKED;
            if (r->rej.reason < TTHC_REJ__COUNT) d->sent[r->rej.reason]++;
            continue;
        }
        failed++;
        last = d->st[i].err;
        for (size_t p = 0; p < b->nparts; p++)
            if (b->parts[p].partition == r->partition) b->parts[p].dlq_failed = true;
    }
    char fatal[256] = "";
    if (d->rk && rd_kafka_fatal_error(d->rk, fatal, sizeof fatal)) {
        LOG_ERROR("dlq_producer_fatal", "error=\"%s\" action=recreate", fatal);
        destroy_producer(d);
        if (make_producer(d, &perr)) LOG_ERROR("dlq_producer_recreate_failed", "error=\"%s\"", perr.msg);
    }
    d->failures += failed;
    d->degraded = failed > 0;
    if (!failed) {
        d->backoff_ms = 0;
        return TTHC_OK;
    }
    d->backoff_ms = d->backoff_ms ? (d->backoff_ms >= 30000 ? 60000 : d->backoff_ms * 2) : 1000;
    d->retry_at_ms = tthc_mono_ms() + d->backoff_ms / 2 + rand() % (d->backoff_ms / 2 + 1);
    tthc_fail(&d->last, TTHC_EKAFKA, "%zu DLQ messages of topic %s not taken: %s%s%s", failed, d->topic,
              rd_kafka_err2str(last), *fatal ? "; producer fatal: " : "", fatal);
    if (err) *err = d->last;
    return TTHC_EKAFKA;
}
