/* test_voice_mix.c — at the ends of the mix range only one path is heard.
 *
 * Fully wet (mix 1) must not read the dry signal: a NaN/Inf in the input
 * must not reach the output through 0·NaN when the model itself maps it to
 * a finite value (here AFFINE(scale 0) then LOG(eps = 1): ln(max(0·x, 1))
 * = 0 for every x, NaN and ±Inf included). Fully dry (mix 0, or bypass) must not read the converted
 * signal: a model whose output is NaN (a LINEAR with NaN weights) must
 * leave the delayed dry input exact. Mix 0.5 still blends both. */
#include <string.h>

#include "voice_test_util.h"

#define HOP 64u

static vsk_bundle *zero_bundle(void)
{
    bb_builder bb;
    bb_init(&bb, "test.mix.log", "Log", "1.0.0");
    bb_tier(&bb, "low", 16000, HOP, HOP);
    uint32_t x = bb_value(&bb, HOP), z = bb_value(&bb, HOP), y = bb_value(&bb, HOP);
    float zeros[HOP] = {0}, eps = 1.0f;
    uint32_t c[2] = {bb_tensor1(&bb, HOP, zeros), bb_tensor1(&bb, HOP, zeros)};
    bb_node(&bb, 12 /* AFFINE */, &x, 1, &z, 1, c, 2, NULL, 0, NULL, 0);
    bb_node(&bb, 5 /* LOG */, &z, 1, &y, 1, NULL, 0, NULL, 0, &eps, 1);
    bb_io(&bb, x, y);
    return vt_open(&bb);
}

/* One LINEAR HOP -> HOP whose weights come from weight(). */
static vsk_bundle *linear_bundle(const char *id, float (*weight)(void))
{
    bb_builder bb;
    bb_init(&bb, id, "Linear", "1.0.0");
    bb_tier(&bb, "low", 16000, HOP, HOP);
    uint32_t x = bb_value(&bb, HOP);
    float *w = malloc((size_t)HOP * HOP * sizeof(float));
    for (size_t i = 0; i < (size_t)HOP * HOP; i++)
        w[i] = weight();
    uint32_t y = bb_linear(&bb, x, HOP, HOP, w, NULL);
    free(w);
    bb_io(&bb, x, y);
    return vt_open(&bb);
}

static float nan_weight(void) { return NAN; }
static float small_weight(void) { return (float)(vt_uniform() - 0.5) * 0.3f; }

static vsk_voice *voice_mix(vsk_bundle *b, float mix, int bypass)
{
    vsk_voice_config c;
    vsk_voice_config_init(&c);
    c.sample_rate = 48000;
    c.channels = 1;
    c.max_block_frames = 256;
    c.mix = mix;
    c.bypass = bypass;
    vsk_voice *v = NULL;
    CHECK_OK(vsk_voice_create(b, &c, &v));
    return v;
}

static size_t count_nonfinite(const float *y, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += !isfinite(y[i]);
    return k;
}

static void test_wet_ignores_bad_input(void)
{
    vsk_bundle *b = zero_bundle();
    const size_t n = 48000 / 4;
    float *x = malloc(n * 4), *y = malloc(n * 4);
    vt_multisine(x, n, 48000, 100.0, 4000.0, 8);
    x[1000] = NAN;
    x[5000] = -INFINITY;
    x[9001] = NAN;
    vsk_voice *v = voice_mix(b, 1.0f, 0);
    vt_process_random(v, x, y, n, 1, 300);
    size_t bad = count_nonfinite(y, n);
    CHECK(bad == 0, "mix 1: %zu non-finite output samples (dry path leaked)", bad);
    for (size_t i = 0; i < n; i++)
        if (y[i] != 0.0f) {
            CHECK(0, "mix 1: y[%zu] = %g, expected the model's 0", i, y[i]);
            break;
        }
    vsk_voice_destroy(v);
    /* half wet: the input is sanitised on the dry path too (NaN/Inf -> 0,
     * docs/abi.md "Hostile input"), so the blend stays finite */
    v = voice_mix(b, 0.5f, 0);
    vt_process_random(v, x, y, n, 1, 300);
    CHECK(count_nonfinite(y, n) == 0, "mix 0.5: a non-finite input leaked into the blend");
    vsk_voice_destroy(v);
    free(x);
    free(y);
    vsk_bundle_release(b);
    printf("mix 1 with NaN/-Inf input: output finite\n");
}

