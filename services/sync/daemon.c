/* daemon.c - the tthc-sync daemon: one dispatcher, several senders.
 *
 * The dispatcher (the main thread) keeps a connection that LISTENs on
 * tthc_totals (the ingest transaction NOTIFYs it) and scans on every
 * notification and at least every poll_ms: it creates sync_state rows for new
 * buckets, refreshes the queue gauges, and wakes the workers.
 *
 * Each worker owns a PostgreSQL connection and a libcurl handle (kept alive
 * between requests).  It claims a batch of due reports with a lease, sends
 * them one by one, and records each outcome before the next; no transaction
 * is open while a request is in flight.  Several workers (and several
 * processes) never send one report at the same time: claims use
 * FOR UPDATE SKIP LOCKED and leases, and every outcome is recorded only by
 * the lease holder (queue.h).
 *
 * Per report (process_item), a small state machine:
 *   POST --2xx--> ack                 --5xx/429/408/none--> retry with backoff
 *        --401--> park + pause all sending (auth circuit), one error line
 *        --4xx--> park at this revision (a later revision un-parks it)
 *        --409--> GET the portal's copy: same counters -> ack (adopting the
 *                 portal's revision number); different -> raise our revision
 *                 above the portal's and POST once more.
 *
 * Signals: SIGTERM/SIGINT/SIGHUP are blocked in every thread and only
 * delivered inside the dispatcher's ppoll().  On SIGTERM/SIGINT the workers
 * finish the request in flight, record it, release their leases and exit.
 * On SIGHUP the dispatcher re-reads --token-file; each worker takes the new
 * token before its next report, the 401 pause is lifted and the reports
 * parked for 401 are queued again. */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "freshness.h"
#include "httpd.h"
#include "log.h"
#include "outcome.h"
#include "pg.h"
#include "portal.h"
#include "queue.h"
#include "signals.h"
#include "sync.h"
#include "sync_metrics.h"
#include "timeutil.h"

#define ANSWER_MAX            1000 /* bytes of a portal answer kept in last_error */
#define SCAN_MIN_INTERVAL_MS  20   /* NOTIFY storms coalesce into one scan per 20 ms */
#define STATS_MIN_INTERVAL_MS 250
#define FRESHNESS_INTERVAL_MS 15000 /* per-unit gauges: one GROUP BY over period_totals */
#define PROGRESS_INTERVAL_MS  10000
#define AUTH_RELOG_MS         (10 * 60 * 1000) /* a still-wrong token is reported again after 10 min */

typedef struct sync_daemon sync_daemon;

typedef struct {
    sync_daemon *d;
    int idx;
    char owner[256];
    PGconn *db;
    int db_down_logged;
    int64_t db_next_try;
    sync_portal *portal;
    uint64_t rng;
    sync_item *items;
    pthread_t th;
    int started;
    unsigned long token_gen; /* the generation of the token its portal handle sends */
} sync_worker;

struct sync_daemon {
    const sync_config *cfg;
    sync_metrics *m;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned long gen; /* bumped at every scan: workers waiting for work wake up */
    atomic_int stopping;
    atomic_llong auth_until;  /* tthc_mono_ms() until which nothing is sent (401 circuit) */
    atomic_int auth_failing;  /* a 401 came and no 2xx since */
    atomic_llong auth_logged; /* tthc_mono_ms() of the last error line about the token */
    int64_t margin_ms;        /* longest time one report may take: 3 requests and the database */
    sync_worker *workers;
    char instance[128];
    char self[200];         /* "<instance>/<pid>/<nonce>/": the prefix of our lease owners */
    char *token;            /* the bearer token in force (under mu; secret) */
    atomic_ulong token_gen; /* bumped at every reload */
    /* The last transient failure, for the periodic warning (under mu). */
    long last_retry_status;
    char last_retry_error[256];
};

/* ---- waiting ---------------------------------------------------------------- */

static void deadline_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static unsigned long current_gen(sync_daemon *d)
{
    pthread_mutex_lock(&d->mu);
    unsigned long g = d->gen;
    pthread_mutex_unlock(&d->mu);
    return g;
}

/* Waits up to ms for stop or (when any_scan) for a scan after generation seen. */
static void wait_for(sync_daemon *d, int any_scan, unsigned long seen, int64_t ms)
{
    struct timespec ts;
    if (ms <= 0) return;
    deadline_in(&ts, ms);
    pthread_mutex_lock(&d->mu);
    while (!atomic_load(&d->stopping) && !(any_scan && d->gen != seen))
        if (pthread_cond_timedwait(&d->cv, &d->mu, &ts) == ETIMEDOUT) break;
    pthread_mutex_unlock(&d->mu);
}

