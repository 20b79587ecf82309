/* test_switcher.c — the voice switcher (vsk_switcher_*), one thread.
 *
 * - Before the first buffer a published voice is taken at once; its output
 *   equals the voice's own.
 * - A switch: the incoming voice warms up unheard for its latency plus
 *   warmup_ms, then an equal-power crossfade of VSK_SWITCH_FADE_MS (gains
 *   sin/cos of pi/2 (i + 0.5) / N) hands over; the output is checked sample
 *   for sample against two reference voices run side by side, in random
 *   block sizes and in place.
 * - Hand-back: every lent voice comes back from collect exactly once, only
 *   when unused; a publish not yet taken is replaced (and handed back); the
 *   heard voice published again cancels a warm-up; a voice with another
 *   channel count is taken at once; a buffer that fits no voice passes
 *   through; "no voice" fades back to the input.
 * - Parameters (tier, mix, bypass) reach every voice, clamped per voice.
 * - align_latency_frames: voices of different latency are heard at one.
 * - Config and argument checks. */
#include <string.h>

#include "voice_test_util.h"

#define RATE 48000u
#define MAXB 512u

static vsk_bundle *gain_bundle(const char *id, float g0, float g1, uint32_t hop)
{
    bb_builder bb;
    bb_init(&bb, id, id, "1.0.0");
    bb_gain_tier(&bb, "low", 16000, hop, hop, g0);
    bb_gain_tier(&bb, "high", 16000, hop, hop, g1);
    return vt_open(&bb);
}

static vsk_switcher *make_switcher(uint32_t ch, uint32_t warm_ms, uint32_t align)
{
    vsk_switcher_config c;
    vsk_switcher_config_init(&c);
    c.sample_rate = RATE;
    c.max_channels = ch;
    c.max_block_frames = MAXB;
    c.warmup_ms = warm_ms;
    c.align_latency_frames = align;
    vsk_switcher *s = NULL;
    CHECK_OK(vsk_switcher_create(&c, &s));
    return s;
}

static void signal(float *x, size_t frames, uint32_t ch, size_t t0)
{
    for (size_t i = 0; i < frames; i++)
        for (uint32_t c = 0; c < ch; c++)
            x[i * ch + c] = (float)(0.4 * sin(6.283185307179586 * (180.0 + 40 * c) *
                                              (double)(t0 + i) / RATE));
}

/* Collects everything; returns how many voices came back (destroyed). */
static int collect_all(vsk_switcher *s, vsk_voice **seen, int nseen)
{
    vsk_voice *v;
    uint64_t tag;
    int n = 0;
    while (vsk_switcher_collect(s, &v, &tag) == VSK_OK) {
        for (int k = 0; k < nseen; k++)
            if (seen[k] == v) {
                seen[k] = NULL;
                n++;
            }
    }
    return n;
}

