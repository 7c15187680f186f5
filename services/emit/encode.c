#include "encode.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

static const char *const bad_names[EMIT_BAD__COUNT] = {
    "invalid_json", "not_object",     "missing_field", "wrong_type", "invalid_value",
    "unknown_type", "schema_version", "invalid_utf8",  "citizen_id",
};

const char *emit_bad_name(emit_bad_kind k)
{
    return (unsigned)k < EMIT_BAD__COUNT ? bad_names[k] : "unknown";
}

tthc_reject_reason emit_bad_reason(emit_bad_kind k)
{
    static const tthc_reject_reason r[EMIT_BAD__COUNT] = {
        TTHC_REJ_INVALID_JSON,
        TTHC_REJ_NOT_OBJECT,
        TTHC_REJ_MISSING_FIELD,
        TTHC_REJ_WRONG_TYPE,
        TTHC_REJ_INVALID_VALUE,
        TTHC_REJ_UNKNOWN_EVENT_TYPE,
        TTHC_REJ_UNSUPPORTED_SCHEMA_VERSION,
        TTHC_REJ_INVALID_UTF8,
        TTHC_REJ_INVALID_VALUE,
    };
    return (unsigned)k < EMIT_BAD__COUNT ? r[k] : TTHC_REJ_NONE;
}

static const char *const reuse_sources[] = {NULL, "digitized_store", "national_db", "other_dossier"};
static const char *const id_kinds[] = {NULL, "citizen_id", "vneid"};
static const char *const gateways[] = {NULL, "dvcqg", "provincial"};

static int add_time(cJSON *o, const char *name, int64_t us)
{
    char buf[40];
    tthc_format_vn(us, buf, sizeof buf);
    return cJSON_AddStringToObject(o, name, buf) ? 0 : -1;
}

static int add_str(cJSON *o, const char *name, const char *v)
{
    return cJSON_AddStringToObject(o, name, v) ? 0 : -1;
}

static int add_num(cJSON *o, const char *name, double v)
{
    return cJSON_AddNumberToObject(o, name, v) ? 0 : -1;
}

static int add_bool(cJSON *o, const char *name, bool v)
{
    return cJSON_AddBoolToObject(o, name, v) ? 0 : -1;
}

static int body(cJSON *o, const emit_dossier *d, const emit_event *e, const char *unit_code)
{
    char buf[TTHC_ID_MAX + 16];
    switch ((tthc_event_type)e->type) {
    case TTHC_EV_RECEIVED:
        if (add_str(o, "unit_code", unit_code) || add_str(o, "procedure_code", emit_procedures[d->proc].code) ||
            add_str(o, "channel", tthc_channel_name(d->channel)) || add_time(o, "received_at", d->received_at))
            return -1;
        if (d->has_due && add_time(o, "due_at", d->due_at)) return -1;
        return add_str(o, "applicant_type", tthc_applicant_name(d->applicant));
    case TTHC_EV_DIGITIZED: return add_str(o, "scope", e->scope == TTHC_SCOPE_RESULT ? "result" : "components");
    case TTHC_EV_DATA_REUSED: return add_str(o, "source", reuse_sources[e->reuse_source ? e->reuse_source : 1]);
    case TTHC_EV_ID_TAGGED:
        if (add_str(o, "id_kind", id_kinds[e->id_kind == 1 ? 1 : 2])) return -1;
        return e->id_number[0] ? add_str(o, "id_number", e->id_number) : 0;
    case TTHC_EV_PAID:
        snprintf(buf, sizeof buf, "%s:p%u", d->id, (unsigned)e->pay_no);
        if (add_str(o, "payment_id", buf) || add_str(o, "method", e->pay_online ? "online" : "offline") ||
            add_num(o, "amount_vnd", (double)e->amount_vnd))
            return -1;
        return e->gateway ? add_str(o, "gateway", gateways[e->gateway == 1 ? 1 : 2]) : 0;
    case TTHC_EV_RESULT_ISSUED:
        return add_time(o, "finished_at", d->finished_at) || add_bool(o, "electronic", e->electronic) ? -1 : 0;
    case TTHC_EV_SYNCED: return 0;
    case TTHC_EV_RATED: return add_bool(o, "satisfied", e->satisfied);
    case TTHC_EV__COUNT: break;
    }
    return -1;
}

