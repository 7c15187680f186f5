/* stub_report.c - validation of a pushed report; see stub_report.h for the rules. */
#include "stub_report.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

/* ---- character classes and field checks ---- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int span_alnum(const char *s, size_t n, int dots)
{
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && !(dots && s[i] == '.')) return 0;
    return 1;
}

bool portal_unit_code_valid(const char *s)
{
    if (!s) return false;
    size_t n = strlen(s);
    const char *dot = memchr(s, '.', n);
    if (!dot) return n >= 1 && n <= 10 && span_alnum(s, n, 0);
    size_t p = (size_t)(dot - s), u = n - p - 1;
    return p >= 1 && p <= 10 && span_alnum(s, p, 0) && u >= 1 && u <= 40 && span_alnum(dot + 1, u, 1);
}

/* Value of n digits at s, or -1 if one is not a digit. */
static int num_at(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

bool portal_period_valid(const char *s)
{
    if (!s || strlen(s) != 7 || s[4] != '-' || num_at(s, 4) < 0) return false;
    int m = num_at(s + 5, 2);
    return m >= 1 && m <= 12;
}

static int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return dim[m - 1];
}

bool portal_rfc3339_valid(const char *s)
{
    if (!s) return false;
    size_t n = strlen(s);
    if (n < 20 || n > PORTAL_GENERATED_AT_MAX) return false;
    if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':') return false;
    int y = num_at(s, 4), mo = num_at(s + 5, 2), d = num_at(s + 8, 2);
    int h = num_at(s + 11, 2), mi = num_at(s + 14, 2), se = num_at(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return false;
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60) return false;
    size_t i = 19;
    if (s[i] == '.') {
        size_t f = ++i;
        while (is_digit(s[i])) i++;
        if (i == f || i - f > 9) return false;
    }
    if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0') return true;
    if ((s[i] != '+' && s[i] != '-') || strlen(s + i) != 6 || s[i + 3] != ':') return false;
    int oh = num_at(s + i + 1, 2), om = num_at(s + i + 4, 2);
    return oh >= 0 && oh <= 23 && om >= 0 && om <= 59;
}

/* Strict UTF-8 (no overlong forms, no surrogates, <= U+10FFFF).  Returns 1,
 * or 0 with the offset of the first bad byte in *bad. */
static int utf8_valid(const unsigned char *s, size_t n, size_t *bad)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            goto fail;
        }
        if (n - i <= k) goto fail;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) goto fail;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto fail;
        i += k + 1;
    }
    return 1;
fail:
    *bad = i;
    return 0;
}

bool portal_idempotency_key_valid(const char *s)
{
    if (!s) return false;
    size_t n = strlen(s), bad, chars = 0;
    if (!utf8_valid((const unsigned char *)s, n, &bad)) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F) return false;
        if ((c & 0xC0) != 0x80) chars++;
    }
    return chars >= 1 && chars <= PORTAL_IDEMPOTENCY_KEY_MAX;
}

static const char *skip_ows(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

bool portal_content_type_is_json(const char *s)
{
    static const char mt[] = "application/json";
    if (!s) return false;
    s = skip_ows(s);
    if (strncasecmp(s, mt, sizeof mt - 1)) return false;
    s = skip_ows(s + sizeof mt - 1);
    while (*s == ';') { /* parameters: only charset is checked */
        s = skip_ows(s + 1);
        const char *name = s;
        while (*s && *s != '=' && *s != ';' && *s != ' ' && *s != '\t') s++;
        size_t nlen = (size_t)(s - name);
        if (*s != '=') return false;
        s++;
        int quoted = *s == '"';
        const char *val = s + quoted;
        s = val;
        while (*s && (quoted ? *s != '"' : (*s != ';' && *s != ' ' && *s != '\t'))) s++;
        size_t vlen = (size_t)(s - val);
        if (quoted) {
            if (*s != '"') return false;
            s++;
        }
        if (nlen == 7 && !strncasecmp(name, "charset", 7) && !(vlen == 5 && !strncasecmp(val, "utf-8", 5)))
            return false;
        s = skip_ows(s);
    }
    return *s == '\0';
}

/* ---- strict JSON syntax (RFC 8259) ---- */

typedef struct {
    const char *s;
    size_t n, i;
    const char *what; /* first error */
} jscan;

static int js_fail(jscan *j, const char *what)
{
    if (!j->what) j->what = what;
    return 0;
}

static void js_ws(jscan *j)
{
    while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' || j->s[j->i] == '\r')) j->i++;
}

static int js_lit(jscan *j, const char *lit)
{
    size_t l = strlen(lit);
    if (j->n - j->i < l || memcmp(j->s + j->i, lit, l)) return js_fail(j, "unexpected character");
    j->i += l;
    return 1;
}

static int js_digits(jscan *j)
{
    size_t start = j->i;
    while (j->i < j->n && is_digit(j->s[j->i])) j->i++;
    return j->i > start;
}

static int js_number(jscan *j)
{
    if (j->s[j->i] == '-') j->i++;
    if (j->i < j->n && j->s[j->i] == '0') {
        j->i++;
        if (j->i < j->n && is_digit(j->s[j->i])) return js_fail(j, "number with a leading zero");
    } else if (!js_digits(j)) {
        return js_fail(j, "malformed number");
    }
    if (j->i < j->n && j->s[j->i] == '.') {
        j->i++;
        if (!js_digits(j)) return js_fail(j, "malformed number");
    }
    if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
        j->i++;
        if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-')) j->i++;
        if (!js_digits(j)) return js_fail(j, "malformed number");
    }
    return 1;
}

