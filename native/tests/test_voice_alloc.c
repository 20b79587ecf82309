/* test_voice_alloc.c — the audio path allocates nothing.
 *
 * This executable defines malloc/calloc/realloc/free/aligned_alloc/
 * posix_memalign/memalign themselves; the shared library's calls resolve to
 * them (an executable's definitions come first in ELF symbol lookup) and
 * they forward to glibc's __libc_* entry points while counting calls. A
 * sanity check first proves the library's own allocations are seen (voice
 * create is counted), then thousands of vsk_voice_process calls with random
 * block sizes 1..4096 — with tier switches, mix and bypass changes and
 * resets and CPU budgets (the governor's clock reads) in between, on both
 * schedules (VSK_SCHEDULE_EVEN too, also as one of the switcher's voices) — must
 * make zero calls, and so must the voice switcher's audio and feeder calls. Outputs must stay finite.
 * Needs glibc (or, in an ASan or MSan build, the sanitizer's allocator hooks,
 * which count the same calls); elsewhere (and under TSan) the test skips
 * (exit 77, vsk_skip.h). */
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h> /* defines __GLIBC__ on glibc */

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define VT_SANITIZER 1
#endif
#if __has_feature(thread_sanitizer)
#define VT_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define VT_SANITIZER 1
#endif
#if defined(__SANITIZE_THREAD__)
#define VT_TSAN 1
#endif

/* TSan owns malloc too (an interposer here would mix allocators) and, in
 * GCC 12's runtime, calls no allocator hooks: no way to count there. */
#if (defined(__GLIBC__) || defined(VT_SANITIZER)) && !defined(VT_TSAN)
#define VT_INTERPOSE 1
#else
#define VT_INTERPOSE 0
#endif

#if defined(VT_SANITIZER)
/* Under ASan or MSan (VSK_SANITIZE) the sanitizer owns malloc, and redefining
 * it here would mix two allocators; its allocator hooks count instead: they
 * see every allocation and free, the library's included. */
/* from <sanitizer/allocator_interface.h>, which GCC does not install */
int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void *, size_t),
    void (*free_hook)(const volatile void *));

static atomic_int vt_armed;
static atomic_long vt_calls;

static void vt_count(void)
{
    if (atomic_load_explicit(&vt_armed, memory_order_relaxed))
        atomic_fetch_add_explicit(&vt_calls, 1, memory_order_relaxed);
}
static void vt_malloc_hook(const volatile void *p, size_t n)
{
    (void)p; (void)n;
    vt_count();
}
static void vt_free_hook(const volatile void *p)
{
    if (p)
        vt_count();
}
static void vt_arm(void)
{
    static atomic_int installed;
    if (!atomic_exchange(&installed, 1))
        __sanitizer_install_malloc_and_free_hooks(vt_malloc_hook, vt_free_hook);
    atomic_store(&vt_calls, 0);
    atomic_store(&vt_armed, 1);
}
static long vt_disarm(void)
{
    atomic_store(&vt_armed, 0);
    return atomic_load(&vt_calls);
}
#elif VT_INTERPOSE
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

/* Default visibility: the build compiles with -fvisibility=hidden, and a
 * hidden definition would not be exported for the library to bind to. */
#define VT_EXPORT __attribute__((visibility("default")))

static atomic_int vt_armed;
static atomic_long vt_calls;

static void vt_count(void)
{
    if (atomic_load_explicit(&vt_armed, memory_order_relaxed))
        atomic_fetch_add_explicit(&vt_calls, 1, memory_order_relaxed);
}
VT_EXPORT void *malloc(size_t n)
{
    vt_count();
    return __libc_malloc(n);
}
VT_EXPORT void *calloc(size_t a, size_t b)
{
    vt_count();
    return __libc_calloc(a, b);
}
VT_EXPORT void *realloc(void *p, size_t n)
{
    vt_count();
    return __libc_realloc(p, n);
}
VT_EXPORT void free(void *p)
{
    if (p)
        vt_count();
    __libc_free(p);
}
VT_EXPORT void *aligned_alloc(size_t a, size_t n)
{
    vt_count();
    return __libc_memalign(a, n);
}
VT_EXPORT void *memalign(size_t a, size_t n)
{
    vt_count();
    return __libc_memalign(a, n);
}
VT_EXPORT int posix_memalign(void **out, size_t a, size_t n)
{
    vt_count();
    void *p = __libc_memalign(a, n);
    if (!p)
        return 12; /* ENOMEM */
    *out = p;
    return 0;
}
static void vt_arm(void)
{
    atomic_store(&vt_calls, 0);
    atomic_store(&vt_armed, 1);
}
static long vt_disarm(void)
{
    atomic_store(&vt_armed, 0);
    return atomic_load(&vt_calls);
}
#endif

