/* test_voice_switch.c — tier switches, mix/bypass transitions, reset and
 * the voice API's argument checks.
 *
 * Tiers here are FRAME+LINEAR graphs that output `gain` x input (gains 1,
 * 0.5, 0.25 at different model rates, hops and warm-ups), so a switch
 * changes the output level: a hard switch would jump by up to a quarter
 * of the amplitude, far above the sample-to-sample step of the sine. The
 * crossfaded switch must stay within a small factor of the steady-state
 * maximum step, and must complete (new level reached) in bounded time. */
#include "voice_test_util.h"

#define TWO_PI 6.283185307179586

static vsk_bundle *gain_bundle(void)
{
    bb_builder bb;
    bb_init(&bb, "test.switch", "Switch", "1.0.0");
    bb_gain_tier(&bb, "low", 16000, 64, 64, 1.0f);
    bb_gain_tier(&bb, "medium", 24000, 96, 384, 0.5f);
    bb_gain_tier(&bb, "high", 16000, 128, 1024, 0.25f);
    return vt_open(&bb);
}
static const float tier_gain[3] = {1.0f, 0.5f, 0.25f};

static float sine_at(size_t i, uint32_t rate)
{
    return (float)(0.5 * sin(TWO_PI * 220.0 * (double)i / rate));
}

/* Streams `n` frames of the sine starting at frame *pos into out. */
static void feed(vsk_voice *v, size_t *pos, size_t n, uint32_t rate, float *out)
{
    static float in[8192];
    size_t done = 0;
    while (done < n) {
        uint32_t k = 1 + vt_rand() % 512;
        if (k > n - done)
            k = (uint32_t)(n - done);
        for (uint32_t i = 0; i < k; i++)
            in[i] = sine_at(*pos + i, rate);
        CHECK_OK(vsk_voice_process(v, in, out + done, k));
        *pos += k;
        done += k;
    }
}

static double max_jump(const float *y, size_t n)
{
    double m = 0;
    for (size_t i = 1; i < n; i++) {
        double d = fabs((double)y[i] - y[i - 1]);
        if (d > m)
            m = d;
    }
    return m;
}

/* Level of y against gain * x delayed by lat: least-squares gain. */
static double level(const float *y, size_t n, size_t pos0, uint32_t lat,
                    uint32_t rate)
{
    double xy = 0, xx = 0;
    for (size_t i = 0; i < n; i++) {
        double x = sine_at(pos0 + i - lat, rate);
        xy += x * y[i];
        xx += x * x;
    }
    return xy / xx;
}

static void test_switch(vsk_bundle *b, uint32_t rate)
{
    vsk_voice *v = vt_voice(b, rate, 1, 1024, 0);
    uint32_t lat;
    CHECK_OK(vsk_voice_get_latency(v, &lat));
    size_t pos = 0;
    const size_t seg = rate / 5; /* 200 ms: more than warm-up + fade */
    float *y = malloc(seg * sizeof(float));
    feed(v, &pos, seg, rate, y); /* settle */
    feed(v, &pos, seg, rate, y);
    double steady = max_jump(y, seg);
    CHECK(fabs(level(y, seg, pos - seg, lat, rate) - 1.0) < 2e-4, "tier 0 level");
    double worst = 0;
    const uint32_t order[] = {1, 2, 0, 2, 1, 0};
    for (size_t s = 0; s < sizeof order / sizeof order[0]; s++) {
        uint32_t t = order[s], got;
        CHECK_OK(vsk_voice_set_tier(v, t));
        CHECK_OK(vsk_voice_get_tier(v, &got));
        CHECK(got == t, "get_tier %u != %u", got, t);
        feed(v, &pos, seg, rate, y);
        double jump = max_jump(y, seg);
        if (jump / steady > worst)
            worst = jump / steady;
        CHECK(jump <= 1.3 * steady,
              "%u Hz switch to tier %u: max step %.4f vs steady %.4f", rate, t,
              jump, steady);
        /* the last 40 ms are at the new tier's level */
        size_t tail = rate / 25;
        double lv = level(y + seg - tail, tail, pos - tail, lat, rate);
        CHECK(fabs(lv - tier_gain[t]) < 2e-4,
              "%u Hz switch to tier %u: level %.4f, want %.2f", rate, t, lv,
              tier_gain[t]);
    }
    printf("%u Hz: latency %u, steady max step %.4f, worst switch step %.3fx steady\n",
           rate, lat, steady, worst);

    /* a request cancelled before the next process does nothing */
    CHECK_OK(vsk_voice_set_tier(v, 2));
    CHECK_OK(vsk_voice_set_tier(v, 0));
    feed(v, &pos, seg, rate, y);
    CHECK(fabs(level(y, seg, pos - seg, lat, rate) - 1.0) < 2e-4, "cancelled request changed level");
    /* retarget while warming: 1 requested, a few ms later 2 */
    CHECK_OK(vsk_voice_set_tier(v, 1));
    feed(v, &pos, rate / 500, rate, y);
    CHECK_OK(vsk_voice_set_tier(v, 2));
    feed(v, &pos, seg, rate, y);
    CHECK(max_jump(y, seg) <= 1.3 * steady, "retarget jump");
    CHECK(fabs(level(y + seg - rate / 25, rate / 25, pos - rate / 25, lat, rate) - 0.25) < 2e-4,
          "retarget did not end at tier 2");
    free(y);
    vsk_voice_destroy(v);
}

