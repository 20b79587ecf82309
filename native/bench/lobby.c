/* lobby.c — many voices on one bundle, one thread (benchmark only; not part
 * of the library). Uses the public API only and links the installed
 * libvoiceskin (benchmarks/bench_lobby.py builds and runs it).
 *
 *   lobby [--budget CORES [--cheap-every K]] BUNDLE TIER RATE BUFFER INPUT.f32 SKIP N [N ...]
 *
 * Opens the bundle once (its heap bytes measured with mallinfo2 around
 * vsk_bundle_open_memory), then for each N creates N voices on it (tier
 * TIER, RATE Hz mono, BUFFER-frame blocks; each voice's one allocation
 * counted through a vsk_allocator) and streams INPUT (raw float32 mono at
 * RATE) through all of them buffer by buffer, voice after voice, as a game
 * lobby's audio thread would: voice i reads the signal from its own offset
 * (a different talker per voice), writes its own output. One clock read
 * pair around the whole set per buffer. The first SKIP buffers are cold
 * and left out. Prints one JSON object per N.
 *
 * Dynamic quality (--budget): the N voices share one CPU budget of CORES
 * (vsk_cpu_budget, need-based shares) and govern their tiers; every K-th
 * voice (--cheap-every) asks for tier 0 (a background character), the
 * others for TIER. Then the record also has the budget, the time of the
 * last tier change, the governor's steps, the audible tiers at the end
 * (counts per tier, for the voices asking TIER and for the cheap ones),
 * and the timing is of the second half of the run (after settling). */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "voiceskin.h"

static size_t heap_in_use(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
#else
    return 0;
#endif
}

/* the voices' allocator: aligned blocks, bytes counted */
static void *count_alloc(void *user, size_t size, size_t alignment)
{
    *(size_t *)user += size;
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    return aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
}
static void count_free(void *user, void *ptr, size_t size)
{
    *(size_t *)user -= size;
    free(ptr);
}

#define LOBBY_MAX_TIERS 16

static uint32_t audible_tier(const vsk_voice *v, uint32_t *steps)
{
    vsk_tier_state st = {.struct_size = sizeof st};
    vsk_voice_get_tier_state(v, &st);
    if (steps) *steps += st.governor_steps;
    return st.audible;
}

