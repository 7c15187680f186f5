/* auth.h - bearer-token check of the portal stub.  Thread-safe. */
#ifndef PORTAL_AUTH_H
#define PORTAL_AUTH_H

#include <pthread.h>
#include <stdbool.h>

#include "err.h"

/* true when authorization (an Authorization header value, may be NULL) is
 * "Bearer <token>" (scheme in any case, one or more spaces) with <token>
 * equal to expected.  The comparison takes a time that depends only on the
 * length of what the client sent, never on the content of expected. */
bool portal_bearer_ok(const char *authorization, const char *expected);

/* true when token is usable as a bearer token: 1..4096 visible ASCII characters. */
bool portal_token_valid(const char *token);

/* The tokens the stub accepts: the current one and, during a rotation, the
 * next one too.  Replaced at run time (SIGHUP) while requests are checked. */
typedef struct {
    pthread_rwlock_t lock;
    char *current, *next; /* owned; next may be NULL */
} portal_tokens;

void portal_tokens_init(portal_tokens *t);
/* Wipes and frees the tokens. */
void portal_tokens_destroy(portal_tokens *t);
/* Copies current (required) and next (NULL or "": none) after checking
 * both with portal_token_valid(); on failure the old tokens stay. */
tthc_rc portal_tokens_set(portal_tokens *t, const char *current, const char *next, tthc_err *err) TTHC_MUSTCHECK;
/* portal_bearer_ok() against the current or the next token. */
bool portal_tokens_ok(portal_tokens *t, const char *authorization);

#endif
