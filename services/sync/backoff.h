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

/* Parses a Retry-After header value (RFC 7231 7.1.3; optional surrounding
 * blanks): delay-seconds ("120") or an HTTP-date, in the IMF-fixdate form
 * ("Wed, 21 Oct 2015 07:28:00 GMT") or the obsolete RFC 850
 * ("Wednesday, 21-Oct-15 07:28:00 GMT") and asctime ("Wed Oct 21 07:28:00 2015")
 * forms.  A date counts from now_us (microseconds since the epoch); a date in
 * the past means 0.  Returns milliseconds (capped at SYNC_RETRY_AFTER_MAX_MS),
 * or -1 when value is NULL, empty or neither form. */
int64_t sync_retry_after_ms_at(const char *value, int64_t now_us);
/* The same against the wall clock. */
int64_t sync_retry_after_ms(const char *value);

/* A small per-thread PRNG (xorshift64*): *state must be seeded non-zero. */
uint64_t sync_rand_next(uint64_t *state);
/* Uniform double in [0, 1). */
double sync_rand_unit(uint64_t *state);

#endif
