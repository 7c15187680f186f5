/* portal.h - the national portal's HTTP API, client side (docs/portal-api.md).
 *
 * One sync_portal wraps one reused libcurl easy handle, so the connection to
 * the portal stays open between requests (keep-alive).  A sync_portal is used
 * by one thread at a time; use one per worker.  curl_global_init() must have
 * run before sync_portal_new().
 *
 * Every request is bounded (connect timeout, total timeout), never follows
 * redirects, speaks only http/https, verifies TLS unless opts->insecure, and
 * never raises signals (CURLOPT_NOSIGNAL).  The token is kept only inside the
 * handle's Authorization header and is never logged. */
#ifndef SYNC_PORTAL_H
#define SYNC_PORTAL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct {
    const char *base_url; /* e.g. "http://127.0.0.1:8088" (a trailing '/' is ignored) */
    const char *token;    /* bearer token */
    const char *ca_file;  /* CA bundle for TLS, or NULL for the system's */
    int insecure;         /* 1: no TLS verification (explicit flag only) */
    long connect_timeout_ms, timeout_ms;
    size_t body_max; /* answer bytes kept; the rest is discarded (0: 64 KiB) */
} sync_portal_opts;

typedef struct sync_portal sync_portal;

/* The outcome of one request.  body points into the portal's buffer and is
 * valid until the next request on the same handle; it is NUL-terminated. */
typedef struct {
    long status;     /* HTTP status; 0 when no answer came */
    char error[256]; /* status 0: what went wrong (curl's message) */
    const char *body;
    size_t body_len;
    int body_truncated;     /* the answer was longer than body_max */
    int64_t retry_after_ms; /* Retry-After in ms (seconds or an HTTP date), -1 if absent */
    char location[512];     /* the Location header of the answer ("" if none), never followed;
                               control characters blanked, cut at 511 bytes */
    double seconds;         /* total time of the request */
} sync_http_result;

/* Copies everything it needs from opts.  *out owned by the caller. */
tthc_rc sync_portal_new(const sync_portal_opts *opts, sync_portal **out, tthc_err *err) TTHC_MUSTCHECK;
void sync_portal_free(sync_portal *p);

/* POST {base}/api/v1/indicator-reports with the given key and JSON body.
 * Returns TTHC_OK whenever a result is filled (including status 0); an error
 * only for local failures (memory). */
tthc_rc sync_portal_post(sync_portal *p, const char *idempotency_key, const char *json, sync_http_result *res,
                         tthc_err *err) TTHC_MUSTCHECK;

/* GET {base}/api/v1/indicator-reports?period=P[&unit_code=U] (unit_code may be NULL). */
tthc_rc sync_portal_get(sync_portal *p, const char *period, const char *unit_code, sync_http_result *res,
                        tthc_err *err) TTHC_MUSTCHECK;

/* Replaces the bearer token of p's later requests (the old one is wiped). */
tthc_rc sync_portal_set_token(sync_portal *p, const char *token, tthc_err *err) TTHC_MUSTCHECK;

/* Reads a token file into a malloc'd string owned by the caller, by the one
 * rule of tthc_config_read_token() (config.h); NULL with err filled on failure.
 * (The daemon re-reads --token-file with it on SIGHUP.) */
char *sync_read_token_file(const char *path, tthc_err *err);

#endif
