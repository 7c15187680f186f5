/* test_httpd.c - common/httpd.c on a loopback port, driven by libcurl:
 * request accessors, response builder, body cap (413 without calling the
 * handler), 500 for a handler that answers nothing, observer, listen errors;
 * and with raw sockets: the per-address connection limit and the request
 * deadline (a request trickling in is closed; the server keeps answering). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "httpd.h"
#include "log.h"

#include "check.h"

typedef struct {
    int handled;  /* handler calls */
    int observed; /* observer calls */
    int last_status;
} counters;

static void handler(void *ctx, const tthc_http_req *req, tthc_http_resp *resp)
{
    counters *c = ctx;
    c->handled++;
    if (!strcmp(req->path, "/nothing")) return;
    if (!strcmp(req->path, "/badstatus")) {
        (void)tthc_http_resp_set(resp, 42, "text/plain", "x", 1);
        return;
    }
    if (!strcmp(req->path, "/empty")) {
        (void)tthc_http_resp_set(resp, 204, "text/plain", NULL, 0);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    const char *a = tthc_http_req_query(req, "a"), *x = tthc_http_req_header(req, "x-test");
    cJSON_AddStringToObject(o, "method", req->method);
    cJSON_AddStringToObject(o, "path", req->path);
    if (a) cJSON_AddStringToObject(o, "a", a);
    if (x) cJSON_AddStringToObject(o, "x", x);
    cJSON_AddNumberToObject(o, "len", (double)req->body_len);
    cJSON_AddBoolToObject(o, "nul", req->body[req->body_len] == '\0');
    if (req->body_len < 100) cJSON_AddStringToObject(o, "body", req->body);
    (void)tthc_http_resp_json(resp, 201, o);
    (void)tthc_http_resp_header(resp, "X-Reply", "yes");
    cJSON_Delete(o);
}

static void observer(void *ctx, const char *method, const char *path, int status, double seconds)
{
    counters *c = ctx;
    c->observed++;
    c->last_status = status;
}

typedef struct {
    char *data;
    size_t len;
} buf;

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    buf *b = ud;
    char *d = realloc(b->data, b->len + size * n + 1);
    if (!d) return 0;
    memcpy(d + b->len, p, size * n);
    b->data = d;
    b->len += size * n;
    b->data[b->len] = '\0';
    return size * n;
}

static char reply_header[64];

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    if (n * size > 9 && !strncasecmp(p, "X-Reply: ", 9))
        snprintf(reply_header, sizeof reply_header, "%.*s", (int)(n * size - 9 - 2), p + 9);
    return size * n;
}

/* Performs one request; returns the status (0 on transport error), body in *out. */
static long fetch(unsigned port, const char *method, const char *path, const char *body, size_t len, int chunked,
                  buf *out)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "X-Test: hello");
    if (chunked) h = curl_slist_append(h, "Transfer-Encoding: chunked");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    reply_header[0] = '\0';
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static const char *json_str(const buf *b, const char *name)
{
    static char v[256];
    cJSON *o = cJSON_Parse(b->data ? b->data : "");
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    snprintf(v, sizeof v, "%s", cJSON_IsString(it) ? it->valuestring : cJSON_IsNumber(it) ? "(number)" : "");
    if (cJSON_IsNumber(it)) snprintf(v, sizeof v, "%.0f", it->valuedouble);
    if (cJSON_IsBool(it)) snprintf(v, sizeof v, "%s", cJSON_IsTrue(it) ? "true" : "false");
    cJSON_Delete(o);
    return v;
}

