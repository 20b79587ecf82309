/* test_yin_fft.c — YIN's difference function from the FFT correlation
 * (yin_fft.c, what PITCH_YIN runs) against the direct sums of the plain-C
 * reference kernel (vsk_sqdiff_lags_f64d_ref: d(τ) = Σ_{j<W}(x_j − x_{j+τ})²
 * from exact differences), on every ISA this CPU supports: random frames,
 * periodic ones (d near 0 at the period), a frame of loud DC, tiny
 * signals, and sizes that are and are not powers of two. Links the
 * library's objects (voiceskin_objects: the functions are hidden in the
 * library). */
#include "fft.h"
#include "kernels.h"
#include "yin_fft.h"
#include "voice_test_util.h"

static uint32_t rng_state = 777u;
static double frand(void) /* uniform in [-1, 1) */
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (double)(rng_state >> 8) / 8388608.0 - 1.0;
}

enum { MAXN = 2048 };

/* One frame: FFT d against the direct d; |error| <= 1e-13·E per lag, E
 * the frame's energy Σ_{j<N} x_j² (an FFT's rounding is relative to the
 * whole signal it transforms, not to the lag's own terms: with W = 2 the
 * direct sums are far more precise, which is why PITCH_YIN keeps the
 * direct path where it is also the cheaper one), d >= 0 and d(0) = 0.
 * Returns the worst error relative to E. */
static double check_frame(uint32_t isa, const float *x, uint32_t N, uint32_t tmax,
                          const char *what)
{
    static double mem[8 * MAXN + 64], xd[MAXN], ref[MAXN], d[MAXN];
    CHECK(vsk_yin_fft_doubles(N) <= sizeof mem / sizeof *mem, "memory for N=%u", N);
    const uint32_t W = N - tmax;
    for (uint32_t j = 0; j < N; ++j) xd[j] = (double)x[j];
    vsk_sqdiff_lags_f64d_ref(xd, W, 1, tmax, ref + 1);
    vsk_yin_fft_init(N, mem);
    for (uint32_t t = 0; t <= tmax; ++t) d[t] = -1.0;
    vsk_yin_diff_fft(isa, x, N, tmax, mem, d);
    double E = 1e-300, worst = 0.0;
    for (uint32_t j = 0; j < N; ++j) E += xd[j] * xd[j];
    CHECK(d[0] == 0.0, "%s %s N=%u d(0) = %g", vsk_isa_name(isa), what, N, d[0]);
    for (uint32_t t = 1; t <= tmax; ++t) {
        const double err = fabs(d[t] - ref[t]), scale = E;
        CHECK(d[t] >= 0.0 && err <= 1e-13 * scale,
              "%s %s N=%u tmax=%u t=%u: fft %.17g vs direct %.17g (energy %.3g)",
              vsk_isa_name(isa), what, N, tmax, t, d[t], ref[t], scale);
        if (err / scale > worst) worst = err / scale;
    }
    return worst;
}

static void test_isa(uint32_t isa)
{
    static float x[MAXN];
    const uint32_t Ns[] = {4, 5, 16, 100, 300, 512, 640, 1000, 2048};
    double worst = 0.0, w;
    for (size_t k = 0; k < sizeof Ns / sizeof *Ns; ++k) {
        const uint32_t N = Ns[k];
        const uint32_t tmaxs[] = {1, N / 3 > 0 ? N / 3 : 1, N / 2, N - 2};
        for (size_t m = 0; m < 4; ++m) {
            const uint32_t tmax = tmaxs[m];
            if (tmax < 1 || tmax > N - 2) continue;
            for (uint32_t j = 0; j < N; ++j) x[j] = (float)frand();
            if ((w = check_frame(isa, x, N, tmax, "noise")) > worst) worst = w;
            /* periodic (period 37 samples): d(37) ≈ 0 against large e0 */
            for (uint32_t j = 0; j < N; ++j)
                x[j] = (float)(0.6 * sin(6.283185307179586 * j / 37.0) +
                               0.3 * sin(6.283185307179586 * 3 * j / 37.0));
            if ((w = check_frame(isa, x, N, tmax, "periodic")) > worst) worst = w;
            for (uint32_t j = 0; j < N; ++j) x[j] = 1e4f + (float)frand();
            if ((w = check_frame(isa, x, N, tmax, "dc")) > worst) worst = w;
            for (uint32_t j = 0; j < N; ++j) x[j] = (float)(1e-6 * frand());
            if ((w = check_frame(isa, x, N, tmax, "tiny")) > worst) worst = w;
        }
    }
    /* exactly periodic frame, period 64 (a power of two): the direct sums
     * are exactly 0 at the period; the FFT's are 0 after clamping or of
     * the order of rounding */
    for (uint32_t j = 0; j < 512; ++j) x[j] = (float)sin(6.283185307179586 * (j % 64) / 64.0);
    {
        static double mem[8 * MAXN + 64], d[MAXN];
        vsk_yin_fft_init(512, mem);
        vsk_yin_diff_fft(isa, x, 512, 267, mem, d);
        CHECK(d[64] <= 1e-12 * 256.0, "%s period 64: d(64) = %g", vsk_isa_name(isa), d[64]);
        CHECK(d[32] > 100.0, "%s period 64: d(32) = %g", vsk_isa_name(isa), d[32]);
    }
    printf("yin_fft: %s ok (worst |fft - direct| / frame energy = %.2g)\n", vsk_isa_name(isa),
           worst);
}

int main(void)
{
    CHECK(vsk_yin_fft_len(512) == 512 && vsk_yin_fft_len(513) == 1024 &&
              vsk_yin_fft_len(3) == 4,
          "fft length");
    for (uint32_t isa = 0; isa < VSK_ISA_COUNT_; ++isa)
        if (vsk_isa_available(isa)) test_isa(isa);
    return vt_finish("test_yin_fft");
}
