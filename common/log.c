#include "log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

tthc_log_level tthc_log_min = TTHC_LOG_INFO;
static const char *log_service = "tthc";

void tthc_log_init(const char *service, const char *level)
{
    if (service) log_service = service;
    if (!level) return;
    if (!strcmp(level, "debug")) tthc_log_min = TTHC_LOG_DEBUG;
    else if (!strcmp(level, "info")) tthc_log_min = TTHC_LOG_INFO;
    else if (!strcmp(level, "warn")) tthc_log_min = TTHC_LOG_WARN;
    else if (!strcmp(level, "error")) tthc_log_min = TTHC_LOG_ERROR;
}

static const char *level_name(tthc_log_level l)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    return l <= TTHC_LOG_ERROR ? names[l] : "error";
}

/* ---- the line being built ------------------------------------------------ */

#define RESERVE 24 /* room kept for a closing quote and " truncated=true" */

typedef struct {
    char *p;
    size_t n, cap; /* cap excludes RESERVE and the NUL */
    bool full;
} line_buf;

static bool put(line_buf *b, const char *s, size_t len)
{
    if (b->full || b->n + len > b->cap) {
        b->full = true;
        return false;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    return true;
}

static bool puts_(line_buf *b, const char *s)
{
    return put(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t min, cp;
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xE0) == 0xC0) len = 2, min = 0x80, cp = s[0] & 0x1F;
    else if ((s[0] & 0xF0) == 0xE0) len = 3, min = 0x800, cp = s[0] & 0x0F;
    else if ((s[0] & 0xF8) == 0xF0) len = 4, min = 0x10000, cp = s[0] & 0x07;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* 1 when s (n bytes) can be written bare: not empty, visible, no " = \. */
static bool bare_ok(const char *s, size_t n)
{
    if (!n) return false;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7F || c == '"' || c == '=' || c == '\\') return false;
        size_t l = utf8_len((const unsigned char *)s + i, n - i);
        if (!l) return false;
        i += l;
    }
    return true;
}

/* 1 when s is already a valid quoted logfmt value (tthc_log_quote's output). */
static bool already_quoted(const char *s, size_t n)
{
    if (n < 2 || s[0] != '"' || s[n - 1] != '"') return false;
    for (size_t i = 1; i < n - 1;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F || c == '"') return false;
        if (c == '\\') {
            if (i + 1 >= n - 1 || (s[i + 1] != '"' && s[i + 1] != '\\')) return false;
            i += 2;
            continue;
        }
        size_t l = utf8_len((const unsigned char *)s + i, n - 1 - i);
        if (!l) return false;
        i += l;
    }
    return true;
}

/* Writes s (n bytes) quoted; a value that does not fit is cut at a character
 * boundary and still closed (the reserve holds the quote). */
static void put_quoted(line_buf *b, const char *s, size_t n)
{
    if (!put(b, "\"", 1)) return;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        const char *piece = esc;
        size_t plen = 2, step = 1;
        if (c == '"' || c == '\\') esc[0] = '\\', esc[1] = (char)c;
        else if (c == '\n') esc[0] = '\\', esc[1] = 'n';
        else if (c == '\r') esc[0] = '\\', esc[1] = 'r';
        else if (c == '\t') esc[0] = '\\', esc[1] = 't';
        else if (c < 0x20 || c == 0x7F) plen = (size_t)snprintf(esc, sizeof esc, "\\u%04x", c);
        else if ((step = utf8_len((const unsigned char *)s + i, n - i)) != 0) piece = s + i, plen = step;
        else piece = "\\ufffd", plen = 6, step = 1;
        if (!put(b, piece, plen)) break;
        i += step;
    }
    b->p[b->n++] = '"'; /* from the reserve when full */
}

static void put_value(line_buf *b, const char *s, size_t n, bool force_quote)
{
    if (!force_quote && bare_ok(s, n)) put(b, s, n);
    else if (!force_quote && already_quoted(s, n)) put(b, s, n);
    else put_quoted(b, s, n);
}

/* ---- printf conversions, one at a time ------------------------------------- */

