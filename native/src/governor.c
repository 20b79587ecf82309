/* governor.c — the CPU governor of a voice ("dynamic quality") and the
 * shared CPU budget (voiceskin.h vsk_voice_set_cpu_budget,
 * vsk_cpu_budget_*; docs/abi.md "CPU governor").
 *
 * Per vsk_voice_process, while a budget is set: two clock reads (start,
 * end). Processing time and audio time accumulate over a window of
 * VSK_GOV_WINDOW_S of audio; at its end load = time / audio time (fraction
 * of one core) is the tier's measurement, and the cap on the tier moves:
 * down after VSK_GOV_DOWN_WINDOWS windows in a row over the budget, up
 * after VSK_GOV_UP_WINDOWS windows in a row in which the tier above is
 * expected (its own measurement, else ours scaled by the tiers' computed
 * cost) to need at most VSK_GOV_UP_MARGIN of the budget. A window during
 * which a tier switch ran is dropped (two tiers run then). Measurements are
 * forgotten when the effective budget changes or the voice is reset, so a
 * tier measured over the budget is not tried again before that: no
 * oscillation. All state is the voice's (planned at init) plus, for a
 * shared budget, a few atomics in the vsk_cpu_budget. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 199309L /* clock_gettime under a strict -std=c11 */
#endif
#include <math.h>
#include <string.h>

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <time.h>
#endif

#include "abi.h"
#include "governor.h"

/* --------------------------------------------------------------- clock */

/* The system's monotonic clock in ns: the only clock the library reads
 * (tests/test_abi_growth.py checks that nothing else calls one). */
static uint64_t vsk_monotonic_ns(void *user)
{
#if defined(_WIN32)
    const uint64_t hz = *(const uint64_t *)user;
    LARGE_INTEGER c;
    QueryPerformanceCounter(&c);
    const uint64_t t = (uint64_t)c.QuadPart;
    return t / hz * 1000000000ull + t % hz * 1000000000ull / hz;
#else
    (void)user;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
#endif
}

