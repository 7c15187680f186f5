/* httpd.c - libmicrohttpd wrapper: one complete request, one handler call.
 *
 * MHD calls the access handler several times per request: first with the
 * headers (we set up a tthc_http_conn), then once per chunk of body (we
 * append, up to the cap), then once with no data (we call the handler and
 * queue its response).  A Content-Length above the cap is refused at the
 * first call, before any body is read (so a client sending
 * "Expect: 100-continue" never sends it); a chunked body that grows past the
 * cap is discarded and answered 413 at the end.
 *
 * Request deadline: MHD's connection timeout counts idle time only, so a
 * client sending a byte every few seconds would hold a connection forever.
 * Each connection gets a `watch` (MHD_OPTION_NOTIFY_CONNECTION, kept as its
 * socket context) in a list under wlock: armed when the connection starts
 * (deadline: request_timeout_s) and when a response on it completes (deadline:
 * the longer of the idle timeout and request_timeout_s, so that MHD closes a
 * kept-alive connection that stays idle exactly as it would without this),
 * disarmed when a response is queued (the request has fully arrived).  A sweeper thread shuts down, once a second,
 * the socket of every armed watch older than the deadline; MHD then sees the
 * end of the stream and closes the connection itself.  The fd stays valid
 * while its watch is listed: MHD calls the CLOSED notification (which unlists
 * under wlock) before it closes the socket. */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "log.h"
#include "timeutil.h"

typedef struct watch {
    struct watch *prev, *next;
    int fd;
    int armed;           /* a request is on its way: the deadline runs */
    int shut;            /* the sweeper shut the socket down */
    int64_t deadline_ms; /* monotonic: when an armed watch's request must have arrived */
} watch;

struct tthc_httpd {
    struct MHD_Daemon *mhd;
    size_t body_max;
    unsigned port;
    tthc_http_handler handler;
    tthc_http_observer observer;
    void *ctx;
    int64_t request_timeout_ms;   /* a new connection's first request */
    int64_t keepalive_timeout_ms; /* the next request after a response: max(idle, request) */
    pthread_mutex_t wlock;        /* watches, stopping */
    pthread_cond_t wcond;
    watch *watches;
    int stopping;
    atomic_ulong slow_closed;
    pthread_t sweeper;
    int sweeper_running;
    pthread_mutex_t log_lock; /* MHD message rate limit */
    int64_t log_second;
    unsigned log_count, log_dropped;
};

struct tthc_http_conn {
    struct MHD_Connection *mc;
    char *body;
    size_t len, cap;
    int too_large;
    struct timespec t0;
};

struct tthc_http_resp {
    int status;
    int failed;
    char *content_type;
    char *body;
    size_t len;
    int nheaders;
    char *hname[TTHC_HTTPD_MAX_HEADERS];
    char *hvalue[TTHC_HTTPD_MAX_HEADERS];
};

static const char body_too_large[] = "{\"error\":\"payload_too_large\"}";
static const char body_internal[] = "{\"error\":\"internal\"}";

/* ---- response builder ---- */

static void resp_clear(tthc_http_resp *r)
{
    free(r->content_type);
    free(r->body);
    for (int i = 0; i < r->nheaders; i++) {
        free(r->hname[i]);
        free(r->hvalue[i]);
    }
    memset(r, 0, sizeof *r);
}

static tthc_rc resp_failed(tthc_http_resp *r, tthc_rc rc)
{
    r->failed = 1;
    return rc;
}

tthc_rc tthc_http_resp_take(tthc_http_resp *resp, int status, const char *content_type, char *body, size_t len)
{
    if (status < 100 || status > 599) {
        free(body);
        return resp_failed(resp, TTHC_EINVAL);
    }
    char *ct = strdup(content_type ? content_type : "application/octet-stream");
    if (!ct) {
        free(body);
        return resp_failed(resp, TTHC_ENOMEM);
    }
    free(resp->content_type);
    free(resp->body);
    resp->content_type = ct;
    resp->body = body;
    resp->len = body ? len : 0;
    resp->status = status;
    return TTHC_OK;
}

tthc_rc tthc_http_resp_set(tthc_http_resp *resp, int status, const char *content_type, const char *body, size_t len)
{
    char *copy = NULL;
    if (len) {
        copy = malloc(len);
        if (!copy) return resp_failed(resp, TTHC_ENOMEM);
        memcpy(copy, body, len);
    }
    return tthc_http_resp_take(resp, status, content_type, copy, len);
}

