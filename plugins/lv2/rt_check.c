/*
 * rt_check.c — a minimal LV2 host that proves voiceskin.lv2's run() is
 * allocation-free and reads its latency port (used by tests/test_lv2.py).
 *
 *   lv2_rt_check BUNDLE_DIR URI RATE RUNS
 *
 * This executable defines malloc/calloc/realloc/free/aligned_alloc/
 * posix_memalign itself; the dlopen'ed plugin's calls bind to them (the
 * executable comes first in ELF symbol lookup) and they count calls while
 * armed. instantiate() must be seen allocating (sanity check), then RUNS
 * run() calls with random sizes 1..4096 while the voice, tier, mix and
 * bypass controls change must make none. Prints one line:
 *   instantiate_allocs=N run_allocs=M latency=L voices_seen=V
 * Exit status 0 when run_allocs == 0 and every output sample is finite.
 * glibc only (uses __libc_* entry points).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
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

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: lv2_rt_check BUNDLE_DIR URI RATE RUNS\n");
        return 2;
    }
    const char *bundle = argv[1], *uri = argv[2];
    double rate = atof(argv[3]);
    int runs = atoi(argv[4]);
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
    float voice = 0, tier = 0, mix = 1, bypass = 0, latency = -1;
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
    atomic_store(&armed, 1);
    for (int r = 0; r < runs; r++) {
        seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5;
        uint32_t n = 1 + seed % MAXF;
        for (uint32_t i = 0; i < n; i++, phase++)
            for (int c = 0; c < ch; c++) in[c][i] = 0.3f * sinf(0.02f * (float)phase + (float)c);
        if (r % 7 == 3) tier = (float)((r / 7) % 3);      /* includes an out-of-range tier */
        if (r % 11 == 5) mix = (float)(r % 4) / 3.0f;
        if (r % 13 == 7) bypass = bypass > 0.5f ? 0.0f : 1.0f;
        if (r % 17 == 9) { voice = voice > 0.5f ? 0.0f : 1.0f; voices_seen++; }
        d->run(h, n);
        if (latency > max_latency) max_latency = latency;
        for (int c = 0; c < ch; c++)
            for (uint32_t i = 0; i < n; i++) finite &= isfinite(out[c][i]);
    }
    atomic_store(&armed, 0);
    long run_allocs = atomic_exchange(&calls, 0);
    voice = 0;
    d->run(h, 64);
    printf("instantiate_allocs=%ld run_allocs=%ld latency=%.0f voices_seen=%d finite=%d\n",
           inst_allocs, run_allocs, latency, voices_seen, finite);
    if (d->deactivate) d->deactivate(h);
    d->cleanup(h);
    dlclose(lib);
    return run_allocs == 0 && finite && inst_allocs > 0 ? 0 : 1;
}
