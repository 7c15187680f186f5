#include "observe.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd.h"
#include "lag.h"
#include "log.h"
#include "prom.h"
#include "timeutil.h"

/* part_reset() sets each field by name (not a memset, see there): a field
 * added here needs its line there. */
typedef struct {
    bool assigned;
    int64_t applied;       /* next offset stored in PostgreSQL; -1 unknown */
    int64_t committed;     /* Kafka's committed offset (stats); -1 unknown */
    int64_t hi, lo;        /* watermarks (stats); -1 unknown */
    int64_t pending_ts_ms; /* timestamp of the oldest unapplied message; -1 none known */
    double last_commit;    /* wall time of the last transaction that moved it */
    double lag_seconds;
    tthc_partition_status status;
    bool dlq_blocked;          /* held back: the DLQ did not take one of its rejects */
    tthc_lag_ring ring;        /* (log end, time) samples */
    tthc_burrow_window window; /* (time, applied, log end) samples */
} part_obs;

struct ingest_observe {
    pthread_mutex_t mu;
    char *group, *topic;
    int32_t max_parts;
    part_obs *parts;
    tthc_httpd *httpd;
    /* group */
    char cgrp_state[32];
    unsigned long long rebalances;
    unsigned long fetch_wakeups; /* wake.h's requests */
    double last_rebalance;
    /* counters */
    unsigned long long messages, bytes, batches, fenced;
    unsigned long long applied_by_type[TTHC_EV__COUNT];
    unsigned long dlq[TTHC_REJ__COUNT];
    tthc_prom_hist batch_hist, apply_hist;
    double last_stats, last_commit, last_heartbeat, started;
    bool db_up;
    tthc_group_status group_status;
    unsigned long dlq_failures;
    long pending_dossiers; /* -1: not measured yet */
    double pending_oldest;
    /* readiness */
    long grace_ms;           /* no partitions for longer than this: not ready (0: never) */
    double unassigned_since; /* when the last partition went (start: process start); -1 while some are held */
    double last_event_ts;    /* newest applied event's message timestamp, s; -1 none yet */
    /* broker probe (metadata request every PROBE_INTERVAL_MS) */
    rd_kafka_t *rk;
    pthread_t probe;
    bool probe_started, probe_stop;
    pthread_cond_t probe_cv;
    int probe_state; /* -1 not probed yet, 0 the last probe failed, 1 answered */
    char probe_error[160];
    double broker_last_ok;    /* time of the last answered probe, -1 never */
    int32_t topic_partitions; /* from the last answered probe, -1 unknown */
    /* gaps, per partition, kept across reassignments (counters) */
    unsigned long long *lost, *gaps;
    bool *gap_stopped;
};

#define PROBE_INTERVAL_MS 5000
#define PROBE_TIMEOUT_MS  4000

static double now_s(void)
{
    return (double)tthc_now_us() / 1e6;
}

/* Field by field, not a memset: the sample rings are most of a slot, and a
 * slot of the --max-partitions table that never holds a partition then stays
 * untouched (not resident). */
static void part_reset(part_obs *p)
{
    p->assigned = p->dlq_blocked = false;
    p->lag_seconds = 0;
    p->status = TTHC_PARTITION_OK;
    p->applied = p->committed = p->hi = p->lo = p->pending_ts_ms = -1;
    p->last_commit = -1; /* unknown (0 would read as a commit at the epoch) */
    tthc_lag_ring_init(&p->ring);
    tthc_burrow_init(&p->window);
}

