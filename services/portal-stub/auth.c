#include "auth.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Compares every byte the client sent against expected (cycled), whatever
 * the outcome, so that timing reveals neither where a mismatch is nor the
 * length of expected. */
static int equal_ct(const char *given, const char *expected)
{
    size_t n = strlen(given), m = strlen(expected);
    volatile unsigned char diff = (unsigned char)(n != m);
    if (m == 0) return 0;
    for (size_t i = 0, j = 0; i < n; i++) {
        diff |= (unsigned char)(given[i] ^ expected[j]);
        j = j + 1 == m ? 0 : j + 1; /* no division: constant time per byte */
    }
    return diff == 0;
}

bool portal_bearer_ok(const char *authorization, const char *expected)
{
    if (!authorization || !expected) return false;
    if (strncasecmp(authorization, "Bearer ", 7)) return false;
    const char *t = authorization + 7;
    while (*t == ' ') t++;
    return equal_ct(t, expected);
}

bool portal_token_valid(const char *token)
{
    if (!token) return false;
    size_t n = strlen(token);
    if (n == 0 || n > 4096) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)token[i] <= 0x20 || (unsigned char)token[i] >= 0x7F) return false;
    return true;
}

void portal_tokens_init(portal_tokens *t)
{
    memset(t, 0, sizeof *t);
    pthread_rwlock_init(&t->lock, NULL);
}

static void wipe(char *s)
{
    if (!s) return;
    explicit_bzero(s, strlen(s));
    free(s);
}

void portal_tokens_destroy(portal_tokens *t)
{
    wipe(t->current);
    wipe(t->next);
    t->current = t->next = NULL;
    pthread_rwlock_destroy(&t->lock);
}

tthc_rc portal_tokens_set(portal_tokens *t, const char *current, const char *next, tthc_err *err)
{
    if (!portal_token_valid(current))
        return tthc_fail(err, TTHC_EINVAL, "the bearer token must be 1-4096 visible ASCII characters");
    if (next && *next && !portal_token_valid(next))
        return tthc_fail(err, TTHC_EINVAL, "the next bearer token must be 1-4096 visible ASCII characters");
    char *c = strdup(current), *n = next && *next ? strdup(next) : NULL;
    if (!c || (next && *next && !n)) {
        wipe(c);
        wipe(n);
        return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    }
    pthread_rwlock_wrlock(&t->lock);
    char *oc = t->current, *on = t->next;
    t->current = c;
    t->next = n;
    pthread_rwlock_unlock(&t->lock);
    wipe(oc);
    wipe(on);
    return TTHC_OK;
}

bool portal_tokens_ok(portal_tokens *t, const char *authorization)
{
    pthread_rwlock_rdlock(&t->lock);
    /* Both compared, whatever the first says: timing tells nothing. */
    bool a = portal_bearer_ok(authorization, t->current);
    bool b = t->next ? portal_bearer_ok(authorization, t->next) : false;
    pthread_rwlock_unlock(&t->lock);
    return a | b;
}
