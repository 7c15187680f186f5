/* worker.c - the sender threads of the tthc-sync daemon (worker.h): each
 * claims batches of due reports and hands them to deliver.c one by one. */
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>

#include "deliver.h"
#include "log.h"
#include "pg.h"
#include "timeutil.h"

/* ---- a worker's database connection ------------------------------------------ */

static void db_drop(sync_worker *w)
{
    if (w->db) PQfinish(w->db);
    w->db = NULL;
}

int sync_worker_db_ready(sync_worker *w)
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

void sync_worker_db_failed(sync_worker *w, tthc_rc rc, const tthc_err *err, const char *what)
{
    char q[600];
    LOG_WARN("db_error", "worker=%d op=%s rc=%s error=%s", w->idx, what, tthc_rc_name(rc),
             tthc_log_quote(q, sizeof q, err->msg));
    if (!w->db || PQstatus(w->db) != CONNECTION_OK) db_drop(w);
}

/* ---- the worker thread -------------------------------------------------------------- */

/* Sends the claimed items[0..n) in order, renewing the leases when they run
 * short; stops early at shutdown or a 401 pause and releases the rest. */
static void process_batch(sync_worker *w, size_t n)
{
    sync_daemon *d = w->d;
    const sync_config *cfg = d->cfg;
    size_t i = 0;
    for (; i < n; i++) {
        sync_item *it = &w->items[i];
        if (it->done) continue;
        if (atomic_load(&d->stopping) || sync_auth_paused(d, NULL)) break;
        if (tthc_mono_ms() - it->lease_mono_ms + d->margin_ms > cfg->lease_ms) {
            tthc_err err = {{0}};
            tthc_rc rc =
                sync_worker_db_ready(w) ? sync_q_renew(w->db, w->owner, cfg->lease_ms, w->items, n, &err) : TTHC_ERETRY;
            if (rc) {
                if (w->db) sync_worker_db_failed(w, rc, &err, "renew");
                break;
            }
            if (it->done) continue;
        }
        sync_deliver(w, it);
        it->done = 1;
    }
    int left = 0;
    for (size_t k = i; k < n; k++) left |= !w->items[k].done;
    if (left && sync_worker_db_ready(w)) {
        tthc_err err = {{0}};
        long released = 0;
        tthc_rc rc = sync_q_release(w->db, w->owner, &released, &err);
        if (rc) sync_worker_db_failed(w, rc, &err, "release");
    }
}

static void *worker_main(void *arg)
{
    sync_worker *w = arg;
    sync_daemon *d = w->d;
    const sync_config *cfg = d->cfg;
    while (!atomic_load(&d->stopping)) {
        unsigned long seen = sync_daemon_gen(d);
        int64_t left;
        if (sync_auth_paused(d, &left)) {
            sync_daemon_wait(d, 0, 0, left < cfg->poll_ms ? left : cfg->poll_ms);
            continue;
        }
        if (!sync_worker_db_ready(w)) {
            sync_daemon_wait(d, 0, 0, 250);
            continue;
        }
        tthc_err err = {{0}};
        size_t n = 0;
        tthc_rc rc = sync_q_claim(w->db, w->owner, cfg->lease_ms, w->items, (size_t)cfg->batch, &n, &err);
        if (rc) {
            sync_worker_db_failed(w, rc, &err, "claim");
            sync_daemon_wait(d, 0, 0, 250);
            continue;
        }
        if (!n) {
            sync_daemon_wait(d, 1, seen, cfg->poll_ms);
            continue;
        }
        process_batch(w, n);
    }
    if (w->db && PQstatus(w->db) == CONNECTION_OK) {
        tthc_err err = {{0}};
        long released = 0;
        if (sync_q_release(w->db, w->owner, &released, &err)) sync_worker_db_failed(w, TTHC_EDB, &err, "release");
    }
    db_drop(w);
    return NULL;
}

/* ---- start and stop ------------------------------------------------------------------- */

tthc_rc sync_workers_start(sync_daemon *d, const char *token, tthc_err *err)
{
    const sync_config *cfg = d->cfg;
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
        w->rng = sync_daemon_seed((int)i);
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

void sync_workers_stop(sync_daemon *d)
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
