/* test_voice_latency.c — vsk_voice_get_latency is honest and constant.
 *
 * With identity graphs (a FRAME whose window equals the hop: output = input)
 * the converted output must equal the input delayed by exactly the reported
 * latency, to within the resampler's pass-band error, for every host rate
 * and every tier (tiers at different model rates and hops are padded to the
 * same latency). One frame more or less must be clearly worse. Also checks
 * block-size invariance (random blocks == one call, bit for bit), channel
 * handling, in-place processing, mix 0 (exact delayed dry) and mix 0.5. */
#include "voice_test_util.h"

static const uint32_t host_rates[] = {16000, 44100, 48000, 96000,
                                      8000,  22050, 192000};
#define N_RATES (sizeof host_rates / sizeof host_rates[0])

/* Honesty for one voice: returns the relative error at the latency. */
static double honesty(vsk_bundle *b, uint32_t rate, uint32_t tier,
                      uint32_t model_rate, uint32_t *out_latency)
{
    vsk_voice *v = vt_voice(b, rate, 1, 512, tier);
    uint32_t lat = 0;
    CHECK_OK(vsk_voice_get_latency(v, &lat));
    size_t n = rate / 2; /* 0.5 s */
    float *x = malloc(n * 4), *y = malloc(n * 4);
    double lo = rate < model_rate ? rate : model_rate;
    vt_multisine(x, n, rate, 40.0, 0.3 * lo, 24);
    vt_process_random(v, x, y, n, 1, 700);
    size_t i0 = lat + rate / 50; /* skip the start-up transient */
    double e0 = vt_delay_error(x, y, n, i0, (long)lat);
    double em = vt_delay_error(x, y, n, i0, (long)lat - 1);
    double ep = vt_delay_error(x, y, n, i0, (long)lat + 1);
    CHECK(e0 < 2e-3, "%u Hz tier %u: error %.2e at latency %u", rate, tier, e0, lat);
    CHECK(em > 20 * e0 && ep > 20 * e0,
          "%u Hz tier %u: latency %u not sharp (%.2e, -1: %.2e, +1: %.2e)",
          rate, tier, lat, e0, em, ep);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i])) {
            CHECK(0, "non-finite output");
            break;
        }
    free(x);
    free(y);
    vsk_voice_destroy(v);
    *out_latency = lat;
    return e0;
}

static void test_single_tier(void)
{
    bb_builder bb;
    bb_init(&bb, "test.identity", "Identity", "1.0.0");
    bb_identity_tier(&bb, "low", 16000, 64);
    vsk_bundle *b = vt_open(&bb);
    printf("16 kHz model, hop 64, identity graph:\n");
    printf("%8s %8s %9s %10s\n", "host", "latency", "ms", "rel.err");
    for (size_t r = 0; r < N_RATES; r++) {
        uint32_t lat;
        double e = honesty(b, host_rates[r], 0, 16000, &lat);
        double ms = 1000.0 * lat / host_rates[r];
        printf("%8u %8u %9.3f %10.2e\n", host_rates[r], lat, ms, e);
        CHECK(ms <= 10.0, "%u Hz: latency %.3f ms over the 10 ms budget",
              host_rates[r], ms);
    }
    vsk_bundle_release(b);
}

static void test_multi_tier(void)
{
    bb_builder bb;
    bb_init(&bb, "test.tiers", "Tiers", "1.0.0");
    bb_identity_tier(&bb, "low", 16000, 64);
    bb_identity_tier(&bb, "medium", 16000, 128);
    bb_identity_tier(&bb, "high", 24000, 96);
    bb_gain_tier(&bb, "ultra", 22050, 147, 512, 1.0f);
    bb_delay_tier(&bb, "lookahead", 16000, 64, 100, 1.0f);
    vsk_bundle *b = vt_open(&bb);
    const uint32_t model[5] = {16000, 16000, 24000, 22050, 16000};
    printf("5 tiers (16k/64, 16k/128, 24k/96, 22.05k/147, 16k/64 + 100 lookahead):\n");
    for (size_t r = 0; r < N_RATES; r++) {
        uint32_t lat0 = 0;
        printf("%8u Hz:", host_rates[r]);
        for (uint32_t t = 0; t < 5; t++) {
            uint32_t lat;
            double e = honesty(b, host_rates[r], t, model[t], &lat);
            printf(" tier %u %u (%.1e)", t, lat, e);
            if (t == 0)
                lat0 = lat;
            CHECK(lat == lat0, "latency differs between tiers");
        }
        printf("\n");
    }
    vsk_bundle_release(b);
}

