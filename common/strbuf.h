/* strbuf.h - a bounded, growable byte buffer (cf. curl's dynbuf).
 *
 * All appends fail cleanly (returning -1, buffer unchanged) past `max` bytes or
 * when memory runs out.  They return int 0 / -1, not a tthc_rc, so that a
 * writer can OR a run of appends and check once (`r |= tthc_sb_adds(...)`;
 * see err.h).  The buffer owns its memory; tthc_sb_free releases it. */
#ifndef TTHC_STRBUF_H
#define TTHC_STRBUF_H

#include <stddef.h>

#include "err.h"

typedef struct {
    char *p;
    size_t len, cap, max;
} tthc_sb;

void tthc_sb_init(tthc_sb *b, size_t max);
void tthc_sb_free(tthc_sb *b);
void tthc_sb_reset(tthc_sb *b); /* len = 0, memory kept */
int tthc_sb_add(tthc_sb *b, const void *data, size_t len) TTHC_MUSTCHECK;
int tthc_sb_adds(tthc_sb *b, const char *s) TTHC_MUSTCHECK;
int tthc_sb_addf(tthc_sb *b, const char *fmt, ...) TTHC_PRINTF(2, 3) TTHC_MUSTCHECK;
int tthc_sb_addc(tthc_sb *b, char c) TTHC_MUSTCHECK;

/* COPY text-format field escaping (backslash, tab, newline, CR). */
int tthc_sb_add_copy_text(tthc_sb *b, const char *s) TTHC_MUSTCHECK;
/* A text[] element, double-quoted with array escaping, then COPY-escaped. */
int tthc_sb_add_copy_array_elem(tthc_sb *b, const char *s) TTHC_MUSTCHECK;

#endif
