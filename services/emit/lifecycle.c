#include "lifecycle.h"

#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "timeutil.h"

#define DEPT  (1u << EMIT_KIND_DEPARTMENT)
#define LOCAL ((1u << EMIT_KIND_WARD) | (1u << EMIT_KIND_COMMUNE))
#define ANY   (DEPT | LOCAL)

/* A small catalogue in the shape of the DVCQG one (codes illustrative). */
const emit_procedure emit_procedures[] = {
    /* provincial departments */
    {"1.001612", DEPT, 3.0, 3, 50000, {0.10, 0.85, 0.05}, 0.90},   /* business registration */
    {"1.004227", DEPT, 3.0, 5, 135000, {0.05, 0.95, 0.00}, 0.00},  /* driving licence renewal */
    {"2.000889", DEPT, 2.0, 10, 200000, {0.10, 0.90, 0.00}, 0.00}, /* judicial record certificate */
    {"1.009994", DEPT, 1.0, 15, 150000, {0.10, 0.60, 0.30}, 0.40}, /* construction permit */
    {"1.003003", DEPT, 3.0, 10, 100000, {0.10, 0.40, 0.50}, 0.10}, /* land-use right change */
    {"1.002000", DEPT, 1.0, 15, 500000, {0.05, 0.80, 0.15}, 0.30}, /* practising certificate */
    /* wards and communes */
    {"1.001193", LOCAL, 4.0, 1, 0, {0.97, 0.03, 0.00}, 0.00},       /* birth registration */
    {"1.000894", LOCAL, 1.0, 5, 0, {0.95, 0.05, 0.00}, 0.00},       /* marriage registration */
    {"2.000908", LOCAL, 5.0, 1, 2000, {0.15, 0.85, 0.00}, 0.10},    /* certified copies */
    {"1.000656", LOCAL, 1.0, 1, 0, {0.98, 0.02, 0.00}, 0.00},       /* death registration */
    {"1.004082", LOCAL, 1.5, 3, 0, {0.90, 0.10, 0.00}, 0.00},       /* marital status confirmation */
    {"1.001758", LOCAL, 1.0, 3, 100000, {0.10, 0.90, 0.00}, 0.95},  /* household business registration */
    {"1.003583", LOCAL, 1.0, 15, 300000, {0.20, 0.40, 0.40}, 0.00}, /* first land registration */
    /* any unit */
    {"2.002161", ANY, 0.5, 7, 0, {0.90, 0.10, 0.00}, 0.20}, /* confirmation of information */
};
const int emit_nprocedures = (int)(sizeof emit_procedures / sizeof emit_procedures[0]);

/* A unit of kind `other` may receive any procedure. */
static bool handles(const emit_procedure *p, emit_kind k)
{
    return k >= EMIT_KIND_OTHER || (p->kinds & (1u << k));
}

double emit_kind_pay_mean(emit_kind k)
{
    double num = 0, den = 0;
    for (int i = 0; i < emit_nprocedures; i++) {
        const emit_procedure *p = &emit_procedures[i];
        if (!handles(p, k)) continue;
        num += p->mix * (p->pay[1] + 2 * p->pay[2]);
        den += p->mix;
    }
    return den > 0 ? num / den : 0;
}

static int pick_procedure(emit_kind k, emit_rng *r)
{
    double w[64];
    int n = emit_nprocedures < 64 ? emit_nprocedures : 64;
    for (int i = 0; i < n; i++) w[i] = handles(&emit_procedures[i], k) ? emit_procedures[i].mix : 0;
    return emit_rng_pick(r, w, n);
}

static emit_event *add(emit_dossier *d, uint8_t type, int64_t at)
{
    emit_event *e = &d->ev[d->nev++];
    memset(e, 0, sizeof *e);
    e->type = type;
    e->at = at;
    return e;
}

/* An instant on working day `day` within office hours (07:30-17:00). */
static int64_t office_time(int64_t day, emit_rng *r)
{
    return emit_day_at(day, 7 * 60 + 30) + emit_rng_range(r, 0, (9 * 60 + 30) * 60 - 1) * 1000000;
}