static void test_switch_samples(void)
{
    vsk_bundle *ba = gain_bundle("t.a", 1.0f, 0.5f, 64);
    vsk_bundle *bb = gain_bundle("t.b", -0.75f, 0.25f, 96);
    const uint32_t ch = 2, warm_ms = 15;
    vsk_switcher *s = make_switcher(ch, warm_ms, 0);
    vsk_voice *a = vt_voice(ba, RATE, ch, MAXB, 0), *b = vt_voice(bb, RATE, ch, MAXB, 0);
    vsk_voice *ra = vt_voice(ba, RATE, ch, MAXB, 0), *rb = vt_voice(bb, RATE, ch, MAXB, 0);
    uint32_t lat_b;
    CHECK_OK(vsk_voice_get_latency(b, &lat_b));
    CHECK_OK(vsk_switcher_publish(s, a, 11));

    const size_t total = RATE / 2, at = RATE / 10;
    float *x = malloc(sizeof(float) * total * ch), *y = malloc(sizeof(float) * total * ch);
    float *ya = malloc(sizeof(float) * total * ch), *yb = malloc(sizeof(float) * total * ch);
    signal(x, total, ch, 0);
    memcpy(y, x, sizeof(float) * total * ch);
    size_t pos = 0, switch_at = 0;
    int switching_seen = 0;
    while (pos < total) {
        uint32_t n = 1 + vt_rand() % 1500; /* also longer than max_block */
        if (n > total - pos)
            n = (uint32_t)(total - pos);
        if (pos >= at && !switch_at) {
            CHECK_OK(vsk_switcher_publish(s, b, 22));
            switch_at = pos;
        }
        CHECK_OK(vsk_switcher_process(s, y + pos * ch, y + pos * ch, n, ch)); /* in place */
        vsk_switcher_state st = {.struct_size = sizeof st};
        CHECK_OK(vsk_switcher_get_state(s, &st));
        if (switch_at) {
            CHECK(st.tag == 22, "newest tag %llu", (unsigned long long)st.tag);
            switching_seen |= st.switching != 0;
        } else {
            CHECK(st.tag == 11 && st.heard_tag == 11 && !st.switching, "tag before the switch");
        }
        pos += n;
    }
    /* the reference: both voices over the whole signal, b reset at the switch */
    CHECK_OK(vsk_voice_process(ra, x, ya, (uint32_t)total));
    CHECK_OK(vsk_voice_process(rb, x + switch_at * ch, yb + switch_at * ch,
                               (uint32_t)(total - switch_at)));
    const uint32_t fade = (uint32_t)lround(VSK_SWITCH_FADE_MS * 1e-3 * RATE);
    const size_t f0 = switch_at + lat_b + (size_t)lround(warm_ms * 1e-3 * RATE);
    CHECK(f0 + fade < total, "schedule too short");
    long bad = 0;
    double maxg = 0;
    for (size_t i = 0; i < total; i++) {
        for (uint32_t c = 0; c < ch; c++) {
            const size_t k = i * ch + c;
            float want;
            if (i < f0) {
                want = ya[k];
            } else if (i < f0 + fade) {
                const uint32_t j = (uint32_t)(i - f0);
                const float gi = (float)sin(0.5 * 3.14159265358979323846 * (j + 0.5) / fade);
                const float go = (float)sin(0.5 * 3.14159265358979323846 * (fade - 1 - j + 0.5) / fade);
                want = ya[k] * go + yb[k] * gi;
                double p = (double)gi * gi + (double)go * go;
                if (fabs(p - 1.0) > maxg)
                    maxg = fabs(p - 1.0);
            } else {
                want = yb[k];
            }
            if (y[k] != want)
                bad++;
        }
    }
    CHECK(bad == 0, "%ld samples differ from warm-up + equal-power crossfade", bad);
    CHECK(maxg < 1e-6, "gains are not equal power (%g)", maxg);
    CHECK(switching_seen, "state never showed the switch");
    vsk_switcher_state st = {.struct_size = sizeof st};
    CHECK_OK(vsk_switcher_get_state(s, &st));
    CHECK(!st.switching && st.heard_tag == 22 && st.latency_frames == lat_b && st.channels == ch,
          "state after the switch");
    /* a is handed back exactly once, b stays lent */
    vsk_voice *v;
    uint64_t tag = 0;
    CHECK_OK(vsk_switcher_collect(s, &v, &tag));
    CHECK(v == a && tag == 11, "collect returns the old voice");
    CHECK(vsk_switcher_collect(s, &v, &tag) == VSK_ERR_NOT_FOUND, "only once");
    CHECK_OK(vsk_switcher_retire_all(s));
    CHECK_OK(vsk_switcher_collect(s, &v, &tag));
    CHECK(v == b && tag == 22, "retire_all hands back the heard voice");
    CHECK(vsk_switcher_collect(s, &v, &tag) == VSK_ERR_NOT_FOUND, "nothing else");
    vsk_switcher_destroy(s);
    vsk_voice_destroy(a); vsk_voice_destroy(b); vsk_voice_destroy(ra); vsk_voice_destroy(rb);
    vsk_bundle_release(ba); vsk_bundle_release(bb);
    free(x); free(y); free(ya); free(yb);
}

static void run_blocks(vsk_switcher *s, uint32_t ch, uint32_t blocks, float *buf)
{
    for (uint32_t k = 0; k < blocks; k++) {
        signal(buf, 480, ch, k * 480);
        CHECK_OK(vsk_switcher_process(s, buf, buf, 480, ch));
    }
}

