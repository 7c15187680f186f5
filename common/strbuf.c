#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tthc_sb_init(tthc_sb *b, size_t max)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void tthc_sb_free(tthc_sb *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void tthc_sb_reset(tthc_sb *b)
{
    b->len = 0;
    if (b->p) b->p[0] = '\0';
}

static int grow(tthc_sb *b, size_t need)
{
    if (b->len + need + 1 <= b->cap) return 0;
    if (b->len + need + 1 > b->max) return -1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + need + 1) cap *= 2;
    if (cap > b->max) cap = b->max;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int tthc_sb_add(tthc_sb *b, const void *data, size_t len)
{
    if (grow(b, len)) return -1;
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}

int tthc_sb_adds(tthc_sb *b, const char *s)
{
    return tthc_sb_add(b, s, strlen(s));
}

int tthc_sb_addc(tthc_sb *b, char c)
{
    return tthc_sb_add(b, &c, 1);
}

int tthc_sb_addf(tthc_sb *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    if ((size_t)n < sizeof small) return tthc_sb_add(b, small, (size_t)n);
    if (grow(b, (size_t)n)) return -1;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int tthc_sb_add_copy_text(tthc_sb *b, const char *s)
{
    for (; *s; s++) {
        const char *esc = NULL;
        switch (*s) {
        case '\\': esc = "\\\\"; break;
        case '\t': esc = "\\t"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        default: break;
        }
        if (esc ? tthc_sb_add(b, esc, 2) : tthc_sb_addc(b, *s)) return -1;
    }
    return 0;
}

int tthc_sb_add_copy_array_elem(tthc_sb *b, const char *s)
{
    /* Array-literal level: "..." with \" and \\; COPY level doubles each backslash. */
    if (tthc_sb_addc(b, '"')) return -1;
    for (; *s; s++) {
        int r;
        if (*s == '"') r = tthc_sb_add(b, "\\\\\"", 3);
        else if (*s == '\\') r = tthc_sb_add(b, "\\\\\\\\", 4);
        else if (*s == '\t') r = tthc_sb_add(b, "\\t", 2);
        else if (*s == '\n') r = tthc_sb_add(b, "\\n", 2);
        else if (*s == '\r') r = tthc_sb_add(b, "\\r", 2);
        else r = tthc_sb_addc(b, *s);
        if (r) return -1;
    }
    return tthc_sb_addc(b, '"');
}