#include "voice_test_util.h"
#include "vsk_skip.h"

#define MAXF 4096
static float in_buf[MAXF * 8], out_buf[MAXF * 8];

/* A bundle with four tiers at different model rates and hops; one uses
 * the neural ops (LINEAR, ACT, GRU, ADD) so their kernels run too. */
static vsk_bundle *make_bundle(void)
{
    bb_builder bb;
    bb_init(&bb, "test.alloc", "Alloc", "1.0.0");
    bb_identity_tier(&bb, "low", 16000, 64);
    bb_gain_tier(&bb, "medium", 24000, 96, 384, 0.7f);
    bb_nn_tier(&bb, "high", 16000, 80, 320, 24, 16);
    bb_identity_tier(&bb, "ultra", 48000, 192);
    return vt_open(&bb);
}

static void run_rate(vsk_bundle *b, uint32_t rate, uint32_t ch, int calls,
                     uint32_t schedule)
{
#if VT_INTERPOSE
    vsk_voice_config c;
    vsk_voice_config_init(&c);
    c.sample_rate = rate;
    c.channels = ch;
    c.max_block_frames = 1024;
    c.schedule = schedule;
    vsk_voice *v = NULL;

    vt_arm();
    vsk_status st = vsk_voice_create(b, &c, &v);
    long created = vt_disarm();
    CHECK(st == VSK_OK, "create: %s", vsk_status_name(st));
    CHECK(created >= 1, "interposer did not see the library's allocation");

    double phase = 0;
    long bad = 0, frames_total = 0;
    vt_arm();
    for (int call = 0; call < calls; call++) {
        uint32_t n = 1 + vt_rand() % MAXF;
        for (uint32_t i = 0; i < n; i++) {
            phase += 0.031 + 0.01 * vt_uniform();
            float s = (float)(0.5 * sin(phase) + 0.1 * (vt_uniform() - 0.5));
            for (uint32_t k = 0; k < ch; k++)
                in_buf[i * ch + k] = s * (1.0f - 0.1f * (float)k);
        }
        uint32_t r = vt_rand() % 100;
        if (r < 6)
            vsk_voice_set_tier(v, vt_rand() % 4);
        else if (r < 10)
            vsk_voice_set_mix(v, (float)vt_uniform());
        else if (r < 13)
            vsk_voice_set_bypass(v, (int32_t)(vt_rand() & 1));
        else if (r == 13)
            vsk_voice_reset(v);
        else if (r < 17) /* the CPU governor on (clock reads) and off */
            vsk_voice_set_cpu_budget(v, (float)(vt_rand() % 4) * 2e-4f);
        uint32_t t;
        vsk_voice_get_tier(v, &t);
        int inplace = (vt_rand() & 3) == 0;
        if (inplace) {
            for (uint32_t i = 0; i < n * ch; i++)
                out_buf[i] = in_buf[i];
            st = vsk_voice_process(v, out_buf, out_buf, n);
        } else {
            st = vsk_voice_process(v, in_buf, out_buf, n);
        }
        if (st != VSK_OK)
            bad++;
        for (uint32_t i = 0; i < n * ch; i++)
            if (!isfinite(out_buf[i]) || fabsf(out_buf[i]) > 10.0f)
                bad++;
        frames_total += n;
    }
    long during = vt_disarm();
    CHECK(during == 0, "%u Hz: %ld allocation calls during %d process calls", rate,
          during, calls);
    CHECK(bad == 0, "%u Hz: %ld bad statuses or non-finite/huge samples", rate, bad);
    printf("%u Hz, %u ch, schedule %u: %d calls, %ld frames, %ld allocation calls\n",
           rate, ch, schedule, calls, frames_total, during);
    vsk_voice_destroy(v);
#else
    (void)b; (void)rate; (void)ch; (void)calls; (void)schedule;
#endif
}

/* The voice switcher's audio path and feeder calls (vsk_switcher_process,
 * publish, collect, set_*, get_state, reset) allocate nothing either: the
 * voices are created first, then lent, switched (warm-up + crossfade, in
 * place and not, blocks longer than max_block) and handed back while the
 * allocation counter is armed. */
