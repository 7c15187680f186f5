/* daemon.h - what the dispatcher and the workers of the tthc-sync daemon share.
 *
 * The daemon (daemon.c: sync_daemon_run) is one dispatcher (dispatch.h, the
 * main thread) and several workers (worker.h, one thread each); each worker
 * sends its reports through the per-report state machine of deliver.h.
 *
 * Ownership and threads: sync_daemon_run owns the one sync_daemon, on its
 * stack; it outlives every thread.  cfg, m, instance, self, margin_ms and
 * workers are set before the first worker starts and then only read (until
 * sync_workers_stop has joined them all).  gen, token and the last-retry note
 * are under mu (use the functions below); stopping, the auth circuit and
 * token_gen are atomics, read anywhere.  Every function below is
 * thread-safe. */
#ifndef SYNC_DAEMON_H
#define SYNC_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "portal.h"
#include "sync.h"
#include "sync_metrics.h"

typedef struct sync_worker sync_worker;

typedef struct sync_daemon {
    const sync_config *cfg;
    sync_metrics *m;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    unsigned long gen; /* bumped at every scan: workers waiting for work wake up */
    atomic_int stopping;
    atomic_llong auth_until;  /* tthc_mono_ms() until which nothing is sent (401 circuit) */
    atomic_int auth_failing;  /* a 401 came and no 2xx since */
    atomic_llong auth_logged; /* tthc_mono_ms() of the last error line about the token */
    int64_t margin_ms;        /* longest time one report may take: 3 requests and the database */
    sync_worker *workers;     /* cfg->workers of them (worker.h) */
    char instance[128];
    char self[200];         /* "<instance>/<pid>/<nonce>/": the prefix of our lease owners */
    char *token;            /* the bearer token in force (under mu; secret) */
    atomic_ulong token_gen; /* bumped at every reload */
    /* The last transient failure, for the periodic warning (under mu). */
    long last_retry_status;
    char last_retry_error[256];
} sync_daemon;

/* ---- waiting and waking ---- */

/* The scan generation now. */
unsigned long sync_daemon_gen(sync_daemon *d);
/* Waits up to ms for stop or (when any_scan) for a scan after generation seen. */
void sync_daemon_wait(sync_daemon *d, int any_scan, unsigned long seen, int64_t ms);
/* A scan happened (or the token changed): wakes every waiting worker. */
void sync_daemon_wake(sync_daemon *d);

/* ---- the 401 circuit ---- */

/* 1 while sending is paused after a 401; *left (may be NULL) gets the ms left. */
int sync_auth_paused(sync_daemon *d, int64_t *left);
/* A 2xx came: lifts the pause, once, with one info line. */
void sync_auth_ok(sync_daemon *d);
/* A 401 came: pauses sending for auth_pause_ms and says so (once, then again
 * every 10 minutes while it lasts). */
void sync_auth_refused(sync_daemon *d);

/* ---- the token in force ---- */

/* Puts t (malloc'd, taken over) in force: the old one is wiped, the generation
 * bumped, and the 401 pause lifted so that the next report tries it. */
void sync_daemon_set_token(sync_daemon *d, char *t);
/* Gives p the token in force if *gen (the generation p sends) is behind. */
tthc_rc sync_daemon_take_token(sync_daemon *d, sync_portal *p, unsigned long *gen, tthc_err *err) TTHC_MUSTCHECK;

/* ---- the last transient failure, for the dispatcher's periodic warning ---- */

void sync_daemon_note_retry(sync_daemon *d, long status, const char *text);
/* Copies the last one into *status and err (256 bytes). */
void sync_daemon_last_retry(sync_daemon *d, long *status, char err[256]);

/* A seed for sync_rand_next (never 0): /dev/urandom, time, pid and idx. */
uint64_t sync_daemon_seed(int idx);

#endif