static float gov_bits_float(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static uint32_t gov_float_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

int vsk_gov_budget_ok(float f, float max)
{
    return f >= 0.0f && f <= max; /* false for NaN */
}

/* ------------------------------------------------------- shared budget */

vsk_status vsk_cpu_budget_create(float fraction, const vsk_allocator *allocator,
                                 vsk_cpu_budget **out_budget)
{
    vsk_allocator a = {0};
    if (!out_budget || !vsk_gov_budget_ok(fraction, VSK_GOV_MAX_SHARED))
        return VSK_ERR_INVALID_ARGUMENT;
    if (allocator)
        a = *allocator;
    if (vsk_allocator_check(&a) != VSK_OK)
        return VSK_ERR_INVALID_ARGUMENT;
    vsk_cpu_budget *b = vsk_mem_alloc(&a, sizeof *b, 64);
    if (!b)
        return VSK_ERR_NO_MEMORY;
    memset(b, 0, sizeof *b);
    b->allocator = a;
    atomic_init(&b->budget_bits, gov_float_bits(fraction));
    atomic_init(&b->members, 0u);
    atomic_init(&b->load_micro, 0);
    *out_budget = b;
    return VSK_OK;
}

void vsk_cpu_budget_destroy(vsk_cpu_budget *budget)
{
    if (!budget)
        return;
    const vsk_allocator a = budget->allocator;
    vsk_mem_free(&a, budget, sizeof *budget);
}

vsk_status vsk_cpu_budget_set(vsk_cpu_budget *budget, float fraction)
{
    if (!budget || !vsk_gov_budget_ok(fraction, VSK_GOV_MAX_SHARED))
        return VSK_ERR_INVALID_ARGUMENT;
    atomic_store_explicit(&budget->budget_bits, gov_float_bits(fraction),
                          memory_order_relaxed);
    return VSK_OK;
}

vsk_status vsk_cpu_budget_get(const vsk_cpu_budget *budget, float *out_fraction,
                              uint32_t *out_members, float *out_load)
{
    vsk_cpu_budget *b = (vsk_cpu_budget *)budget;
    if (!b)
        return VSK_ERR_INVALID_ARGUMENT;
    if (out_fraction)
        *out_fraction = gov_bits_float(
            atomic_load_explicit(&b->budget_bits, memory_order_relaxed));
    if (out_members)
        *out_members = atomic_load_explicit(&b->members, memory_order_relaxed);
    if (out_load) {
        long long m = atomic_load_explicit(&b->load_micro, memory_order_relaxed);
        *out_load = m > 0 ? (float)((double)m * 1e-6) : 0.0f;
    }
    return VSK_OK;
}

/* ------------------------------------------------------------ governor */

static void gov_publish(vsk_governor *g, float load)
{
    atomic_store_explicit(&g->st_cap, g->cap, memory_order_relaxed);
    atomic_store_explicit(&g->st_load_bits, gov_float_bits(load), memory_order_relaxed);
    atomic_store_explicit(&g->st_steps, g->steps, memory_order_relaxed);
}

static void gov_share_load(vsk_governor *g, long long contrib)
{
    if (g->shared && contrib != g->shared_contrib)
        atomic_fetch_add_explicit(&g->shared->load_micro,
                                  contrib - g->shared_contrib,
                                  memory_order_relaxed);
    g->shared_contrib = contrib;
}

/* Starts over: no measurements, an empty window. */
static void gov_forget(vsk_governor *g)
{
    memset(g->est, 0, sizeof g->est);
    g->acc_ns = g->acc_frames = 0;
    g->over = g->under = 0;
}

void vsk_gov_init(vsk_governor *g, const vsk_bundle *b, uint32_t host_rate,
                  vsk_clock_fn clock, void *clock_user, vsk_cpu_budget *shared,
                  float budget)
{
    memset(g, 0, sizeof *g);
    g->clock = clock ? clock : vsk_monotonic_ns;
    g->clock_user = clock ? clock_user : &g->qpc_hz;
#if defined(_WIN32)
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    g->qpc_hz = (uint64_t)f.QuadPart ? (uint64_t)f.QuadPart : 1;
#endif
    g->tier_count = b->tier_count;
    for (uint32_t k = 0; k < b->tier_count; k++)
        g->tier_cost[k] = (float)b->tiers[k].cost_per_second;
    g->window_frames = (uint32_t)lround(VSK_GOV_WINDOW_S * host_rate);
    g->cap = b->tier_count - 1;
    g->budget = 0.0f; /* the first begin sees the configured budget */
    g->shared = shared;
    if (shared)
        atomic_fetch_add_explicit(&shared->members, 1u, memory_order_relaxed);
    atomic_init(&g->budget_bits, gov_float_bits(budget));
    atomic_init(&g->st_cap, g->cap);
    atomic_init(&g->st_load_bits, 0u);
    atomic_init(&g->st_steps, 0u);
}

void vsk_gov_leave(vsk_governor *g)
{
    if (!g->shared)
        return;
    gov_share_load(g, 0);
    atomic_fetch_sub_explicit(&g->shared->members, 1u, memory_order_relaxed);
    g->shared = NULL;
}

/* The budget for this buffer: the voice's own, or its share of the shared
 * one, whichever is smaller and nonzero. */
static float gov_effective_budget(const vsk_governor *g)
{
    float b = gov_bits_float(atomic_load_explicit(&((vsk_governor *)g)->budget_bits,
                                              memory_order_relaxed));
    if (g->shared) {
        const float s = gov_bits_float(atomic_load_explicit(&g->shared->budget_bits,
                                                        memory_order_relaxed));
        const uint32_t m = atomic_load_explicit(&g->shared->members,
                                                memory_order_relaxed);
        if (s > 0.0f && m > 0) {
            const float share = s / (float)m;
            if (b == 0.0f || share < b)
                b = share;
        }
    }
    return b;
}

uint64_t vsk_gov_begin(vsk_governor *g)
{
    const float b = gov_effective_budget(g);
    if (b != g->budget) {
        g->budget = b;
        gov_forget(g);
        if (b == 0.0f) {
            g->cap = g->tier_count - 1;
            gov_share_load(g, 0);
            gov_publish(g, 0.0f);
        }
    }
    return b > 0.0f ? g->clock(g->clock_user) : 0;
}

/* One window's verdict for the tier heard (`cur`). */
static void gov_decide(vsk_governor *g, float load, uint32_t cur, uint32_t requested)
{
    g->est[cur] = load;
    if (load > g->budget) {
        g->under = 0;
        if (++g->over >= VSK_GOV_DOWN_WINDOWS && cur > 0) {
            g->cap = cur - 1;
            g->over = 0;
            g->steps++;
        }
        return;
    }
    g->over = 0;
    if (cur >= requested || cur + 1 >= g->tier_count) {
        g->under = 0;
        return;
    }
    float expect = g->est[cur + 1];
    if (expect <= 0.0f)
        expect = g->tier_cost[cur] > 0.0f
                     ? load * (g->tier_cost[cur + 1] / g->tier_cost[cur])
                     : load;
    if (expect > VSK_GOV_UP_MARGIN * g->budget) {
        g->under = 0;
        return;
    }
    if (++g->under >= VSK_GOV_UP_WINDOWS) {
        g->cap = cur + 1;
        g->under = 0;
        g->steps++;
    }
}

void vsk_gov_end(vsk_governor *g, uint64_t t0, uint32_t frames, uint32_t cur,
                 uint32_t requested, int switching)
{
    if (g->budget <= 0.0f)
        return;
    const uint64_t t1 = g->clock(g->clock_user);
    if (switching) {
        /* Two tiers ran: not this tier's cost. Start a fresh window. */
        g->acc_ns = g->acc_frames = 0;
        return;
    }
    g->acc_ns += t1 > t0 ? t1 - t0 : 0;
    g->acc_frames += frames;
    if (g->acc_frames < g->window_frames)
        return;
    /* load = time / audio time; audio time = frames / rate = frames * 0.1 s
     * / window_frames. */
    const double audio_ns = (double)g->acc_frames * (VSK_GOV_WINDOW_S * 1e9) /
                            (double)g->window_frames;
    const float load = (float)((double)g->acc_ns / audio_ns);
    g->acc_ns = g->acc_frames = 0;
    gov_decide(g, load, cur, requested);
    gov_share_load(g, llround((double)load * 1e6));
    gov_publish(g, load);
}

void vsk_gov_reset(vsk_governor *g)
{
    gov_forget(g);
    gov_share_load(g, 0);
    gov_publish(g, 0.0f);
}
