/* kernels_neon.c — NEON kernels (aarch64, 4 lanes; baseline there). Its
 * table covers dot, sqdiff, matvec, matvec_q8 (untested: no aarch64
 * machine yet), sqdiff_lags_f64 and harmonic_sum;
 * dot_batch and sqdiff_lags are dot and sqdiff applied per output; every
 * other entry is NULL (the reference runs). */
#include "kernels_table.h"

#ifdef VSK_NEON
#include <arm_neon.h>

static float dot_neon(const float *a, const float *b, size_t n)
{
    float32x4_t s0 = vdupq_n_f32(0.f), s1 = vdupq_n_f32(0.f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
        s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    }
    float s = vaddvq_f32(vaddq_f32(s0, s1));
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

static float sqdiff_neon(const float *a, const float *b, size_t n)
{
    float32x4_t s0 = vdupq_n_f32(0.f), s1 = vdupq_n_f32(0.f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t d0 = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
        float32x4_t d1 = vsubq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        s0 = vfmaq_f32(s0, d0, d0);
        s1 = vfmaq_f32(s1, d1, d1);
    }
    float s = vaddvq_f32(vaddq_f32(s0, s1));
    for (; i < n; ++i) { float d = a[i] - b[i]; s += d * d; }
    return s;
}

static void matvec_neon(const float *W, const float *x, const float *bias,
                        float *y, size_t rows, size_t cols)
{
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *w0 = W + r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        float32x4_t s0 = vdupq_n_f32(0.f), s1 = s0, s2 = s0, s3 = s0;
        size_t i = 0;
        for (; i + 4 <= cols; i += 4) {
            float32x4_t xv = vld1q_f32(x + i);
            s0 = vfmaq_f32(s0, vld1q_f32(w0 + i), xv);
            s1 = vfmaq_f32(s1, vld1q_f32(w1 + i), xv);
            s2 = vfmaq_f32(s2, vld1q_f32(w2 + i), xv);
            s3 = vfmaq_f32(s3, vld1q_f32(w3 + i), xv);
        }
        float out[4] = {vaddvq_f32(s0), vaddvq_f32(s1), vaddvq_f32(s2), vaddvq_f32(s3)};
        vsk_matvec4_finish(w0, x, bias, y, r, i, cols, out);
    }
    for (; r < rows; ++r) {
        float v = dot_neon(W + r * cols, x, cols);
        y[r] = bias ? v + bias[r] : v;
    }
}
static void sqdiff_lags_f64_neon(const float *x, size_t W, size_t t0, size_t count,
                                 double *out)
{
    size_t q = 0;
    for (; q + 16 <= count; q += 16) {
        const float *b = x + t0 + q;
        float64x2_t s[8];
        for (int k = 0; k < 8; ++k) s[k] = vdupq_n_f64(0.0);
        for (size_t j = 0; j < W; ++j) {
            const float64x2_t a = vdupq_n_f64((double)x[j]);
            const float *bj = b + j;
            for (int k = 0; k < 8; ++k) {
                float64x2_t d = vsubq_f64(a, vcvt_f64_f32(vld1_f32(bj + 2 * k)));
                s[k] = vfmaq_f64(s[k], d, d);
            }
        }
        for (int k = 0; k < 8; ++k) vst1q_f64(out + q + 2 * k, s[k]);
    }
    if (q < count) vsk_sqdiff_lags_f64_ref(x, W, t0 + q, count - q, out + q);
}

static void harmonic_sum_neon(const double *A0, const double *A1, size_t kmax,
                              const double *t, const double *c2, double *s1,
                              double *s0, double *acc, size_t hop)
{
    size_t j = 0;
    for (; j + 8 <= hop; j += 8) {
        float64x2_t S1[4], S0[4], C[4], T[4], Y[4];
        for (int b = 0; b < 4; ++b) {
            S1[b] = vld1q_f64(s1 + j + 2 * b);
            S0[b] = vld1q_f64(s0 + j + 2 * b);
            C[b] = vld1q_f64(c2 + j + 2 * b);
            T[b] = vld1q_f64(t + j + 2 * b);
            Y[b] = vld1q_f64(acc + j + 2 * b);
        }
        for (size_t k = 1; k <= kmax; ++k) {
            const float64x2_t a0 = vdupq_n_f64(A0[k]), da = vdupq_n_f64(A1[k] - A0[k]);
            for (int b = 0; b < 4; ++b) {
                float64x2_t sk = S1[b];
                Y[b] = vfmaq_f64(Y[b], vfmaq_f64(a0, T[b], da), sk);
                S1[b] = vsubq_f64(vmulq_f64(C[b], sk), S0[b]);
                S0[b] = sk;
            }
        }
        for (int b = 0; b < 4; ++b) vst1q_f64(acc + j + 2 * b, Y[b]);
    }
    if (j < hop)
        vsk_harmonic_sum_loop(A0, A1, kmax, t + j, c2 + j, s1 + j, s0 + j, acc + j, hop - j);
}

VSK_KERNELS_PER_OUTPUT(neon)

/* int8 weights: the reference's quantised x (vsk_q8_quantise_ref), then per
 * 8-row block and 4-column group the signed bytes times x's 4 bytes
 * (vmull_s8: int16 products, |q·x| <= 16129), pairwise into int32 per
 * row and column pair (vpadalq_s16), and the pairs added at the end: the
 * reference's integer sums. ARMv8.0 baseline (no dot-product extension).
 * Compile-checked only (clang --target=aarch64); not run on aarch64 yet. */
static inline float32x4_t q8_rows_neon(int32x4_t lo, int32x4_t hi, const float *scale, float sx)
{
    return vmulq_f32(vcvtq_f32_s32(vpaddq_s32(lo, hi)), vmulq_n_f32(vld1q_f32(scale), sx));
}

static void q8_block_neon(const int8_t *blk, size_t G, const int8_t *xq, const float *scale,
                          float sx, float t[8])
{
    int32x4_t a01 = vdupq_n_s32(0), a23 = a01, a45 = a01, a67 = a01;
    for (size_t g = 0; g < G; ++g) {
        const int8x16_t xv = vreinterpretq_s8_s32(vdupq_n_s32(vsk_q8_word(xq, g)));
        const int8x16_t w0 = vld1q_s8(blk + 32u * g), w1 = vld1q_s8(blk + 32u * g + 16u);
        a01 = vpadalq_s16(a01, vmull_s8(vget_low_s8(w0), vget_low_s8(xv)));
        a23 = vpadalq_s16(a23, vmull_high_s8(w0, xv));
        a45 = vpadalq_s16(a45, vmull_s8(vget_low_s8(w1), vget_low_s8(xv)));
        a67 = vpadalq_s16(a67, vmull_high_s8(w1, xv));
    }
    vst1q_f32(t, q8_rows_neon(a01, a23, scale, sx));
    vst1q_f32(t + 4, q8_rows_neon(a45, a67, scale + 4, sx));
}
VSK_Q8_MATVEC_BY_BLOCKS(neon)

const vsk_kernel_table vsk_kernels_neon = {
    .dot = dot_neon, .dot_batch = dot_batch_neon, .sqdiff = sqdiff_neon,
    .sqdiff_lags = sqdiff_lags_neon, .sqdiff_lags_f64 = sqdiff_lags_f64_neon,
    .harmonic_sum = harmonic_sum_neon, .matvec = matvec_neon, .matvec_q8 = matvec_q8_neon};
#else
const vsk_kernel_table vsk_kernels_neon = {0};
#endif