tthc_rc tthc_http_resp_json(tthc_http_resp *resp, int status, const cJSON *json)
{
    char *text = cJSON_PrintUnformatted(json);
    if (!text) return resp_failed(resp, TTHC_ENOMEM);
    return tthc_http_resp_take(resp, status, "application/json", text, strlen(text));
}

tthc_rc tthc_http_resp_header(tthc_http_resp *resp, const char *name, const char *value)
{
    if (resp->nheaders >= TTHC_HTTPD_MAX_HEADERS || !name || !value) return resp_failed(resp, TTHC_EINVAL);
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return resp_failed(resp, TTHC_ENOMEM);
    }
    resp->hname[resp->nheaders] = n;
    resp->hvalue[resp->nheaders] = v;
    resp->nheaders++;
    return TTHC_OK;
}

/* ---- request lookups ---- */

const char *tthc_http_req_query(const tthc_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn->mc, MHD_GET_ARGUMENT_KIND, name);
}

const char *tthc_http_req_header(const tthc_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn->mc, MHD_HEADER_KIND, name);
}

/* ---- MHD callbacks ---- */

static double elapsed(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- request deadline ---- */

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static watch *watch_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* armed = 1: a response was sent, the next request may start (a kept-alive
 * connection that stays idle is closed by MHD's idle timeout first, as
 * before); 0: the request has arrived. */
static void watch_arm(tthc_httpd *h, struct MHD_Connection *mc, int armed)
{
    watch *w = watch_of(mc);
    if (!w) return;
    pthread_mutex_lock(&h->wlock);
    w->armed = armed;
    if (armed) w->deadline_ms = mono_ms() + h->keepalive_timeout_ms;
    pthread_mutex_unlock(&h->wlock);
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    tthc_httpd *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        watch *w = ci ? calloc(1, sizeof *w) : NULL;
        if (!w) { /* a connection without a deadline is not served */
            LOG_WARN("httpd_connection_refused", "reason=%s", ci ? "out_of_memory" : "no_socket");
            if (ci) (void)shutdown(ci->connect_fd, SHUT_RDWR);
            *socket_context = NULL;
            return;
        }
        w->fd = ci->connect_fd;
        w->armed = 1;
        w->deadline_ms = mono_ms() + h->request_timeout_ms;
        pthread_mutex_lock(&h->wlock);
        w->next = h->watches;
        if (w->next) w->next->prev = w;
        h->watches = w;
        pthread_mutex_unlock(&h->wlock);
        *socket_context = w;
        return;
    }
    watch *w = *socket_context; /* MHD_CONNECTION_NOTIFY_CLOSED: the socket is still open */
    if (!w) return;
    pthread_mutex_lock(&h->wlock);
    if (w->prev) w->prev->next = w->next;
    else h->watches = w->next;
    if (w->next) w->next->prev = w->prev;
    pthread_mutex_unlock(&h->wlock);
    free(w);
    *socket_context = NULL;
}

/* Shuts down the sockets of armed watches past the deadline; returns how many. */
static unsigned sweep_locked(tthc_httpd *h, int64_t now)
{
    unsigned n = 0;
    for (watch *w = h->watches; w; w = w->next) {
        if (!w->armed || w->shut || now <= w->deadline_ms) continue;
        /* counted before the shutdown, so that whoever sees the close sees the count */
        atomic_fetch_add(&h->slow_closed, 1);
        (void)shutdown(w->fd, SHUT_RDWR);
        w->shut = 1;
        n++;
    }
    return n;
}

static void *sweeper_main(void *arg)
{
    tthc_httpd *h = arg;
    pthread_mutex_lock(&h->wlock);
    while (!h->stopping) {
        struct timespec until;
        tthc_mono_deadline(&until, 1000);
        (void)pthread_cond_timedwait(&h->wcond, &h->wlock, &until);
        if (h->stopping) break;
        unsigned n = sweep_locked(h, mono_ms());
        if (n) {
            pthread_mutex_unlock(&h->wlock);
            LOG_WARN("httpd_slow_requests_closed", "connections=%u request_timeout_s=%lld port=%u", n,
                     (long long)(h->request_timeout_ms / 1000), h->port);
            pthread_mutex_lock(&h->wlock);
        }
    }
    pthread_mutex_unlock(&h->wlock);
    return NULL;
}