static void wake_all(sync_daemon *d)
{
    pthread_mutex_lock(&d->mu);
    d->gen++;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* ---- a worker's database connection ------------------------------------------ */

static void db_drop(sync_worker *w)
{
    if (w->db) PQfinish(w->db);
    w->db = NULL;
}

/* Connects if needed; at most one attempt per second while PostgreSQL is away. */
static int db_ready(sync_worker *w)
{
    if (w->db && PQstatus(w->db) == CONNECTION_OK) return 1;
    db_drop(w);
    int64_t now = tthc_mono_ms();
    if (now < w->db_next_try) return 0;
    tthc_err err = {{0}};
    char q[600];
    if (tthc_pg_connect(w->d->cfg->dsn, "tthc-sync", (int)w->d->cfg->statement_timeout_ms, &w->db, &err)) {
        w->db_next_try = now + 1000;
        if (!w->db_down_logged)
            LOG_WARN("db_unavailable", "worker=%d error=%s", w->idx, tthc_log_quote(q, sizeof q, err.msg));
        w->db_down_logged = 1;
        return 0;
    }
    if (w->db_down_logged) LOG_INFO("db_reconnected", "worker=%d", w->idx);
    w->db_down_logged = 0;
    return 1;
}

static void db_failed(sync_worker *w, tthc_rc rc, const tthc_err *err, const char *what)
{
    char q[600];
    LOG_WARN("db_error", "worker=%d op=%s rc=%s error=%s", w->idx, what, tthc_rc_name(rc),
             tthc_log_quote(q, sizeof q, err->msg));
    if (!w->db || PQstatus(w->db) != CONNECTION_OK) db_drop(w);
}

/* Records an outcome, retrying while PostgreSQL is away (the portal already
 * answered: the answer must not be lost lightly).  Gives up on a hard
 * database error, or at shutdown while the database is away; the lease then
 * runs out and the report is sent again (same key: the portal answers
 * "duplicate").  Returns 1 when recorded. */
static int finish(sync_worker *w, const sync_item *it, const sync_finish *f)
{
    sync_daemon *d = w->d;
    for (;;) {
        if (db_ready(w)) {
            tthc_err err = {{0}};
            int applied = 0;
            tthc_rc rc = sync_q_finish(w->db, w->owner, it, f, &applied, &err);
            if (!rc) {
                if (!applied)
                    LOG_WARN("lease_lost", "unit=%s period=%s revision=%lld note=\"outcome not recorded\"",
                             it->t.unit_code, it->t.period, it->t.revision);
                return applied;
            }
            db_failed(w, rc, &err, "finish");
            if (rc != TTHC_ERETRY) return 0;
        }
        if (atomic_load(&d->stopping)) {
            LOG_WARN("outcome_not_recorded", "unit=%s period=%s revision=%lld note=\"database away at shutdown\"",
                     it->t.unit_code, it->t.period, it->t.revision);
            return 0;
        }
        wait_for(d, 0, 0, 250);
    }
}

/* ---- outcomes ------------------------------------------------------------------ */

static void auth_ok(sync_daemon *d)
{
    if (atomic_exchange(&d->auth_failing, 0)) {
        atomic_store(&d->auth_until, 0);
        sync_metrics_auth_blocked(d->m, 0);
        LOG_INFO("portal_authorized", "note=\"the portal accepts the token again\"");
    }
}

static void ack(sync_worker *w, const sync_item *it, long long revision, int status, sync_metric_outcome label)
{
    sync_finish f = {.kind = SYNC_FIN_SYNCED, .revision = revision, .http_status = status};
    if (!finish(w, it, &f)) return;
    sync_metrics_outcome(w->d->m, label);
    sync_metrics_success(w->d->m, (double)tthc_now_us() / 1e6);
    sync_metrics_lag(w->d->m, (double)(it->age_ms + tthc_mono_ms() - it->claimed_mono_ms) / 1000.0);
    LOG_DEBUG("acknowledged", "unit=%s period=%s revision=%lld outcome=%s", it->t.unit_code, it->t.period, revision,
              sync_metrics_outcome_name(label));
}

/* The text kept in last_error: curl's message, or the (truncated) answer. */
static const char *answer_text(const sync_http_result *res, char *buf, size_t cap)
{
    if (res->status == 0) return sync_sanitize(buf, cap, res->error, strlen(res->error));
    return sync_sanitize(buf, cap, res->body, res->body_len);
}

/* A failed attempt: try again after a backoff (at least Retry-After); text is
 * what sync_state.last_error keeps, label the outcome counted. */
static void retry_as(sync_worker *w, const sync_item *it, const sync_http_result *res, const char *text,
                     sync_metric_outcome label)
{
    const sync_config *cfg = w->d->cfg;
    char q[ANSWER_MAX + 8];
    int64_t delay = sync_backoff_ms(it->attempts + 1, cfg->backoff_base_ms, cfg->backoff_cap_ms, res->retry_after_ms,
                                    sync_rand_unit(&w->rng));
    sync_finish f = {.kind = SYNC_FIN_RETRY, .http_status = (int)res->status, .error = text, .delay_ms = delay};
    if (!finish(w, it, &f)) return;
    sync_metrics_outcome(w->d->m, label);
    pthread_mutex_lock(&w->d->mu);
    w->d->last_retry_status = res->status;
    sync_sanitize(w->d->last_retry_error, sizeof w->d->last_retry_error, text, strlen(text));
    pthread_mutex_unlock(&w->d->mu);
    LOG_DEBUG("retry", "unit=%s period=%s revision=%lld status=%ld attempt=%d delay_ms=%lld answer=%s", it->t.unit_code,
              it->t.period, it->t.revision, res->status, it->attempts + 1, (long long)delay,
              tthc_log_quote(q, sizeof q, text));
}

static void retry(sync_worker *w, const sync_item *it, const sync_http_result *res)
{
    char text[ANSWER_MAX + 1];
    retry_as(w, it, res, answer_text(res, text, sizeof text), SYNC_M_RETRY);
}

/* A 2xx the contract does not describe (an HTML page, another revision, ...):
 * never an acceptance; retried with backoff, counted, logged. */
static void bad_answer(sync_worker *w, const sync_item *it, const sync_http_result *res, long long answered)
{
    char body[ANSWER_MAX / 2], text[ANSWER_MAX + 1], q[ANSWER_MAX + 8];
    sync_sanitize(body, sizeof body, res->body, res->body_len);
    snprintf(text, sizeof text,
             "not an acceptance: HTTP %ld, expected 200 {\"status\":\"accepted\"|\"duplicate\",\"revision\":%lld}, "
             "answered revision %lld: %s",
             res->status, it->t.revision, answered, body);
    LOG_WARN("portal_bad_answer", "unit=%s period=%s revision=%lld status=%ld answered_revision=%lld answer=%s",
             it->t.unit_code, it->t.period, it->t.revision, res->status, answered, tthc_log_quote(q, sizeof q, body));
    retry_as(w, it, res, text, SYNC_M_BAD_ANSWER);
}

/* The text kept for a parked answer: a redirect says where it pointed (never followed). */
static const char *park_text(const sync_http_result *res, char *buf, size_t cap)
{
    if (res->status < 300 || res->status > 399) return answer_text(res, buf, cap);
    snprintf(buf, cap, "redirect to %s (not followed: the token goes to the configured portal URL only)",
             res->location[0] ? res->location : "(no Location)");
    return buf;
}

static void park(sync_worker *w, const sync_item *it, int status, const char *text)
{
    char q[ANSWER_MAX + 8];
    sync_finish f = {.kind = SYNC_FIN_PARK, .revision = it->t.revision, .http_status = status, .error = text};
    if (!finish(w, it, &f)) return;
    sync_metrics_outcome(w->d->m, sync_metrics_park_label(status));
    if (status != 401)
        LOG_WARN("parked", "unit=%s period=%s revision=%lld status=%d answer=%s", it->t.unit_code, it->t.period,
                 it->t.revision, status, tthc_log_quote(q, sizeof q, text));
}

/* 401: the token is wrong for every report.  Park this one, pause all
 * sending for auth_pause_ms, and say so once (not once per report). */
static void unauthorized(sync_worker *w, const sync_item *it, const sync_http_result *res)
{
    sync_daemon *d = w->d;
    char text[ANSWER_MAX + 1];
    int64_t now = tthc_mono_ms();
    atomic_store(&d->auth_until, now + d->cfg->auth_pause_ms);
    sync_metrics_auth_blocked(d->m, 1);
    int was = atomic_exchange(&d->auth_failing, 1);
    long long last = atomic_load(&d->auth_logged);
    if (!was || now - last >= AUTH_RELOG_MS) {
        atomic_store(&d->auth_logged, now);
        LOG_ERROR("portal_unauthorized",
                  "status=401 pause_ms=%ld note=\"the portal refuses the token (TTHC_PORTAL_TOKEN or --token-file):"
                  " sending paused; reports parked for 401 are sent again after a restart or `tthc-sync unpark`\"",
                  d->cfg->auth_pause_ms);
    }
    park(w, it, 401, answer_text(res, text, sizeof text));
}

/* ---- one report ------------------------------------------------------------------ */

typedef enum { STALE_DONE, STALE_RESEND } stale_step;

/* 409: re-read the portal's copy.  Same counters: acknowledge (adopting the
 * portal's higher revision number, so the next change is not stale again).
 * Different: raise our revision above the portal's; the caller sends again. */
static stale_step resolve_stale(sync_worker *w, sync_item *it, long long current)
{
    sync_daemon *d = w->d;
    sync_http_result g;
    tthc_err err = {{0}};
    sync_portal_report *reps = NULL;
    size_t n = 0;
    stale_step step = STALE_DONE;
    char q[600];
    sync_finish release = {.kind = SYNC_FIN_RELEASE};
    if (sync_portal_get(w->portal, it->t.period, it->t.unit_code, &g, &err)) {
        LOG_ERROR("portal_get_failed", "error=%s", tthc_log_quote(q, sizeof q, err.msg));
        (void)finish(w, it, &release);
        return STALE_DONE;
    }
    sync_metrics_request(d->m, g.seconds);
    if (g.status != 200) {
        char text[ANSWER_MAX + 1];
        if (g.status == 401) unauthorized(w, it, &g);
        else if (g.status >= 300 && g.status < 400) park(w, it, (int)g.status, park_text(&g, text, sizeof text));
        else retry(w, it, &g);
        return STALE_DONE;
    }
    const sync_portal_report *p = NULL;
    if (!sync_parse_reports(g.body, g.body_len, &reps, &n, &err)) {
        for (size_t i = 0; i < n && !p; i++)
            if (!strcmp(reps[i].unit_code, it->t.unit_code) && !strcmp(reps[i].period, it->t.period)) p = &reps[i];
    }
    if (!p) {
        /* 409 but no readable copy: odd; try again later rather than loop. */
        sync_http_result odd = g;
        odd.status = 409;
        retry(w, it, &odd);
        goto done;
    }
    sync_values ours;
    sync_values_from_counts(it->t.counts, &ours);
    long long from = it->t.revision;
    if (sync_values_equal(&ours, &p->v)) {
        long long acked = from;
        if (p->revision > from && db_ready(w)) {
            int raised = 0;
            tthc_rc rc = sync_q_raise(w->db, w->owner, it, p->revision, &raised, &err);
            if (rc) db_failed(w, rc, &err, "adopt revision");
            else if (raised) acked = p->revision;
        }
        LOG_INFO("stale_resolved", "unit=%s period=%s revision=%lld portal_revision=%lld action=acknowledged",
                 it->t.unit_code, it->t.period, from, p->revision);
        ack(w, it, acked, 409, SYNC_M_STALE_SYNCED);
        goto done;
    }
    long long to = p->revision > current ? p->revision : current;
    if (from > to) to = from;
    to++;
    int raised = 0;
    if (db_ready(w)) {
        tthc_rc rc = sync_q_raise(w->db, w->owner, it, to, &raised, &err);
        if (rc) db_failed(w, rc, &err, "raise revision");
    }
    if (raised) {
        LOG_INFO("stale_resolved",
                 "unit=%s period=%s revision=%lld portal_revision=%lld action=raised new_revision=%lld",
                 it->t.unit_code, it->t.period, from, p->revision, to);
        sync_metrics_outcome(d->m, SYNC_M_STALE_RAISED);
        step = STALE_RESEND;
    } else {
        (void)finish(w, it, &release); /* the bucket changed meanwhile: its newer revision will be sent */
    }
done:
    free(reps);
    return step;
}

/* Takes a reloaded token into the worker's portal handle. */
static void worker_token(sync_worker *w)
{
    sync_daemon *d = w->d;
    unsigned long gen = atomic_load(&d->token_gen);
    if (gen == w->token_gen) return;
    tthc_err err = {{0}};
    pthread_mutex_lock(&d->mu);
    tthc_rc rc = sync_portal_set_token(w->portal, d->token, &err);
    pthread_mutex_unlock(&d->mu);
    if (rc) LOG_ERROR("token_not_taken", "worker=%d error=%s", w->idx, err.msg);
    else w->token_gen = gen;
}

static void process_item(sync_worker *w, sync_item *it)
{
    sync_daemon *d = w->d;
    char key[SYNC_KEY_MAX + 8], q[ANSWER_MAX + 8];
    worker_token(w);
    if (it->bad || sync_idempotency_key(key, sizeof key, it->t.unit_code, it->t.period, it->t.revision)) {
        park(w, it, 0, "unit_code or period too long to send");
        return;
    }
    for (int resent = 0;; resent++) {
        sync_http_result res;
        tthc_err err = {{0}};
        sync_finish release = {.kind = SYNC_FIN_RELEASE};
        char *json = sync_report_json(&it->t, it->generated_at_us);
        if (!json) {
            LOG_ERROR("out_of_memory", "op=report_json");
            (void)finish(w, it, &release);
            return;
        }
        tthc_rc rc = sync_portal_post(w->portal, key, json, &res, &err);
        free(json);
        if (rc) {
            LOG_ERROR("portal_post_failed", "error=%s", tthc_log_quote(q, sizeof q, err.msg));
            (void)finish(w, it, &release);
            return;
        }
        sync_metrics_request(d->m, res.seconds);
        long long cur = -1;
        char text[ANSWER_MAX + 1];
        switch (sync_classify(res.status, res.body, res.body_len, it->t.revision, &cur)) {
        case SYNC_ACCEPTED:
            auth_ok(d);
            ack(w, it, it->t.revision, (int)res.status, SYNC_M_ACCEPTED);
            return;
        case SYNC_DUPLICATE:
            auth_ok(d);
            ack(w, it, it->t.revision, (int)res.status, SYNC_M_DUPLICATE);
            return;
        case SYNC_RETRY: retry(w, it, &res); return;
        case SYNC_PARK: park(w, it, (int)res.status, park_text(&res, text, sizeof text)); return;
        case SYNC_BAD_ANSWER: bad_answer(w, it, &res, cur); return;
        case SYNC_UNAUTHORIZED: unauthorized(w, it, &res); return;
        case SYNC_STALE:
            if (resent) { /* stale again right after raising: someone else moves it; back off */
                retry(w, it, &res);
                return;
            }
            if (resolve_stale(w, it, cur) != STALE_RESEND) return;
            if (sync_idempotency_key(key, sizeof key, it->t.unit_code, it->t.period, it->t.revision)) {
                park(w, it, 0, "idempotency key too long");
                return;
            }
            break;
        }
    }
}

/* ---- the worker thread -------------------------------------------------------------- */

static int auth_paused(sync_daemon *d, int64_t *left)
{
    int64_t until = atomic_load(&d->auth_until), now = tthc_mono_ms();
    if (left) *left = until - now;
    return until > now;
}

static void process_batch(sync_worker *w, size_t n)
{
    sync_daemon *d = w->d;
    const sync_config *cfg = d->cfg;
    size_t i = 0;
    for (; i < n; i++) {
        sync_item *it = &w->items[i];
        if (it->done) continue;
        if (atomic_load(&d->stopping) || auth_paused(d, NULL)) break;
        if (tthc_mono_ms() - it->lease_mono_ms + d->margin_ms > cfg->lease_ms) {
            tthc_err err = {{0}};
            tthc_rc rc = db_ready(w) ? sync_q_renew(w->db, w->owner, cfg->lease_ms, w->items, n, &err) : TTHC_ERETRY;
            if (rc) {
                if (w->db) db_failed(w, rc, &err, "renew");
                break;
            }
            if (it->done) continue;
        }
        process_item(w, it);
        it->done = 1;
    }
    int left = 0;
    for (size_t k = i; k < n; k++) left |= !w->items[k].done;
    if (left && db_ready(w)) {
        tthc_err err = {{0}};
        long released = 0;
        tthc_rc rc = sync_q_release(w->db, w->owner, &released, &err);
        if (rc) db_failed(w, rc, &err, "release");
    }
}

static void *worker_main(void *arg)
{
    sync_worker *w = arg;
    sync_daemon *d = w->d;
    const sync_config *cfg = d->cfg;
    while (!atomic_load(&d->stopping)) {
        unsigned long seen = current_gen(d);
        int64_t left;
        if (auth_paused(d, &left)) {
            wait_for(d, 0, 0, left < cfg->poll_ms ? left : cfg->poll_ms);
            continue;
        }
        if (!db_ready(w)) {
            wait_for(d, 0, 0, 250);
            continue;
        }
        tthc_err err = {{0}};
        size_t n = 0;
        tthc_rc rc = sync_q_claim(w->db, w->owner, cfg->lease_ms, w->items, (size_t)cfg->batch, &n, &err);
        if (rc) {
            db_failed(w, rc, &err, "claim");
            wait_for(d, 0, 0, 250);
            continue;
        }
        if (!n) {
            wait_for(d, 1, seen, cfg->poll_ms);
            continue;
        }
        process_batch(w, n);
    }
    if (w->db && PQstatus(w->db) == CONNECTION_OK) {
        tthc_err err = {{0}};
        long released = 0;
        if (sync_q_release(w->db, w->owner, &released, &err)) db_failed(w, TTHC_EDB, &err, "release");
    }
    db_drop(w);
    return NULL;
}

/* ---- the dispatcher ------------------------------------------------------------------- */

typedef struct {
    PGconn *conn;
    int down_logged;
    int startup_done;
    int64_t next_try;
    int64_t last_stats;
    int64_t next_due_ms;
    int64_t last_freshness;
} dispatcher;

static void disp_drop(sync_daemon *d, dispatcher *ds)
{
    if (ds->conn) PQfinish(ds->conn);
    ds->conn = NULL;
    sync_metrics_ready(d->m, 0);
}

static void disp_failed(sync_daemon *d, dispatcher *ds, tthc_rc rc, const tthc_err *err, const char *what)
{
    char q[600];
    LOG_WARN("db_error", "op=%s rc=%s error=%s", what, tthc_rc_name(rc), tthc_log_quote(q, sizeof q, err->msg));
    if (!ds->conn || PQstatus(ds->conn) != CONNECTION_OK) disp_drop(d, ds);
}

/* Connects, LISTENs, and once per process runs the startup chores. */
static int disp_connect(sync_daemon *d, dispatcher *ds)
{
    if (ds->conn && PQstatus(ds->conn) == CONNECTION_OK) return 1;
    disp_drop(d, ds);
    int64_t now = tthc_mono_ms();
    if (now < ds->next_try) return 0;
    tthc_err err = {{0}};
    char q[600];
    tthc_rc rc = tthc_pg_connect(d->cfg->dsn, "tthc-sync", (int)d->cfg->statement_timeout_ms, &ds->conn, &err);
    if (!rc) rc = tthc_pg_exec(ds->conn, "LISTEN tthc_totals", &err);
    if (rc) {
        disp_drop(d, ds);
        ds->next_try = now + 1000;
        if (!ds->down_logged) LOG_WARN("db_unavailable", "error=%s", tthc_log_quote(q, sizeof q, err.msg));
        ds->down_logged = 1;
        return 0;
    }
    if (ds->down_logged) LOG_INFO("db_reconnected", "conn=listen");
    ds->down_logged = 0;
    if (!ds->startup_done) {
        long unparked = 0, released = 0;
        rc = sync_q_unpark(ds->conn, NULL, NULL, 1, &unparked, &err);
        if (!rc) rc = sync_q_release_dead(ds->conn, d->instance, d->self, &released, &err);
        if (rc) {
            disp_failed(d, ds, rc, &err, "startup");
            return 0;
        }
        ds->startup_done = 1;
        LOG_INFO("startup", "unparked_401=%ld released_dead_leases=%ld", unparked, released);
    }
    return 1;
}

static void scan(sync_daemon *d, dispatcher *ds)
{
    tthc_err err = {{0}};
    long inserted = 0;
    int ran = 0;
    tthc_rc rc = sync_q_ensure(ds->conn, &inserted, &ran, &err);
    if (rc) {
        disp_failed(d, ds, rc, &err, "ensure");
        return;
    }
    if (inserted) LOG_DEBUG("new_buckets", "count=%ld", inserted);
    wake_all(d);
    int64_t now = tthc_mono_ms();
    if (now - ds->last_stats >= STATS_MIN_INTERVAL_MS) {
        sync_stats st;
        rc = sync_q_stats(ds->conn, &st, &err);
        if (rc) {
            disp_failed(d, ds, rc, &err, "stats");
            return;
        }
        ds->last_stats = now;
        ds->next_due_ms = st.next_due_ms;
        sync_metrics_queue(d->m, st.depth, st.oldest_s, st.parked, st.leased);
    }
    if (!ds->last_freshness || now - ds->last_freshness >= FRESHNESS_INTERVAL_MS) {
        ds->last_freshness = now;
        if ((rc = sync_freshness_refresh(ds->conn, d->m, &err))) {
            disp_failed(d, ds, rc, &err, "freshness");
            return;
        }
    }
    sync_metrics_ready(d->m, 1);
    if (!auth_paused(d, NULL) && !atomic_load(&d->auth_failing)) sync_metrics_auth_blocked(d->m, 0);
}

/* Drains notifications; 1 if there was any. */
static int drain_notifies(PGconn *c)
{
    int any = 0;
    PGnotify *n;
    while ((n = PQnotifies(c))) {
        any = 1;
        PQfreemem(n);
    }
    return any;
}

static void progress_log(sync_daemon *d, unsigned long long prev[SYNC_M__COUNT])
{
    unsigned long long now[SYNC_M__COUNT];
    sync_metrics_totals(d->m, now);
    unsigned long long delta[SYNC_M__COUNT], any = 0, parked = 0;
    for (int i = 0; i < SYNC_M__COUNT; i++) {
        delta[i] = now[i] - prev[i];
        any |= delta[i];
        if (i >= SYNC_M_PARKED_400 && i <= SYNC_M_PARKED_OTHER) parked += delta[i];
    }
    memcpy(prev, now, sizeof now);
    if (!any) return;
    LOG_INFO("progress", "accepted=%llu duplicate=%llu stale_synced=%llu stale_raised=%llu parked=%llu retry=%llu",
             delta[SYNC_M_ACCEPTED], delta[SYNC_M_DUPLICATE], delta[SYNC_M_STALE_SYNCED], delta[SYNC_M_STALE_RAISED],
             parked, delta[SYNC_M_RETRY]);
    if (delta[SYNC_M_RETRY]) { /* one warning per interval, not one per failed request */
        char err[256], q[300];
        long st;
        pthread_mutex_lock(&d->mu);
        st = d->last_retry_status;
        memcpy(err, d->last_retry_error, sizeof err);
        pthread_mutex_unlock(&d->mu);
        LOG_WARN("retrying", "count=%llu last_status=%ld last_error=%s", delta[SYNC_M_RETRY], st,
                 tthc_log_quote(q, sizeof q, err));
    }
}

static void wipe_free(char *s)
{
    if (!s) return;
    memset(s, 0, strlen(s));
    free(s);
}

/* SIGHUP: --token-file read again (a bad file keeps the token in force). */
static void reload_token(sync_daemon *d, dispatcher *ds)
{
    tthc_reload_requested = 0;
    const sync_config *cfg = d->cfg;
    if (!cfg->token_file || !*cfg->token_file) {
        LOG_WARN("token_not_reloaded", "note=\"no --token-file: a token from the environment cannot change while "
                                       "running\"");
        return;
    }
    tthc_err err = {{0}};
    char *t = sync_read_token_file(cfg->token_file, &err);
    if (!t) {
        LOG_ERROR("token_not_reloaded", "error=%s note=\"the token in force stays\"", err.msg);
        return;
    }
    pthread_mutex_lock(&d->mu);
    char *old = d->token;
    d->token = t;
    pthread_mutex_unlock(&d->mu);
    wipe_free(old);
    atomic_fetch_add(&d->token_gen, 1);
    atomic_store(&d->auth_until, 0); /* the next report tries the new token */
    long unparked = 0;
    if (ds->conn && PQstatus(ds->conn) == CONNECTION_OK) {
        tthc_rc rc = sync_q_unpark(ds->conn, NULL, NULL, 1, &unparked, &err);
        if (rc) disp_failed(d, ds, rc, &err, "unpark after reload");
    }
    LOG_INFO("token_reloaded", "file=%s unparked_401=%ld", cfg->token_file, unparked);
    wake_all(d);
}

static void dispatch(sync_daemon *d, const sigset_t *run_mask)
{
    const sync_config *cfg = d->cfg;
    dispatcher ds = {.next_due_ms = -1};
    int64_t next_scan = 0, last_scan = 0, next_progress = tthc_mono_ms() + PROGRESS_INTERVAL_MS;
    unsigned long long totals[SYNC_M__COUNT] = {0};
    while (!tthc_stop_requested) {
        int64_t now = tthc_mono_ms();
        int up = disp_connect(d, &ds);
        if (up && now >= next_scan) {
            last_scan = now;
            scan(d, &ds);
            up = ds.conn != NULL;
            int64_t wait = cfg->poll_ms;
            if (ds.next_due_ms > 0 && ds.next_due_ms < wait) wait = ds.next_due_ms;
            next_scan = last_scan + (wait < SCAN_MIN_INTERVAL_MS ? SCAN_MIN_INTERVAL_MS : wait);
            if (up && drain_notifies(ds.conn)) next_scan = last_scan + SCAN_MIN_INTERVAL_MS;
        }
        if (now >= next_progress) {
            progress_log(d, totals);
            next_progress = now + PROGRESS_INTERVAL_MS;
        }
        now = tthc_mono_ms();
        int64_t timeout = up ? next_scan - now : 250;
        if (timeout > next_progress - now) timeout = next_progress - now;
        if (timeout < 0) timeout = 0;
        struct timespec ts = {(time_t)(timeout / 1000), (long)(timeout % 1000) * 1000000L};
        struct pollfd pfd = {.fd = up ? PQsocket(ds.conn) : -1, .events = POLLIN};
        int pr = ppoll(&pfd, 1, &ts, run_mask);
        if (tthc_reload_requested) reload_token(d, &ds);
        if (pr > 0 && up) {
            if (!PQconsumeInput(ds.conn)) {
                tthc_err err;
                tthc_fail(&err, TTHC_ERETRY, "listen connection: %s", PQerrorMessage(ds.conn));
                disp_failed(d, &ds, TTHC_ERETRY, &err, "listen");
                disp_drop(d, &ds); /* even if libpq still calls it OK: a readable socket would spin */
                continue;
            }
            if (drain_notifies(ds.conn)) {
                int64_t soonest = last_scan + SCAN_MIN_INTERVAL_MS;
                if (next_scan > soonest) next_scan = soonest;
            }
        }
    }
    progress_log(d, totals);
    disp_drop(d, &ds);
}

/* ---- setup and teardown ------------------------------------------------------------------- */

static uint64_t seed(int idx)
{
    uint64_t s = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, &s, sizeof s) != (ssize_t)sizeof s) s = 0;
        close(fd);
    }
    s ^= (uint64_t)tthc_now_us() ^ ((uint64_t)getpid() << 32) ^ ((uint64_t)idx * 0x9E3779B97F4A7C15ULL);
    return s ? s : 1;
}

