/* auth.h - bearer-token check of the portal stub.  Pure, thread-safe. */
#ifndef PORTAL_AUTH_H
#define PORTAL_AUTH_H

/* 1 when authorization (an Authorization header value, may be NULL) is
 * "Bearer <token>" (scheme in any case, one or more spaces) with <token>
 * equal to expected.  The comparison takes a time that depends only on the
 * length of what the client sent, never on the content of expected. */
int portal_bearer_ok(const char *authorization, const char *expected);

/* 1 when token is usable as a bearer token: 1..4096 visible ASCII characters. */
int portal_token_valid(const char *token);

#endif