unsigned long tthc_httpd_slow_closed(const tthc_httpd *h)
{
    return h ? atomic_load(&h->slow_closed) : 0;
}

/* ---- queueing responses ---- */

static enum MHD_Result queue_static(tthc_httpd *h, tthc_http_conn *c, const char *method, const char *url, int status,
                                    const char *body)
{
    watch_arm(h, c->mc, 0);
    struct MHD_Response *mr =
        MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
    if (!mr) return MHD_NO;
    enum MHD_Result ok = MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (ok == MHD_YES) ok = MHD_queue_response(c->mc, (unsigned)status, mr);
    MHD_destroy_response(mr);
    if (ok == MHD_YES && h->observer) h->observer(h->ctx, method, url, status, elapsed(&c->t0));
    return ok;
}

/* Queues r (whose body moves into MHD); a response that cannot be built
 * becomes a static 500. */
static enum MHD_Result queue_resp(tthc_httpd *h, tthc_http_conn *c, const char *method, const char *url,
                                  tthc_http_resp *r)
{
    if (r->failed || r->status == 0) {
        if (!r->failed) LOG_WARN("httpd_no_response", "method=%s", method);
        return queue_static(h, c, method, url, 500, body_internal);
    }
    struct MHD_Response *mr;
    if (r->body) {
        mr = MHD_create_response_from_buffer_with_free_callback(r->len, r->body, &free);
        if (!mr) return queue_static(h, c, method, url, 500, body_internal);
        r->body = NULL; /* MHD owns it now */
    } else {
        mr = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (!mr) return queue_static(h, c, method, url, 500, body_internal);
    }
    enum MHD_Result ok = MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    for (int i = 0; ok == MHD_YES && i < r->nheaders; i++) ok = MHD_add_response_header(mr, r->hname[i], r->hvalue[i]);
    if (ok != MHD_YES) {
        MHD_destroy_response(mr);
        LOG_WARN("httpd_bad_header", "status=%d", r->status);
        return queue_static(h, c, method, url, 500, body_internal);
    }
    ok = MHD_queue_response(c->mc, (unsigned)r->status, mr);
    MHD_destroy_response(mr);
    if (ok == MHD_YES && h->observer) h->observer(h->ctx, method, url, r->status, elapsed(&c->t0));
    return ok;
}

/* 1 when a Content-Length header value exceeds max (or is unparsable huge). */
static int content_length_exceeds(const char *v, size_t max)
{
    size_t n = 0;
    for (; *v == ' ' || *v == '\t'; v++) {}
    for (; *v >= '0' && *v <= '9'; v++) {
        if (n > (SIZE_MAX - 9) / 10) return 1;
        n = n * 10 + (size_t)(*v - '0');
    }
    return n > max;
}

static void append_body(tthc_httpd *h, tthc_http_conn *c, const char *data, size_t len)
{
    if (c->too_large) return;
    if (len > h->body_max - c->len) {
        c->too_large = 1;
        free(c->body);
        c->body = NULL;
        c->len = c->cap = 0;
        return;
    }
    if (c->len + len + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + len + 1) cap *= 2;
        if (cap > h->body_max + 1) cap = h->body_max + 1;
        char *b = realloc(c->body, cap);
        if (!b) { /* cannot hold it: answer as if too large rather than crash */
            LOG_WARN("httpd_body_alloc_failed", "bytes=%zu", cap);
            c->too_large = 1;
            free(c->body);
            c->body = NULL;
            c->len = c->cap = 0;
            return;
        }
        c->body = b;
        c->cap = cap;
    }
    memcpy(c->body + c->len, data, len);
    c->len += len;
    c->body[c->len] = '\0';
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    tthc_httpd *h = cls;
    tthc_http_conn *c = *con_cls;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c) return MHD_NO; /* closes the connection */
        c->mc = mc;
        clock_gettime(CLOCK_MONOTONIC, &c->t0);
        *con_cls = c;
        const char *cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && content_length_exceeds(cl, h->body_max)) {
            c->too_large = 1;
            return queue_static(h, c, method, url, 413, body_too_large);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        append_body(h, c, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (c->too_large) return queue_static(h, c, method, url, 413, body_too_large);

    watch_arm(h, mc, 0); /* arrived: the handler's own time is not the client's */
    tthc_http_req req = {.method = method, .path = url, .body = c->body ? c->body : "", .body_len = c->len, .conn = c};
    tthc_http_resp resp;
    memset(&resp, 0, sizeof resp);
    h->handler(h->ctx, &req, &resp);
    enum MHD_Result ok = queue_resp(h, c, method, url, &resp);
    resp_clear(&resp);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) watch_arm(cls, mc, 1); /* keep-alive: the next request's clock */
    tthc_http_conn *c = *con_cls;
    if (!c) return;
    free(c->body);
    free(c);
    *con_cls = NULL;
}

