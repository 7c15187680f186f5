#include "sync_metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "prom.h"
#include "strbuf.h"

#define LIT(s) s, sizeof(s) - 1

static const double req_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
static const double lag_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300};
#define NREQ (sizeof req_bounds / sizeof req_bounds[0])
#define NLAG (sizeof lag_bounds / sizeof lag_bounds[0])

typedef struct {
    unsigned long long bucket[16]; /* cumulative counts are computed when rendering */
    unsigned long long count;
    double sum;
} histogram;

struct sync_metrics {
    pthread_mutex_t mu;
    unsigned long long outcomes[SYNC_M__COUNT];
    unsigned long long retries;
    histogram req, lag;
    double last_success;
    long depth, parked, leased;
    double oldest;
    int ready, auth_blocked;
    sync_unit_fresh *units;
    size_t nunits;
};

static const char *const outcome_names[SYNC_M__COUNT] = {
    [SYNC_M_ACCEPTED] = "accepted",         [SYNC_M_DUPLICATE] = "duplicate",   [SYNC_M_STALE_SYNCED] = "stale_synced",
    [SYNC_M_STALE_RAISED] = "stale_raised", [SYNC_M_PARKED_400] = "parked_400", [SYNC_M_PARKED_401] = "parked_401",
    [SYNC_M_PARKED_403] = "parked_403",     [SYNC_M_PARKED_413] = "parked_413", [SYNC_M_PARKED_422] = "parked_422",
    [SYNC_M_PARKED_OTHER] = "parked_other", [SYNC_M_RETRY] = "retry",           [SYNC_M_BAD_ANSWER] = "bad_answer",
};

sync_metrics *sync_metrics_new(void)
{
    sync_metrics *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    if (pthread_mutex_init(&m->mu, NULL)) {
        free(m);
        return NULL;
    }
    return m;
}

void sync_metrics_free(sync_metrics *m)
{
    if (!m) return;
    free(m->units);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

sync_metric_outcome sync_metrics_park_label(int st)
{
    switch (st) {
    case 400: return SYNC_M_PARKED_400;
    case 401: return SYNC_M_PARKED_401;
    case 403: return SYNC_M_PARKED_403;
    case 413: return SYNC_M_PARKED_413;
    case 422: return SYNC_M_PARKED_422;
    default: return SYNC_M_PARKED_OTHER;
    }
}

const char *sync_metrics_outcome_name(sync_metric_outcome o)
{
    return o < SYNC_M__COUNT ? outcome_names[o] : "unknown";
}

void sync_metrics_outcome(sync_metrics *m, sync_metric_outcome o)
{
    if (o >= SYNC_M__COUNT) return;
    pthread_mutex_lock(&m->mu);
    m->outcomes[o]++;
    if (o == SYNC_M_RETRY || o == SYNC_M_BAD_ANSWER) m->retries++;
    pthread_mutex_unlock(&m->mu);
}

static void observe(histogram *h, const double *bounds, size_t n, double v)
{
    size_t i = 0;
    while (i < n && v > bounds[i]) i++;
    h->bucket[i]++; /* i == n: only +Inf */
    h->count++;
    h->sum += v;
}

void sync_metrics_request(sync_metrics *m, double s)
{
    pthread_mutex_lock(&m->mu);
    observe(&m->req, req_bounds, NREQ, s);
    pthread_mutex_unlock(&m->mu);
}

void sync_metrics_lag(sync_metrics *m, double s)
{
    pthread_mutex_lock(&m->mu);
    observe(&m->lag, lag_bounds, NLAG, s);
    pthread_mutex_unlock(&m->mu);
}

void sync_metrics_success(sync_metrics *m, double t)
{
    pthread_mutex_lock(&m->mu);
    if (t > m->last_success) m->last_success = t;
    pthread_mutex_unlock(&m->mu);
}

void sync_metrics_queue(sync_metrics *m, long depth, double oldest, long parked, long leased)
{
    pthread_mutex_lock(&m->mu);
    m->depth = depth;
    m->oldest = oldest;
    m->parked = parked;
    m->leased = leased;
    pthread_mutex_unlock(&m->mu);
}

void sync_metrics_ready(sync_metrics *m, int ready)
{
    pthread_mutex_lock(&m->mu);
    m->ready = ready;
    pthread_mutex_unlock(&m->mu);
}

void sync_metrics_auth_blocked(sync_metrics *m, int blocked)
{
    pthread_mutex_lock(&m->mu);
    m->auth_blocked = blocked;
    pthread_mutex_unlock(&m->mu);
}

void sync_metrics_units(sync_metrics *m, sync_unit_fresh *u, size_t n)
{
    pthread_mutex_lock(&m->mu);
    free(m->units);
    m->units = u;
    m->nunits = n;
    pthread_mutex_unlock(&m->mu);
}

static int render_units(tthc_sb *b, const sync_metrics *m)
{
    int r = tthc_prom_family(b, "tthc_sync_unit_last_applied_timestamp_seconds", "gauge",
                             "Per unit: when its figures last changed in period_totals (the newest event applied).");
    for (size_t i = 0; i < m->nunits; i++) {
        const char *l[] = {"unit_code", m->units[i].unit_code, NULL};
        if (m->units[i].applied >= 0)
            r |= tthc_prom_sample(b, "tthc_sync_unit_last_applied_timestamp_seconds", l, m->units[i].applied);
    }
    r |= tthc_prom_family(b, "tthc_sync_unit_last_accepted_timestamp_seconds", "gauge",
                          "Per unit: when the portal last accepted one of its reports (absent: never).");
    for (size_t i = 0; i < m->nunits; i++) {
        const char *l[] = {"unit_code", m->units[i].unit_code, NULL};
        if (m->units[i].accepted >= 0)
            r |= tthc_prom_sample(b, "tthc_sync_unit_last_accepted_timestamp_seconds", l, m->units[i].accepted);
    }
    return r;
}

void sync_metrics_totals(sync_metrics *m, unsigned long long out[SYNC_M__COUNT])
{
    pthread_mutex_lock(&m->mu);
    memcpy(out, m->outcomes, sizeof m->outcomes);
    pthread_mutex_unlock(&m->mu);
}

static int render_hist(tthc_sb *b, const char *name, const char *help, const histogram *h, const double *bounds,
                       size_t n)
{
    char le[40], sum[40];
    int r = tthc_sb_addf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    unsigned long long cum = 0;
    for (size_t i = 0; i < n; i++) {
        cum += h->bucket[i];
        tthc_prom_format_value(le, sizeof le, bounds[i]);
        r |= tthc_sb_addf(b, "%s_bucket{le=\"%s\"} %llu\n", name, le, cum);
    }
    tthc_prom_format_value(sum, sizeof sum, h->sum);
    r |= tthc_sb_addf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %s\n%s_count %llu\n", name, h->count, name, sum, name,
                      h->count);
    return r;
}

