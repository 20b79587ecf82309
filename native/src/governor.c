/* governor.c — the CPU governor of a voice ("dynamic quality") and the
 * shared CPU budget (voiceskin.h vsk_voice_set_cpu_budget,
 * vsk_cpu_budget_*; docs/abi.md "CPU governor").
 *
 * Per vsk_voice_process, while a budget is set: two clock reads (start,
 * end). A call that took more than VSK_GOV_CALL_CAP times the tier's
 * running median cost for its frames (at least two graph steps' worth) was
 * preempted and counts at that cap. Processing time and audio time
 * accumulate over a window of
 * VSK_GOV_WINDOW_S of audio; at its end load = time / audio time (fraction
 * of one core) is the tier's measurement; the tier's level is the median
 * of its last three (one window slowed by another job does not count), and
 * the cap on the tier moves: down after VSK_GOV_DOWN_WINDOWS windows in a
 * row whose level is over the budget, up
 * after VSK_GOV_UP_WINDOWS windows in a row in which the tier above is
 * expected to need at most VSK_GOV_UP_MARGIN of the budget. A window during
 * which a tier switch ran is dropped (two tiers run then).
 *
 * The expectation is this tier's load times a cost ratio: the measured one
 * (two counted windows on neighbouring tiers within VSK_GOV_PAIR_S), else
 * the tiers' computed cost_per_second. Ratios, not absolute loads, are
 * kept, so a tier that failed under a transient load spike is tried again
 * once our own load shows the spike is over, while under a budget that is
 * simply too small the expectation stays over it: no oscillation. A ratio
 * measured when tier k failed can itself straddle a spike's start or end,
 * so it is trusted for retry[k] (VSK_GOV_RETRY_S, doubling per failure up
 * to VSK_GOV_RETRY_MAX_S); after that the cost model's is used, and a
 * failed retry measures anew. Measured ratios are kept within 2x of the
 * cost model's and averaged (geometrically) with the previous one. A tier
 * that failed by a near miss (level within VSK_GOV_NEAR_MISS of the
 * budget: it hovers there, no spike) needs the model's margin again to be
 * climbed back to, for retry[k]: noise near the budget cannot make a voice
 * flap faster than the back-off. Settings changes (a new
 * budget) and vsk_voice_reset forget everything.
 *
 * Shared budget: each member's budget is its need-based share, max-min
 * fair: the budget minus what the members that are not held below their
 * requested tier use, divided among the held ones (at least budget /
 * members). Relaxed atomics only. All state is the voice's (planned at
 * init) plus those atomics in the vsk_cpu_budget, which is freed by its
 * last reference (its creator's or a member's). */
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
    atomic_init(&b->refs, 1u);
    atomic_init(&b->limited, 0u);
    atomic_init(&b->load_micro, 0);
    atomic_init(&b->free_micro, 0);
    *out_budget = b;
    return VSK_OK;
}

/* Drops one reference; the last one frees (control thread). */
static void budget_unref(vsk_cpu_budget *b)
{
    if (atomic_fetch_sub_explicit(&b->refs, 1u, memory_order_acq_rel) != 1u)
        return;
    const vsk_allocator a = b->allocator;
    vsk_mem_free(&a, b, sizeof *b);
}

