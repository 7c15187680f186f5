#include "event.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

static const char *const type_names[TTHC_EV__COUNT] = {
    "dossier.received", "dossier.digitized",     "dossier.data_reused", "dossier.id_tagged",
    "dossier.paid",     "dossier.result_issued", "dossier.synced",      "dossier.rated",
};

static const char *const reason_names[TTHC_REJ__COUNT] = {
    "none",
    "too_large",
    "invalid_utf8",
    "invalid_json",
    "not_object",
    "missing_field",
    "wrong_type",
    "invalid_value",
    "unknown_event_type",
    "unsupported_schema_version",
    "receipt_conflict",
    "duplicate_key",
    "nul_character",
    "rejected_by_store",
};

const char *tthc_event_type_name(tthc_event_type t)
{
    return (unsigned)t < TTHC_EV__COUNT ? type_names[t] : "unknown";
}

const char *tthc_reject_reason_name(tthc_reject_reason r)
{
    return (unsigned)r < TTHC_REJ__COUNT ? reason_names[r] : "unknown";
}

const char *tthc_channel_name(uint8_t ch)
{
    static const char *const n[] = {NULL, "online", "in_person", "postal"};
    return ch >= 1 && ch <= 3 ? n[ch] : NULL;
}

static const char *const applicant_names[] = {NULL, "citizen", "business", "agency", "other"};

const char *tthc_applicant_name(uint8_t a)
{
    return a >= 1 && a <= 4 ? applicant_names[a] : NULL;
}

static const char *const reuse_source_names[] = {NULL, "digitized_store", "national_db", "other_dossier"};

const char *tthc_reuse_source_name(uint8_t s)
{
    return s >= 1 && s <= 3 ? reuse_source_names[s] : NULL;
}

/* The object's member named name (NULL if none), as
 * cJSON_GetObjectItemCaseSensitive finds it, with the first byte compared
 * before strcmp is called: an event is looked up a dozen times a message. */
static const cJSON *member(const cJSON *obj, const char *name)
{
    for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next)
        if (c->string && c->string[0] == name[0] && !strcmp(c->string, name)) return c;
    return NULL;
}

bool tthc_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* ASCII, eight bytes at a time: all of a typical event. */
        while (len - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, sizeof w);
            if (w & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i >= len) break;
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

bool tthc_valid_charset(const char *s, size_t min, size_t max, const char *extra)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) continue;
        if (extra && strchr(extra, c)) continue;
        return false;
    }
    return n >= min && n <= max;
}

bool tthc_valid_unit_code(const char *s)
{
    const char *dot = strchr(s, '.');
    if (!dot) return false;
    size_t plen = (size_t)(dot - s);
    if (plen < 1 || plen > 10) return false;
    for (size_t i = 0; i < plen; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
    }
    return tthc_valid_charset(dot + 1, 1, 40, ".");
}

void tthc_unit_province(const char *unit, char *out, size_t len)
{
    size_t n = strcspn(unit, ".");
    if (n >= len) n = len - 1;
    memcpy(out, unit, n);
    out[n] = '\0';
}

/* ---- field access ---- */

/* What a field lookup found. */
typedef enum {
    FIELD_PRESENT = 0, /* present and valid: *out is set */
    FIELD_ABSENT,      /* absent (or null) and optional: *out untouched */
    FIELD_REJECTED,    /* missing though required, or invalid: *rej says why */
} field_state;

static void set_reject(tthc_reject *rej, tthc_reject_reason r, const char *field, const char *detail)
{
    rej->reason = r;
    snprintf(rej->field, sizeof rej->field, "%s", field ? field : "");
    snprintf(rej->detail, sizeof rej->detail, "%s", detail);
}

/* A rejection of the message: fills *rej, returns TTHC_EINVAL. */
static tthc_rc reject(tthc_reject *rej, tthc_reject_reason r, const char *field, const char *detail)
{
    set_reject(rej, r, field, detail);
    return TTHC_EINVAL;
}

/* A rejection found while reading one field. */
static field_state reject_field(tthc_reject *rej, tthc_reject_reason r, const char *field, const char *detail)
{
    set_reject(rej, r, field, detail);
    return FIELD_REJECTED;
}

static field_state field_string(const cJSON *obj, const char *name, bool required, const char **out, tthc_reject *rej)
{
    const cJSON *it = member(obj, name);
    if (!it || cJSON_IsNull(it)) {
        if (required) return reject_field(rej, TTHC_REJ_MISSING_FIELD, name, "required field is missing");
        return FIELD_ABSENT;
    }
    if (!cJSON_IsString(it) || !it->valuestring)
        return reject_field(rej, TTHC_REJ_WRONG_TYPE, name, "must be a string");
    *out = it->valuestring;
    return FIELD_PRESENT;
}

