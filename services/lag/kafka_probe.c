#include "kafka_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "kafka.h"
#include "log.h"
#include "timeutil.h"

struct lag_probe {
    rd_kafka_t *rk;
};

tthc_rc lag_probe_open(const char *brokers, const char *group, lag_probe **out, tthc_err *err)
{
    static const char *const defaults[] = {
        "client.id",
        "tthc-lag",
        "enable.auto.commit",
        "false",
        "enable.auto.offset.store",
        "false",
        "enable.partition.eof",
        "false",
        "auto.offset.reset",
        "earliest", /* a timestamp probe below the log start reads the first message */
        "log.connection.close",
        "false",
        NULL,
    };
    *out = NULL;
    lag_probe *p = calloc(1, sizeof *p);
    if (!p) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    tthc_rc rc =
        tthc_kafka_new(RD_KAFKA_CONSUMER, brokers, defaults, &(tthc_kafka_setup){.group_id = group}, &p->rk, err);
    if (rc) {
        free(p);
        return rc;
    }
    rd_kafka_poll_set_consumer(p->rk);
    *out = p;
    return TTHC_OK;
}

void lag_probe_close(lag_probe *p)
{
    if (!p) return;
    /* Never subscribed: close has no group to leave and nothing to commit. */
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(p->rk);
    if (e) LOG_DEBUG("consumer_close", "error=%s", rd_kafka_err2name(e));
    rd_kafka_destroy(p->rk);
    free(p);
}

tthc_rc lag_probe_partitions(lag_probe *p, const char *topic, int timeout_ms, int *count, tthc_err *err)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(p->rk, topic, NULL);
    if (!rkt) return tthc_fail(err, TTHC_EKAFKA, "topic %s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(p->rk, 0, rkt, &md, timeout_ms);
    tthc_rc rc = TTHC_OK;
    if (e) {
        rc = tthc_fail(err, e == RD_KAFKA_RESP_ERR__TIMED_OUT ? TTHC_ETIMEOUT : TTHC_EKAFKA, "metadata of topic %s: %s",
                       topic, rd_kafka_err2str(e));
    } else if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt <= 0) {
        rd_kafka_resp_err_t te = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        rc = tthc_fail(err, TTHC_EKAFKA, "topic %s: %s", topic, te ? rd_kafka_err2str(te) : "no partitions");
    } else {
        *count = md->topics[0].partition_cnt;
    }
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return rc;
}

static rd_kafka_topic_partition_list_t *rows_list(const lag_row *rows, size_t n, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(l, rows[i].topic, rows[i].partition)->offset = offset;
    return l;
}

static lag_row *find_row(lag_row *rows, size_t n, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].partition == partition && !strcmp(rows[i].topic, topic)) return &rows[i];
    return NULL;
}

/* ListOffsets for every row at `which` (OFFSET_END or OFFSET_BEGINNING). */
static tthc_rc list_offsets(lag_probe *p, lag_row *rows, size_t n, int64_t which, int timeout_ms, tthc_err *err)
{
    rd_kafka_topic_partition_list_t *l = rows_list(rows, n, which);
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(p->rk, l, timeout_ms);
    tthc_rc rc = TTHC_OK;
    if (e) {
        rc = tthc_fail(err, e == RD_KAFKA_RESP_ERR__TIMED_OUT ? TTHC_ETIMEOUT : TTHC_EKAFKA, "ListOffsets (%s): %s",
                       which == RD_KAFKA_OFFSET_END ? "latest" : "earliest", rd_kafka_err2str(e));
    } else {
        for (int i = 0; i < l->cnt; i++) {
            const rd_kafka_topic_partition_t *tp = &l->elems[i];
            lag_row *r = find_row(rows, n, tp->topic, tp->partition);
            if (!r) continue;
            int64_t v = tp->err || tp->offset < 0 ? -1 : tp->offset;
            if (tp->err)
                LOG_WARN("list_offsets_failed", "topic=%s partition=%d error=%s", tp->topic, (int)tp->partition,
                         rd_kafka_err2name(tp->err));
            if (which == RD_KAFKA_OFFSET_END) r->log_end = v;
            else r->log_start = v;
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

tthc_rc lag_probe_watermarks(lag_probe *p, lag_row *rows, size_t n, int with_start, int timeout_ms, tthc_err *err)
{
    int64_t start = tthc_mono_ms();
    tthc_rc rc = list_offsets(p, rows, n, RD_KAFKA_OFFSET_END, timeout_ms, err);
    if (rc || !with_start) return rc;
    int left = timeout_ms - (int)(tthc_mono_ms() - start);
    if (left <= 0) return tthc_fail(err, TTHC_ETIMEOUT, "ListOffsets (earliest): no time left");
    return list_offsets(p, rows, n, RD_KAFKA_OFFSET_BEGINNING, left, err);
}

tthc_rc lag_probe_committed(lag_probe *p, lag_row *rows, size_t n, int timeout_ms, tthc_err *err)
{
    rd_kafka_topic_partition_list_t *l = rows_list(rows, n, RD_KAFKA_OFFSET_INVALID);
    rd_kafka_resp_err_t e = rd_kafka_committed(p->rk, l, timeout_ms);
    tthc_rc rc = TTHC_OK;
    if (e) {
        rc = tthc_fail(err, e == RD_KAFKA_RESP_ERR__TIMED_OUT ? TTHC_ETIMEOUT : TTHC_EKAFKA,
                       "committed offsets (OffsetFetch): %s", rd_kafka_err2str(e));
    } else {
        for (int i = 0; i < l->cnt; i++) {
            lag_row *r = find_row(rows, n, l->elems[i].topic, l->elems[i].partition);
            if (r) r->committed = l->elems[i].err || l->elems[i].offset < 0 ? -1 : l->elems[i].offset;
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

tthc_rc lag_probe_timestamps(lag_probe *p, lag_row *rows, size_t n, const int64_t *want, int timeout_ms, tthc_err *err)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    size_t pending = 0;
    for (size_t i = 0; i < n; i++) {
        if (want[i] < 0) continue;
        rd_kafka_topic_partition_list_add(l, rows[i].topic, rows[i].partition)->offset = want[i];
        pending++;
    }
    if (!pending) {
        rd_kafka_topic_partition_list_destroy(l);
        return TTHC_OK;
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(p->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) return tthc_fail(err, TTHC_EKAFKA, "assign for timestamps: %s", rd_kafka_err2str(e));
    int64_t deadline = tthc_mono_ms() + timeout_ms;
    while (pending) {
        int64_t left = deadline - tthc_mono_ms();
        if (left <= 0) break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(p->rk, left < 100 ? (int)left : 100);
        if (!m) continue;
        if (!m->err && m->rkt) {
            lag_row *r = find_row(rows, n, rd_kafka_topic_name(m->rkt), m->partition);
            rd_kafka_timestamp_type_t type;
            int64_t ts = rd_kafka_message_timestamp(m, &type);
            if (r && r->next_ts_ms < 0 && ts >= 0 && type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) {
                r->next_ts_ms = ts;
                pending--;
            }
        } else if (m->err) {
            LOG_DEBUG("timestamp_probe", "error=%s", rd_kafka_err2name(m->err));
        }
        rd_kafka_message_destroy(m);
    }
    if (pending) LOG_INFO("timestamp_probe", "missing=%zu timeout_ms=%d", pending, timeout_ms);
    e = rd_kafka_assign(p->rk, NULL);
    if (e) return tthc_fail(err, TTHC_EKAFKA, "unassign: %s", rd_kafka_err2str(e));
    return TTHC_OK;
}