int main(int argc, char **argv)
{
    float budget = 0.0f;
    size_t cheap_every = 0;
    while (argc > 2 && argv[1][0] == '-' && argv[1][1] == '-') {
        if (strcmp(argv[1], "--budget") == 0) budget = strtof(argv[2], NULL);
        else if (strcmp(argv[1], "--cheap-every") == 0) cheap_every = (size_t)atol(argv[2]);
        else break;
        argv += 2;
        argc -= 2;
    }
    if (argc < 8) {
        fprintf(stderr, "usage: %s [--budget CORES [--cheap-every K]] BUNDLE TIER RATE BUFFER "
                "INPUT.f32 SKIP N [N ...]\n", argv[0]);
        return 2;
    }
    const uint32_t tier = (uint32_t)atoi(argv[2]), rate = (uint32_t)atoi(argv[3]);
    const uint32_t B = (uint32_t)atoi(argv[4]);
    size_t skip = (size_t)atol(argv[6]);
    size_t file_bytes = 0, xbytes = 0;
    void *file = bench_read_file(argv[1], &file_bytes);
    float *x = bench_read_file(argv[5], &xbytes);
    const size_t nx = xbytes / sizeof(float);
    if (!file || !x || nx < 2 * (size_t)B) {
        fprintf(stderr, "lobby: cannot read the bundle or the input\n");
        return 1;
    }
    const size_t h0 = heap_in_use();
    vsk_bundle *bundle = NULL;
    if (vsk_bundle_open_memory(file, file_bytes, &bundle) != VSK_OK) {
        fprintf(stderr, "lobby: cannot open the bundle\n");
        return 1;
    }
    const size_t bundle_heap = heap_in_use() - h0;
    free(file);

    const size_t nbuf = nx / B;   /* buffers per run */
    uint64_t *ns = calloc(nbuf, sizeof *ns);
    for (int a = 7; a < argc; ++a) {
        const size_t N = (size_t)atol(argv[a]);
        size_t counted = 0;
        vsk_voice_config cfg;
        bench_voice_config(&cfg, rate, B, tier);
        cfg.allocator.alloc = count_alloc;
        cfg.allocator.free = count_free;
        cfg.allocator.user = &counted;
        vsk_cpu_budget *shared = NULL;
        if (budget > 0.0f) {
            if (vsk_cpu_budget_create(budget, NULL, &shared) != VSK_OK) return 1;
            cfg.shared_budget = shared;
        }
        size_t planned = 0;
        vsk_voice **v = calloc(N, sizeof *v);
        float *out = calloc(N * B, sizeof(float));
        size_t *off = calloc(N, sizeof *off);
        if (!v || !out || !off || vsk_voice_get_size(bundle, &cfg, &planned) != VSK_OK) return 1;
        for (size_t i = 0; i < N; ++i) {
            if (vsk_voice_create(bundle, &cfg, &v[i]) != VSK_OK) {
                fprintf(stderr, "lobby: voice %zu of %zu failed\n", i, N);
                return 1;
            }
            off[i] = (i * (nx / N + 7919)) % (nx - B);   /* a different talker each */
            if (shared && cheap_every && i % cheap_every == cheap_every - 1)
                vsk_voice_set_tier(v[i], 0);
        }
        double last_change_s = 0.0;
        for (size_t b = 0; b < nbuf; ++b) {
            const uint64_t t0 = bench_now_ns();
            for (size_t i = 0; i < N; ++i) {
                size_t p = off[i] + b * B;
                if (p + B > nx) p %= nx - B;
                vsk_voice_process(v[i], x + p, out + i * B, B);
            }
            ns[b] = bench_now_ns() - t0;
            if (shared) { /* outside the timed part */
                static uint32_t seen[4096];
                for (size_t i = 0; i < N && i < 4096; ++i) {
                    const uint32_t t = audible_tier(v[i], NULL);
                    if (b > 0 && t != seen[i]) last_change_s = (double)(b + 1) * B / rate;
                    seen[i] = t;
                }
            }
        }
        if (shared) /* time the settled second half */
            skip = nbuf / 2;
        const size_t n = nbuf > skip ? nbuf - skip : 0;
        double mean = 0.0;
        for (size_t b = skip; b < nbuf; ++b) mean += (double)ns[b];
        mean = n ? mean / (double)n : 0.0;
        qsort(ns + skip, n, sizeof *ns, bench_cmp_u64);
        const double med = n ? (double)ns[skip + n / 2] : 0.0;
        const double p99 = n ? (double)ns[skip + (size_t)(0.99 * (double)(n - 1) + 0.5)] : 0.0;
        const double max = n ? (double)ns[skip + n - 1] : 0.0;
        uint32_t isa = 0;
        vsk_voice_get_isa(v[0], &isa);
        printf("{\"voices\": %zu, \"tier\": %u, \"rate\": %u, \"buffer\": %u, \"buffers\": %zu, "
               "\"median_us\": %.3f, \"p99_us\": %.3f, \"mean_us\": %.3f, \"max_us\": %.3f, "
               "\"voice_bytes\": %zu, \"voice_alloc_bytes\": %zu, \"bundle_heap_bytes\": %zu, "
               "\"bundle_file_bytes\": %zu, \"isa\": %u}\n",
               N, tier, rate, B, n, med / 1e3, p99 / 1e3, mean / 1e3, max / 1e3, planned,
               N ? counted / N : 0, bundle_heap, file_bytes, isa);
        if (shared) {
            uint32_t want[LOBBY_MAX_TIERS] = {0}, cheap[LOBBY_MAX_TIERS] = {0}, steps = 0;
            for (size_t i = 0; i < N; ++i) {
                const uint32_t t = audible_tier(v[i], &steps);
                if (t < LOBBY_MAX_TIERS) {
                    if (cheap_every && i % cheap_every == cheap_every - 1) cheap[t]++;
                    else want[t]++;
                }
            }
            float load = 0.0f;
            vsk_cpu_budget_get(shared, NULL, NULL, &load);
            vsk_bundle_info info = {.struct_size = sizeof info};
            vsk_bundle_get_info(bundle, &info);
            const uint32_t nt = info.tier_count;
            printf("{\"dynamic\": true, \"voices\": %zu, \"budget\": %.6f, \"load\": %.6f, "
                   "\"last_change_s\": %.3f, \"steps\": %u, \"tiers_wanting\": [", N, budget,
                   load, last_change_s, steps);
            for (uint32_t t = 0; t < nt && t < LOBBY_MAX_TIERS; ++t) printf("%s%u", t ? ", " : "", want[t]);
            printf("], \"tiers_cheap\": [");
            for (uint32_t t = 0; t < nt && t < LOBBY_MAX_TIERS; ++t) printf("%s%u", t ? ", " : "", cheap[t]);
            printf("]}\n");
        }
        fflush(stdout);
        for (size_t i = 0; i < N; ++i) vsk_voice_destroy(v[i]);
        vsk_cpu_budget_destroy(shared);
        free(off);
        free(out);
        free(v);
    }
    free(ns);
    free(x);
    vsk_bundle_release(bundle);
    return 0;
}
