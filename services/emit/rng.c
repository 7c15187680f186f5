#include "rng.h"

#include <math.h>

uint64_t emit_fnv1a(uint64_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void emit_rng_init(emit_rng *r, const char *seed, const char *stream, uint64_t index)
{
    uint64_t h = emit_fnv1a(EMIT_FNV_BASIS, seed);
    h = emit_fnv1a(h ^ 0x1f, stream);
    uint64_t x = h ^ (index * 0xd1342543de82ef95ULL);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t emit_rng_u64(emit_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double emit_rng_unit(emit_rng *r)
{
    return (double)(emit_rng_u64(r) >> 11) * 0x1.0p-53;
}

int64_t emit_rng_range(emit_rng *r, int64_t lo, int64_t hi)
{
    if (hi <= lo) return lo;
    uint64_t span = (uint64_t)(hi - lo) + 1;
    /* Lemire's nearly-divisionless bounded draw, with rejection for exactness. */
    uint64_t limit = -span % span, x;
    do {
        x = emit_rng_u64(r);
    } while (x < limit);
    return lo + (int64_t)(x % span);
}

bool emit_rng_chance(emit_rng *r, double p)
{
    return emit_rng_unit(r) < p;
}

double emit_rng_normal(emit_rng *r)
{
    double u1 = emit_rng_unit(r), u2 = emit_rng_unit(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int64_t emit_rng_poisson(emit_rng *r, double lambda)
{
    if (lambda <= 0) return 0;
    if (lambda < 30) {
        double l = exp(-lambda), p = 1.0;
        int64_t k = 0;
        do {
            k++;
            p *= emit_rng_unit(r);
        } while (p > l);
        return k - 1;
    }
    double v = floor(lambda + sqrt(lambda) * emit_rng_normal(r) + 0.5);
    return v < 0 ? 0 : (int64_t)v;
}

int emit_rng_pick(emit_rng *r, const double *w, int n)
{
    double total = 0;
    for (int i = 0; i < n; i++) total += w[i];
    double x = emit_rng_unit(r) * total;
    for (int i = 0; i < n; i++) {
        if (x < w[i]) return i;
        x -= w[i];
    }
    for (int i = n - 1; i >= 0; i--)
        if (w[i] > 0) return i;
    return 0;
}
