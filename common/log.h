/* log.h - the project's one logger: one logfmt line per event, to stderr.
 *
 *   LOG_INFO("assigned", "partitions=%d topic=%s", n, topic);
 *   -> ts=2025-03-06T01:15:00.123Z level=info svc=tthc-ingest event=assigned partitions=3 topic=t
 *
 * The level is checked before any formatting.  The format is printf's, but
 * every value is written through the logger's own quoting: a conversion right
 * after `key=` is a value, and a %s or %c value is written bare when it holds
 * only visible characters other than `"`, `=` and `\`, else quoted with `"`
 * and `\` escaped, newline, return and tab as \n \r \t, other control bytes
 * as \u00XX and invalid UTF-8 as \ufffd.  `key=\"%s\"` in a format is the
 * same as `key=%s` but always quoted.  Callers never quote values themselves.
 * A line longer than TTHC_LOG_LINE_MAX is cut inside a value (still closed)
 * and ends with truncated=true.  Never log secrets or personal IDs. */
#ifndef TTHC_LOG_H
#define TTHC_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "err.h"

typedef enum { TTHC_LOG_DEBUG = 0, TTHC_LOG_INFO, TTHC_LOG_WARN, TTHC_LOG_ERROR } tthc_log_level;

#define TTHC_LOG_LINE_MAX 8192

extern tthc_log_level tthc_log_min;

/* service: the svc= value (kept by pointer: a string literal).  level: "debug",
 * "info", "warn" or "error"; NULL or anything else keeps the current level. */
void tthc_log_init(const char *service, const char *level);
void tthc_log_write(tthc_log_level lvl, const char *event, const char *fmt, ...) TTHC_PRINTF(3, 4);

/* Formats one line (without the newline) into line[cap] as tthc_log_write
 * would write it; returns its length.  cap should be TTHC_LOG_LINE_MAX. */
size_t tthc_log_vformat(char *line, size_t cap, tthc_log_level lvl, const char *event, const char *fmt, va_list ap);

/* Kept for callers written before the logger quoted values itself: quotes s
 * as a logfmt value into buf (always NUL-terminated) and returns buf.  The
 * logger writes a %s value that is already a valid quoted string as it is. */
const char *tthc_log_quote(char *buf, size_t len, const char *s);

#define TTHC_LOG(lvl, event, ...)                                                                                      \
    do {                                                                                                               \
        if ((lvl) >= tthc_log_min) tthc_log_write(lvl, event, __VA_ARGS__);                                            \
    } while (0)
#define LOG_DEBUG(event, ...) TTHC_LOG(TTHC_LOG_DEBUG, event, __VA_ARGS__)
#define LOG_INFO(event, ...)  TTHC_LOG(TTHC_LOG_INFO, event, __VA_ARGS__)
#define LOG_WARN(event, ...)  TTHC_LOG(TTHC_LOG_WARN, event, __VA_ARGS__)
#define LOG_ERROR(event, ...) TTHC_LOG(TTHC_LOG_ERROR, event, __VA_ARGS__)

#endif