static int64_t receipt_time(int64_t day, uint8_t channel, emit_rng *r)
{
    int64_t minute;
    if (channel == TTHC_CH_ONLINE)
        minute = emit_rng_chance(r, 0.9) ? emit_rng_range(r, 7 * 60, 17 * 60 + 29)
                                         : emit_rng_range(r, 17 * 60 + 30, 21 * 60 + 59);
    else
        minute = emit_rng_chance(r, 0.6) ? emit_rng_range(r, 7 * 60 + 30, 11 * 60 + 29)
                                         : emit_rng_range(r, 13 * 60 + 30, 16 * 60 + 59);
    return emit_day_at(day, minute) + emit_rng_range(r, 0, 59) * 1000000;
}

static int64_t minutes(emit_rng *r, int64_t lo, int64_t hi)
{
    return emit_rng_range(r, lo * 60, hi * 60) * 1000000;
}

static void id_number(emit_rng *r, char out[13])
{
    /* Synthetic: province prefix 086, century/sex digit, birth year, six digits. */
    snprintf(out, 13, "086%d%02d%06d", (int)emit_rng_range(r, 0, 3), (int)emit_rng_range(r, 0, 99),
             (int)emit_rng_range(r, 0, 999999));
}

static int64_t finish_time(const emit_dossier *d, int64_t day, int due_days, bool on_time, emit_rng *r)
{
    int64_t t;
    if (!d->has_due) return office_time(emit_add_working_days(day, (int)emit_rng_range(r, 1, 15)), r);
    if (!on_time) return office_time(emit_add_working_days(emit_day_of(d->due_at), (int)emit_rng_range(r, 1, 6)), r);
    t = office_time(emit_add_working_days(day, (int)emit_rng_range(r, 0, due_days)), r);
    if (t <= d->received_at + 20 * EMIT_US_PER_MIN) t = d->received_at + minutes(r, 20, 120);
    if (t > d->due_at) t = d->due_at - minutes(r, 1, 60);
    return t;
}

static void sort_events(emit_dossier *d)
{
    for (int i = 1; i < d->nev; i++) {
        emit_event e = d->ev[i];
        int j = i;
        while (j > 0 && d->ev[j - 1].at > e.at) {
            d->ev[j] = d->ev[j - 1];
            j--;
        }
        d->ev[j] = e;
    }
    for (int i = 0; i < d->nev; i++) d->ev[i].seq = (uint8_t)(i + 1);
}

static void receipt(const emit_model *m, const emit_unit *unit, const emit_profile *pr, int64_t day, double mo,
                    emit_rng *r, emit_dossier *d)
{
    const emit_procedure *proc = &emit_procedures[d->proc];
    double p_online = emit_profile_p(m, pr, TTHC_IND_ONLINE_SUBMISSION, mo);
    d->channel = emit_rng_chance(r, p_online)          ? TTHC_CH_ONLINE
                 : emit_rng_chance(r, m->postal_share) ? TTHC_CH_POSTAL
                                                       : TTHC_CH_IN_PERSON;
    double u = emit_rng_unit(r);
    d->applicant = u < proc->business ? 2 : u < proc->business + 0.02 ? 3 : u < proc->business + 0.04 ? 4 : 1;
    d->received_at = receipt_time(day, d->channel, r);
    d->has_due = emit_rng_chance(r, m->p_due);
    /* A receipt after office hours counts from the next working day. */
    int64_t first = emit_minute_of(d->received_at) >= 17 * 60 ? emit_add_working_days(day, 1) : day;
    d->due_at = emit_day_at(emit_add_working_days(first, proc->due_days), 17 * 60);
    (void)unit;
    add(d, TTHC_EV_RECEIVED, d->received_at);
}

