/* replay.c - one month's facts and totals rebuilt from the topic.
 *
 *   1. Check that the topic still holds every message (each partition's low
 *      watermark is 0): a replay from a trimmed topic would lose dossiers.
 *   1b. Read the topic once to list every event's (dossier, event id).
 *   2. In one transaction, with dossier and period_totals locked EXCLUSIVE
 *      (reads go on; the ingest's batches wait for this short step): forget
 *      the month's dossiers' events in applied_event, delete the dossiers and
 *      zero the month's buckets (revisions kept).
 *   3. Read every partition from offset 0 to the high watermark seen in 1,
 *      and apply it with tthc-ingest's own batch and store code under the
 *      consumer group --group (default tthc-admin-replay; its stored offsets
 *      are removed at the end).  Events of the other months' dossiers are
 *      known (applied_event) and change nothing; the deleted dossiers
 *      are rebuilt from all their events.  A running tthc-ingest is fine: an
 *      event applied by both counts once.  Rejected messages are not sent to
 *      the dead-letter topic again (the ingest did that already).
 *   4. Raise the month's revisions above everything sent, so that tthc-sync
 *      pushes the month again.
 * The dry run does 1 and counts what 2 would delete. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "admin.h"
#include "apply.h"
#include "batch.h"
#include "kafka.h"
#include "log.h"
#include "pg.h"
#include "store.h"
#include "timeutil.h"

#define REPLAY_BATCH_MAX 20000

typedef struct {
    int32_t nparts;
    int64_t *lo, *hi;  /* watermarks at the start */
    int64_t *expected; /* stored next offset of the replay group, -1 none */
    int64_t *reached;  /* next offset read */
    int64_t *scratch;  /* a batch's expected offsets, in its parts' order */
} topic_state;

static void topic_state_free(topic_state *t)
{
    free(t->lo);
    free(t->hi);
    free(t->expected);
    free(t->reached);
    free(t->scratch);
}

static tthc_rc open_consumer(const admin_config *cfg, rd_kafka_t **out, tthc_err *err)
{
    static const char *const defaults[] = {
        "enable.auto.commit",
        "false",
        "enable.auto.offset.store",
        "false",
        "enable.partition.eof",
        "true",
        "auto.offset.reset",
        "earliest",
        "client.id",
        "tthc-admin-replay",
        NULL,
    };
    tthc_rc rc = tthc_kafka_new(RD_KAFKA_CONSUMER, cfg->brokers, defaults, &(tthc_kafka_setup){.group_id = cfg->group},
                                out, err);
    if (rc) return rc;
    rd_kafka_poll_set_consumer(*out);
    return TTHC_OK;
}

/* Partition count and watermarks of the topic. */
static tthc_rc read_topic(rd_kafka_t *rk, const char *topic, topic_state *t, tthc_err *err)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    if (!rkt) return tthc_fail(err, TTHC_EKAFKA, "topic %s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (e) return tthc_fail(err, TTHC_EKAFKA, "metadata of %s: %s", topic, rd_kafka_err2str(e));
    int32_t n = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : 0;
    rd_kafka_resp_err_t terr = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    rd_kafka_metadata_destroy(md);
    if (n <= 0) return tthc_fail(err, TTHC_EKAFKA, "topic %s: %s", topic, rd_kafka_err2str(terr));
    t->nparts = n;
    t->lo = calloc((size_t)n, sizeof *t->lo);
    t->hi = calloc((size_t)n, sizeof *t->hi);
    t->expected = calloc((size_t)n, sizeof *t->expected);
    t->reached = calloc((size_t)n, sizeof *t->reached);
    t->scratch = calloc((size_t)n, sizeof *t->scratch);
    if (!t->lo || !t->hi || !t->expected || !t->reached || !t->scratch)
        return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    for (int32_t p = 0; p < n; p++) {
        e = rd_kafka_query_watermark_offsets(rk, topic, p, &t->lo[p], &t->hi[p], 10000);
        if (e) return tthc_fail(err, TTHC_EKAFKA, "watermarks of %s/%d: %s", topic, (int)p, rd_kafka_err2str(e));
        t->expected[p] = -1;
        t->reached[p] = t->lo[p];
    }
    return TTHC_OK;
}

