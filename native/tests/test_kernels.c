/* test_kernels.c — SIMD kernels (dot, sqdiff, matvec) against the plain-C
 * reference on every ISA this CPU supports, and the double real FFT against
 * a direct DFT. The kernels are internal (hidden in the library), so this
 * test links the library's objects (voiceskin_objects). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fft.h"
#include "kernels.h"
#include "kernels_table.h"

#include "check.h"

static uint32_t rng_state = 12345u;
static float frand(void)   /* uniform in [-1, 1) */
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)(rng_state >> 8) / 8388608.0f - 1.0f;
}

static void test_isa(uint32_t isa)
{
    enum { MAXN = 1100 };
    static float a[MAXN + 8], b[MAXN + 8], W[64 * MAXN], y[64], yr[64], bias[64];
    for (size_t i = 0; i < MAXN + 8; ++i) { a[i] = frand(); b[i] = frand(); }
    for (size_t i = 0; i < 64 * (size_t)MAXN; ++i) W[i] = frand();
    for (size_t i = 0; i < 64; ++i) bias[i] = frand();
    const size_t sizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 255, 513, 1100};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; ++s) {
        size_t n = sizes[s];
        for (size_t off = 0; off < 3; ++off) {      /* unaligned starts */
            double mag = 0.0, mag2 = 0.0;
            for (size_t i = 0; i < n; ++i) {
                mag += fabs((double)a[i + off] * b[i]);
                double d = (double)a[i + off] - b[i];
                mag2 += d * d;
            }
            float r = vsk_dot_ref(a + off, b, n), v = vsk_dot(isa, a + off, b, n);
            CHECK(fabs((double)v - r) <= 1e-6 * (mag + 1.0), "%s dot n=%zu: %g vs %g",
                  vsk_isa_name(isa), n, v, r);
            r = vsk_sqdiff_ref(a + off, b, n);
            v = vsk_sqdiff(isa, a + off, b, n);
            CHECK(fabs((double)v - r) <= 1e-6 * (mag2 + 1.0), "%s sqdiff n=%zu: %g vs %g",
                  vsk_isa_name(isa), n, v, r);
        }
        const size_t rows_list[] = {1, 3, 4, 5, 13, 64};
        for (size_t ri = 0; ri < sizeof rows_list / sizeof *rows_list; ++ri) {
            size_t rows = rows_list[ri];
            for (int with_bias = 0; with_bias < 2; ++with_bias) {
                const float *bb = with_bias ? bias : NULL;
                vsk_matvec_ref(W, a, bb, yr, rows, n);
                vsk_matvec(isa, W, a, bb, y, rows, n);
                for (size_t r = 0; r < rows; ++r) {
                    double mag = 1.0;
                    for (size_t i = 0; i < n; ++i) mag += fabs((double)W[r * n + i] * a[i]);
                    CHECK(fabs((double)y[r] - yr[r]) <= 1e-6 * mag,
                          "%s matvec rows=%zu cols=%zu r=%zu: %g vs %g", vsk_isa_name(isa),
                          rows, n, r, y[r], yr[r]);
                }
            }
        }
    }
}

/* int8 weights (vsk_matvec_q8): every ISA's quantised x and integer sums
 * equal the reference's, so outputs agree to the rounding of the final
 * multiply-add (<= 1e-6 relative); the reference equals the definition
 * (computed here in double); the result is within the quantisation bound
 * of the float matvec with the dequantised weights (|Δy_r| <= Σ_i |w_ri|·s_x/2
 * + float rounding); non-finite x gives non-finite y; the scratch is used
 * only up to VSK_Q8_SCRATCH(cols). */
