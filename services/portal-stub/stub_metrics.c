#include "stub_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const outcome_names[PORTAL_OUTCOME_COUNT] = {
    [PORTAL_OUTCOME_ACCEPTED] = "accepted",      [PORTAL_OUTCOME_DUPLICATE] = "duplicate",
    [PORTAL_OUTCOME_STALE] = "stale_revision",   [PORTAL_OUTCOME_KEY_REUSED] = "idempotency_key_reused",
    [PORTAL_OUTCOME_INVALID] = "invalid_report", [PORTAL_OUTCOME_INJECTED] = "injected",
};

void portal_metrics_init(portal_metrics *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
}

void portal_metrics_destroy(portal_metrics *m)
{
    pthread_mutex_destroy(&m->lock);
}

static const char *method_label(const char *method)
{
    static const char *const known[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (method && !strcmp(method, known[i])) return known[i];
    return "OTHER";
}

void portal_metrics_request(portal_metrics *m, const char *method, int status)
{
    const char *label = method_label(method);
    pthread_mutex_lock(&m->lock);
    int i = 0;
    while (i < m->n && (m->slot[i].status != status || strcmp(m->slot[i].method, label))) i++;
    if (i == m->n && m->n < PORTAL_METRICS_SLOTS) {
        snprintf(m->slot[i].method, sizeof m->slot[i].method, "%s", label);
        m->slot[i].status = status;
        m->n++;
    }
    if (i < m->n) m->slot[i].count++;
    pthread_mutex_unlock(&m->lock);
}

void portal_metrics_outcome(portal_metrics *m, portal_outcome o)
{
    pthread_mutex_lock(&m->lock);
    m->outcome[o]++;
    pthread_mutex_unlock(&m->lock);
}

void portal_metrics_db_up(portal_metrics *m, int up)
{
    pthread_mutex_lock(&m->lock);
    m->db_up = up;
    pthread_mutex_unlock(&m->lock);
}

char *portal_metrics_render(portal_metrics *m, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) return NULL;
    pthread_mutex_lock(&m->lock);
    fputs("# HELP tthc_portal_requests_total HTTP requests answered, by method and status.\n"
          "# TYPE tthc_portal_requests_total counter\n",
          f);
    for (int i = 0; i < m->n; i++)
        fprintf(f, "tthc_portal_requests_total{method=\"%s\",status=\"%d\"} %llu\n", m->slot[i].method,
                m->slot[i].status, m->slot[i].count);
    fputs("# HELP tthc_portal_reports_total Pushed reports, by outcome.\n"
          "# TYPE tthc_portal_reports_total counter\n",
          f);
    for (int o = 0; o < PORTAL_OUTCOME_COUNT; o++)
        fprintf(f, "tthc_portal_reports_total{outcome=\"%s\"} %llu\n", outcome_names[o], m->outcome[o]);
    fprintf(f,
            "# HELP tthc_portal_db_up 1 when the last database operation succeeded.\n"
            "# TYPE tthc_portal_db_up gauge\n"
            "tthc_portal_db_up %d\n",
            m->db_up);
    pthread_mutex_unlock(&m->lock);
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    *len = size;
    return buf;
}