static void test_hand_back_rules(void)
{
    vsk_bundle *ba = gain_bundle("t.a", 1.0f, 0.5f, 64);
    static float buf[480 * 8], ref[480 * 8];
    vsk_switcher *s = make_switcher(8, 5, 0);
    vsk_voice *v[6];
    for (int i = 0; i < 6; i++)
        v[i] = vt_voice(ba, RATE, i == 5 ? 6 : 2, MAXB, 0);
    vsk_voice *lent[6];
    memcpy(lent, v, sizeof lent);
    vsk_switcher_state st = {.struct_size = sizeof st};

    /* no voice yet: pass-through */
    signal(ref, 480, 2, 0);
    memcpy(buf, ref, sizeof(float) * 960);
    CHECK_OK(vsk_switcher_process(s, buf, buf, 480, 2));
    CHECK(memcmp(buf, ref, sizeof(float) * 960) == 0, "no voice passes through");

    /* a publish not yet taken is replaced and handed back */
    CHECK_OK(vsk_switcher_publish(s, v[0], 1));
    CHECK_OK(vsk_switcher_publish(s, v[1], 2));
    CHECK(collect_all(s, lent, 6) == 1 && lent[0] == NULL, "replaced publish handed back");
    run_blocks(s, 2, 1, buf);
    CHECK_OK(vsk_switcher_get_state(s, &st));
    CHECK(st.tag == 2 && st.switching, "v1 fades in from no voice (state tag %llu)",
          (unsigned long long)st.tag);
    run_blocks(s, 2, 20, buf);
    CHECK_OK(vsk_switcher_get_state(s, &st));
    CHECK(!st.switching && st.heard_tag == 2, "v1 heard");

    /* cancel: the heard voice published during a warm-up */
    CHECK_OK(vsk_switcher_publish(s, v[2], 3));
    run_blocks(s, 2, 1, buf);
    CHECK_OK(vsk_switcher_get_state(s, &st));
    CHECK(st.switching && st.tag == 3 && st.heard_tag == 2, "v2 warming");
    CHECK_OK(vsk_switcher_publish(s, v[1], 4));
    run_blocks(s, 2, 1, buf);
    CHECK_OK(vsk_switcher_get_state(s, &st));
    CHECK(!st.switching && st.heard_tag == 4, "cancelled");
    CHECK(collect_all(s, lent, 6) == 1 && lent[2] == NULL, "the cancelled voice handed back");
    CHECK(lent[1] != NULL, "the heard voice is not handed back");

    /* another channel count: taken at once; a buffer fitting no voice passes */
    signal(ref, 480, 6, 0);
    memcpy(buf, ref, sizeof(float) * 480 * 6);
    CHECK_OK(vsk_switcher_process(s, buf, buf, 480, 6));
    CHECK(memcmp(buf, ref, sizeof(float) * 480 * 6) == 0, "6-channel buffer passes a stereo voice");
    CHECK_OK(vsk_switcher_publish(s, v[5], 6));
    CHECK_OK(vsk_switcher_process(s, buf, buf, 480, 6));
    CHECK_OK(vsk_switcher_get_state(s, &st));
    CHECK(!st.switching && st.heard_tag == 6 && st.channels == 6, "taken at once");
    CHECK(memcmp(buf, ref, sizeof(float) * 480 * 6) != 0, "converted");
    CHECK(collect_all(s, lent, 6) == 1 && lent[1] == NULL, "old stereo voice handed back");

    /* parameters: tier clamped per voice, mix, bypass */
    CHECK_OK(vsk_switcher_set_tier(s, 7));
    CHECK_OK(vsk_switcher_set_mix(s, 0.25f));
    CHECK(vsk_switcher_set_mix(s, 1.5f) == VSK_ERR_INVALID_ARGUMENT, "mix range");
    CHECK_OK(vsk_switcher_set_bypass(s, 1));
    run_blocks(s, 6, 1, buf);
    uint32_t t = 0;
    CHECK_OK(vsk_voice_get_tier(v[5], &t));
    CHECK(t == 1, "tier clamped to the voice's last (%u)", t);

    /* "no voice": fades back to the input, undelayed */
    CHECK_OK(vsk_switcher_set_bypass(s, 0));
    CHECK_OK(vsk_switcher_publish(s, NULL, 0));
    run_blocks(s, 6, 10, buf);
    signal(ref, 480, 6, 99 * 480);
    memcpy(buf, ref, sizeof(float) * 480 * 6);
    CHECK_OK(vsk_switcher_process(s, buf, buf, 480, 6));
    CHECK(memcmp(buf, ref, sizeof(float) * 480 * 6) == 0, "no voice after the fade: input");
    CHECK(collect_all(s, lent, 6) == 1 && lent[5] == NULL, "6-channel voice handed back");

    /* the same voice lent twice comes back once */
    CHECK_OK(vsk_switcher_publish(s, v[3], 7));
    run_blocks(s, 6, 1, buf);           /* stereo voice, 6-ch buffers: passes */
    CHECK_OK(vsk_switcher_publish(s, v[3], 8));
    CHECK_OK(vsk_switcher_retire_all(s));
    CHECK(collect_all(s, lent, 6) == 1 && lent[3] == NULL, "v3 once");
    vsk_voice *x;
    CHECK(vsk_switcher_collect(s, &x, NULL) == VSK_ERR_NOT_FOUND, "nothing more");
    CHECK(lent[4] != NULL, "v4 never lent");

    /* argument checks */
    vsk_voice *wide = vt_voice(ba, RATE, 8, MAXB, 0);
    vsk_switcher *s2 = make_switcher(2, 5, 0);
    CHECK(vsk_switcher_publish(s2, wide, 1) == VSK_ERR_INVALID_ARGUMENT, "too many channels");
    CHECK(vsk_switcher_process(s2, NULL, buf, 10, 2) == VSK_ERR_INVALID_ARGUMENT, "NULL in");
    vsk_switcher_destroy(s2);
    vsk_voice_destroy(wide);
    vsk_switcher_config c;
    vsk_switcher_config_init(&c);
    vsk_switcher *bad = NULL;
    c.max_channels = 9;
    CHECK(vsk_switcher_create(&c, &bad) == VSK_ERR_INVALID_ARGUMENT, "9 channels");
    vsk_switcher_config_init(&c);
    c.sample_rate = 4000;
    CHECK(vsk_switcher_create(&c, &bad) == VSK_ERR_UNSUPPORTED_RATE, "rate");
    vsk_switcher_config_init(&c);
    c.struct_size += 8;
    CHECK(vsk_switcher_create(&c, &bad) == VSK_ERR_STRUCT_TOO_NEW, "struct too new");
    vsk_switcher_config_init(&c);
    c.abi_version = 99;
    CHECK(vsk_switcher_create(&c, &bad) == VSK_ERR_ABI_MISMATCH, "abi");
    vsk_switcher_state big = {.struct_size = sizeof big + 4};
    CHECK(vsk_switcher_get_state(s, &big) == VSK_ERR_STRUCT_TOO_NEW, "state too new");

    vsk_switcher_destroy(s);
    for (int i = 0; i < 6; i++)
        vsk_voice_destroy(v[i]);
    vsk_bundle_release(ba);
}

