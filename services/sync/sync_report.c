#include "sync_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "timeutil.h"

#define JSON_INT_MAX 9007199254740991.0 /* 2^53 - 1 */

const sync_formula sync_formulas[TTHC_INDICATOR_COUNT] = {
    [TTHC_IND_ONLINE_SUBMISSION] = {TTHC_C_ONLINE, TTHC_C_RECEIVED},
    [TTHC_IND_DIGITIZED_DOSSIER] = {TTHC_C_COMP_DIGITIZED, TTHC_C_RECEIVED},
    [TTHC_IND_DIGITIZED_RESULT] = {TTHC_C_RESULT_DIGITIZED, TTHC_C_ISSUED},
    [TTHC_IND_E_RESULT] = {TTHC_C_E_RESULT, TTHC_C_ISSUED},
    [TTHC_IND_ID_TAGGED] = {TTHC_C_ID_TAGGED, TTHC_C_RECEIVED},
    [TTHC_IND_DATA_REUSED] = {TTHC_C_DATA_REUSED, TTHC_C_RECEIVED},
    [TTHC_IND_ONLINE_PAYMENT] = {TTHC_C_PAYMENTS_ONLINE, TTHC_C_PAYMENTS},
    [TTHC_IND_PORTAL_SYNCED] = {TTHC_C_SYNCED, TTHC_C_ISSUED},
    [TTHC_IND_ON_TIME] = {TTHC_C_ON_TIME, TTHC_C_DUE_ISSUED},
    [TTHC_IND_SATISFACTION] = {TTHC_C_SATISFIED, TTHC_C_RATED},
};

void sync_values_from_counts(const long long counts[TTHC_C__COUNT], sync_values *out)
{
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        out->num[i] = counts[sync_formulas[i].num];
        out->den[i] = counts[sync_formulas[i].den];
    }
}

int sync_values_equal(const sync_values *a, const sync_values *b)
{
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++)
        if (a->num[i] != b->num[i] || a->den[i] != b->den[i]) return 0;
    return 1;
}

/* An integer member printed exactly (cJSON prints large numbers as doubles). */
static int rep_add_int(cJSON *obj, const char *name, long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    cJSON *raw = cJSON_CreateRaw(buf);
    if (!raw) return 0;
    if (!cJSON_AddItemToObject(obj, name, raw)) {
        cJSON_Delete(raw);
        return 0;
    }
    return 1;
}

char *sync_report_json(const sync_totals *t, int64_t generated_at_us)
{
    char gen[40];
    char *text = NULL;
    sync_values v;
    tthc_format_vn(generated_at_us, gen, sizeof gen);
    sync_values_from_counts(t->counts, &v);
    cJSON *o = cJSON_CreateObject(), *arr = NULL;
    if (!o || !cJSON_AddStringToObject(o, "unit_code", t->unit_code) ||
        !cJSON_AddStringToObject(o, "period", t->period) || !rep_add_int(o, "revision", t->revision) ||
        !cJSON_AddStringToObject(o, "generated_at", gen) || !(arr = cJSON_AddArrayToObject(o, "indicators")))
        goto done;
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        cJSON *it = cJSON_CreateObject();
        if (!it) goto done;
        if (!cJSON_AddItemToArray(arr, it)) {
            cJSON_Delete(it);
            goto done;
        }
        if (!cJSON_AddStringToObject(it, "code", tthc_indicators[i].code) || !rep_add_int(it, "numerator", v.num[i]) ||
            !rep_add_int(it, "denominator", v.den[i]))
            goto done;
    }
    text = cJSON_PrintUnformatted(o);
done:
    cJSON_Delete(o);
    return text;
}

int sync_idempotency_key(char *out, size_t len, const char *unit_code, const char *period, long long revision)
{
    int n = snprintf(out, len, "tthc:%s:%s:r%lld", unit_code, period, revision);
    if (n < 0 || (size_t)n >= len || n > SYNC_KEY_MAX) {
        if (len) out[0] = '\0';
        return -1;
    }
    return 0;
}

static int rep_get_int(const cJSON *o, const char *name, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= JSON_INT_MAX) || floor(d) != d) return 0;
    *out = (long long)d;
    return 1;
}

static int rep_get_str(const cJSON *o, const char *name, char *out, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap) return 0;
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return 1;
}

static tthc_rc rep_parse_one(const cJSON *item, size_t idx, sync_portal_report *r, tthc_err *err)
{
    memset(r, 0, sizeof *r);
    for (int k = 0; k < TTHC_INDICATOR_COUNT; k++) r->v.num[k] = r->v.den[k] = -1;
    if (!cJSON_IsObject(item) || !rep_get_str(item, "unit_code", r->unit_code, sizeof r->unit_code) ||
        !rep_get_str(item, "period", r->period, sizeof r->period) || !rep_get_int(item, "revision", &r->revision))
        return tthc_fail(err, TTHC_EINVAL, "reports[%zu]: unit_code, period or revision missing or invalid", idx);
    const cJSON *inds = cJSON_GetObjectItemCaseSensitive(item, "indicators"), *ind;
    if (!cJSON_IsArray(inds)) return tthc_fail(err, TTHC_EINVAL, "reports[%zu]: indicators is not an array", idx);
    cJSON_ArrayForEach(ind, inds)
    {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(ind, "code");
        int k = cJSON_IsString(code) ? tthc_indicator_find(code->valuestring) : -1;
        long long num, den;
        if (k < 0) continue; /* an indicator we do not know: not ours to compare */
        if (!rep_get_int(ind, "numerator", &num) || !rep_get_int(ind, "denominator", &den))
            return tthc_fail(err, TTHC_EINVAL, "reports[%zu]: indicator %s: numerator or denominator invalid", idx,
                             code->valuestring);
        r->v.num[k] = num;
        r->v.den[k] = den;
    }
    return TTHC_OK;
}

tthc_rc sync_parse_reports(const char *body, size_t len, sync_portal_report **out, size_t *n, tthc_err *err)
{
    *out = NULL;
    *n = 0;
    tthc_rc rc = TTHC_OK;
    sync_portal_report *arr = NULL;
    cJSON *j = body ? cJSON_ParseWithLength(body, len) : NULL;
    if (!j) return tthc_fail(err, TTHC_EINVAL, "the answer is not JSON");
    const cJSON *reports = cJSON_GetObjectItemCaseSensitive(j, "reports");
    if (!cJSON_IsArray(reports)) {
        rc = tthc_fail(err, TTHC_EINVAL, "the answer has no \"reports\" array");
        goto done;
    }
    size_t count = (size_t)cJSON_GetArraySize(reports), i = 0;
    if (count) {
        arr = calloc(count, sizeof *arr);
        if (!arr) {
            rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
            goto done;
        }
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, reports)
    {
        if ((rc = rep_parse_one(item, i, &arr[i], err))) goto done;
        i++;
    }
    *out = arr;
    *n = count;
    arr = NULL;
done:
    free(arr);
    cJSON_Delete(j);
    return rc;
}
