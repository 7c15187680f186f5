/* Every validation rule of events.md, table-driven. */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "event.h"

#define ENV "\"event_id\":\"e-1\",\"occurred_at\":\"2025-03-06T08:15:00+07:00\",\"dossier_id\":\"D1\","
#define RECV                                                                                                           \
    "\"event_type\":\"dossier.received\",\"unit_code\":\"H61.07\",\"procedure_code\":\"1.0001\",\"channel\":"          \
    "\"online\",\"received_at\":\"2025-03-06T08:15:00+07:00\""

static const struct {
    const char *json;
    tthc_reject_reason reason; /* TTHC_REJ_NONE = valid */
    const char *field;
} cases[] = {
    /* valid events of every type */
    {"{" ENV RECV "}", TTHC_REJ_NONE, ""},
    {"{" ENV RECV ",\"due_at\":\"2025-03-20T17:00:00+07:00\",\"applicant_type\":\"business\",\"extra\":[1,2]}",
     TTHC_REJ_NONE, ""},
    {"{" ENV "\"event_type\":\"dossier.digitized\",\"scope\":\"components\"}", TTHC_REJ_NONE, ""},
    {"{" ENV "\"event_type\":\"dossier.digitized\",\"scope\":\"result\"}", TTHC_REJ_NONE, ""},
    {"{" ENV "\"event_type\":\"dossier.data_reused\",\"source\":\"national_db\"}", TTHC_REJ_NONE, ""},
    {"{" ENV "\"event_type\":\"dossier.data_reused\"}", TTHC_REJ_NONE, ""},
    {"{" ENV "\"event_type\":\"dossier.id_tagged\",\"id_kind\":\"citizen_id\",\"id_number\":\"079203001234\"}",
     TTHC_REJ_NONE, ""},
    {"{" ENV "\"event_type\":\"dossier.id_tagged\",\"id_kind\":\"vneid\"}", TTHC_REJ_NONE, ""},
    {"{" ENV "\"event_type\":\"dossier.paid\",\"payment_id\":\"P-1\",\"method\":\"online\",\"amount_vnd\":50000,"
     "\"gateway\":\"dvcqg\"}",
     TTHC_REJ_NONE, ""},
    {"{" ENV
     "\"event_type\":\"dossier.paid\",\"payment_id\":\"P 1/\\\"x\\\"\",\"method\":\"offline\",\"amount_vnd\":0}",
     TTHC_REJ_NONE, ""},
    {"{" ENV "\"event_type\":\"dossier.result_issued\",\"finished_at\":\"2025-03-10T10:00:00Z\",\"electronic\":true}",
     TTHC_REJ_NONE, ""},
    {"{" ENV "\"event_type\":\"dossier.synced\"}", TTHC_REJ_NONE, ""},
    {"{" ENV "\"event_type\":\"dossier.rated\",\"satisfied\":false,\"schema_version\":1}", TTHC_REJ_NONE, ""},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"source\":\"igate-vinhlong\"}", TTHC_REJ_NONE, ""},
    /* not JSON, not an object */
    {"", TTHC_REJ_INVALID_JSON, ""},
    {"{", TTHC_REJ_INVALID_JSON, ""},
    {"{\"a\":1} trailing", TTHC_REJ_INVALID_JSON, ""},
    {"[1,2]", TTHC_REJ_NOT_OBJECT, ""},
    {"\"dossier.received\"", TTHC_REJ_NOT_OBJECT, ""},
    {"null", TTHC_REJ_NOT_OBJECT, ""},
    /* envelope */
    {"{\"event_type\":\"dossier.synced\",\"occurred_at\":\"2025-03-06T08:15:00Z\",\"dossier_id\":\"D1\"}",
     TTHC_REJ_MISSING_FIELD, "event_id"},
    {"{\"event_id\":7,\"event_type\":\"dossier.synced\",\"occurred_at\":\"2025-03-06T08:15:00Z\",\"dossier_id\":"
     "\"D1\"}",
     TTHC_REJ_WRONG_TYPE, "event_id"},
    {"{\"event_id\":\"\",\"event_type\":\"dossier.synced\",\"occurred_at\":\"2025-03-06T08:15:00Z\",\"dossier_id\":"
     "\"D1\"}",
     TTHC_REJ_INVALID_VALUE, "event_id"},
    {"{\"event_id\":\"a "
     "b\",\"event_type\":\"dossier.synced\",\"occurred_at\":\"2025-03-06T08:15:00Z\",\"dossier_id\":\"D1\"}",
     TTHC_REJ_INVALID_VALUE, "event_id"},
    {"{\"event_id\":\"e\",\"occurred_at\":\"2025-03-06T08:15:00Z\",\"dossier_id\":\"D1\"}", TTHC_REJ_MISSING_FIELD,
     "event_type"},
    {"{" ENV "\"event_type\":\"dossier.deleted\"}", TTHC_REJ_UNKNOWN_EVENT_TYPE, "event_type"},
    {"{" ENV "\"event_type\":[\"dossier.synced\"]}", TTHC_REJ_WRONG_TYPE, "event_type"},
    {"{\"event_id\":\"e\",\"event_type\":\"dossier.synced\",\"dossier_id\":\"D1\"}", TTHC_REJ_MISSING_FIELD,
     "occurred_at"},
    {"{\"event_id\":\"e\",\"event_type\":\"dossier.synced\",\"occurred_at\":\"2025-03-06T08:15:00\",\"dossier_id\":"
     "\"D1\"}",
     TTHC_REJ_INVALID_VALUE, "occurred_at"},
    {"{\"event_id\":\"e\",\"event_type\":\"dossier.synced\",\"occurred_at\":\"2025-03-06T08:15:00Z\"}",
     TTHC_REJ_MISSING_FIELD, "dossier_id"},
    {"{\"event_id\":\"e\",\"event_type\":\"dossier.synced\",\"occurred_at\":\"2025-03-06T08:15:00Z\",\"dossier_id\":"
     "\"D:1\"}",
     TTHC_REJ_INVALID_VALUE, "dossier_id"},
    {"{\"event_id\":\"e\",\"event_type\":\"dossier.synced\",\"occurred_at\":\"2025-03-06T08:15:00Z\",\"dossier_id\":"
     "\"D1\",\"source\":5}",
     TTHC_REJ_WRONG_TYPE, "source"},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"schema_version\":2}", TTHC_REJ_UNSUPPORTED_SCHEMA_VERSION,
     "schema_version"},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"schema_version\":0}", TTHC_REJ_INVALID_VALUE, "schema_version"},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"schema_version\":\"1\"}", TTHC_REJ_WRONG_TYPE, "schema_version"},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"schema_version\":1.5}", TTHC_REJ_INVALID_VALUE, "schema_version"},
    /* dossier.received */
    {"{" ENV "\"event_type\":\"dossier.received\",\"procedure_code\":\"1\",\"channel\":\"online\",\"received_at\":"
     "\"2025-03-06T08:15:00Z\"}",
     TTHC_REJ_MISSING_FIELD, "unit_code"},
    {"{" ENV "\"event_type\":\"dossier.received\",\"unit_code\":\"H61\",\"procedure_code\":\"1\",\"channel\":"
     "\"online\",\"received_at\":\"2025-03-06T08:15:00Z\"}",
     TTHC_REJ_INVALID_VALUE, "unit_code"},
    {"{" ENV "\"event_type\":\"dossier.received\",\"unit_code\":\"H61.\",\"procedure_code\":\"1\",\"channel\":"
     "\"online\",\"received_at\":\"2025-03-06T08:15:00Z\"}",
     TTHC_REJ_INVALID_VALUE, "unit_code"},
    {"{" ENV "\"event_type\":\"dossier.received\",\"unit_code\":\".07\",\"procedure_code\":\"1\",\"channel\":"
     "\"online\",\"received_at\":\"2025-03-06T08:15:00Z\"}",
     TTHC_REJ_INVALID_VALUE, "unit_code"},
    {"{" ENV "\"event_type\":\"dossier.received\",\"unit_code\":\"H61-1.07\",\"procedure_code\":\"1\",\"channel\":"
     "\"online\",\"received_at\":\"2025-03-06T08:15:00Z\"}",
     TTHC_REJ_INVALID_VALUE, "unit_code"},
    {"{" ENV "\"event_type\":\"dossier.received\",\"unit_code\":\"ABCDEFGHIJK.07\",\"procedure_code\":\"1\","
     "\"channel\":\"online\",\"received_at\":\"2025-03-06T08:15:00Z\"}",
     TTHC_REJ_INVALID_VALUE, "unit_code"},
    {"{" ENV "\"event_type\":\"dossier.received\",\"unit_code\":\"H61.102.3\",\"procedure_code\":\"1\",\"channel\":"
     "\"online\",\"received_at\":\"2025-03-06T08:15:00Z\"}",
     TTHC_REJ_NONE, ""},
    {"{" ENV "\"event_type\":\"dossier.received\",\"unit_code\":\"H61.07\",\"procedure_code\":\"1 "
     "2\",\"channel\":\"online\",\"received_at\":\"2025-03-06T08:15:00Z\"}",
     TTHC_REJ_INVALID_VALUE, "procedure_code"},
    {"{" ENV "\"event_type\":\"dossier.received\",\"unit_code\":\"H61.07\",\"procedure_code\":\"1\",\"channel\":"
     "\"fax\",\"received_at\":\"2025-03-06T08:15:00Z\"}",
     TTHC_REJ_INVALID_VALUE, "channel"},
    {"{" ENV "\"event_type\":\"dossier.received\",\"unit_code\":\"H61.07\",\"procedure_code\":\"1\",\"channel\":2,"
     "\"received_at\":\"2025-03-06T08:15:00Z\"}",
     TTHC_REJ_WRONG_TYPE, "channel"},
    {"{" ENV
     "\"event_type\":\"dossier.received\",\"unit_code\":\"H61.07\",\"procedure_code\":\"1\",\"channel\":\"online\"}",
     TTHC_REJ_MISSING_FIELD, "received_at"},
    {"{" ENV "\"event_type\":\"dossier.received\",\"unit_code\":\"H61.07\",\"procedure_code\":\"1\",\"channel\":"
     "\"online\",\"received_at\":\"2025-13-06T08:15:00Z\"}",
     TTHC_REJ_INVALID_VALUE, "received_at"},
    {"{" ENV RECV ",\"due_at\":\"tomorrow\"}", TTHC_REJ_INVALID_VALUE, "due_at"},
    {"{" ENV RECV ",\"applicant_type\":\"alien\"}", TTHC_REJ_INVALID_VALUE, "applicant_type"},
    /* dossier.digitized */
    {"{" ENV "\"event_type\":\"dossier.digitized\"}", TTHC_REJ_MISSING_FIELD, "scope"},
    {"{" ENV "\"event_type\":\"dossier.digitized\",\"scope\":\"all\"}", TTHC_REJ_INVALID_VALUE, "scope"},
    /* dossier.id_tagged: the 12-digit rule */
    {"{" ENV "\"event_type\":\"dossier.id_tagged\"}", TTHC_REJ_MISSING_FIELD, "id_kind"},
    {"{" ENV "\"event_type\":\"dossier.id_tagged\",\"id_kind\":\"passport\"}", TTHC_REJ_INVALID_VALUE, "id_kind"},
    {"{" ENV "\"event_type\":\"dossier.id_tagged\",\"id_kind\":\"citizen_id\",\"id_number\":\"07920300123\"}",
     TTHC_REJ_INVALID_VALUE, "id_number"},
    {"{" ENV "\"event_type\":\"dossier.id_tagged\",\"id_kind\":\"citizen_id\",\"id_number\":\"0792030012345\"}",
     TTHC_REJ_INVALID_VALUE, "id_number"},
    {"{" ENV "\"event_type\":\"dossier.id_tagged\",\"id_kind\":\"citizen_id\",\"id_number\":\"07920300123A\"}",
     TTHC_REJ_INVALID_VALUE, "id_number"},
    {"{" ENV "\"event_type\":\"dossier.id_tagged\",\"id_kind\":\"citizen_id\",\"id_number\":79203001234}",
     TTHC_REJ_WRONG_TYPE, "id_number"},
    /* dossier.paid */
    {"{" ENV "\"event_type\":\"dossier.paid\",\"method\":\"online\",\"amount_vnd\":1}", TTHC_REJ_MISSING_FIELD,
     "payment_id"},
    {"{" ENV "\"event_type\":\"dossier.paid\",\"payment_id\":\"\",\"method\":\"online\",\"amount_vnd\":1}",
     TTHC_REJ_INVALID_VALUE, "payment_id"},
    {"{" ENV "\"event_type\":\"dossier.paid\",\"payment_id\":\"P\\n1\",\"method\":\"online\",\"amount_vnd\":1}",
     TTHC_REJ_INVALID_VALUE, "payment_id"},
    {"{" ENV "\"event_type\":\"dossier.paid\",\"payment_id\":\"P\",\"method\":\"cash\",\"amount_vnd\":1}",
     TTHC_REJ_INVALID_VALUE, "method"},
    {"{" ENV "\"event_type\":\"dossier.paid\",\"payment_id\":\"P\",\"method\":\"online\"}", TTHC_REJ_MISSING_FIELD,
     "amount_vnd"},
    {"{" ENV "\"event_type\":\"dossier.paid\",\"payment_id\":\"P\",\"method\":\"online\",\"amount_vnd\":-1}",
     TTHC_REJ_INVALID_VALUE, "amount_vnd"},
    {"{" ENV "\"event_type\":\"dossier.paid\",\"payment_id\":\"P\",\"method\":\"online\",\"amount_vnd\":10.5}",
     TTHC_REJ_INVALID_VALUE, "amount_vnd"},
    {"{" ENV "\"event_type\":\"dossier.paid\",\"payment_id\":\"P\",\"method\":\"online\",\"amount_vnd\":\"100\"}",
     TTHC_REJ_WRONG_TYPE, "amount_vnd"},
    {"{" ENV "\"event_type\":\"dossier.paid\",\"payment_id\":\"P\",\"method\":\"online\",\"amount_vnd\":1e300}",
     TTHC_REJ_INVALID_VALUE, "amount_vnd"},
    {"{" ENV "\"event_type\":\"dossier.paid\",\"payment_id\":\"P\",\"method\":\"online\",\"amount_vnd\":1,\"gateway\":"
     "\"bank\"}",
     TTHC_REJ_INVALID_VALUE, "gateway"},
    /* dossier.result_issued, dossier.rated */
    {"{" ENV "\"event_type\":\"dossier.result_issued\",\"electronic\":true}", TTHC_REJ_MISSING_FIELD, "finished_at"},
    {"{" ENV "\"event_type\":\"dossier.result_issued\",\"finished_at\":\"2025-03-10T10:00:00Z\"}",
     TTHC_REJ_MISSING_FIELD, "electronic"},
    {"{" ENV
     "\"event_type\":\"dossier.result_issued\",\"finished_at\":\"2025-03-10T10:00:00Z\",\"electronic\":\"yes\"}",
     TTHC_REJ_WRONG_TYPE, "electronic"},
    {"{" ENV "\"event_type\":\"dossier.rated\",\"satisfied\":1}", TTHC_REJ_WRONG_TYPE, "satisfied"},
    {"{" ENV "\"event_type\":\"dossier.rated\"}", TTHC_REJ_MISSING_FIELD, "satisfied"},