static void test_aligned_latency(void)
{
    vsk_bundle *ba = gain_bundle("t.a", 1.0f, 0.5f, 64);
    vsk_bundle *bb = gain_bundle("t.b", 1.0f, 0.5f, 256);
    vsk_voice *a = vt_voice(ba, RATE, 1, MAXB, 0), *b = vt_voice(bb, RATE, 1, MAXB, 0);
    uint32_t la, lb;
    CHECK_OK(vsk_voice_get_latency(a, &la));
    CHECK_OK(vsk_voice_get_latency(b, &lb));
    CHECK(la < lb, "test voices need different latencies (%u, %u)", la, lb);
    vsk_switcher *s = make_switcher(1, 5, lb);
    vsk_switcher *tight = make_switcher(1, 5, la);
    CHECK(vsk_switcher_publish(tight, b, 1) == VSK_ERR_INVALID_ARGUMENT, "latency above alignment");
    vsk_switcher_destroy(tight);
    CHECK_OK(vsk_switcher_publish(s, a, 1));
    /* a gain-1 voice through the switcher is the input delayed by lb */
    const size_t n = RATE / 4;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    vt_multisine(x, n, RATE, 100, 3000, 12);
    memcpy(y, x, sizeof(float) * n);
    for (size_t i = 0; i < n; i += 300)
        CHECK_OK(vsk_switcher_process(s, y + i, y + i, (uint32_t)(n - i < 300 ? n - i : 300), 1));
    double e = vt_delay_error(x, y, n, RATE / 20, (long)lb);
    CHECK(e < 0.02, "aligned voice a: delay error %.4f at %u frames", e, lb);
    vsk_switcher_state st = {.struct_size = sizeof st};
    CHECK_OK(vsk_switcher_get_state(s, &st));
    CHECK(st.latency_frames == lb, "aligned latency %u", st.latency_frames);
    vsk_switcher_destroy(s);
    vsk_voice_destroy(a); vsk_voice_destroy(b);
    vsk_bundle_release(ba); vsk_bundle_release(bb);
    free(x); free(y);
}

int main(void)
{
    test_switch_samples();
    test_hand_back_rules();
    test_aligned_latency();
    return vt_finish("test_switcher");
}
