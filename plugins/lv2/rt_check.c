/*
 * rt_check.c — a minimal LV2 host that proves voiceskin.lv2's run() is
 * allocation-free and reads its latency port (used by tests/test_lv2.py).
 *
 *   lv2_rt_check BUNDLE_DIR URI RATE RUNS [BLOCK VOICE TIER PACE]
 *
 * This executable defines malloc/calloc/realloc/free/aligned_alloc/
 * posix_memalign itself; the dlopen'ed plugin's calls bind to them (the
 * executable comes first in ELF symbol lookup) and they count calls while
 * armed. instantiate() must be seen allocating (sanity check), then RUNS
 * run() calls with random sizes 1..4096 while the voice, tier, mix and
 * bypass controls change must make none. Prints one line:
 *   instantiate_allocs=N run_allocs=M latency=L voices_seen=V
 * With BLOCK > 0 the run() calls are all BLOCK frames with fixed VOICE and
 * TIER (PACE 1: one call per BLOCK of real time, as a host's audio thread),
 * and it also prints  timing: median X us, p99 Y us, worst Z us per run().
 * Exit status 0 when run_allocs == 0 and every output sample is finite.
 * glibc only (uses __libc_* entry points).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <time.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lv2/core/lv2.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

#define EXPORT __attribute__((visibility("default")))
static atomic_int armed;
static atomic_long calls;
static void count(void) {
    if (atomic_load_explicit(&armed, memory_order_relaxed))
        atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
}
EXPORT void *malloc(size_t n) { count(); return __libc_malloc(n); }
EXPORT void *calloc(size_t a, size_t b) { count(); return __libc_calloc(a, b); }
EXPORT void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
EXPORT void free(void *p) { if (p) count(); __libc_free(p); }
EXPORT void *aligned_alloc(size_t a, size_t n) { count(); return __libc_memalign(a, n); }
EXPORT void *memalign(size_t a, size_t n) { count(); return __libc_memalign(a, n); }
EXPORT int posix_memalign(void **out, size_t a, size_t n) {
    count();
    void *p = __libc_memalign(a, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}

#define MAXF 4096

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 9) {
        fprintf(stderr, "usage: lv2_rt_check BUNDLE_DIR URI RATE RUNS [BLOCK VOICE TIER PACE]\n");
        return 2;
    }
    const char *bundle = argv[1], *uri = argv[2];
    double rate = atof(argv[3]);
    int runs = atoi(argv[4]);
    uint32_t block = argc == 9 ? (uint32_t)atoi(argv[5]) : 0;
    int pace = argc == 9 && atoi(argv[8]);
    if (block > 4096) block = 4096;
    double *times = calloc((size_t)runs + 1, sizeof *times);
    char so[4096], bundle_slash[4096];
    snprintf(so, sizeof so, "%s/voiceskin.so", bundle);
    snprintf(bundle_slash, sizeof bundle_slash, "%s/", bundle);
    void *lib = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    LV2_Descriptor_Function fn = (LV2_Descriptor_Function)dlsym(lib, "lv2_descriptor");
    const LV2_Descriptor *d = NULL;
    for (uint32_t i = 0; fn && (d = fn(i)); i++)
        if (!strcmp(d->URI, uri)) break;
    if (!d) { fprintf(stderr, "no plugin %s in %s\n", uri, so); return 1; }
    int ch = strstr(uri, "#stereo") ? 2 : 1;

    const LV2_Feature *features[] = {NULL};
    atomic_store(&armed, 1);
    LV2_Handle h = d->instantiate(d, rate, bundle_slash, features);
    atomic_store(&armed, 0);
    long inst_allocs = atomic_exchange(&calls, 0);
    if (!h) { fprintf(stderr, "instantiate failed\n"); return 1; }

    static float in[2][MAXF], out[2][MAXF];
    float voice = argc == 9 ? (float)atof(argv[6]) : 0.0f, tier = argc == 9 ? (float)atof(argv[7]) : 0.0f;
    float mix = 1, bypass = 0, latency = -1;
    d->connect_port(h, 0, &voice);
    d->connect_port(h, 1, &tier);
    d->connect_port(h, 2, &mix);
    d->connect_port(h, 3, &bypass);
    d->connect_port(h, 4, &latency);
    for (int c = 0; c < ch; c++) {
        d->connect_port(h, 5 + c, in[c]);
        d->connect_port(h, 5 + ch + c, out[c]);
    }
    if (d->activate) d->activate(h);

    uint32_t seed = 12345, phase = 0;
    int finite = 1, voices_seen = 0;
    float max_latency = 0;
    struct timespec due, t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &due);
    atomic_store(&armed, 1);
    for (int r = 0; r < runs; r++) {
        seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5;
        uint32_t n = block ? block : 1 + seed % MAXF;
        for (uint32_t i = 0; i < n; i++, phase++)
            for (int c = 0; c < ch; c++) in[c][i] = 0.3f * sinf(0.02f * (float)phase + (float)c);
        if (block) goto timed;
        if (r % 7 == 3) tier = (float)((r / 7) % 3);      /* includes an out-of-range tier */
        if (r % 11 == 5) mix = (float)(r % 4) / 3.0f;
        if (r % 13 == 7) bypass = bypass > 0.5f ? 0.0f : 1.0f;
        if (r % 17 == 9) { voice = voice > 0.5f ? 0.0f : 1.0f; voices_seen++; }
    timed:
        if (pace) {
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
            long long ns = due.tv_nsec + (long long)n * 1000000000LL / (long long)rate;
            due.tv_sec += (time_t)(ns / 1000000000LL);
            due.tv_nsec = (long)(ns % 1000000000LL);
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        d->run(h, n);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        times[r] = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
        if (latency > max_latency) max_latency = latency;
        for (int c = 0; c < ch; c++)
            for (uint32_t i = 0; i < n; i++) finite &= isfinite(out[c][i]);
    }
    atomic_store(&armed, 0);
    long run_allocs = atomic_exchange(&calls, 0);
    if (!block) voice = 0; /* random mode reports voice 0's latency */
    d->run(h, 64);
    printf("instantiate_allocs=%ld run_allocs=%ld latency=%.0f voices_seen=%d finite=%d\n",
           inst_allocs, run_allocs, latency, voices_seen, finite);
    if (block && runs > 0) {
        qsort(times, (size_t)runs, sizeof *times, cmp_double);
        printf("timing: median %.1f us, p99 %.1f us, worst %.1f us per run() of %u frames%s\n",
               times[runs / 2], times[(size_t)(0.99 * (runs - 1) + 0.5)], times[runs - 1], block,
               pace ? " (real-time pace)" : "");
    }
    free(times);
    if (d->deactivate) d->deactivate(h);
    d->cleanup(h);
    dlclose(lib);
    return run_allocs == 0 && finite && inst_allocs > 0 ? 0 : 1;
}
