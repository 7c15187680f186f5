#include "backoff.h"

#include <ctype.h>

int64_t sync_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, int64_t retry_after_ms, double r)
{
    if (attempt < 1) attempt = 1;
    if (base_ms < 1) base_ms = 1;
    if (cap_ms < base_ms) cap_ms = base_ms;
    if (!(r >= 0.0)) r = 0.0; /* also NaN */
    if (r >= 1.0) r = 0.999999;
    int64_t ceiling = base_ms;
    for (int i = 1; i < attempt && ceiling < cap_ms; i++) ceiling *= 2; /* no overflow: stops at cap */
    if (ceiling > cap_ms) ceiling = cap_ms;
    int64_t delay = (int64_t)(r * (double)ceiling);
    if (delay >= ceiling) delay = ceiling - 1;
    if (delay < 0) delay = 0;
    if (retry_after_ms > SYNC_RETRY_AFTER_MAX_MS) retry_after_ms = SYNC_RETRY_AFTER_MAX_MS;
    if (retry_after_ms > delay) delay = retry_after_ms;
    return delay;
}

int64_t sync_retry_after_ms(const char *value)
{
    if (!value) return -1;
    while (*value == ' ' || *value == '\t') value++;
    if (!isdigit((unsigned char)*value)) return -1;
    int64_t s = 0;
    for (; isdigit((unsigned char)*value); value++) {
        if (s <= SYNC_RETRY_AFTER_MAX_MS / 1000) s = s * 10 + (*value - '0');
    }
    while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n') value++;
    if (*value) return -1;
    int64_t ms = s * 1000;
    return ms > SYNC_RETRY_AFTER_MAX_MS ? SYNC_RETRY_AFTER_MAX_MS : ms;
}

uint64_t sync_rand_next(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

double sync_rand_unit(uint64_t *state)
{
    return (double)(sync_rand_next(state) >> 11) * (1.0 / 9007199254740992.0);
}
