/* daemon.c - the tthc-sync daemon: setup and teardown (sync_daemon_run), and
 * the state its dispatcher and workers share (daemon.h).
 *
 * The dispatcher is dispatch.c, the sender threads worker.c, and what each
 * answer of the portal means for a report deliver.c. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dispatch.h"
#include "httpd.h"
#include "log.h"
#include "outcome.h"
#include "timeutil.h"
#include "worker.h"

#define AUTH_RELOG_MS (10 * 60 * 1000) /* a still-wrong token is reported again after 10 min */

/* ---- waiting ---------------------------------------------------------------- */

unsigned long sync_daemon_gen(sync_daemon *d)
{
    pthread_mutex_lock(&d->mu);
    unsigned long g = d->gen;
    pthread_mutex_unlock(&d->mu);
    return g;
}

void sync_daemon_wait(sync_daemon *d, int any_scan, unsigned long seen, int64_t ms)
{
    struct timespec ts;
    if (ms <= 0) return;
    tthc_mono_deadline(&ts, ms);
    pthread_mutex_lock(&d->mu);
    while (!atomic_load(&d->stopping) && !(any_scan && d->gen != seen))
        if (pthread_cond_timedwait(&d->cv, &d->mu, &ts) == ETIMEDOUT) break;
    pthread_mutex_unlock(&d->mu);
}

void sync_daemon_wake(sync_daemon *d)
{
    pthread_mutex_lock(&d->mu);
    d->gen++;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* ---- the 401 circuit ------------------------------------------------------------ */

int sync_auth_paused(sync_daemon *d, int64_t *left)
{
    int64_t until = atomic_load(&d->auth_until), now = tthc_mono_ms();
    if (left) *left = until - now;
    return until > now;
}

void sync_auth_ok(sync_daemon *d)
{
    if (atomic_exchange(&d->auth_failing, 0)) {
        atomic_store(&d->auth_until, 0);
        sync_metrics_auth_blocked(d->m, 0);
        LOG_INFO("portal_authorized", "note=\"the portal accepts the token again\"");
    }
}

void sync_auth_refused(sync_daemon *d)
{
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
}

/* ---- the token in force ------------------------------------------------------------ */

static void wipe_free(char *s)
{
    if (!s) return;
    memset(s, 0, strlen(s));
    free(s);
}

void sync_daemon_set_token(sync_daemon *d, char *t)
{
    pthread_mutex_lock(&d->mu);
    char *old = d->token;
    d->token = t;
    pthread_mutex_unlock(&d->mu);
    wipe_free(old);
    atomic_fetch_add(&d->token_gen, 1);
    atomic_store(&d->auth_until, 0); /* the next report tries the new token */
}

tthc_rc sync_daemon_take_token(sync_daemon *d, sync_portal *p, unsigned long *gen, tthc_err *err)
{
    unsigned long now = atomic_load(&d->token_gen);
    if (now == *gen) return TTHC_OK;
    pthread_mutex_lock(&d->mu);
    tthc_rc rc = sync_portal_set_token(p, d->token, err);
    pthread_mutex_unlock(&d->mu);
    if (!rc) *gen = now;
    return rc;
}

/* ---- the last transient failure ------------------------------------------------------ */

void sync_daemon_note_retry(sync_daemon *d, long status, const char *text)
{
    pthread_mutex_lock(&d->mu);
    d->last_retry_status = status;
    sync_sanitize(d->last_retry_error, sizeof d->last_retry_error, text, strlen(text));
    pthread_mutex_unlock(&d->mu);
}

void sync_daemon_last_retry(sync_daemon *d, long *status, char err[256])
{
    pthread_mutex_lock(&d->mu);
    *status = d->last_retry_status;
    memcpy(err, d->last_retry_error, sizeof d->last_retry_error);
    pthread_mutex_unlock(&d->mu);
}

uint64_t sync_daemon_seed(int idx)
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

/* ---- setup and teardown ------------------------------------------------------------------- */

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
    snprintf(d.self, sizeof d.self, "%s/%ld/%08llx/", d.instance, (long)getpid(),
             (unsigned long long)(sync_daemon_seed(-1) & 0xffffffffULL));
    if ((rc = sync_workers_start(&d, token, err))) goto done;
    LOG_INFO("started",
             "version=%s portal=%s workers=%ld batch=%ld lease_ms=%ld timeout_ms=%ld poll_ms=%ld instance=%s",
             TTHC_VERSION, cfg->portal_url, cfg->workers, cfg->batch, cfg->lease_ms, cfg->timeout_ms, cfg->poll_ms,
             d.instance);
    sync_dispatch(&d, &run_mask);
    LOG_INFO("stopping", "note=\"finishing requests in flight, releasing leases\"");
done:
    sync_workers_stop(&d);
    tthc_httpd_stop(httpd);
    sync_metrics_free(d.m);
    free(d.workers);
    wipe_free(d.token);
    pthread_cond_destroy(&d.cv);
    pthread_mutex_destroy(&d.mu);
    pthread_sigmask(SIG_SETMASK, &run_mask, NULL);
    return rc;
}
