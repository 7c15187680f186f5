/* dispatch.c - the dispatcher of the tthc-sync daemon (dispatch.h): the
 * LISTEN connection, the scans that wake the workers, token reloads and the
 * progress line. */
#define _GNU_SOURCE /* ppoll */
#include "dispatch.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "freshness.h"
#include "log.h"
#include "pg.h"
#include "portal.h"
#include "queue.h"
#include "signals.h"
#include "timeutil.h"

#define SCAN_MIN_INTERVAL_MS  20 /* NOTIFY storms coalesce into one scan per 20 ms */
#define STATS_MIN_INTERVAL_MS 250
#define FRESHNESS_INTERVAL_MS 15000 /* per-unit gauges: one GROUP BY over period_totals */
#define PROGRESS_INTERVAL_MS  10000

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
    sync_daemon_wake(d);
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
    if (!sync_auth_paused(d, NULL) && !atomic_load(&d->auth_failing)) sync_metrics_auth_blocked(d->m, 0);
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
        sync_daemon_last_retry(d, &st, err);
        LOG_WARN("retrying", "count=%llu last_status=%ld last_error=%s", delta[SYNC_M_RETRY], st,
                 tthc_log_quote(q, sizeof q, err));
    }
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
    sync_daemon_set_token(d, t); /* the next report tries the new token */
    long unparked = 0;
    if (ds->conn && PQstatus(ds->conn) == CONNECTION_OK) {
        tthc_rc rc = sync_q_unpark(ds->conn, NULL, NULL, 1, &unparked, &err);
        if (rc) disp_failed(d, ds, rc, &err, "unpark after reload");
    }
    LOG_INFO("token_reloaded", "file=%s unparked_401=%ld", cfg->token_file, unparked);
    sync_daemon_wake(d);
}

void sync_dispatch(sync_daemon *d, const sigset_t *run_mask)
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
