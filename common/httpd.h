/* httpd.h - a small HTTP server for the daemons, over libmicrohttpd.
 *
 * One handler callback sees each request once, complete: method, path,
 * query and header lookups, and the whole body (collected up to a cap; a
 * larger body is answered 413 {"error":"payload_too_large"} without calling
 * the handler).  The handler fills a response through tthc_http_resp_*().
 *
 *     static void handle(void *ctx, const tthc_http_req *req, tthc_http_resp *resp)
 *     {
 *         if (!strcmp(req->path, "/healthz"))
 *             (void)tthc_http_resp_set(resp, 200, "application/json", "{\"status\":\"ok\"}", 15);
 *     }   // a handler that sets nothing answers 500
 *
 *     tthc_httpd_opts o = {.listen = "127.0.0.1:0", .handler = handle, .ctx = &app};
 *     tthc_httpd *h;
 *     if ((rc = tthc_httpd_start(&o, &h, &err))) goto fail;
 *     LOG_INFO("listening", "port=%u", tthc_httpd_port(h));
 *     ...
 *     tthc_httpd_stop(h);
 *
 * Threads: the server runs its own thread(s) (MHD_USE_INTERNAL_POLLING_THREAD).
 * With threads <= 1 every handler and observer call happens on that one
 * thread, one at a time; with threads > 1 they run concurrently and must be
 * thread-safe.
 *
 * Slow clients (slowloris): a connection idle for timeout_s is closed; a
 * request whose headers and body have not all arrived request_timeout_s after
 * the connection was accepted (or, on a kept-alive connection, the longer of
 * timeout_s and request_timeout_s after the previous response was sent) is
 * closed by a sweeper thread (which looks once a second: so within
 * request_timeout_s + 1 s), however steadily it dribbles bytes; at most
 * max_per_ip connections per client address and max_connections in total are
 * served (more wait in the listen backlog or are refused).  Such closes are
 * counted (tthc_httpd_slow_closed) and logged once per sweep; libmicrohttpd's
 * own messages are logged at most 10 a second, with a count of those dropped.
 *
 * Ownership: the request and everything it points to belong to the server and
 * are valid only during the handler call.  Response setters copy their
 * arguments, except tthc_http_resp_take() which takes the body (freed by the
 * server, also when the call fails).  Nothing in this file keeps a pointer to
 * the caller's memory after the call returns, except opts->ctx, which must
 * outlive the server. */
#ifndef TTHC_HTTPD_H
#define TTHC_HTTPD_H

#include <stddef.h>

#include "err.h"

struct cJSON;

#define TTHC_HTTPD_BODY_MAX_DEFAULT (1024 * 1024) /* 1 MiB */
#define TTHC_HTTPD_TIMEOUT_DEFAULT 30             /* seconds */
#define TTHC_HTTPD_CONNECTIONS_DEFAULT 256
#define TTHC_HTTPD_PER_IP_DEFAULT 64
#define TTHC_HTTPD_REQUEST_TIMEOUT_DEFAULT 10 /* seconds for a whole request to arrive */
#define TTHC_HTTPD_MAX_HEADERS 16 /* extra response headers per response */

typedef struct tthc_httpd tthc_httpd;
typedef struct tthc_http_resp tthc_http_resp;
typedef struct tthc_http_conn tthc_http_conn; /* private */

typedef struct {
    const char *method; /* as sent: "GET", "POST", "HEAD", ... */
    const char *path;   /* percent-decoded path, without the query string */
    const char *body;   /* the complete body, NUL-terminated (the NUL is not counted); "" if none */
    size_t body_len;
    tthc_http_conn *conn; /* private: used by the lookups below */
} tthc_http_req;

/* Called once per complete request.  Must set a response (else 500). */
typedef void (*tthc_http_handler)(void *ctx, const tthc_http_req *req, tthc_http_resp *resp);

/* Optional: called after each response is queued, including the 413/500
 * answers the server makes itself (for metrics and request logs). */
typedef void (*tthc_http_observer)(void *ctx, const char *method, const char *path, int status,
                                   double seconds);

typedef struct {
    const char *listen;       /* "HOST:PORT": HOST a name, IPv4, "[IPv6]", or "" / "*" for any
                                 address; PORT 0 = ephemeral (see tthc_httpd_port) */
    size_t body_max;          /* body cap in bytes; 0 = TTHC_HTTPD_BODY_MAX_DEFAULT */
    unsigned timeout_s;       /* idle connection timeout; 0 = TTHC_HTTPD_TIMEOUT_DEFAULT */
    unsigned threads;         /* polling threads; 0 or 1 = one (handlers serialized) */
    unsigned max_connections; /* 0 = TTHC_HTTPD_CONNECTIONS_DEFAULT */
    unsigned max_per_ip;      /* connections per client address; 0 = TTHC_HTTPD_PER_IP_DEFAULT
                                 (never above max_connections) */
    unsigned request_timeout_s; /* 0 = TTHC_HTTPD_REQUEST_TIMEOUT_DEFAULT */
    tthc_http_handler handler;
    tthc_http_observer observer; /* may be NULL */
    void *ctx;                   /* passed to handler and observer */
} tthc_httpd_opts;

/* Binds and starts serving.  On success *out owns the server (free with
 * tthc_httpd_stop); on failure *out is NULL and err says why. */
tthc_rc tthc_httpd_start(const tthc_httpd_opts *opts, tthc_httpd **out, tthc_err *err) TTHC_MUSTCHECK;

/* The port actually bound (useful with port 0). */
unsigned tthc_httpd_port(const tthc_httpd *h);

/* Connections closed because their request did not arrive in time, since start. */
unsigned long tthc_httpd_slow_closed(const tthc_httpd *h);

/* Stops accepting, closes connections, waits for running handlers, frees h.
 * NULL is a no-op. */
void tthc_httpd_stop(tthc_httpd *h);

/* Request lookups.  Returned strings belong to the server (valid during the
 * handler call); NULL when absent.  Query values are percent-decoded; a name
 * given twice yields the first value.  Header names are case-insensitive. */
const char *tthc_http_req_query(const tthc_http_req *req, const char *name);
const char *tthc_http_req_header(const tthc_http_req *req, const char *name);

/* Response builders.  A later call replaces status and body; headers add up
 * (at most TTHC_HTTPD_MAX_HEADERS).  A failure (TTHC_ENOMEM, TTHC_EINVAL for
 * a bad status or too many headers) is remembered and the response becomes a
 * plain 500, so the result is informative only and may be ignored. */
tthc_rc tthc_http_resp_set(tthc_http_resp *resp, int status, const char *content_type, const char *body,
                           size_t len);
/* Same, taking ownership of body (malloc'd; freed by the server in all cases). */
tthc_rc tthc_http_resp_take(tthc_http_resp *resp, int status, const char *content_type, char *body,
                            size_t len);
/* Prints json unformatted as "application/json" (json stays the caller's). */
tthc_rc tthc_http_resp_json(tthc_http_resp *resp, int status, const struct cJSON *json);
tthc_rc tthc_http_resp_header(tthc_http_resp *resp, const char *name, const char *value);

#endif
