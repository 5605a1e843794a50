/* Seeded pseudo-random numbers: xoshiro256** (Blackman and Vigna, 2018), its
 * 256-bit state filled from the 64-bit seed by splitmix64 (Steele, Lea and Flood,
 * 2014), as the xoshiro authors recommend. Both are public-domain algorithms; this
 * is our own implementation from their published description.
 * The generator is a plain value: copy it to fork a reproducible stream. */
#ifndef PCILAB_SIM_RNG_H
#define PCILAB_SIM_RNG_H

#include <stdint.h>

struct sim_rng {
    uint64_t s[4];
};

/* Fills the state from seed with splitmix64 (any seed, including 0, is valid). */
void sim_rng_seed(struct sim_rng *r, uint64_t seed);
/* Next 64 uniformly distributed bits. */
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in [0, n), without modulo bias (Lemire's multiply-and-reject method).
 * n == 0 returns 0. */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);
/* Uniform in [lo, hi] inclusive; lo > hi returns lo. */
uint64_t sim_rng_range(struct sim_rng *r, uint64_t lo, uint64_t hi);
/* Uniform double in [0, 1) with 53 random bits. */
double sim_rng_unit(struct sim_rng *r);
/* Seeds child from the parent's next output mixed with stream, so that every
 * model object can own an independent, reproducible stream. */
void sim_rng_fork(struct sim_rng *parent, uint64_t stream, struct sim_rng *child);

#endif
