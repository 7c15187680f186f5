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
    int64_t handed;       /* offset after the newest batch handed to a worker, not yet collected; -1 none */
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

/* The apply workers: two threads, each with its own PostgreSQL connection,
 * that run apply_batch() on full batches while the main thread polls and
 * parses the next one.  Batches are handed over in order (batch.seq) and
 * commit in that order (the turn hooks below); a batch claims its event ids
 * while the one before it finishes (apply.h).  Hand-off protocol: the main
 * thread only touches the stores (and in-flight batches) when no batch is in
 * flight, i.e. after worker_collect(); it collects batches oldest first. */
enum { NWORKERS = 2 };

typedef struct {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool started, has_job, done, quit;
    ingest_batch *job;
    ingest_store *st; /* this worker's connection (worker 0's is also the main thread's) */
    tthc_rc rc;
    tthc_err err;
    int64_t started_ms;
    void *app;
} worker;

/* Commit order across the workers (the turn hook of apply.h), one slot per
 * batch in flight, indexed by seq % TURN_RING (at most NWORKERS in flight).
 * Every wait here is for the batch handed over just before, which never
 * waits for a later one: its claim comes before the later batch's (CLAIM),
 * and when it starts a transaction again (gen) the later batch lets go of its
 * claim (WAIT fails, the transaction is rolled back) before waiting again. */
enum { TURN_RING = 8 };
typedef struct {
    uint64_t seq;
    unsigned gen;     /* transactions begun for this batch */
    unsigned claimed; /* gen whose early claim is complete; 0 none */
    unsigned seen;    /* the gen of the batch before, seen when this one claimed */
    bool done;        /* its worker has finished with it */
} turn_slot;
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    turn_slot slot[TURN_RING];
} turns;