tthc_rc observe_new(const char *group, const char *topic, int32_t max_parts, long grace_ms, ingest_observe **out,
                    tthc_err *err)
{
    static const double batch_le[] = {1, 10, 100, 1000, 5000, 10000, 20000, 50000, 100000};
    static const double apply_le[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    ingest_observe *o = calloc(1, sizeof *o);
    if (!o) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    o->group = strdup(group);
    o->topic = strdup(topic);
    o->parts = calloc((size_t)max_parts, sizeof *o->parts);
    o->lost = calloc((size_t)max_parts, sizeof *o->lost);
    o->gaps = calloc((size_t)max_parts, sizeof *o->gaps);
    o->gap_stopped = calloc((size_t)max_parts, sizeof *o->gap_stopped);
    if (!o->group || !o->topic || !o->parts || !o->lost || !o->gaps || !o->gap_stopped) {
        observe_free(o);
        return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    }
    o->max_parts = max_parts;
    for (int32_t i = 0; i < max_parts; i++) part_reset(&o->parts[i]);
    pthread_mutex_init(&o->mu, NULL);
    pthread_condattr_t ca; /* the probe waits on CLOCK_MONOTONIC */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&o->probe_cv, &ca);
    pthread_condattr_destroy(&ca);
    tthc_prom_hist_init(&o->batch_hist, batch_le, sizeof batch_le / sizeof *batch_le);
    tthc_prom_hist_init(&o->apply_hist, apply_le, sizeof apply_le / sizeof *apply_le);
    snprintf(o->cgrp_state, sizeof o->cgrp_state, "init");
    o->started = o->last_heartbeat = now_s();
    o->pending_dossiers = -1;
    o->grace_ms = grace_ms;
    o->unassigned_since = o->started;
    o->last_event_ts = o->broker_last_ok = -1;
    o->probe_state = -1;
    o->topic_partitions = -1;
    *out = o;
    return TTHC_OK;
}

void observe_free(ingest_observe *o)
{
    if (!o) return;
    observe_probe_stop(o);
    tthc_httpd_stop(o->httpd);
    if (o->parts) {
        pthread_mutex_destroy(&o->mu);
        pthread_cond_destroy(&o->probe_cv);
    }
    free(o->group);
    free(o->topic);
    free(o->parts);
    free(o->lost);
    free(o->gaps);
    free(o->gap_stopped);
    free(o);
}

static part_obs *part(ingest_observe *o, int32_t p)
{
    return p >= 0 && p < o->max_parts ? &o->parts[p] : NULL;
}

static int assigned_count(const ingest_observe *o)
{
    int n = 0;
    for (int32_t i = 0; i < o->max_parts; i++) n += o->parts[i].assigned;
    return n;
}

/* Under mu, after an assignment change. */
static void note_assigned(ingest_observe *o)
{
    if (assigned_count(o)) o->unassigned_since = -1;
    else if (o->unassigned_since < 0) o->unassigned_since = now_s();
}

void observe_assign(ingest_observe *o, int32_t partition, int64_t applied_next)
{
    pthread_mutex_lock(&o->mu);
    part_obs *p = part(o, partition);
    if (p) {
        part_reset(p);
        p->assigned = true;
        p->applied = applied_next;
        p->last_commit = now_s();
    }
    note_assigned(o);
    pthread_mutex_unlock(&o->mu);
}

void observe_revoke(ingest_observe *o, int32_t partition)
{
    pthread_mutex_lock(&o->mu);
    part_obs *p = part(o, partition);
    if (p) part_reset(p);
    note_assigned(o);
    pthread_mutex_unlock(&o->mu);
}

void observe_rebalance(ingest_observe *o)
{
    pthread_mutex_lock(&o->mu);
    o->rebalances++;
    o->last_rebalance = now_s();
    pthread_mutex_unlock(&o->mu);
}

void observe_applied(ingest_observe *o, const ingest_batch *b, double apply_seconds, const unsigned long *dlq_total)
{
    double t = now_s();
    int64_t newest_ms = -1;
    for (size_t i = 0; i < b->nitems; i++)
        if (b->items[i].ts_ms > newest_ms) newest_ms = b->items[i].ts_ms;
    pthread_mutex_lock(&o->mu);
    if (newest_ms >= 0 && (double)newest_ms / 1000.0 > o->last_event_ts) o->last_event_ts = (double)newest_ms / 1000.0;
    for (size_t i = 0; i < b->nparts; i++) {
        part_obs *p = part(o, b->parts[i].partition);
        if (!p) continue;
        p->applied = b->parts[i].next;
        p->last_commit = t;
        p->pending_ts_ms = -1;
    }
    o->messages += batch_count(b);
    o->bytes += b->bytes;
    o->batches++;
    for (int k = 0; k < TTHC_EV__COUNT; k++) o->applied_by_type[k] += b->applied_by_type[k];
    if (dlq_total) memcpy(o->dlq, dlq_total, sizeof o->dlq);
    tthc_prom_hist_observe(&o->batch_hist, (double)batch_count(b));
    tthc_prom_hist_observe(&o->apply_hist, apply_seconds);
    o->last_commit = t;
    pthread_mutex_unlock(&o->mu);
}

