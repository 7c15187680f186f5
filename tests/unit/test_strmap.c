/* test_strmap.c - common/strmap.c, the index map on the ingest's hot path:
 * put and get across growth, absent keys, keys that differ in one byte or
 * share a hash slot, clear (memory kept, entries gone), the load factor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

#include "check.h"

#define N 5000

static char keys[N][24];

static const char *key_of(const void *ctx, uint32_t idx)
{
    const char(*k)[24] = ctx;
    return k[idx];
}

static void test_basics(void)
{
    tthc_strmap m;
    tthc_strmap_init(&m, key_of, keys);
    CHECK(tthc_strmap_get(&m, "anything") == -1, "empty map: absent");
    CHECK_INT(m.n, 0);

    /* Keys that differ in one byte, an empty key, a long common prefix. */
    snprintf(keys[0], sizeof keys[0], "%s", "dossier-1");
    snprintf(keys[1], sizeof keys[1], "%s", "dossier-2");
    snprintf(keys[2], sizeof keys[2], "%s", "");
    snprintf(keys[3], sizeof keys[3], "%s", "Dossier-1");
    for (uint32_t i = 0; i < 4; i++) CHECK(tthc_strmap_put(&m, i, NULL) == TTHC_OK, "put %u", i);
    for (uint32_t i = 0; i < 4; i++) CHECK_INT(tthc_strmap_get(&m, keys[i]), i);
    CHECK(tthc_strmap_get(&m, "dossier-") == -1, "prefix is absent");
    CHECK(tthc_strmap_get(&m, "dossier-10") == -1, "extension is absent");
    CHECK_INT(m.n, 4);
    tthc_strmap_free(&m);
    CHECK(m.slots == NULL && m.cap == 0 && m.n == 0, "free resets");
    tthc_strmap_free(&m); /* twice is harmless */
}

static void test_growth_and_clear(void)
{
    tthc_strmap m;
    tthc_strmap_init(&m, key_of, keys);
    for (uint32_t i = 0; i < N; i++) snprintf(keys[i], sizeof keys[i], "H61.%u:%u", i % 144, i);
    int ok = 1;
    for (uint32_t i = 0; i < N; i++) {
        ok &= tthc_strmap_put(&m, i, NULL) == TTHC_OK;
        ok &= m.cap >= 2 * m.n; /* load factor at most one half, after every put */
        ok &= (m.cap & (m.cap - 1)) == 0;
    }
    CHECK(ok, "puts, load factor <= 1/2, power-of-two capacity");
    CHECK_INT(m.n, N);
    int found = 1;
    for (uint32_t i = 0; i < N; i++) found &= tthc_strmap_get(&m, keys[i]) == (int64_t)i;
    CHECK(found, "every key found at its index (capacity %zu)", m.cap);
    CHECK(tthc_strmap_get(&m, "H61.0:5000") == -1, "absent among many");

    size_t cap = m.cap;
    uint32_t *slots = m.slots;
    tthc_strmap_clear(&m);
    CHECK(m.cap == cap && m.slots == slots && m.n == 0, "clear keeps the memory");
    int gone = 1;
    for (uint32_t i = 0; i < N; i += 97) gone &= tthc_strmap_get(&m, keys[i]) == -1;
    CHECK(gone, "clear removes every entry");
    CHECK(tthc_strmap_put(&m, 7, NULL) == TTHC_OK && tthc_strmap_get(&m, keys[7]) == 7, "usable after clear");
    CHECK(m.cap == cap, "no growth for one entry after clear");
    /* The one index a slot cannot hold (slots store idx + 1): refused, map unchanged. */
    tthc_err err = {{0}};
    size_t n = m.n;
    CHECK(tthc_strmap_put(&m, UINT32_MAX, &err) == TTHC_EINVAL && m.n == n, "UINT32_MAX refused");
    CHECK(strstr(err.msg, "out of range") != NULL, "err: '%s'", err.msg);
    tthc_strmap_free(&m);
}

static void test_hash(void)
{
    /* FNV-1a 64 with a final mix: stable across runs and platforms (the map's
     * layout is not persisted, but the values must not depend on the address). */
    CHECK(tthc_hash("") == tthc_hash(""), "deterministic");
    CHECK(tthc_hash("a") != tthc_hash("b"), "one byte differs");
    CHECK(tthc_hash("ab") != tthc_hash("ba"), "order matters");
    char a[] = "same", b[] = "same";
    CHECK(tthc_hash(a) == tthc_hash(b), "by content, not address");
    CHECK(tthc_hash("") == (1469598103934665603ULL ^ (1469598103934665603ULL >> 29)), "offset basis, mixed");
}

int main(void)
{
    test_basics();
    test_growth_and_clear();
    test_hash();
    return CHECK_DONE();
}
