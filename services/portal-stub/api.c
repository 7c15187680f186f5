/* api.c - routes of the portal stub; see api.h for the order of checks. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "log.h"
#include "page.h"
#include "stub_report.h"
#include "unitlist.h"

static const char json_type[] = "application/json";
static const char html_type[] = "text/html; charset=utf-8";

void portal_app_init(portal_app *a, unsigned long long seed)
{
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->store_free, NULL);
    portal_tokens_init(&a->tokens);
    portal_metrics_init(&a->metrics);
    if (!seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 20) ^ (unsigned long long)getpid();
    }
    a->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
}

void portal_app_destroy(portal_app *a)
{
    portal_metrics_destroy(&a->metrics);
    portal_tokens_destroy(&a->tokens);
    pthread_cond_destroy(&a->store_free);
    pthread_mutex_destroy(&a->lock);
}

/* A free connection of the pool, waiting for one if all are in use (there are
 * as many as HTTP threads, so the wait is for a page or probe sharing it). */
static portal_store *store_take(portal_app *a)
{
    pthread_mutex_lock(&a->lock);
    for (;;) {
        for (size_t i = 0; i < a->nstores; i++)
            if (!a->store_busy[i]) {
                a->store_busy[i] = true;
                pthread_mutex_unlock(&a->lock);
                return a->stores[i];
            }
        pthread_cond_wait(&a->store_free, &a->lock);
    }
}

static void store_give(portal_app *a, const portal_store *st)
{
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->nstores; i++)
        if (a->stores[i] == st) a->store_busy[i] = false;
    pthread_cond_signal(&a->store_free);
    pthread_mutex_unlock(&a->lock);
}

/* xorshift64*: under a->lock. */
static unsigned next_percent(portal_app *a)
{
    uint64_t x = a->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    a->rng = x;
    return (unsigned)((x * 0x2545F4914F6CDD1Dull) >> 32) % 100u;
}

/* ---- replies ---- */

/* Last resort when a reply cannot be built: the server then answers 500. */
static void reply_text(tthc_http_resp *resp, int status, const char *type, const char *text)
{
    (void)tthc_http_resp_set(resp, status, type, text, strlen(text));
}

/* {"error":error[,"details":details]} (details taken, may be NULL). */
static void reply_error(tthc_http_resp *resp, int status, const char *error, cJSON *details)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o && cJSON_AddStringToObject(o, "error", error);
    if (ok && details && (ok = cJSON_AddItemToObject(o, "details", details))) details = NULL;
    if (ok) (void)tthc_http_resp_json(resp, status, o);
    cJSON_Delete(details);
    cJSON_Delete(o);
}

static void add_detail(cJSON *details, const char *text)
{
    cJSON *s = cJSON_CreateString(text);
    if (s && !cJSON_AddItemToArray(details, s)) cJSON_Delete(s);
}

static void reply_error1(tthc_http_resp *resp, int status, const char *error, const char *detail)
{
    cJSON *d = cJSON_CreateArray();
    if (d) add_detail(d, detail);
    reply_error(resp, status, error, d);
}

/* A client string for a message: printable ASCII only, at most 60 bytes. */
static const char *sanitized(char *buf, size_t size, const char *s)
{
    size_t o = 0;
    for (; *s && o + 1 < size && o < 60; s++) buf[o++] = (char)((*s >= 0x20 && *s < 0x7F) ? *s : '?');
    buf[o] = '\0';
    return buf;
}

static void retry_after(const portal_app *a, tthc_http_resp *resp, long seconds)
{
    char v[64];
    if (a->retry_after_date) { /* IMF-fixdate (RFC 7231 7.1.1.1) */
        time_t t = time(NULL) + seconds;
        struct tm tm;
        static const char days[] = "SunMonTueWedThuFriSat", months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        if (!gmtime_r(&t, &tm)) return;
        snprintf(v, sizeof v, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT", days + 3 * tm.tm_wday, tm.tm_mday,
                 months + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    } else {
        snprintf(v, sizeof v, "%ld", seconds);
    }
    (void)tthc_http_resp_header(resp, "Retry-After", v);
}

/* {"status":status,"revision":rev} */
static void reply_status(tthc_http_resp *resp, const char *status, long long rev)
{
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "status", status) && portal_json_add_int(o, "revision", rev))
        (void)tthc_http_resp_json(resp, 200, o);
    cJSON_Delete(o);
}

/* An injected fault (under a->lock): an error with Retry-After, or an answer a
 * pusher must not trust (portal-api.md): a 200 that is an HTML page or names
 * another revision than the one sent, a redirect. */