/* A string of [A-Za-z0-9] plus `extra`, min..max chars, copied into out. */
static field_state field_token(const cJSON *obj, const char *name, bool required, size_t max, const char *extra,
                               char *out, tthc_reject *rej)
{
    const char *s;
    field_state r = field_string(obj, name, required, &s, rej);
    if (r != FIELD_PRESENT) return r;
    if (!tthc_valid_charset(s, 1, max, extra)) {
        char d[160];
        snprintf(d, sizeof d, "must be 1-%zu characters of [A-Za-z0-9%s]", max, extra);
        return reject_field(rej, TTHC_REJ_INVALID_VALUE, name, d);
    }
    memcpy(out, s, strlen(s) + 1);
    return FIELD_PRESENT;
}

static field_state field_time(const cJSON *obj, const char *name, bool required, int64_t *out, tthc_reject *rej)
{
    const char *s;
    field_state r = field_string(obj, name, required, &s, rej);
    if (r != FIELD_PRESENT) return r;
    if (tthc_rfc3339_parse(s, out, NULL) != TTHC_OK)
        return reject_field(rej, TTHC_REJ_INVALID_VALUE, name, "must be an RFC 3339 date-time with an offset");
    if (!tthc_instant_in_range(*out))
        return reject_field(
            rej, TTHC_REJ_INVALID_VALUE, name,
            "must lie in 1970-01-01T00:00:00Z..9999-12-31T23:59:59Z with a Vietnam-time year in 1970-9999");
    return FIELD_PRESENT;
}

/* One of names[1..n-1]; *out = index. */
static field_state field_enum(const cJSON *obj, const char *name, bool required, const char *const *names, int n,
                              uint8_t *out, tthc_reject *rej)
{
    const char *s;
    field_state r = field_string(obj, name, required, &s, rej);
    if (r != FIELD_PRESENT) return r;
    for (int i = 1; i < n; i++)
        if (!strcmp(s, names[i])) {
            *out = (uint8_t)i;
            return FIELD_PRESENT;
        }
    return reject_field(rej, TTHC_REJ_INVALID_VALUE, name, "value is not one of the allowed values");
}

static field_state field_bool(const cJSON *obj, const char *name, bool *out, tthc_reject *rej)
{
    const cJSON *it = member(obj, name);
    if (!it || cJSON_IsNull(it)) return reject_field(rej, TTHC_REJ_MISSING_FIELD, name, "required field is missing");
    if (!cJSON_IsBool(it)) return reject_field(rej, TTHC_REJ_WRONG_TYPE, name, "must be a boolean");
    *out = cJSON_IsTrue(it);
    return FIELD_PRESENT;
}

/* A JSON integer (no fractional value) within [min, 2^53). */
static field_state field_int(const cJSON *obj, const char *name, bool required, int64_t min, int64_t *out,
                             tthc_reject *rej)
{
    const cJSON *it = member(obj, name);
    if (!it || cJSON_IsNull(it)) {
        if (required) return reject_field(rej, TTHC_REJ_MISSING_FIELD, name, "required field is missing");
        return FIELD_ABSENT;
    }
    if (!cJSON_IsNumber(it)) return reject_field(rej, TTHC_REJ_WRONG_TYPE, name, "must be an integer");
    double v = it->valuedouble;
    if (!isfinite(v) || v != floor(v) || v < -9007199254740991.0 || v > 9007199254740991.0)
        return reject_field(rej, TTHC_REJ_INVALID_VALUE, name, "must be an integer");
    if (v < (double)min) return reject_field(rej, TTHC_REJ_INVALID_VALUE, name, "is below the allowed minimum");
    *out = (int64_t)v;
    return FIELD_PRESENT;
}

static const char *const channel_names[] = {NULL, "online", "in_person", "postal"};
static const char *const scope_names[] = {NULL, "components", "result"};
static const char *const id_kind_names[] = {NULL, "citizen_id", "vneid"};
static const char *const method_names[] = {NULL, "online", "offline"};
static const char *const gateway_names[] = {NULL, "dvcqg", "provincial"};