/* Instants: 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59Z once the offset is applied, and a
     * Vietnam-time (UTC+07) month in 1970-9999; both sides of each bound, with offsets. */
#define RAT(at)                                                                                                        \
    "{" ENV "\"event_type\":\"dossier.received\",\"unit_code\":\"H61.07\",\"procedure_code\":\"1\",\"channel\":"       \
    "\"online\",\"received_at\":\"" at "\"}"
#define OAT(at)                                                                                                        \
    "{\"event_id\":\"e\",\"event_type\":\"dossier.synced\",\"dossier_id\":\"D1\",\"occurred_at\":\"" at "\"}"
    {RAT("0000-01-01T00:00:00Z"), TTHC_REJ_INVALID_VALUE, "received_at"}, /* issue 10: stopped ingest */
    {RAT("0001-01-01T03:00:00+07:00"), TTHC_REJ_INVALID_VALUE, "received_at"},
    {RAT("1969-12-31T23:59:59.999999Z"), TTHC_REJ_INVALID_VALUE, "received_at"},
    {RAT("1970-01-01T00:00:00Z"), TTHC_REJ_NONE, ""},
    {RAT("1970-01-01T06:59:59.999+07:00"), TTHC_REJ_INVALID_VALUE, "received_at"}, /* 1969-12-31T23:59:59.999Z */
    {RAT("1970-01-01T07:00:00+07:00"), TTHC_REJ_NONE, ""},
    {RAT("1969-12-31T18:59:59-05:00"), TTHC_REJ_INVALID_VALUE, "received_at"},
    {RAT("1969-12-31T19:00:00-05:00"), TTHC_REJ_NONE, ""},
    {RAT("1970-01-01T00:00:00+00:01"), TTHC_REJ_INVALID_VALUE, "received_at"},
    {RAT("9999-12-31T16:59:59.999999Z"), TTHC_REJ_NONE, ""},              /* 23:59:59.999999 in Vietnam */
    {RAT("9999-12-31T17:00:00Z"), TTHC_REJ_INVALID_VALUE, "received_at"}, /* month 10000-01 in Vietnam */
    {RAT("9999-12-31T23:59:59+07:00"), TTHC_REJ_NONE, ""},
    {RAT("9999-12-31T23:59:59Z"), TTHC_REJ_INVALID_VALUE, "received_at"},
    {RAT("9999-12-31T11:59:59-05:00"), TTHC_REJ_NONE, ""},
    {RAT("9999-12-31T12:00:00-05:00"), TTHC_REJ_INVALID_VALUE, "received_at"},
    {RAT("9999-12-31T23:59:59-05:00"), TTHC_REJ_INVALID_VALUE, "received_at"}, /* year 10000 after the offset */
    {RAT("9999-12-31T23:59:59-23:59"), TTHC_REJ_INVALID_VALUE, "received_at"},
    {"{" ENV RECV ",\"due_at\":\"0001-01-01T00:00:00Z\"}", TTHC_REJ_INVALID_VALUE, "due_at"},
    {"{" ENV RECV ",\"due_at\":\"9999-12-31T23:59:59+07:00\"}", TTHC_REJ_NONE, ""},
    {OAT("1969-12-31T23:59:59Z"), TTHC_REJ_INVALID_VALUE, "occurred_at"},
    {OAT("1970-01-01T00:00:00Z"), TTHC_REJ_NONE, ""},
    {OAT("9999-12-31T23:59:59+07:00"), TTHC_REJ_NONE, ""},
    {OAT("9999-12-31T23:59:59.999999999+07:00"), TTHC_REJ_NONE, ""}, /* kept to the microsecond */
    {OAT("9999-12-31T17:00:00+00:00"), TTHC_REJ_INVALID_VALUE, "occurred_at"},
    {"{" ENV "\"event_type\":\"dossier.result_issued\",\"finished_at\":\"0000-01-01T00:00:00Z\",\"electronic\":true}",
     TTHC_REJ_INVALID_VALUE, "finished_at"},
    /* U+0000 in any string, at any depth, also in a member name; "\\u0000" is text. */
    {"{\"event_id\":\"a\\u0000junk\",\"occurred_at\":\"2025-03-06T08:15:00+07:00\",\"dossier_id\":\"D1\",\"event_"
     "type\":\"dossier.synced\"}",
     TTHC_REJ_NUL_CHARACTER, ""},
    {"{" ENV
     "\"event_type\":\"dossier.id_tagged\",\"id_kind\":\"citizen_id\",\"id_number\":\"079203001299\\u0000tail\"}",
     TTHC_REJ_NUL_CHARACTER, ""},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"x\":[{\"y\":{\"z\":\"\\u0000\"}}]}", TTHC_REJ_NUL_CHARACTER, ""},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"k\\u0000\":1}", TTHC_REJ_NUL_CHARACTER, ""},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"note\":\"\\\\u0000 is text\"}", TTHC_REJ_NONE, ""},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"note\":\"\\u00001 \\\"\\u0000\"}", TTHC_REJ_NUL_CHARACTER, ""},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"note\":\"\\u0001\\u0100\\u1000\"}", TTHC_REJ_NONE, ""},
    /* The same member name twice, at any depth (also spelled with escapes). */
    {"{\"event_id\":\"a\",\"event_id\":\"b\",\"event_type\":\"dossier.synced\",\"occurred_at\":\"2025-03-06T08:15:"
     "00Z\",\"dossier_id\":\"D1\"}",
     TTHC_REJ_DUPLICATE_KEY, "event_id"},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"x\":{\"a\":1,\"b\":{\"c\":[{\"d\":1,\"d\":2}]}}}",
     TTHC_REJ_DUPLICATE_KEY, ""},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"x\":{\"a\":1,\"b\":{\"c\":[{\"scope\":1,\"scope\":2}]}}}",
     TTHC_REJ_DUPLICATE_KEY, "scope"},
    /* A name that is not the contract's is never echoed (it could be anything, an ID number too). */
    {"{" ENV "\"event_type\":\"dossier.synced\",\"079203001299\":1,\"079203001299\":2}", TTHC_REJ_DUPLICATE_KEY, ""},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"x\":{\"a b\":1,\"\\u0061 b\":2}}", TTHC_REJ_DUPLICATE_KEY, ""},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"x\":[{\"a\":1},{\"a\":2}],\"y\":{\"a\":1}}", TTHC_REJ_NONE, ""},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"x\":{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,"
     "\"k8\":8,\"k9\":9,\"k10\":10,\"k3\":0}}",
     TTHC_REJ_DUPLICATE_KEY, ""},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"x\":{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,"
     "\"k8\":8,\"k9\":9,\"k10\":10,\"due_at\":0,\"due_at\":1}}",
     TTHC_REJ_DUPLICATE_KEY, "due_at"},
    {"{" ENV "\"event_type\":\"dossier.synced\",\"x\":{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,"
     "\"k8\":8,\"k9\":9,\"k10\":10,\"K3\":0}}",
     TTHC_REJ_NONE, ""},
    {"{" ENV RECV ",\"unit_code\":\"H61.08\"}", TTHC_REJ_DUPLICATE_KEY, "unit_code"},
};

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tthc_event ev;
        tthc_reject rej;
        tthc_err err = {{0}};
        tthc_rc r = tthc_event_parse(cases[i].json, strlen(cases[i].json), &ev, &rej, &err);
        if (cases[i].reason == TTHC_REJ_NONE) {
            CHECK(r == TTHC_OK, "case %zu rejected (%s %s: %s): %s", i, tthc_reject_reason_name(rej.reason), rej.field,
                  rej.detail, cases[i].json);
        } else {
            CHECK(r == TTHC_EINVAL && rej.reason == cases[i].reason && !strcmp(rej.field, cases[i].field),
                  "case %zu: got %s/%s, want %s/%s: %s", i, r ? tthc_reject_reason_name(rej.reason) : "accepted",
                  rej.field, tthc_reject_reason_name(cases[i].reason), cases[i].field, cases[i].json);
            /* err carries the same as one line: "event rejected: <reason> <field>: <rule>". */
            CHECK(!strncmp(err.msg, "event rejected: ", 16) &&
                      strstr(err.msg, tthc_reject_reason_name(cases[i].reason)) && strstr(err.msg, rej.field) &&
                      strstr(err.msg, rej.detail),
                  "case %zu: err '%s'", i, err.msg);
        }
    }
    /* Parsed values. */
    const char *j = "{" ENV RECV ",\"due_at\":\"2025-03-20T17:00:00+07:00\"}";
    tthc_event ev;
    tthc_reject rej;
    CHECK(tthc_event_parse(j, strlen(j), &ev, &rej, NULL) == 0, "parse");
    CHECK_STR(ev.unit_code, "H61.07");
    CHECK_STR(ev.dossier_id, "D1");
    CHECK_INT(ev.channel, TTHC_CH_ONLINE);
    CHECK(ev.has_due, "due_at kept");
    /* The personal ID number is checked and dropped: no detail echoes it. */
    const char *bad =
        "{" ENV "\"event_type\":\"dossier.id_tagged\",\"id_kind\":\"citizen_id\",\"id_number\":\"98765432109\"}";
    CHECK(tthc_event_parse(bad, strlen(bad), &ev, &rej, NULL) == TTHC_EINVAL, "rejected");
    CHECK(!strstr(rej.detail, "98765432109") && !strstr(rej.field, "98765432109"), "ID echoed");
    tthc_err err = {{0}};
    CHECK(tthc_event_parse(bad, strlen(bad), &ev, &rej, &err) == TTHC_EINVAL, "rejected");
    CHECK_STR(err.msg, "event rejected: invalid_value id_number: a citizen_id number must be exactly 12 digits");
    CHECK(!strstr(err.msg, "98765432109"), "ID echoed in err");
    CHECK(tthc_event_parse("[]", 2, &ev, &rej, &err) == TTHC_EINVAL, "not an object");
    CHECK_STR(err.msg, "event rejected: not_object: not a JSON object");
    /* Invalid UTF-8 (overlong, surrogate, truncated, stray continuation). */
    const char *utf8_bad[] = {"{\"a\":\"\xC0\xAF\"}", "{\"a\":\"\xED\xA0\x80\"}", "{\"a\":\"\xE1\x80\"}",
                              "{\"a\":\"\x80\"}", "{\"a\":\"\xF5\x80\x80\x80\"}"};
    for (size_t i = 0; i < sizeof utf8_bad / sizeof *utf8_bad; i++) {
        CHECK(tthc_event_parse(utf8_bad[i], strlen(utf8_bad[i]), &ev, &rej, NULL) == TTHC_EINVAL &&
                  rej.reason == TTHC_REJ_INVALID_UTF8,
              "utf8 case %zu: %s", i, tthc_reject_reason_name(rej.reason));
    }
    const char *utf8_ok = "{" ENV RECV ",\"note\":\"Vĩnh Long – 𝔘\"}";
    CHECK(tthc_event_parse(utf8_ok, strlen(utf8_ok), &ev, &rej, NULL) == 0, "valid UTF-8 rejected: %s", rej.detail);
    /* An embedded NUL is not JSON. */
    const char nul[] = "{\"a\":1}\0{}";
    CHECK(tthc_event_parse(nul, sizeof nul - 1, &ev, &rej, NULL) == TTHC_EINVAL && rej.reason == TTHC_REJ_INVALID_JSON,
          "NUL");
    /* Oversize: 64 KiB + 1 byte, even if it were valid JSON. */
    size_t n = TTHC_EVENT_MAX_BYTES + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    memcpy(big, "{" ENV RECV, strlen("{" ENV RECV));
    big[n - 1] = '}';
    CHECK(tthc_event_parse(big, n, &ev, &rej, NULL) == TTHC_EINVAL && rej.reason == TTHC_REJ_TOO_LARGE, "too large");
    CHECK(tthc_event_parse(big, n - 1, &ev, &rej, NULL) == TTHC_EINVAL && rej.reason == TTHC_REJ_INVALID_JSON,
          "64 KiB exactly is parsed");
    big[n - 2] = '}';
    CHECK(tthc_event_parse(big, n - 1, &ev, &rej, NULL) == 0, "64 KiB exactly accepted: %s", rej.detail);
    free(big);
    /* data_reused: the contract's sources are kept; any other string (the
     * envelope's emitting system) is accepted and counts as unknown. */
    static const struct {
        const char *body;
        uint8_t source;
    } reuse[] = {
        {",\"source\":\"digitized_store\"", TTHC_REUSE_DIGITIZED_STORE},
        {",\"source\":\"national_db\"", TTHC_REUSE_NATIONAL_DB},
        {",\"source\":\"other_dossier\"", TTHC_REUSE_OTHER_DOSSIER},
        {",\"source\":\"motcua.vinhlong\"", 0},
        {",\"source\":\"Digitized_Store\"", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof reuse / sizeof *reuse; i++) {
        char buf[256];
        snprintf(buf, sizeof buf, "{" ENV "\"event_type\":\"dossier.data_reused\"%s}", reuse[i].body);
        CHECK(tthc_event_parse(buf, strlen(buf), &ev, &rej, NULL) == 0 && ev.reuse_source == reuse[i].source,
              "reuse source %zu: %d", i, ev.reuse_source);
    }
    CHECK_STR(tthc_reuse_source_name(TTHC_REUSE_DIGITIZED_STORE), "digitized_store");
    CHECK(tthc_reuse_source_name(0) == NULL, "no name for an unknown source");
    char prov[16];
    tthc_unit_province("H61.102.3", prov, sizeof prov);
    CHECK_STR(prov, "H61");
    /* Unit codes are case-insensitive: h61.07 is H61.07, and its province is H61 (never h61). */
    const char *lower = "{" ENV "\"event_type\":\"dossier.received\",\"unit_code\":\"h61.a7b\",\"procedure_code\":\"p-"
                        "1\",\"channel\":\"online\",\"received_at\":\"2025-03-06T08:15:00Z\"}";
    CHECK(tthc_event_parse(lower, strlen(lower), &ev, &rej, NULL) == 0, "lower-case unit rejected: %s", rej.detail);
    CHECK_STR(ev.unit_code, "H61.A7B");
    CHECK_STR(ev.procedure_code, "p-1");
    tthc_unit_province(ev.unit_code, prov, sizeof prov);
    CHECK_STR(prov, "H61");
    /* No rejection names a value: the NUL-cut ID number and the event id stay out of the detail. */
    const char *cut =
        "{" ENV
        "\"event_type\":\"dossier.id_tagged\",\"id_kind\":\"citizen_id\",\"id_number\":\"079203001299\\u0000tail\"}";
    CHECK(tthc_event_parse(cut, strlen(cut), &ev, &rej, NULL) == TTHC_EINVAL && !strstr(rej.detail, "0792") &&
              !strstr(rej.field, "0792"),
          "cut id number: %s", rej.detail);
    /* The reason names are the DLQ header values of docs/events.md. */
    CHECK_STR(tthc_reject_reason_name(TTHC_REJ_DUPLICATE_KEY), "duplicate_key");
    CHECK_STR(tthc_reject_reason_name(TTHC_REJ_NUL_CHARACTER), "nul_character");
    CHECK_STR(tthc_reject_reason_name(TTHC_REJ__COUNT), "unknown");
    return CHECK_DONE();
}