/* MHD's messages, at most 10 a second (an attack makes one per refused
 * connection); the first line of the next second counts those dropped. */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    tthc_httpd *h = cls;
    unsigned dropped = 0;
    int show = 1;
    if (h) {
        int64_t sec = mono_ms() / 1000;
        pthread_mutex_lock(&h->log_lock);
        if (sec != h->log_second) {
            dropped = h->log_dropped;
            h->log_second = sec;
            h->log_count = h->log_dropped = 0;
        }
        show = ++h->log_count <= 10;
        if (!show) h->log_dropped++;
        pthread_mutex_unlock(&h->log_lock);
    }
    if (!show) return;
    char msg[512], q[600];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
    LOG_WARN("httpd_error", "msg=%s dropped_before=%u", tthc_log_quote(q, sizeof q, msg), dropped);
}

/* ---- listening socket ---- */

/* Splits "HOST:PORT" / "[V6]:PORT" into host (NULL for any) and port. */
static tthc_rc parse_listen(const char *addr, char *host, size_t hostlen, char *port, size_t portlen, tthc_err *err)
{
    const char *colon, *hs = addr, *he;
    if (!addr) return tthc_fail(err, TTHC_EINVAL, "listen address missing");
    if (addr[0] == '[') {
        const char *rb = strchr(addr, ']');
        if (!rb || rb[1] != ':') return tthc_fail(err, TTHC_EINVAL, "listen '%s': want [IPv6]:PORT", addr);
        hs = addr + 1;
        he = rb;
        colon = rb + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon) return tthc_fail(err, TTHC_EINVAL, "listen '%s': want HOST:PORT", addr);
        he = colon;
    }
    const char *p = colon + 1;
    size_t plen = strlen(p);
    unsigned long pv = 0;
    for (size_t i = 0; i < plen && i < 6; i++) pv = pv * 10 + (unsigned long)(p[i] - '0');
    if (plen == 0 || plen > 5 || strspn(p, "0123456789") != plen || pv > 65535)
        return tthc_fail(err, TTHC_EINVAL, "listen '%s': port must be 0..65535", addr);
    size_t hl = (size_t)(he - hs);
    if (hl >= hostlen) return tthc_fail(err, TTHC_EINVAL, "listen '%s': host too long", addr);
    memcpy(host, hs, hl);
    host[hl] = '\0';
    if (!strcmp(host, "*")) host[0] = '\0';
    snprintf(port, portlen, "%s", p);
    return TTHC_OK;
}

static tthc_rc open_listener(const char *addr, int *fd_out, int *ipv6, unsigned *port_out, tthc_err *err)
{
    char host[256], port[8];
    tthc_rc rc = parse_listen(addr, host, sizeof host, port, sizeof port, err);
    if (rc) return rc;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = host[0] ? AF_UNSPEC : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gai) return tthc_fail(err, TTHC_EINVAL, "listen '%s': %s", addr, gai_strerror(gai));
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = tthc_fail(err, TTHC_EIO, "listen '%s': socket: %s", addr, strerror(errno));
        goto done;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 128)) {
        rc = tthc_fail(err, TTHC_EIO, "listen '%s': %s", addr, strerror(errno));
        close(fd);
        goto done;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl)) {
        rc = tthc_fail(err, TTHC_EIO, "listen '%s': getsockname: %s", addr, strerror(errno));
        close(fd);
        goto done;
    }
    *ipv6 = ss.ss_family == AF_INET6;
    *port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
done:
    freeaddrinfo(res);
    return rc;
}

/* ---- lifecycle ---- */

