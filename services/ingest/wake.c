#include "wake.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "timeutil.h"

/* Longest wait for a ListOffsets answer; the stop waits at most this long. */
#define WAKE_TIMEOUT_MS 1000

struct ingest_wake {
    rd_kafka_t *rk;
    int interval_ms;
    atomic_bool consumed;  /* a message was consumed since the last request */
    atomic_ulong requests; /* sent so far */
    pthread_t thread;
    bool started, stop; /* stop: under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC: signalled by wake_stop */
};

/* One ListOffsets request for the current assignment (none when there is
 * none).  The answer only matters in that it was asked for. */
static void nudge(ingest_wake *w)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_resp_err_t e = rd_kafka_assignment(w->rk, &parts);
    if (!e && parts && parts->cnt > 0) {
        for (int i = 0; i < parts->cnt; i++) parts->elems[i].offset = RD_KAFKA_OFFSET_END; /* latest */
        e = rd_kafka_offsets_for_times(w->rk, parts, WAKE_TIMEOUT_MS);
        atomic_fetch_add_explicit(&w->requests, 1, memory_order_relaxed);
    }
    if (e) LOG_DEBUG("fetch_wake_failed", "error=\"%s\"", rd_kafka_err2str(e));
    if (parts) rd_kafka_topic_partition_list_destroy(parts);
}

static void *wake_main(void *arg)
{
    ingest_wake *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        struct timespec ts;
        tthc_mono_deadline(&ts, w->interval_ms);
        while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT) {}
        if (w->stop) break;
        pthread_mutex_unlock(&w->mu);
        if (atomic_exchange_explicit(&w->consumed, false, memory_order_relaxed)) nudge(w);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

tthc_rc wake_start(rd_kafka_t *rk, int interval_ms, ingest_wake **out, tthc_err *err)
{
    *out = NULL;
    ingest_wake *w = calloc(1, sizeof *w);
    if (!w) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    w->rk = rk;
    w->interval_ms = interval_ms;
    atomic_init(&w->consumed, false);
    atomic_init(&w->requests, 0);
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (interval_ms > 0) {
        if (pthread_create(&w->thread, NULL, wake_main, w)) {
            wake_stop(w);
            return tthc_fail(err, TTHC_ENOMEM, "cannot start the fetch wake-up thread");
        }
        w->started = true;
    }
    *out = w;
    return TTHC_OK;
}

void wake_consumed(ingest_wake *w)
{
    if (w) atomic_store_explicit(&w->consumed, true, memory_order_relaxed);
}

unsigned long wake_requests(const ingest_wake *w)
{
    return w ? atomic_load_explicit(&w->requests, memory_order_relaxed) : 0;
}

void wake_stop(ingest_wake *w)
{
    if (!w) return;
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