static void test_matvec_q8(uint32_t isa)
{
    enum { MAXR = 800, MAXC = 800 };
    static int8_t Q[((MAXR + 7) / 8) * ((MAXC + 3) / 4) * 32];
    static float scale[MAXR + 8], bias[MAXR], x[MAXC], y[MAXR], yr[MAXR], Wd[MAXC];
    static int8_t xq[2 * MAXC + 128] __attribute__((aligned(32)));
    const size_t shapes[][2] = {{1, 1}, {3, 5}, {8, 4}, {9, 7}, {16, 40}, {17, 33},
                                {40, 129}, {65, 1}, {144, 75}, {288, 115}, {25, 775}, {775, 40}};
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; ++si) {
        const size_t R = shapes[si][0], C = shapes[si][1], G = VSK_Q8_GROUPS(C);
        const size_t P = (R + 7) / 8;
        memset(Q, 0, P * G * 32);
        memset(scale, 0, sizeof scale);
        for (size_t r = 0; r < R; ++r) {
            scale[r] = (frand() + 1.5f) * 0.01f;
            bias[r] = frand();
            for (size_t c = 0; c < C; ++c)
                Q[((r / 8) * G + c / 4) * 32 + (r % 8) * 4 + c % 4] =
                    (int8_t)lrintf(frand() * 127.f);
        }
        for (int kind = 0; kind < 4; ++kind) {   /* random, zero, NaN, Inf */
            for (size_t c = 0; c < C; ++c) x[c] = kind == 1 ? 0.f : frand() * 3.f;
            if (kind == 2) x[C / 2] = NAN;
            if (kind == 3) x[C - 1] = INFINITY;
            for (int with_bias = 0; with_bias < 2; ++with_bias) {
                const float *bb = with_bias ? bias : NULL;
                memset(xq, 0x5a, sizeof xq);
                vsk_matvec_q8(isa, Q, scale, x, bb, y, R, C, xq);
                const size_t used = VSK_Q8_SCRATCH(C);
                for (size_t i = used; i < sizeof xq; ++i)
                    if (xq[i] != 0x5a) { CHECK(0, "%s q8 scratch overrun at %zu", vsk_isa_name(isa), i); break; }
                vsk_matvec_q8_ref(Q, scale, x, bb, yr, R, C, xq);
                double m = 0.0;
                for (size_t c = 0; c < C; ++c) m = fmax(m, fabs((double)x[c]));
                const float inv = m > 0 ? 127.f / (float)m : 0.f, sx = (float)m / 127.f;
                for (size_t r = 0; r < R; ++r) {
                    if (kind == 1) {
                        CHECK(y[r] == (bb ? bb[r] : 0.f) && yr[r] == y[r],
                              "%s q8 zero x r=%zu: %g (bias %g)", vsk_isa_name(isa), r, y[r],
                              bb ? bb[r] : 0.f);
                        continue;
                    }
                    if (kind >= 2) {
                        CHECK(!isfinite(y[r]) && !isfinite(yr[r]), "%s q8 non-finite x r=%zu: %g %g",
                              vsk_isa_name(isa), r, y[r], yr[r]);
                        continue;
                    }
                    double acc = 0.0, bound = 0.0, yf = bb ? bb[r] : 0.0;
                    for (size_t c = 0; c < C; ++c) {
                        const double q = Q[((r / 8) * G + c / 4) * 32 + (r % 8) * 4 + c % 4];
                        acc += q * (m > 0 ? nearbyintf(x[c] * inv) : 0.f);
                        Wd[c] = (float)(q * scale[r]);
                        bound += fabs(Wd[c]) * sx * 0.5;
                        yf += (double)Wd[c] * x[c];
                    }
                    const double mag = fabs(acc * scale[r] * sx) + (bb ? fabs(bb[r]) : 0.0) + 1e-30;
                    const double exact = acc * (double)(scale[r] * sx) + (bb ? bb[r] : 0.0);
                    CHECK(fabs((double)yr[r] - exact) <= 1e-6 * mag, "q8 ref rows=%zu cols=%zu r=%zu: %g vs %g",
                          R, C, r, yr[r], exact);
                    CHECK(fabs((double)y[r] - yr[r]) <= 1e-6 * mag, "%s q8 rows=%zu cols=%zu r=%zu: %g vs %g",
                          vsk_isa_name(isa), R, C, r, y[r], yr[r]);
                    CHECK(fabs((double)y[r] - yf) <= bound + 1e-5 * (mag + fabs(yf)),
                          "%s q8 vs dequantised float rows=%zu cols=%zu r=%zu: %g vs %g (bound %g)",
                          vsk_isa_name(isa), R, C, r, y[r], yf, bound);
                }
            }
        }
    }
}

