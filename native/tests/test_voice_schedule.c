/* test_voice_schedule.c — the even schedule (VSK_SCHEDULE_EVEN; docs/abi.md
 * "Even schedule"). White-box: links the library's objects to read the
 * pipes' resampler overflow counters and work counters.
 *
 *   - latency: the even voice's vsk_voice_get_latency is the default's plus
 *     the largest tier's ceil(hop * host / model) frames (one model hop);
 *   - identical output: on a bundle of three tiers (two of the neural ops
 *     at 16 and 24 kHz, one with model lookahead at 22.05 kHz and an odd
 *     hop), for host rates 8 to 96 kHz, buffers of 1, 37, 256, 1000 and
 *     4096 frames (4096 > max_block: processed in pieces) and of random
 *     sizes 1..3000, two channels,
 *     mix 0.7 and two tier switches (warm-up and crossfade) on the way, the
 *     even voice's output equals the default voice's delayed by the extra
 *     latency, bit for bit, and is exactly 0 before it; no resampler ever
 *     drops a sample;
 *   - even work: per buffer the even schedule runs the work of the model
 *     samples the buffer brought (85 or 86 at 48 kHz, 256 frames) to within
 *     one piece (a node, or a step's begin): checked on the pipes' work
 *     counters for several buffer sizes, where the default schedule's
 *     per-buffer work is 1 or 2 whole steps;
 *   - the same with max_block_frames 1 and 7 (buffers processed in tiny
 *     pieces);
 *   - reset and bypass keep working: after vsk_voice_reset the voice
 *     matches a fresh one; bypassed, the output is the input delayed by the
 *     (larger) latency exactly;
 *   - bad values: schedule 2 and a nonzero reserved2 are refused. */
#include <string.h>

#include "voice.h"
#include "voice_test_util.h"

#define TIERS 3

static vsk_bundle *make_bundle(void)
{
    bb_builder bb;
    srand(7);
    bb_init(&bb, "test.schedule", "Schedule", "1.0.0");
    bb_nn_tier(&bb, "low", 16000, 64, 256, 32, 24);
    bb_nn_tier(&bb, "mid", 24000, 96, 288, 24, 16);
    bb_delay_tier(&bb, "odd", 22050, 35, 20, 0.8f);
    return vt_open(&bb);
}

static uint32_t ceil_div(uint64_t a, uint64_t b)
{
    return (uint32_t)((a + b - 1) / b);
}

static uint32_t extra_frames(uint32_t host)
{
    const uint32_t hop[TIERS] = {64, 96, 35}, model[TIERS] = {16000, 24000, 22050};
    uint32_t e = 0;
    for (int k = 0; k < TIERS; k++)
        if (ceil_div((uint64_t)hop[k] * host, model[k]) > e)
            e = ceil_div((uint64_t)hop[k] * host, model[k]);
    return e;
}

static vsk_voice *make_voice(vsk_bundle *b, uint32_t rate, uint32_t ch,
                             uint32_t schedule, float mix, uint32_t bypass)
{
    return vt_voice_mix(b, rate, ch, 1024, 0, schedule, mix, bypass);
}

/* Runs n frames through v in buffers of `block`, asking for tier 1 at
 * frame n/3 and tier 2 at 2n/3 (at the first buffer starting there);
 * returns the last tier asked for. */
static uint32_t run(vsk_voice *v, const float *x, float *y, size_t n, uint32_t ch,
                uint32_t block)
{
    int asked = 0;
    uint32_t rng = 12345; /* block 0: random sizes 1..3000, the same each run */
    for (size_t i = 0, k; i < n; i += k) {
        if (block == 0) {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            k = 1 + rng % 3000;
        } else {
            k = block;
        }
        if (k > n - i)
            k = n - i;
        if (asked < 2 && i >= (size_t)(asked + 1) * n / 3)
            CHECK_OK(vsk_voice_set_tier(v, (uint32_t)++asked));
        CHECK_OK(vsk_voice_process(v, x + i * ch, y + i * ch, (uint32_t)k));
    }
    return (uint32_t)asked;
}

static uint32_t overflows(const vsk_voice *v)
{
    uint32_t o = 0;
    for (uint32_t k = 0; k < v->tier_count; k++)
        o += v->pipes[k].down.overflow + v->pipes[k].up.overflow;
    return o;
}

/* Runs the same input through a default voice (into y0) and an even one
 * (into y1); returns how many samples of y1 are not y0 delayed by the
 * latency difference (*out_d; zeros before it). *out_tier: the even
 * voice's last requested tier. */
static size_t run_both(vsk_voice *lo, vsk_voice *ev, const float *x, float *y0,
                       float *y1, size_t n, uint32_t ch, uint32_t block,
                       uint32_t *out_d, uint32_t *out_tier)
{
    uint32_t l0 = 0, l1 = 0;
    CHECK_OK(vsk_voice_get_latency(lo, &l0));
    CHECK_OK(vsk_voice_get_latency(ev, &l1));
    const uint32_t d = l1 - l0;
    run(lo, x, y0, n, ch, block);
    *out_tier = run(ev, x, y1, n, ch, block);
    size_t bad = 0;
    for (size_t i = 0; i < n * ch; i++) {
        const float want = i / ch < d ? 0.0f : y0[i - (size_t)d * ch];
        bad += memcmp(&y1[i], &want, sizeof want) != 0;
    }
    *out_d = d;
    return bad;
}

