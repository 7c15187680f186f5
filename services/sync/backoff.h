/* backoff.h - when to try a report again after a transient failure.
 *
 * Capped exponential backoff with "full jitter" (a delay drawn uniformly from
 * [0, min(cap, base * 2^(attempt-1))) ), never shorter than what the server
 * asked for in Retry-After.  Pure functions: no I/O, no globals; the random
 * draw is passed in, so that tests can pin it. */
#ifndef SYNC_BACKOFF_H
#define SYNC_BACKOFF_H

#include <stdint.h>

/* Longest Retry-After honoured; a larger value is cut to this (a broken or
 * hostile server must not stall a report for days). */
#define SYNC_RETRY_AFTER_MAX_MS (3600LL * 1000)

/* Delay in ms before retry number `attempt` (1 = the first retry; values < 1
 * count as 1).  `r` is a uniform draw in [0, 1).  retry_after_ms < 0 means
 * the answer had no usable Retry-After.  Result in [0, max(cap_ms, retry_after_ms)]. */
int64_t sync_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, int64_t retry_after_ms, double r);

/* Parses a Retry-After header value given as delay-seconds ("120", optional
 * surrounding blanks).  Returns milliseconds (capped at SYNC_RETRY_AFTER_MAX_MS),
 * or -1 when value is NULL, empty or not a non-negative integer (an HTTP-date
 * is not used by docs/portal-api.md and counts as absent). */
int64_t sync_retry_after_ms(const char *value);

/* A small per-thread PRNG (xorshift64*): *state must be seeded non-zero. */
uint64_t sync_rand_next(uint64_t *state);
/* Uniform double in [0, 1). */
double sync_rand_unit(uint64_t *state);

#endif