static void test_lags_and_act(uint32_t isa)
{
    enum { N = 1024 };
    static float x[N], out[N], ref[N], y[N], yr[N];
    for (size_t i = 0; i < N; ++i) x[i] = frand();
    const size_t Ws[] = {1, 7, 8, 17, 100, 704}, t0s[] = {1, 3}, counts[] = {0, 1, 3, 4, 5, 9, 320};
    for (size_t a = 0; a < 6; ++a)
        for (size_t b = 0; b < 2; ++b)
            for (size_t c = 0; c < 7; ++c) {
                size_t W = Ws[a], t0 = t0s[b], cnt = counts[c];
                if (W + t0 + cnt > N) continue;
                vsk_sqdiff_lags_ref(x, W, t0, cnt, ref);
                vsk_sqdiff_lags(isa, x, W, t0, cnt, out);
                for (size_t q = 0; q < cnt; ++q)
                    CHECK(fabs((double)out[q] - ref[q]) <= 1e-6 * (ref[q] + 1.0),
                          "%s sqdiff_lags W=%zu t0=%zu q=%zu: %g vs %g", vsk_isa_name(isa), W,
                          t0, q, out[q], ref[q]);
            }
    static double o64[N], r64[N];
    for (size_t a = 0; a < 6; ++a)
        for (size_t c = 0; c < 7; ++c) {
            size_t W = Ws[a], cnt = counts[c] + (c == 6 ? 3 : 0);   /* also a 4-lag tail */
            if (W + 2 + cnt > N) continue;
            vsk_sqdiff_lags_f64_ref(x, W, 2, cnt, r64);
            vsk_sqdiff_lags_f64(isa, x, W, 2, cnt, o64);
            for (size_t q = 0; q < cnt; ++q)
                CHECK(fabs(o64[q] - r64[q]) <= 1e-13 * (r64[q] + 1e-30),
                      "%s sqdiff_lags_f64 W=%zu q=%zu: %.17g vs %.17g", vsk_isa_name(isa), W,
                      q, o64[q], r64[q]);
        }
    /* the double-input variant on the widened frame: against the float
     * reference (exact differences, so only summation order differs) */
    static double xd[N];
    for (size_t i = 0; i < N; ++i) xd[i] = (double)x[i];
    for (size_t a = 0; a < 6; ++a)
        for (size_t c = 0; c < 7; ++c) {
            size_t W = Ws[a], cnt = counts[c] + (c == 6 ? 3 : 0);
            if (W + 2 + cnt > N) continue;
            vsk_sqdiff_lags_f64_ref(x, W, 2, cnt, r64);
            vsk_sqdiff_lags_f64d(isa, xd, W, 2, cnt, o64);
            for (size_t q = 0; q < cnt; ++q)
                CHECK(fabs(o64[q] - r64[q]) <= 1e-13 * (r64[q] + 1e-30),
                      "%s sqdiff_lags_f64d W=%zu q=%zu: %.17g vs %.17g", vsk_isa_name(isa), W,
                      q, o64[q], r64[q]);
            vsk_sqdiff_lags_f64d_ref(xd, W, 2, cnt, o64);
            for (size_t q = 0; q < cnt; ++q)
                CHECK(o64[q] == r64[q], "sqdiff_lags_f64d_ref W=%zu q=%zu differs", W, q);
        }
    /* activations over a wide range incl. saturation, every tail length */
    for (size_t i = 0; i < N; ++i) x[i] = (float)(((double)i - N / 2) * 0.2);   /* ±102 */
    x[0] = -1e30f; x[1] = 1e30f; x[2] = 0.f; x[3] = -0.f;
    for (int kind = 0; kind < 3; ++kind) {
        for (size_t n = 0; n <= 19; n += (n < 10 ? 1 : 9)) {
            const float *xs = x + N / 2 - 9;   /* around 0 */
            void (*ref_fn)(const float *, float *, size_t) =
                kind == 0 ? vsk_sigmoid_ref : kind == 1 ? vsk_tanh_ref : vsk_exp_sigmoid_ref;
            void (*fn)(uint32_t, const float *, float *, size_t) =
                kind == 0 ? vsk_sigmoid : kind == 1 ? vsk_tanh : vsk_exp_sigmoid;
            ref_fn(xs, yr, n);
            fn(isa, xs, y, n);
            for (size_t i = 0; i < n; ++i)
                CHECK(fabs((double)y[i] - yr[i]) <= 4e-7, "%s act %d tail n=%zu", vsk_isa_name(isa), kind, n);
            ref_fn(x, yr, N);
            fn(isa, x, y, N);
            double worst = 0.0;
            for (size_t i = 0; i < N; ++i) {
                double e = fabs((double)y[i] - yr[i]);
                CHECK(isfinite(y[i]) && e <= 4e-7, "%s act %d x=%g: %.9g vs %.9g",
                      vsk_isa_name(isa), kind, x[i], y[i], yr[i]);
                if (e > worst) worst = e;
            }
            (void)worst;
        }
        /* in place */
        memcpy(y, x, sizeof x);
                void (*fn)(uint32_t, const float *, float *, size_t) =
            kind == 0 ? vsk_sigmoid : kind == 1 ? vsk_tanh : vsk_exp_sigmoid;
        fn(isa, y, y, N);
        fn(isa, x, yr, N);
        CHECK(memcmp(y, yr, sizeof y) == 0, "%s act %d in place differs", vsk_isa_name(isa), kind);
    }
}

