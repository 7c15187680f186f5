#include "refetch.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "timeutil.h"

struct ingest_refetch {
    char *brokers, *topic;
    int timeout_ms;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
};

tthc_rc refetch_new(const char *brokers, const char *topic, int timeout_ms, ingest_refetch **out, tthc_err *err)
{
    ingest_refetch *r = calloc(1, sizeof *r);
    if (!r) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    r->brokers = strdup(brokers);
    r->topic = strdup(topic);
    r->timeout_ms = timeout_ms;
    if (!r->brokers || !r->topic) {
        refetch_free(r);
        return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    }
    *out = r;
    return TTHC_OK;
}

void refetch_free(ingest_refetch *r)
{
    if (!r) return;
    if (r->rkt) rd_kafka_topic_destroy(r->rkt);
    if (r->rk) rd_kafka_destroy(r->rk);
    free(r->brokers);
    free(r->topic);
    free(r);
}

static tthc_rc open_handle(ingest_refetch *r, tthc_err *err)
{
    static const char *const defaults[] = {
        "client.id",
        "tthc-ingest-refetch",
        "enable.partition.eof",
        "false",
        "enable.auto.commit",
        "false",
        "auto.offset.reset",
        "error", /* a message gone from the log is an error, not another message */
        "enable.auto.offset.store",
        "false",
        "fetch.max.bytes",
        "2097152",
        "queued.max.messages.kbytes",
        "4096",
        NULL,
    };
    tthc_rc rc = tthc_kafka_new(RD_KAFKA_CONSUMER, r->brokers, defaults, NULL, &r->rk, err);
    if (rc) return rc;
    r->rkt = rd_kafka_topic_new(r->rk, r->topic, NULL);
    if (!r->rkt)
        return tthc_fail(err, TTHC_EKAFKA, "refetch topic %s: %s", r->topic, rd_kafka_err2str(rd_kafka_last_error()));
    return TTHC_OK;
}

tthc_rc refetch_one(void *ctx, int32_t partition, int64_t offset, tthc_sb *key, bool *has_key, tthc_sb *value,
                    tthc_err *err)
{
    ingest_refetch *r = ctx;
    *has_key = false;
    if (!r->rk) {
        tthc_rc rc = open_handle(r, err);
        if (rc) return rc;
    }
    if (rd_kafka_consume_start(r->rkt, partition, offset) == -1)
        return tthc_fail(err, TTHC_EKAFKA, "refetch start %s/%d@%lld: %s", r->topic, (int)partition, (long long)offset,
                         rd_kafka_err2str(rd_kafka_last_error()));
    tthc_rc rc = tthc_fail(err, TTHC_ETIMEOUT, "refetch %s/%d@%lld: not read within %d ms", r->topic, (int)partition,
                           (long long)offset, r->timeout_ms);
    int64_t deadline = tthc_mono_ms() + r->timeout_ms;
    for (int64_t left; (left = deadline - tthc_mono_ms()) > 0;) {
        rd_kafka_message_t *m = rd_kafka_consume(r->rkt, partition, left > 200 ? 200 : (int)left);
        if (!m) continue;
        bool done = false;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                rc = tthc_fail(err, TTHC_EKAFKA, "refetch %s/%d@%lld: %s", r->topic, (int)partition, (long long)offset,
                               rd_kafka_message_errstr(m));
                done = m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE;
            }
        } else if (m->offset > offset) {
            rc = tthc_fail(err, TTHC_EKAFKA, "refetch %s/%d@%lld: the log has no such message (next is %lld)", r->topic,
                           (int)partition, (long long)offset, (long long)m->offset);
            done = true;
        } else if (m->offset == offset) {
            rc = TTHC_OK;
            *has_key = m->key != NULL;
            if ((m->key && tthc_sb_add(key, m->key, m->key_len)) || (m->len && tthc_sb_add(value, m->payload, m->len)))
                rc = tthc_fail(err, TTHC_ENOMEM, "out of memory copying a refetched message");
            done = true;
        }
        rd_kafka_message_destroy(m);
        if (done) break;
    }
    rd_kafka_consume_stop(r->rkt, partition);
    return rc;
}
