#include "stream.h"

#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "lifecycle.h"
#include "rng.h"
#include "strbuf.h"
#include "timeutil.h"

#define F_DUP  1u
#define F_LATE 2u

typedef struct {
    emit_dossier d;
    tthc_dossier state; /* self_check: what a consumer has made of the messages so far */
    uint32_t applied;   /* self_check: bit k set once d.ev[k] was applied (a consumer's event-id set) */
    int refs;           /* messages of this dossier still queued */
} sdossier;

typedef struct {
    int64_t at;   /* simulated time of leaving the system */
    uint64_t seq; /* tie-breaker: queue order */
    sdossier *d;
    uint8_t ev; /* index in d->d.ev */
    uint8_t flags;
} item;

struct emit_stream {
    emit_stream_config cfg;
    const emit_model *model;
    const emit_unitlist *units;
    emit_profile *prof;
    double *cumw;     /* cumulative unit weights */
    uint64_t *serial; /* per unit */
    emit_rng arrivals, dup, late, bad, reorder;
    item *heap;
    size_t nheap, capheap;
    item *win;
    size_t nwin;
    uint64_t seq;
    int64_t next_day;
    bool have_pending;
    item pending; /* a valid message held back behind a malformed one */
    tthc_sb key, val;
    emit_stats st;
};

/* ---- binary min-heap on (at, seq) ---------------------------------------- */

static bool before(const item *a, const item *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static int heap_push(emit_stream *s, item it)
{
    if (s->nheap == s->capheap) {
        size_t cap = s->capheap ? s->capheap * 2 : 4096;
        item *h = realloc(s->heap, cap * sizeof *h);
        if (!h) return -1;
        s->heap = h;
        s->capheap = cap;
    }
    size_t i = s->nheap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&it, &s->heap[p])) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = it;
    return 0;
}

static item heap_pop(emit_stream *s)
{
    item top = s->heap[0], last = s->heap[--s->nheap];
    size_t i = 0, n = s->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(&s->heap[c + 1], &s->heap[c])) c++;
        if (!before(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

/* ---- dossiers -------------------------------------------------------------- */

static void retire(emit_stream *s, sdossier *d)
{
    if (--d->refs > 0) return;
    if (s->cfg.self_check) {
        tthc_counts c;
        tthc_dossier_contrib(&d->state, &c);
        for (int k = 0; k < TTHC_C__COUNT; k++) s->st.totals.c[k] += c.c[k];
    }
    tthc_dossier_clear(&d->state);
    free(d);
}

static int pick_unit(emit_stream *s, emit_rng *r)
{
    double x = emit_rng_unit(r) * s->cumw[s->units->n - 1];
    size_t lo = 0, hi = s->units->n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->cumw[mid] > x) hi = mid;
        else lo = mid + 1;
    }
    return (int)lo;
}

static bool receiving(const emit_stream *s)
{
    if (s->cfg.to_day >= 0 && s->next_day > s->cfg.to_day) return false;
    if (s->cfg.max_dossiers > 0 && s->st.dossiers >= s->cfg.max_dossiers) return false;
    return true;
}

static int new_dossier(emit_stream *s, int64_t day, double months)
{
    int u = pick_unit(s, &s->arrivals);
    sdossier *d = malloc(sizeof *d);
    if (!d) return -1;
    emit_rng r;
    emit_rng_init(&r, s->cfg.seed, "dossier", (uint64_t)s->st.dossiers);
    emit_lifecycle(s->model, &s->units->v[u], (uint32_t)u, &s->prof[u], day, months, ++s->serial[u], &r, &d->d);
    tthc_dossier_init(&d->state, d->d.id);
    d->applied = 0;
    d->refs = d->d.nev;
    s->st.dossiers++;
    for (uint8_t k = 0; k < d->d.nev; k++) {
        item it = {d->d.ev[k].at, s->seq++, d, k, 0};
        if (heap_push(s, it)) {
            /* The items pushed so far stay queued and release their references. */
            d->refs -= d->d.nev - k;
            if (d->refs == 0) {
                tthc_dossier_clear(&d->state);
                free(d);
            }
            return -1;
        }
    }
    return 0;
}

/* Receives the dossiers of s->next_day. */
static int receive_day(emit_stream *s)
{
    static const double weekday_volume[7] = {1.15, 1.05, 1.0, 1.0, 0.9, 0, 0};
    int64_t day = s->next_day++;
    if (!emit_is_working_day(day)) return 0;
    int64_t y;
    unsigned m, dd;
    tthc_civil_from_days(day, &y, &m, &dd);
    double months = (double)(y * 12 + m - 1) - s->cfg.centre_month;
    int64_t n = emit_rng_poisson(&s->arrivals, s->cfg.per_day * weekday_volume[emit_weekday(day)]);
    for (int64_t i = 0; i < n && (s->cfg.max_dossiers <= 0 || s->st.dossiers < s->cfg.max_dossiers); i++)
        if (new_dossier(s, day, months)) return -1;
    return 0;
}