static void inject_fault(portal_app *a, const tthc_http_req *req, tthc_http_resp *resp)
{
    portal_metrics_outcome(&a->metrics, PORTAL_OUTCOME_INJECTED);
    if (a->fail_status == 200 && a->fail_wrong_revision) {
        long long rev = 0;
        cJSON *j = cJSON_ParseWithLength(req->body, req->body_len);
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "revision");
        if (cJSON_IsNumber(r) && r->valuedouble >= 0 && r->valuedouble < 9007199254740991.0)
            rev = (long long)r->valuedouble;
        cJSON_Delete(j);
        reply_status(resp, "accepted", rev + 1);
    } else if (a->fail_status == 200) {
        static const char page[] = "<!DOCTYPE html><html><body><h1>OK</h1><p>Maintenance page.</p></body></html>";
        reply_text(resp, 200, "text/html; charset=utf-8", page);
    } else if (a->fail_status >= 300 && a->fail_status < 400) {
        reply_error(resp, (int)a->fail_status, "moved", NULL);
        (void)tthc_http_resp_header(resp, "Location", a->fail_location ? a->fail_location : "/");
    } else {
        reply_error(resp, (int)a->fail_status, "injected", NULL);
        retry_after(a, resp, a->retry_after);
    }
}

/* A store failure: 503 while the database is unreachable, else 500. */
static void reply_store_error(portal_app *a, const portal_store *st, tthc_http_resp *resp, tthc_rc rc,
                              const tthc_err *err)
{
    char q[600];
    portal_metrics_db_up(&a->metrics, portal_store_up(st));
    if (rc == TTHC_ERETRY) {
        LOG_DEBUG("db_retry", "error=%s", tthc_log_quote(q, sizeof q, err->msg));
        reply_error(resp, 503, "unavailable", NULL);
        retry_after(a, resp, a->retry_after);
        return;
    }
    LOG_ERROR("db_error", "rc=%s error=%s", tthc_rc_name(rc), tthc_log_quote(q, sizeof q, err->msg));
    reply_error(resp, 500, "internal", NULL);
}

/* ---- POST ---- */

static void post_report(portal_app *a, portal_store *st, const tthc_http_req *req, tthc_http_resp *resp)
{
    char shown[80];
    const char *ct = tthc_http_req_header(req, "Content-Type");
    if (!portal_content_type_is_json(ct)) {
        char msg[200];
        snprintf(msg, sizeof msg, "Content-Type must be application/json, got %s%s%s", ct ? "'" : "",
                 ct ? sanitized(shown, sizeof shown, ct) : "none", ct ? "'" : "");
        reply_error1(resp, 415, "unsupported_media_type", msg);
        return;
    }
    cJSON *details = cJSON_CreateArray();
    if (!details) return;
    const char *key = tthc_http_req_header(req, "Idempotency-Key");
    if (!key || !*key) {
        add_detail(details, "Idempotency-Key: header required (1-200 characters)");
    } else if (!portal_idempotency_key_valid(key)) {
        add_detail(details, "Idempotency-Key: must be 1-200 characters, without control characters");
    }
    portal_report r;
    tthc_err err = {{0}};
    tthc_rc rc = portal_report_validate(req->body, req->body_len, &r, details, &err);
    if (rc == TTHC_ENOMEM) {
        cJSON_Delete(details);
        return;
    }
    if (rc || cJSON_GetArraySize(details) > 0) {
        portal_metrics_outcome(&a->metrics, PORTAL_OUTCOME_INVALID);
        LOG_DEBUG("report_invalid", "problems=%d", cJSON_GetArraySize(details));
        reply_error(resp, 400, "invalid_report", details);
        return;
    }
    cJSON_Delete(details);

    char *canonical = portal_report_canonical(&r);
    if (!canonical) return;
    portal_put_result res;
    rc = portal_store_put(st, &r, key, canonical, &res, &err);
    free(canonical);
    if (rc) {
        reply_store_error(a, st, resp, rc, &err);
        return;
    }
    portal_metrics_db_up(&a->metrics, 1);
    char qkey[260];
    switch (res.outcome) {
    case PORTAL_PUT_ACCEPTED:
        portal_metrics_outcome(&a->metrics, PORTAL_OUTCOME_ACCEPTED);
        LOG_INFO("report_accepted", "unit_code=%s period=%s revision=%lld", r.unit_code, r.period, r.revision);
        reply_status(resp, "accepted", res.revision);
        break;
    case PORTAL_PUT_DUPLICATE:
        portal_metrics_outcome(&a->metrics, PORTAL_OUTCOME_DUPLICATE);
        LOG_INFO("report_duplicate", "unit_code=%s period=%s revision=%lld", r.unit_code, r.period, res.revision);
        reply_status(resp, "duplicate", res.revision);
        break;
    case PORTAL_PUT_STALE: {
        portal_metrics_outcome(&a->metrics, PORTAL_OUTCOME_STALE);
        LOG_INFO("report_stale", "unit_code=%s period=%s revision=%lld current_revision=%lld", r.unit_code, r.period,
                 r.revision, res.revision);
        cJSON *o = cJSON_CreateObject();
        if (o && cJSON_AddStringToObject(o, "error", "stale_revision") &&
            portal_json_add_int(o, "current_revision", res.revision))
            (void)tthc_http_resp_json(resp, 409, o);
        cJSON_Delete(o);
        break;
    }
    case PORTAL_PUT_KEY_REUSED: {
        portal_metrics_outcome(&a->metrics, PORTAL_OUTCOME_KEY_REUSED);
        LOG_INFO("idempotency_key_reused", "key=%s unit_code=%s period=%s revision=%lld",
                 tthc_log_quote(qkey, sizeof qkey, key), r.unit_code, r.period, r.revision);
        char msg[400];
        snprintf(msg, sizeof msg,
                 "Idempotency-Key was already accepted for a different report (unit_code %s, period %s, "
                 "revision %lld); use a new key for a new report",
                 res.key_unit_code, res.key_period, res.revision);
        reply_error1(resp, 422, "idempotency_key_reused", msg);
        break;
    }
    }
}