static void run_switcher(vsk_bundle *b, uint32_t rate, uint32_t ch, int calls)
{
#if VT_INTERPOSE
    enum { NV = 3 };
    vsk_voice *v[NV];
    for (int i = 0; i < NV; i++) /* one voice on the even schedule */
        v[i] = vt_voice_sched(b, rate, ch, 1024, (uint32_t)i,
                              i == 1 ? VSK_SCHEDULE_EVEN : VSK_SCHEDULE_LOW_LATENCY);
    vsk_switcher_config c;
    vsk_switcher_config_init(&c);
    c.sample_rate = rate;
    c.max_channels = ch;
    c.max_block_frames = 512;
    c.warmup_ms = 10;
    c.align_latency_frames = rate; /* exercises the alignment delay lines */
    vsk_switcher *sw = NULL;
    vt_arm();
    vsk_status st = vsk_switcher_create(&c, &sw);
    long created = vt_disarm();
    CHECK(st == VSK_OK, "switcher create: %s", vsk_status_name(st));
    CHECK(created >= 1, "interposer did not see the switcher's allocation");

    long bad = 0, back = 0;
    vt_arm();
    for (int call = 0; call < calls; call++) {
        uint32_t n = 1 + vt_rand() % MAXF;
        for (uint32_t i = 0; i < n * ch; i++)
            in_buf[i] = (float)(0.5 * (vt_uniform() - 0.5));
        uint32_t r = vt_rand() % 100;
        if (r < 8)
            bad += vsk_switcher_publish(sw, r == 0 ? NULL : v[vt_rand() % NV], r) != VSK_OK;
        else if (r < 12)
            vsk_switcher_set_tier(sw, vt_rand() % 5);
        else if (r < 15)
            vsk_switcher_set_mix(sw, (float)vt_uniform());
        else if (r < 17)
            vsk_switcher_set_bypass(sw, vt_rand() & 1);
        else if (r == 17)
            vsk_switcher_reset(sw);
        else if (r < 20)
            vsk_switcher_set_cpu_budget(sw, (float)(vt_rand() % 4) * 2e-4f);
        vsk_voice *got;
        uint64_t tag;
        while (vsk_switcher_collect(sw, &got, &tag) == VSK_OK)
            back++;
        if ((vt_rand() & 3) == 0) {
            for (uint32_t i = 0; i < n * ch; i++)
                out_buf[i] = in_buf[i];
            st = vsk_switcher_process(sw, out_buf, out_buf, n, ch);
        } else {
            st = vsk_switcher_process(sw, in_buf, out_buf, n, ch);
        }
        vsk_switcher_state s = {.struct_size = sizeof s};
        bad += st != VSK_OK || vsk_switcher_get_state(sw, &s) != VSK_OK || s.errors != 0;
        for (uint32_t i = 0; i < n * ch; i++)
            if (!isfinite(out_buf[i]) || fabsf(out_buf[i]) > 10.0f)
                bad++;
    }
    long during = vt_disarm();
    CHECK(during == 0, "switcher %u Hz: %ld allocation calls during %d process calls", rate,
          during, calls);
    CHECK(bad == 0, "switcher %u Hz: %ld bad statuses or samples", rate, bad);
    CHECK(back > 10, "switcher %u Hz: voices barely switched (%ld handed back)", rate, back);
    printf("switcher %u Hz, %u ch: %d calls, %ld voices handed back, %ld allocation calls\n",
           rate, ch, calls, back, during);
    vsk_switcher_destroy(sw);
    for (int i = 0; i < NV; i++)
        vsk_voice_destroy(v[i]);
#else
    (void)b; (void)rate; (void)ch; (void)calls;
#endif
}

int main(void)
{
#if !VT_INTERPOSE
#if defined(VT_TSAN)
    return vsk_test_skip("test_voice_alloc", "cannot count allocations under ThreadSanitizer");
#else
    return vsk_test_skip("test_voice_alloc", "needs glibc");
#endif
#else
    vsk_bundle *b = make_bundle();
    run_rate(b, 48000, 2, 2000, VSK_SCHEDULE_LOW_LATENCY);
    run_rate(b, 44100, 1, 2000, VSK_SCHEDULE_LOW_LATENCY);
    run_rate(b, 16000, 8, 1000, VSK_SCHEDULE_LOW_LATENCY);
    run_rate(b, 96000, 1, 500, VSK_SCHEDULE_LOW_LATENCY);
    run_rate(b, 48000, 2, 1500, VSK_SCHEDULE_EVEN);
    run_rate(b, 44100, 1, 1500, VSK_SCHEDULE_EVEN);
    run_rate(b, 22050, 1, 500, VSK_SCHEDULE_EVEN);
    run_switcher(b, 48000, 2, 1500);
    run_switcher(b, 44100, 1, 1000);
    vsk_bundle_release(b);
    return vt_finish("test_voice_alloc");
#endif
}
