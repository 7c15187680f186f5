/* lifecycle.h - one dossier's life as the provincial one-stop system records
 * it: receipt, id tagging, digitization, data reuse, 0-2 payments, a result
 * after days (due in 1-15 working days), digitization of the result, the
 * portal's acknowledgement and sometimes a rating (pure, no I/O).
 *
 * emit_lifecycle() draws everything from the dossier's own random stream, so a
 * dossier is the same whatever the knobs around it.  Its events come out
 * sorted by occurred_at, dossier.received first, event numbers increasing. */
#ifndef EMIT_LIFECYCLE_H
#define EMIT_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "profile.h"
#include "rng.h"
#include "unitlist.h"

#define EMIT_MAX_EVENTS 12

typedef struct {
    uint8_t type;         /* tthc_event_type */
    uint8_t seq;          /* 1-based number within the dossier (event_id suffix) */
    uint8_t scope;        /* digitized: tthc_digitized_scope */
    uint8_t reuse_source; /* data_reused: 1 digitized_store, 2 national_db, 3 other_dossier */
    uint8_t id_kind;      /* id_tagged: 1 citizen_id, 2 vneid */
    uint8_t pay_no;       /* paid: 1 or 2 */
    uint8_t gateway;      /* paid: 0 none, 1 dvcqg, 2 provincial */
    bool pay_online, electronic, satisfied;
    int64_t at;         /* occurred_at, microseconds */
    int64_t amount_vnd; /* paid */
    char id_number[13]; /* id_tagged: "" when not sent */
} emit_event;

typedef struct {
    char id[TTHC_ID_MAX + 1];
    uint32_t unit;     /* index in the unit list */
    uint16_t proc;     /* index in the procedure catalogue */
    uint8_t channel;   /* tthc_channel */
    uint8_t applicant; /* 1 citizen, 2 business, 3 agency, 4 other */
    bool has_due, issued;
    int64_t received_at, due_at, finished_at;
    uint8_t nev;
    emit_event ev[EMIT_MAX_EVENTS];
} emit_dossier;

typedef struct {
    const char *code; /* MaTTHC, DVCQG style (illustrative) */
    unsigned kinds;   /* bit (1 << emit_kind) per unit kind that handles it */
    double mix;       /* relative frequency among the kind's procedures */
    int due_days;     /* working days allowed */
    int64_t fee_vnd;
    double pay[3];   /* probability of 0, 1, 2 payments */
    double business; /* share of business applicants */
} emit_procedure;

extern const emit_procedure emit_procedures[];
extern const int emit_nprocedures;

/* Expected payments per dossier of a unit kind (its procedure mix). */
double emit_kind_pay_mean(emit_kind k);

/* Generates the dossier received on Vietnam day `day` (a working day) by unit
 * unit_index; serial numbers the unit's dossiers (part of the dossier id). */
void emit_lifecycle(const emit_model *m, const emit_unit *unit, uint32_t unit_index, const emit_profile *pr,
                    int64_t day, double months_from_centre, uint64_t serial, emit_rng *r, emit_dossier *d);

#endif