static void test_identical(vsk_bundle *b)
{
    static const uint32_t rates[] = {8000, 22050, 44100, 48000, 96000};
    static const uint32_t blocks[] = {1, 37, 256, 1000, 4096, 0 /* random */};
    const uint32_t ch = 2;
    printf("%7s %6s %8s %8s %6s %10s\n", "host", "block", "lat", "lat even", "extra",
           "mismatch");
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        const uint32_t rate = rates[r];
        const size_t n = (size_t)rate * 6 / 10; /* 0.6 s: both switches end */
        float *x = malloc(n * ch * sizeof(float));
        float *y0 = malloc(n * ch * sizeof(float));
        float *y1 = malloc(n * ch * sizeof(float));
        float *mono = malloc(n * sizeof(float));
        vt_multisine(mono, n, rate, 50.0, 0.4 * rate, 16);
        for (size_t i = 0; i < n; i++) {
            x[i * ch] = mono[i];
            x[i * ch + 1] = -0.5f * mono[i];
        }
        for (size_t bi = 0; bi < sizeof blocks / sizeof blocks[0]; bi++) {
            vsk_voice *lo = make_voice(b, rate, ch, VSK_SCHEDULE_LOW_LATENCY, 0.7f, 0);
            vsk_voice *ev = make_voice(b, rate, ch, VSK_SCHEDULE_EVEN, 0.7f, 0);
            uint32_t d = 0, tier = 0, l0 = 0;
            CHECK_OK(vsk_voice_get_latency(lo, &l0));
            const size_t bad = run_both(lo, ev, x, y0, y1, n, ch, blocks[bi], &d, &tier);
            CHECK(d == extra_frames(rate), "%u Hz: latency %u -> %u, want +%u", rate, l0,
                  l0 + d, extra_frames(rate));
            vsk_tier_state s = {.struct_size = sizeof s};
            CHECK_OK(vsk_voice_get_tier_state(ev, &s));
            CHECK(s.audible == tier && !s.switching && (tier == 2 || blocks[bi] > n / 3),
                  "%u Hz, block %u: tier %u (asked %u), switching %u", rate, blocks[bi],
                  s.audible, tier, s.switching);
            CHECK(bad == 0, "%u Hz, block %u: %zu of %zu samples differ", rate,
                  blocks[bi], bad, n * ch);
            CHECK(overflows(lo) == 0 && overflows(ev) == 0,
                  "%u Hz, block %u: resampler overflow", rate, blocks[bi]);
            printf("%7u %6u %8u %8u %6u %10zu\n", rate, blocks[bi], l0, l0 + d, d, bad);
            vsk_voice_destroy(lo);
            vsk_voice_destroy(ev);
        }
        free(x);
        free(y0);
        free(y1);
        free(mono);
    }
}

/* Largest piece of tier k's step: a node, or begin + end. */
static double max_piece(const vsk_voice *v, uint32_t k)
{
    const vsk_graph *g = v->pipes[k].graph;
    double m = 2.0 * g->hop + VSK_COST_STEP;
    for (uint32_t i = 0; i < g->node_count; i++)
        if ((double)g->nodes[i].cost > m)
            m = (double)g->nodes[i].cost;
    return m;
}

static void test_even_work(vsk_bundle *b)
{
    static const uint32_t rates[] = {44100, 48000};
    static const uint32_t blocks[] = {1, 37, 256, 1000};
    for (size_t r = 0; r < 2; r++) {
        const uint32_t rate = rates[r];
        const size_t n = rate; /* 1 s */
        float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
        vt_multisine(x, n, rate, 50.0, 0.4 * rate, 16);
        for (size_t bi = 0; bi < 4; bi++) {
            const uint32_t block = blocks[bi];
            vsk_voice *v = make_voice(b, rate, 1, VSK_SCHEDULE_EVEN, 1.0f, 0);
            const vsk_pipe *p = &v->pipes[0];
            const double step = (double)p->graph->cost_per_step;
            const double piece = max_piece(v, 0);
            const double per_sample = step / p->hop;
            /* model samples a buffer brings: floor or ceil of this */
            const double brought = (double)block * 16000.0 / rate;
            const double lo = (double)(uint32_t)brought * per_sample - piece;
            const double hi = ((double)(uint32_t)brought + 1.0) * per_sample + piece;
            double wmin = 1e300, wmax = 0, before = p->work;
            size_t out = 0, buffers = 0;
            for (size_t i = 0; i + block <= n; i += block) {
                CHECK_OK(vsk_voice_process(v, x + i, y + i, block));
                const double w = p->work - before;
                before = p->work;
                if (i < 2048) /* the first hop: nothing owed yet */
                    continue;
                buffers++;
                if (w < wmin)
                    wmin = w;
                if (w > wmax)
                    wmax = w;
                if (w < lo - 1e-6 || w > hi + 1e-6)
                    out++;
            }
            CHECK(out == 0, "%u Hz, block %u: %zu of %zu buffers ran work outside "
                  "[%.0f, %.0f]", rate, block, out, buffers, lo, hi);
            printf("%u Hz, block %u: work per buffer %.0f..%.0f (bound %.0f..%.0f; "
                   "a step %.0f, the largest piece %.0f)\n", rate, block, wmin, wmax,
                   lo, hi, step, piece);
            vsk_voice_destroy(v);
        }
        free(x);
        free(y);
    }
    /* the bound above is tight enough to fail: the default schedule's 256-
     * frame buffers run 1 or 2 whole steps, ~0.75x and ~1.5x the mean */
    vsk_voice *v = make_voice(b, 48000, 1, VSK_SCHEDULE_EVEN, 1.0f, 0);
    const double step = (double)v->pipes[0].graph->cost_per_step;
    const double mean = 256.0 / 3.0 / 64.0 * step;
    CHECK(2 * step > mean + max_piece(v, 0) + step / 64.0,
          "the nn tier's pieces are too coarse for the bound to mean anything");
    vsk_voice_destroy(v);
}