static int js_hex4(jscan *j, unsigned *v)
{
    *v = 0;
    if (j->n - j->i < 4) return js_fail(j, "bad \\u escape");
    for (int k = 0; k < 4; k++) {
        char c = j->s[j->i++];
        unsigned d = is_digit(c)              ? (unsigned)(c - '0')
                     : (c >= 'a' && c <= 'f') ? (unsigned)(c - 'a' + 10)
                     : (c >= 'A' && c <= 'F') ? (unsigned)(c - 'A' + 10)
                                              : 16u;
        if (d > 15) return js_fail(j, "bad \\u escape");
        *v = *v * 16 + d;
    }
    return 1;
}

static int js_string(jscan *j)
{
    j->i++; /* opening quote */
    while (j->i < j->n) {
        unsigned char c = (unsigned char)j->s[j->i];
        if (c == '"') {
            j->i++;
            return 1;
        }
        if (c < 0x20) return js_fail(j, "control character in string");
        if (c != '\\') {
            j->i++;
            continue;
        }
        if (++j->i >= j->n) break;
        c = (unsigned char)j->s[j->i++];
        if (c == 'u') {
            unsigned v, lo;
            if (!js_hex4(j, &v)) return 0;
            if (v == 0) return js_fail(j, "\\u0000 in string");
            if (v >= 0xDC00 && v <= 0xDFFF) return js_fail(j, "lone surrogate in string");
            if (v >= 0xD800 && v <= 0xDBFF) {
                if (j->n - j->i < 2 || j->s[j->i] != '\\' || j->s[j->i + 1] != 'u')
                    return js_fail(j, "lone surrogate in string");
                j->i += 2;
                if (!js_hex4(j, &lo)) return 0;
                if (lo < 0xDC00 || lo > 0xDFFF) return js_fail(j, "lone surrogate in string");
            }
        } else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
            return js_fail(j, "bad escape in string");
        }
    }
    return js_fail(j, "unterminated string");
}

static int js_value(jscan *j, int depth);

