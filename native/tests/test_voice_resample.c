/* test_voice_resample.c — measures the voice's sample-rate converter
 * (native/src/resample.c; this test links the library's objects,
 * voiceskin_objects, because its symbols are internal to the library).
 *
 * For each rate pair, sines are streamed through the converter and the
 * output is fitted by least squares:
 *   pass band ripple: max |20 log10(gain)| for tones in [20 Hz, pass edge];
 *   delay: the fitted phase must match a tone delayed by exactly `lead`
 *          input samples (the group delay the voice's latency counts);
 *   stop band attenuation:
 *     down-sampling: whole output level for tones in [model Nyquist, host
 *                    Nyquist) (everything there would alias);
 *     up-sampling:   level of everything but the tone (the images) for
 *                    tones in the pass band.
 * Also: streaming in random chunk sizes is bit-identical to one call, and
 * the identity converter is a pure delay. Prints the measured table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels.h"
#include "resample.h"

#define TWO_PI 6.283185307179586

#include "check.h"

typedef struct conv {
    vsk_rs_spec spec;
    float *table, *hist;
    vsk_rs rs;
} conv;

static void conv_open(conv *c, uint32_t in, uint32_t out, uint32_t max_push)
{
    vsk_rs_spec_init(&c->spec, in, out);
    c->table = aligned_alloc(64, vsk_rs_table_bytes(&c->spec));
    vsk_rs_table_build(&c->spec, c->table);
    uint32_t cap = vsk_rs_hist_floats(&c->spec, 0, 0, max_push);
    c->hist = aligned_alloc(64, ((size_t)cap * 4 + 63) / 64 * 64);
    vsk_rs_init(&c->rs, &c->spec, c->table, c->hist, cap, 0, vsk_isa_detect());
}

static void conv_close(conv *c)
{
    free(c->table);
    free(c->hist);
}

/* Streams n inputs in chunks of `chunk`, collecting every output. */
static size_t run(conv *c, const float *x, size_t n, float *y, size_t ycap,
                  uint32_t chunk)
{
    size_t got = 0;
    for (size_t i = 0; i < n; i += chunk) {
        uint32_t k = (uint32_t)(n - i < chunk ? n - i : chunk);
        vsk_rs_push(&c->rs, x + i, k);
        got += vsk_rs_pull(&c->rs, y + got, (uint32_t)(ycap - got));
    }
    return got;
}

/* Least-squares fit y[j] ~ a cos(w t_j) + b sin(w t_j) over j in [j0, j1),
 * t_j = j / out_rate - delay_s. Returns amplitude, the phase error against
 * a sine (b > 0, a = 0 means exactly the expected delay) and the residual
 * RMS. */
static void fit(const float *y, size_t j0, size_t j1, double freq,
                double out_rate, double delay_s, double *amp, double *phase,
                double *resid_rms)
{
    double cc = 0, ss = 0, cs = 0, yc = 0, ys = 0;
    for (size_t j = j0; j < j1; j++) {
        double t = (double)j / out_rate - delay_s;
        double co = cos(TWO_PI * freq * t), si = sin(TWO_PI * freq * t);
        cc += co * co; ss += si * si; cs += co * si;
        yc += y[j] * co; ys += y[j] * si;
    }
    double det = cc * ss - cs * cs;
    double a = (yc * ss - ys * cs) / det, b = (ys * cc - yc * cs) / det;
    double r2 = 0;
    for (size_t j = j0; j < j1; j++) {
        double t = (double)j / out_rate - delay_s;
        double e = y[j] - a * cos(TWO_PI * freq * t) - b * sin(TWO_PI * freq * t);
        r2 += e * e;
    }
    *amp = sqrt(a * a + b * b);
    *phase = atan2(a, b);
    *resid_rms = sqrt(r2 / (double)(j1 - j0));
}

typedef struct figures {
    double ripple_db, stop_db, max_phase;
} figures;

