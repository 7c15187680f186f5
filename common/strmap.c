#include "strmap.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

uint64_t tthc_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

void tthc_strmap_init(tthc_strmap *m, tthc_strmap_key_fn key, const void *ctx)
{
    memset(m, 0, sizeof *m);
    m->key = key;
    m->ctx = ctx;
}

void tthc_strmap_free(tthc_strmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

void tthc_strmap_clear(tthc_strmap *m)
{
    if (m->slots) memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->n = 0;
}

int64_t tthc_strmap_get(const tthc_strmap *m, const char *key)
{
    if (!m->cap) return -1;
    size_t mask = m->cap - 1, i = (size_t)tthc_hash(key) & mask;
    for (;;) {
        uint32_t s = m->slots[i];
        if (!s) return -1;
        if (!strcmp(m->key(m->ctx, s - 1), key)) return (int64_t)(s - 1);
        i = (i + 1) & mask;
    }
}

static void insert(uint32_t *slots, size_t cap, uint64_t h, uint32_t v)
{
    size_t mask = cap - 1, i = (size_t)h & mask;
    while (slots[i]) i = (i + 1) & mask;
    slots[i] = v;
}

tthc_rc tthc_strmap_put(tthc_strmap *m, uint32_t idx, tthc_err *err)
{
    if (idx == UINT32_MAX) /* slots hold idx + 1 */
        return tthc_fail(err, TTHC_EINVAL, "strmap: index %" PRIu32 " out of range", idx);
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        uint32_t *s = calloc(cap, sizeof *s);
        if (!s) return tthc_fail(err, TTHC_ENOMEM, "strmap: out of memory growing to %zu slots", cap);
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i]) insert(s, cap, tthc_hash(m->key(m->ctx, m->slots[i] - 1)), m->slots[i]);
        free(m->slots);
        m->slots = s;
        m->cap = cap;
    }
    insert(m->slots, m->cap, tthc_hash(m->key(m->ctx, idx)), idx + 1);
    m->n++;
    return TTHC_OK;
}