static tthc_rc parse_received(const cJSON *o, tthc_event *ev, tthc_reject *rej)
{
    if (field_string(o, "unit_code", true, &(const char *){NULL}, rej) == FIELD_REJECTED) return TTHC_EINVAL;
    const char *unit = member(o, "unit_code")->valuestring;
    if (strlen(unit) > TTHC_UNIT_MAX || !tthc_valid_unit_code(unit))
        return reject(rej, TTHC_REJ_INVALID_VALUE, "unit_code",
                      "must be <province>.<unit>: 1-10 letters or digits, a dot, 1-40 letters, digits or dots");
    /* Unit codes are case-insensitive: one spelling, upper case, from here on. */
    size_t n = strlen(unit);
    for (size_t i = 0; i <= n; i++)
        ev->unit_code[i] = (char)(unit[i] >= 'a' && unit[i] <= 'z' ? unit[i] - 'a' + 'A' : unit[i]);
    if (field_token(o, "procedure_code", true, TTHC_ID_MAX, "._-", ev->procedure_code, rej) == FIELD_REJECTED)
        return TTHC_EINVAL;
    if (field_enum(o, "channel", true, channel_names, 4, &ev->channel, rej) == FIELD_REJECTED) return TTHC_EINVAL;
    if (field_time(o, "received_at", true, &ev->received_at, rej) == FIELD_REJECTED) return TTHC_EINVAL;
    field_state due = field_time(o, "due_at", false, &ev->due_at, rej);
    if (due == FIELD_REJECTED) return TTHC_EINVAL;
    ev->has_due = due == FIELD_PRESENT;
    if (field_enum(o, "applicant_type", false, applicant_names, 5, &ev->applicant_type, rej) == FIELD_REJECTED)
        return TTHC_EINVAL;
    return TTHC_OK;
}

static tthc_rc parse_id_tagged(const cJSON *o, tthc_event *ev, tthc_reject *rej)
{
    if (field_enum(o, "id_kind", true, id_kind_names, 3, &ev->id_kind, rej) == FIELD_REJECTED) return TTHC_EINVAL;
    const char *num;
    field_state r = field_string(o, "id_number", false, &num, rej);
    if (r == FIELD_REJECTED) return TTHC_EINVAL;
    if (r == FIELD_PRESENT) {
        /* Personal data: checked, then dropped.  Never echoed anywhere. */
        size_t n = strlen(num);
        if (ev->id_kind == 1) {
            bool ok = n == 12;
            for (size_t i = 0; ok && i < n; i++) ok = num[i] >= '0' && num[i] <= '9';
            if (!ok)
                return reject(rej, TTHC_REJ_INVALID_VALUE, "id_number",
                              "a citizen_id number must be exactly 12 digits");
        } else if (n < 1 || n > 64) {
            return reject(rej, TTHC_REJ_INVALID_VALUE, "id_number", "must be 1-64 characters");
        }
    }
    return TTHC_OK;
}

static tthc_rc parse_paid(const cJSON *o, tthc_event *ev, tthc_reject *rej)
{
    const char *pid;
    if (field_string(o, "payment_id", true, &pid, rej) == FIELD_REJECTED) return TTHC_EINVAL;
    size_t n = strlen(pid);
    bool ok = n >= 1 && n <= TTHC_PAYMENT_ID_MAX;
    for (size_t i = 0; ok && i < n; i++) ok = (unsigned char)pid[i] >= 0x20 && pid[i] != 0x7f;
    if (!ok)
        return reject(rej, TTHC_REJ_INVALID_VALUE, "payment_id", "must be 1-128 characters without control characters");
    memcpy(ev->payment_id, pid, n + 1);
    uint8_t method = 0, gateway = 0;
    if (field_enum(o, "method", true, method_names, 3, &method, rej) == FIELD_REJECTED) return TTHC_EINVAL;
    ev->pay_online = method == 1;
    if (field_int(o, "amount_vnd", true, 0, &ev->amount_vnd, rej) == FIELD_REJECTED) return TTHC_EINVAL;
    if (field_enum(o, "gateway", false, gateway_names, 3, &gateway, rej) == FIELD_REJECTED) return TTHC_EINVAL;
    return TTHC_OK;
}

/* `source` was checked with the envelope (any string of at most 256 bytes:
 * the name is shared with the emitting system).  One of the contract's three
 * values is kept as the fact's source; anything else counts as unknown. */
static tthc_rc parse_data_reused(const cJSON *o, tthc_event *ev)
{
    const cJSON *it = member(o, "source");
    for (uint8_t i = 1; cJSON_IsString(it) && i <= 3; i++)
        if (!strcmp(it->valuestring, reuse_source_names[i])) ev->reuse_source = i;
    return TTHC_OK;
}