static void test_harmonic_sum(uint32_t isa)
{
    enum { HOP = 150, K = 90 };
    static double A0[K + 1], A1[K + 1], t[HOP], c2[HOP], s1[HOP], s0[HOP], acc[HOP];
    static double s1r[HOP], s0r[HOP], accr[HOP], acc0[HOP];
    for (size_t k = 0; k <= K; ++k) { A0[k] = frand(); A1[k] = frand(); }
    const size_t hops[] = {1, 15, 16, 17, 64, 150}, kmaxs[] = {0, 1, 7, 90};
    for (size_t a = 0; a < 6; ++a)
        for (size_t b = 0; b < 4; ++b) {
            size_t hop = hops[a], kmax = kmaxs[b];
            for (size_t j = 0; j < hop; ++j) {
                double ph = 0.37 * (double)j + 0.1;
                t[j] = (double)(j + 1) / (double)hop;
                c2[j] = 2.0 * cos(ph);
                s1[j] = s1r[j] = sin(ph);
                s0[j] = s0r[j] = 0.0;
                acc[j] = accr[j] = acc0[j] = frand();
            }
            vsk_harmonic_sum_ref(A0, A1, kmax, t, c2, s1r, s0r, accr, hop);
            vsk_harmonic_sum(isa, A0, A1, kmax, t, c2, s1, s0, acc, hop);
            for (size_t j = 0; j < hop; ++j) {
                double direct = 0.0;     /* Σ a_k sin(kφ) computed directly */
                double ph = 0.37 * (double)j + 0.1;
                for (size_t k = 1; k <= kmax; ++k)
                    direct += (A0[k] + t[j] * (A1[k] - A0[k])) * sin((double)k * ph);
                CHECK(fabs(acc[j] - accr[j]) <= 1e-9, "%s harmonic hop=%zu kmax=%zu j=%zu: %g vs %g",
                      vsk_isa_name(isa), hop, kmax, j, acc[j], accr[j]);
                CHECK(fabs(accr[j] - acc0[j] - direct) <= 1e-9,
                      "harmonic recurrence vs direct sines j=%zu: %g vs %g", j,
                      accr[j] - acc0[j], direct);
            }
        }
}

