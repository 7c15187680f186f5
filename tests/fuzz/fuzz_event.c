/* fuzz_event.c - libFuzzer target: the event parser and validator
 * (common/event.c) on any bytes.  Besides the sanitizers, it checks what an
 * accepted event promises to the fact logic and the store. */
#include <string.h>

#include "event.h"
#include "fuzz.h"
#include "timeutil.h"

static void check_accepted(const tthc_event *ev)
{
    FUZZ_ASSERT((unsigned)ev->type < TTHC_EV__COUNT, "type %d", (int)ev->type);
    FUZZ_ASSERT(tthc_valid_charset(ev->event_id, 1, TTHC_EVENT_ID_MAX, "._:-"), "event_id");
    FUZZ_ASSERT(tthc_valid_charset(ev->dossier_id, 1, TTHC_ID_MAX, "._-"), "dossier_id");
    FUZZ_ASSERT(tthc_instant_in_range(ev->occurred_at), "occurred_at %lld", (long long)ev->occurred_at);
    char month[8];
    switch (ev->type) {
    case TTHC_EV_RECEIVED:
        FUZZ_ASSERT(tthc_valid_unit_code(ev->unit_code), "unit_code");
        for (const char *p = ev->unit_code; *p; p++) FUZZ_ASSERT(!(*p >= 'a' && *p <= 'z'), "lower-case unit code");
        FUZZ_ASSERT(tthc_valid_charset(ev->procedure_code, 1, TTHC_ID_MAX, "._-"), "procedure_code");
        FUZZ_ASSERT(ev->channel >= 1 && ev->channel <= 3, "channel %u", ev->channel);
        FUZZ_ASSERT(tthc_instant_in_range(ev->received_at), "received_at %lld", (long long)ev->received_at);
        FUZZ_ASSERT(tthc_cohort_month(ev->received_at, month, NULL) == TTHC_OK, "cohort month of an accepted receipt");
        FUZZ_ASSERT(!ev->has_due || tthc_instant_in_range(ev->due_at), "due_at");
        break;
    case TTHC_EV_PAID: {
        size_t n = strlen(ev->payment_id);
        FUZZ_ASSERT(n >= 1 && n <= TTHC_PAYMENT_ID_MAX, "payment_id length %zu", n);
        FUZZ_ASSERT(ev->amount_vnd >= 0, "amount_vnd");
        break;
    }
    case TTHC_EV_RESULT_ISSUED: FUZZ_ASSERT(tthc_instant_in_range(ev->finished_at), "finished_at"); break;
    default: break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tthc_event ev;
    tthc_reject rej;
    tthc_err err = {{0}};
    tthc_rc r = tthc_event_parse((const char *)data, size, &ev, &rej, &err);
    if (r == 0) {
        check_accepted(&ev);
    } else {
        FUZZ_ASSERT(r == TTHC_EINVAL || r == TTHC_ENOMEM, "returned %d", (int)r);
        FUZZ_ASSERT(err.msg[0], "no message in err");
        FUZZ_ASSERT(rej.reason > TTHC_REJ_NONE && rej.reason < TTHC_REJ__COUNT &&
                        rej.reason != TTHC_REJ_RECEIPT_CONFLICT && rej.reason != TTHC_REJ_REJECTED_BY_STORE,
                    "reason %d", (int)rej.reason);
        FUZZ_ASSERT(memchr(rej.field, '\0', sizeof rej.field) && memchr(rej.detail, '\0', sizeof rej.detail) &&
                        rej.detail[0],
                    "field or detail not a string");
    }
    /* Pure: the same bytes give the same answer. */
    tthc_event ev2;
    tthc_reject rej2;
    tthc_rc r2 = tthc_event_parse((const char *)data, size, &ev2, &rej2, NULL);
    FUZZ_ASSERT(r2 == r && (r ? rej2.reason == rej.reason : !strcmp(ev2.event_id, ev.event_id)), "not deterministic");
    return 0;
}