/* ---- GET ---- */

static void get_reports(portal_app *a, portal_store *st, const tthc_http_req *req, tthc_http_resp *resp)
{
    const char *period = tthc_http_req_query(req, "period");
    const char *unit = tthc_http_req_query(req, "unit_code");
    cJSON *details = cJSON_CreateArray();
    if (!details) return;
    if (!period) add_detail(details, "period: query parameter required (YYYY-MM)");
    else if (!portal_period_valid(period)) add_detail(details, "period: must be YYYY-MM with a month 01-12");
    if (unit && !portal_unit_code_valid(unit))
        add_detail(details, "unit_code: not a unit code (PROVINCE.UNIT) nor a province code");
    if (cJSON_GetArraySize(details) > 0) {
        reply_error(resp, 400, "invalid_query", details);
        return;
    }
    cJSON_Delete(details);
    cJSON *reports = NULL;
    tthc_err err = {{0}};
    tthc_rc rc = portal_store_list(st, period, unit, &reports, &err);
    if (rc) {
        reply_store_error(a, st, resp, rc, &err);
        return;
    }
    portal_metrics_db_up(&a->metrics, 1);
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddItemToObject(o, "reports", reports)) {
        reports = NULL;
        (void)tthc_http_resp_json(resp, 200, o);
    }
    cJSON_Delete(reports);
    cJSON_Delete(o);
}

static void api(portal_app *a, const tthc_http_req *req, tthc_http_resp *resp, int post)
{
    if (a->latency_ms > 0) {
        struct timespec ts = {a->latency_ms / 1000, (a->latency_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) == -1) {}
    }
    pthread_mutex_lock(&a->lock);
    bool fault = a->fail_rate > 0 && next_percent(a) < (unsigned)a->fail_rate;
    if (fault) inject_fault(a, req, resp);
    pthread_mutex_unlock(&a->lock);
    if (fault) return;
    if (!portal_tokens_ok(&a->tokens, tthc_http_req_header(req, "Authorization"))) {
        reply_error(resp, 401, "unauthorized", NULL);
        (void)tthc_http_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"tthc-portal-stub\"");
        return;
    }
    portal_store *st = store_take(a);
    if (post) post_report(a, st, req, resp);
    else get_reports(a, st, req, resp);
    store_give(a, st);
}

/* ---- other routes ---- */

/* Unit names: the built-in list of Vĩnh Long (common/unitlist.c), loaded once. */
static emit_unitlist unit_list;
static pthread_once_t unit_list_once = PTHREAD_ONCE_INIT;

static void unit_list_load(void)
{
    tthc_err err = {{0}};
    if (emit_unitlist_builtin(&unit_list, &err)) LOG_WARN("unit_names_unavailable", "error=\"%s\"", "out of memory");
}

static const char *unit_name(const char *code)
{
    if (!strcmp(code, "H61")) return "Tỉnh Vĩnh Long";
    int k = emit_unitlist_find(&unit_list, code);
    return k >= 0 ? unit_list.v[k].name : NULL;
}

