#include "ingest.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "batch.h"
#include "dlq.h"
#include "kafka.h"
#include "log.h"
#include "observe.h"
#include "refetch.h"
#include "signals.h"
#include "store.h"
#include "timeutil.h"
#include "wake.h"

typedef struct {
    bool assigned;
    bool positioned;    /* fetch position set from the stored offset */
    int64_t expected;   /* stored next offset as this process believes it; -1 none */
    int64_t consumed;   /* offset after the last message added to a batch */
    bool pending_noted; /* the oldest unapplied message's time was reported */
    bool dlq_blocked;   /* the DLQ did not take a reject of it: paused until dlq_retry_ms */
    int64_t dlq_retry_ms;
    int dlq_backoff_ms;   /* capped exponential, with jitter; 0 after a commit */
    bool gap_stopped;     /* stopped on a gap (--on-gap stop): paused until an operator acts */
    int64_t gap_retry_ms; /* >0: the watermarks could not be read; seek again at this time */
    int64_t to_commit;    /* next offset applied but not yet committed to Kafka; -1 none */
} part_state;

/* Kafka's committed offsets are for operators' tools only (positions come
 * from PostgreSQL), so they are sent at most this often: one OffsetCommit per
 * small batch queues up on the coordinator's connection, and the heartbeats
 * behind it (one request at a time per connection) time the session out. */
enum { KAFKA_COMMIT_EVERY_MS = 1000 };

/* The partitions' retry times (DLQ backoff of 1 s and more, watermark retries
 * after 1 s) are looked at this often, not once per message: the pass walks
 * every partition slot (--max-partitions, 4096 by default), and once per
 * message it was most of the main thread's time under a backlog. */
enum { RETRY_SCAN_EVERY_MS = 20 };

/* Messages handled in one go once librdkafka has them (consume_burst): about
 * a millisecond of parsing under a backlog, so a finished batch or a due
 * timer waits no longer than that. */
enum { BURST_MAX = 512 };

/* The apply worker: one thread that runs apply_batch() on a full batch while
 * the main thread polls and parses the next one.  Hand-off protocol: the main
 * thread only touches the store (and the in-flight batch) when the worker is
 * idle, i.e. after worker_collect(). */
typedef struct {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool started, has_job, done, quit;
    ingest_batch *job;
    tthc_rc rc;
    tthc_err err;
    int64_t started_ms;
} worker;

typedef struct {
    const ingest_config *cfg;
    rd_kafka_t *rk;
    ingest_store *st;
    ingest_dlq *dq;
    ingest_refetch *rf;
    ingest_apply_hooks hooks;
    ingest_observe *obs;
    ingest_wake *wk;
    ingest_batch bufs[2];
    ingest_batch *cur;      /* being filled by the main thread */
    ingest_batch *inflight; /* handed to the worker, or NULL */
    worker w;
    int64_t batch_started_ms;
    part_state *parts;
    int32_t max_parts;
    bool need_reposition;
    bool db_up; /* main thread's view: connected, and no failure collected since */
    int64_t next_connect_ms;
    int backoff_ms;
    int failed_batches;      /* in a row: spaces out the reconnections after failures */
    int64_t last_pending_ms; /* last refresh of the pending-dossier gauges */
    /* counters for logs and metrics */
    unsigned long long messages, bytes, applied, batches, fenced, failures, rebalances;
    unsigned long long applied_by_type[TTHC_EV__COUNT];
    int64_t last_report_ms, last_beat_ms;
    int64_t last_commit_ms; /* last commit_to_kafka() of all partitions (it walks every slot: not per message) */
    int64_t last_scan_ms;   /* last pass of retry_gaps() and unblock_due() */
} app;

/* Pauses or resumes every assigned partition (a partition stopped on a gap
 * or held back by the DLQ stays paused). */
