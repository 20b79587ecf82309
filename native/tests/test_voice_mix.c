/* test_voice_mix.c — at the ends of the mix range only one path is heard.
 *
 * Fully wet (mix 1) must not read the dry signal: a NaN/Inf in the input
 * must not reach the output through 0·NaN when the model itself maps it to
 * a finite value (here AFFINE(scale 0) then LOG(eps = 1): ln(max(0·x, 1))
 * = 0 for every x, NaN and ±Inf included). Fully dry (mix 0, or bypass) must not read the converted
 * signal: a model whose output is NaN (a LINEAR with NaN weights) must
 * leave the delayed dry input exact. Mix 0.5 still blends both. */
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

static vsk_bundle *nan_bundle(void)
{
    bb_builder bb;
    bb_init(&bb, "test.mix.nan", "NaN", "1.0.0");
    bb_tier(&bb, "low", 16000, HOP, HOP);
    uint32_t x = bb_value(&bb, HOP);
    float *w = malloc((size_t)HOP * HOP * sizeof(float));
    for (size_t i = 0; i < (size_t)HOP * HOP; i++)
        w[i] = NAN;
    uint32_t y = bb_linear(&bb, x, HOP, HOP, w, NULL);
    free(w);
    bb_io(&bb, x, y);
    return vt_open(&bb);
}

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
    vsk_bundle *b = nan_bundle();
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

int main(void)
{
    test_wet_ignores_bad_input();
    test_dry_ignores_bad_model();
    return vt_finish("test_voice_mix");
}
