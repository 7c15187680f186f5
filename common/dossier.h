/* dossier.h - the counting semantics of events.md as pure functions.
 *
 * A tthc_dossier holds one dossier's set-once facts.  tthc_dossier_apply()
 * folds one validated event into it (first value wins; distinct payments;
 * a disagreeing second receipt is a conflict).  Which event_ids were applied
 * already is not the dossier's business: an event_id is unique across the
 * whole stream, so the caller keeps that set (tthc-ingest: the
 * applied_event table), and the cost of an event does not depend on how many
 * its dossier had (events.md, semantics 7).  tthc_dossier_contrib() maps a state to its contribution to the
 * counters of its bucket: zero until the receipt is seen, so facts that arrive
 * first wait.  The change a batch makes to a bucket is
 * contrib(after) - contrib(before), whatever order the events came in.
 *
 * Ownership: a tthc_dossier owns its payment arrays;
 * tthc_dossier_clear() frees them.  Strings passed in are copied. */
#ifndef TTHC_DOSSIER_H
#define TTHC_DOSSIER_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "event.h"

/* Counter columns of period_totals, in table order. */
typedef enum {
    TTHC_C_RECEIVED = 0,
    TTHC_C_ONLINE,
    TTHC_C_COMP_DIGITIZED,
    TTHC_C_DATA_REUSED,
    TTHC_C_ID_TAGGED,
    TTHC_C_ISSUED,
    TTHC_C_RESULT_DIGITIZED,
    TTHC_C_E_RESULT,
    TTHC_C_SYNCED,
    TTHC_C_DUE_ISSUED,
    TTHC_C_ON_TIME,
    TTHC_C_PAYMENTS,
    TTHC_C_PAYMENTS_ONLINE,
    TTHC_C_RATED,
    TTHC_C_SATISFIED,
    TTHC_C__COUNT
} tthc_counter;

extern const char *const tthc_counter_column[TTHC_C__COUNT];

typedef struct {
    int64_t c[TTHC_C__COUNT];
} tthc_counts;

typedef struct {
    char dossier_id[TTHC_ID_MAX + 1];
    bool received;
    char unit_code[TTHC_UNIT_MAX + 1];
    char period[8];
    char procedure_code[TTHC_ID_MAX + 1];
    uint8_t channel, applicant_type;
    bool has_due;
    int64_t received_at, due_at;
    bool comp_digitized, result_digitized, data_reused, id_tagged;
    uint8_t reuse_source; /* of the first dossier.data_reused (tthc_reuse_source, 0 unknown) */
    bool issued, electronic;
    int64_t finished_at;
    bool synced, rated, satisfied;
    uint32_t npay, paycap;
    char **pay_ids;   /* owned */
    bool *pay_online; /* owned, parallel to pay_ids */
    uint32_t changes; /* grows by one whenever a fact is set (so a caller sees whether to write it) */
} tthc_dossier;

typedef enum {
    TTHC_APPLY_CHANGED = 0, /* applied: the event counts as seen (d->changes grew if a fact was set) */
    TTHC_APPLY_CONFLICT,    /* a second receipt that disagrees: nothing changed, DLQ it */
} tthc_apply_result;

void tthc_dossier_init(tthc_dossier *d, const char *dossier_id);
void tthc_dossier_clear(tthc_dossier *d);

/* Folds ev into d and says in *res whether it counts (CHANGED) or conflicts.
 * TTHC_ENOMEM (err filled, state unchanged) when memory ran out; then *res is
 * meaningless. */
tthc_rc tthc_dossier_apply(tthc_dossier *d, const tthc_event *ev, tthc_apply_result *res, tthc_err *err) TTHC_MUSTCHECK;

/* Contribution of one dossier to its bucket's counters (all zero if not received). */
void tthc_dossier_contrib(const tthc_dossier *d, tthc_counts *out);

/* Appends (copies) a payment; used when loading stored state.  TTHC_ENOMEM
 * (err filled) when memory ran out. */
tthc_rc tthc_dossier_add_payment(tthc_dossier *d, const char *payment_id, bool online, tthc_err *err) TTHC_MUSTCHECK;

#endif
