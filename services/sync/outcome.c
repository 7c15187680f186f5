#include "outcome.h"

#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

static long long outcome_json_int(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= 9007199254740991.0) || floor(d) != d) return -1;
    return (long long)d;
}

/* body[0..len) as one JSON value with nothing but white space after it; NULL if not. */
static cJSON *parse_whole(const char *body, size_t len)
{
    if (!body || !len) return NULL;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!j) return NULL;
    for (size_t i = (size_t)(end - body); i < len; i++) {
        if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n') {
            cJSON_Delete(j);
            return NULL;
        }
    }
    return j;
}

/* A 200 answer as portal-api.md writes it: a JSON object whose "status" is
 * "accepted" or "duplicate" and whose "revision" is the one sent. */
static sync_outcome classify_ok(long status, const cJSON *j, long long sent_revision, long long rev)
{
    if (status != 200 || !cJSON_IsObject(j)) return SYNC_BAD_ANSWER;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
    if (!cJSON_IsString(st) || rev < 1 || rev != sent_revision) return SYNC_BAD_ANSWER;
    if (!strcmp(st->valuestring, "accepted")) return SYNC_ACCEPTED;
    if (!strcmp(st->valuestring, "duplicate")) return SYNC_DUPLICATE;
    return SYNC_BAD_ANSWER;
}

sync_outcome sync_classify(long status, const char *body, size_t len, long long sent_revision,
                           long long *current_revision)
{
    if (current_revision) *current_revision = -1;
    cJSON *j = NULL;
    sync_outcome o;
    if ((status >= 200 && status < 300) || status == 409 || status == 422) j = parse_whole(body, len);
    if (status == 0 || status == 408 || status == 425 || status == 429 || status >= 500) {
        o = SYNC_RETRY;
    } else if (status >= 200 && status < 300) {
        long long rev = outcome_json_int(j, "revision");
        o = classify_ok(status, j, sent_revision, rev);
        if (current_revision) *current_revision = rev;
    } else if (status == 401) {
        o = SYNC_UNAUTHORIZED;
    } else if (status == 409) {
        o = SYNC_STALE;
        if (current_revision) *current_revision = outcome_json_int(j, "current_revision");
    } else if (status == 422 && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "error")) &&
               !strcmp(cJSON_GetObjectItemCaseSensitive(j, "error")->valuestring, "idempotency_key_reused")) {
        o = SYNC_STALE; /* our key names another report: resolve like a stale revision */
    } else {
        o = SYNC_PARK;
    }
    cJSON_Delete(j);
    return o;
}

const char *sync_outcome_name(sync_outcome o)
{
    switch (o) {
    case SYNC_ACCEPTED: return "accepted";
    case SYNC_DUPLICATE: return "duplicate";
    case SYNC_RETRY: return "retry";
    case SYNC_PARK: return "park";
    case SYNC_UNAUTHORIZED: return "unauthorized";
    case SYNC_STALE: return "stale";
    case SYNC_BAD_ANSWER: return "bad_answer";
    }
    return "unknown";
}

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned min;
    unsigned cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07, min = 0x10000;
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

char *sync_sanitize(char *out, size_t cap, const char *in, size_t len)
{
    if (!cap) return out;
    size_t o = 0, i = 0;
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    if (!in) len = 0;
    /* Every input byte gives one output byte, so everything fits when len < cap;
     * otherwise keep room for "..." and the NUL. */
    size_t reserve = len < cap ? 1 : 4;
    while (i < len) {
        size_t n = utf8_seq(s + i, len - i);
        size_t w = n ? n : 1;
        if (o + w + reserve > cap) break;
        if (!n) {
            out[o++] = '?';
        } else if (n == 1 && (s[i] < 0x20 || s[i] == 0x7F)) {
            out[o++] = ' ';
        } else {
            memcpy(out + o, s + i, n);
            o += n;
        }
        i += w;
    }
    if (i < len && o + 4 <= cap) { /* the loop always leaves this room */
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}
