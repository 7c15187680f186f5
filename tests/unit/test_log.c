/* Unit tests of common/log.c: every value quoted through the logger. */
#include <stdarg.h>
#include <string.h>

#include "check.h"
#include "log.h"

static char line[TTHC_LOG_LINE_MAX];

/* The line after "ts=... " (the timestamp varies). */
static const char *fmt_line(tthc_log_level lvl, const char *event, const char *fmt, ...) TTHC_PRINTF(3, 4);
static const char *fmt_line(tthc_log_level lvl, const char *event, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = tthc_log_vformat(line, sizeof line, lvl, event, fmt, ap);
    va_end(ap);
    CHECK(n == strlen(line), "length %zu", n);
    const char *p = strstr(line, " level=");
    return p ? p + 1 : line;
}

int main(void)
{
    tthc_log_init("tthc-test", "debug");
    CHECK_STR(fmt_line(TTHC_LOG_INFO, "started", "partitions=%d topic=%s", 3, "t.x"),
              "level=info svc=tthc-test event=started partitions=3 topic=t.x");
    /* The failure line of the issue: quotes inside a quoted value. */
    CHECK_STR(fmt_line(TTHC_LOG_ERROR, "exit", "rc=%s error=\"%s\"", "edb",
                       "connect: connection to server at \"127.0.0.1\", port 1 failed"),
              "level=error svc=tthc-test event=exit rc=edb error=\"connect: connection to server at "
              "\\\"127.0.0.1\\\", port 1 failed\"");
    /* Unquoted in the format: quoted when needed. */
    CHECK_STR(fmt_line(TTHC_LOG_WARN, "e", "error=%s next=%d", "a b\\c\nd\te\x01", 5),
              "level=warn svc=tthc-test event=e error=\"a b\\\\c\\nd\\te\\u0001\" next=5");
    CHECK_STR(fmt_line(TTHC_LOG_WARN, "e", "k=%s", "a=b"), "level=warn svc=tthc-test event=e k=\"a=b\"");
    CHECK_STR(fmt_line(TTHC_LOG_WARN, "e", "k=%s j=%s", "", "x"), "level=warn svc=tthc-test event=e k=\"\" j=x");
    /* Forced quotes stay, even for a bare-safe value. */
    CHECK_STR(fmt_line(TTHC_LOG_INFO, "e", "k=\"%s\"", "plain"), "level=info svc=tthc-test event=e k=\"plain\"");
    /* Vietnamese stays as it is; invalid UTF-8 becomes U+FFFD. */
    CHECK_STR(fmt_line(TTHC_LOG_INFO, "e", "unit=%s", "Xã_Hòa"), "level=info svc=tthc-test event=e unit=Xã_Hòa");
    CHECK_STR(fmt_line(TTHC_LOG_INFO, "e", "k=%s", "a\xff"), "level=info svc=tthc-test event=e k=\"a\\ufffd\"");
    /* Numbers of every length modifier, width and precision from arguments. */
    CHECK_STR(fmt_line(TTHC_LOG_INFO, "e", "a=%lld b=%zu c=%lu d=%.3f e=%*d f=%.*s g=%x h=%hhd i=%c", -5LL, (size_t)7,
                       8UL, 1.5, 3, 42, 2, "xyz", 255u, (signed char)-1, 'q'),
              "level=info svc=tthc-test event=e a=-5 b=7 c=8 d=1.500 e= 42 f=xy g=ff h=-1 i=q");
    CHECK_STR(fmt_line(TTHC_LOG_INFO, "e", "pct=%d%%", 50), "level=info svc=tthc-test event=e pct=50%");
    /* Values quoted by a caller (tthc_log_quote) are not quoted twice. */
    char q[64];
    CHECK_STR(fmt_line(TTHC_LOG_INFO, "e", "msg=%s", tthc_log_quote(q, sizeof q, "say \"hi\"")),
              "level=info svc=tthc-test event=e msg=\"say \\\"hi\\\"\"");
    /* No fields, an empty format, a NULL format. */
    CHECK_STR(fmt_line(TTHC_LOG_INFO, "e", "%s", ""), "level=info svc=tthc-test event=e");
    CHECK_STR(fmt_line(TTHC_LOG_INFO, "stopped", NULL), "level=info svc=tthc-test event=stopped");
    /* A value longer than a line: cut, closed, marked. */
    static char big[3 * TTHC_LOG_LINE_MAX];
    memset(big, 'x', sizeof big - 1);
    big[100] = ' ';
    fmt_line(TTHC_LOG_WARN, "e", "big=%s after=1", big);
    size_t n = strlen(line);
    CHECK(n < TTHC_LOG_LINE_MAX, "line of %zu bytes", n);
    CHECK(n > 15 && !strcmp(line + n - 15, " truncated=true"), "end: %s", line + (n > 40 ? n - 40 : 0));
    CHECK(n > 16 && line[n - 16] == '"', "value closed before truncated=true");
    CHECK(!strstr(line, "after="), "fields after the cut are dropped");
    /* Multi-byte characters are never cut in the middle. */
    static char viet[3 * TTHC_LOG_LINE_MAX];
    viet[0] = '\0';
    while (strlen(viet) + 8 < sizeof viet) strcat(viet, "ệ ");
    fmt_line(TTHC_LOG_WARN, "e", "v=%s", viet);
    n = strlen(line);
    CHECK(n > 19 && !strcmp(line + n - 16, "\" truncated=true") &&
              (line[n - 17] == ' ' || !strncmp(line + n - 19, "ệ", 3)),
          "cut at a character: %s", line + n - 20);
    return CHECK_DONE();
}
