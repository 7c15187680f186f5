#include "unitcode.h"

#include <stddef.h>
#include <string.h>

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int tthc_unit_code_cmp(const char *a, const char *b)
{
    if (!a || !b) return (a != NULL) - (b != NULL);
    const char *a0 = a, *b0 = b;
    while (*a && *b) {
        if (is_digit(*a) && is_digit(*b)) {
            while (*a == '0') a++; /* leading zeros: 07 = 7 */
            while (*b == '0') b++;
            size_t na = 0, nb = 0;
            while (is_digit(a[na])) na++;
            while (is_digit(b[nb])) nb++;
            if (na != nb) return na < nb ? -1 : 1;
            int c = memcmp(a, b, na);
            if (c) return c;
            a += na;
            b += nb;
            continue;
        }
        if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    int c = (*a != '\0') - (*b != '\0');
    return c ? c : strcmp(a0, b0); /* H61.07 and H61.7: a fixed order all the same */
}
