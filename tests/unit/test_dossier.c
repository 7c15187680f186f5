/* The fact logic: set-once facts, distinct payments, conflicts, pending facts,
 * and contributions.  (Duplicate event ids are the caller's: an event_id is
 * unique across the stream; see tests/unit/ingest_batch_test.c.) */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "dossier.h"

static tthc_event ev_of(const char *json)
{
    tthc_event ev;
    tthc_reject rej;
    if (tthc_event_parse(json, strlen(json), &ev, &rej, NULL)) {
        fprintf(stderr, "bad fixture (%s %s): %s\n", tthc_reject_reason_name(rej.reason), rej.field, json);
        exit(2);
    }
    return ev;
}

#define E(id, body)                                                                                                    \
    "{\"event_id\":\"" id "\",\"occurred_at\":\"2025-03-06T08:15:00+07:00\",\"dossier_id\":\"D1\"," body "}"
#define RECEIVED(id, unit, ch, at)                                                                                     \
    E(id, "\"event_type\":\"dossier.received\",\"unit_code\":\"" unit "\",\"procedure_code\":\"P1\",\"channel\":\"" ch \
          "\",\"received_at\":\"" at "\",\"due_at\":\"2025-03-20T00:00:00+07:00\"")

/* The tthc_apply_result of applying json, or -1 if the call failed. */
static int apply(tthc_dossier *d, const char *json)
{
    tthc_event ev = ev_of(json);
    tthc_apply_result res;
    tthc_err err = {{0}};
    tthc_rc rc = tthc_dossier_apply(d, &ev, &res, &err);
    CHECK(rc == TTHC_OK, "apply: %s %s", tthc_rc_name(rc), err.msg);
    return rc ? -1 : (int)res;
}

static tthc_counts contrib(const tthc_dossier *d)
{
    tthc_counts c;
    tthc_dossier_contrib(d, &c);
    return c;
}