static void test_invariance_and_channels(uint32_t rate)
{
    bb_builder bb;
    bb_init(&bb, "test.inv", "Inv", "1.0.0");
    bb_gain_tier(&bb, "low", 16000, 64, 256, 0.8f);
    bb_identity_tier(&bb, "high", 24000, 120);
    vsk_bundle *b = vt_open(&bb);
    const uint32_t ch = 3;
    size_t n = rate / 3;
    float *x = malloc(n * ch * 4), *ya = malloc(n * ch * 4),
          *yb = malloc(n * ch * 4);
    for (size_t i = 0; i < n * ch; i++)
        x[i] = (float)(vt_uniform() * 1.6 - 0.8);

    /* one call vs random blocks in place (max_block 256 -> pieces) */
    vsk_voice *va = vt_voice(b, rate, ch, 256, 0);
    vsk_voice *vb = vt_voice(b, rate, ch, 256, 0);
    CHECK_OK(vsk_voice_process(va, x, ya, (uint32_t)n));
    memcpy(yb, x, n * ch * 4);
    vt_process_random(vb, yb, yb, n, ch, 4096);
    size_t diff = 0;
    for (size_t i = 0; i < n * ch; i++)
        diff += ya[i] != yb[i];
    CHECK(diff == 0, "%u Hz: %zu samples differ between one call and random in-place blocks",
          rate, diff);
    /* every channel carries the same converted voice */
    size_t chdiff = 0;
    for (size_t i = 0; i < n; i++)
        for (uint32_t c = 1; c < ch; c++)
            chdiff += ya[i * ch + c] != ya[i * ch];
    CHECK(chdiff == 0, "channels differ at mix 1");
    /* 0 frames is a no-op and NULL is fine then */
    CHECK_OK(vsk_voice_process(va, NULL, NULL, 0));

    /* mix 0 -> exactly the delayed dry, per channel */
    uint32_t lat;
    CHECK_OK(vsk_voice_get_latency(va, &lat));
    vsk_voice_config c;
    vsk_voice_config_init(&c);
    c.sample_rate = rate;
    c.channels = ch;
    c.max_block_frames = 300;
    c.mix = 0.0f;
    vsk_voice *vd;
    CHECK_OK(vsk_voice_create(b, &c, &vd));
    vt_process_random(vd, x, yb, n, ch, 1000);
    diff = 0;
    for (size_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < ch; k++) {
            float want = i >= lat ? x[(i - lat) * ch + k] : 0.0f;
            diff += yb[i * ch + k] != want;
        }
    CHECK(diff == 0, "%u Hz: mix 0 is not the exactly delayed dry (%zu)", rate, diff);

    /* mix 0.5 -> half dry + half converted, once the ramp is over */
    c.mix = 0.5f;
    vsk_voice *vh;
    CHECK_OK(vsk_voice_create(b, &c, &vh));
    vt_process_random(vh, x, yb, n, ch, 1000);
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < ch; k++) {
            float dry = i >= lat ? x[(i - lat) * ch + k] : 0.0f;
            double want = 0.5 * dry + 0.5 * ya[i * ch + k];
            double e = fabs(yb[i * ch + k] - want);
            if (e > worst)
                worst = e;
        }
    CHECK(worst < 1e-5, "%u Hz: mix 0.5 error %.2e", rate, worst);
    vsk_voice_destroy(va);
    vsk_voice_destroy(vb);
    vsk_voice_destroy(vd);
    vsk_voice_destroy(vh);
    vsk_bundle_release(b);
    free(x); free(ya); free(yb);
}

/* Channels are averaged for the model: with an identity tier and a
 * band-limited multichannel input, every output channel is the delayed
 * mean of the input channels. */