typedef struct {
    const ingest_config *cfg;
    rd_kafka_t *rk;
    ingest_store *st;         /* worker 0's connection, and the main thread's when no batch is in flight */
    ingest_store *st1;        /* worker 1's (NULL with one apply connection) */
    pthread_mutex_t hooks_mu; /* the DLQ producer and the refetch consumer serve one worker at a time */
    ingest_dlq *dq;
    ingest_refetch *rf;
    ingest_apply_hooks hooks;
    ingest_observe *obs;
    ingest_wake *wk;
    ingest_batch bufs[NWORKERS + 1];
    ingest_batch *cur;           /* being filled by the main thread */
    ingest_batch *fly[NWORKERS]; /* handed to a worker, oldest first */
    int flyw[NWORKERS];          /* the worker of each */
    bool flyrej[NWORKERS];       /* it had rejects when handed over */
    int nfly;
    int nworkers; /* --apply-connections */
    uint64_t seq; /* of the last batch handed over */
    worker w[NWORKERS];
    turns turn;
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
    tthc_rc rc = store_load_offsets(a->st, parts, (size_t)l->cnt, next, err); /* no batch in flight */
    for (int i = 0; !rc && i < l->cnt; i++) {
        int32_t p = parts[i];
        l->elems[i].offset = next[i] >= 0 ? next[i] : RD_KAFKA_OFFSET_BEGINNING;
        if (p >= 0 && p < a->max_parts) {
            a->parts[p].expected = next[i];
            a->parts[p].handed = -1;
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
static void worker_collect(app *a);

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
    worker_collect(a); /* no batch may be using the connections closed here */
    store_disconnect(a->st);
    if (a->st1) store_disconnect(a->st1);
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
    ps->handed = -1;                       /* its messages were taken out of the batch that was to move its offset */
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
    if (a->nfly || !a->db_up || now - a->last_pending_ms < 5000) return;
    a->last_pending_ms = now;
    long count = 0;
    double oldest = 0;
    tthc_err err = {{0}};
    if (store_pending(a->st, &count, &oldest, &err)) LOG_WARN("pending_query_failed", "error=\"%s\"", err.msg);
    else observe_pending_dossiers(a->obs, count, count >= STORE_PENDING_CAP, oldest);
}

/* ---- the apply workers ---- */

static tthc_rc locked_dlq(void *ctx, ingest_batch *b, tthc_err *err)
{
    app *a = ctx;
    pthread_mutex_lock(&a->hooks_mu);
    tthc_rc rc = dlq_send_batch(a->dq, b, err);
    pthread_mutex_unlock(&a->hooks_mu);
    return rc;
}

static tthc_rc locked_fetch(void *ctx, int32_t partition, int64_t offset, tthc_sb *key, bool *has_key, tthc_sb *value,
                            tthc_err *err)
{
    app *a = ctx;
    pthread_mutex_lock(&a->hooks_mu);
    tthc_rc rc = refetch_one(a->rf, partition, offset, key, has_key, value, err);
    pthread_mutex_unlock(&a->hooks_mu);
    return rc;
}

/* The slot of seq (turns.mu held), claimed for it if it still holds an older batch. */
static turn_slot *turn_slot_of(turns *t, uint64_t seq)
{
    turn_slot *x = &t->slot[seq % TURN_RING];
    if (x->seq != seq) *x = (turn_slot){.seq = seq};
    return x;
}

static tthc_rc turn_hook(void *ctx, const ingest_batch *b, ingest_turn_phase phase, tthc_err *err)
{
    turns *t = ctx;
    tthc_rc rc = TTHC_OK;
    pthread_mutex_lock(&t->mu);
    turn_slot *me = turn_slot_of(t, b->seq);
    turn_slot *prev = b->seq > 1 ? turn_slot_of(t, b->seq - 1) : NULL;
    switch (phase) {
    case INGEST_TURN_BEGIN:
        me->gen++;
        me->claimed = 0;
        pthread_cond_broadcast(&t->cv);
        break;
    case INGEST_TURN_CLAIM: /* bounded: the batch before claims without waiting for this one */
        while (prev && !prev->done && (!prev->gen || prev->claimed != prev->gen)) pthread_cond_wait(&t->cv, &t->mu);
        me->seen = prev ? prev->gen : 0;
        break;
    case INGEST_TURN_CLAIMED:
        me->claimed = me->gen;
        pthread_cond_broadcast(&t->cv);
        break;
    case INGEST_TURN_WAIT:
        while (prev && !prev->done && (!me->claimed || prev->gen == me->seen)) pthread_cond_wait(&t->cv, &t->mu);
        if (prev && !prev->done)
            rc = tthc_fail(err, TTHC_ERETRY, "the batch before this one began its transaction again");
        break;
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

/* The worker is done with seq (applied, or given up). */
static void turn_done(turns *t, uint64_t seq)
{
    pthread_mutex_lock(&t->mu);
    turn_slot_of(t, seq)->done = true;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

/* Waits until the batch before seq is done (before seq's transaction begins again). */
static void turn_wait_prev(turns *t, uint64_t seq)
{
    if (seq <= 1) return;
    pthread_mutex_lock(&t->mu);
    while (!turn_slot_of(t, seq - 1)->done) pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    app *a = w->app;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->has_job && !w->quit) pthread_cond_wait(&w->cv, &w->mu);
        if (!w->has_job) break;
        ingest_batch *b = w->job;
        pthread_mutex_unlock(&w->mu);
        tthc_err err = {{0}};
        tthc_rc rc;
        for (int attempt = 1;; attempt++) {
            rc = apply_batch(w->st, b, &a->hooks, &err);
            if (rc != TTHC_ERETRY || !store_connected(w->st) || attempt >= 5) break;
            LOG_WARN("batch_retry", "attempt=%d error=\"%s\"", attempt, err.msg);
            turn_wait_prev(&a->turn, b->seq); /* holding nothing now: the batch before goes first */
            struct timespec ts = {0, 20000000L * attempt};
            nanosleep(&ts, NULL);
        }
        turn_done(&a->turn, b->seq);
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

/* Waits for worker i to finish its batch; its outcome in *rc, *err. */
static void worker_wait(app *a, int i, tthc_rc *rc, tthc_err *err)
{
    worker *w = &a->w[i];
    pthread_mutex_lock(&w->mu);
    while (!w->done) pthread_cond_wait(&w->cv, &w->mu);
    w->done = false;
    *rc = w->rc;
    *err = w->err;
    pthread_mutex_unlock(&w->mu);
}

/* Takes the oldest in-flight batch off the queue. */
static ingest_batch *fly_pop(app *a)
{
    ingest_batch *b = a->fly[0];
    for (int i = 1; i < a->nfly; i++) {
        a->fly[i - 1] = a->fly[i];
        a->flyw[i - 1] = a->flyw[i];
        a->flyrej[i - 1] = a->flyrej[i];
    }
    a->nfly--;
    return b;
}

/* Waits for the oldest in-flight batch and acts on its outcome.  A failure
 * also waits for and drops the younger ones (their offsets were to follow
 * this batch's: whatever they did, the positions are read again from
 * PostgreSQL), so that afterwards no batch is in flight. */
static void collect_oldest(app *a)
{
    tthc_rc rc;
    tthc_err err;
    int wi = a->flyw[0];
    worker_wait(a, wi, &rc, &err);
    worker *w = &a->w[wi];
    ingest_batch *b = fly_pop(a);
    if (rc == TTHC_OK) {
        a->failed_batches = 0;
        for (size_t i = 0; i < b->nparts; i++) {
            part_state *ps = &a->parts[b->parts[i].partition];
            ps->expected = b->parts[i].next;
            if (ps->handed == b->parts[i].next) ps->handed = -1;
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
        return;
    }
    batch_reset(b);
    while (a->nfly) { /* younger batches: outcome ignored */
        tthc_rc yrc;
        tthc_err yerr;
        worker_wait(a, a->flyw[0], &yrc, &yerr);
        ingest_batch *y = fly_pop(a);
        if (yrc == TTHC_OK) LOG_INFO("batch_dropped_after_failure", "messages=%zu", batch_count(y));
        batch_reset(y);
    }
    for (int32_t p = 0; p < a->max_parts; p++) a->parts[p].handed = -1;
    if (rc == TTHC_EFENCED) {
        a->fenced++;
        observe_fenced(a->obs);
        LOG_WARN("batch_fenced", "error=\"%s\"", err.msg);
        reposition(a); /* drops the batch being filled too */
    } else {
        a->failures++;
        a->failed_batches++;
        lost_database(a, &err);
    }
}

/* Waits for every in-flight batch and acts on the outcomes, oldest first.
 * After it returns the workers are idle and the main thread may use the store. */
static void worker_collect(app *a)
{
    while (a->nfly) collect_oldest(a);
}

/* Collects the in-flight batches whose workers have finished, oldest first
 * (never waits). */
static void worker_poll(app *a)
{
    while (a->nfly) {
        worker *w = &a->w[a->flyw[0]];
        pthread_mutex_lock(&w->mu);
        bool done = w->done;
        pthread_mutex_unlock(&w->mu);
        if (!done) return;
        collect_oldest(a);
    }
}

/* Hands the batch being filled to a free worker (waiting for the oldest
 * in-flight batch if none is free); with wait, also waits for all. */
static void flush_batch(app *a, bool wait)
{
    if (a->nfly == a->nworkers) collect_oldest(a);
    /* A batch with rejects may find the DLQ refusing them and drop their
     * partitions; a later batch would then expect offsets that never moved
     * and be fenced, over and over while the DLQ is down.  So a batch follows
     * one with rejects only once that one is collected. */
    for (int i = 0; i < a->nfly; i++)
        if (a->flyrej[i]) { /* noted at hand-off: the worker may change the batch meanwhile */
            worker_collect(a);
            break;
        }
    refresh_pending(a);
    ingest_batch *b = a->cur;
    if (batch_count(b) && a->db_up && !a->need_reposition) {
        int wi = 0;
        for (bool busy = true; busy; wi += busy) {
            busy = false;
            for (int i = 0; i < a->nfly; i++) busy |= a->flyw[i] == wi;
        }
        worker *w = &a->w[wi];
        for (size_t i = 0; i < b->nparts; i++) {
            part_state *ps = &a->parts[b->parts[i].partition];
            b->parts[i].expected = ps->handed >= 0 ? ps->handed : ps->expected; /* where the batch before ends */
            ps->handed = b->parts[i].next;
        }
        b->nblocked = 0;
        b->seq = ++a->seq;
        bool rejects = b->nrejects > 0;
        pthread_mutex_lock(&w->mu);
        w->job = b;
        w->has_job = true;
        w->done = false;
        w->started_ms = tthc_mono_ms();
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        a->fly[a->nfly] = b;
        a->flyrej[a->nfly] = rejects;
        a->flyw[a->nfly++] = wi;
        ingest_batch *next = NULL; /* a buffer neither filled nor in flight */
        for (int k = 0; k <= NWORKERS && !next; k++) {
            ingest_batch *c = &a->bufs[k];
            bool used = c == b;
            for (int i = 0; i < a->nfly; i++) used |= a->fly[i] == c;
            if (!used) next = c;
        }
        a->cur = next;
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
            a->parts[p] = (part_state){.assigned = true, .expected = -1, .to_commit = -1, .handed = -1};
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
            if (p >= 0 && p < a->max_parts) a->parts[p] = (part_state){.expected = -1, .to_commit = -1, .handed = -1};
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

/* Both workers' connections, or neither. */
static tthc_rc connect_stores(app *a, tthc_err *err)
{
    tthc_rc rc = store_connect(a->st, err);
    if (!rc && a->st1 && (rc = store_connect(a->st1, err))) store_disconnect(a->st);
    return rc;
}

static void try_connect(app *a)
{
    int64_t now = tthc_mono_ms();
    if (now < a->next_connect_ms) return;
    tthc_err err = {{0}};
    if (connect_stores(a, &err)) {
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
    for (int k = 0; k <= NWORKERS; k++) batch_init(&a.bufs[k]);
    a.cur = &a.bufs[0];
    for (int i = 0; i < NWORKERS; i++) {
        pthread_mutex_init(&a.w[i].mu, NULL);
        pthread_cond_init(&a.w[i].cv, NULL);
        a.w[i].app = &a;
    }
    pthread_mutex_init(&a.turn.mu, NULL);
    pthread_cond_init(&a.turn.cv, NULL);
    pthread_mutex_init(&a.hooks_mu, NULL);
    srand((unsigned)(tthc_now_us() ^ (int64_t)getpid()));
    tthc_rc rc = TTHC_OK;
    a.parts = calloc((size_t)a.max_parts, sizeof *a.parts);
    if (!a.parts) {
        rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
        goto done;
    }
    for (int32_t p = 0; p < a.max_parts; p++) a.parts[p] = (part_state){.expected = -1, .to_commit = -1, .handed = -1};
    if ((rc = observe_new(cfg->group, cfg->topic, a.max_parts, cfg->unassigned_grace_ms, &a.obs, err))) goto done;
    if ((rc = observe_serve(a.obs, cfg->metrics_listen, err))) goto done;
    if ((rc = store_new(cfg->dsn, cfg->group, cfg->topic, (int)cfg->statement_timeout_ms, &a.st, err))) goto done;
    a.nworkers = cfg->apply_connections >= NWORKERS ? NWORKERS : 1;
    if (a.nworkers > 1 &&
        (rc = store_new(cfg->dsn, cfg->group, cfg->topic, (int)cfg->statement_timeout_ms, &a.st1, err)))
        goto done;
    a.w[0].st = a.st;
    a.w[1].st = a.st1;
    if ((rc = dlq_new(cfg->brokers, cfg->dlq_topic, cfg->topic, (int)cfg->dlq_flush_ms, &a.dq, err))) goto done;
    if ((rc = refetch_new(cfg->brokers, cfg->topic, 10000, &a.rf, err))) goto done;
    a.hooks = (ingest_apply_hooks){.dlq = locked_dlq,
                                   .dlq_ctx = &a,
                                   .fetch = locked_fetch,
                                   .fetch_ctx = &a,
                                   .turn = a.nworkers > 1 ? turn_hook : NULL,
                                   .turn_ctx = &a.turn};
    tthc_err cerr = {{0}};
    if (connect_stores(&a, &cerr)) LOG_WARN("database_connect_failed", "error=\"%s\"", cerr.msg);
    else a.db_up = true;
    observe_db(a.obs, a.db_up);
    if ((rc = make_consumer(&a, err))) goto done;
    if ((rc = observe_probe_start(a.obs, a.rk, err))) goto done;
    if ((rc = wake_start(a.rk, (int)cfg->fetch_wake_ms, &a.wk, err))) goto done;
    LOG_INFO("started", "topic=%s group=%s batch_max=%ld batch_ms=%ld apply_connections=%d", cfg->topic, cfg->group,
             cfg->batch_max, cfg->batch_ms, a.nworkers);
    a.last_report_ms = tthc_mono_ms();

    for (int i = 0; i < a.nworkers; i++) {
        a.w[i].started = pthread_create(&a.w[i].thread, NULL, worker_main, &a.w[i]) == 0;
        if (!a.w[i].started) {
            rc = tthc_fail(err, TTHC_ENOMEM, "cannot start the apply threads");
            goto done;
        }
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
        /* A batch is handed over when full, or when batch_ms has passed and no
         * batch is in flight: while one is applied the next keeps growing (to
         * batch_max), so a backlog is applied in large transactions, two at a
         * time with two apply connections, and a trickle one transaction at a
         * time within batch_ms of its first message (twice the commits would
         * be twice the reports for tthc-sync to push, for no gain). */
        int timeout = 100;
        if (batch_count(a.cur)) {
            int64_t left = a.batch_started_ms + cfg->batch_ms - tthc_mono_ms();
            timeout = left < 0 ? (a.nfly ? 5 : 0) : left < 100 ? (int)left : 100;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(a.rk, timeout);
        if (m) consume_burst(&a, m);
        if ((long)batch_count(a.cur) >= cfg->batch_max ||
            (batch_count(a.cur) && !a.nfly && tthc_mono_ms() - a.batch_started_ms >= cfg->batch_ms))
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
    worker_collect(&a);
    for (int i = 0; i < NWORKERS; i++) {
        if (!a.w[i].started) continue;
        pthread_mutex_lock(&a.w[i].mu);
        a.w[i].quit = true;
        pthread_cond_broadcast(&a.w[i].cv);
        pthread_mutex_unlock(&a.w[i].mu);
        pthread_join(a.w[i].thread, NULL);
    }
    observe_probe_stop(a.obs); /* before the handle it probes through goes */
    wake_stop(a.wk);
    if (a.rk) rd_kafka_destroy(a.rk);
    observe_free(a.obs);
    dlq_free(a.dq);
    refetch_free(a.rf);
    store_free(a.st);
    if (a.st1) store_free(a.st1);
    for (int k = 0; k <= NWORKERS; k++) batch_free(&a.bufs[k]);
    for (int i = 0; i < NWORKERS; i++) {
        pthread_mutex_destroy(&a.w[i].mu);
        pthread_cond_destroy(&a.w[i].cv);
    }
    pthread_mutex_destroy(&a.turn.mu);
    pthread_cond_destroy(&a.turn.cv);
    pthread_mutex_destroy(&a.hooks_mu);
    free(a.parts);
    return rc;
}
