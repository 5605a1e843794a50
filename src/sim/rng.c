/* xoshiro256** and splitmix64, written from the published description
 * (D. Blackman, S. Vigna, "Scrambled linear pseudorandom number generators",
 * ACM TOMS 2021; G. Steele, D. Lea, C. Flood, "Fast splittable pseudorandom
 * number generators", OOPSLA 2014). */
#include "sim/rng.h"

static inline uint64_t rotl64(uint64_t x, unsigned k)
{
    return (x << k) | (x >> (64 - k));
}

/* One splitmix64 step: advances *state by the golden-ratio increment and
 * returns the mixed value. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&st);
    /* splitmix64 is a bijection of its counter, so four consecutive outputs are
     * never all zero; the all-zero state (a fixed point) cannot occur. */
}

uint64_t sim_rng_next(struct sim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* 64 x 64 -> 128-bit product, portable C11. */
static inline void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t al = a & 0xffffffffu, ah = a >> 32, bl = b & 0xffffffffu, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    *lo = (mid << 32) | (ll & 0xffffffffu);
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    /* D. Lemire, "Fast random integer generation in an interval" (2019): the
     * high word of x * n is uniform in [0, n) once the low word is rejected
     * when it falls below 2^64 mod n. */
    uint64_t hi, lo;
    mul64(sim_rng_next(r), n, &hi, &lo);
    if (lo < n) {
        uint64_t threshold = (0 - n) % n;
        while (lo < threshold)
            mul64(sim_rng_next(r), n, &hi, &lo);
    }
    return hi;
}

uint64_t sim_rng_range(struct sim_rng *r, uint64_t lo, uint64_t hi)
{
    if (lo >= hi)
        return lo;
    uint64_t span = hi - lo;
    if (span == UINT64_MAX)
        return sim_rng_next(r);
    return lo + sim_rng_below(r, span + 1);
}

double sim_rng_unit(struct sim_rng *r)
{
    /* The top 53 bits scaled by 2^-53: every representable multiple of 2^-53
     * in [0, 1) equally likely. */
    return (double)(sim_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

void sim_rng_fork(struct sim_rng *parent, uint64_t stream, struct sim_rng *child)
{
    uint64_t st = stream;
    sim_rng_seed(child, sim_rng_next(parent) ^ splitmix64(&st));
}
