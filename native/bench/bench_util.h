/* bench_util.h — small helpers shared by the benchmark programs under
 * native/bench (not part of the library): a monotonic clock, whole-file
 * reads, a uint64 comparison for qsort, a mono voice config. */
#ifndef VSK_BENCH_UTIL_H
#define VSK_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "voiceskin.h"

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* the whole file in one malloc'd block (NULL if it cannot be read) */
static inline void *bench_read_file(const char *path, size_t *bytes)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(n > 0 ? (size_t)n : 1);
    *bytes = p ? fread(p, 1, n > 0 ? (size_t)n : 0, f) : 0;
    fclose(f);
    return p;
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* a mono voice config: `rate` Hz, `block`-frame blocks, starting on `tier` */
static inline void bench_voice_config(vsk_voice_config *cfg, uint32_t rate, uint32_t block,
                                      uint32_t tier)
{
    vsk_voice_config_init(cfg);
    cfg->sample_rate = rate;
    cfg->channels = 1;
    cfg->max_block_frames = block;
    cfg->initial_tier = tier;
}

#endif