static long long one_value(PGconn *c, const char *sql, const char *param, tthc_err *err, tthc_rc *rc)
{
    const char *p[1] = {param};
    PGresult *r = PQexecParams(c, sql, param ? 1 : 0, NULL, param ? p : NULL, NULL, NULL, 0);
    *rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "count", err);
    long long v = !*rc && PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
    PQclear(r);
    return v;
}

/* Step 2: the month's dossiers deleted and its buckets zeroed, in one transaction. */
static tthc_rc clear_month(PGconn *c, const char *period, const char *group, const char *topic, tthc_err *err)
{
    const char *p[1] = {period}, *g[2] = {group, topic};
    tthc_rc rc = tthc_pg_exec(c, "BEGIN", err);
    if (!rc) rc = tthc_pg_exec(c, "LOCK TABLE dossier, period_totals IN EXCLUSIVE MODE", err);
    PGresult *r = NULL;
    if (!rc) { /* the month's events, listed by pass 1, become new again */
        /* the month's dossiers: those stored with it, and those whose receipt in
         * the topic falls in it (a dossier row lost behind the service's back) */
        r = PQexecParams(c,
                         "DELETE FROM applied_event a USING replay_event r WHERE a.event_id = r.event_id"
                         " AND r.dossier_id IN (SELECT dossier_id FROM dossier WHERE period = $1"
                         "  UNION SELECT dossier_id FROM replay_event WHERE period = $1)",
                         1, NULL, p, NULL, NULL, 0);
        rc = tthc_pg_result(c, r, PGRES_COMMAND_OK, "forget the month's applied events", err);
        PQclear(r);
    }
    if (!rc) {
        r = PQexecParams(c, "DELETE FROM dossier WHERE period = $1", 1, NULL, p, NULL, NULL, 0);
        rc = tthc_pg_result(c, r, PGRES_COMMAND_OK, "delete the month's dossiers", err);
        PQclear(r);
    }
    if (!rc) {
        r = PQexecParams(c,
                         "UPDATE period_totals SET received = 0, online = 0, comp_digitized = 0, data_reused = 0,"
                         " id_tagged = 0, issued = 0, result_digitized = 0, e_result = 0, synced = 0, due_issued = 0,"
                         " on_time = 0, payments = 0, payments_online = 0, rated = 0, satisfied = 0 WHERE period = $1",
                         1, NULL, p, NULL, NULL, 0);
        rc = tthc_pg_result(c, r, PGRES_COMMAND_OK, "zero the month's buckets", err);
        PQclear(r);
    }
    if (!rc) {
        r = PQexecParams(c, "DELETE FROM consumer_offset WHERE group_id = $1 AND topic = $2", 2, NULL, g, NULL, NULL,
                         0);
        rc = tthc_pg_result(c, r, PGRES_COMMAND_OK, "forget the replay group's offsets", err);
        PQclear(r);
    }
    if (!rc) rc = tthc_pg_exec(c, "COMMIT", err);
    if (rc) {
        tthc_err ignored;
        if (tthc_pg_exec(c, "ROLLBACK", &ignored)) LOG_DEBUG("rollback_failed", "error=%s", ignored.msg);
    }
    return rc;
}

/* Step 4: revisions above both ours and the portal's, queued; the replay
 * group's offsets removed. */