static void reset(buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

static void test_server(void)
{
    counters cnt = {0};
    tthc_httpd_opts o = {.listen = "127.0.0.1:0", .body_max = 4096, .timeout_s = 5, .threads = 2,
                         .handler = handler, .observer = observer, .ctx = &cnt};
    tthc_httpd *h = NULL;
    tthc_err err = {{0}};
    tthc_rc rc = tthc_httpd_start(&o, &h, &err);
    CHECK(rc == TTHC_OK, "start: %s", err.msg);
    if (rc) return;
    unsigned port = tthc_httpd_port(h);
    CHECK(port > 0, "port %u", port);
    buf b = {0};

    long st = fetch(port, "GET", "/echo?a=1%202&a=3", NULL, 0, 0, &b);
    CHECK(st == 201, "GET status %ld", st);
    CHECK(!strcmp(json_str(&b, "method"), "GET"), "method %s", json_str(&b, "method"));
    CHECK(!strcmp(json_str(&b, "path"), "/echo"), "path %s", json_str(&b, "path"));
    CHECK(!strcmp(json_str(&b, "a"), "1 2"), "query %s", json_str(&b, "a"));
    CHECK(!strcmp(json_str(&b, "x"), "hello"), "header %s", json_str(&b, "x"));
    CHECK(!strcmp(json_str(&b, "len"), "0"), "len %s", json_str(&b, "len"));
    CHECK(!strcmp(reply_header, "yes"), "X-Reply '%s'", reply_header);
    reset(&b);

    char body[5000];
    memset(body, 'b', sizeof body);
    st = fetch(port, "POST", "/echo", body, 4096, 0, &b);
    CHECK(st == 201 && !strcmp(json_str(&b, "len"), "4096"), "POST at cap: %ld len %s", st, json_str(&b, "len"));
    CHECK(!strcmp(json_str(&b, "nul"), "true"), "body NUL-terminated");
    reset(&b);
    st = fetch(port, "POST", "/echo", "hi", 2, 1, &b);
    CHECK(st == 201 && !strcmp(json_str(&b, "body"), "hi"), "chunked small: %ld %s", st, b.data);
    reset(&b);

    int handled = cnt.handled;
    st = fetch(port, "POST", "/echo", body, 4097, 0, &b);
    CHECK(st == 413, "over cap: %ld", st);
    CHECK(b.data && !strcmp(b.data, "{\"error\":\"payload_too_large\"}"), "413 body %s", b.data);
    reset(&b);
    st = fetch(port, "POST", "/echo", body, sizeof body, 1, &b);
    CHECK(st == 413, "chunked over cap: %ld", st);
    reset(&b);
    CHECK(cnt.handled == handled, "handler called for an oversized body");
    CHECK(cnt.last_status == 413, "observer saw %d", cnt.last_status);

    st = fetch(port, "GET", "/nothing", NULL, 0, 0, &b);
    CHECK(st == 500, "no response set: %ld", st);
    reset(&b);
    st = fetch(port, "GET", "/badstatus", NULL, 0, 0, &b);
    CHECK(st == 500, "bad status: %ld", st);
    reset(&b);
    st = fetch(port, "GET", "/empty", NULL, 0, 0, &b);
    CHECK(st == 204 && b.len == 0, "empty: %ld", st);
    reset(&b);
    CHECK(cnt.observed == 8, "observer calls %d", cnt.observed);

    tthc_httpd *h2 = NULL;
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
    tthc_httpd_opts o2 = {.listen = addr, .handler = handler, .ctx = &cnt};
    rc = tthc_httpd_start(&o2, &h2, &err);
    CHECK(rc == TTHC_EIO && h2 == NULL, "port in use: %s (%s)", tthc_rc_name(rc), err.msg);
    tthc_httpd_stop(h);
    CHECK(fetch(port, "GET", "/echo", NULL, 0, 0, &b) == 0, "still answering after stop");
    reset(&b);
}

/* A connection to 127.0.0.1:port from address `from` that sent `text`; -1 on failure. */
static int raw_connect(const char *from, unsigned port, const char *text)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, from, &a.sin_addr);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || connect(fd, (struct sockaddr *)&to, sizeof to) ||
        send(fd, text, strlen(text), MSG_NOSIGNAL) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* 1 when the server closed fd (end of stream or reset) within ms; 0 if it stays open. */
static int closed_within(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0) return 0;
    char c[256];
    ssize_t n = recv(fd, c, sizeof c, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void test_slow_clients(void)
{
    counters cnt = {0};
    tthc_httpd_opts o = {.listen = "127.0.0.1:0", .timeout_s = 30, .request_timeout_s = 1, .max_per_ip = 2,
                         .handler = handler, .ctx = &cnt};
    tthc_httpd *h = NULL;
    tthc_err err = {{0}};
    if (tthc_httpd_start(&o, &h, &err)) {
        CHECK(0, "start: %s", err.msg);
        return;
    }
    unsigned port = tthc_httpd_port(h);
    const char *partial = "GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    int a = raw_connect("127.0.0.2", port, partial), b = raw_connect("127.0.0.2", port, partial);
    CHECK(a >= 0 && b >= 0, "two connections from 127.0.0.2");
    /* A third from the same address is over the limit of 2: closed at once (bounded wait). */
    int c = raw_connect("127.0.0.2", port, partial);
    CHECK(c < 0 || closed_within(c, 5000), "third connection from one address not refused");
    /* Another address is served meanwhile. */
    buf r = {0};
    long st = fetch(port, "GET", "/echo", NULL, 0, 0, &r);
    CHECK(st == 201, "another address while 127.0.0.2 is at its limit: %ld", st);
    reset(&r);
    /* The trickling requests pass their 1 s deadline: closed by the sweeper, however many bytes they send. */
    int open_a = 1;
    for (int i = 0; i < 40 && open_a; i++) { /* at most ~10 s */
        (void)send(a, "a", 1, MSG_NOSIGNAL);
        (void)send(b, "a", 1, MSG_NOSIGNAL);
        open_a = !closed_within(a, 250);
    }
    CHECK(!open_a, "a request trickling in was not closed by the deadline");
    CHECK(closed_within(b, 5000), "the second trickling request was not closed");
    CHECK(tthc_httpd_slow_closed(h) >= 2, "slow_closed %lu", tthc_httpd_slow_closed(h));
    /* A complete request on a kept-alive connection is not cut: served, and served again later. */
    st = fetch(port, "GET", "/echo", NULL, 0, 0, &r);
    CHECK(st == 201, "after the slow clients: %ld", st);
    reset(&r);
    if (a >= 0) close(a);
    if (b >= 0) close(b);
    if (c >= 0) close(c);
    tthc_httpd_stop(h);
}

static void test_listen_errors(void)
{
    static const char *const bad[] = {"nope", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:8x",
                                      "[::1", "[::1]8080", NULL};
    for (int i = 0; bad[i]; i++) {
        tthc_httpd *h = NULL;
        tthc_err err = {{0}};
        tthc_httpd_opts o = {.listen = bad[i], .handler = handler};
        tthc_rc rc = tthc_httpd_start(&o, &h, &err);
        CHECK(rc != TTHC_OK && h == NULL && err.msg[0], "listen '%s' accepted", bad[i]);
        tthc_httpd_stop(h);
    }
    tthc_httpd *h = NULL;
    tthc_err err;
    tthc_httpd_opts o = {.listen = "127.0.0.1:0"};
    CHECK(tthc_httpd_start(&o, &h, &err) == TTHC_EINVAL, "no handler accepted");
    tthc_httpd_stop(NULL);
}

int main(void)
{
    tthc_log_init("test_httpd", "error");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test_server();
    test_listen_errors();
    test_slow_clients();
    curl_global_cleanup();
    return CHECK_DONE();
}