/* Next item in simulated-time order, with the late and duplicate knobs
 * applied; 0 when nothing is left. */
static int source_next(emit_stream *s, item *out)
{
    for (;;) {
        while (receiving(s) && (s->nheap == 0 || s->heap[0].at >= emit_day_at(s->next_day, 0)))
            if (receive_day(s)) return -1;
        if (s->nheap == 0) return 0;
        item it = heap_pop(s);
        if (!(it.flags & (F_LATE | F_DUP)) && s->cfg.late_rate > 0 && emit_rng_chance(&s->late, s->cfg.late_rate)) {
            it.flags |= F_LATE;
            it.at += emit_rng_range(&s->late, 20 * 86400, 75 * 86400) * INT64_C(1000000);
            if (heap_push(s, it)) return -1;
            continue;
        }
        if (!(it.flags & F_DUP) && s->cfg.dup_rate > 0 && emit_rng_chance(&s->dup, s->cfg.dup_rate)) {
            item copy = it;
            copy.flags |= F_DUP;
            copy.at += emit_rng_range(&s->dup, 1, 7200) * INT64_C(1000000);
            copy.seq = s->seq++;
            if (heap_push(s, copy)) return -1;
            it.d->refs++;
        }
        *out = it;
        return 1;
    }
}

/* Next item after the reorder window. */
static int window_next(emit_stream *s, item *out)
{
    size_t w = s->cfg.reorder_window > 1 ? (size_t)s->cfg.reorder_window : 1;
    while (s->nwin < w) {
        int r = source_next(s, &s->win[s->nwin]);
        if (r < 0) return -1;
        if (r == 0) break;
        s->nwin++;
    }
    if (s->nwin == 0) return 0;
    size_t i = s->nwin > 1 ? (size_t)emit_rng_range(&s->reorder, 0, (int64_t)s->nwin - 1) : 0, j = 0;
    while (s->win[j].d != s->win[i].d) j++; /* the dossier's first message in the window */
    *out = s->win[j];
    memmove(&s->win[j], &s->win[j + 1], (s->nwin - j - 1) * sizeof *s->win);
    s->nwin--;
    return 1;
}

/* ---- messages ------------------------------------------------------------ */

static tthc_rc check(emit_stream *s, const item *it, int bad, tthc_err *err)
{
    tthc_event ev;
    tthc_reject rej;
    tthc_rc r = tthc_event_parse(s->val.p, s->val.len, &ev, &rej, err);
    if (r == TTHC_ENOMEM) return r;
    const char *id = it->d->d.id;
    if (bad >= 0) {
        if (r == TTHC_OK || rej.reason != emit_bad_reason((emit_bad_kind)bad))
            return tthc_fail(err, TTHC_EINVAL, "self-check: malformed message %s of dossier %s was %s, not %s",
                             emit_bad_name((emit_bad_kind)bad), id,
                             r == TTHC_OK ? "accepted" : tthc_reject_reason_name(rej.reason),
                             tthc_reject_reason_name(emit_bad_reason((emit_bad_kind)bad)));
        return TTHC_OK;
    }
    if (r != TTHC_OK)
        return tthc_fail(err, TTHC_EINVAL, "self-check: event %u of dossier %s rejected: %s %s (%s)",
                         (unsigned)it->d->d.ev[it->ev].seq, id, tthc_reject_reason_name(rej.reason), rej.field,
                         rej.detail);
    if (ev.type != it->d->d.ev[it->ev].type || strcmp(ev.dossier_id, id))
        return tthc_fail(err, TTHC_EINVAL, "self-check: event %u of dossier %s parsed as another event",
                         (unsigned)it->d->d.ev[it->ev].seq, id);
    bool seen = (it->d->applied >> it->ev) & 1u;
    if (seen != ((it->flags & F_DUP) != 0))
        return tthc_fail(err, TTHC_EINVAL, "self-check: dossier %s: duplicate bookkeeping differs", id);
    if (seen) return TTHC_OK; /* its event_id was applied: changes nothing */
    tthc_apply_result a;
    if ((r = tthc_dossier_apply(&it->d->state, &ev, &a, err))) return r;
    if (a == TTHC_APPLY_CONFLICT)
        return tthc_fail(err, TTHC_EINVAL, "self-check: dossier %s: a conflicting receipt", id);
    it->d->applied |= 1u << it->ev;
    return TTHC_OK;
}

static tthc_rc encode(emit_stream *s, const item *it, int bad, emit_msg *msg, tthc_err *err)
{
    const emit_dossier *d = &it->d->d;
    const char *unit = s->units->v[d->unit].code;
    tthc_sb_reset(&s->key);
    tthc_sb_reset(&s->val);
    if (tthc_sb_adds(&s->key, d->id) || tthc_sb_addc(&s->key, '\0'))
        return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    tthc_rc rc = bad >= 0 ? emit_encode_bad((emit_bad_kind)bad, d, &d->ev[it->ev], unit, s->cfg.source, &s->val, err)
                          : emit_encode(d, &d->ev[it->ev], unit, s->cfg.source, &s->val, err);
    if (!rc && tthc_sb_addc(&s->val, '\0')) rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
    if (rc) return rc;
    s->val.len--; /* the NUL is not part of the message */
    if (s->cfg.self_check && (rc = check(s, it, bad, err))) return rc;
    msg->key = s->key.p;
    msg->key_len = s->key.len - 1;
    msg->value = s->val.p;
    msg->len = s->val.len;
    msg->sim_time = it->at;
    msg->bad = bad;
    msg->dup = bad < 0 && (it->flags & F_DUP);
    msg->late = bad < 0 && (it->flags & F_LATE);
    s->st.messages++;
    s->st.sim_time = it->at;
    return TTHC_OK;
}