static void test_bypass(vsk_bundle *b, uint32_t rate)
{
    vsk_voice *v = vt_voice(b, rate, 1, 1024, 2); /* gain 0.25 */
    uint32_t lat;
    CHECK_OK(vsk_voice_get_latency(v, &lat));
    size_t pos = 0, seg = rate / 10;
    float *y = malloc(seg * sizeof(float));
    feed(v, &pos, seg, rate, y);
    feed(v, &pos, seg, rate, y);
    double steady = max_jump(y, seg);
    CHECK_OK(vsk_voice_set_bypass(v, 1));
    feed(v, &pos, seg, rate, y);
    /* the wet->dry ramp takes 5 ms; gain goes 0.25 -> 1 smoothly */
    double j = max_jump(y, seg);
    CHECK(j <= 4.0 * steady * 1.3, "bypass on: step %.4f (steady at 0.25: %.4f)", j, steady);
    size_t bad = 0;
    for (size_t i = rate / 100; i < seg; i++)
        bad += y[i] != sine_at(pos - seg + i - lat, rate);
    CHECK(bad == 0, "bypassed output is not exactly the delayed dry (%zu)", bad);
    CHECK_OK(vsk_voice_set_bypass(v, 0));
    feed(v, &pos, seg, rate, y);
    j = max_jump(y, seg);
    CHECK(j <= 4.0 * steady * 1.3, "bypass off: step %.4f", j);
    CHECK(fabs(level(y + seg / 2, seg - seg / 2, pos - (seg - seg / 2), lat, rate) - 0.25) < 2e-4,
          "bypass off did not return to the converted voice");
    /* mix 0.5: half dry half wet -> gain 0.625 */
    CHECK_OK(vsk_voice_set_mix(v, 0.5f));
    feed(v, &pos, seg, rate, y);
    CHECK(fabs(level(y + seg / 2, seg - seg / 2, pos - (seg - seg / 2), lat, rate) - 0.625) < 2e-4,
          "mix 0.5 level %.4f at %u Hz", level(y + seg / 2, seg - seg / 2, pos - (seg - seg / 2), lat, rate), rate);
    free(y);
    vsk_voice_destroy(v);
}

