/* outcome.h - what an answer of the portal means for a report (docs/portal-api.md).
 *
 * Pure functions: no I/O, no globals, thread-safe. */
#ifndef SYNC_OUTCOME_H
#define SYNC_OUTCOME_H

#include <stddef.h>

typedef enum {
    SYNC_ACCEPTED = 0, /* 200 {"status":"accepted","revision":<the one sent>} */
    SYNC_DUPLICATE,    /* 200 {"status":"duplicate","revision":<the one sent>}: stored before */
    SYNC_RETRY,        /* no answer (status 0), 408, 425, 429, 5xx: try again later */
    SYNC_PARK,         /* other 4xx (400, 403, 404, 413, 422, ...), 1xx, 3xx: never as is */
    SYNC_UNAUTHORIZED, /* 401: the token is wrong for every report */
    SYNC_STALE,        /* 409: the portal holds a newer revision; also 422 "idempotency_key_reused"
                          (the stub's answer when our key already names another report) */
    SYNC_BAD_ANSWER,   /* any other 2xx: not JSON of the documented shape, another status word,
                          or another revision than the one sent.  A failed attempt (retried with
                          backoff), never an acceptance: portal-api.md, "A pusher trusts only..." */
} sync_outcome;

/* Classifies an answer to a push of revision sent_revision.  status is the
 * HTTP status, 0 when there was none (connection refused, timeout, reset,
 * ...).  body may be NULL.  For 409, *current_revision receives the body's
 * "current_revision" (-1 when absent or not an integer); for 2xx, the body's
 * "revision" (-1 when absent or not an integer); else -1.  current_revision
 * may be NULL. */
sync_outcome sync_classify(long status, const char *body, size_t len, long long sent_revision,
                           long long *current_revision);

const char *sync_outcome_name(sync_outcome o);

/* Copies at most len bytes of an answer into out (cap bytes, always
 * NUL-terminated) as text fit for a PostgreSQL text column and a log line:
 * valid UTF-8 sequences are kept whole, any invalid byte becomes '?', control
 * characters become ' ', and the copy is cut at a character boundary (ending
 * with "..." when something was cut).  Returns out. */
char *sync_sanitize(char *out, size_t cap, const char *in, size_t len);

#endif