static void test_fft(uint32_t isa)
{
    enum { MAXN = 2048 };
    static double table[4 * MAXN], buf[MAXN + 2], x[MAXN];
    for (uint32_t n = 2; n <= MAXN; n *= 2) {
        CHECK(vsk_fft_size_ok(n), "size %u", n);
        CHECK(vsk_rfft_table_doubles(n) <= 4 * MAXN, "table size");
        vsk_rfft_init(n, table);
        for (uint32_t j = 0; j < n; ++j) x[j] = buf[j] = frand();
        vsk_rfft_forward(isa, n, table, buf);
        double err = 0.0;
        for (uint32_t k = 0; k <= n / 2; ++k) {
            double re = 0.0, im = 0.0;
            for (uint32_t j = 0; j < n; ++j) {
                double ang = -2.0 * 3.14159265358979323846 * (double)((uint64_t)j * k % n) / n;
                re += x[j] * cos(ang);
                im += x[j] * sin(ang);
            }
            err = fmax(err, fmax(fabs(re - buf[2 * k]), fabs(im - buf[2 * k + 1])));
        }
        CHECK(err < 1e-10 * n, "%s rfft n=%u max error %g", vsk_isa_name(isa), n, err);
        vsk_rfft_inverse(isa, n, table, buf);
        double rt = 0.0;
        for (uint32_t j = 0; j < n; ++j) rt = fmax(rt, fabs(buf[j] - x[j]));
        CHECK(rt < 1e-12 * n, "%s irfft(rfft) n=%u max error %g", vsk_isa_name(isa), n, rt);
    }
    CHECK(!vsk_fft_size_ok(0) && !vsk_fft_size_ok(1) && !vsk_fft_size_ok(6), "bad sizes");
    /* the SIMD FFT does the scalar operations in the same order: same bits */
    static double ref[MAXN + 2];
    for (uint32_t n = 2; n <= MAXN && isa != VSK_ISA_SCALAR; n *= 2) {
        vsk_rfft_init(n, table);
        for (uint32_t j = 0; j < n; ++j) ref[j] = buf[j] = frand();
        vsk_rfft_forward(VSK_ISA_SCALAR, n, table, ref);
        vsk_rfft_forward(isa, n, table, buf);
        CHECK(memcmp(ref, buf, (n + 2) * sizeof(double)) == 0, "%s rfft n=%u != scalar",
              vsk_isa_name(isa), n);
        vsk_rfft_inverse(VSK_ISA_SCALAR, n, table, ref);
        vsk_rfft_inverse(isa, n, table, buf);
        CHECK(memcmp(ref, buf, n * sizeof(double)) == 0, "%s irfft n=%u != scalar",
              vsk_isa_name(isa), n);
    }
}

/* vsk_dot_batch: each output against the reference, and bit-identical to
 * the same pair computed alone (a resampler's block-size invariance). */
