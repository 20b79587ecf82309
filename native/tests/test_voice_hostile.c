/* test_voice_hostile.c — hostile audio through the voice (docs/abi.md,
 * "Hostile input"), in C so that the sanitizer builds run it too:
 *
 *  - NaN, ±Inf, subnormals, ±1e30, DC, full-scale squares and silence, at
 *    8..192 kHz with 1, 2 and 8 channels, random mix, random blocks and
 *    tier switches: every output sample finite and |y| <= 8;
 *  - a burst of NaN/±Inf gives bit for bit the output of zeros there, on a
 *    tier whose GRU reads the samples directly (nothing absorbs the NaN);
 *  - a tier that overflows internally (x^4 * 1e36 in front of a GRU) on a
 *    hot burst recovers without vsk_voice_reset: finite throughout, and
 *    400 ms after the burst equal (to 1e-4 of the peak) to the run whose
 *    burst was silence.
 * The malloc/lock/I/O proof on these inputs is tests/test_hostile_audio.py
 * (an LD_PRELOAD interposer) and test_voice_alloc.c. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voice_test_util.h"

#define HOP 64u
#define H 16u

static float frand(void) { return (float)(vt_uniform() * 2.0 - 1.0); }

/* FRAME(hop) [-> AFFINE(1e9) -> x*x -> (x*x)^2] -> GRU(H) -> LINEAR(hop). */
static void gru_tier(bb_builder *bb, const char *name, int amplify)
{
    bb_tier(bb, name, 16000, HOP, HOP);
    uint32_t x = bb_value(bb, HOP);
    uint32_t f = bb_frame(bb, x, HOP);
    uint32_t in = f;
    if (amplify) {
        float sc[HOP], zs[HOP];
        for (uint32_t i = 0; i < HOP; i++) { sc[i] = 1e9f; zs[i] = 0.0f; }
        uint32_t c[2] = {bb_tensor1(bb, HOP, sc), bb_tensor1(bb, HOP, zs)};
        uint32_t s = bb_value(bb, HOP), s2 = bb_value(bb, HOP), s4 = bb_value(bb, HOP);
        bb_node(bb, 12 /* AFFINE */, &f, 1, &s, 1, c, 2, NULL, 0, NULL, 0);
        uint32_t ss[2] = {s, s};
        bb_node(bb, 11 /* MUL */, ss, 2, &s2, 1, NULL, 0, NULL, 0, NULL, 0);
        uint32_t s22[2] = {s2, s2};
        bb_node(bb, 11 /* MUL */, s22, 2, &s4, 1, NULL, 0, NULL, 0, NULL, 0);
        in = s4;
    }
    static float wih[3 * H * HOP], whh[3 * H * H], bz[3 * H], wo[HOP * H];
    for (size_t i = 0; i < 3 * H * HOP; i++)
        wih[i] = 0.3f * frand() * (amplify ? 1e-34f : 1.0f);
    for (size_t i = 0; i < 3 * H * H; i++) whh[i] = 0.3f * frand();
    for (size_t i = 0; i < HOP * H; i++) wo[i] = 0.2f * frand();
    memset(bz, 0, sizeof bz);
    uint32_t c[4] = {bb_tensor2(bb, 3 * H, HOP, wih), bb_tensor2(bb, 3 * H, H, whh),
                     bb_tensor1(bb, 3 * H, bz), bb_tensor1(bb, 3 * H, bz)};
    uint32_t h = bb_value(bb, H);
    bb_node(bb, 7 /* GRU */, &in, 1, &h, 1, c, 4, NULL, 0, NULL, 0);
    uint32_t y = bb_linear(bb, h, H, HOP, wo, NULL);
    bb_io(bb, x, y);
}

static vsk_bundle *hostile_bundle(void)
{
    bb_builder bb;
    bb_init(&bb, "test.hostile", "Hostile", "1.0.0");
    gru_tier(&bb, "gru", 0);
    gru_tier(&bb, "amp", 1);
    bb_gain_tier(&bb, "gain", 24000, 96, 256, 0.7f);
    return vt_open(&bb);
}