void observe_pending_ts(ingest_observe *o, int32_t partition, int64_t ts_ms)
{
    pthread_mutex_lock(&o->mu);
    part_obs *p = part(o, partition);
    if (p && (p->pending_ts_ms < 0 || ts_ms < p->pending_ts_ms)) p->pending_ts_ms = ts_ms;
    pthread_mutex_unlock(&o->mu);
}

void observe_db(ingest_observe *o, bool up)
{
    pthread_mutex_lock(&o->mu);
    o->db_up = up;
    pthread_mutex_unlock(&o->mu);
}

void observe_fenced(ingest_observe *o)
{
    pthread_mutex_lock(&o->mu);
    o->fenced++;
    pthread_mutex_unlock(&o->mu);
}

void observe_heartbeat(ingest_observe *o, unsigned long fetch_wakeups)
{
    pthread_mutex_lock(&o->mu);
    o->last_heartbeat = now_s();
    o->fetch_wakeups = fetch_wakeups;
    pthread_mutex_unlock(&o->mu);
}

void observe_dlq_blocked(ingest_observe *o, int32_t partition, bool blocked, unsigned long dlq_failures)
{
    pthread_mutex_lock(&o->mu);
    part_obs *p = part(o, partition);
    if (p) p->dlq_blocked = blocked;
    o->dlq_failures = dlq_failures;
    pthread_mutex_unlock(&o->mu);
}

void observe_pending_dossiers(ingest_observe *o, long count, bool capped, double oldest_seconds)
{
    (void)capped; /* the help text states the bound */
    pthread_mutex_lock(&o->mu);
    o->pending_dossiers = count;
    o->pending_oldest = oldest_seconds;
    pthread_mutex_unlock(&o->mu);
}

/* ---- broker probe ---- */

/* One metadata request for our topic, bounded by PROBE_TIMEOUT_MS: the
 * broker answered (and how many partitions the topic has), or why not.  A
 * frozen or unreachable broker fails it while librdkafka may still call the
 * connection "UP". */
static void probe_once(ingest_observe *o, rd_kafka_topic_t *rkt)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(o->rk, 0, rkt, &md, PROBE_TIMEOUT_MS);
    int32_t parts = -1;
    if (!e && md) {
        for (int i = 0; i < md->topic_cnt; i++)
            if (!strcmp(md->topics[i].topic, o->topic) && !md->topics[i].err) parts = md->topics[i].partition_cnt;
    }
    if (md) rd_kafka_metadata_destroy(md);
    pthread_mutex_lock(&o->mu);
    bool was = o->probe_state != 0;
    if (e) {
        o->probe_state = 0;
        snprintf(o->probe_error, sizeof o->probe_error, "%s", rd_kafka_err2str(e));
    } else {
        o->probe_state = 1;
        o->broker_last_ok = now_s();
        if (parts >= 0) o->topic_partitions = parts;
    }
    pthread_mutex_unlock(&o->mu);
    if (e && was) LOG_WARN("broker_unreachable", "error=%s timeout_ms=%d", rd_kafka_err2str(e), PROBE_TIMEOUT_MS);
    else if (!e && !was) LOG_INFO("broker_reachable", "topic_partitions=%d", (int)parts);
}

static void *probe_main(void *arg)
{
    ingest_observe *o = arg;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(o->rk, o->topic, NULL);
    pthread_mutex_lock(&o->mu);
    while (!o->probe_stop) {
        pthread_mutex_unlock(&o->mu);
        if (rkt) probe_once(o, rkt);
        struct timespec ts;
        tthc_mono_deadline(&ts, PROBE_INTERVAL_MS);
        pthread_mutex_lock(&o->mu);
        while (!o->probe_stop && pthread_cond_timedwait(&o->probe_cv, &o->mu, &ts) != ETIMEDOUT) {}
    }
    pthread_mutex_unlock(&o->mu);
    if (rkt) rd_kafka_topic_destroy(rkt);
    return NULL;
}

tthc_rc observe_probe_start(ingest_observe *o, rd_kafka_t *rk, tthc_err *err)
{
    o->rk = rk;
    o->probe_stop = false;
    if (pthread_create(&o->probe, NULL, probe_main, o))
        return tthc_fail(err, TTHC_ENOMEM, "cannot start the broker probe");
    o->probe_started = true;
    return TTHC_OK;
}