static void test_dot_batch(uint32_t isa)
{
    enum { MAXN = 200, PAIRS = 11 };
    static float a[PAIRS][MAXN + 3], b[PAIRS][MAXN + 3];
    for (int i = 0; i < PAIRS; ++i)
        for (int j = 0; j < MAXN + 3; ++j) { a[i][j] = frand(); b[i][j] = frand(); }
    const size_t sizes[] = {0, 1, 7, 8, 9, 16, 64, 65, 192, 200};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; ++s) {
        size_t n = sizes[s];
        const float *pa[PAIRS], *pb[PAIRS];
        for (int i = 0; i < PAIRS; ++i) { pa[i] = a[i] + i % 3; pb[i] = b[(i * 5) % PAIRS] + (i + 1) % 3; }
        float ref[PAIRS], all[PAIRS], one;
        vsk_dot_batch_ref(pa, pb, n, PAIRS, ref);
        vsk_dot_batch(isa, pa, pb, n, PAIRS, all);
        for (int i = 0; i < PAIRS; ++i) {
            double mag = 0.0;
            for (size_t j = 0; j < n; ++j) mag += fabs((double)pa[i][j] * pb[i][j]);
            CHECK(fabs((double)all[i] - ref[i]) <= 1e-6 * (mag + 1.0),
                  "%s dot_batch n=%zu #%d: %g vs %g", vsk_isa_name(isa), n, i, all[i], ref[i]);
            vsk_dot_batch(isa, pa + i, pb + i, n, 1, &one);
            CHECK(memcmp(&one, &all[i], sizeof one) == 0,
                  "%s dot_batch n=%zu #%d: alone %a, batched %a", vsk_isa_name(isa), n, i,
                  one, all[i]);
        }
        for (int start = 0; start < 3; ++start) {   /* an upsampler: 3 rows per window */
            const float *ua[PAIRS], *ub[PAIRS];
            float r[PAIRS], one1;
            for (int i = 0; i < PAIRS; ++i) {
                ua[i] = a[(start + i) % 3];
                ub[i] = b[(start + i) / 3];
            }
            vsk_dot_batch(isa, ua, ub, n, PAIRS, r);
            for (int i = 0; i < PAIRS; ++i) {
                vsk_dot_batch(isa, ua + i, ub + i, n, 1, &one1);
                CHECK(memcmp(&one1, &r[i], sizeof one1) == 0,
                      "%s dot_batch upsampler n=%zu start %d #%d: alone %a, batched %a",
                      vsk_isa_name(isa), n, start, i, one1, r[i]);
            }
        }
        {   /* one shared row (a decimating resampler) vs distinct copies of it */
            static float rowcopy[PAIRS][MAXN + 3];
            const float *sa[PAIRS], *ca[PAIRS];
            float r1[PAIRS], r2[PAIRS];
            for (int i = 0; i < PAIRS; ++i) {
                memcpy(rowcopy[i], a[0], sizeof rowcopy[i]);
                sa[i] = a[0];
                ca[i] = rowcopy[i];
            }
            vsk_dot_batch(isa, sa, pb, n, PAIRS, r1);
            vsk_dot_batch(isa, ca, pb, n, PAIRS, r2);
            CHECK(memcmp(r1, r2, sizeof r1) == 0, "%s dot_batch n=%zu shared row differs",
                  vsk_isa_name(isa), n);
        }
        for (size_t c = 0; c <= PAIRS; ++c) {   /* every group size */
            float part[PAIRS];
            vsk_dot_batch(isa, pa, pb, n, c, part);
            CHECK(c == 0 || memcmp(part, all, c * sizeof(float)) == 0,
                  "%s dot_batch n=%zu count=%zu differs", vsk_isa_name(isa), n, c);
        }
    }
}

/* YIN helpers: the block sum is bit-identical to the reference on every
 * ISA; the sum of squares agrees to rounding. */
static void test_yin_helpers(uint32_t isa)
{
    enum { T = 271, Q = 15 };
    static double first[T], rows[Q * T], r1[T], r2[T];
    static float x[600];
    for (size_t i = 0; i < T; ++i) first[i] = frand();
    for (size_t i = 0; i < (size_t)Q * T; ++i) rows[i] = frand() * 1e3;
    const size_t ns[] = {0, 1, 3, 4, 15, 16, 17, 267, 271};
    for (size_t k = 0; k < sizeof ns / sizeof *ns; ++k)
        for (size_t q = 0; q <= Q; q += 3) {
            memset(r1, 0, sizeof r1); memset(r2, 0, sizeof r2);
            vsk_sum_rows_f64_ref(first, rows, q, ns[k], r1);
            vsk_sum_rows_f64(isa, first, rows, q, ns[k], r2);
            CHECK(memcmp(r1, r2, sizeof r1) == 0, "%s sum_rows n=%zu q=%zu not bit-identical",
                  vsk_isa_name(isa), ns[k], q);
        }
    /* CMND: lengths around the SIMD block (64) and width (4), leading
     * zeros (sums of 0 give 1), and d values from 0 to large */
    static double c1[T + 1], c2[T + 1];
    const size_t ts[] = {0, 1, 3, 4, 5, 63, 64, 65, 130, 267, 270};
    for (size_t k = 0; k < sizeof ts / sizeof *ts; ++k)
        for (int zeros = 0; zeros < 8; zeros += 7) {
            for (size_t i = 0; i <= T; ++i) c1[i] = (int)i <= zeros ? 0.0 : fabs(frand()) * 1e3;
            memcpy(c2, c1, sizeof c1);
            vsk_yin_cmnd_ref(c1, ts[k]);
            vsk_yin_cmnd(isa, c2, ts[k]);
            CHECK(memcmp(c1, c2, sizeof c1) == 0, "%s yin_cmnd tmax=%zu zeros=%d not bit-identical",
                  vsk_isa_name(isa), ts[k], zeros);
        }
    for (size_t i = 0; i < 600; ++i) x[i] = frand();
    const size_t ms[] = {0, 1, 15, 16, 17, 512, 600};
    for (size_t k = 0; k < sizeof ms / sizeof *ms; ++k) {
        double a = vsk_sumsq_f64_ref(x, ms[k]), b = vsk_sumsq_f64(isa, x, ms[k]);
        CHECK(fabs(a - b) <= 1e-13 * (a + 1e-300), "%s sumsq n=%zu: %.17g vs %.17g",
              vsk_isa_name(isa), ms[k], b, a);
    }
}

