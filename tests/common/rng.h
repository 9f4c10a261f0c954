/* The one pseudo-random generator of the tests: splitmix64 (Steele, Lea and
 * Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014;
 * constants from Vigna's reference splitmix64.c).
 *
 * Why this one: a test must give the same cases for the same seed on every
 * host and compiler, so the generator is written out here rather than taken
 * from libc; every 64-bit seed, 0 included, gives a full-period stream, so a
 * seed from the environment needs no fix-up; and nearby seeds (a base seed
 * XOR a per-form constant) give unrelated streams, which is how the oracles
 * give each form its own stream. */
#ifndef KESTREL_TESTS_RNG_H
#define KESTREL_TESTS_RNG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The whole state: `Rng r = {seed};` starts a stream. */
typedef struct Rng {
    uint64_t s;
} Rng;

static inline uint64_t rng_next64(Rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The upper half: the better-mixed bits. */
static inline uint32_t rng_next32(Rng *r)
{
    return (uint32_t)(rng_next64(r) >> 32);
}

/* Uniform in [0, n) for n >= 1 (0 when n is 0), by multiply-shift (Lemire,
 * "Fast random integer generation in an interval", 2019) rather than `% n`:
 * no division, and the bias is below n / 2^32, which no test here can see. */
static inline uint32_t rng_below(Rng *r, uint32_t n)
{
    return (uint32_t)(((uint64_t)rng_next32(r) * n) >> 32);
}

/* The seed in environment variable `name` (any base strtoull takes: 42,
 * 0x2a, 052), or `dflt` when it is unset or empty.  A value that is not a
 * number exits with status 2: silently running seed 0 instead of the one a
 * failure report asked for would hide the failure. */
static inline uint64_t rng_seed_env(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    uint64_t seed = strtoull(v, &end, 0);
    if (*end) {
        fprintf(stderr, "%s=%s: not a number\n", name, v);
        exit(2);
    }
    return seed;
}

#endif
