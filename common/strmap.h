/* strmap.h - open-addressing map from a string key to a caller-side index.
 *
 * The map stores only indices (uint32) into the caller's own array and reads
 * keys back through a callback, so entries live in one place.  It does not
 * own the keys. */
#ifndef TTHC_STRMAP_H
#define TTHC_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef const char *(*tthc_strmap_key_fn)(const void *ctx, uint32_t idx);

typedef struct {
    uint32_t *slots; /* idx + 1; 0 = empty */
    size_t cap;      /* power of two */
    size_t n;
    tthc_strmap_key_fn key;
    const void *ctx;
} tthc_strmap;

void tthc_strmap_init(tthc_strmap *m, tthc_strmap_key_fn key, const void *ctx);
void tthc_strmap_free(tthc_strmap *m);
void tthc_strmap_clear(tthc_strmap *m); /* keeps memory */
/* Index of key, or -1. */
int64_t tthc_strmap_get(const tthc_strmap *m, const char *key);
/* Records idx under its key (the key must not be present yet).  TTHC_ENOMEM
 * when memory ran out, TTHC_EINVAL for idx UINT32_MAX (err filled; the map
 * is unchanged). */
tthc_rc tthc_strmap_put(tthc_strmap *m, uint32_t idx, tthc_err *err) TTHC_MUSTCHECK;

uint64_t tthc_hash(const char *s);

#endif