static figures measure(uint32_t in_rate, uint32_t out_rate)
{
    figures fg = {0, 1e9, 0};
    conv c;
    const size_t n = in_rate / 4; /* 250 ms */
    const size_t ycap = (size_t)((double)n * out_rate / in_rate) + 16;
    float *x = malloc(n * sizeof(float)), *y = malloc(ycap * sizeof(float));
    conv_open(&c, in_rate, out_rate, 4096);
    const double lo_nyq = 0.5 * (in_rate < out_rate ? in_rate : out_rate);
    const double pass = c.spec.pass_edge * in_rate;
    const double stop = c.spec.stop_edge * in_rate;
    const double delay_s = (double)c.spec.lead / in_rate;
    CHECK(fabs(stop - lo_nyq) < 1e-6, "stop edge %.1f != Nyquist %.1f", stop, lo_nyq);

    /* pass band */
    for (int k = 0; k <= 60; k++) {
        double f = 20.0 + (pass - 20.0) * k / 60.0;
        for (size_t i = 0; i < n; i++)
            x[i] = (float)(0.5 * sin(TWO_PI * f * i / in_rate));
        vsk_rs_reset(&c.rs);
        size_t m = run(&c, x, n, y, ycap, 4096);
        size_t j0 = (size_t)(0.02 * out_rate), j1 = m - 8;
        double amp, ph, res;
        fit(y, j0, j1, f, out_rate, delay_s, &amp, &ph, &res);
        double g = fabs(20.0 * log10(amp / 0.5));
        if (g > fg.ripple_db) fg.ripple_db = g;
        if (fabs(ph) > fg.max_phase) fg.max_phase = fabs(ph);
        if (out_rate > in_rate) { /* images */
            double s = -20.0 * log10(res / 0.5);
            if (s < fg.stop_db) fg.stop_db = s;
        }
    }
    /* stop band of a down-sampler: everything at or above the output
     * Nyquist must vanish */
    if (out_rate < in_rate) {
        double top = 0.5 * in_rate;
        for (int k = 0; k <= 120; k++) {
            double f = stop + (top - stop) * k / 120.0;
            if (f >= top) f = top - 1.0;
            for (size_t i = 0; i < n; i++)
                x[i] = (float)(0.5 * sin(TWO_PI * f * i / in_rate + 0.3));
            vsk_rs_reset(&c.rs);
            size_t m = run(&c, x, n, y, ycap, 4096);
            double r2 = 0;
            size_t j0 = (size_t)(0.02 * out_rate), j1 = m - 8;
            for (size_t j = j0; j < j1; j++)
                r2 += (double)y[j] * y[j];
            double rms = sqrt(r2 / (double)(j1 - j0));
            double s = -20.0 * log10(rms * sqrt(2.0) / 0.5);
            if (s < fg.stop_db) fg.stop_db = s;
        }
    }
    conv_close(&c);
    free(x);
    free(y);
    return fg;
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state;
}

static void test_streaming(uint32_t in_rate, uint32_t out_rate)
{
    conv a, b;
    const size_t n = 30000;
    float *x = malloc(n * 4), *ya = malloc(n * 16 * 4), *yb = malloc(n * 16 * 4);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((int32_t)rnd() / 2147483648.0);
    conv_open(&a, in_rate, out_rate, (uint32_t)n);
    conv_open(&b, in_rate, out_rate, 700);
    size_t ma = run(&a, x, n, ya, n * 16, (uint32_t)n);
    size_t mb = 0;
    for (size_t i = 0; i < n;) {
        uint32_t k = 1 + rnd() % 700;
        if (k > n - i) k = (uint32_t)(n - i);
        vsk_rs_push(&b.rs, x + i, k);
        /* pull in random small pieces too */
        for (;;) {
            uint32_t want = 1 + rnd() % 50;
            uint32_t got = vsk_rs_pull(&b.rs, yb + mb, want);
            mb += got;
            if (got < want) break;
        }
        i += k;
    }
    CHECK(ma == mb, "%u->%u: %zu vs %zu outputs", in_rate, out_rate, ma, mb);
    size_t diff = 0;
    for (size_t j = 0; j < ma && j < mb; j++)
        diff += ya[j] != yb[j];
    CHECK(diff == 0, "%u->%u: %zu outputs differ when streamed", in_rate, out_rate, diff);
    CHECK(a.rs.overflow == 0 && b.rs.overflow == 0, "history overflow");
    /* Output count = number of outputs whose last input has arrived. */
    size_t expect = (size_t)(((uint64_t)n * a.spec.pin - 1) / a.spec.pout) + 1;
    CHECK(ma == expect, "%u->%u: %zu outputs, expected %zu", in_rate, out_rate, ma, expect);
    conv_close(&a);
    conv_close(&b);
    free(x); free(ya); free(yb);
}