static void set_paused(app *a, bool pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int32_t p = 0; p < a->max_parts; p++)
        if (a->parts[p].assigned && (pause || (!a->parts[p].gap_stopped && !a->parts[p].dlq_blocked)))
            rd_kafka_topic_partition_list_add(l, a->cfg->topic, p);
    if (l->cnt) pause ? rd_kafka_pause_partitions(a->rk, l) : rd_kafka_resume_partitions(a->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* Sets the offsets of list (all of our topic) from PostgreSQL. */
static tthc_rc load_positions(app *a, rd_kafka_topic_partition_list_t *l, tthc_err *err)
{
    int32_t *parts = malloc(sizeof *parts * (size_t)(l->cnt + 1));
    int64_t *next = malloc(sizeof *next * (size_t)(l->cnt + 1));
    if (!parts || !next) {
        free(parts);
        free(next);
        return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    }
    for (int i = 0; i < l->cnt; i++) parts[i] = l->elems[i].partition;
    tthc_rc rc = store_load_offsets(a->st, parts, (size_t)l->cnt, next, err);
    for (int i = 0; !rc && i < l->cnt; i++) {
        int32_t p = parts[i];
        l->elems[i].offset = next[i] >= 0 ? next[i] : RD_KAFKA_OFFSET_BEGINNING;
        if (p >= 0 && p < a->max_parts) {
            a->parts[p].expected = next[i];
            a->parts[p].consumed = next[i] >= 0 ? next[i] : 0;
            a->parts[p].positioned = true;
            observe_assign(a->obs, p, next[i]);
        }
    }
    free(parts);
    free(next);
    return rc;
}

static void lost_database(app *a, const tthc_err *err);

/* After a failed or fenced transaction: every assigned partition goes back to
 * its stored offset, and the local batch is dropped. */
static void reposition(app *a)
{
    batch_reset(a->cur); /* the worker is idle here (see worker_collect) */
    tthc_err err = {{0}};
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int32_t p = 0; p < a->max_parts; p++)
        if (a->parts[p].assigned) rd_kafka_topic_partition_list_add(l, a->cfg->topic, p);
    tthc_rc rc = l->cnt ? load_positions(a, l, &err) : TTHC_OK;
    if (rc) {
        /* PostgreSQL failed us: reconnect with backoff, then reposition again. */
        rd_kafka_topic_partition_list_destroy(l);
        lost_database(a, &err);
        return;
    }
    if (l->cnt) {
        rd_kafka_error_t *e = rd_kafka_seek_partitions(a->rk, l, 10000);
        if (e) {
            LOG_WARN("seek_failed", "error=\"%s\"", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            rc = TTHC_EKAFKA;
        }
        for (int i = 0; !rc && i < l->cnt; i++)
            if (l->elems[i].err) {
                LOG_WARN("seek_failed", "partition=%d error=\"%s\"", (int)l->elems[i].partition,
                         rd_kafka_err2str(l->elems[i].err));
                rc = TTHC_EKAFKA;
            }
    }
    if (rc) {
        LOG_WARN("reposition_failed", "error=\"%s\"", err.msg);
        a->need_reposition = true;
    } else {
        a->need_reposition = false;
        set_paused(a, false);
        LOG_INFO("repositioned", "partitions=%d", l->cnt);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Sends the offsets applied since the last commit: of every partition, or
 * (only != NULL) of the partitions in only.  Asynchronous: a failed commit
 * costs nothing but an older figure in kafka-consumer-groups until the next. */
static void commit_to_kafka(app *a, const rd_kafka_topic_partition_list_t *only)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int32_t p = 0; p < a->max_parts; p++) {
        if (a->parts[p].to_commit < 0) continue;
        if (only && !rd_kafka_topic_partition_list_find(only, a->cfg->topic, p)) continue;
        rd_kafka_topic_partition_list_add(l, a->cfg->topic, p)->offset = a->parts[p].to_commit;
        a->parts[p].to_commit = -1;
    }
    if (l->cnt) {
        rd_kafka_resp_err_t e = rd_kafka_commit(a->rk, l, 1);
        if (e) LOG_DEBUG("kafka_commit_failed", "error=\"%s\"", rd_kafka_err2str(e));
    }
    if (!only) a->last_commit_ms = tthc_mono_ms();
    rd_kafka_topic_partition_list_destroy(l);
}

static void commit_due(app *a)
{
    if (tthc_mono_ms() - a->last_commit_ms >= KAFKA_COMMIT_EVERY_MS) commit_to_kafka(a, NULL);
}

static void lost_database(app *a, const tthc_err *err)
{
    const char *state = tthc_err_sqlstate(err);
    if (tthc_sql_classify(state) == TTHC_SQL_OUTAGE) LOG_ERROR("database_unavailable", "error=\"%s\"", err->msg);
    else LOG_ERROR("batch_failed", "sqlstate=%s error=\"%s\"", *state ? state : "none", err->msg);
    store_disconnect(a->st);
    a->db_up = false;
    observe_db(a->obs, false);
    batch_reset(a->cur);
    for (int32_t p = 0; p < a->max_parts; p++) a->parts[p].positioned = false;
    set_paused(a, true);
    a->need_reposition = true;
    /* Failures in a row wait longer before the next try (capped, jittered). */
    int wait = a->failed_batches > 0 ? 100 << (a->failed_batches < 7 ? a->failed_batches : 7) : 0;
    a->next_connect_ms = tthc_mono_ms() + (wait ? wait / 2 + rand() % (wait / 2) : 0);
    a->backoff_ms = 100;
}

/* The DLQ did not take a reject of partition p: p goes back to its stored
 * offset and stays paused until its retry time (capped exponential backoff
 * with jitter); the other partitions go on.  The worker is idle here. */
static void block_partition(app *a, int32_t p)
{
    if (p < 0 || p >= a->max_parts || !a->parts[p].assigned) return;
    part_state *ps = &a->parts[p];
    int b = ps->dlq_backoff_ms ? ps->dlq_backoff_ms * 2 : 1000;
    if (b > 60000) b = 60000;
    ps->dlq_backoff_ms = b;
    ps->dlq_retry_ms = tthc_mono_ms() + b / 2 + rand() % (b / 2 + 1);
    ps->dlq_blocked = true;
    ps->pending_noted = false;
    ps->consumed = ps->expected >= 0 ? ps->expected : 0;
    if (batch_drop_partition(a->cur, p)) { /* the batch being filled holds later messages of p */
        batch_reset(a->cur);
        a->need_reposition = true;
    }
    a->cur->nblocked = 0;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, a->cfg->topic, p)->offset =
        ps->expected >= 0 ? ps->expected : RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_pause_partitions(a->rk, l);
    rd_kafka_error_t *e = rd_kafka_seek_partitions(a->rk, l, 10000);
    if (e || l->elems[0].err) {
        LOG_WARN("seek_failed", "partition=%d error=\"%s\"", (int)p,
                 e ? rd_kafka_error_string(e) : rd_kafka_err2str(l->elems[0].err));
        a->need_reposition = true;
    }
    if (e) rd_kafka_error_destroy(e);
    rd_kafka_topic_partition_list_destroy(l);
    observe_dlq_blocked(a->obs, p, true, dlq_failures(a->dq));
    /* ERROR when it starts, WARN for each retry that fails again */
    if (b == 1000)
        LOG_ERROR("dlq_blocked", "partition=%d stored_offset=%lld retry_in_ms=%lld error=\"%s\"", (int)p,
                  (long long)ps->expected, (long long)(ps->dlq_retry_ms - tthc_mono_ms()), dlq_last_error(a->dq));
    else
        LOG_WARN("dlq_blocked", "partition=%d stored_offset=%lld retry_in_ms=%lld error=\"%s\"", (int)p,
                 (long long)ps->expected, (long long)(ps->dlq_retry_ms - tthc_mono_ms()), dlq_last_error(a->dq));
}

