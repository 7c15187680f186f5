#include "dossier.h"

#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

const char *const tthc_counter_column[TTHC_C__COUNT] = {
    "received", "online",       "comp_digitized", "data_reused", "id_tagged",
    "issued",   "result_digitized", "e_result",   "synced",      "due_issued",
    "on_time",  "payments",     "payments_online", "rated",      "satisfied",
};

void tthc_dossier_init(tthc_dossier *d, const char *dossier_id)
{
    memset(d, 0, sizeof *d);
    size_t n = strlen(dossier_id);
    if (n > TTHC_ID_MAX) n = TTHC_ID_MAX;
    memcpy(d->dossier_id, dossier_id, n);
}

void tthc_dossier_clear(tthc_dossier *d)
{
    for (uint32_t i = 0; i < d->npay; i++) free(d->pay_ids[i]);
    for (uint32_t i = 0; i < d->nev; i++) free(d->event_ids[i]);
    free(d->pay_ids);
    free(d->pay_online);
    free(d->event_ids);
    d->pay_ids = NULL;
    d->pay_online = NULL;
    d->event_ids = NULL;
    d->npay = d->paycap = d->nev = d->evcap = 0;
}

bool tthc_dossier_has_event(const tthc_dossier *d, const char *event_id)
{
    for (uint32_t i = 0; i < d->nev; i++)
        if (!strcmp(d->event_ids[i], event_id)) return true;
    return false;
}

int tthc_dossier_add_event_id(tthc_dossier *d, const char *event_id)
{
    if (d->nev == d->evcap) {
        uint32_t cap = d->evcap ? d->evcap * 2 : 8;
        char **p = realloc(d->event_ids, cap * sizeof *p);
        if (!p) return -1;
        d->event_ids = p;
        d->evcap = cap;
    }
    char *copy = strdup(event_id);
    if (!copy) return -1;
    d->event_ids[d->nev++] = copy;
    return 0;
}

int tthc_dossier_add_payment(tthc_dossier *d, const char *payment_id, bool online)
{
    if (d->npay == d->paycap) {
        uint32_t cap = d->paycap ? d->paycap * 2 : 4;
        char **p = realloc(d->pay_ids, cap * sizeof *p);
        if (!p) return -1;
        d->pay_ids = p;
        bool *o = realloc(d->pay_online, cap * sizeof *o);
        if (!o) return -1;
        d->pay_online = o;
        d->paycap = cap;
    }
    char *copy = strdup(payment_id);
    if (!copy) return -1;
    d->pay_ids[d->npay] = copy;
    d->pay_online[d->npay++] = online;
    return 0;
}

static bool has_payment(const tthc_dossier *d, const char *payment_id)
{
    for (uint32_t i = 0; i < d->npay; i++)
        if (!strcmp(d->pay_ids[i], payment_id)) return true;
    return false;
}

static bool receipt_agrees(const tthc_dossier *d, const tthc_event *ev)
{
    return !strcmp(d->unit_code, ev->unit_code) && !strcmp(d->procedure_code, ev->procedure_code) &&
           d->channel == ev->channel && d->received_at == ev->received_at;
}

/* Sets a fact once; returns nothing, the caller records the event id anyway. */
static int apply_fact(tthc_dossier *d, const tthc_event *ev)
{
    switch (ev->type) {
    case TTHC_EV_RECEIVED:
        if (d->received) return receipt_agrees(d, ev) ? 0 : 1;
        d->received = true;
        memcpy(d->unit_code, ev->unit_code, sizeof d->unit_code);
        memcpy(d->procedure_code, ev->procedure_code, sizeof d->procedure_code);
        d->channel = ev->channel;
        d->applicant_type = ev->applicant_type;
        d->received_at = ev->received_at;
        d->has_due = ev->has_due;
        d->due_at = ev->due_at;
        tthc_cohort_month(ev->received_at, d->period);
        return 0;
    case TTHC_EV_DIGITIZED:
        if (ev->scope == TTHC_SCOPE_COMPONENTS) d->comp_digitized = true;
        else d->result_digitized = true;
        return 0;
    case TTHC_EV_DATA_REUSED:
        if (!d->data_reused) d->reuse_source = ev->reuse_source; /* the first event's source, like its other values */
        d->data_reused = true;
        return 0;
    case TTHC_EV_ID_TAGGED: d->id_tagged = true; return 0;
    case TTHC_EV_PAID:
        if (!has_payment(d, ev->payment_id) && tthc_dossier_add_payment(d, ev->payment_id, ev->pay_online)) return -1;
        return 0;
    case TTHC_EV_RESULT_ISSUED:
        if (!d->issued) {
            d->issued = true;
            d->electronic = ev->electronic;
            d->finished_at = ev->finished_at;
        }
        return 0;
    case TTHC_EV_SYNCED: d->synced = true; return 0;
    case TTHC_EV_RATED:
        if (!d->rated) {
            d->rated = true;
            d->satisfied = ev->satisfied;
        }
        return 0;
    case TTHC_EV__COUNT: break;
    }
    return 0;
}

int tthc_dossier_apply(tthc_dossier *d, const tthc_event *ev)
{
    if (tthc_dossier_has_event(d, ev->event_id)) return TTHC_APPLY_DUPLICATE;
    /* Reserve the event-id slot first so that a failed allocation leaves no half state. */
    if (d->nev == d->evcap) {
        uint32_t cap = d->evcap ? d->evcap * 2 : 8;
        char **p = realloc(d->event_ids, cap * sizeof *p);
        if (!p) return -1;
        d->event_ids = p;
        d->evcap = cap;
    }
    char *id = strdup(ev->event_id);
    if (!id) return -1;
    int r = apply_fact(d, ev);
    if (r) {
        free(id);
        return r > 0 ? TTHC_APPLY_CONFLICT : -1;
    }
    d->event_ids[d->nev++] = id;
    return TTHC_APPLY_CHANGED;
}

void tthc_dossier_contrib(const tthc_dossier *d, tthc_counts *out)
{
    memset(out, 0, sizeof *out);
    if (!d->received) return;
    int64_t *c = out->c;
    c[TTHC_C_RECEIVED] = 1;
    c[TTHC_C_ONLINE] = d->channel == TTHC_CH_ONLINE;
    c[TTHC_C_COMP_DIGITIZED] = d->comp_digitized;
    c[TTHC_C_DATA_REUSED] = d->data_reused;
    c[TTHC_C_ID_TAGGED] = d->id_tagged;
    c[TTHC_C_ISSUED] = d->issued;
    c[TTHC_C_RESULT_DIGITIZED] = d->issued && d->result_digitized;
    c[TTHC_C_E_RESULT] = d->issued && d->electronic;
    c[TTHC_C_SYNCED] = d->issued && d->synced;
    c[TTHC_C_DUE_ISSUED] = d->issued && d->has_due;
    c[TTHC_C_ON_TIME] = d->issued && d->has_due && d->finished_at <= d->due_at;
    c[TTHC_C_PAYMENTS] = d->npay;
    for (uint32_t i = 0; i < d->npay; i++) c[TTHC_C_PAYMENTS_ONLINE] += d->pay_online[i];
    c[TTHC_C_RATED] = d->rated;
    c[TTHC_C_SATISFIED] = d->rated && d->satisfied;
}