static tthc_rc finish_month(PGconn *c, const char *period, const char *group, const char *topic, long long *queued,
                            tthc_err *err)
{
    const char *p[1] = {period}, *g[2] = {group, topic};
    PGresult *r = PQexecParams(
        c,
        "WITH raised AS ("
        " UPDATE period_totals t SET revision = greatest(t.revision, coalesce(s.sent_revision, 0)) + 1"
        " FROM period_totals t0 LEFT JOIN sync_state s ON s.unit_code = t0.unit_code AND s.period = t0.period"
        " WHERE t0.unit_code = t.unit_code AND t0.period = t.period AND t.period = $1"
        " RETURNING t.unit_code, t.period"
        "), queued AS ("
        " INSERT INTO sync_state AS s (unit_code, period, waiting_since) SELECT unit_code, period, now() FROM raised"
        " ON CONFLICT (unit_code, period) DO UPDATE SET status = 'pending', parked_revision = NULL, attempts = 0,"
        "  next_attempt_at = '-infinity', waiting_since = coalesce(s.waiting_since, now()), updated_at = now()"
        " RETURNING 1"
        ") SELECT count(*) FROM queued",
        1, NULL, p, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "queue the month", err);
    *queued = !rc ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    if (rc) return rc;
    r = PQexecParams(c, "DELETE FROM consumer_offset WHERE group_id = $1 AND topic = $2", 2, NULL, g, NULL, NULL, 0);
    rc = tthc_pg_result(c, r, PGRES_COMMAND_OK, "remove the replay group's offsets", err);
    PQclear(r);
    if (!rc) rc = tthc_pg_exec(c, "NOTIFY tthc_totals", err);
    return rc;
}

/* Applies b (apply_batch, retried while transient), then resets it. */
static tthc_rc apply(ingest_store *st, ingest_batch *b, topic_state *t, unsigned long long *applied, tthc_err *err)
{
    if (!batch_count(b)) return TTHC_OK;
    size_t np = b->nparts; /* at most one part per partition */
    if (np > (size_t)t->nparts) return tthc_fail(err, TTHC_EINVAL, "more parts than partitions in a batch");
    for (size_t i = 0; i < np; i++) b->parts[i].expected = t->expected[b->parts[i].partition];
    static const ingest_apply_hooks no_hooks; /* a replay dead-letters nothing: ingest did */
    tthc_rc rc;
    for (int attempt = 1;; attempt++) {
        rc = apply_batch(st, b, &no_hooks, err);
        if (rc != TTHC_ERETRY || attempt >= 5) break;
        LOG_WARN("batch_retry", "attempt=%d error=%s", attempt, err->msg);
        if (!store_connected(st) && (rc = store_connect(st, err))) break;
        /* apply_batch() left the batch's fold state; the stored offsets did not move: same batch again. */
    }
    if (rc) return rc;
    for (size_t i = 0; i < np; i++) t->expected[b->parts[i].partition] = b->parts[i].next;
    for (int k = 0; k < TTHC_EV__COUNT; k++) *applied += b->applied_by_type[k];
    batch_reset(b);
    return TTHC_OK;
}

/* Appends s to an array literal being built ("a","b",...). */
static int array_add(tthc_sb *a, const char *s)
{
    int r = tthc_sb_addc(a, a->len > 1 ? ',' : '{') | tthc_sb_addc(a, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') r |= tthc_sb_addc(a, '\\');
        r |= tthc_sb_addc(a, *s);
    }
    return r | tthc_sb_addc(a, '"');
}

/* Pass 1: the (dossier, event) pairs of b into the session's replay_event. */
static tthc_rc collect(PGconn *c, ingest_batch *b, tthc_err *err)
{
    tthc_sb d, e, m;
    tthc_sb_init(&d, 1u << 30);
    tthc_sb_init(&e, 1u << 30);
    tthc_sb_init(&m, 1u << 30);
    int r = 0;
    tthc_event ev;
    char month[8];
    for (size_t i = 0; i < b->nitems; i++) {
        batch_item_event(b, &b->items[i], &ev);
        month[0] = '\0';
        if (ev.type == TTHC_EV_RECEIVED && tthc_cohort_month(ev.received_at, month, NULL)) month[0] = '\0';
        r |= array_add(&d, ev.dossier_id) | array_add(&e, ev.event_id) | array_add(&m, month);
    }
    r |= tthc_sb_addc(&d, '}') | tthc_sb_addc(&d, '\0') | tthc_sb_addc(&e, '}') | tthc_sb_addc(&e, '\0');
    r |= tthc_sb_addc(&m, '}') | tthc_sb_addc(&m, '\0');
    tthc_rc rc = TTHC_OK;
    if (r) rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
    else if (b->nitems) {
        const char *p[3] = {d.p, e.p, m.p};
        PGresult *res = PQexecParams(c,
                                     "INSERT INTO replay_event SELECT d, e, nullif(m, '')"
                                     " FROM unnest($1::text[], $2::text[], $3::text[]) AS u (d, e, m)",
                                     3, NULL, p, NULL, NULL, 0);
        rc = tthc_pg_result(c, res, PGRES_COMMAND_OK, "list the topic's events", err);
        PQclear(res);
    }
    tthc_sb_free(&d);
    tthc_sb_free(&e);
    tthc_sb_free(&m);
    batch_reset(b);
    return rc;
}