static int js_container(jscan *j, int depth, char close)
{
    if (depth > PORTAL_JSON_DEPTH_MAX) return js_fail(j, "nested too deeply");
    j->i++;
    js_ws(j);
    if (j->i < j->n && j->s[j->i] == close) {
        j->i++;
        return 1;
    }
    for (;;) {
        if (close == '}') {
            if (j->i >= j->n || j->s[j->i] != '"') return js_fail(j, "expected a member name");
            if (!js_string(j)) return 0;
            js_ws(j);
            if (j->i >= j->n || j->s[j->i] != ':') return js_fail(j, "expected ':'");
            j->i++;
        }
        if (!js_value(j, depth + 1)) return 0;
        js_ws(j);
        if (j->i < j->n && j->s[j->i] == ',') {
            j->i++;
            js_ws(j);
            continue;
        }
        if (j->i < j->n && j->s[j->i] == close) {
            j->i++;
            return 1;
        }
        return js_fail(j, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int js_value(jscan *j, int depth)
{
    js_ws(j);
    if (j->i >= j->n) return js_fail(j, "unexpected end of input");
    switch (j->s[j->i]) {
    case '{': return js_container(j, depth, '}');
    case '[': return js_container(j, depth, ']');
    case '"': return js_string(j);
    case 't': return js_lit(j, "true");
    case 'f': return js_lit(j, "false");
    case 'n': return js_lit(j, "null");
    default:
        if (j->s[j->i] == '-' || is_digit(j->s[j->i])) return js_number(j);
        return js_fail(j, "unexpected character");
    }
}

/* 1 if s[0..n) is one JSON text; else 0 with *pos and *what set. */
static int json_syntax_ok(const char *s, size_t n, size_t *pos, const char **what)
{
    jscan j = {s, n, 0, NULL};
    if (js_value(&j, 1)) {
        js_ws(&j);
        if (j.i == n) return 1;
        js_fail(&j, "trailing characters after the JSON value");
    }
    *pos = j.i;
    *what = j.what;
    return 0;
}

/* ---- problem list ---- */

typedef struct {
    cJSON *details;
    int count;
    int nomem;
} problems;

TTHC_PRINTF(2, 3) static void problem(problems *p, const char *fmt, ...)
{
    if (p->count++ >= PORTAL_DETAILS_MAX) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *s = cJSON_CreateString(msg);
    if (!s || !cJSON_AddItemToArray(p->details, s)) {
        cJSON_Delete(s);
        p->nomem = 1;
    }
}

/* A client value for a message: at most ~60 bytes, cut on a UTF-8 boundary. */
static const char *shown(char *buf, size_t size, const char *s)
{
    size_t n = strlen(s), max = size - 4;
    if (max > 60) max = 60;
    if (n <= max) {
        snprintf(buf, size, "%s", s);
        return buf;
    }
    while (max && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    snprintf(buf, size, "%.*s...", (int)max, s);
    return buf;
}

/* Reports members of obj (at path) other than the names in known[] (NULL-
 * terminated), and names given more than once. */
static void check_members(problems *p, const cJSON *obj, const char *path, const char *const *known)
{
    char b[80];
    int counts[8] = {0};
    for (const cJSON *c = obj->child; c; c = c->next) {
        int k = 0;
        while (known[k] && strcmp(known[k], c->string)) k++;
        if (!known[k]) problem(p, "%s: unknown member '%s'", path, shown(b, sizeof b, c->string));
        else if (++counts[k] == 2) problem(p, "%s: member '%s' given more than once", path, known[k]);
    }
}

/* An integer in [min, PORTAL_INT_MAX] (a JSON number with no fraction). */
static int get_int(const cJSON *v, long long min, long long *out)
{
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!(d >= (double)min && d <= (double)PORTAL_INT_MAX)) return 0; /* also NaN */
    long long i = (long long)d;
    if ((double)i != d) return 0;
    *out = i;
    return 1;
}

/* A string member, or NULL after reporting why not. */
static const char *get_string(problems *p, const cJSON *obj, const char *name, const char *path)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v) problem(p, "%s%s: required", path, name);
    else if (!cJSON_IsString(v)) problem(p, "%s%s: must be a string", path, name);
    else return v->valuestring;
    return NULL;
}

static void check_header_fields(problems *p, const cJSON *root, portal_report *out)
{
    char b[80];
    const char *s = get_string(p, root, "unit_code", "");
    if (s && !portal_unit_code_valid(s))
        problem(p,
                "unit_code: '%s' is neither a unit code PROVINCE.UNIT (1-10 letters/digits, a dot, "
                "1-40 letters/digits/dots) nor a province code (1-10 letters/digits)",
                shown(b, sizeof b, s));
    else if (s) snprintf(out->unit_code, sizeof out->unit_code, "%s", s);

    s = get_string(p, root, "period", "");
    if (s && !portal_period_valid(s))
        problem(p, "period: '%s' is not YYYY-MM with a month 01-12", shown(b, sizeof b, s));
    else if (s) snprintf(out->period, sizeof out->period, "%s", s);

    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "revision");
    if (!v) problem(p, "revision: required");
    else if (!get_int(v, 1, &out->revision))
        problem(p, "revision: must be an integer between 1 and %lld", PORTAL_INT_MAX);

    s = get_string(p, root, "generated_at", "");
    if (s && !portal_rfc3339_valid(s))
        problem(p, "generated_at: '%s' is not an RFC 3339 date-time with offset (e.g. 2025-04-01T00:00:05+07:00)",
                shown(b, sizeof b, s));
    else if (s) snprintf(out->generated_at, sizeof out->generated_at, "%s", s);
}

/* Checks indicators[i]; a valid first occurrence of a code stores its values
 * into out at its catalogue position. */
static void check_indicator(problems *p, const cJSON *item, int i, int *seen_at, portal_report *out)
{
    static const char *const known[] = {"code", "numerator", "denominator", NULL};
    char path[48], b[80];
    snprintf(path, sizeof path, "indicators[%d]", i);
    if (!cJSON_IsObject(item)) {
        problem(p, "%s: must be an object {code, numerator, denominator}", path);
        return;
    }
    check_members(p, item, path, known);
    char prefix[52];
    snprintf(prefix, sizeof prefix, "%s.", path);
    const char *code = get_string(p, item, "code", prefix);
    int idx = -1;
    if (code) {
        idx = tthc_indicator_find(code);
        if (idx < 0) {
            problem(p, "%s.code: unknown indicator '%s'", path, shown(b, sizeof b, code));
        } else if (seen_at[idx] >= 0) {
            problem(p, "%s.code: indicator '%s' listed again (first at indicators[%d])", path, code, seen_at[idx]);
            idx = -1;
        } else {
            seen_at[idx] = i;
        }
    }
    long long num = 0, den = 0;
    int ok = 1;
    static const char *const fields[] = {"numerator", "denominator"};
    for (int f = 0; f < 2; f++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, fields[f]);
        if (!v) {
            problem(p, "%s.%s: required", path, fields[f]);
            ok = 0;
        } else if (!get_int(v, 0, f ? &den : &num)) {
            problem(p, "%s.%s: must be an integer between 0 and %lld", path, fields[f], PORTAL_INT_MAX);
            ok = 0;
        }
    }
    if (ok && num > den) problem(p, "%s: numerator %lld exceeds denominator %lld", path, num, den);
    if (ok && idx >= 0) {
        out->numerator[idx] = num;
        out->denominator[idx] = den;
    }
}