static void page(portal_app *a, const tthc_http_req *req, tthc_http_resp *resp)
{
    const char *asked = tthc_http_req_query(req, "period"), *lang = tthc_http_req_query(req, "lang");
    portal_targets targets;
    portal_targets_builtin(&targets);
    pthread_once(&unit_list_once, unit_list_load);
    /* Vietnamese unless ?lang=en */
    portal_page pg = {.targets = &targets, .vietnamese = !(lang && !strcmp(lang, "en")), .unit_name = unit_name};
    cJSON *periods = NULL, *reports = NULL, *points = NULL;
    tthc_err err = {{0}};
    int status = 200;
    tthc_rc rc = TTHC_OK;
    portal_store *st = store_take(a);
    if (asked && !portal_period_valid(asked)) {
        status = 400;
        pg.notice = "period must be YYYY-MM with a month 01-12";
    } else if ((rc = portal_store_periods(st, 36, &periods, &err))) {
        status = rc == TTHC_ERETRY ? 503 : 500;
        pg.notice = rc == TTHC_ERETRY ? "database unavailable; try again later" : "database error";
    } else {
        pg.periods = periods;
        const cJSON *newest = cJSON_GetArrayItem(periods, 0);
        pg.period = asked ? asked : cJSON_IsString(newest) ? newest->valuestring : NULL;
        if (pg.period) {
            int year = (pg.period[0] - '0') * 1000 + (pg.period[1] - '0') * 100 + (pg.period[2] - '0') * 10 +
                       (pg.period[3] - '0');
            if (!(rc = portal_store_targets(st, year, &targets, &err)))
                rc = portal_store_list(st, pg.period, NULL, &reports, &err);
            if (!rc) rc = portal_store_qd766_points(st, pg.period, &points, &err);
            pg.points = points;
            if (rc) {
                status = rc == TTHC_ERETRY ? 503 : 500;
                pg.notice = rc == TTHC_ERETRY ? "database unavailable; try again later" : "database error";
            }
            pg.reports = reports;
        }
    }
    portal_metrics_db_up(&a->metrics, portal_store_up(st));
    store_give(a, st);
    if (rc && rc != TTHC_ERETRY) {
        char q[600];
        LOG_ERROR("db_error", "rc=%s error=%s", tthc_rc_name(rc), tthc_log_quote(q, sizeof q, err.msg));
    }
    size_t len = 0;
    char *text = portal_page_render(&pg, &len);
    if (text) (void)tthc_http_resp_take(resp, status, html_type, text, len);
    if (status == 503) retry_after(a, resp, a->retry_after);
    cJSON_Delete(periods);
    cJSON_Delete(reports);
    cJSON_Delete(points);
}

static void readyz(portal_app *a, tthc_http_resp *resp)
{
    tthc_err err = {{0}};
    portal_store *st = store_take(a);
    tthc_rc rc = portal_store_ping(st, &err);
    store_give(a, st);
    portal_metrics_db_up(&a->metrics, rc == TTHC_OK);
    if (rc) reply_text(resp, 503, json_type, "{\"status\":\"unavailable\"}");
    else reply_text(resp, 200, json_type, "{\"status\":\"ready\"}");
}

static void metrics(portal_app *a, tthc_http_resp *resp)
{
    size_t len = 0;
    char *text = portal_metrics_render(&a->metrics, &len);
    if (text) (void)tthc_http_resp_take(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

static void not_allowed(tthc_http_resp *resp, const char *allow)
{
    reply_error(resp, 405, "method_not_allowed", NULL);
    (void)tthc_http_resp_header(resp, "Allow", allow);
}

void portal_api_handle(void *ctx, const tthc_http_req *req, tthc_http_resp *resp)
{
    portal_app *a = ctx;
    const char *path = req->path;
    int get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    int post = !strcmp(req->method, "POST");
    if (!strcmp(path, PORTAL_API_PATH)) {
        if (get || post) api(a, req, resp, post);
        else not_allowed(resp, "GET, HEAD, POST");
    } else if (!strcmp(path, "/healthz")) {
        if (get) reply_text(resp, 200, json_type, "{\"status\":\"ok\"}");
        else not_allowed(resp, "GET, HEAD");
    } else if (!strcmp(path, "/readyz")) {
        if (get) readyz(a, resp);
        else not_allowed(resp, "GET, HEAD");
    } else if (!strcmp(path, "/metrics")) {
        if (get) metrics(a, resp);
        else not_allowed(resp, "GET, HEAD");
    } else if (!strcmp(path, "/")) {
        if (get) page(a, req, resp);
        else not_allowed(resp, "GET, HEAD");
    } else {
        reply_error(resp, 404, "not_found", NULL);
    }
}

void portal_api_observe(void *ctx, const char *method, const char *path, int status, double seconds)
{
    portal_app *a = ctx;
    portal_metrics_request(&a->metrics, method, status);
    if (tthc_log_min <= TTHC_LOG_DEBUG) {
        char qm[40], qp[300];
        LOG_DEBUG("request", "method=%s path=%s status=%d ms=%.1f", tthc_log_quote(qm, sizeof qm, method),
                  tthc_log_quote(qp, sizeof qp, path), status, seconds * 1000.0);
    }
}