void observe_probe_stop(ingest_observe *o)
{
    if (!o || !o->probe_started) return;
    pthread_mutex_lock(&o->mu);
    o->probe_stop = true;
    pthread_cond_broadcast(&o->probe_cv);
    pthread_mutex_unlock(&o->mu);
    pthread_join(o->probe, NULL); /* at most PROBE_TIMEOUT_MS: a request in flight */
    o->probe_started = false;
    o->rk = NULL;
}

static int64_t json_i64(const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(it) ? (int64_t)it->valuedouble : -1;
}

/* One statistics tick: watermarks and committed offsets from the stats
 * document, then a lag sample and a status evaluation per assigned partition. */
void observe_stats(ingest_observe *o, const char *json, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return;
    double t = now_s();
    pthread_mutex_lock(&o->mu);
    const cJSON *cgrp = cJSON_GetObjectItemCaseSensitive(root, "cgrp");
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(cgrp, "state");
    if (cJSON_IsString(state)) snprintf(o->cgrp_state, sizeof o->cgrp_state, "%s", state->valuestring);
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(root, "topics");
    const cJSON *tp = cJSON_GetObjectItemCaseSensitive(topics, o->topic);
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(tp, "partitions");
    const cJSON *pj;
    cJSON_ArrayForEach(pj, parts)
    {
        int32_t id = (int32_t)json_i64(pj, "partition");
        part_obs *p = part(o, id);
        if (!p || !p->assigned) continue;
        int64_t hi = json_i64(pj, "hi_offset"), lo = json_i64(pj, "lo_offset");
        int64_t committed = json_i64(pj, "committed_offset");
        if (hi >= 0) p->hi = hi;
        if (lo >= 0) p->lo = lo;
        if (committed >= 0) p->committed = committed;
    }
    tthc_partition_status st[1024];
    size_t nst = 0;
    for (int32_t i = 0; i < o->max_parts; i++) {
        part_obs *p = &o->parts[i];
        if (!p->assigned || p->hi < 0) continue;
        int64_t applied = p->applied >= 0 ? p->applied : (p->lo >= 0 ? p->lo : 0);
        tthc_lag_ring_add(&p->ring, p->hi, t);
        double pending = p->pending_ts_ms >= 0 ? (double)p->pending_ts_ms / 1000.0 : -1.0;
        p->lag_seconds = tthc_lag_seconds(&p->ring, applied, t, pending);
        tthc_burrow_add(&p->window, t, applied, p->hi, p->last_commit);
        p->status = tthc_burrow_eval(&p->window, t);
        if (nst < sizeof st / sizeof *st) st[nst++] = p->status;
    }
    o->group_status = tthc_burrow_group(st, nst);
    o->last_stats = t;
    pthread_mutex_unlock(&o->mu);
    cJSON_Delete(root);
}

/* ---- rendering ---- */