/* Resumes the partitions whose DLQ retry time has come. */
static void unblock_due(app *a)
{
    int64_t now = tthc_mono_ms();
    for (int32_t p = 0; p < a->max_parts; p++) {
        part_state *ps = &a->parts[p];
        if (!ps->assigned || !ps->dlq_blocked || now < ps->dlq_retry_ms) continue;
        ps->dlq_blocked = false;
        if (ps->gap_stopped) continue; /* stays paused for the operator */
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, a->cfg->topic, p);
        rd_kafka_resume_partitions(a->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        LOG_INFO("dlq_retry", "partition=%d stored_offset=%lld", (int)p, (long long)ps->expected);
    }
}

/* Pending facts of never-received dossiers: refreshed at most every 5 s,
 * only while the worker is idle (it owns the connection otherwise). */
static void refresh_pending(app *a)
{
    int64_t now = tthc_mono_ms();
    if (a->inflight || !a->db_up || now - a->last_pending_ms < 5000) return;
    a->last_pending_ms = now;
    long count = 0;
    double oldest = 0;
    tthc_err err = {{0}};
    if (store_pending(a->st, &count, &oldest, &err)) LOG_WARN("pending_query_failed", "error=\"%s\"", err.msg);
    else observe_pending_dossiers(a->obs, count, count >= STORE_PENDING_CAP, oldest);
}

/* ---- the apply worker ---- */

static void *worker_main(void *arg)
{
    app *a = arg;
    worker *w = &a->w;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->has_job && !w->quit) pthread_cond_wait(&w->cv, &w->mu);
        if (!w->has_job) break;
        ingest_batch *b = w->job;
        pthread_mutex_unlock(&w->mu);
        tthc_err err = {{0}};
        tthc_rc rc;
        for (int attempt = 1;; attempt++) {
            rc = apply_batch(a->st, b, &a->hooks, &err);
            if (rc != TTHC_ERETRY || !store_connected(a->st) || attempt >= 5) break;
            LOG_WARN("batch_retry", "attempt=%d error=\"%s\"", attempt, err.msg);
            struct timespec ts = {0, 20000000L * attempt};
            nanosleep(&ts, NULL);
        }
        pthread_mutex_lock(&w->mu);
        w->rc = rc;
        w->err = err;
        w->has_job = false;
        w->done = true;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Waits for the in-flight batch, if any, and acts on its outcome.  After it
 * returns the worker is idle and the main thread may use the store. */