static int all_reached(const topic_state *t)
{
    for (int32_t p = 0; p < t->nparts; p++)
        if (t->reached[p] < t->hi[p]) return 0;
    return 1;
}

/* Step 3. */
/* Step 3 (st) or pass 1 (c: only lists the events into replay_event). */
static tthc_rc read_and_apply(const admin_config *cfg, rd_kafka_t *rk, topic_state *t, ingest_store *st, PGconn *c,
                              unsigned long long *messages, unsigned long long *applied, tthc_err *err)
{
    for (int32_t p = 0; p < t->nparts; p++) t->reached[p] = t->lo[p];
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(t->nparts);
    for (int32_t p = 0; p < t->nparts; p++)
        if (t->hi[p] > t->lo[p]) rd_kafka_topic_partition_list_add(l, cfg->topic, p)->offset = t->lo[p];
    rd_kafka_resp_err_t e = l->cnt ? rd_kafka_assign(rk, l) : RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_topic_partition_list_destroy(l);
    if (e) return tthc_fail(err, TTHC_EKAFKA, "assign: %s", rd_kafka_err2str(e));
    ingest_batch b;
    batch_init(&b);
    tthc_rc rc = TTHC_OK;
    int64_t deadline = tthc_mono_ms() + cfg->timeout_s * 1000;
    while (!rc && !all_reached(t)) {
        if (tthc_mono_ms() > deadline) {
            rc = tthc_fail(err, TTHC_ETIMEOUT, "the topic was not read within --timeout %ld s", cfg->timeout_s);
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m) {
            int32_t p = m->partition;
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (p >= 0 && p < t->nparts && m->offset > t->reached[p]) t->reached[p] = m->offset;
            } else if (m->err) {
                LOG_WARN("consume_error", "error=%s", rd_kafka_message_errstr(m));
            } else if (p >= 0 && p < t->nparts && m->offset < t->hi[p] && m->offset >= t->reached[p]) {
                if (batch_add(&b, p, m->offset, rd_kafka_message_timestamp(m, NULL), m->key, m->key_len, m->payload,
                              m->len))
                    rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
                t->reached[p] = m->offset + 1;
                (*messages)++;
            }
            rd_kafka_message_destroy(m);
        }
        if (!rc && (batch_count(&b) >= REPLAY_BATCH_MAX || (!m && batch_count(&b)) || all_reached(t)))
            rc = c ? collect(c, &b, err) : apply(st, &b, t, applied, err);
    }
    if (!rc) rc = c ? collect(c, &b, err) : apply(st, &b, t, applied, err);
    batch_free(&b);
    return rc;
}