static void test_channel_mean(uint32_t rate, uint32_t ch)
{
    bb_builder bb;
    bb_init(&bb, "test.mean", "Mean", "1.0.0");
    bb_identity_tier(&bb, "low", 16000, 64);
    vsk_bundle *b = vt_open(&bb);
    size_t n = rate / 4;
    float *mono = malloc(n * 4), *x = malloc(n * ch * 4), *y = malloc(n * ch * 4),
          *y0 = malloc(n * 4);
    for (uint32_t k = 0; k < ch; k++) {
        vt_multisine(mono, n, rate, 50, 4000, 8);
        for (size_t i = 0; i < n; i++)
            x[i * ch + k] = mono[i];
    }
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (uint32_t k = 0; k < ch; k++)
            s += x[i * ch + k];
        mono[i] = (float)(s / ch);
    }
    vsk_voice *v = vt_voice(b, rate, ch, 512, 0);
    uint32_t lat;
    CHECK_OK(vsk_voice_get_latency(v, &lat));
    vt_process_random(v, x, y, n, ch, 2000);
    for (uint32_t k = 0; k < ch; k++) {
        for (size_t i = 0; i < n; i++)
            y0[i] = y[i * ch + k];
        double e = vt_delay_error(mono, y0, n, lat + rate / 50, (long)lat);
        CHECK(e < 2e-3, "%u ch at %u Hz: channel %u error %.2e", ch, rate, k, e);
    }
    vsk_voice_destroy(v);
    vsk_bundle_release(b);
    free(mono); free(x); free(y); free(y0);
}

/* A sweep over odd rate/hop combinations (model faster than host, hop 1
 * with zero latency, hops that are not a divisor of anything, gcd-1 rate
 * pairs using the interpolated tables): still exactly honest. */
static void test_sweep(void)
{
    static const uint32_t hosts[] = {8000, 11025, 16000, 44100, 48000, 96000, 192000, 44101};
    static const uint32_t models[] = {8000, 16000, 22050, 32000, 48000, 44100};
    static const uint32_t hops[] = {1, 7, 64, 333, 1024};
    int cases = 0;
    for (size_t h = 0; h < sizeof hosts / sizeof hosts[0]; h++)
        for (size_t m = 0; m < sizeof models / sizeof models[0]; m++) {
            uint32_t hop = hops[(h * 7 + m * 3) % (sizeof hops / sizeof hops[0])];
            bb_builder bb;
            bb_init(&bb, "test.sweep", "Sweep", "1.0.0");
            bb_identity_tier(&bb, "only", models[m], hop);
            vsk_bundle *b = vt_open(&bb);
            vsk_voice *v = vt_voice(b, hosts[h], 1, 1 + vt_rand() % 3000, 0);
            uint32_t lat;
            CHECK_OK(vsk_voice_get_latency(v, &lat));
            size_t n = lat + hosts[h] / 8;
            float *x = malloc(n * 4), *y = malloc(n * 4);
            double lo = hosts[h] < models[m] ? hosts[h] : models[m];
            vt_multisine(x, n, hosts[h], 40.0, 0.3 * lo, 12);
            vt_process_random(v, x, y, n, 1, 5000);
            double e = vt_delay_error(x, y, n, lat + hosts[h] / 50, (long)lat);
            double ep = vt_delay_error(x, y, n, lat + hosts[h] / 50, (long)lat + 1);
            CHECK(e < 2e-3 && ep > 20 * e,
                  "sweep host %u model %u hop %u: latency %u error %.2e (+1: %.2e)",
                  hosts[h], models[m], hop, lat, e, ep);
            free(x);
            free(y);
            vsk_voice_destroy(v);
            vsk_bundle_release(b);
            cases++;
        }
    printf("sweep: %d host/model/hop combinations honest\n", cases);
}

int main(void)
{
    test_sweep();
    test_single_tier();
    test_multi_tier();
    test_invariance_and_channels(48000);
    test_invariance_and_channels(44100);
    test_invariance_and_channels(16000);
    test_channel_mean(48000, 8);
    test_channel_mean(44100, 2);
    return vt_finish("test_voice_latency");
}