static uint32_t g_isa = VSK_ISA_LEVEL_BEST;
static uint32_t g_schedule = VSK_SCHEDULE_LOW_LATENCY;

static vsk_voice *make_voice(vsk_bundle *b, uint32_t rate, uint32_t ch,
                             uint32_t tier, float mix)
{
    vsk_voice_config c;
    vsk_voice_config_init(&c);
    c.sample_rate = rate;
    c.channels = ch;
    c.max_block_frames = 512;
    c.initial_tier = tier;
    c.mix = mix;
    c.max_isa = g_isa;
    c.schedule = g_schedule;
    vsk_voice *v = NULL;
    CHECK_OK(vsk_voice_create(b, &c, &v));
    return v;
}

/* kind k of n frames (mono) at `rate` */
static void hostile(float *x, size_t n, int k, uint32_t rate)
{
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        float s = (float)(0.3 * sin(6.283185307179586 * 180.0 * t) + 0.01 * frand());
        switch (k) {
        case 0: x[i] = NAN; break;
        case 1: x[i] = INFINITY; break;
        case 2: x[i] = -INFINITY; break;
        case 3: x[i] = (vt_rand() % 50 == 0) ? (vt_rand() & 1 ? NAN : -INFINITY) : s; break;
        case 4: x[i] = (vt_rand() & 1 ? 1.0f : -1.0f) * FLT_MIN * (float)vt_uniform(); break;
        case 5: x[i] = 1e-30f * frand(); break;
        case 6: x[i] = (i & 1) ? 1e30f : -1e30f; break;
        case 7: x[i] = sin(6.283185307179586 * 100.0 * t) >= 0 ? 1e30f : -1e30f; break;
        case 8: x[i] = 1.0f; break;
        case 9: x[i] = sin(6.283185307179586 * 50.0 * t) >= 0 ? 1.0f : -1.0f; break;
        case 10: x[i] = (i & 1) ? 1.0f : -1.0f; break;
        case 11: x[i] = 0.0f; break;
        default: x[i] = s; break;
        }
    }
}
#define KINDS 13

static void test_finite_and_bounded(vsk_bundle *b)
{
    static const uint32_t rates[] = {8000, 11025, 22050, 44100, 48000, 96000, 192000};
    static const uint32_t chans[] = {1, 2, 8};
    for (size_t ri = 0; ri < sizeof rates / sizeof *rates; ri++) {
        uint32_t rate = rates[ri];
        uint32_t ch = chans[ri % 3];
        size_t seg = rate / 10;
        float *mono = malloc(seg * sizeof(float));
        float *x = malloc(seg * ch * sizeof(float));
        float *y = malloc(seg * ch * sizeof(float));
        for (uint32_t tier = 0; tier < 3; tier++) {
            vsk_voice *v = make_voice(b, rate, ch, tier, 1.0f);
            size_t bad = 0;
            float peak = 0.0f;
            for (int rep = 0; rep < 2; rep++)
                for (int k = 0; k < KINDS; k++) {
                    hostile(mono, seg, (k * 7 + rep) % KINDS, rate);
                    for (size_t i = 0; i < seg; i++)
                        for (uint32_t c = 0; c < ch; c++)
                            x[i * ch + c] = mono[i];
                    if (vt_rand() % 3 == 0)
                        CHECK_OK(vsk_voice_set_mix(v, (float)vt_uniform()));
                    if (vt_rand() % 4 == 0)
                        CHECK_OK(vsk_voice_set_tier(v, vt_rand() % 3));
                    vt_process_random(v, x, y, seg, ch, 4096);
                    for (size_t i = 0; i < seg * ch; i++) {
                        if (!isfinite(y[i]))
                            bad++;
                        else if (fabsf(y[i]) > peak)
                            peak = fabsf(y[i]);
                    }
                }
            CHECK(bad == 0, "%u Hz, %u ch, tier %u: %zu non-finite", rate, ch, tier, bad);
            CHECK(peak <= 8.0f, "%u Hz, %u ch, tier %u: peak %g > 8", rate, ch, tier, peak);
            vsk_voice_destroy(v);
        }
        free(mono);
        free(x);
        free(y);
    }
    printf("13 hostile kinds, 3 tiers, 8..192 kHz, 1/2/8 ch: finite, |y| <= 8\n");
}

