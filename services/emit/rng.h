/* rng.h - deterministic pseudo-random numbers for the emitter (pure, no I/O).
 *
 * xoshiro256** seeded through splitmix64.  Every random decision of the
 * emitter draws from a named stream derived from (seed text, stream name,
 * index), so that one knob (duplicates, reordering, ...) never shifts the
 * draws of another.  No libc rand(): the same seed gives the same numbers in
 * every run of a build (the normal and Poisson draws use libm's log, exp and
 * cos, whose last bit may differ between libm versions). */
#ifndef EMIT_RNG_H
#define EMIT_RNG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} emit_rng;

/* 64-bit FNV-1a of a string, continuing from h (start with EMIT_FNV_BASIS). */
#define EMIT_FNV_BASIS 0xcbf29ce484222325ULL
uint64_t emit_fnv1a(uint64_t h, const char *s);

/* Seeds r from the seed text, a stream name and an index (e.g. a dossier number). */
void emit_rng_init(emit_rng *r, const char *seed, const char *stream, uint64_t index);

uint64_t emit_rng_u64(emit_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double emit_rng_unit(emit_rng *r);
/* Uniform integer in [lo, hi] (lo <= hi). */
int64_t emit_rng_range(emit_rng *r, int64_t lo, int64_t hi);
/* true with probability p (p <= 0: never, p >= 1: always). */
bool emit_rng_chance(emit_rng *r, double p);
/* Standard normal (Box-Muller). */
double emit_rng_normal(emit_rng *r);
/* Poisson-distributed count with mean lambda (exact below 30, normal above). */
int64_t emit_rng_poisson(emit_rng *r, double lambda);
/* Index drawn from weights w[0..n-1] (non-negative, not all zero). */
int emit_rng_pick(emit_rng *r, const double *w, int n);

#endif
