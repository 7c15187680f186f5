/* stub_metrics.h - in-memory request counters of the portal stub, rendered in the
 * Prometheus text format for GET /metrics.  Thread-safe (one mutex). */
#ifndef STUB_METRICS_H
#define STUB_METRICS_H

#include <pthread.h>
#include <stddef.h>

#define PORTAL_METRICS_SLOTS 128 /* distinct (method, status) pairs kept */

typedef enum {
    PORTAL_OUTCOME_ACCEPTED,
    PORTAL_OUTCOME_DUPLICATE,
    PORTAL_OUTCOME_STALE,
    PORTAL_OUTCOME_KEY_REUSED,
    PORTAL_OUTCOME_INVALID,
    PORTAL_OUTCOME_INJECTED,
    PORTAL_OUTCOME_COUNT
} portal_outcome;

typedef struct {
    pthread_mutex_t lock;
    int n;
    struct {
        char method[8]; /* GET, POST, HEAD, PUT, DELETE, PATCH, OPTIONS or OTHER */
        int status;
        unsigned long long count;
    } slot[PORTAL_METRICS_SLOTS];
    unsigned long long outcome[PORTAL_OUTCOME_COUNT];
    int db_up;
} portal_metrics;

void portal_metrics_init(portal_metrics *m);
void portal_metrics_destroy(portal_metrics *m);

/* Counts one answered request; method is normalised to bound the label set. */
void portal_metrics_request(portal_metrics *m, const char *method, int status);
void portal_metrics_outcome(portal_metrics *m, portal_outcome o);
void portal_metrics_db_up(portal_metrics *m, int up);

/* The text exposition (version 0.0.4).  Returns a malloc'd string owned by
 * the caller (length in *len), or NULL when memory ran out. */
char *portal_metrics_render(portal_metrics *m, size_t *len);

#endif