static int render_partitions(ingest_observe *o, tthc_sb *b)
{
    static const struct {
        const char *name, *help;
        int which;
    } gauges[] = {
        {"tthc_ingest_partition_applied_offset", "Next offset to apply, as stored in PostgreSQL with the facts.", 0},
        {"tthc_ingest_partition_committed_offset", "Offset committed to Kafka (written after each database commit).",
         1},
        {"tthc_ingest_partition_high_watermark", "Log-end offset of the partition.", 2},
        {"tthc_ingest_partition_low_watermark", "Oldest offset still in the partition.", 3},
        {"tthc_ingest_partition_lag_seconds", "Age of the oldest unapplied message (0 when caught up).", 4},
    };
    int r = 0;
    char pbuf[16];
    for (size_t g = 0; g < sizeof gauges / sizeof *gauges; g++) {
        r |= tthc_prom_family(b, gauges[g].name, "gauge", gauges[g].help);
        for (int32_t i = 0; i < o->max_parts; i++) {
            part_obs *p = &o->parts[i];
            if (!p->assigned) continue;
            snprintf(pbuf, sizeof pbuf, "%d", (int)i);
            const char *labels[] = {"group", o->group, "topic", o->topic, "partition", pbuf, NULL};
            double v;
            switch (gauges[g].which) {
            case 0: v = (double)p->applied; break;
            case 1: v = (double)p->committed; break;
            case 2: v = (double)p->hi; break;
            case 3: v = (double)p->lo; break;
            default: v = p->lag_seconds; break;
            }
            if (gauges[g].which != 4 && v < 0) continue; /* unknown yet */
            r |= tthc_prom_sample(b, gauges[g].name, labels, v);
        }
    }
    r |= tthc_prom_family(b, "tthc_ingest_partition_lag_messages", "gauge",
                          "Messages between the log end and the applied or committed offset.");
    for (int32_t i = 0; i < o->max_parts; i++) {
        part_obs *p = &o->parts[i];
        if (!p->assigned || p->hi < 0) continue;
        snprintf(pbuf, sizeof pbuf, "%d", (int)i);
        int64_t base = p->lo >= 0 ? p->lo : 0;
        int64_t applied = p->applied >= 0 ? p->applied : base, committed = p->committed >= 0 ? p->committed : base;
        int64_t la = p->hi - applied, lc = p->hi - committed;
        const char *l1[] = {"group", o->group, "topic", o->topic, "partition", pbuf, "offset", "applied", NULL};
        const char *l2[] = {"group", o->group, "topic", o->topic, "partition", pbuf, "offset", "committed", NULL};
        r |= tthc_prom_sample(b, "tthc_ingest_partition_lag_messages", l1, (double)(la > 0 ? la : 0));
        r |= tthc_prom_sample(b, "tthc_ingest_partition_lag_messages", l2, (double)(lc > 0 ? lc : 0));
    }
    r |= tthc_prom_family(b, "tthc_ingest_partition_dlq_blocked", "gauge",
                          "1 while the partition is held back because the DLQ did not take one of its rejects.");
    for (int32_t i = 0; i < o->max_parts; i++) {
        part_obs *p = &o->parts[i];
        if (!p->assigned) continue;
        snprintf(pbuf, sizeof pbuf, "%d", (int)i);
        const char *labels[] = {"topic", o->topic, "partition", pbuf, NULL};
        r |= tthc_prom_sample(b, "tthc_ingest_partition_dlq_blocked", labels, p->dlq_blocked);
    }
    r |= tthc_prom_family(b, "tthc_ingest_partition_status", "gauge",
                          "Burrow-style status of the partition over the sliding window (1 = current).");
    for (int32_t i = 0; i < o->max_parts; i++) {
        part_obs *p = &o->parts[i];
        if (!p->assigned) continue;
        snprintf(pbuf, sizeof pbuf, "%d", (int)i);
        for (int s = 0; s < TTHC_PARTITION_STATUS_COUNT; s++) {
            const char *labels[] = {
                "group",     o->group, "topic",  o->topic,
                "partition", pbuf,     "status", tthc_partition_status_name((tthc_partition_status)s),
                NULL};
            r |= tthc_prom_sample(b, "tthc_ingest_partition_status", labels, p->status == (tthc_partition_status)s);
        }
    }
    return r;
}

static int render_group(ingest_observe *o, tthc_sb *b)
{
    int r = 0, assigned = assigned_count(o);
    const char *g[] = {"group", o->group, NULL};
    const char *gt[] = {"group", o->group, "topic", o->topic, NULL};
    r |= tthc_prom_family(b, "tthc_ingest_group_status", "gauge", "Burrow-style status of the group (1 = current).");
    for (int s = 0; s < TTHC_GROUP_STATUS_COUNT; s++) {
        const char *labels[] = {"group", o->group, "status", tthc_group_status_name((tthc_group_status)s), NULL};
        r |= tthc_prom_sample(b, "tthc_ingest_group_status", labels, o->group_status == (tthc_group_status)s);
    }
    r |= tthc_prom_family(b, "tthc_ingest_group_state", "gauge",
                          "Consumer group state reported by librdkafka (1 = current).");
    const char *sl[] = {"group", o->group, "state", o->cgrp_state, NULL};
    r |= tthc_prom_sample(b, "tthc_ingest_group_state", sl, 1);
    r |= tthc_prom_family(b, "tthc_ingest_group_assigned_partitions", "gauge", "Partitions assigned to this instance.");
    r |= tthc_prom_sample(b, "tthc_ingest_group_assigned_partitions", gt, assigned);
    r |= tthc_prom_family(b, "tthc_ingest_topic_partitions", "gauge",
                          "Partitions of the topic, from the last metadata answer of the broker.");
    if (o->topic_partitions >= 0) r |= tthc_prom_sample(b, "tthc_ingest_topic_partitions", gt, o->topic_partitions);
    r |= tthc_prom_family(b, "tthc_ingest_unassigned_seconds", "gauge",
                          "How long this instance has held no partition (0 while it holds some).");
    r |= tthc_prom_sample(b, "tthc_ingest_unassigned_seconds", g,
                          o->unassigned_since < 0 ? 0 : now_s() - o->unassigned_since);
    r |= tthc_prom_family(b, "tthc_ingest_broker_up", "gauge",
                          "1 if the broker answered the last metadata request (every 5 s, 4 s timeout).");
    r |= tthc_prom_sample(b, "tthc_ingest_broker_up", g, o->probe_state == 1);
    r |= tthc_prom_family(b, "tthc_ingest_broker_last_answer_timestamp_seconds", "gauge",
                          "Time of the last metadata answer of the broker.");
    if (o->broker_last_ok >= 0)
        r |= tthc_prom_sample(b, "tthc_ingest_broker_last_answer_timestamp_seconds", g, o->broker_last_ok);
    r |= tthc_prom_family(b, "tthc_ingest_rebalances_total", "counter", "Rebalance callbacks (assign and revoke).");
    r |= tthc_prom_sample(b, "tthc_ingest_rebalances_total", g, (double)o->rebalances);
    r |= tthc_prom_family(b, "tthc_ingest_fetch_wakeups_total", "counter",
                          "ListOffsets requests sent to wake librdkafka's fetcher while consuming (--fetch-wake-ms).");
    r |= tthc_prom_sample(b, "tthc_ingest_fetch_wakeups_total", g, (double)o->fetch_wakeups);
    r |= tthc_prom_family(b, "tthc_ingest_last_rebalance_timestamp_seconds", "gauge", "Time of the last rebalance.");
    r |= tthc_prom_sample(b, "tthc_ingest_last_rebalance_timestamp_seconds", g, o->last_rebalance);
    return r;
}