static void worker_collect(app *a)
{
    worker *w = &a->w;
    if (!a->inflight) return;
    pthread_mutex_lock(&w->mu);
    while (!w->done) pthread_cond_wait(&w->cv, &w->mu);
    w->done = false;
    tthc_rc rc = w->rc;
    tthc_err err = w->err;
    pthread_mutex_unlock(&w->mu);
    ingest_batch *b = a->inflight;
    a->inflight = NULL;
    if (rc == TTHC_OK) {
        a->failed_batches = 0;
        for (size_t i = 0; i < b->nparts; i++) {
            part_state *ps = &a->parts[b->parts[i].partition];
            ps->expected = b->parts[i].next;
            ps->to_commit = b->parts[i].next;
            if (ps->dlq_backoff_ms) observe_dlq_blocked(a->obs, b->parts[i].partition, false, dlq_failures(a->dq));
            ps->dlq_backoff_ms = 0;
        }
        for (size_t i = 0; i < b->nblocked; i++) block_partition(a, b->blocked[i]);
        if (!b->nparts) { /* every partition of the batch was held back by the DLQ */
            batch_reset(b);
            return;
        }
        commit_due(a);
        a->batches++;
        a->messages += batch_count(b);
        a->bytes += b->bytes;
        for (int t = 0; t < TTHC_EV__COUNT; t++) {
            a->applied_by_type[t] += b->applied_by_type[t];
            a->applied += b->applied_by_type[t];
        }
        for (size_t i = 0; i < b->nparts; i++) a->parts[b->parts[i].partition].pending_noted = false;
        observe_applied(a->obs, b, (double)(tthc_mono_ms() - w->started_ms) / 1000.0, dlq_counts(a->dq));
        LOG_DEBUG("batch_applied", "messages=%zu dossiers=%zu rejects=%zu buckets=%zu ms=%lld", batch_count(b),
                  b->nslots, b->nrejects, b->nbuckets, (long long)(tthc_mono_ms() - w->started_ms));
        batch_reset(b);
    } else if (rc == TTHC_EFENCED) {
        batch_reset(b);
        a->fenced++;
        observe_fenced(a->obs);
        LOG_WARN("batch_fenced", "error=\"%s\"", err.msg);
        reposition(a); /* drops the batch being filled too */
    } else {
        batch_reset(b);
        a->failures++;
        a->failed_batches++;
        lost_database(a, &err);
    }
}

/* Collects the in-flight batch if the worker has finished it (never waits). */
static void worker_poll(app *a)
{
    if (!a->inflight) return;
    pthread_mutex_lock(&a->w.mu);
    bool done = a->w.done;
    pthread_mutex_unlock(&a->w.mu);
    if (done) worker_collect(a);
}

/* Hands the batch being filled to the worker (after the previous one is
 * done); with wait, also waits for it. */
static void flush_batch(app *a, bool wait)
{
    worker_collect(a);
    refresh_pending(a);
    ingest_batch *b = a->cur;
    if (batch_count(b) && a->db_up) {
        worker *w = &a->w;
        for (size_t i = 0; i < b->nparts; i++) b->parts[i].expected = a->parts[b->parts[i].partition].expected;
        b->nblocked = 0;
        pthread_mutex_lock(&w->mu);
        w->job = b;
        w->has_job = true;
        w->done = false;
        w->started_ms = tthc_mono_ms();
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        a->inflight = b;
        a->cur = b == &a->bufs[0] ? &a->bufs[1] : &a->bufs[0];
    }
    if (wait) worker_collect(a);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *l, void *opaque)
{
    app *a = opaque;
    bool coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    tthc_err err = {{0}};
    a->rebalances++;
    observe_rebalance(a->obs);
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        worker_collect(a); /* the store is ours again */
        for (int i = 0; i < l->cnt; i++) {
            int32_t p = l->elems[i].partition;
            if (p < 0 || p >= a->max_parts) continue;
            a->parts[p] = (part_state){.assigned = true, .expected = -1, .to_commit = -1};
        }
        bool positioned = a->db_up && !load_positions(a, l, &err);
        if (!positioned) LOG_WARN("assign_unpositioned", "partitions=%d error=\"%s\"", l->cnt, err.msg);
        rd_kafka_error_t *ke = NULL;
        if (coop) ke = rd_kafka_incremental_assign(rk, l);
        else rd_kafka_assign(rk, l);
        if (ke) {
            LOG_ERROR("assign_failed", "error=\"%s\"", rd_kafka_error_string(ke));
            rd_kafka_error_destroy(ke);
        }
        if (!positioned) {
            rd_kafka_pause_partitions(rk, l);
            a->need_reposition = true;
        }
        LOG_INFO("partitions_assigned", "count=%d positioned=%s", l->cnt, positioned ? "true" : "false");
    } else if (e == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        flush_batch(a, true); /* finish the work of the partitions we give up */
        commit_to_kafka(a, l);
        for (int i = 0; i < l->cnt; i++) {
            int32_t p = l->elems[i].partition;
            if (p >= 0 && p < a->max_parts) a->parts[p] = (part_state){.expected = -1, .to_commit = -1};
            observe_revoke(a->obs, p);
        }
        if (coop) {
            rd_kafka_error_t *ke = rd_kafka_incremental_unassign(rk, l);
            if (ke) rd_kafka_error_destroy(ke);
        } else {
            rd_kafka_assign(rk, NULL);
        }
        LOG_INFO("partitions_revoked", "count=%d", l->cnt);
    } else {
        LOG_ERROR("rebalance_error", "error=\"%s\"", rd_kafka_err2str(e));
        rd_kafka_assign(rk, NULL);
    }
}