static int gauge(tthc_sb *b, const char *name, const char *help, double v)
{
    int r = tthc_prom_family(b, name, "gauge", help);
    return r | tthc_prom_sample(b, name, NULL, v);
}

char *sync_metrics_render(sync_metrics *m, size_t *len)
{
    tthc_sb b;
    tthc_sb_init(&b, 1 << 20);
    pthread_mutex_lock(&m->mu);
    int r = gauge(&b, "tthc_sync_queue_depth", "Reports waiting to be acknowledged (not parked), in flight included.",
                  (double)m->depth);
    r |= gauge(&b, "tthc_sync_oldest_waiting_seconds", "Age of the oldest change the portal has not acknowledged.",
               m->oldest);
    r |= gauge(&b, "tthc_sync_parked_reports", "Reports parked at their current revision (see tthc-sync status).",
               (double)m->parked);
    r |= gauge(&b, "tthc_sync_leased_reports", "Reports currently claimed by a sender.", (double)m->leased);
    r |= gauge(&b, "tthc_sync_auth_blocked",
               "1 from a 401 (token refused) until the portal accepts a report again; sending pauses meanwhile.",
               (double)m->auth_blocked);
    r |= gauge(&b, "tthc_sync_last_success_timestamp_seconds", "Unix time of the last acknowledged report.",
               m->last_success);
    r |= tthc_sb_adds(&b, "# HELP tthc_sync_reports_total Reports finished, by outcome.\n"
                          "# TYPE tthc_sync_reports_total counter\n");
    for (int i = 0; i < SYNC_M__COUNT; i++)
        r |= tthc_sb_addf(&b, "tthc_sync_reports_total{outcome=\"%s\"} %llu\n", outcome_names[i], m->outcomes[i]);
    r |= tthc_sb_addf(&b,
                      "# HELP tthc_sync_retries_total Transient failures scheduled for a retry.\n"
                      "# TYPE tthc_sync_retries_total counter\ntthc_sync_retries_total %llu\n",
                      m->retries);
    r |= render_hist(&b, "tthc_sync_request_duration_seconds", "Duration of HTTP requests to the portal.", &m->req,
                     req_bounds, NREQ);
    r |= render_hist(&b, "tthc_sync_lag_seconds", "From a bucket's change to the portal's acknowledgement.", &m->lag,
                     lag_bounds, NLAG);
    r |= render_units(&b, m);
    pthread_mutex_unlock(&m->mu);
    if (r) {
        tthc_sb_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

static void handle(void *ctx, const tthc_http_req *req, tthc_http_resp *resp)
{
    sync_metrics *m = ctx;
    tthc_rc rc;
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        rc = tthc_http_resp_set(resp, 405, "application/json", LIT("{\"error\":\"method_not_allowed\"}"));
    } else if (!strcmp(req->path, "/metrics")) {
        size_t len = 0;
        char *text = sync_metrics_render(m, &len);
        if (!text) return; /* 500 */
        rc = tthc_http_resp_take(resp, 200, "text/plain; version=0.0.4", text, len);
    } else if (!strcmp(req->path, "/healthz")) {
        rc = tthc_http_resp_set(resp, 200, "application/json", LIT("{\"status\":\"ok\"}"));
    } else if (!strcmp(req->path, "/readyz")) {
        pthread_mutex_lock(&m->mu);
        int ready = m->ready;
        pthread_mutex_unlock(&m->mu);
        rc = ready ? tthc_http_resp_set(resp, 200, "application/json", LIT("{\"status\":\"ready\"}"))
                   : tthc_http_resp_set(resp, 503, "application/json", LIT("{\"status\":\"not_ready\"}"));
    } else {
        rc = tthc_http_resp_set(resp, 404, "application/json", LIT("{\"error\":\"not_found\"}"));
    }
    (void)rc; /* a failed setter answers 500 by itself */
}

tthc_rc sync_metrics_serve(sync_metrics *m, const char *listen, struct tthc_httpd **out, tthc_err *err)
{
    tthc_httpd_opts o = {.listen = listen,
                         .handler = handle,
                         .ctx = m,
                         .timeout_s = 10,
                         .max_connections = 32,
                         .threads = 2 /* handle() is thread-safe; 1 would make MHD warn */};
    return tthc_httpd_start(&o, out, err);
}
