/* log.h - one line per event, logfmt, to stderr.
 *
 *   LOG_INFO("assigned", "partitions=%d", n);
 *   -> ts=2025-03-06T01:15:00.123Z level=info svc=tthc-ingest event=assigned partitions=3
 *
 * The level is checked before any formatting.  Values that may contain spaces
 * or quotes must go through tthc_log_quote().  Never log secrets or personal IDs. */
#ifndef TTHC_LOG_H
#define TTHC_LOG_H

#include "err.h"

typedef enum { TTHC_LOG_DEBUG = 0, TTHC_LOG_INFO, TTHC_LOG_WARN, TTHC_LOG_ERROR } tthc_log_level;

extern tthc_log_level tthc_log_min;

void tthc_log_init(const char *service, const char *level);
void tthc_log_write(tthc_log_level lvl, const char *event, const char *fmt, ...) TTHC_PRINTF(3, 4);

/* Quotes s as a logfmt value into buf (always NUL-terminated); returns buf. */
const char *tthc_log_quote(char *buf, size_t len, const char *s);

#define TTHC_LOG(lvl, event, ...)                                  \
    do {                                                           \
        if ((lvl) >= tthc_log_min) tthc_log_write(lvl, event, __VA_ARGS__); \
    } while (0)
#define LOG_DEBUG(event, ...) TTHC_LOG(TTHC_LOG_DEBUG, event, __VA_ARGS__)
#define LOG_INFO(event, ...) TTHC_LOG(TTHC_LOG_INFO, event, __VA_ARGS__)
#define LOG_WARN(event, ...) TTHC_LOG(TTHC_LOG_WARN, event, __VA_ARGS__)
#define LOG_ERROR(event, ...) TTHC_LOG(TTHC_LOG_ERROR, event, __VA_ARGS__)

#endif