/* ---- semantics 6: the next message to apply is no longer in the log ---- */

/* Fetching partition p starts again at offset.  After an out-of-range answer
 * with auto.offset.reset=error librdkafka has stopped the partition's fetcher,
 * and a seek is refused in that state (librdkafka issue #2961): the partition
 * is assigned again instead, alone with the cooperative protocol, or with the
 * whole assignment (each other partition at the offset after the last message
 * this process took) with the eager one. */
static void restart_partition(app *a, int32_t p, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    rd_kafka_error_t *ke = NULL;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!strcmp(rd_kafka_rebalance_protocol(a->rk), "COOPERATIVE")) {
        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, a->cfg->topic, p);
        ke = rd_kafka_incremental_unassign(a->rk, l);
        if (!ke) {
            l->elems[0].offset = offset;
            ke = rd_kafka_incremental_assign(a->rk, l);
        }
    } else if (!(e = rd_kafka_assignment(a->rk, &l))) {
        for (int i = 0; i < l->cnt; i++) {
            int32_t q = l->elems[i].partition;
            if (strcmp(l->elems[i].topic, a->cfg->topic) || q < 0 || q >= a->max_parts) continue;
            const part_state *qs = &a->parts[q];
            /* a partition with nothing stored and nothing taken yet starts at the beginning, as on assignment */
            l->elems[i].offset = q == p                                  ? offset
                                 : qs->expected < 0 && qs->consumed == 0 ? RD_KAFKA_OFFSET_BEGINNING
                                                                         : qs->consumed;
        }
        e = rd_kafka_assign(a->rk, l);
        if (!e) {
            for (int32_t q = 0; q < a->max_parts; q++)
                if (a->parts[q].assigned && a->parts[q].gap_stopped && q != p) {
                    rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
                    rd_kafka_topic_partition_list_add(one, a->cfg->topic, q);
                    rd_kafka_pause_partitions(a->rk, one);
                    rd_kafka_topic_partition_list_destroy(one);
                }
        }
    }
    if (ke || e) {
        LOG_WARN("partition_restart_failed", "partition=%d offset=%lld error=\"%s\" retry_in_ms=1000", (int)p,
                 (long long)offset, ke ? rd_kafka_error_string(ke) : rd_kafka_err2str(e));
        a->parts[p].gap_retry_ms = tthc_mono_ms() + 1000;
    }
    if (ke) rd_kafka_error_destroy(ke);
    if (l) rd_kafka_topic_partition_list_destroy(l);
}