/* NOISE's hash: every ISA bit-identical to the reference, across the
 * 2^32 wrap of the index. */
static void test_noise_uniform(uint32_t isa)
{
    static double a[300], b[300];
    const uint32_t bases[] = {0, 12345, 0xFFFFFF80u};
    const size_t ns[] = {0, 1, 7, 8, 9, 128, 300};
    for (size_t i = 0; i < 3; ++i)
        for (size_t k = 0; k < sizeof ns / sizeof *ns; ++k) {
            memset(a, 0, sizeof a); memset(b, 0, sizeof b);
            vsk_noise_uniform_ref(1234u + (uint32_t)i, bases[i], ns[k], a);
            vsk_noise_uniform(isa, 1234u + (uint32_t)i, bases[i], ns[k], b);
            CHECK(memcmp(a, b, sizeof a) == 0, "%s noise_uniform base=%u n=%zu differs",
                  vsk_isa_name(isa), bases[i], ns[k]);
        }
    vsk_noise_uniform_ref(0u, 0u, 1, a);     /* h(0, 0) = 0: u = −1 */
    CHECK(a[0] == -1.0, "noise_uniform(0, 0) = %g", a[0]);
}

/* STFT_MAG helpers: bit-identical to the reference on every ISA. */
static void test_stft_helpers(uint32_t isa)
{
    static double z[2 * 260], p1[260], p2[260];
    static float a[260], b[260], y1[130], y2[130];
    for (size_t i = 0; i < 2 * 260; ++i) z[i] = frand() * 30.0;
    z[0] = 0.0; z[1] = -0.0;
    for (size_t i = 0; i < 260; ++i) { a[i] = frand(); b[i] = frand(); }
    const size_t ns[] = {0, 1, 3, 4, 5, 8, 129, 130};
    for (size_t k = 0; k < sizeof ns / sizeof *ns; ++k) {
        memset(y1, 0, sizeof y1); memset(y2, 0, sizeof y2);
        vsk_cabs_f32_ref(z, ns[k], y1);
        vsk_cabs_f32(isa, z, ns[k], y2);
        CHECK(memcmp(y1, y2, sizeof y1) == 0, "%s cabs n=%zu differs", vsk_isa_name(isa), ns[k]);
        memset(p1, 0, sizeof p1); memset(p2, 0, sizeof p2);
        vsk_mul_f32_to_f64_ref(a, b, 2 * ns[k], p1);
        vsk_mul_f32_to_f64(isa, a, b, 2 * ns[k], p2);
        CHECK(memcmp(p1, p2, sizeof p1) == 0, "%s mul_f32_to_f64 n=%zu differs",
              vsk_isa_name(isa), 2 * ns[k]);
    }
    CHECK(y1[0] == 0.0f, "cabs(0) = %g", y1[0]);
}

/* The ISA tables (kernels_table.h): the reference lists every kernel; an
 * ISA's table lists only its own variants (never a reference function, so
 * a gap shows as NULL); a NULL entry dispatches to the reference, bit for
 * bit; an ISA this build cannot compile has an all-NULL table. Prints each
 * ISA's coverage. */