void vsk_cpu_budget_destroy(vsk_cpu_budget *budget)
{
    if (budget)
        budget_unref(budget);
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

/* Our part of the shared sums: `load` (fraction of one core, 0 = none) and
 * whether we are held below the requested tier. */
static void gov_share(vsk_governor *g, float load, int limited)
{
    const long long contrib = llround((double)load * 1e6);
    const long long free_part = limited ? 0 : contrib;
    const uint32_t lim = limited ? 1u : 0u;
    if (g->shared) {
        vsk_cpu_budget *s = g->shared;
        if (contrib != g->shared_contrib)
            atomic_fetch_add_explicit(&s->load_micro, contrib - g->shared_contrib,
                                      memory_order_relaxed);
        if (free_part != g->free_contrib)
            atomic_fetch_add_explicit(&s->free_micro, free_part - g->free_contrib,
                                      memory_order_relaxed);
        if (lim != g->limited_contrib) {
            if (lim)
                atomic_fetch_add_explicit(&s->limited, 1u, memory_order_relaxed);
            else
                atomic_fetch_sub_explicit(&s->limited, 1u, memory_order_relaxed);
        }
    }
    g->shared_contrib = contrib;
    g->free_contrib = free_part;
    g->limited_contrib = lim;
}

/* Starts over: no measurements, an empty window. */
static void gov_forget(vsk_governor *g)
{
    memset(g->ratio, 0, sizeof g->ratio);
    memset(g->ratio_at, 0, sizeof g->ratio_at);
    memset(g->retry, 0, sizeof g->retry);
    memset(g->near_until, 0, sizeof g->near_until);
    g->acc_ns = g->acc_frames = 0;
    g->over = g->under = 0;
    g->last_tier = VSK_NO_TIER;
    g->last_load = 0.0f;
    g->med_npf = 0.0;
    g->nhist = g->hist_pos = 0;
    g->hist_tier = VSK_NO_TIER;
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
    for (uint32_t k = 0; k < b->tier_count; k++)
        /* host frames per graph step, rounded up: the most a call of few
         * frames may cost is whole steps */
        g->step_frames[k] = (uint32_t)(((uint64_t)b->tiers[k].hop_samples * host_rate +
                                        b->tiers[k].model_sample_rate - 1) /
                                       b->tiers[k].model_sample_rate);
    g->cap = b->tier_count - 1;
    g->budget = 0.0f;
    g->last_tier = VSK_NO_TIER;
    g->shared = shared;
    if (shared) {
        atomic_fetch_add_explicit(&shared->refs, 1u, memory_order_relaxed);
        atomic_fetch_add_explicit(&shared->members, 1u, memory_order_relaxed);
    }
    atomic_init(&g->budget_bits, gov_float_bits(budget));
    atomic_init(&g->st_cap, g->cap);
    atomic_init(&g->st_load_bits, 0u);
    atomic_init(&g->st_steps, 0u);
    /* the first begin sees settings unlike these, and starts over */
    g->own_bits = g->shared_bits = 0xFFFFFFFFu;
}

void vsk_gov_leave(vsk_governor *g)
{
    if (!g->shared)
        return;
    gov_share(g, 0.0f, 0);
    atomic_fetch_sub_explicit(&g->shared->members, 1u, memory_order_relaxed);
    budget_unref(g->shared);
    g->shared = NULL;
}

/* Our share of a shared budget `s` (> 0): need-based, max-min fair. */
static float gov_share_of(const vsk_governor *g, float s)
{
    vsk_cpu_budget *sb = g->shared;
    const uint32_t m = atomic_load_explicit(&sb->members, memory_order_relaxed);
    const uint32_t lim = atomic_load_explicit(&sb->limited, memory_order_relaxed);
    const long long fr = atomic_load_explicit(&sb->free_micro, memory_order_relaxed);
    const double others_free = (double)(fr - g->free_contrib) * 1e-6;
    const uint32_t others_limited = lim >= g->limited_contrib ? lim - g->limited_contrib : 0;
    double share = ((double)s - (others_free > 0.0 ? others_free : 0.0)) /
                   (double)(1u + others_limited);
    const double equal = (double)s / (double)(m ? m : 1u);
    return (float)(share > equal ? share : equal);
}

uint64_t vsk_gov_begin(vsk_governor *g)
{
    const uint32_t own = atomic_load_explicit(&g->budget_bits, memory_order_relaxed);
    const uint32_t sh = g->shared ? atomic_load_explicit(&g->shared->budget_bits,
                                                         memory_order_relaxed)
                                  : 0u;
    if (own != g->own_bits || sh != g->shared_bits) {
        /* new settings: what was measured against the old ones is void */
        g->own_bits = own;
        g->shared_bits = sh;
        gov_forget(g);
    }
    float b = gov_bits_float(own);
    const float s = gov_bits_float(sh);
    if (s > 0.0f) {
        const float share = gov_share_of(g, s);
        if (b == 0.0f || share < b)
            b = share;
    }
    if (b == 0.0f && g->budget != 0.0f) {
        /* off: the cap lifts, our load leaves the shared sums */
        g->cap = g->tier_count - 1;
        gov_share(g, 0.0f, 0);
        gov_publish(g, 0.0f);
    }
    g->budget = b;
    return b > 0.0f ? g->clock(g->clock_user) : 0;
}

/* The load tier `to` (= from + 1) is expected to need, from `load` on tier
 * `from`, as a fraction of the budget it may use: VSK_GOV_UP_MARGIN from
 * the cost model, VSK_GOV_UP_MARGIN_MEASURED from a trusted measured ratio
 * (so a tier that held at 80-90 % of the budget is climbed back to after a
 * spike knocked the voice off it). */
static float gov_expect_share(const vsk_governor *g, float load, uint32_t from, uint32_t to)
{
    const float model = g->tier_cost[from] > 0.0f ? g->tier_cost[to] / g->tier_cost[from]
                                                  : 1.0f;
    if (g->ratio[to] > 0.0f && (g->retry[to] == 0 || g->now - g->ratio_at[to] < g->retry[to]))
        return load * g->ratio[to] /
               ((g->now < g->near_until[to] ? VSK_GOV_UP_MARGIN : VSK_GOV_UP_MARGIN_MEASURED) *
                g->budget);
    return load * model / (VSK_GOV_UP_MARGIN * g->budget);
}

/* Median of the tier's last three windows; the lower of the first two. */
static float gov_level(const vsk_governor *g)
{
    const float *h = g->hist;
    if (g->nhist == 1)
        return h[0];
    if (g->nhist == 2)
        return h[0] < h[1] ? h[0] : h[1];
    const float lo = h[0] < h[1] ? h[0] : h[1], hi = h[0] < h[1] ? h[1] : h[0];
    return h[2] < lo ? lo : h[2] > hi ? hi : h[2];
}

/* One counted window's verdict for the tier heard (`cur`). */
static void gov_decide(vsk_governor *g, float load, uint32_t cur, uint32_t requested)
{
    /* neighbouring tiers' windows close together: a measured cost ratio */
    if (g->last_tier != VSK_NO_TIER && g->last_load > 0.0f && load > 0.0f &&
        (g->last_tier + 1 == cur || cur + 1 == g->last_tier) &&
        (double)(g->now - g->last_at) <= VSK_GOV_PAIR_S * (double)g->window_frames /
                                             VSK_GOV_WINDOW_S) {
        const uint32_t hi = cur > g->last_tier ? cur : g->last_tier;
        const float model = g->tier_cost[hi - 1] > 0.0f
                                ? g->tier_cost[hi] / g->tier_cost[hi - 1] : 1.0f;
        float m = hi == cur ? load / g->last_load : g->last_load / load;
        /* one pair of 100-ms windows on a busy machine is noisy: kept
         * within 2x of the cost model, averaged (geometric) with the last */
        m = m < 0.5f * model ? 0.5f * model : m > 2.0f * model ? 2.0f * model : m;
        g->ratio[hi] = g->ratio[hi] > 0.0f ? sqrtf(g->ratio[hi] * m) : m;
        g->ratio_at[hi] = g->now;
    }
    /* the tier's level: the median of its last 3 windows (the lower of
     * the first two), so one window slowed by another job does not count */
    if (g->hist_tier != cur)
        g->nhist = g->hist_pos = 0;
    g->hist_tier = cur;
    g->hist[g->hist_pos] = load;  /* a ring: hist_pos is the oldest */
    g->hist_pos = (g->hist_pos + 1) % 3;
    if (g->nhist < 3)
        g->nhist++;
    const float level = gov_level(g);
    g->last_tier = cur;
    g->last_load = level;
    g->last_at = g->now;

    if (level > g->budget) {
        g->under = 0;
        if (++g->over >= VSK_GOV_DOWN_WINDOWS && cur > 0) {
            /* tier `cur` failed: its ratio (measured once we are below)
             * is trusted for retry[cur], longer after each failure */
            const uint64_t r0 = (uint64_t)(VSK_GOV_RETRY_S / VSK_GOV_WINDOW_S) *
                                g->window_frames;
            const uint64_t rmax = (uint64_t)(VSK_GOV_RETRY_MAX_S / VSK_GOV_WINDOW_S) *
                                  g->window_frames;
            g->retry[cur] = g->retry[cur] == 0 ? r0
                            : 2 * g->retry[cur] < rmax ? 2 * g->retry[cur] : rmax;
            /* a near miss (not a spike): the tier hovers at the budget, so
             * for as long climbing back to it needs the model's margin */
            if (level <= VSK_GOV_NEAR_MISS * g->budget)
                g->near_until[cur] = g->now + g->retry[cur];
            g->cap = cur - 1;
            g->over = 0;
            g->steps++;
        }
        return;
    }
    g->over = 0;
    if (cur >= requested || cur + 1 >= g->tier_count ||
        gov_expect_share(g, level, cur, cur + 1) > 1.0f) {
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
    g->now += frames;
    if (switching) {
        /* Two tiers ran: not this tier's cost. Start a fresh window. */
        g->acc_ns = g->acc_frames = 0;
        return;
    }
    uint64_t dt = t1 > t0 ? t1 - t0 : 0;
    /* The typical cost per frame of a call on this tier: a running median
     * (each call moves it 1/32 of itself up or down), so calls preempted by
     * another thread barely move it. A call over VSK_GOV_CALL_CAP times
     * that (for its frames, or two graph steps if more) was preempted: it
     * counts at the cap, not as our processing. */
    const double npf = (double)dt / (double)frames;
    if (cur != g->med_tier || g->med_npf <= 0.0) {
        g->med_tier = cur;
        g->med_npf = npf;
    } else {
        const uint32_t sf = g->step_frames[cur];
        const double cap = VSK_GOV_CALL_CAP * g->med_npf *
                           (double)(frames > 2 * sf ? frames : 2 * sf);
        g->med_npf += (npf > g->med_npf ? 1.0 : -1.0) * g->med_npf / 32.0;
        if ((double)dt > cap) {
            dt = (uint64_t)cap;
            g->clamped++;
        }
    }
    g->acc_ns += dt;
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
    gov_share(g, load, g->cap < requested);
    gov_publish(g, load);
}

void vsk_gov_reset(vsk_governor *g)
{
    gov_forget(g);
    gov_share(g, 0.0f, 0);
    gov_publish(g, 0.0f);
}