static void pause_one(app *a, int32_t p, bool pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, a->cfg->topic, p);
    if (pause) rd_kafka_pause_partitions(a->rk, l);
    else rd_kafka_resume_partitions(a->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* librdkafka could not fetch partition p at its position (auto.offset.reset is
 * "error"): compare the stored offset with the log's watermarks, say what was
 * lost, record it, and go on from the log start or stop the partition. */
static void on_offset_reset(app *a, int32_t p)
{
    if (p < 0 || p >= a->max_parts || !a->parts[p].assigned) return;
    part_state *ps = &a->parts[p];
    worker_collect(a);                           /* the store is the main thread's now */
    if (!a->db_up || a->need_reposition) return; /* repositioning seeks again */
    int64_t lo = -1, hi = -1;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(a->rk, a->cfg->topic, p, &lo, &hi, 5000);
    if (e) {
        LOG_WARN("offset_reset_unresolved", "partition=%d error=\"%s\" retry_in_ms=1000", (int)p, rd_kafka_err2str(e));
        pause_one(a, p, true);
        ps->gap_retry_ms = tthc_mono_ms() + 1000;
        return;
    }
    /* Messages of this partition already in the batch being filled go first:
     * the gap is recorded against the offset stored after them. */
    if (batch_count(a->cur)) {
        flush_batch(a, true);
        if (!a->db_up || a->need_reposition) return;
    }
    int64_t from = ps->expected >= 0 ? ps->expected : 0;
    if (from >= lo && from <= hi) { /* the log moved while we asked: try again there */
        LOG_INFO("offset_reset_recovered", "partition=%d offset=%lld log_start=%lld log_end=%lld", (int)p,
                 (long long)from, (long long)lo, (long long)hi);
        restart_partition(a, p, from);
        return;
    }
    bool stop = !strcmp(a->cfg->on_gap, "stop");
    ingest_store_gap g = {.partition = p,
                          .from_offset = from,
                          .to_offset = -1,
                          .lost = -1,
                          .log_start = lo,
                          .log_end = hi,
                          .expected = ps->expected,
                          .resume_at = lo,
                          .reason = from < lo ? "deleted" : "beyond_end",
                          .action = stop ? "stop" : "continue"};
    if (from < lo) {
        g.to_offset = lo - 1;
        g.lost = lo - from;
    }
    LOG_ERROR("messages_lost",
              "partition=%d reason=%s from_offset=%lld to_offset=%lld lost=%lld log_start=%lld log_end=%lld action=%s",
              (int)p, g.reason, (long long)g.from_offset, (long long)g.to_offset, (long long)g.lost, (long long)lo,
              (long long)hi, g.action);
    tthc_err err = {{0}};
    tthc_rc rc = store_record_gap(a->st, &g, &err);
    if (rc == TTHC_EFENCED) {
        LOG_WARN("gap_fenced", "partition=%d error=\"%s\"", (int)p, err.msg);
        reposition(a);
        return;
    }
    if (rc) {
        lost_database(a, &err);
        return;
    }
    observe_gap(a->obs, p, g.lost > 0 ? g.lost : 0, stop);
    if (stop) {
        ps->gap_stopped = true;
        pause_one(a, p, true);
        LOG_ERROR("partition_stopped",
                  "partition=%d reason=gap hint=\"restart with --on-gap continue, or move "
                  "consumer_offset by hand (docs/operations.md)\"",
                  (int)p);
        return;
    }
    ps->expected = lo;
    ps->consumed = lo;
    restart_partition(a, p, lo);
}

/* Partitions whose watermarks could not be read: seek to the stored offset
 * again when their retry time has come (a new out-of-range answer comes back
 * to on_offset_reset). */
static void retry_gaps(app *a)
{
    int64_t now = tthc_mono_ms();
    for (int32_t p = 0; p < a->max_parts; p++) {
        part_state *ps = &a->parts[p];
        if (!ps->assigned || ps->gap_stopped || !ps->gap_retry_ms || now < ps->gap_retry_ms) continue;
        ps->gap_retry_ms = 0;
        pause_one(a, p, false);
        restart_partition(a, p, ps->expected >= 0 ? ps->expected : RD_KAFKA_OFFSET_BEGINNING);
    }
}

static void on_message(app *a, rd_kafka_message_t *m)
{
    if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET && m->rkt &&
        !strcmp(rd_kafka_topic_name(m->rkt), a->cfg->topic)) {
        on_offset_reset(a, m->partition);
        return;
    }
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            LOG_WARN("consume_error", "error=\"%s\"", rd_kafka_message_errstr(m));
        return;
    }
    int32_t p = m->partition;
    if (p < 0 || p >= a->max_parts) {
        LOG_ERROR("partition_out_of_range", "partition=%d max=%d", (int)p, (int)a->max_parts);
        return;
    }
    part_state *ps = &a->parts[p];
    if (!ps->assigned || !ps->positioned || ps->dlq_blocked) return;
    if (m->offset < ps->consumed || (ps->expected >= 0 && m->offset < ps->expected)) return; /* applied already */
    if (!batch_count(a->cur)) a->batch_started_ms = tthc_mono_ms();
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    if (batch_add(a->cur, p, m->offset, ts, m->key, m->key_len, m->payload, m->len)) {
        tthc_err e = {{0}};
        tthc_fail(&e, TTHC_ENOMEM, "out of memory adding a message");
        lost_database(a, &e);
        return;
    }
    ps->consumed = m->offset + 1;
    if (!ps->pending_noted) {
        observe_pending_ts(a->obs, p, ts);
        ps->pending_noted = true;
    }
}

