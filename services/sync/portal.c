#include "portal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "backoff.h"
#include "config.h"
#include "outcome.h"
#include "strbuf.h"

#define PORTAL_PATH "/api/v1/indicator-reports"

struct sync_portal {
    CURL *h;
    char *base;        /* without trailing '/' */
    char *auth_header; /* "Authorization: Bearer ..." (secret) */
    size_t body_max;
    tthc_sb body;
    int truncated;
    int64_t retry_after_ms;
    char location[512];
    char errbuf[CURL_ERROR_SIZE];
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    sync_portal *p = ud;
    size_t n = size * nmemb;
    size_t room = p->body_max - p->body.len;
    size_t take = n < room ? n : room;
    if (take < n) p->truncated = 1;
    if (take && tthc_sb_add(&p->body, data, take)) p->truncated = 1;
    return n; /* the rest is discarded, not an error: the status still counts */
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    sync_portal *p = ud;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name - 1 && !strncasecmp(data, name, sizeof name - 1)) {
        char v[64];
        size_t vl = n - (sizeof name - 1);
        if (vl >= sizeof v) vl = sizeof v - 1;
        memcpy(v, data + sizeof name - 1, vl);
        v[vl] = '\0';
        p->retry_after_ms = sync_retry_after_ms(v);
    } else if (n > 9 && !strncasecmp(data, "location:", 9)) {
        const char *v = data + 9;
        size_t vl = n - 9;
        while (vl && (*v == ' ' || *v == '\t')) v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
        sync_sanitize(p->location, sizeof p->location, v, vl);
    } else if (n >= 5 && !strncmp(data, "HTTP/", 5)) {
        p->retry_after_ms = -1; /* a new response (e.g. after 100 Continue) */
        p->location[0] = '\0';
    }
    return n;
}

void sync_portal_free(sync_portal *p)
{
    if (!p) return;
    if (p->h) curl_easy_cleanup(p->h);
    if (p->auth_header) {
        memset(p->auth_header, 0, strlen(p->auth_header));
        free(p->auth_header);
    }
    free(p->base);
    tthc_sb_free(&p->body);
    free(p);
}

#define SETOPT(opt, val)                                                                                               \
    do {                                                                                                               \
        CURLcode c_ = curl_easy_setopt(p->h, opt, val);                                                                \
        if (c_ != CURLE_OK) {                                                                                          \
            rc = tthc_fail(err, TTHC_EINVAL, "curl option %s: %s", #opt, curl_easy_strerror(c_));                      \
            goto fail;                                                                                                 \
        }                                                                                                              \
    } while (0)

tthc_rc sync_portal_new(const sync_portal_opts *o, sync_portal **out, tthc_err *err)
{
    tthc_rc rc = TTHC_OK;
    *out = NULL;
    sync_portal *p = calloc(1, sizeof *p);
    if (!p) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    p->body_max = o->body_max ? o->body_max : 64 * 1024;
    tthc_sb_init(&p->body, p->body_max + 1);
    p->retry_after_ms = -1;
    size_t bl = strlen(o->base_url);
    while (bl && o->base_url[bl - 1] == '/') bl--;
    p->base = strndup(o->base_url, bl);
    size_t al = strlen(o->token) + 32;
    p->auth_header = malloc(al);
    p->h = curl_easy_init();
    if (!p->base || !p->auth_header || !p->h) {
        rc = tthc_fail(err, TTHC_ENOMEM, "out of memory (or curl_easy_init failed)");
        goto fail;
    }
    snprintf(p->auth_header, al, "Authorization: Bearer %s", o->token);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    SETOPT(CURLOPT_TIMEOUT_MS, o->timeout_ms);
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_USERAGENT, "tthc-sync/" TTHC_VERSION);
    SETOPT(CURLOPT_ERRORBUFFER, p->errbuf);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, p);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, p);
    if (o->ca_file && *o->ca_file) SETOPT(CURLOPT_CAINFO, o->ca_file);
    SETOPT(CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
    *out = p;
    return TTHC_OK;
fail:
    sync_portal_free(p);
    return rc;
}