static tthc_rc parse_body(const cJSON *o, tthc_event *ev, tthc_reject *rej)
{
    switch (ev->type) {
    case TTHC_EV_RECEIVED: return parse_received(o, ev, rej);
    case TTHC_EV_DIGITIZED:
        return field_enum(o, "scope", true, scope_names, 3, &ev->scope, rej) == FIELD_REJECTED ? TTHC_EINVAL : TTHC_OK;
    case TTHC_EV_DATA_REUSED: return parse_data_reused(o, ev);
    case TTHC_EV_ID_TAGGED: return parse_id_tagged(o, ev, rej);
    case TTHC_EV_PAID: return parse_paid(o, ev, rej);
    case TTHC_EV_RESULT_ISSUED:
        if (field_time(o, "finished_at", true, &ev->finished_at, rej) == FIELD_REJECTED) return TTHC_EINVAL;
        return field_bool(o, "electronic", &ev->electronic, rej) == FIELD_REJECTED ? TTHC_EINVAL : TTHC_OK;
    case TTHC_EV_SYNCED: return TTHC_OK;
    case TTHC_EV_RATED:
        return field_bool(o, "satisfied", &ev->satisfied, rej) == FIELD_REJECTED ? TTHC_EINVAL : TTHC_OK;
    case TTHC_EV__COUNT: break;
    }
    return reject(rej, TTHC_REJ_UNKNOWN_EVENT_TYPE, "event_type", "unknown event type");
}

static tthc_rc parse_envelope(const cJSON *o, tthc_event *ev, tthc_reject *rej)
{
    int64_t ver = TTHC_SCHEMA_VERSION;
    if (field_int(o, "schema_version", false, 1, &ver, rej) == FIELD_REJECTED) return TTHC_EINVAL;
    if (ver > TTHC_SCHEMA_VERSION)
        return reject(rej, TTHC_REJ_UNSUPPORTED_SCHEMA_VERSION, "schema_version", "newer than this service knows (1)");
    if (field_token(o, "event_id", true, TTHC_EVENT_ID_MAX, "._:-", ev->event_id, rej) == FIELD_REJECTED)
        return TTHC_EINVAL;
    const char *type;
    if (field_string(o, "event_type", true, &type, rej) == FIELD_REJECTED) return TTHC_EINVAL;
    int t = -1;
    for (int i = 0; i < TTHC_EV__COUNT; i++)
        if (!strcmp(type, type_names[i])) t = i;
    if (t < 0) return reject(rej, TTHC_REJ_UNKNOWN_EVENT_TYPE, "event_type", "unknown event type");
    ev->type = (tthc_event_type)t;
    if (field_time(o, "occurred_at", true, &ev->occurred_at, rej) == FIELD_REJECTED) return TTHC_EINVAL;
    if (field_token(o, "dossier_id", true, TTHC_ID_MAX, "._-", ev->dossier_id, rej) == FIELD_REJECTED)
        return TTHC_EINVAL;
    const char *source;
    field_state r = field_string(o, "source", false, &source, rej);
    if (r == FIELD_REJECTED) return TTHC_EINVAL;
    if (r == FIELD_PRESENT && strlen(source) > 256)
        return reject(rej, TTHC_REJ_INVALID_VALUE, "source", "must be at most 256 bytes");
    return TTHC_OK;
}

/* ---- JSON rules cJSON does not enforce ---- */

/* true when JSON text that cJSON accepted holds the escape \u0000 in a string
 * (cJSON would cut the string there).  "\\u0000" is a backslash and text. */
static bool has_escaped_nul(const char *s, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        if (!in_string) {
            in_string = s[i] == '"';
        } else if (s[i] == '"') {
            in_string = false;
        } else if (s[i] == '\\') {
            i++; /* the escaped character: never a quote that ends the string */
            if (i + 4 < len && s[i] == 'u' && !memcmp(s + i + 1, "0000", 4)) return true;
        }
    }
    return false;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The name given twice in one object, or NULL.  *oom set on allocation failure. */
static const char *duplicate_name(const cJSON *obj, bool *oom)
{
    size_t n = 0;
    for (const cJSON *c = obj->child; c; c = c->next) n++;
    if (n < 2) return NULL;
    if (n <= 32) { /* the common case (an event has a dozen members): no allocation, no sort */
        for (const cJSON *a = obj->child; a; a = a->next)
            for (const cJSON *b = a->next; b; b = b->next)
                if (a->string[0] == b->string[0] && !strcmp(a->string, b->string)) return a->string;
        return NULL;
    }
    const char **names = malloc(n * sizeof *names), *dup = NULL;
    if (!names) {
        *oom = true;
        return NULL;
    }
    size_t k = 0;
    for (const cJSON *c = obj->child; c; c = c->next) names[k++] = c->string;
    qsort(names, n, sizeof *names, cmp_names);
    for (k = 1; k < n && !dup; k++)
        if (!strcmp(names[k - 1], names[k])) dup = names[k];
    free(names);
    return dup;
}