static cJSON *build(const emit_dossier *d, const emit_event *e, const char *unit_code, const char *source)
{
    char event_id[TTHC_ID_MAX + 8];
    snprintf(event_id, sizeof event_id, "%s:%u", d->id, (unsigned)e->seq);
    cJSON *o = cJSON_CreateObject();
    if (!o || add_str(o, "event_id", event_id) || add_str(o, "event_type", tthc_event_type_name(e->type)) ||
        add_time(o, "occurred_at", e->at) || add_str(o, "dossier_id", d->id) ||
        (e->type != TTHC_EV_DATA_REUSED && source && *source && add_str(o, "source", source)) ||
        add_num(o, "schema_version", 1) || body(o, d, e, unit_code)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static tthc_rc print(cJSON *o, tthc_sb *out, size_t keep, tthc_err *err)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!s) return tthc_fail(err, TTHC_ENOMEM, "out of memory building an event");
    size_t n = strlen(s);
    if (keep && keep < n) n = keep;
    int r = tthc_sb_add(out, s, n);
    free(s);
    return r ? tthc_fail(err, TTHC_ENOMEM, "event buffer full") : TTHC_OK;
}

tthc_rc emit_encode(const emit_dossier *d, const emit_event *e, const char *unit_code, const char *source, tthc_sb *out,
                    tthc_err *err)
{
    return print(build(d, e, unit_code, source), out, 0, err);
}

static int replace(cJSON *o, const char *name, cJSON *v)
{
    if (!v) return -1;
    cJSON_bool ok = cJSON_GetObjectItemCaseSensitive(o, name) ? cJSON_ReplaceItemInObjectCaseSensitive(o, name, v)
                                                              : cJSON_AddItemToObject(o, name, v);
    if (!ok) cJSON_Delete(v);
    return ok ? 0 : -1;
}

tthc_rc emit_encode_bad(emit_bad_kind k, const emit_dossier *d, const emit_event *e, const char *unit_code,
                        const char *source, tthc_sb *out, tthc_err *err)
{
    cJSON *o = build(d, e, unit_code, source);
    if (!o) return tthc_fail(err, TTHC_ENOMEM, "out of memory building an event");
    int bad = 0;
    size_t keep = 0;
    switch (k) {
    case EMIT_BAD_INVALID_JSON: {
        char *s = cJSON_PrintUnformatted(o);
        keep = s ? strlen(s) / 2 : 1;
        free(s);
        break;
    }
    case EMIT_BAD_NOT_OBJECT: {
        cJSON *a = cJSON_CreateArray();
        if (!a || !cJSON_AddItemToArray(a, cJSON_CreateString(tthc_event_type_name(e->type))) ||
            !cJSON_AddItemToArray(a, cJSON_CreateString(d->id)))
            bad = 1;
        cJSON_Delete(o);
        o = a;
        break;
    }
    case EMIT_BAD_MISSING_FIELD: cJSON_DeleteItemFromObjectCaseSensitive(o, "occurred_at"); break;
    case EMIT_BAD_WRONG_TYPE: bad = replace(o, "schema_version", cJSON_CreateString("1")); break;
    case EMIT_BAD_INVALID_VALUE:
        bad = replace(o, "occurred_at", cJSON_CreateString("2025-13-45T25:00:00+07:00"));
        break;
    case EMIT_BAD_UNKNOWN_TYPE: bad = replace(o, "event_type", cJSON_CreateString("dossier.archived")); break;
    case EMIT_BAD_SCHEMA_VERSION: bad = replace(o, "schema_version", cJSON_CreateNumber(2)); break;
    case EMIT_BAD_INVALID_UTF8: bad = replace(o, "dossier_id", cJSON_CreateString("\xC3\x28-not-utf8")); break;
    case EMIT_BAD_CITIZEN_ID: {
        cJSON_Delete(o);
        emit_event tag = *e;
        tag.type = TTHC_EV_ID_TAGGED;
        tag.id_kind = 1;
        snprintf(tag.id_number, sizeof tag.id_number, "0860");
        o = build(d, &tag, unit_code, source);
        if (!o) bad = 1;
        break;
    }
    case EMIT_BAD__COUNT: bad = 1; break;
    }
    if (bad) {
        cJSON_Delete(o);
        return tthc_fail(err, TTHC_ENOMEM, "out of memory building a malformed event");
    }
    return print(o, out, keep, err);
}
