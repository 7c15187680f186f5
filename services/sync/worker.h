/* worker.h - the sender threads of the tthc-sync daemon.
 *
 * Each worker owns a PostgreSQL connection and a libcurl handle (kept alive
 * between requests).  It claims a batch of due reports with a lease, renews
 * the lease when less than margin_ms of it is left, hands the reports one by
 * one to sync_deliver (deliver.h), and releases what it did not finish.  No
 * transaction is open while a request is in flight.  Several workers (and
 * several processes) never send one report at the same time: claims use
 * FOR UPDATE SKIP LOCKED and leases, and every outcome is recorded only by
 * the lease holder (queue.h).
 *
 * Ownership and threads: d->workers (an array of cfg->workers) is allocated
 * by sync_daemon_run; sync_workers_start fills it and starts the threads,
 * sync_workers_stop (from the thread that started them) joins them and frees
 * everything, the array included.  A sync_worker and everything in it belong
 * to its own thread while it runs: sync_worker_db_* and deliver.h are called
 * only from that thread. */
#ifndef SYNC_WORKER_H
#define SYNC_WORKER_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdint.h>

#include "daemon.h"
#include "err.h"
#include "portal.h"
#include "queue.h"

struct sync_worker {
    sync_daemon *d;
    int idx;
    char owner[256]; /* lease owner: d->self "w<idx>" */
    PGconn *db;
    int db_down_logged;
    int64_t db_next_try;
    sync_portal *portal;
    uint64_t rng;
    sync_item *items; /* cfg->batch of them: the claimed batch */
    pthread_t th;
    int started;
    unsigned long token_gen; /* the generation of the token its portal handle sends */
};

/* Sets up d->workers (token: the bearer token at start) and starts their
 * threads.  On an error some may run: sync_workers_stop all the same. */
tthc_rc sync_workers_start(sync_daemon *d, const char *token, tthc_err *err) TTHC_MUSTCHECK;
/* Sets d->stopping, wakes the workers, joins them (each finishes and records
 * the request in flight and releases its leases) and frees d->workers. */
void sync_workers_stop(sync_daemon *d);

/* The worker's connection: 1 when usable; reconnects at most once a second
 * while PostgreSQL is away (one warning, then one line when it is back). */
int sync_worker_db_ready(sync_worker *w);
/* Logs a failed statement; drops the connection if it broke. */
void sync_worker_db_failed(sync_worker *w, tthc_rc rc, const tthc_err *err, const char *what);

#endif