tthc_rc emit_stream_next(emit_stream *s, emit_msg *msg, bool *end, tthc_err *err)
{
    *end = false;
    if (s->cfg.max_messages > 0 && s->st.messages >= s->cfg.max_messages) {
        emit_stream_finish(s);
        *end = true;
        return TTHC_OK;
    }
    item it;
    if (s->have_pending) {
        it = s->pending;
        s->have_pending = false;
    } else {
        int r = window_next(s, &it);
        if (r < 0) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
        if (r == 0) {
            *end = true;
            return TTHC_OK;
        }
        if (s->cfg.malformed_rate > 0 && emit_rng_chance(&s->bad, s->cfg.malformed_rate)) {
            int kind = (int)emit_rng_range(&s->bad, 0, EMIT_BAD__COUNT - 1);
            s->pending = it;
            s->have_pending = true;
            tthc_rc rc = encode(s, &it, kind, msg, err);
            if (rc) return rc;
            s->st.malformed++;
            s->st.bad[kind]++;
            return TTHC_OK;
        }
    }
    tthc_rc rc = encode(s, &it, -1, msg, err);
    if (!rc) {
        if (msg->dup) s->st.dups++;
        else s->st.events++;
        if (msg->late) s->st.late++;
    }
    retire(s, it.d);
    return rc;
}

void emit_stream_finish(emit_stream *s)
{
    if (s->have_pending) {
        retire(s, s->pending.d);
        s->have_pending = false;
    }
    for (size_t i = 0; i < s->nwin; i++) retire(s, s->win[i].d);
    s->nwin = 0;
    for (size_t i = 0; i < s->nheap; i++) retire(s, s->heap[i].d);
    s->nheap = 0;
    s->cfg.to_day = s->next_day - 1; /* receive nothing more */
}

void emit_stream_stats(const emit_stream *s, emit_stats *out)
{
    *out = s->st;
    out->queued = (int64_t)(s->nheap + s->nwin + (s->have_pending ? 1 : 0));
}

const emit_profile *emit_stream_profiles(const emit_stream *s)
{
    return s->prof;
}

tthc_rc emit_stream_new(const emit_stream_config *cfg, const emit_model *m, const emit_unitlist *units,
                        emit_stream **out, tthc_err *err)
{
    *out = NULL;
    if (!units->n) return tthc_fail(err, TTHC_EINVAL, "no units");
    if (!(cfg->per_day > 0)) return tthc_fail(err, TTHC_EINVAL, "dossiers per day must be positive");
    emit_stream *s = calloc(1, sizeof *s);
    if (!s) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    s->cfg = *cfg;
    s->model = m;
    s->units = units;
    s->next_day = cfg->from_day;
    size_t w = cfg->reorder_window > 1 ? (size_t)cfg->reorder_window : 1;
    s->prof = calloc(units->n, sizeof *s->prof);
    s->cumw = calloc(units->n, sizeof *s->cumw);
    s->serial = calloc(units->n, sizeof *s->serial);
    s->win = calloc(w, sizeof *s->win);
    tthc_sb_init(&s->key, 256);
    tthc_sb_init(&s->val, TTHC_EVENT_MAX_BYTES);
    tthc_rc rc = TTHC_OK;
    if (!s->prof || !s->cumw || !s->serial || !s->win) rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
    if (!rc) rc = emit_profiles_build(m, cfg->seed, units, s->prof, err);
    if (rc) {
        emit_stream_free(s);
        return rc;
    }
    double acc = 0;
    for (size_t u = 0; u < units->n; u++) s->cumw[u] = acc += s->prof[u].weight;
    emit_rng_init(&s->arrivals, cfg->seed, "arrivals", 0);
    emit_rng_init(&s->dup, cfg->seed, "dup", 0);
    emit_rng_init(&s->late, cfg->seed, "late", 0);
    emit_rng_init(&s->bad, cfg->seed, "malformed", 0);
    emit_rng_init(&s->reorder, cfg->seed, "reorder", 0);
    *out = s;
    return TTHC_OK;
}

void emit_stream_free(emit_stream *s)
{
    if (!s) return;
    emit_stream_finish(s);
    free(s->heap);
    free(s->win);
    free(s->prof);
    free(s->cumw);
    free(s->serial);
    tthc_sb_free(&s->key);
    tthc_sb_free(&s->val);
    free(s);
}