tthc_rc admin_replay(const admin_config *cfg, bool *found, tthc_err *err)
{
    rd_kafka_t *rk = NULL;
    PGconn *c = NULL;
    ingest_store *st = NULL;
    topic_state t = {0};
    tthc_rc rc;
    *found = false;
    if (!admin_period_ok(cfg->period)) return tthc_fail(err, TTHC_EINVAL, "replay needs --period YYYY-MM");
    if ((rc = open_consumer(cfg, &rk, err)) || (rc = read_topic(rk, cfg->topic, &t, err))) goto done;
    long long messages = 0;
    int trimmed = 0;
    for (int32_t p = 0; p < t.nparts; p++) {
        messages += t.hi[p] - t.lo[p];
        if (t.lo[p] > 0) {
            trimmed = 1;
            printf("partition %d: the oldest message is at offset %lld: %lld message(s) are gone\n", (int)p,
                   (long long)t.lo[p], (long long)t.lo[p]);
        }
    }
    if ((rc = tthc_pg_connect(cfg->dsn, "tthc-admin replay", (int)cfg->statement_timeout_ms, &c, err))) goto done;
    long long before = one_value(c, "SELECT count(*) FROM dossier WHERE period = $1", cfg->period, err, &rc);
    if (rc) goto done;
    long long buckets = one_value(c, "SELECT count(*) FROM period_totals WHERE period = $1", cfg->period, err, &rc);
    if (rc) goto done;
    printf("%s: %lld dossier(s) and %lld bucket(s) in the database; the topic %s holds %lld message(s) in %d "
           "partition(s)%s\n",
           cfg->period, before, buckets, cfg->topic, messages, (int)t.nparts,
           trimmed ? " but not from the beginning" : ", all from offset 0");
    if (trimmed) {
        tthc_err why = {{0}};
        rc = tthc_fail(&why, TTHC_EINVAL,
                       "the topic no longer holds every message (retention): a replay would lose dossiers; use "
                       "tthc-admin recompute --period %s (from the stored facts) instead",
                       cfg->period);
        if (cfg->dry_run) { /* what the dry run found: exit 1, not an error */
            printf("dry run: a replay is impossible: %s\n", why.msg);
            *found = true;
            rc = TTHC_OK;
        } else {
            *err = why;
        }
        goto done;
    }
    if (cfg->dry_run) {
        printf("dry run: would delete the %lld dossier(s) of %s, zero its %lld bucket(s), re-read %lld message(s) "
               "and push the month again; nothing changed\n",
               before, cfg->period, buckets, messages);
        goto done;
    }
    if ((rc = store_new(cfg->dsn, cfg->group, cfg->topic, (int)cfg->statement_timeout_ms, &st, err)) ||
        (rc = store_connect(st, err)))
        goto done;
    unsigned long long read = 0, applied = 0;
    if ((rc = tthc_pg_exec(
             c, "CREATE TEMP TABLE replay_event (dossier_id text, event_id text COLLATE \"C\", period text)", err)) ||
        (rc = read_and_apply(cfg, rk, &t, NULL, c, &read, &applied, err)))
        goto done;
    read = 0;
    if ((rc = clear_month(c, cfg->period, cfg->group, cfg->topic, err))) goto done;
    LOG_INFO("replay_cleared", "period=%s dossiers=%lld buckets=%lld", cfg->period, before, buckets);
    int64_t t0 = tthc_mono_ms();
    if ((rc = read_and_apply(cfg, rk, &t, st, NULL, &read, &applied, err))) {
        LOG_ERROR("replay_incomplete", "period=%s error=%s note=\"run the replay again: it starts over\"", cfg->period,
                  err->msg);
        goto done;
    }
    long long queued = 0;
    if ((rc = finish_month(c, cfg->period, cfg->group, cfg->topic, &queued, err))) goto done;
    long long after = one_value(c, "SELECT count(*) FROM dossier WHERE period = $1", cfg->period, err, &rc);
    if (rc) goto done;
    printf("read %llu message(s) in %.1f s, %llu event(s) applied anew; %s: %lld dossier(s) before, %lld after; "
           "%lld report(s) queued for the portal\n",
           read, (double)(tthc_mono_ms() - t0) / 1000.0, applied, cfg->period, before, after, queued);
    LOG_INFO("replayed", "period=%s messages=%llu applied=%llu dossiers_before=%lld dossiers_after=%lld queued=%lld",
             cfg->period, read, applied, before, after, queued);
done:
    store_free(st);
    if (c) PQfinish(c);
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    topic_state_free(&t);
    return rc;
}
