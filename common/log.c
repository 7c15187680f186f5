#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
    return names[l];
}

void tthc_log_write(tthc_log_level lvl, const char *event, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s svc=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, level_name(lvl), log_service, event);
    if (n < 0 || (size_t)n >= sizeof line) n = (int)sizeof line - 1;
    if (fmt && *fmt && (size_t)n + 2 < sizeof line) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        va_end(ap);
        if (m > 0) n += m;
        if ((size_t)n >= sizeof line) n = (int)sizeof line - 1;
    }
    line[n] = '\0';
    fprintf(stderr, "%s\n", line); /* one write per line with stderr unbuffered */
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
        } else if (c < 0x20) {
            buf[o++] = ' ';
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}