static tthc_rc workers_start(sync_daemon *d, const char *token, tthc_err *err)
{
    const sync_config *cfg = d->cfg;
    snprintf(d->self, sizeof d->self, "%s/%ld/%08llx/", d->instance, (long)getpid(),
             (unsigned long long)(seed(-1) & 0xffffffffULL));
    sync_portal_opts po = {.base_url = cfg->portal_url,
                           .token = token,
                           .ca_file = cfg->ca_file,
                           .insecure = cfg->insecure,
                           .connect_timeout_ms = cfg->connect_timeout_ms,
                           .timeout_ms = cfg->timeout_ms,
                           .body_max = 64 * 1024};
    for (long i = 0; i < cfg->workers; i++) {
        sync_worker *w = &d->workers[i];
        w->d = d;
        w->idx = (int)i;
        w->rng = seed((int)i);
        snprintf(w->owner, sizeof w->owner, "%sw%ld", d->self, i);
        w->items = calloc((size_t)cfg->batch, sizeof *w->items);
        if (!w->items) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
        tthc_rc rc = sync_portal_new(&po, &w->portal, err);
        if (rc) return rc;
        if (pthread_create(&w->th, NULL, worker_main, w))
            return tthc_fail(err, TTHC_ENOMEM, "cannot start worker thread %ld", i);
        w->started = 1;
    }
    return TTHC_OK;
}

