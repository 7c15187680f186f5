/* sync_metrics.h - tthc-sync's counters and gauges, and the HTTP endpoint that
 * serves them (/metrics in the Prometheus text format, /healthz, /readyz).
 *
 * All functions are thread-safe (one mutex): workers record, the dispatcher
 * sets the queue gauges, the HTTP thread renders. */
#ifndef SYNC_METRICS_H
#define SYNC_METRICS_H

#include <stddef.h>

#include "err.h"

/* The outcome label of tthc_sync_reports_total. */
typedef enum {
    SYNC_M_ACCEPTED = 0,
    SYNC_M_DUPLICATE,
    SYNC_M_STALE_SYNCED, /* 409, and the portal already held our counters */
    SYNC_M_STALE_RAISED, /* 409, our revision was raised above the portal's and sent again */
    SYNC_M_PARKED_400,
    SYNC_M_PARKED_401,
    SYNC_M_PARKED_403,
    SYNC_M_PARKED_413,
    SYNC_M_PARKED_422,
    SYNC_M_PARKED_OTHER, /* any other permanent answer (404, 3xx, ...) or a report we cannot build */
    SYNC_M_RETRY,
    SYNC_M_BAD_ANSWER, /* a 2xx not as portal-api.md documents it: retried like SYNC_M_RETRY */
    SYNC_M__COUNT
} sync_metric_outcome;

typedef struct sync_metrics sync_metrics;

sync_metrics *sync_metrics_new(void); /* NULL when memory ran out */
void sync_metrics_free(sync_metrics *m);

/* The label for a parked answer with this HTTP status. */
sync_metric_outcome sync_metrics_park_label(int http_status);
const char *sync_metrics_outcome_name(sync_metric_outcome o);

void sync_metrics_outcome(sync_metrics *m, sync_metric_outcome o);
void sync_metrics_request(sync_metrics *m, double seconds);      /* one HTTP request */
void sync_metrics_lag(sync_metrics *m, double seconds);          /* change -> acknowledged */
void sync_metrics_success(sync_metrics *m, double unix_seconds); /* last acknowledged report */
void sync_metrics_queue(sync_metrics *m, long depth, double oldest_s, long parked, long leased);
void sync_metrics_ready(sync_metrics *m, int ready);
void sync_metrics_auth_blocked(sync_metrics *m, int blocked);

/* Per unit: Unix times of the newest change here and of the newest report
 * the portal accepted (-1: none). */
typedef struct {
    char unit_code[65];
    double applied, accepted;
} sync_unit_fresh;
/* Replaces the per-unit gauges; takes ownership of the malloc'd array u (n rows). */
void sync_metrics_units(sync_metrics *m, sync_unit_fresh *u, size_t n);

/* Totals for the progress log line. */
void sync_metrics_totals(sync_metrics *m, unsigned long long out[SYNC_M__COUNT]);

/* The exposition text, malloc'd, owned by the caller; NULL when memory ran out. */
char *sync_metrics_render(sync_metrics *m, size_t *len);

struct tthc_httpd;
/* Serves /metrics, /healthz and /readyz on listen ("HOST:PORT").  m must
 * outlive the server (tthc_httpd_stop). */
tthc_rc sync_metrics_serve(sync_metrics *m, const char *listen, struct tthc_httpd **out, tthc_err *err) TTHC_MUSTCHECK;

#endif