/* true for the member names of the contract (the only ones a rejection may echo). */
static bool contract_field(const char *name)
{
    static const char *const names[] = {
        "event_id",  "event_type",     "occurred_at", "dossier_id",  "source", "schema_version",
        "unit_code", "procedure_code", "channel",     "received_at", "due_at", "applicant_type",
        "scope",     "id_kind",        "id_number",   "payment_id",  "method", "amount_vnd",
        "gateway",   "finished_at",    "electronic",  "satisfied",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i])) return true;
    return false;
}

/* Walks every object and array (cJSON bounds the depth at CJSON_NESTING_LIMIT).
 * TTHC_EINVAL for a repeated name, TTHC_ENOMEM when the check ran out of memory
 * (both fill *rej). */
static tthc_rc check_unique_keys(const cJSON *it, tthc_reject *rej)
{
    if (cJSON_IsObject(it)) {
        bool oom = false;
        const char *dup = duplicate_name(it, &oom);
        if (oom) {
            set_reject(rej, TTHC_REJ_TOO_LARGE, NULL, "out of memory");
            return TTHC_ENOMEM;
        }
        if (dup) /* a member name is the sender's text: named only when it is one of the contract's */
            return reject(rej, TTHC_REJ_DUPLICATE_KEY, contract_field(dup) ? dup : NULL,
                          "an object has the same member name twice");
    }
    tthc_rc rc = TTHC_OK;
    if (cJSON_IsObject(it) || cJSON_IsArray(it))
        for (const cJSON *c = it->child; c && !rc; c = c->next) rc = check_unique_keys(c, rej);
    return rc;
}

static tthc_rc validate(const char *buf, size_t len, tthc_event *ev, tthc_reject *rej)
{
    if (len > TTHC_EVENT_MAX_BYTES) return reject(rej, TTHC_REJ_TOO_LARGE, NULL, "message larger than 64 KiB");
    if (!buf || len == 0) return reject(rej, TTHC_REJ_INVALID_JSON, NULL, "empty message");
    if (!tthc_utf8_valid((const unsigned char *)buf, len))
        return reject(rej, TTHC_REJ_INVALID_UTF8, NULL, "not valid UTF-8");
    if (memchr(buf, '\0', len)) return reject(rej, TTHC_REJ_INVALID_JSON, NULL, "not valid JSON (NUL byte)");
    /* cJSON needs a terminated buffer to reject trailing garbage. */
    char stack[1024], *copy = len < sizeof stack ? stack : malloc(len + 1);
    if (!copy) {
        set_reject(rej, TTHC_REJ_TOO_LARGE, NULL, "out of memory");
        return TTHC_ENOMEM;
    }
    memcpy(copy, buf, len);
    copy[len] = '\0';
    cJSON *root = cJSON_ParseWithLengthOpts(copy, len + 1, NULL, 1);
    tthc_rc rc;
    if (!root) {
        rc = reject(rej, TTHC_REJ_INVALID_JSON, NULL, "not valid JSON");
    } else if (!cJSON_IsObject(root)) {
        rc = reject(rej, TTHC_REJ_NOT_OBJECT, NULL, "not a JSON object");
    } else if (has_escaped_nul(copy, len)) {
        rc = reject(rej, TTHC_REJ_NUL_CHARACTER, NULL, "a string holds U+0000 (\\u0000)");
    } else if ((rc = check_unique_keys(root, rej)) == TTHC_OK) {
        rc = parse_envelope(root, ev, rej);
        if (rc == TTHC_OK) rc = parse_body(root, ev, rej);
    }
    cJSON_Delete(root);
    if (copy != stack) free(copy);
    return rc;
}

tthc_rc tthc_event_parse(const char *buf, size_t len, tthc_event *ev, tthc_reject *rej, tthc_err *err)
{
    memset(ev, 0, sizeof *ev);
    memset(rej, 0, sizeof *rej);
    tthc_rc rc = validate(buf, len, ev, rej);
    if (rc == TTHC_ENOMEM) return tthc_fail(err, rc, "event: out of memory while validating a message");
    if (rc) /* the detail names the rule, never a value of the message */
        return tthc_fail(err, rc, "event rejected: %s%s%s: %s", tthc_reject_reason_name(rej->reason),
                         rej->field[0] ? " " : "", rej->field, rej->detail);
    return TTHC_OK;
}