int main(void)
{
    tthc_dossier d;
    tthc_dossier_init(&d, "D1");

    /* Facts before the receipt wait: contribution stays zero. */
    CHECK_INT(apply(&d, E("e1", "\"event_type\":\"dossier.digitized\",\"scope\":\"components\"")), TTHC_APPLY_CHANGED);
    CHECK_INT(
        apply(&d,
              E("e2", "\"event_type\":\"dossier.paid\",\"payment_id\":\"p1\",\"method\":\"online\",\"amount_vnd\":5")),
        TTHC_APPLY_CHANGED);
    CHECK_INT(contrib(&d).c[TTHC_C_RECEIVED], 0);
    CHECK_INT(contrib(&d).c[TTHC_C_PAYMENTS], 0);

    /* The receipt arrives: everything counts, in the UTC+07 month. */
    CHECK_INT(apply(&d, RECEIVED("e3", "H61.07", "online", "2025-03-31T19:30:00Z")), TTHC_APPLY_CHANGED);
    CHECK_STR(d.period, "2025-04");
    tthc_counts c = contrib(&d);
    CHECK_INT(c.c[TTHC_C_RECEIVED], 1);
    CHECK_INT(c.c[TTHC_C_ONLINE], 1);
    CHECK_INT(c.c[TTHC_C_COMP_DIGITIZED], 1);
    CHECK_INT(c.c[TTHC_C_PAYMENTS], 1);
    CHECK_INT(c.c[TTHC_C_PAYMENTS_ONLINE], 1);
    CHECK_INT(c.c[TTHC_C_ISSUED], 0);

    /* The same instant in another offset is not a conflict; another unit is. */
    CHECK_INT(apply(&d, RECEIVED("e4", "H61.07", "online", "2025-04-01T02:30:00+07:00")), TTHC_APPLY_CHANGED);
    CHECK_INT(apply(&d, RECEIVED("e5", "H61.08", "online", "2025-03-31T19:30:00Z")), TTHC_APPLY_CONFLICT);
    CHECK_INT(apply(&d, RECEIVED("e6", "H61.07", "postal", "2025-03-31T19:30:00Z")), TTHC_APPLY_CONFLICT);
    CHECK_INT(apply(&d, RECEIVED("e7", "H61.07", "online", "2025-03-31T19:30:01Z")), TTHC_APPLY_CONFLICT);
    CHECK_STR(d.unit_code, "H61.07");
    uint32_t changes = d.changes;

    /* Payments: a repeated payment_id keeps its first values (no fact set). */
    CHECK_INT(
        apply(&d,
              E("e8", "\"event_type\":\"dossier.paid\",\"payment_id\":\"p1\",\"method\":\"offline\",\"amount_vnd\":5")),
        TTHC_APPLY_CHANGED);
    CHECK_INT(d.changes, changes);
    CHECK_INT(
        apply(&d,
              E("e9", "\"event_type\":\"dossier.paid\",\"payment_id\":\"p2\",\"method\":\"offline\",\"amount_vnd\":5")),
        TTHC_APPLY_CHANGED);
    CHECK_INT(d.changes, changes + 1);
    c = contrib(&d);
    CHECK_INT(c.c[TTHC_C_PAYMENTS], 2);
    CHECK_INT(c.c[TTHC_C_PAYMENTS_ONLINE], 1);

    /* Result: first value wins; digitized result counts only once issued. */
    CHECK_INT(apply(&d, E("e10", "\"event_type\":\"dossier.digitized\",\"scope\":\"result\"")), TTHC_APPLY_CHANGED);
    CHECK_INT(contrib(&d).c[TTHC_C_RESULT_DIGITIZED], 0);
    CHECK_INT(apply(&d, E("e11", "\"event_type\":\"dossier.synced\"")), TTHC_APPLY_CHANGED);
    CHECK_INT(contrib(&d).c[TTHC_C_SYNCED], 0);
    CHECK_INT(apply(&d, E("e12", "\"event_type\":\"dossier.result_issued\",\"finished_at\":\"2025-03-19T10:00:00+07:"
                                 "00\",\"electronic\":false")),
              TTHC_APPLY_CHANGED);
    CHECK_INT(apply(&d, E("e13", "\"event_type\":\"dossier.result_issued\",\"finished_at\":\"2025-03-25T10:00:00+07:"
                                 "00\",\"electronic\":true")),
              TTHC_APPLY_CHANGED);
    c = contrib(&d);
    CHECK_INT(c.c[TTHC_C_ISSUED], 1);
    CHECK_INT(c.c[TTHC_C_E_RESULT], 0);
    CHECK_INT(c.c[TTHC_C_RESULT_DIGITIZED], 1);
    CHECK_INT(c.c[TTHC_C_SYNCED], 1);
    CHECK_INT(c.c[TTHC_C_DUE_ISSUED], 1);
    CHECK_INT(c.c[TTHC_C_ON_TIME], 1);

    /* Rating: first value wins. */
    CHECK_INT(apply(&d, E("e14", "\"event_type\":\"dossier.rated\",\"satisfied\":true")), TTHC_APPLY_CHANGED);
    CHECK_INT(apply(&d, E("e15", "\"event_type\":\"dossier.rated\",\"satisfied\":false")), TTHC_APPLY_CHANGED);
    c = contrib(&d);
    CHECK_INT(c.c[TTHC_C_RATED], 1);
    CHECK_INT(c.c[TTHC_C_SATISFIED], 1);

    /* Every numerator is within its denominator. */
    CHECK(c.c[TTHC_C_ONLINE] <= c.c[TTHC_C_RECEIVED] && c.c[TTHC_C_E_RESULT] <= c.c[TTHC_C_ISSUED] &&
              c.c[TTHC_C_ON_TIME] <= c.c[TTHC_C_DUE_ISSUED] && c.c[TTHC_C_DUE_ISSUED] <= c.c[TTHC_C_ISSUED],
          "subset");
    tthc_dossier_clear(&d);

    /* Late result after due_at: not on time; no due_at: not in the on_time denominator. */
    tthc_dossier_init(&d, "D1");
    CHECK_INT(apply(&d, RECEIVED("r1", "H61.07", "in_person", "2025-03-01T00:00:00Z")), TTHC_APPLY_CHANGED);
    CHECK_INT(apply(&d, E("r2", "\"event_type\":\"dossier.result_issued\",\"finished_at\":\"2025-03-21T00:00:00+07:"
                                "00\",\"electronic\":true")),
              TTHC_APPLY_CHANGED);
    c = contrib(&d);
    CHECK_INT(c.c[TTHC_C_ON_TIME], 0);
    CHECK_INT(c.c[TTHC_C_DUE_ISSUED], 1);
    CHECK_INT(c.c[TTHC_C_ONLINE], 0);
    tthc_dossier_clear(&d);

    /* The reuse source is the first data_reused event's, like its other values. */
    tthc_dossier_init(&d, "D1");
    CHECK_INT(apply(&d, E("s1", "\"event_type\":\"dossier.data_reused\",\"source\":\"national_db\"")),
              TTHC_APPLY_CHANGED);
    CHECK_INT(apply(&d, E("s2", "\"event_type\":\"dossier.data_reused\",\"source\":\"digitized_store\"")),
              TTHC_APPLY_CHANGED);
    CHECK(d.data_reused && d.reuse_source == TTHC_REUSE_NATIONAL_DB, "first source stands: %d", d.reuse_source);
    tthc_dossier_clear(&d);
    tthc_dossier_init(&d, "D1");
    CHECK_INT(apply(&d, E("s3", "\"event_type\":\"dossier.data_reused\"")), TTHC_APPLY_CHANGED);
    CHECK_INT(apply(&d, E("s4", "\"event_type\":\"dossier.data_reused\",\"source\":\"digitized_store\"")),
              TTHC_APPLY_CHANGED);
    CHECK(d.data_reused && d.reuse_source == 0, "a first event without a source leaves it unknown");
    tthc_dossier_clear(&d);

    /* Unit codes are case-insensitive (issue 10): h61.07 is H61.07, not a conflict nor a unit of its own,
     * also against a receipt stored in lower case before codes were normalised. */
    tthc_dossier_init(&d, "D1");
    CHECK_INT(apply(&d, RECEIVED("u1", "h61.07", "online", "2025-03-01T00:00:00Z")), TTHC_APPLY_CHANGED);
    CHECK_STR(d.unit_code, "H61.07");
    CHECK_INT(apply(&d, RECEIVED("u2", "H61.07", "online", "2025-03-01T00:00:00Z")), TTHC_APPLY_CHANGED);
    memcpy(d.unit_code, "h61.07", 7);
    CHECK_INT(apply(&d, RECEIVED("u3", "H61.07", "online", "2025-03-01T00:00:00Z")), TTHC_APPLY_CHANGED);
    CHECK_INT(apply(&d, RECEIVED("u4", "h61.08", "online", "2025-03-01T00:00:00Z")), TTHC_APPLY_CONFLICT);
    tthc_dossier_clear(&d);
    return CHECK_DONE();
}