static int render_counters(ingest_observe *o, tthc_sb *b)
{
    int r = 0;
    r |= tthc_prom_family(b, "tthc_ingest_messages_total", "counter", "Messages applied or dead-lettered (committed).");
    r |= tthc_prom_sample(b, "tthc_ingest_messages_total", NULL, (double)o->messages);
    r |= tthc_prom_family(b, "tthc_ingest_bytes_total", "counter", "Payload bytes of the committed messages.");
    r |= tthc_prom_sample(b, "tthc_ingest_bytes_total", NULL, (double)o->bytes);
    r |= tthc_prom_family(b, "tthc_ingest_events_applied_total", "counter",
                          "Events that changed a dossier's state, by type (duplicates excluded).");
    for (int k = 0; k < TTHC_EV__COUNT; k++) {
        const char *labels[] = {"type", tthc_event_type_name((tthc_event_type)k), NULL};
        r |= tthc_prom_sample(b, "tthc_ingest_events_applied_total", labels, (double)o->applied_by_type[k]);
    }
    r |= tthc_prom_family(b, "tthc_ingest_dlq_messages_total", "counter",
                          "Messages sent to the dead-letter topic, by reason.");
    for (int k = 1; k < TTHC_REJ__COUNT; k++) {
        const char *labels[] = {"reason", tthc_reject_reason_name((tthc_reject_reason)k), NULL};
        r |= tthc_prom_sample(b, "tthc_ingest_dlq_messages_total", labels, (double)o->dlq[k]);
    }
    r |= tthc_prom_family(
        b, "tthc_ingest_dlq_failures_total", "counter",
        "Rejects the DLQ did not take (topic missing, access denied, producer failure); each attempt counts.");
    r |= tthc_prom_sample(b, "tthc_ingest_dlq_failures_total", NULL, (double)o->dlq_failures);
    if (o->pending_dossiers >= 0) {
        r |= tthc_prom_family(b, "tthc_ingest_pending_dossiers", "gauge",
                              "Dossiers with facts but no dossier.received yet (counted up to 100000).");
        r |= tthc_prom_sample(b, "tthc_ingest_pending_dossiers", NULL, (double)o->pending_dossiers);
        r |= tthc_prom_family(b, "tthc_ingest_pending_oldest_seconds", "gauge",
                              "Age of the oldest dossier with facts but no dossier.received (0 if none).");
        r |= tthc_prom_sample(b, "tthc_ingest_pending_oldest_seconds", NULL, o->pending_oldest);
    }
    unsigned long long gaps = 0;
    int stopped = 0;
    for (int32_t p = 0; p < o->max_parts; p++) {
        gaps += o->gaps[p];
        stopped += o->gap_stopped[p];
    }
    r |= tthc_prom_family(b, "tthc_ingest_gaps_total", "counter",
                          "Times the next message to apply was no longer in the log (retention, a recreated topic).");
    r |= tthc_prom_sample(b, "tthc_ingest_gaps_total", NULL, (double)gaps);
    r |= tthc_prom_family(b, "tthc_ingest_messages_lost_total", "counter",
                          "Messages deleted from the log before they were applied, by partition.");
    for (int32_t p = 0; p < o->max_parts; p++) {
        if (!o->gaps[p]) continue;
        char pn[16];
        snprintf(pn, sizeof pn, "%d", (int)p);
        const char *labels[] = {"topic", o->topic, "partition", pn, NULL};
        r |= tthc_prom_sample(b, "tthc_ingest_messages_lost_total", labels, (double)o->lost[p]);
    }
    r |= tthc_prom_family(b, "tthc_ingest_partitions_stopped_on_gap", "gauge",
                          "Partitions waiting for an operator after a gap (--on-gap stop).");
    r |= tthc_prom_sample(b, "tthc_ingest_partitions_stopped_on_gap", NULL, stopped);
    r |= tthc_prom_family(b, "tthc_ingest_fenced_batches_total", "counter",
                          "Batches dropped because another owner had moved the stored offset.");
    r |= tthc_prom_sample(b, "tthc_ingest_fenced_batches_total", NULL, (double)o->fenced);
    r |= tthc_prom_hist_write(b, "tthc_ingest_batch_messages", "Messages per committed batch.", &o->batch_hist);
    r |= tthc_prom_hist_write(b, "tthc_ingest_apply_duration_seconds", "Time to apply and commit one batch.",
                              &o->apply_hist);
    r |= tthc_prom_family(b, "tthc_ingest_last_stats_timestamp_seconds", "gauge",
                          "Time of the last librdkafka statistics tick.");
    r |= tthc_prom_sample(b, "tthc_ingest_last_stats_timestamp_seconds", NULL, o->last_stats);
    r |= tthc_prom_family(b, "tthc_ingest_last_commit_timestamp_seconds", "gauge",
                          "Time of the last database commit of a batch.");
    r |= tthc_prom_sample(b, "tthc_ingest_last_commit_timestamp_seconds", NULL, o->last_commit);
    r |= tthc_prom_family(b, "tthc_ingest_last_event_timestamp_seconds", "gauge",
                          "Kafka timestamp of the newest event applied (absent until one is).");
    if (o->last_event_ts >= 0)
        r |= tthc_prom_sample(b, "tthc_ingest_last_event_timestamp_seconds", NULL, o->last_event_ts);
    r |= tthc_prom_family(b, "tthc_ingest_db_up", "gauge", "1 if the PostgreSQL connection is usable.");
    r |= tthc_prom_sample(b, "tthc_ingest_db_up", NULL, o->db_up);
    r |= tthc_prom_family(b, "tthc_ingest_start_timestamp_seconds", "gauge", "Process start time.");
    r |= tthc_prom_sample(b, "tthc_ingest_start_timestamp_seconds", NULL, o->started);
    return r;
}