static void check_indicators(problems *p, const cJSON *root, portal_report *out)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "indicators");
    if (!arr) {
        problem(p, "indicators: required (an array listing each of the %d indicators once)", TTHC_INDICATOR_COUNT);
        return;
    }
    if (!cJSON_IsArray(arr)) {
        problem(p, "indicators: must be an array of {code, numerator, denominator}");
        return;
    }
    int seen_at[TTHC_INDICATOR_COUNT];
    for (int k = 0; k < TTHC_INDICATOR_COUNT; k++) seen_at[k] = -1;
    int i = 0;
    for (const cJSON *item = arr->child; item; item = item->next, i++) check_indicator(p, item, i, seen_at, out);
    for (int k = 0; k < TTHC_INDICATOR_COUNT; k++)
        if (seen_at[k] < 0) problem(p, "indicators: indicator '%s' missing", tthc_indicators[k].code);
}

tthc_rc portal_report_validate(const char *body, size_t len, portal_report *out, cJSON *details, tthc_err *err)
{
    static const char *const known[] = {"unit_code", "period", "revision", "generated_at", "indicators", NULL};
    problems p = {details, 0, 0};
    cJSON *root = NULL;
    size_t pos;
    const char *what;
    memset(out, 0, sizeof *out);
    if (len == 0) {
        problem(&p, "body: empty; expected a JSON object");
    } else if (!utf8_valid((const unsigned char *)body, len, &pos)) {
        problem(&p, "body: not valid UTF-8 (byte %zu)", pos);
    } else if (!json_syntax_ok(body, len, &pos, &what)) {
        problem(&p, "body: malformed JSON at byte %zu: %s", pos, what);
    } else if (!(root = cJSON_ParseWithLength(body, len))) {
        return tthc_fail(err, TTHC_ENOMEM, "out of memory parsing the report");
    } else if (!cJSON_IsObject(root)) {
        problem(&p, "body: must be a JSON object");
    } else {
        check_members(&p, root, "body", known);
        check_header_fields(&p, root, out);
        check_indicators(&p, root, out);
    }
    cJSON_Delete(root);
    if (p.count > PORTAL_DETAILS_MAX)
        problem(&(problems){details, 0, 0}, "... and %d more problems", p.count - PORTAL_DETAILS_MAX);
    if (p.nomem) return tthc_fail(err, TTHC_ENOMEM, "out of memory listing problems");
    if (p.count) return tthc_fail(err, TTHC_EINVAL, "%d problem(s) in the report", p.count);
    return TTHC_OK;
}

cJSON *portal_json_add_int(cJSON *obj, const char *name, long long v)
{
    if (v >= INT_MIN && v <= INT_MAX) return cJSON_AddNumberToObject(obj, name, (double)v);
    char num[24];
    snprintf(num, sizeof num, "%lld", v);
    return cJSON_AddRawToObject(obj, name, num);
}

char *portal_report_canonical(const portal_report *r)
{
    char *text = NULL;
    cJSON *o = cJSON_CreateObject(), *arr = NULL;
    if (!o || !cJSON_AddStringToObject(o, "unit_code", r->unit_code) ||
        !cJSON_AddStringToObject(o, "period", r->period) || !portal_json_add_int(o, "revision", r->revision) ||
        !cJSON_AddStringToObject(o, "generated_at", r->generated_at) ||
        !(arr = cJSON_AddArrayToObject(o, "indicators")))
        goto done;
    for (int k = 0; k < TTHC_INDICATOR_COUNT; k++) {
        cJSON *it = cJSON_CreateObject();
        if (!it || !cJSON_AddItemToArray(arr, it)) {
            cJSON_Delete(it);
            goto done;
        }
        if (!cJSON_AddStringToObject(it, "code", tthc_indicators[k].code) ||
            !portal_json_add_int(it, "numerator", r->numerator[k]) ||
            !portal_json_add_int(it, "denominator", r->denominator[k]))
            goto done;
    }
    text = cJSON_PrintUnformatted(o);
done:
    cJSON_Delete(o);
    return text;
}