static void test_reset(vsk_bundle *b, uint32_t rate)
{
    size_t n = rate / 5;
    float *x = malloc(n * 4), *ya = malloc(n * 4), *yb = malloc(n * 4);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(vt_uniform() - 0.5);
    vsk_voice *a = vt_voice(b, rate, 1, 512, 0);
    vsk_voice *fresh = vt_voice(b, rate, 1, 512, 1);
    vt_process_random(a, x, ya, n, 1, 1000);
    CHECK_OK(vsk_voice_set_tier(a, 1));
    CHECK_OK(vsk_voice_process(a, x, ya, 100)); /* switch under way */
    CHECK_OK(vsk_voice_reset(a));
    vt_process_random(a, x, ya, n, 1, 1000);
    vt_process_random(fresh, x, yb, n, 1, 1000);
    size_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff += ya[i] != yb[i];
    CHECK(diff == 0, "after reset the voice differs from a fresh one (%zu)", diff);
    vsk_voice_destroy(a);
    vsk_voice_destroy(fresh);
    free(x); free(ya); free(yb);
}

static void test_api(vsk_bundle *b)
{
    vsk_voice_config c;
    vsk_voice_config_init(&c);
    CHECK(c.struct_size == sizeof c && c.abi_version == VSK_ABI_VERSION &&
              c.sample_rate == 48000 && c.channels == 1 &&
              c.max_block_frames == 1024 && c.initial_tier == 0 &&
              c.mix == 1.0f && c.bypass == 0,
          "config defaults");
    size_t bytes = 0;
    CHECK(vsk_voice_get_size(NULL, &c, &bytes) == VSK_ERR_INVALID_ARGUMENT, "NULL bundle");
    CHECK(vsk_voice_get_size(b, NULL, &bytes) == VSK_ERR_INVALID_ARGUMENT, "NULL config");
    CHECK(vsk_voice_get_size(b, &c, NULL) == VSK_ERR_INVALID_ARGUMENT, "NULL out");
    vsk_voice_config d;
#define EXPECT_CFG(field, value, status)                                      \
    do {                                                                      \
        d = c;                                                                \
        d.field = value;                                                      \
        vsk_status s_ = vsk_voice_get_size(b, &d, &bytes);                    \
        CHECK(s_ == (status), #field " = " #value ": %s", vsk_status_name(s_)); \
    } while (0)
    EXPECT_CFG(struct_size, 28, VSK_ERR_ABI_MISMATCH);  /* < 0.3's 32 B */
    EXPECT_CFG(struct_size, sizeof c + 8, VSK_ERR_STRUCT_TOO_NEW);
    EXPECT_CFG(struct_size, 32, VSK_OK);                 /* 0.3's config */
    EXPECT_CFG(abi_version, VSK_ABI_VERSION + 1, VSK_ERR_ABI_MISMATCH);
    EXPECT_CFG(sample_rate, 7999, VSK_ERR_UNSUPPORTED_RATE);
    EXPECT_CFG(sample_rate, 192001, VSK_ERR_UNSUPPORTED_RATE);
    EXPECT_CFG(sample_rate, 8000, VSK_OK);
    EXPECT_CFG(sample_rate, 192000, VSK_OK);
    EXPECT_CFG(channels, 0, VSK_ERR_INVALID_ARGUMENT);
    EXPECT_CFG(channels, 9, VSK_ERR_INVALID_ARGUMENT);
    EXPECT_CFG(channels, 8, VSK_OK);
    EXPECT_CFG(max_block_frames, 0, VSK_ERR_INVALID_ARGUMENT);
    EXPECT_CFG(max_block_frames, 65537, VSK_ERR_INVALID_ARGUMENT);
    EXPECT_CFG(initial_tier, 3, VSK_ERR_NOT_FOUND);
    EXPECT_CFG(mix, 1.5f, VSK_ERR_INVALID_ARGUMENT);
    EXPECT_CFG(mix, -0.1f, VSK_ERR_INVALID_ARGUMENT);
    EXPECT_CFG(mix, NAN, VSK_ERR_INVALID_ARGUMENT);

    /* caller memory */
    CHECK_OK(vsk_voice_get_size(b, &c, &bytes));
    unsigned char *mem = aligned_alloc(64, (bytes + 64 + 63) / 64 * 64);
    vsk_voice *v = NULL;
    CHECK(vsk_voice_init(mem + 8, bytes, b, &c, &v) == VSK_ERR_INVALID_ARGUMENT,
          "misaligned memory accepted");
    CHECK(vsk_voice_init(mem, bytes - 1, b, &c, &v) == VSK_ERR_BUFFER_TOO_SMALL,
          "short memory accepted");
    CHECK(vsk_voice_init(NULL, bytes, b, &c, &v) == VSK_ERR_INVALID_ARGUMENT, "NULL memory");
    CHECK(v == NULL, "out written on failure");
    CHECK_OK(vsk_voice_init(mem, bytes, b, &c, &v));
    CHECK(v == (vsk_voice *)(void *)mem, "voice not at the start of caller memory");
    float buf[64 * 3] = {0};
    CHECK_OK(vsk_voice_process(v, buf, buf, 64));
    CHECK(vsk_voice_process(NULL, buf, buf, 64) == VSK_ERR_INVALID_ARGUMENT, "NULL voice");
    CHECK(vsk_voice_process(v, NULL, buf, 64) == VSK_ERR_INVALID_ARGUMENT, "NULL in");
    CHECK(vsk_voice_process(v, buf, NULL, 64) == VSK_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK(vsk_voice_set_tier(v, 3) == VSK_ERR_NOT_FOUND, "tier 3");
    CHECK(vsk_voice_set_tier(NULL, 0) == VSK_ERR_INVALID_ARGUMENT, "NULL voice tier");
    CHECK(vsk_voice_set_mix(v, 1.01f) == VSK_ERR_INVALID_ARGUMENT, "mix 1.01");
    CHECK(vsk_voice_set_mix(v, NAN) == VSK_ERR_INVALID_ARGUMENT, "mix NaN");
    CHECK_OK(vsk_voice_set_mix(v, 0.0f));
    CHECK_OK(vsk_voice_set_mix(v, 1.0f));
    CHECK(vsk_voice_set_bypass(NULL, 1) == VSK_ERR_INVALID_ARGUMENT, "NULL bypass");
    CHECK(vsk_voice_get_tier(v, NULL) == VSK_ERR_INVALID_ARGUMENT, "NULL out tier");
    CHECK(vsk_voice_get_latency(v, NULL) == VSK_ERR_INVALID_ARGUMENT, "NULL out latency");
    CHECK(vsk_voice_reset(NULL) == VSK_ERR_INVALID_ARGUMENT, "NULL reset");
    vsk_voice_destroy(v); /* must not free mem */
    vsk_voice_destroy(NULL);
    free(mem);

    /* an absurd declared lookahead (5 s) is refused, not planned */
    {
        bb_builder bb;
        bb_init(&bb, "test.huge", "Huge", "1.0.0");
        bb_tier(&bb, "x", 16000, 64, 64 + 5 * 16000);
        uint32_t x = bb_value(&bb, 64);
        bb_io(&bb, x, bb_frame(&bb, x, 64));
        vsk_bundle *h = vt_open(&bb);
        vsk_voice_config hc;
        vsk_voice_config_init(&hc);
        vsk_voice *hv = NULL;
        CHECK(vsk_voice_create(h, &hc, &hv) == VSK_ERR_TOO_LARGE && hv == NULL,
              "5 s lookahead accepted");
        vsk_bundle_release(h);
    }

    /* the voice holds its own bundle reference */
    vsk_bundle_retain(b);
    vsk_voice *w = vt_voice(b, 44100, 2, 256, 1);
    vsk_bundle_release(b);
    CHECK_OK(vsk_voice_process(w, buf, buf, 64));
    vsk_voice_destroy(w);
}

int main(void)
{
    vsk_bundle *b = gain_bundle();
    test_api(b);
    test_switch(b, 48000);
    test_switch(b, 44100);
    test_switch(b, 16000);
    test_bypass(b, 48000);
    test_bypass(b, 22050);
    test_reset(b, 48000);
    test_reset(b, 44100);
    vsk_bundle_release(b);
    return vt_finish("test_voice_switch");
}