/* Why this instance is not ready, one string per reason (under mu). */
static cJSON *not_ready_reasons(ingest_observe *o, double t)
{
    cJSON *a = cJSON_CreateArray();
    char buf[256];
    if (!a) return NULL;
    if (t - o->last_heartbeat >= 30) {
        snprintf(buf, sizeof buf, "consumer loop stalled: no heartbeat for %.0f s", t - o->last_heartbeat);
        cJSON_AddItemToArray(a, cJSON_CreateString(buf));
    }
    if (!o->db_up) cJSON_AddItemToArray(a, cJSON_CreateString("database unreachable"));
    if (o->probe_state == 0) {
        snprintf(buf, sizeof buf, "broker unreachable: %s", o->probe_error);
        cJSON_AddItemToArray(a, cJSON_CreateString(buf));
    } else if (o->probe_state < 0) {
        cJSON_AddItemToArray(a, cJSON_CreateString("broker not probed yet"));
    }
    if (o->grace_ms > 0 && o->unassigned_since >= 0 && (t - o->unassigned_since) * 1000 > (double)o->grace_ms) {
        snprintf(buf, sizeof buf, "no partitions assigned for %.0f s (grace %.0f s)", t - o->unassigned_since,
                 (double)o->grace_ms / 1000);
        cJSON_AddItemToArray(a, cJSON_CreateString(buf));
    }
    if (strcmp(o->cgrp_state, "up")) {
        snprintf(buf, sizeof buf, "consumer group state %s", o->cgrp_state);
        cJSON_AddItemToArray(a, cJSON_CreateString(buf));
    }
    for (int32_t p = 0; p < o->max_parts; p++) {
        if (!o->gap_stopped[p]) continue;
        /* the words of main's earlier body, for whoever greps them */
        snprintf(buf, sizeof buf, "partition_stopped_on_gap: partition %d stopped on a gap (--on-gap)", (int)p);
        cJSON_AddItemToArray(a, cJSON_CreateString(buf));
    }
    return a;
}

