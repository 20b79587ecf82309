/* lobby.c — many voices on one bundle, one thread (benchmark only; not part
 * of the library). Uses the public API only and links the installed
 * libvoiceskin (benchmarks/bench_lobby.py builds and runs it).
 *
 *   lobby BUNDLE TIER RATE BUFFER INPUT.f32 SKIP N [N ...]
 *
 * Opens the bundle once (its heap bytes measured with mallinfo2 around
 * vsk_bundle_open_memory), then for each N creates N voices on it (tier
 * TIER, RATE Hz mono, BUFFER-frame blocks; each voice's one allocation
 * counted through a vsk_allocator) and streams INPUT (raw float32 mono at
 * RATE) through all of them buffer by buffer, voice after voice, as a game
 * lobby's audio thread would: voice i reads the signal from its own offset
 * (a different talker per voice), writes its own output. One clock read
 * pair around the whole set per buffer. The first SKIP buffers are cold
 * and left out. Prints one JSON object per N. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: %s BUNDLE TIER RATE BUFFER INPUT.f32 SKIP N [N ...]\n", argv[0]);
        return 2;
    }
    const uint32_t tier = (uint32_t)atoi(argv[2]), rate = (uint32_t)atoi(argv[3]);
    const uint32_t B = (uint32_t)atoi(argv[4]);
    const size_t skip = (size_t)atol(argv[6]);
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
        }
        for (size_t b = 0; b < nbuf; ++b) {
            const uint64_t t0 = bench_now_ns();
            for (size_t i = 0; i < N; ++i) {
                size_t p = off[i] + b * B;
                if (p + B > nx) p %= nx - B;
                vsk_voice_process(v[i], x + p, out + i * B, B);
            }
            ns[b] = bench_now_ns() - t0;
        }
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
        fflush(stdout);
        for (size_t i = 0; i < N; ++i) vsk_voice_destroy(v[i]);
        free(off);
        free(out);
        free(v);
    }
    free(ns);
    free(x);
    vsk_bundle_release(bundle);
    return 0;
}