typedef struct {
    char spec[48]; /* the conversion with '*' replaced by numbers */
    char conv;     /* d i u o x X f F e E g G a A c s p % */
    int len;       /* 0 none, 'H' hh, 'h', 'l', 'q' ll, 'z', 'j', 't', 'L' */
    size_t used;   /* characters of the format consumed */
} conv_spec;

/* Parses the conversion at f (f[0] == '%'), fetching '*' arguments. */
static bool parse_conv(const char *f, va_list *ap, conv_spec *c)
{
    size_t i = 1, o = 1;
    memset(c, 0, sizeof *c);
    c->spec[0] = '%';
#define SPEC_ADD(ch)                                        \
    do {                                                    \
        if (o + 1 >= sizeof c->spec) return false;          \
        c->spec[o++] = (ch);                                \
    } while (0)
    while (f[i] && strchr("-+ #0'", f[i])) SPEC_ADD(f[i++]);
    for (int part = 0; part < 2; part++) {
        if (part == 1) {
            if (f[i] != '.') break;
            SPEC_ADD(f[i++]);
        }
        if (f[i] == '*') {
            char num[16];
            int v = va_arg(*ap, int);
            int w = snprintf(num, sizeof num, "%d", v);
            for (int k = 0; k < w; k++) SPEC_ADD(num[k]);
            i++;
        } else {
            while (f[i] >= '0' && f[i] <= '9') SPEC_ADD(f[i++]);
        }
    }
    if ((f[i] == 'h' || f[i] == 'l') && f[i + 1] == f[i]) {
        c->len = f[i] == 'h' ? 'H' : 'q';
        SPEC_ADD(f[i]);
        SPEC_ADD(f[i]);
        i += 2;
    } else if (f[i] && strchr("hlzjtL", f[i])) {
        c->len = (unsigned char)f[i];
        SPEC_ADD(f[i]);
        i++;
    }
    if (!f[i] || !strchr("diuoxXfFeEgGaAcsp%", f[i])) return false;
    c->conv = f[i];
    SPEC_ADD(f[i++]);
    c->spec[o] = '\0';
    c->used = i;
#undef SPEC_ADD
    return true;
}

/* The specs below come from a format the compiler checked (TTHC_PRINTF on
 * tthc_log_write), one conversion at a time. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
/* Formats one conversion's argument into out (NUL-terminated, may be cut);
 * for %s, *str points to the argument instead when no width or precision
 * applies, so that long values are not copied. */
static void format_conv(const conv_spec *c, va_list *ap, char *out, size_t cap, const char **str)
{
    *str = NULL;
    switch (c->conv) {
    case 'd':
    case 'i':
        switch (c->len) {
        case 'l': snprintf(out, cap, c->spec, va_arg(*ap, long)); break;
        case 'q': snprintf(out, cap, c->spec, va_arg(*ap, long long)); break;
        case 'z': snprintf(out, cap, c->spec, va_arg(*ap, ptrdiff_t)); break; /* ssize_t */
        case 'j': snprintf(out, cap, c->spec, va_arg(*ap, intmax_t)); break;
        case 't': snprintf(out, cap, c->spec, va_arg(*ap, ptrdiff_t)); break;
        default: snprintf(out, cap, c->spec, va_arg(*ap, int)); break;
        }
        break;
    case 'u':
    case 'o':
    case 'x':
    case 'X':
        switch (c->len) {
        case 'l': snprintf(out, cap, c->spec, va_arg(*ap, unsigned long)); break;
        case 'q': snprintf(out, cap, c->spec, va_arg(*ap, unsigned long long)); break;
        case 'z': snprintf(out, cap, c->spec, va_arg(*ap, size_t)); break;
        case 'j': snprintf(out, cap, c->spec, va_arg(*ap, uintmax_t)); break;
        case 't': snprintf(out, cap, c->spec, (size_t)va_arg(*ap, ptrdiff_t)); break;
        default: snprintf(out, cap, c->spec, va_arg(*ap, unsigned)); break;
        }
        break;
    case 'c': snprintf(out, cap, c->spec, va_arg(*ap, int)); break;
    case 'p': snprintf(out, cap, c->spec, va_arg(*ap, void *)); break;
    case 's': {
        const char *s = va_arg(*ap, const char *);
        if (!s) s = "(null)";
        if (!strcmp(c->spec, "%s")) *str = s;
        else snprintf(out, cap, c->spec, s);
        break;
    }
    case '%': snprintf(out, cap, "%%"); break;
    default: /* floating point */
        if (c->len == 'L') snprintf(out, cap, c->spec, va_arg(*ap, long double));
        else snprintf(out, cap, c->spec, va_arg(*ap, double));
        break;
    }
}