static void run_mono(vsk_bundle *b, uint32_t tier, const float *x, float *y, size_t n)
{
    vsk_voice *v = make_voice(b, 48000, 1, tier, 1.0f);
    uint32_t save = vt_rng;
    vt_process_random(v, x, y, n, 1, 4096);
    vt_rng = save;
    vsk_voice_destroy(v);
}

static void test_burst_is_silence(vsk_bundle *b)
{
    const size_t n = 48000;
    float *x = malloc(n * 4), *xz = malloc(n * 4), *y = malloc(n * 4), *yz = malloc(n * 4);
    vt_multisine(x, n, 48000, 100.0, 3000.0, 6);
    memcpy(xz, x, n * 4);
    for (size_t i = 20000; i < 22000; i++) {
        x[i] = (i % 3 == 0) ? NAN : (i % 3 == 1 ? INFINITY : -INFINITY);
        xz[i] = 0.0f;
    }
    run_mono(b, 0, x, y, n);
    run_mono(b, 0, xz, yz, n);
    size_t diff = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        diff += memcmp(&y[i], &yz[i], 4) != 0;
        bad += !isfinite(y[i]);
    }
    CHECK(bad == 0 && diff == 0, "NaN burst into a GRU: %zu non-finite, %zu differ from zeros",
          bad, diff);
    free(x); free(xz); free(y); free(yz);
    printf("NaN/Inf burst into a GRU == zeros, bit for bit\n");
}

static void test_overflow_recovers(vsk_bundle *b)
{
    const size_t n = 96000, a = 24000, e = 28800;
    float *x = malloc(n * 4), *xz = malloc(n * 4), *y = malloc(n * 4), *yz = malloc(n * 4);
    vt_multisine(x, n, 48000, 100.0, 3000.0, 6);
    memcpy(xz, x, n * 4);
    for (size_t i = a; i < e; i++) {
        x[i] = sin(6.283185307179586 * 100.0 * (double)i / 48000.0) >= 0 ? 1e30f : -1e30f;
        xz[i] = 0.0f;
    }
    run_mono(b, 1, x, y, n);
    run_mono(b, 1, xz, yz, n);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += !isfinite(y[i]);
    double err = 0.0, peak = 0.0;
    for (size_t i = e + 19200 + 1000; i < n; i++) {  /* 400 ms + latency margin */
        err = fmax(err, fabs((double)y[i] - yz[i]));
        peak = fmax(peak, fabs((double)yz[i]));
    }
    CHECK(bad == 0, "overflowing tier: %zu non-finite output samples", bad);
    CHECK(peak > 1e-2, "overflowing tier: reference silent (peak %g)", peak);
    CHECK(err <= 1e-4 * peak, "overflowing tier: %g from the silent-burst run (peak %g)", err,
          peak);
    free(x); free(xz); free(y); free(yz);
    printf("internal overflow: recovered without reset (err %.2g, peak %.2g)\n", err, peak);
}

int main(void)
{
    vsk_bundle *b = hostile_bundle();
    test_finite_and_bounded(b);
    /* every SIMD level: without the guards the plain-C and SSE2 GRUs keep a
     * NaN for ever; AVX2's activation clamps happen to absorb it */
    for (g_isa = VSK_ISA_LEVEL_SCALAR; g_isa <= VSK_ISA_LEVEL_AVX2; g_isa++) {
        printf("max_isa %u: ", g_isa);
        test_burst_is_silence(b);
        printf("max_isa %u: ", g_isa);
        test_overflow_recovers(b);
    }
    /* the even schedule: the same guards, steps run node by node */
    g_isa = VSK_ISA_LEVEL_BEST;
    g_schedule = VSK_SCHEDULE_EVEN;
    printf("even schedule: ");
    test_finite_and_bounded(b);
    printf("even schedule: ");
    test_burst_is_silence(b);
    printf("even schedule: ");
    test_overflow_recovers(b);
    vsk_bundle_release(b);
    return vt_finish("test_voice_hostile");
}
