#include "dossier.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "timeutil.h"

const char *const tthc_counter_column[TTHC_C__COUNT] = {
    "received", "online",           "comp_digitized",  "data_reused", "id_tagged",
    "issued",   "result_digitized", "e_result",        "synced",      "due_issued",
    "on_time",  "payments",         "payments_online", "rated",       "satisfied",
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
    free(d->pay_ids);
    free(d->pay_online);
    d->pay_ids = NULL;
    d->pay_online = NULL;
    d->npay = d->paycap = 0;
}

tthc_rc tthc_dossier_add_payment(tthc_dossier *d, const char *payment_id, bool online, tthc_err *err)
{
    if (d->npay == d->paycap) {
        uint32_t cap = d->paycap ? d->paycap * 2 : 4;
        char **p = realloc(d->pay_ids, cap * sizeof *p);
        if (!p) goto oom;
        d->pay_ids = p;
        bool *o = realloc(d->pay_online, cap * sizeof *o);
        if (!o) goto oom;
        d->pay_online = o;
        d->paycap = cap;
    }
    char *copy = strdup(payment_id);
    if (!copy) goto oom;
    d->pay_ids[d->npay] = copy;
    d->pay_online[d->npay++] = online;
    return TTHC_OK;
oom:
    return tthc_fail(err, TTHC_ENOMEM, "dossier %s: out of memory adding a payment", d->dossier_id);
}

static bool has_payment(const tthc_dossier *d, const char *payment_id)
{
    for (uint32_t i = 0; i < d->npay; i++)
        if (!strcmp(d->pay_ids[i], payment_id)) return true;
    return false;
}

static bool receipt_agrees(const tthc_dossier *d, const tthc_event *ev)
{
    /* Case-insensitive: a receipt stored before unit codes were upper-cased agrees with its new spelling. */
    return !strcasecmp(d->unit_code, ev->unit_code) && !strcmp(d->procedure_code, ev->procedure_code) &&
           d->channel == ev->channel && d->received_at == ev->received_at;
}

/* Sets a fact once (d->changes grows if a fact was set); a disagreeing
 * receipt is TTHC_APPLY_CONFLICT.  Fails only when memory runs out. */
tthc_rc tthc_dossier_apply(tthc_dossier *d, const tthc_event *ev, tthc_apply_result *res, tthc_err *err)
{
    *res = TTHC_APPLY_CHANGED;
    switch (ev->type) {
    case TTHC_EV_RECEIVED:
        if (d->received) {
            if (!receipt_agrees(d, ev)) *res = TTHC_APPLY_CONFLICT;
            return TTHC_OK;
        }
        d->received = true;
        memcpy(d->unit_code, ev->unit_code, sizeof d->unit_code);
        memcpy(d->procedure_code, ev->procedure_code, sizeof d->procedure_code);
        d->channel = ev->channel;
        d->applicant_type = ev->applicant_type;
        d->received_at = ev->received_at;
        d->has_due = ev->has_due;
        d->due_at = ev->due_at;
        (void)tthc_cohort_month(ev->received_at, d->period, NULL); /* in range: the event was validated */
        break;
    case TTHC_EV_DIGITIZED:
        if (ev->scope == TTHC_SCOPE_COMPONENTS) {
            if (d->comp_digitized) return TTHC_OK;
            d->comp_digitized = true;
        } else {
            if (d->result_digitized) return TTHC_OK;
            d->result_digitized = true;
        }
        break;
    case TTHC_EV_DATA_REUSED:
        if (d->data_reused) return TTHC_OK;
        d->data_reused = true;
        d->reuse_source = ev->reuse_source; /* the first event's source, like its other values */
        break;
    case TTHC_EV_ID_TAGGED:
        if (d->id_tagged) return TTHC_OK;
        d->id_tagged = true;
        break;
    case TTHC_EV_PAID: {
        if (has_payment(d, ev->payment_id)) return TTHC_OK;
        tthc_rc rc = tthc_dossier_add_payment(d, ev->payment_id, ev->pay_online, err);
        if (rc) return rc;
        break;
    }
    case TTHC_EV_RESULT_ISSUED:
        if (d->issued) return TTHC_OK;
        d->issued = true;
        d->electronic = ev->electronic;
        d->finished_at = ev->finished_at;
        break;
    case TTHC_EV_SYNCED:
        if (d->synced) return TTHC_OK;
        d->synced = true;
        break;
    case TTHC_EV_RATED:
        if (d->rated) return TTHC_OK;
        d->rated = true;
        d->satisfied = ev->satisfied;
        break;
    case TTHC_EV__COUNT: return TTHC_OK;
    }
    d->changes++;
    return TTHC_OK;
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