/* Runs the prepared request with headers; fills res. */
static tthc_rc perform(sync_portal *p, const char *url, struct curl_slist *headers, sync_http_result *res,
                       tthc_err *err)
{
    tthc_rc rc = TTHC_OK;
    memset(res, 0, sizeof *res);
    res->retry_after_ms = -1;
    tthc_sb_reset(&p->body);
    p->truncated = 0;
    p->retry_after_ms = -1;
    p->location[0] = '\0';
    p->errbuf[0] = '\0';
    SETOPT(CURLOPT_URL, url);
    SETOPT(CURLOPT_HTTPHEADER, headers);
    CURLcode c = curl_easy_perform(p->h);
    double secs = 0;
    curl_easy_getinfo(p->h, CURLINFO_TOTAL_TIME, &secs);
    res->seconds = secs;
    if (c != CURLE_OK) {
        res->status = 0;
        snprintf(res->error, sizeof res->error, "%.80s%s%.160s", curl_easy_strerror(c), p->errbuf[0] ? ": " : "",
                 p->errbuf);
    } else {
        long st = 0;
        curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, &st);
        res->status = st;
        res->retry_after_ms = p->retry_after_ms;
        memcpy(res->location, p->location, sizeof res->location);
    }
    if (tthc_sb_add(&p->body, "", 0)) { /* make sure p is allocated and NUL-terminated */
        rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
        goto fail;
    }
    res->body = p->body.p ? p->body.p : "";
    res->body_len = p->body.len;
    res->body_truncated = p->truncated;
fail:
    curl_easy_setopt(p->h, CURLOPT_HTTPHEADER, NULL);
    return rc;
}

static struct curl_slist *add_header(struct curl_slist *l, const char *h, int *failed)
{
    struct curl_slist *n = curl_slist_append(l, h);
    if (!n) *failed = 1;
    return n ? n : l;
}

tthc_rc sync_portal_post(sync_portal *p, const char *key, const char *json, sync_http_result *res, tthc_err *err)
{
    tthc_rc rc = TTHC_OK;
    char url[1024], keyh[300];
    struct curl_slist *h = NULL;
    int failed = 0;
    if ((size_t)snprintf(url, sizeof url, "%s" PORTAL_PATH, p->base) >= sizeof url)
        return tthc_fail(err, TTHC_EINVAL, "portal URL too long");
    if ((size_t)snprintf(keyh, sizeof keyh, "Idempotency-Key: %s", key) >= sizeof keyh)
        return tthc_fail(err, TTHC_EINVAL, "idempotency key too long");
    h = add_header(h, p->auth_header, &failed);
    h = add_header(h, "Content-Type: application/json", &failed);
    h = add_header(h, "Accept: application/json", &failed);
    h = add_header(h, keyh, &failed);
    h = add_header(h, "Expect:", &failed); /* no 100-continue round trip */
    if (failed) {
        rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
        goto fail;
    }
    SETOPT(CURLOPT_POST, 1L);
    SETOPT(CURLOPT_POSTFIELDS, json);
    SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(json));
    rc = perform(p, url, h, res, err);
fail:
    curl_slist_free_all(h);
    return rc;
}

tthc_rc sync_portal_get(sync_portal *p, const char *period, const char *unit_code, sync_http_result *res, tthc_err *err)
{
    tthc_rc rc = TTHC_OK;
    char url[1400];
    struct curl_slist *h = NULL;
    int failed = 0;
    char *ep = curl_easy_escape(p->h, period, 0);
    char *eu = unit_code ? curl_easy_escape(p->h, unit_code, 0) : NULL;
    if (!ep || (unit_code && !eu)) {
        rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
        goto fail;
    }
    if ((size_t)snprintf(url, sizeof url, "%s" PORTAL_PATH "?period=%s%s%s", p->base, ep, eu ? "&unit_code=" : "",
                         eu ? eu : "") >= sizeof url) {
        rc = tthc_fail(err, TTHC_EINVAL, "portal URL too long");
        goto fail;
    }
    h = add_header(h, p->auth_header, &failed);
    h = add_header(h, "Accept: application/json", &failed);
    if (failed) {
        rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
        goto fail;
    }
    SETOPT(CURLOPT_HTTPGET, 1L);
    rc = perform(p, url, h, res, err);
fail:
    curl_slist_free_all(h);
    curl_free(ep);
    curl_free(eu);
    return rc;
}

tthc_rc sync_portal_set_token(sync_portal *p, const char *token, tthc_err *err)
{
    size_t al = strlen(token) + 32;
    char *h = malloc(al);
    if (!h) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    snprintf(h, al, "Authorization: Bearer %s", token);
    if (p->auth_header) {
        memset(p->auth_header, 0, strlen(p->auth_header));
        free(p->auth_header);
    }
    p->auth_header = h;
    return TTHC_OK;
}

char *sync_read_token_file(const char *path, tthc_err *err)
{
    char *t = NULL;
    return tthc_config_read_token(path, false, &t, err) ? NULL : t;
}
