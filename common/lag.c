/* lag.c - lag in seconds and Burrow's status rules (see lag.h for the rules). */
#include "lag.h"

#include <math.h>

/* ---- ring ---- */

static const tthc_lag_sample *ring_at(const tthc_lag_ring *r, size_t i) /* i = 0: oldest */
{
    return &r->s[(r->head + i) % TTHC_LAG_RING_CAP];
}

static tthc_lag_sample *ring_at_mut(tthc_lag_ring *r, size_t i)
{
    return &r->s[(r->head + i) % TTHC_LAG_RING_CAP];
}

/* Only the indices: samples past n are never read, and leaving them alone
 * keeps the pages of a never-used ring (one per partition slot) untouched. */
void tthc_lag_ring_init(tthc_lag_ring *r)
{
    r->head = r->n = 0;
}

size_t tthc_lag_ring_len(const tthc_lag_ring *r)
{
    return r->n;
}

bool tthc_lag_ring_newest(const tthc_lag_ring *r, int64_t *log_end, double *t)
{
    if (!r->n) return false;
    const tthc_lag_sample *s = ring_at(r, r->n - 1);
    if (log_end) *log_end = s->log_end;
    if (t) *t = s->t;
    return true;
}

bool tthc_lag_ring_oldest(const tthc_lag_ring *r, int64_t *log_end, double *t)
{
    if (!r->n) return false;
    const tthc_lag_sample *s = ring_at(r, 0);
    if (log_end) *log_end = s->log_end;
    if (t) *t = s->t;
    return true;
}

void tthc_lag_ring_add(tthc_lag_ring *r, int64_t log_end, double t)
{
    if (log_end < 0 || !isfinite(t)) return;
    if (r->n) {
        tthc_lag_sample *newest = ring_at_mut(r, r->n - 1);
        if (log_end < newest->log_end) {
            tthc_lag_ring_init(r); /* recreated or truncated partition */
        } else {
            if (t < newest->t) t = newest->t; /* the clock stepped back */
            if (r->n >= 2 && log_end == newest->log_end && ring_at(r, r->n - 2)->log_end == log_end) {
                newest->t = t; /* extend the run: keep its first and last sample */
                return;
            }
        }
    }
    if (r->n == TTHC_LAG_RING_CAP) {
        r->head = (r->head + 1) % TTHC_LAG_RING_CAP;
        r->n--;
    }
    tthc_lag_sample *s = ring_at_mut(r, r->n);
    s->log_end = log_end;
    s->t = t;
    r->n++;
}

static double age(double now, double then)
{
    double a = now - then;
    return isfinite(a) && a > 0 ? a : 0.0;
}

double tthc_lag_seconds(const tthc_lag_ring *r, int64_t consumer_offset, double now, double next_msg_ts)
{
    if (!isfinite(now)) return 0.0;
    int64_t c = consumer_offset < 0 ? 0 : consumer_offset;
    int have_ts = isfinite(next_msg_ts) && next_msg_ts >= 0;
    if (r->n == 0) return have_ts ? age(now, next_msg_ts) : 0.0;
    if (c >= ring_at(r, r->n - 1)->log_end) return 0.0; /* caught up */
    const tthc_lag_sample *oldest = ring_at(r, 0);
    if (c < oldest->log_end) { /* produced before the oldest sample */
        double lower = age(now, oldest->t);
        if (have_ts) {
            double a = age(now, next_msg_ts);
            return a > lower ? a : lower;
        }
        return lower;
    }
    /* oldest->log_end <= c < newest log_end: some sample i >= 1 is the first past c. */
    for (size_t i = 1; i < r->n; i++) {
        const tthc_lag_sample *hi = ring_at(r, i);
        if (hi->log_end <= c) continue;
        const tthc_lag_sample *lo = ring_at(r, i - 1);
        double frac = (double)(c + 1 - lo->log_end) / (double)(hi->log_end - lo->log_end);
        return age(now, lo->t + (hi->t - lo->t) * frac);
    }
    return 0.0; /* not reached: the newest log end is > c */
}

/* ---- Burrow window ---- */

static const tthc_burrow_sample *win_at(const tthc_burrow_window *w, size_t i) /* i = 0: oldest */
{
    return &w->s[(w->head + i) % TTHC_BURROW_WINDOW_MAX];
}

void tthc_burrow_init_size(tthc_burrow_window *w, size_t size)
{
    w->head = w->n = 0; /* samples past n are never read (see tthc_lag_ring_init) */
    if (size < 2) size = 2;
    if (size > TTHC_BURROW_WINDOW_MAX) size = TTHC_BURROW_WINDOW_MAX;
    w->size = size;
}

void tthc_burrow_init(tthc_burrow_window *w)
{
    tthc_burrow_init_size(w, TTHC_BURROW_WINDOW_DEFAULT);
}

void tthc_burrow_reset(tthc_burrow_window *w)
{
    tthc_burrow_init_size(w, w->size);
}

