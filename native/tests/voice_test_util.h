/* voice_test_util.h — small helpers shared by the test_voice_*.c tests. */
#ifndef VSK_TESTS_VOICE_TEST_UTIL_H
#define VSK_TESTS_VOICE_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "voiceskin.h"
#include "bundle_builder.h"

#include "check.h"

#define CHECK_OK(expr)                                                        \
    do {                                                                      \
        vsk_status st_ = (expr);                                              \
        CHECK(st_ == VSK_OK, "%s -> %s", #expr, vsk_status_name(st_));        \
    } while (0)

static int vt_finish(const char *name)
{
    if (failures) {
        printf("%s: %d failure(s)\n", name, failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

/* xorshift32: deterministic and allocation-free */
static uint32_t vt_rng = 0x9E3779B9u;
static uint32_t vt_rand(void)
{
    vt_rng ^= vt_rng << 13;
    vt_rng ^= vt_rng >> 17;
    vt_rng ^= vt_rng << 5;
    return vt_rng;
}
static double vt_uniform(void) /* [0, 1) */
{
    return (vt_rand() >> 8) / 16777216.0;
}

/* Band-limited test signal: `count` random sines in [fmin, fmax] Hz with
 * random phases, scaled to peak < 0.9. */
static void vt_multisine(float *x, size_t n, double rate, double fmin,
                         double fmax, int count)
{
    double f[64], ph[64];
    for (int k = 0; k < count; k++) {
        f[k] = fmin + (fmax - fmin) * vt_uniform();
        ph[k] = 6.283185307179586 * vt_uniform();
    }
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (int k = 0; k < count; k++)
            s += sin(6.283185307179586 * f[k] * (double)i / rate + ph[k]);
        x[i] = (float)(0.9 * s / count);
    }
}

static vsk_bundle *vt_open(bb_builder *b)
{
    size_t size;
    uint8_t *bytes = bb_finish(b, &size);
    vsk_bundle *bundle = NULL;
    vsk_status st = vsk_bundle_open_memory(bytes, size, &bundle);
    free(bytes);
    if (st != VSK_OK) {
        fprintf(stderr, "bundle_open_memory: %s\n", vsk_status_name(st));
        exit(2);
    }
    return bundle;
}

/* A voice with this schedule (VSK_SCHEDULE_*), mix and bypass. */
static vsk_voice *vt_voice_mix(vsk_bundle *b, uint32_t rate, uint32_t ch,
                               uint32_t max_block, uint32_t tier,
                               uint32_t schedule, float mix, uint32_t bypass)
{
    vsk_voice_config c;
    vsk_voice_config_init(&c);
    c.sample_rate = rate;
    c.channels = ch;
    c.max_block_frames = max_block;
    c.initial_tier = tier;
    c.schedule = schedule;
    c.mix = mix;
    c.bypass = bypass;
    vsk_voice *v = NULL;
    vsk_status st = vsk_voice_create(b, &c, &v);
    if (st != VSK_OK) {
        fprintf(stderr, "voice_create(%u Hz): %s\n", rate, vsk_status_name(st));
        exit(2);
    }
    return v;
}

static vsk_voice *vt_voice_sched(vsk_bundle *b, uint32_t rate, uint32_t ch,
                                 uint32_t max_block, uint32_t tier,
                                 uint32_t schedule)
{
    return vt_voice_mix(b, rate, ch, max_block, tier, schedule, 1.0f, 0);
}

static vsk_voice *vt_voice(vsk_bundle *b, uint32_t rate, uint32_t ch,
                           uint32_t max_block, uint32_t tier)
{
    return vt_voice_sched(b, rate, ch, max_block, tier,
                          VSK_SCHEDULE_LOW_LATENCY);
}

/* Processes n frames in random blocks of 1..maxb (in place if inplace). */
static void vt_process_random(vsk_voice *v, const float *in, float *out,
                              size_t n, uint32_t ch, uint32_t maxb)
{
    size_t i = 0;
    while (i < n) {
        uint32_t k = 1 + vt_rand() % maxb;
        if (k > n - i)
            k = (uint32_t)(n - i);
        CHECK_OK(vsk_voice_process(v, in + i * ch, out + i * ch, k));
        i += k;
    }
}

/* Relative RMS error of y[i] against x[i - d] over i in [i0, n). */
static double vt_delay_error(const float *x, const float *y, size_t n,
                             size_t i0, long d)
{
    double e = 0, p = 0;
    for (size_t i = i0; i < n; i++) {
        long j = (long)i - d;
        double r = j >= 0 ? x[j] : 0.0;
        e += (y[i] - r) * (y[i] - r);
        p += r * r;
    }
    return sqrt(e / (p > 0 ? p : 1));
}

#endif