#pragma GCC diagnostic pop

/* ---- the line -------------------------------------------------------------- */

static void put_fields(line_buf *b, const char *fmt, va_list *ap)
{
    char tmp[TTHC_LOG_LINE_MAX];
    for (const char *f = fmt; *f && !b->full;) {
        if (*f != '%') {
            const char *next = strchr(f, '%');
            size_t len = next ? (size_t)(next - f) : strlen(f);
            put(b, f, len);
            f += len;
            continue;
        }
        conv_spec c;
        if (!parse_conv(f, ap, &c)) { /* the format attribute makes this unreachable */
            puts_(b, "?");
            return;
        }
        /* A value: right after "key=", or after "key=\"" with a closing quote
         * in the format (the quotes are the logger's to write). */
        bool value = b->n && b->p[b->n - 1] == '=';
        bool forced = !value && b->n >= 2 && b->p[b->n - 1] == '"' && b->p[b->n - 2] == '=' && f[c.used] == '"';
        if (forced) b->n--;
        const char *str;
        tmp[0] = '\0';
        format_conv(&c, ap, tmp, sizeof tmp, &str);
        const char *v = str ? str : tmp;
        size_t vn = strlen(v);
        f += c.used;
        if (forced) f++;
        if ((value || forced) && (c.conv == 's' || c.conv == 'c')) put_value(b, v, vn, forced);
        else if (value && vn == 0) puts_(b, "\"\"");
        else if (forced) put_quoted(b, v, vn);
        else put(b, v, vn);
    }
}

size_t tthc_log_vformat(char *line, size_t cap, tthc_log_level lvl, const char *event, const char *fmt, va_list ap)
{
    if (cap < RESERVE + 64) {
        if (cap) line[0] = '\0';
        return 0;
    }
    line_buf b = {.p = line, .n = 0, .cap = cap - RESERVE - 1, .full = false};
    struct timespec ts;
    struct tm tm;
    char head[96];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(head, sizeof head, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s svc=", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_name(lvl));
    puts_(&b, head);
    put_value(&b, log_service, strlen(log_service), false);
    puts_(&b, " event=");
    put_value(&b, event ? event : "", event ? strlen(event) : 0, false);
    if (fmt && *fmt) {
        va_list cp;
        va_copy(cp, ap);
        put(&b, " ", 1);
        put_fields(&b, fmt, &cp);
        va_end(cp);
    }
    if (b.full) {
        memcpy(b.p + b.n, " truncated=true", 15);
        b.n += 15;
    }
    while (b.n && b.p[b.n - 1] == ' ') b.n--;
    b.p[b.n] = '\0';
    return b.n;
}

void tthc_log_write(tthc_log_level lvl, const char *event, const char *fmt, ...)
{
    char line[TTHC_LOG_LINE_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    size_t n = tthc_log_vformat(line, TTHC_LOG_LINE_MAX, lvl, event, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    /* One write per line: lines of several threads never interleave. */
    for (size_t off = 0; off < n;) {
        ssize_t w = write(STDERR_FILENO, line + off, n - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
}

const char *tthc_log_quote(char *buf, size_t len, const char *s)
{
    size_t o = 0;
    if (len < 3) {
        if (len) buf[0] = '\0';
        return buf;
    }
    buf[o++] = '"';
    for (; s && *s && o + 3 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7F) {
            buf[o++] = ' ';
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}