static void test_tables(void)
{
    const vsk_kernel_table *ref = vsk_kernels_for(VSK_ISA_SCALAR);
    CHECK(ref == &vsk_kernels_ref && vsk_kernels_for(VSK_ISA_COUNT_) == ref,
          "scalar / unknown ISA do not map to the reference table");
    for (uint32_t k = 0; k < VSK_KERNEL_TABLE_ENTRIES; ++k)
        CHECK(vsk_kernel_table_entry(ref, k), "reference lacks %s", vsk_kernel_names[k]);
    CHECK(!vsk_kernel_table_entry(ref, VSK_KERNEL_TABLE_ENTRIES), "entry past the end");
    CHECK(sizeof(vsk_kernel_table) == VSK_KERNEL_TABLE_ENTRIES * sizeof(void (*)(void)),
          "vsk_kernel_table has %zu bytes, not %u entries", sizeof(vsk_kernel_table),
          VSK_KERNEL_TABLE_ENTRIES);
    for (uint32_t isa = 1; isa < VSK_ISA_COUNT_; ++isa) {
        const vsk_kernel_table *t = vsk_kernels_for(isa);
        uint32_t have = 0;
        printf("kernels table %s:", vsk_isa_name(isa));
        for (uint32_t k = 0; k < VSK_KERNEL_TABLE_ENTRIES; ++k) {
            const vsk_kernel_fn e = vsk_kernel_table_entry(t, k);
            CHECK(e != vsk_kernel_table_entry(ref, k), "%s lists the reference %s",
                  vsk_isa_name(isa), vsk_kernel_names[k]);
            if (e) { ++have; printf(" %s", vsk_kernel_names[k]); }
        }
        printf(" (%u of %u; the rest run the reference)\n", have, VSK_KERNEL_TABLE_ENTRIES);
    }
#if !defined(VSK_NEON)
    CHECK(vsk_kernels_neon.dot == NULL && vsk_kernels_neon.matvec == NULL,
          "NEON table filled in a non-aarch64 build");
#endif
#if !defined(VSK_X86)
    CHECK(vsk_kernels_avx2.dot == NULL && vsk_kernels_sse2.dot == NULL,
          "x86 tables filled in a non-x86-64 build");
#endif
    /* A NULL entry runs the reference: sumsq_f64 and noise_uniform have no
     * SSE2 variant, so on SSE2 they are the reference bit for bit. */
    if (vsk_isa_available(VSK_ISA_SSE2)) {
        CHECK(vsk_kernels_sse2.sumsq_f64 == NULL && vsk_kernels_sse2.noise_uniform == NULL,
              "SSE2 gained sumsq_f64/noise_uniform: pick another NULL entry here");
        static float x[301];
        static double a[301], b[301];
        for (size_t i = 0; i < 301; ++i) x[i] = frand();
        double s1 = vsk_sumsq_f64_ref(x, 301), s2 = vsk_sumsq_f64(VSK_ISA_SSE2, x, 301);
        CHECK(memcmp(&s1, &s2, sizeof s1) == 0, "SSE2 sumsq_f64 is not the reference");
        vsk_noise_uniform_ref(7u, 3u, 301, a);
        vsk_noise_uniform(VSK_ISA_SSE2, 7u, 3u, 301, b);
        CHECK(memcmp(a, b, sizeof a) == 0, "SSE2 noise_uniform is not the reference");
    }
}

int main(void)
{
    test_tables();
    uint32_t best = vsk_isa_detect();
    CHECK(vsk_isa_available(best), "detected ISA %u unavailable", best);
    CHECK(vsk_isa_detect() == best, "detection not deterministic");
    int tested = 0;
    for (uint32_t isa = 0; isa < VSK_ISA_COUNT_; ++isa) {
        if (!vsk_isa_available(isa)) continue;
        test_isa(isa);
        test_lags_and_act(isa);
        test_matvec_q8(isa);
        test_harmonic_sum(isa);
        test_dot_batch(isa);
        test_yin_helpers(isa);
        test_noise_uniform(isa);
        test_stft_helpers(isa);
        test_fft(isa);
        printf("kernels: %s ok\n", vsk_isa_name(isa));
        ++tested;
    }
    CHECK(tested >= 1, "no ISA tested");
    printf("best ISA: %s; %d failure(s)\n", vsk_isa_name(best), failures);
    return failures ? 1 : 0;
}
