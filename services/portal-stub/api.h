/* api.h - the portal stub's HTTP routes (docs/portal-api.md), on common/httpd.h.
 *
 *   POST /api/v1/indicator-reports   push one report (token)
 *   GET  /api/v1/indicator-reports   latest reports of a period (token)
 *   GET  /healthz                    liveness, {"status":"ok"}
 *   GET  /readyz                     200 when the database answers, else 503
 *   GET  /metrics                    Prometheus text format
 *   GET  /                           HTML overview of a period
 *
 * Order of checks on the API path: method (405), injected latency, injected
 * fault (fail_status: an error with Retry-After, an untrustworthy 200, or a
 * redirect), token (401), then for POST the
 * Content-Type (415), the Idempotency-Key header and the body (one 400 that
 * lists every problem), then the transaction.  The server itself answers 413
 * to a body over 1 MiB before any of these.
 *
 * An Idempotency-Key already accepted for a different report (any field, as
 * compared on the canonical form: member order and spacing do not matter) is
 * answered 422 {"error":"idempotency_key_reused","details":[...]}: the
 * request is well-formed but cannot be processed with that key (the status
 * the IETF Idempotency-Key draft recommends); 409 stays reserved for
 * stale_revision, so a client can tell the two apart.
 *
 * Concurrency: requests may arrive on several threads; latency is slept
 * outside any lock, then the database work (and JSON parsing, whose cJSON
 * error state is global) runs under portal_app.lock. */
#ifndef PORTAL_API_H
#define PORTAL_API_H

#include <pthread.h>
#include <stdint.h>

#include "auth.h"
#include "httpd.h"
#include "stub_metrics.h"
#include "stub_store.h"

#define PORTAL_API_PATH   "/api/v1/indicator-reports"
#define PORTAL_BODY_MAX   (1024 * 1024)
#define PORTAL_STORES_MAX 64 /* the most HTTP threads (--threads) */

typedef struct {
    portal_tokens tokens;      /* never logged; initialised by portal_app_init */
    long fail_rate;            /* percent of API requests answered fail_status */
    long fail_status;          /* 429, 500 or 503; 200 or 3xx: answers a pusher must not trust */
    int fail_wrong_revision;   /* injected 200: {"status":"accepted"} with the revision sent + 1, else HTML */
    const char *fail_location; /* Location of an injected 3xx (the caller's string) */
    long latency_ms;           /* added before answering API requests */
    long retry_after;          /* seconds, sent with injected faults and 503s */
    int retry_after_date;      /* Retry-After as an HTTP date (IMF-fixdate) instead of seconds */
    /* One database connection per HTTP thread: requests use them in parallel
     * (portal_store_put is safe under concurrency: advisory locks and row
     * locks), so PostgreSQL commits concurrent pushes together. */
    portal_store *stores[PORTAL_STORES_MAX]; /* owned by the caller; nstores of them */
    size_t nstores;
    bool store_busy[PORTAL_STORES_MAX];
    pthread_cond_t store_free;
    portal_metrics metrics;
    pthread_mutex_t lock; /* store_busy, rng */
    uint64_t rng;
} portal_app;

/* Initialises a (lock, metrics, rng from seed; seed 0 = time-based).  The
 * caller sets the other fields. */
void portal_app_init(portal_app *a, unsigned long long seed);
void portal_app_destroy(portal_app *a);

/* tthc_http_handler and tthc_http_observer, with ctx = portal_app*. */
void portal_api_handle(void *ctx, const tthc_http_req *req, tthc_http_resp *resp);
void portal_api_observe(void *ctx, const char *method, const char *path, int status, double seconds);

#endif