/* Called with o->mu held; releases it before building the answer. */
static void answer_readyz(ingest_observe *o, double t, tthc_http_resp *resp)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *reasons = not_ready_reasons(o, t);
    int assigned = assigned_count(o);
    pthread_mutex_unlock(&o->mu);
    int ready = reasons && cJSON_GetArraySize(reasons) == 0;
    char *text = NULL;
    if (root && reasons) {
        cJSON_AddStringToObject(root, "status", ready ? "ready" : "not_ready");
        cJSON_AddNumberToObject(root, "partitions", assigned);
        if (!ready) cJSON_AddItemToObject(root, "reasons", reasons);
        else cJSON_Delete(reasons);
        reasons = NULL;
        text = cJSON_PrintUnformatted(root);
    }
    cJSON_Delete(reasons);
    cJSON_Delete(root);
    if (text) (void)tthc_http_resp_set(resp, ready ? 200 : 503, "application/json", text, strlen(text));
    else (void)tthc_http_resp_set(resp, 500, "application/json", "{\"error\":\"out_of_memory\"}", 26);
    free(text);
}

static void handle(void *ctx, const tthc_http_req *req, tthc_http_resp *resp)
{
    ingest_observe *o = ctx;
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        (void)tthc_http_resp_set(resp, 405, "application/json", "{\"error\":\"method_not_allowed\"}", 30);
        return;
    }
    double t = now_s();
    pthread_mutex_lock(&o->mu);
    if (!strcmp(req->path, "/metrics")) {
        tthc_sb b;
        tthc_sb_init(&b, 16u << 20);
        int r = render_partitions(o, &b) | render_group(o, &b) | render_counters(o, &b);
        pthread_mutex_unlock(&o->mu);
        if (r) {
            tthc_sb_free(&b);
            (void)tthc_http_resp_set(resp, 500, "text/plain", "metrics too large\n", 18);
            return;
        }
        (void)tthc_http_resp_set(resp, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.len);
        tthc_sb_free(&b);
        return;
    }
    if (!strcmp(req->path, "/readyz")) {
        answer_readyz(o, t, resp); /* unlocks */
        return;
    }
    bool live = t - o->last_heartbeat < 30;
    pthread_mutex_unlock(&o->mu);
    if (!strcmp(req->path, "/healthz")) {
        if (live) (void)tthc_http_resp_set(resp, 200, "application/json", "{\"status\":\"ok\"}", 15);
        else (void)tthc_http_resp_set(resp, 503, "application/json", "{\"status\":\"stalled\"}", 20);
    } else {
        (void)tthc_http_resp_set(resp, 404, "application/json", "{\"error\":\"not_found\"}", 21);
    }
}

tthc_rc observe_serve(ingest_observe *o, const char *listen, tthc_err *err)
{
    if (!listen || !*listen) return TTHC_OK;
    tthc_httpd_opts opts = {.listen = listen, .handler = handle, .ctx = o, .timeout_s = 10};
    tthc_rc rc = tthc_httpd_start(&opts, &o->httpd, err);
    if (!rc) LOG_INFO("metrics_listening", "listen=%s port=%u", listen, tthc_httpd_port(o->httpd));
    return rc;
}

void observe_gap(ingest_observe *o, int32_t partition, int64_t lost, bool stopped)
{
    pthread_mutex_lock(&o->mu);
    if (part(o, partition)) {
        o->gaps[partition]++;
        o->lost[partition] += lost > 0 ? (unsigned long long)lost : 0;
        o->gap_stopped[partition] = stopped;
    }
    pthread_mutex_unlock(&o->mu);
}
