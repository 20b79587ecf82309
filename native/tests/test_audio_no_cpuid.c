/* test_audio_no_cpuid.c — no [audio] or [any-rt] call reaches CPUID.
 *
 * The whole library is compiled into this test with VSK_TEST_CPUID_HOOK
 * counting every entry into the CPU-detection paths (kernels.c:
 * vsk_isa_detect, vsk_isa_available — the only code that executes CPUID).
 * Creating a voice must detect (the counter moves: the hook is live);
 * afterwards thousands of process calls with random block sizes, tier
 * switches (warm-up + crossfade), resets, mix/bypass changes and state
 * queries must not move it, nor must the voice switcher's audio and feeder
 * calls (voice switches with warm-up and crossfade, hand-back), with the
 * CPU governor on and off. The only clock the library reads is
 * clock_gettime(CLOCK_MONOTONIC) in governor.c (tests/test_abi_growth.py
 * checks its dynamic symbols and who calls it): a vDSO read, no CPUID. */
#define _POSIX_C_SOURCE 200809L

static unsigned long g_cpuid_calls;
#define VSK_TEST_CPUID_HOOK() (g_cpuid_calls++)

#include "../src/abi.c"
#include "../src/bundle.c"
#include "../src/crc32.c"
#include "../src/fft.c"
#include "../src/governor.c"
#include "../src/graph.c"
#include "../src/kernels.c"
#include "../src/kernels_avx2.c"
#include "../src/kernels_neon.c"
#include "../src/kernels_ref.c"
#include "../src/kernels_sse2.c"
#include "../src/ops.c"
#include "../src/ops_nn.c"
#include "../src/ops_signal.c"
#include "../src/registry.c"
#include "../src/resample.c"
#include "../src/safety.c"
#include "../src/status.c"
#include "../src/switcher.c"
#include "../src/voice.c"
#include "../src/voice_plan.c"
#include "../src/yin_fft.c"

#include "voice_test_util.h"

static void run(uint32_t rate, uint32_t channels, uint32_t max_isa)
{
    bb_builder bb;
    bb_init(&bb, "test.cpuid", "CPUID", "1.0.0");
    bb_identity_tier(&bb, "low", 16000, 64);
    bb_gain_tier(&bb, "mid", 24000, 32, 96, 0.5f);
    bb_delay_tier(&bb, "high", 48000, 128, 40, 0.8f);
    size_t size;
    uint8_t *data = bb_finish(&bb, &size);
    vsk_bundle *b = NULL;
    CHECK_OK(vsk_bundle_open_memory(data, size, &b));
    free(data);
    if (!b)
        return;

    vsk_voice_config c;
    vsk_voice_config_init(&c);
    c.sample_rate = rate;
    c.channels = channels;
    c.max_block_frames = 512;
    c.max_isa = max_isa;
    const unsigned long before_create = g_cpuid_calls;
    vsk_voice *v = NULL;
    CHECK_OK(vsk_voice_create(b, &c, &v));
    CHECK(g_cpuid_calls > before_create,
          "create did not detect the ISA (hook not live?)");
    if (!v) {
        vsk_bundle_release(b);
        return;
    }
    vsk_voice *w = NULL;
    CHECK_OK(vsk_voice_create(b, &c, &w));
    vsk_switcher_config sc;
    vsk_switcher_config_init(&sc);
    sc.sample_rate = rate;
    sc.max_channels = channels;
    sc.warmup_ms = 5;
    vsk_switcher *sw = NULL;
    CHECK_OK(vsk_switcher_create(&sc, &sw));
    const unsigned long after_create = g_cpuid_calls;

    float *buf = (float *)calloc((size_t)4096 * channels, sizeof(float));
    vsk_tier_state ts;
    uint32_t u;
    for (int call = 0; call < 1200; call++) {
        uint32_t frames = 1 + vt_rand() % 4096;
        for (size_t i = 0; i < (size_t)frames * channels; i++)
            buf[i] = (float)(vt_uniform() - 0.5);
        CHECK_OK(vsk_voice_process(v, buf, buf, frames));
        if (vt_rand() % 8 == 0)
            CHECK_OK(vsk_switcher_publish(sw, (vt_rand() & 1) ? w : NULL, call));
        CHECK_OK(vsk_switcher_process(sw, buf, buf, frames, channels));
        vsk_voice *back;
        while (vsk_switcher_collect(sw, &back, NULL) == VSK_OK) { }
        switch (vt_rand() % 16) {
        case 0: CHECK_OK(vsk_voice_set_tier(v, vt_rand() % 3)); break;
        case 1: CHECK_OK(vsk_voice_reset(v)); CHECK_OK(vsk_switcher_reset(sw)); break;
        case 2: CHECK_OK(vsk_voice_set_mix(v, (float)vt_uniform())); break;
        case 3: CHECK_OK(vsk_voice_set_bypass(v, vt_rand() % 2)); break;
        /* the CPU governor: tiny budgets step tiers down, 0 turns it off */
        case 4: CHECK_OK(vsk_voice_set_cpu_budget(v, (float)(vt_rand() % 3) * 1e-4f)); break;
        case 5: CHECK_OK(vsk_switcher_set_cpu_budget(sw, (float)(vt_rand() % 3) * 1e-4f)); break;
        default: break;
        }
        ts.struct_size = sizeof ts;
        CHECK_OK(vsk_voice_get_tier_state(v, &ts));
        CHECK_OK(vsk_voice_get_tier(v, &u));
        CHECK_OK(vsk_voice_get_latency(v, &u));
        CHECK_OK(vsk_voice_get_isa(v, &u));
    }
    CHECK(g_cpuid_calls == after_create,
          "%lu CPU detections during [audio]/[any-rt] calls (%u Hz, %u ch)",
          g_cpuid_calls - after_create, rate, channels);
    free(buf);
    vsk_switcher_destroy(sw);
    vsk_voice_destroy(w);
    vsk_voice_destroy(v);
    vsk_bundle_release(b);
}

int main(void)
{
    run(48000, 2, VSK_ISA_LEVEL_BEST);
    run(44100, 1, VSK_ISA_LEVEL_SCALAR);
    run(16000, 3, VSK_ISA_LEVEL_SIMD128);
    return vt_finish("test_audio_no_cpuid");
}