static void workers_stop(sync_daemon *d)
{
    if (!d->workers) return;
    atomic_store(&d->stopping, 1);
    pthread_mutex_lock(&d->mu);
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    for (long i = 0; i < d->cfg->workers; i++) {
        sync_worker *w = &d->workers[i];
        if (w->started) pthread_join(w->th, NULL);
        sync_portal_free(w->portal);
        free(w->items);
    }
    free(d->workers);
    d->workers = NULL;
}

tthc_rc sync_daemon_run(const sync_config *cfg, const char *token, tthc_err *err)
{
    tthc_rc rc = TTHC_OK;
    sync_daemon d;
    memset(&d, 0, sizeof d);
    d.cfg = cfg;
    d.margin_ms = 3 * cfg->timeout_ms + 5000;
    if (cfg->lease_ms <= d.margin_ms)
        return tthc_fail(err, TTHC_EINVAL,
                         "--lease-ms (%ld) must exceed 3 x --timeout-ms + 5000 = %lld (a report may take a POST, a GET "
                         "and a second POST)",
                         cfg->lease_ms, (long long)d.margin_ms);
    if (cfg->instance && *cfg->instance) {
        snprintf(d.instance, sizeof d.instance, "%s", cfg->instance);
    } else if (gethostname(d.instance, sizeof d.instance - 1)) {
        snprintf(d.instance, sizeof d.instance, "localhost");
    }
    d.instance[sizeof d.instance - 1] = '\0';
    for (char *p = d.instance; *p; p++)
        if (*p == '/') *p = '_';

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&d.mu, NULL);
    pthread_cond_init(&d.cv, &ca);
    pthread_condattr_destroy(&ca);

    /* SIGTERM/SIGINT reach only the dispatcher's ppoll(): block them here,
     * before any thread starts, so that every thread inherits the block. */
    sigset_t block, run_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &run_mask);
    sigdelset(&run_mask, SIGTERM);
    sigdelset(&run_mask, SIGINT);
    sigdelset(&run_mask, SIGHUP);

    tthc_httpd *httpd = NULL;
    d.m = sync_metrics_new();
    d.workers = calloc((size_t)cfg->workers, sizeof *d.workers);
    d.token = strdup(token);
    if (!d.m || !d.workers || !d.token) {
        rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
        goto done;
    }
    if (cfg->metrics_listen && *cfg->metrics_listen) {
        if ((rc = sync_metrics_serve(d.m, cfg->metrics_listen, &httpd, err))) goto done;
        LOG_INFO("metrics_listening", "listen=%s port=%u", cfg->metrics_listen, tthc_httpd_port(httpd));
    }
    if ((rc = workers_start(&d, token, err))) goto done;
    LOG_INFO("started",
             "version=%s portal=%s workers=%ld batch=%ld lease_ms=%ld timeout_ms=%ld poll_ms=%ld instance=%s",
             TTHC_VERSION, cfg->portal_url, cfg->workers, cfg->batch, cfg->lease_ms, cfg->timeout_ms, cfg->poll_ms,
             d.instance);
    dispatch(&d, &run_mask);
    LOG_INFO("stopping", "note=\"finishing requests in flight, releasing leases\"");
done:
    workers_stop(&d);
    tthc_httpd_stop(httpd);
    sync_metrics_free(d.m);
    free(d.workers);
    wipe_free(d.token);
    pthread_cond_destroy(&d.cv);
    pthread_mutex_destroy(&d.mu);
    pthread_sigmask(SIG_SETMASK, &run_mask, NULL);
    return rc;
}