void emit_lifecycle(const emit_model *m, const emit_unit *unit, uint32_t unit_index, const emit_profile *pr,
                    int64_t day, double mo, uint64_t serial, emit_rng *r, emit_dossier *d)
{
    memset(d, 0, sizeof *d);
    d->unit = unit_index;
    d->proc = (uint16_t)pick_procedure(unit->kind, r);
    const emit_procedure *proc = &emit_procedures[d->proc];
    char ymd[8];
    int64_t y;
    unsigned mon, dd;
    tthc_civil_from_days(day, &y, &mon, &dd);
    snprintf(ymd, sizeof ymd, "%02d%02u%02u", (int)(y % 100), mon, dd);
    if (snprintf(d->id, sizeof d->id, "%s-%s-%04llu", unit->code, ymd, (unsigned long long)serial) >= (int)sizeof d->id)
        snprintf(d->id, sizeof d->id, "U%u-%s-%04llu", unit_index, ymd, (unsigned long long)serial);
    receipt(m, unit, pr, day, mo, r, d);
    const int64_t t0 = d->received_at;
    const int online = d->channel == TTHC_CH_ONLINE;
    const double s = emit_profile_p(m, pr, TTHC_IND_ONLINE_SUBMISSION, mo), lift = m->channel_lift;
#define P(i) emit_profile_p(m, pr, (i), mo)

    if (emit_rng_chance(r, emit_lift(P(TTHC_IND_ID_TAGGED), s, lift, online))) {
        emit_event *e = add(d, TTHC_EV_ID_TAGGED, t0 + emit_rng_range(r, 1, 600) * 1000000);
        e->id_kind = emit_rng_chance(r, online ? 0.3 : 0.85) ? 1 : 2;
        if (e->id_kind == 1 && emit_rng_chance(r, 0.7)) id_number(r, e->id_number);
    }
    if (emit_rng_chance(r, P(TTHC_IND_DIGITIZED_DOSSIER))) {
        emit_event *e = add(d, TTHC_EV_DIGITIZED, t0 + minutes(r, 2, 180));
        e->scope = TTHC_SCOPE_COMPONENTS;
    }
    if (emit_rng_chance(r, P(TTHC_IND_DATA_REUSED))) {
        emit_event *e = add(d, TTHC_EV_DATA_REUSED, t0 + emit_rng_range(r, 1, 1200) * 1000000);
        static const double src[3] = {0.5, 0.35, 0.15};
        e->reuse_source = (uint8_t)(1 + emit_rng_pick(r, src, 3));
    }
    int npay = emit_rng_pick(r, proc->pay, 3);
    bool pay_online[2];
    uint8_t gateway[2];
    for (int k = 0; k < 2; k++) {
        pay_online[k] = emit_rng_chance(r, emit_lift(P(TTHC_IND_ONLINE_PAYMENT), s, lift, online));
        gateway[k] = emit_rng_chance(r, 0.7) ? 1 : 2;
    }
    /* Result: issued or not, on time or late, electronic or on paper. */
    d->issued = emit_rng_chance(r, m->p_issue);
    bool on_time = emit_rng_chance(r, P(TTHC_IND_ON_TIME));
    int64_t fin = finish_time(d, day, proc->due_days, on_time, r);
    bool electronic = emit_rng_chance(r, emit_lift(P(TTHC_IND_E_RESULT), s, lift, online));
    bool rdig = emit_rng_chance(r, P(TTHC_IND_DIGITIZED_RESULT));
    bool synced = emit_rng_chance(r, P(TTHC_IND_PORTAL_SYNCED));
    bool rated = emit_rng_chance(r, m->p_rated);
    bool satisfied = emit_rng_chance(r, P(TTHC_IND_SATISFACTION));
#undef P
    for (int k = 0; k < npay; k++) {
        int64_t at = k == 0      ? t0 + minutes(r, 0, 90) + 1000000
                     : d->issued ? fin - minutes(r, 10, 240)
                                 : t0 + minutes(r, 24 * 60, 72 * 60);
        if (at <= t0) at = t0 + minutes(r, 1, 5) + 1000000;
        emit_event *e = add(d, TTHC_EV_PAID, at);
        e->pay_no = (uint8_t)(k + 1);
        e->pay_online = pay_online[k];
        e->gateway = pay_online[k] ? gateway[k] : 0;
        e->amount_vnd = proc->fee_vnd ? proc->fee_vnd * (k == 0 ? 1 : 2) : 0;
    }
    if (d->issued) {
        d->finished_at = fin;
        emit_event *e = add(d, TTHC_EV_RESULT_ISSUED, fin);
        e->electronic = electronic;
        if (rdig) add(d, TTHC_EV_DIGITIZED, fin + minutes(r, 5, 240))->scope = TTHC_SCOPE_RESULT;
        if (synced) add(d, TTHC_EV_SYNCED, fin + minutes(r, 2, 720));
        if (rated) add(d, TTHC_EV_RATED, fin + minutes(r, 30, 5 * 24 * 60))->satisfied = satisfied;
    }
    sort_events(d);
}