/* Handles m, then what librdkafka already holds, without waiting: up to
 * BURST_MAX messages, until the batch is full or the database is lost.  The
 * main loop's housekeeping (clock reads, scans, the commit check) then runs
 * once a burst, not once a message: it was a sixth of the main thread's time
 * in a backlog.  The burst's time counts as the batch's consume + parse. */
static void consume_burst(app *a, rd_kafka_message_t *m)
{
    wake_consumed(a->wk);
    ingest_batch *b = a->cur;
    int64_t t0 = tthc_mono_us();
    for (int n = 1;; n++) {
        if (a->db_up && !a->need_reposition) on_message(a, m);
        rd_kafka_message_destroy(m);
        if (n >= BURST_MAX || !a->db_up || a->need_reposition || a->cur != b ||
            (long)batch_count(b) >= a->cfg->batch_max)
            break;
        if (!(m = rd_kafka_consumer_poll(a->rk, 0))) break;
    }
    b->parse_us += tthc_mono_us() - t0;
}

static void try_connect(app *a)
{
    int64_t now = tthc_mono_ms();
    if (now < a->next_connect_ms) return;
    tthc_err err = {{0}};
    if (store_connect(a->st, &err)) {
        /* capped exponential backoff with full jitter */
        a->backoff_ms = a->backoff_ms ? a->backoff_ms * 2 : 100;
        if (a->backoff_ms > 10000) a->backoff_ms = 10000;
        a->next_connect_ms = now + 1 + rand() % a->backoff_ms;
        LOG_WARN("database_connect_failed", "retry_in_ms=%lld error=\"%s\"", (long long)(a->next_connect_ms - now),
                 err.msg);
        return;
    }
    a->backoff_ms = 0;
    a->db_up = true;
    observe_db(a->obs, true);
    LOG_INFO("database_connected", "%s", "");
    reposition(a);
}

static void report(app *a)
{
    int64_t now = tthc_mono_ms();
    if (now - a->last_beat_ms >= 1000) {
        a->last_beat_ms = now;
        observe_heartbeat(a->obs, wake_requests(a->wk));
    }
    if (now - a->last_report_ms < 10000) return;
    a->last_report_ms = now;
    LOG_INFO("progress", "messages=%llu applied=%llu batches=%llu fenced=%llu failures=%llu rebalances=%llu",
             a->messages, a->applied, a->batches, a->fenced, a->failures, a->rebalances);
}

static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    app *a = opaque;
    observe_stats(a->obs, json, len);
    return 0; /* librdkafka frees json */
}