/* Frees h and what it holds (the MHD daemon stopped or never started). */
static void httpd_free(tthc_httpd *h)
{
    if (h->sweeper_running) {
        pthread_mutex_lock(&h->wlock);
        h->stopping = 1;
        pthread_cond_signal(&h->wcond);
        pthread_mutex_unlock(&h->wlock);
        pthread_join(h->sweeper, NULL);
    }
    if (h->mhd) MHD_stop_daemon(h->mhd); /* closes the listening socket and every connection */
    pthread_cond_destroy(&h->wcond);
    pthread_mutex_destroy(&h->wlock);
    pthread_mutex_destroy(&h->log_lock);
    free(h);
}

static int locks_init(tthc_httpd *h)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca)) return -1;
    int bad = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) || pthread_cond_init(&h->wcond, &ca);
    pthread_condattr_destroy(&ca);
    if (bad) return -1;
    if (pthread_mutex_init(&h->wlock, NULL)) {
        pthread_cond_destroy(&h->wcond);
        return -1;
    }
    if (pthread_mutex_init(&h->log_lock, NULL)) {
        pthread_cond_destroy(&h->wcond);
        pthread_mutex_destroy(&h->wlock);
        return -1;
    }
    return 0;
}

tthc_rc tthc_httpd_start(const tthc_httpd_opts *opts, tthc_httpd **out, tthc_err *err)
{
    *out = NULL;
    if (!opts->handler) return tthc_fail(err, TTHC_EINVAL, "httpd: no handler");
    tthc_httpd *h = calloc(1, sizeof *h);
    if (!h) return tthc_fail(err, TTHC_ENOMEM, "httpd: out of memory");
    if (locks_init(h)) {
        free(h);
        return tthc_fail(err, TTHC_ENOMEM, "httpd: cannot create locks");
    }
    h->body_max = opts->body_max ? opts->body_max : TTHC_HTTPD_BODY_MAX_DEFAULT;
    h->handler = opts->handler;
    h->observer = opts->observer;
    h->ctx = opts->ctx;
    h->request_timeout_ms =
        1000 * (int64_t)(opts->request_timeout_s ? opts->request_timeout_s : TTHC_HTTPD_REQUEST_TIMEOUT_DEFAULT);

    unsigned timeout = opts->timeout_s ? opts->timeout_s : TTHC_HTTPD_TIMEOUT_DEFAULT;
    h->keepalive_timeout_ms =
        1000 * (int64_t)timeout > h->request_timeout_ms ? 1000 * (int64_t)timeout : h->request_timeout_ms;

    int fd = -1, ipv6 = 0;
    tthc_rc rc = open_listener(opts->listen, &fd, &ipv6, &h->port, err);
    if (rc) {
        httpd_free(h);
        return rc;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (ipv6) flags |= MHD_USE_IPv6;
    unsigned limit = opts->max_connections ? opts->max_connections : TTHC_HTTPD_CONNECTIONS_DEFAULT;
    unsigned per_ip = opts->max_per_ip ? opts->max_per_ip : TTHC_HTTPD_PER_IP_DEFAULT;
    if (per_ip > limit) per_ip = limit;
    struct MHD_OptionItem o[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)(uintptr_t)on_mhd_log, h},
        {MHD_OPTION_LISTEN_SOCKET, fd, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, timeout, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, limit, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, NULL},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)(uintptr_t)on_connection, h},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)(uintptr_t)on_completed, h},
        /* MHD warns about a thread pool of 0 or 1: give the option only for a real pool. */
        {opts->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, opts->threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_access, h, MHD_OPTION_ARRAY, o, MHD_OPTION_END);
    if (!h->mhd) {
        close(fd);
        httpd_free(h);
        return tthc_fail(err, TTHC_EHTTP, "httpd: cannot start on '%s' (see the httpd_error log line)", opts->listen);
    }
    if (pthread_create(&h->sweeper, NULL, sweeper_main, h)) {
        httpd_free(h);
        return tthc_fail(err, TTHC_ENOMEM, "httpd: cannot start the request-deadline thread");
    }
    h->sweeper_running = 1;
    *out = h;
    return TTHC_OK;
}

unsigned tthc_httpd_port(const tthc_httpd *h)
{
    return h ? h->port : 0;
}

void tthc_httpd_stop(tthc_httpd *h)
{
    if (!h) return;
    httpd_free(h);
}