static void test_dry_ignores_bad_model(void)
{
    vsk_bundle *b = linear_bundle("test.mix.nan", nan_weight);
    const size_t n = 48000 / 4;
    float *x = malloc(n * 4), *y = malloc(n * 4);
    vt_multisine(x, n, 48000, 100.0, 4000.0, 8);
    for (int mode = 0; mode < 2; mode++) {
        vsk_voice *v = mode == 0 ? voice_mix(b, 0.0f, 0) : voice_mix(b, 1.0f, 1);
        uint32_t lat = 0;
        CHECK_OK(vsk_voice_get_latency(v, &lat));
        vt_process_random(v, x, y, n, 1, 300);
        size_t bad = count_nonfinite(y, n);
        CHECK(bad == 0, "%s: %zu non-finite samples (wet path leaked)",
              mode ? "bypass" : "mix 0", bad);
        for (size_t i = 0; i < n; i++) {
            float want = i >= lat ? x[i - lat] : 0.0f;
            if (y[i] != want) {
                CHECK(0, "%s: y[%zu] = %g, want dry %g", mode ? "bypass" : "mix 0", i,
                      y[i], want);
                break;
            }
        }
        vsk_voice_destroy(v);
    }
    free(x);
    free(y);
    vsk_bundle_release(b);
    printf("mix 0 / bypass with a NaN model: output = delayed dry, exact\n");
}

/* A mono voice outside tier switches and mix ramps takes a shortcut
 * (voice.c, steady_mono_out); a stereo voice never does. Fed the same
 * signal on both channels, the stereo voice's mono is the same samples, so
 * both channels of its output must equal the mono voice's bit for bit:
 * at mix 1, 0.5 and 0, through mix ramps, and with hostile input (NaN,
 * ±Inf, huge, subnormal, -0) on the dry and the wet path. */
static void test_mono_shortcut_matches_the_general_path(void)
{
    vsk_bundle *b = linear_bundle("test.mix.linear", small_weight);
    const size_t n = 48000 / 2;
    float *x = malloc(n * 4), *x2 = malloc(n * 8), *y = malloc(n * 4), *y2 = malloc(n * 8);
    vt_multisine(x, n, 48000, 100.0, 4000.0, 8);
    x[700] = NAN;
    x[3001] = INFINITY;
    x[3002] = -INFINITY;
    x[6000] = 1e30f;
    x[6001] = -1e30f;
    x[7000] = 1e-20f;
    x[7001] = -0.0f;
    x[9000] = 5.0f;  /* within the limit: passes, and drives the model hard */
    for (size_t i = 0; i < n; i++)
        x2[2 * i] = x2[2 * i + 1] = x[i];
    const float mixes[] = {1.0f, 0.5f, 0.0f};
    for (int m = 0; m < 3; m++) {
        vsk_voice *v1 = vt_voice_mix(b, 48000, 1, 256, 0, VSK_SCHEDULE_LOW_LATENCY, mixes[m], 0);
        vsk_voice *v2 = vt_voice_mix(b, 48000, 2, 256, 0, VSK_SCHEDULE_LOW_LATENCY, mixes[m], 0);
        size_t i = 0, k = 0;
        while (i < n) {
            uint32_t len = 1 + vt_rand() % 300;
            if (len > n - i)
                len = (uint32_t)(n - i);
            if (k++ % 17 == 5) {  /* a ramp to another mix and back later */
                const float to = (float)vt_uniform();
                CHECK_OK(vsk_voice_set_mix(v1, k % 2 ? to : mixes[m]));
                CHECK_OK(vsk_voice_set_mix(v2, k % 2 ? to : mixes[m]));
            }
            CHECK_OK(vsk_voice_process(v1, x + i, y + i, len));
            CHECK_OK(vsk_voice_process(v2, x2 + 2 * i, y2 + 2 * i, len));
            i += len;
        }
        size_t diff = 0, first = n;
        for (size_t j = 0; j < n; j++)
            if (memcmp(&y[j], &y2[2 * j], 4) || memcmp(&y[j], &y2[2 * j + 1], 4)) {
                diff++;
                if (first == n)
                    first = j;
            }
        CHECK(diff == 0, "mix %.1f: %zu samples differ from the stereo voice's (first %zu: %g vs %g)",
              mixes[m], diff, first, first < n ? y[first] : 0.0, first < n ? y2[2 * first] : 0.0);
        CHECK(count_nonfinite(y, n) == 0, "mix %.1f: non-finite output", mixes[m]);
        vsk_voice_destroy(v1);
        vsk_voice_destroy(v2);
    }
    free(x);
    free(x2);
    free(y);
    free(y2);
    vsk_bundle_release(b);
    printf("mono shortcut = the general path, bit for bit (mix 1 / 0.5 / 0, ramps, hostile input)\n");
}

int main(void)
{
    test_wet_ignores_bad_input();
    test_dry_ignores_bad_model();
    test_mono_shortcut_matches_the_general_path();
    return vt_finish("test_voice_mix");
}