static void test_identity_delay(void)
{
    vsk_rs_spec s;
    vsk_rs_spec_init(&s, 48000, 48000);
    CHECK(s.identity && s.taps == 1 && s.lead == 0, "identity spec");
    float *t = aligned_alloc(64, vsk_rs_table_bytes(&s));
    vsk_rs_table_build(&s, t);
    uint32_t cap = vsk_rs_hist_floats(&s, 37, 0, 100);
    float *h = aligned_alloc(64, ((size_t)cap * 4 + 63) / 64 * 64);
    vsk_rs r;
    vsk_rs_init(&r, &s, t, h, cap, 37, vsk_isa_detect()); /* 37-sample pure delay */
    float x[1000], y[1000];
    for (int i = 0; i < 1000; i++) x[i] = (float)(i + 1);
    size_t m = 0;
    for (int i = 0; i < 1000; i += 100) {
        vsk_rs_push(&r, x + i, 100);
        m += vsk_rs_pull(&r, y + m, 100);
    }
    CHECK(m == 1000, "identity produced %zu", m);
    int bad = 0;
    for (int i = 0; i < 1000; i++)
        bad += y[i] != (i < 37 ? 0.0f : x[i - 37]);
    CHECK(bad == 0, "identity delay wrong at %d samples", bad);
    free(t);
    free(h);
}

int main(void)
{
    static const uint32_t pairs[][2] = {
        {48000, 16000}, {16000, 48000}, {44100, 16000}, {16000, 44100},
        {96000, 16000}, {16000, 96000}, {8000, 16000},  {16000, 8000},
        {192000, 16000}, {16000, 192000}, {22050, 24000}, {44100, 24000},
        /* gcd 1: phases > VSK_RS_EXACT_MAX_PHASES -> interpolated table */
        {44101, 16000}, {16000, 44101},
    };
    const size_t np = sizeof pairs / sizeof pairs[0];
    double worst_stop = 1e9, worst_ripple = 0;
    printf("%8s %8s %5s %5s %6s %9s %9s %11s %11s %9s\n", "in", "out", "taps",
           "lead", "mode", "pass(Hz)", "stop(Hz)", "ripple(dB)", "atten(dB)",
           "phase");
    for (size_t i = 0; i < np; i++) {
        uint32_t a = pairs[i][0], b = pairs[i][1];
        vsk_rs_spec s;
        vsk_rs_spec_init(&s, a, b);
        figures fg = measure(a, b);
        printf("%8u %8u %5u %5u %6s %9.0f %9.0f %11.4f %11.1f %9.2e\n", a, b,
               s.taps, s.lead, s.exact ? "exact" : "interp",
               s.pass_edge * a, s.stop_edge * a, fg.ripple_db, fg.stop_db,
               fg.max_phase);
        CHECK(s.lead <= (uint32_t)(VSK_RS_MAX_DELAY_S * a + 1e-9),
              "%u->%u: lead %u over the 2 ms budget", a, b, s.lead);
        CHECK(fg.ripple_db < 0.01, "%u->%u: ripple %.4f dB", a, b, fg.ripple_db);
        CHECK(fg.stop_db > 75.0, "%u->%u: stop band only %.1f dB", a, b, fg.stop_db);
        /* Delay = lead input samples: phase error of a pass-band tone tiny
         * (one sample of delay error would be >= 2*pi*20/rate rad at 20 Hz
         * and far more higher up). */
        CHECK(fg.max_phase < 2e-3, "%u->%u: phase error %.2e", a, b, fg.max_phase);
        if (fg.stop_db < worst_stop) worst_stop = fg.stop_db;
        if (fg.ripple_db > worst_ripple) worst_ripple = fg.ripple_db;
        test_streaming(a, b);
    }
    test_identity_delay();
    printf("worst: pass band ripple %.4f dB, stop band attenuation %.1f dB\n",
           worst_ripple, worst_stop);
    if (failures) {
        printf("%d failure(s)\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