static tthc_rc make_consumer(app *a, tthc_err *err)
{
    const ingest_config *c = a->cfg;
    static const char *const defaults[] = {
        "enable.auto.commit",
        "false",
        "enable.auto.offset.store",
        "false",
        /* An out-of-range position is reported to on_offset_reset, never reset silently
         * (a partition without a stored offset starts at BEGINNING explicitly). */
        "auto.offset.reset",
        "error",
        "enable.partition.eof",
        "false",
        /* A small prefetch (the memory budget: a 1 MiB lz4 fetch is ~4 MiB of
         * messages), kept flowing by the fetch wake-up (wake.h) instead of
         * waiting out librdkafka 2.0's one-second back-off. */
        "queued.max.messages.kbytes",
        "2048",
        "fetch.max.bytes",
        "1048576",
        "client.id",
        "tthc-ingest",
        "statistics.interval.ms",
        "5000",
        NULL,
    };
    const tthc_kafka_setup setup = {
        .group_id = c->group, .opaque = a, .stats_cb = on_stats, .rebalance_cb = on_rebalance};
    tthc_rc rc = tthc_kafka_new(RD_KAFKA_CONSUMER, c->brokers, defaults, &setup, &a->rk, err);
    if (rc) return rc;
    rd_kafka_poll_set_consumer(a->rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, c->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(a->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) return tthc_fail(err, TTHC_EKAFKA, "subscribe %s: %s", c->topic, rd_kafka_err2str(e));
    return TTHC_OK;
}

tthc_rc ingest_run(const ingest_config *cfg, tthc_err *err)
{
    app a;
    memset(&a, 0, sizeof a);
    a.cfg = cfg;
    a.max_parts = (int32_t)cfg->max_partitions;
    batch_init(&a.bufs[0]);
    batch_init(&a.bufs[1]);
    a.cur = &a.bufs[0];
    pthread_mutex_init(&a.w.mu, NULL);
    pthread_cond_init(&a.w.cv, NULL);
    srand((unsigned)(tthc_now_us() ^ (int64_t)getpid()));
    tthc_rc rc = TTHC_OK;
    a.parts = calloc((size_t)a.max_parts, sizeof *a.parts);
    if (!a.parts) {
        rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
        goto done;
    }
    for (int32_t p = 0; p < a.max_parts; p++) a.parts[p] = (part_state){.expected = -1, .to_commit = -1};
    if ((rc = observe_new(cfg->group, cfg->topic, a.max_parts, cfg->unassigned_grace_ms, &a.obs, err))) goto done;
    if ((rc = observe_serve(a.obs, cfg->metrics_listen, err))) goto done;
    if ((rc = store_new(cfg->dsn, cfg->group, cfg->topic, (int)cfg->statement_timeout_ms, &a.st, err))) goto done;
    if ((rc = dlq_new(cfg->brokers, cfg->dlq_topic, cfg->topic, (int)cfg->dlq_flush_ms, &a.dq, err))) goto done;
    if ((rc = refetch_new(cfg->brokers, cfg->topic, 10000, &a.rf, err))) goto done;
    a.hooks = (ingest_apply_hooks){.dlq = dlq_send_batch, .dlq_ctx = a.dq, .fetch = refetch_one, .fetch_ctx = a.rf};
    tthc_err cerr = {{0}};
    if (store_connect(a.st, &cerr)) LOG_WARN("database_connect_failed", "error=\"%s\"", cerr.msg);
    else a.db_up = true;
    observe_db(a.obs, a.db_up);
    if ((rc = make_consumer(&a, err))) goto done;
    if ((rc = observe_probe_start(a.obs, a.rk, err))) goto done;
    if ((rc = wake_start(a.rk, (int)cfg->fetch_wake_ms, &a.wk, err))) goto done;
    LOG_INFO("started", "topic=%s group=%s batch_max=%ld batch_ms=%ld", cfg->topic, cfg->group, cfg->batch_max,
             cfg->batch_ms);
    a.last_report_ms = tthc_mono_ms();

    a.w.started = pthread_create(&a.w.thread, NULL, worker_main, &a) == 0;
    if (!a.w.started) {
        rc = tthc_fail(err, TTHC_ENOMEM, "cannot start the apply thread");
        goto done;
    }
    while (!tthc_stop_requested) {
        if (!a.db_up || a.need_reposition) worker_collect(&a);
        else worker_poll(&a);
        if (!a.db_up) try_connect(&a);
        else if (a.need_reposition) reposition(&a);
        else if (tthc_mono_ms() - a.last_scan_ms >= RETRY_SCAN_EVERY_MS) {
            a.last_scan_ms = tthc_mono_ms();
            retry_gaps(&a);
            unblock_due(&a);
        }
        refresh_pending(&a);
        commit_due(&a);
        /* A batch is handed over when full, or when batch_ms has passed and the
         * worker is free: while the worker applies one batch the next one keeps
         * growing (to batch_max), so a backlog is applied in large transactions
         * and a trickle still within batch_ms of its first message. */
        int timeout = 100;
        if (batch_count(a.cur)) {
            int64_t left = a.batch_started_ms + cfg->batch_ms - tthc_mono_ms();
            timeout = left < 0 ? (a.inflight ? 5 : 0) : left < 100 ? (int)left : 100;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(a.rk, timeout);
        if (m) consume_burst(&a, m);
        if ((long)batch_count(a.cur) >= cfg->batch_max ||
            (batch_count(a.cur) && !a.inflight && tthc_mono_ms() - a.batch_started_ms >= cfg->batch_ms))
            flush_batch(&a, false);
        report(&a);
    }
    LOG_INFO("stopping", "pending=%zu", batch_count(a.cur));
    flush_batch(&a, true);
    commit_to_kafka(&a, NULL);
    observe_probe_stop(a.obs);
    wake_stop(a.wk);
    a.wk = NULL;
    rd_kafka_consumer_close(a.rk); /* leaves the group; the revoke callback runs here */
    a.last_report_ms = 0;
    report(&a);

done:
    if (a.w.started) {
        worker_collect(&a);
        pthread_mutex_lock(&a.w.mu);
        a.w.quit = true;
        pthread_cond_broadcast(&a.w.cv);
        pthread_mutex_unlock(&a.w.mu);
        pthread_join(a.w.thread, NULL);
    }
    observe_probe_stop(a.obs); /* before the handle it probes through goes */
    wake_stop(a.wk);
    if (a.rk) rd_kafka_destroy(a.rk);
    observe_free(a.obs);
    dlq_free(a.dq);
    refetch_free(a.rf);
    store_free(a.st);
    batch_free(&a.bufs[0]);
    batch_free(&a.bufs[1]);
    pthread_mutex_destroy(&a.w.mu);
    pthread_cond_destroy(&a.w.cv);
    free(a.parts);
    return rc;
}
