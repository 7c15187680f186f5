#include "auth.h"

#include <stddef.h>
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

int portal_bearer_ok(const char *authorization, const char *expected)
{
    if (!authorization || !expected) return 0;
    if (strncasecmp(authorization, "Bearer ", 7)) return 0;
    const char *t = authorization + 7;
    while (*t == ' ') t++;
    return equal_ct(t, expected);
}

int portal_token_valid(const char *token)
{
    if (!token) return 0;
    size_t n = strlen(token);
    if (n == 0 || n > 4096) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)token[i] <= 0x20 || (unsigned char)token[i] >= 0x7F) return 0;
    return 1;
}