static void test_reset_bypass_small_pieces(vsk_bundle *b)
{
    const uint32_t rate = 44100;
    const size_t n = rate / 2;
    float *x = malloc(n * sizeof(float)), *y0 = malloc(n * sizeof(float));
    float *y1 = malloc(n * sizeof(float));
    vt_multisine(x, n, rate, 50.0, 8000.0, 12);
    /* reset: the used voice then matches a fresh one */
    vsk_voice *used = make_voice(b, rate, 1, VSK_SCHEDULE_EVEN, 1.0f, 0);
    vsk_voice *fresh = make_voice(b, rate, 1, VSK_SCHEDULE_EVEN, 1.0f, 0);
    for (size_t i = 0; i + 333 <= n; i += 333)
        CHECK_OK(vsk_voice_process(used, x + i, y0 + i, 333));
    CHECK_OK(vsk_voice_reset(used));
    vt_process_random(used, x, y0, n, 1, 600);
    vt_process_random(fresh, x, y1, n, 1, 600);
    CHECK(memcmp(y0, y1, n * sizeof(float)) == 0, "reset voice differs from a fresh one");
    vsk_voice_destroy(used);
    vsk_voice_destroy(fresh);
    /* bypass: the input delayed by the even latency, exactly */
    vsk_voice *v = make_voice(b, rate, 1, VSK_SCHEDULE_EVEN, 1.0f, 1);
    uint32_t lat = 0;
    CHECK_OK(vsk_voice_get_latency(v, &lat));
    vt_process_random(v, x, y0, n, 1, 600);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += y0[i] != (i < lat ? 0.0f : x[i - lat]);
    CHECK(bad == 0, "bypass: %zu samples are not the input delayed by %u", bad, lat);
    vsk_voice_destroy(v);
    /* max_block_frames 1 and 7: every buffer is processed in tiny pieces,
     * each scheduled on its own; still the default's output, later */
    for (uint32_t mb = 1; mb <= 7; mb += 6) {
        vsk_voice *lo = vt_voice_sched(b, rate, 1, mb, 0, VSK_SCHEDULE_LOW_LATENCY);
        vsk_voice *ev = vt_voice_sched(b, rate, 1, mb, 0, VSK_SCHEDULE_EVEN);
        uint32_t d = 0, tier = 0;
        const size_t diff = run_both(lo, ev, x, y0, y1, n, 1, 256, &d, &tier);
        CHECK(diff == 0 && overflows(ev) == 0, "max_block %u: %zu samples differ", mb, diff);
        vsk_voice_destroy(lo);
        vsk_voice_destroy(ev);
    }
    free(x);
    free(y0);
    free(y1);
}

static void test_bad_values(vsk_bundle *b)
{
    vsk_voice_config c;
    vsk_voice_config_init(&c);
    vsk_voice *v = NULL;
    size_t bytes = 0;
    c.schedule = 2;
    CHECK(vsk_voice_create(b, &c, &v) == VSK_ERR_INVALID_ARGUMENT, "schedule 2");
    CHECK(vsk_voice_get_size(b, &c, &bytes) == VSK_ERR_INVALID_ARGUMENT, "size, schedule 2");
    c.schedule = VSK_SCHEDULE_EVEN;
    c.reserved2 = 1;
    CHECK(vsk_voice_create(b, &c, &v) == VSK_ERR_INVALID_ARGUMENT, "reserved2");
    c.reserved2 = 0;
    CHECK_OK(vsk_voice_get_size(b, &c, &bytes));
    CHECK(bytes > 0, "size");
}

int main(void)
{
    vsk_bundle *b = make_bundle();
    test_identical(b);
    test_even_work(b);
    test_reset_bypass_small_pieces(b);
    test_bad_values(b);
    vsk_bundle_release(b);
    return vt_finish("test_voice_schedule");
}