void tthc_burrow_add(tthc_burrow_window *w, double t, int64_t consumer_offset, int64_t log_end, double last_commit_time)
{
    if (!isfinite(t) || consumer_offset < 0 || log_end < 0) return;
    if (w->n && t < win_at(w, w->n - 1)->t) tthc_burrow_reset(w); /* the clock stepped back */
    if (w->n == w->size) {
        w->head = (w->head + 1) % TTHC_BURROW_WINDOW_MAX;
        w->n--;
    }
    tthc_burrow_sample *s = &w->s[(w->head + w->n) % TTHC_BURROW_WINDOW_MAX];
    s->t = t;
    s->offset = consumer_offset;
    s->log_end = log_end;
    s->lag = log_end > consumer_offset ? log_end - consumer_offset : 0;
    s->commit_t = isfinite(last_commit_time) && last_commit_time >= 0 ? last_commit_time : -1.0;
    w->n++;
}

/* Rule c: a decrease not yet made good. */
static bool rewound(const tthc_burrow_window *w)
{
    size_t last_drop = 0;
    for (size_t i = 1; i < w->n; i++)
        if (win_at(w, i)->offset < win_at(w, i - 1)->offset) last_drop = i;
    if (!last_drop) return false;
    int64_t peak = 0;
    for (size_t i = 0; i < last_drop; i++)
        if (win_at(w, i)->offset > peak) peak = win_at(w, i)->offset;
    return win_at(w, w->n - 1)->offset < peak;
}

static bool any_zero_lag(const tthc_burrow_window *w)
{
    for (size_t i = 0; i < w->n; i++)
        if (win_at(w, i)->lag == 0) return true;
    return false;
}

/* Rule e: no commit for longer than the window span and the last commit interval. */
static bool stopped(const tthc_burrow_window *w, double now)
{
    const tthc_burrow_sample *newest = win_at(w, w->n - 1);
    if (newest->commit_t < 0) return false; /* unknown: cannot tell */
    double span = newest->t - win_at(w, 0)->t;
    double interval = 0;
    for (size_t i = w->n - 1; i > 0; i--) { /* the previous distinct commit time */
        double c = win_at(w, i - 1)->commit_t;
        if (c >= 0 && c < newest->commit_t) {
            interval = newest->commit_t - c;
            break;
        }
    }
    double threshold = span > interval ? span : interval;
    return now - newest->commit_t > threshold;
}

static bool offset_fixed(const tthc_burrow_window *w)
{
    for (size_t i = 1; i < w->n; i++)
        if (win_at(w, i)->offset != win_at(w, 0)->offset) return false;
    return true;
}

static bool lag_never_decreases(const tthc_burrow_window *w)
{
    for (size_t i = 1; i < w->n; i++)
        if (win_at(w, i)->lag < win_at(w, i - 1)->lag) return false;
    return true;
}

int64_t tthc_burrow_lag(const tthc_burrow_window *w)
{
    return w->n ? win_at(w, w->n - 1)->lag : 0;
}

double tthc_burrow_complete(const tthc_burrow_window *w)
{
    return w->size ? (double)w->n / (double)w->size : 0.0;
}

bool tthc_burrow_evaluated(const tthc_burrow_window *w)
{
    return w->n && (w->n >= w->size || tthc_burrow_lag(w) == 0);
}

tthc_partition_status tthc_burrow_eval(const tthc_burrow_window *w, double now)
{
    if (!tthc_burrow_evaluated(w) || tthc_burrow_lag(w) == 0) return TTHC_PARTITION_OK; /* a, b */
    if (rewound(w)) return TTHC_PARTITION_REWIND;
    if (any_zero_lag(w)) return TTHC_PARTITION_OK;
    if (stopped(w, now)) return TTHC_PARTITION_STOP;
    if (offset_fixed(w)) return TTHC_PARTITION_STALL;
    if (lag_never_decreases(w)) return TTHC_PARTITION_WARN;
    return TTHC_PARTITION_OK;
}

bool tthc_partition_status_is_error(tthc_partition_status s)
{
    return s == TTHC_PARTITION_STOP || s == TTHC_PARTITION_STALL || s == TTHC_PARTITION_REWIND;
}

tthc_group_status tthc_burrow_group(const tthc_partition_status *parts, size_t n)
{
    tthc_group_status g = TTHC_GROUP_OK;
    for (size_t i = 0; i < n; i++) {
        if (tthc_partition_status_is_error(parts[i])) return TTHC_GROUP_ERR;
        if (parts[i] == TTHC_PARTITION_WARN) g = TTHC_GROUP_WARN;
    }
    return g;
}

const char *tthc_partition_status_name(tthc_partition_status s)
{
    static const char *const names[TTHC_PARTITION_STATUS_COUNT] = {"OK", "WARN", "STOP", "STALL", "REWIND"};
    return (unsigned)s < TTHC_PARTITION_STATUS_COUNT ? names[s] : "UNKNOWN";
}

const char *tthc_group_status_name(tthc_group_status s)
{
    static const char *const names[TTHC_GROUP_STATUS_COUNT] = {"OK", "WARN", "ERR"};
    return (unsigned)s < TTHC_GROUP_STATUS_COUNT ? names[s] : "UNKNOWN";
}
