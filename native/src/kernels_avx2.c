/* kernels_avx2.c — AVX2 + FMA kernels (x86-64, 8 lanes), compiled per
 * function with __attribute__((target)) so the library still runs on a CPU
 * without them (kernels.c picks this table only where CPUID says so). Its
 * table covers every kernel. */
#include <math.h>

#include "kernels_table.h"

#ifdef VSK_X86
#include <immintrin.h>

#define VSK_AVX2 __attribute__((target("avx2,fma")))

VSK_AVX2 static inline float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

VSK_AVX2 static float dot_avx2(const float *a, const float *b, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    if (i + 8 <= n) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        i += 8;
    }
    float s = hsum256(_mm256_add_ps(s0, s1));
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

/* Four dots at a time (independent FMA chains, loop overhead shared, one
 * hadd tree for the four sums). A short group is padded with copies of its
 * first pair, so every output takes exactly the same operations in any
 * slot and group: the result does not depend on how a caller batches. */
VSK_AVX2 static void dot4_avx2(const float *const *a, const float *const *b, size_t n,
                               float *r)
{
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
    const float *b0 = b[0], *b1 = b[1], *b2 = b[2], *b3 = b[3];
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a0 + j), _mm256_loadu_ps(b0 + j), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a1 + j), _mm256_loadu_ps(b1 + j), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a2 + j), _mm256_loadu_ps(b2 + j), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a3 + j), _mm256_loadu_ps(b3 + j), s3);
    }
    __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(s0, s1), _mm256_hadd_ps(s2, s3));
    _mm_storeu_ps(r, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
    for (; j < n; ++j) {   /* explicit FMA: the same in every slot */
        r[0] = fmaf(a0[j], b0[j], r[0]); r[1] = fmaf(a1[j], b1[j], r[1]);
        r[2] = fmaf(a2[j], b2[j], r[2]); r[3] = fmaf(a3[j], b3[j], r[3]);
    }
}
/* dot4_avx2 for eight windows against one row (a decimating resampler):
 * the row is loaded once per 8 taps, and eight independent sums keep the
 * FMA pipes busy (four wait on each other's latency). Each output's FMAs,
 * reduction tree (two dot4 trees) and tail are dot4's: the same bits. */
VSK_AVX2 static void dot8_same_a_avx2(const float *a0, const float *const *b, size_t n,
                                      float *r)
{
    const float *b0 = b[0], *b1 = b[1], *b2 = b[2], *b3 = b[3];
    const float *b4 = b[4], *b5 = b[5], *b6 = b[6], *b7 = b[7];
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        const __m256 av = _mm256_loadu_ps(a0 + j);
        s0 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b0 + j), s0);
        s1 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b1 + j), s1);
        s2 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b2 + j), s2);
        s3 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b3 + j), s3);
        s4 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b4 + j), s4);
        s5 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b5 + j), s5);
        s6 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b6 + j), s6);
        s7 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b7 + j), s7);
    }
    __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(s0, s1), _mm256_hadd_ps(s2, s3));
    _mm_storeu_ps(r, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
    h = _mm256_hadd_ps(_mm256_hadd_ps(s4, s5), _mm256_hadd_ps(s6, s7));
    _mm_storeu_ps(r + 4, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
    for (; j < n; ++j)
        for (size_t k = 0; k < 8; ++k) r[k] = fmaf(a0[j], b[k][j], r[k]);
}
/* dot4_avx2 when the four outputs read two windows, the first K of them
 * b[0] and the rest b[K] (an upsampler's phases: P rows per window); each
 * window is loaded once per 8 taps. The same FMAs, tree and tail per
 * output as dot4_avx2: the same bits. */
#define VSK_DOT4_TWO_B(K)                                                              \
    VSK_AVX2 static void dot4_two_b##K##_avx2(const float *const *a, const float *const *b, \
                                              size_t n, float *r)                      \
    {                                                                                  \
        const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];                    \
        const float *bl = b[0], *bh = b[K];                                            \
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;                    \
        size_t j = 0;                                                                  \
        for (; j + 8 <= n; j += 8) {                                                   \
            const __m256 vl = _mm256_loadu_ps(bl + j), vh = _mm256_loadu_ps(bh + j);    \
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a0 + j), 0 < K ? vl : vh, s0);         \
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a1 + j), 1 < K ? vl : vh, s1);         \
            s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a2 + j), 2 < K ? vl : vh, s2);         \
            s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a3 + j), 3 < K ? vl : vh, s3);         \
        }                                                                              \
        __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(s0, s1), _mm256_hadd_ps(s2, s3));     \
        _mm_storeu_ps(r, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1))); \
        for (; j < n; ++j) {                                                           \
            r[0] = fmaf(a0[j], b[0][j], r[0]); r[1] = fmaf(a1[j], b[1][j], r[1]);       \
            r[2] = fmaf(a2[j], b[2][j], r[2]); r[3] = fmaf(a3[j], b[3][j], r[3]);       \
        }                                                                              \
    }
VSK_DOT4_TWO_B(1)
VSK_DOT4_TWO_B(2)
VSK_DOT4_TWO_B(3)
#undef VSK_DOT4_TWO_B

/* Groups of four outputs reading at most two consecutive windows. */
VSK_AVX2 static void dot4_any_avx2(const float *const *a, const float *const *b, size_t n,
                                   float *r)
{
    if (b[0] == b[1] && b[1] == b[2] && b[3] != b[2])
        dot4_two_b3_avx2(a, b, n, r);
    else if (b[0] == b[1] && b[1] != b[2] && b[2] == b[3])
        dot4_two_b2_avx2(a, b, n, r);
    else if (b[0] != b[1] && b[1] == b[2] && b[2] == b[3])
        dot4_two_b1_avx2(a, b, n, r);
    else
        dot4_avx2(a, b, n, r);
}
VSK_AVX2 static void dot_batch_avx2(const float *const *a, const float *const *b, size_t n,
                                    size_t count, float *out)
{
    size_t i = 0;
    for (; i + 8 <= count && a[i] == a[i + 1] && a[i] == a[i + 2] && a[i] == a[i + 3] &&
           a[i] == a[i + 4] && a[i] == a[i + 5] && a[i] == a[i + 6] && a[i] == a[i + 7];
         i += 8)
        dot8_same_a_avx2(a[i], b + i, n, out + i);
    for (; i + 4 <= count; i += 4)
        dot4_any_avx2(a + i, b + i, n, out + i);
    if (i < count) {
        const float *pa[4], *pb[4];
        float r[4];
        for (size_t k = 0; k < 4; ++k) {
            pa[k] = a[i + k < count ? i + k : i];
            pb[k] = b[i + k < count ? i + k : i];
        }
        dot4_avx2(pa, pb, n, r);
        for (size_t k = 0; i + k < count; ++k) out[i + k] = r[k];
    }
}

VSK_AVX2 static float sqdiff_avx2(const float *a, const float *b, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
    }
    if (i + 8 <= n) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        i += 8;
    }
    float s = hsum256(_mm256_add_ps(s0, s1));
    for (; i < n; ++i) { float d = a[i] - b[i]; s += d * d; }
    return s;
}

VSK_AVX2 static void matvec_avx2(const float *W, const float *x, const float *bias,
                                 float *y, size_t rows, size_t cols)
{
    size_t r = 0;
    /* 8 rows per pass share each x load; per row the same FMAs, hadd tree
     * and tail as the 4-row pass below (bit-identical to it) */
    for (; r + 8 <= rows && cols >= 128; r += 8) {
        const float *w0 = W + r * cols;
        __m256 s[8];
        for (int k = 0; k < 8; ++k) s[k] = _mm256_setzero_ps();
        size_t i = 0;
        for (; i + 8 <= cols; i += 8) {
            const __m256 xv = _mm256_loadu_ps(x + i);
            for (int k = 0; k < 8; ++k)
                s[k] = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k * cols + i), xv, s[k]);
        }
        for (int g = 0; g < 2; ++g) {
            __m256 h01 = _mm256_hadd_ps(s[4 * g], s[4 * g + 1]);
            __m256 h23 = _mm256_hadd_ps(s[4 * g + 2], s[4 * g + 3]);
            __m256 h = _mm256_hadd_ps(h01, h23);
            __m128 sum = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
            float out[4];
            _mm_storeu_ps(out, sum);
            vsk_matvec4_finish(w0 + (size_t)(4 * g) * cols, x, bias, y, r + 4 * (size_t)g, i,
                               cols, out);
        }
    }
    for (; r + 4 <= rows; r += 4) {
        const float *w0 = W + r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
        size_t i = 0;
        for (; i + 8 <= cols; i += 8) {
            __m256 xv = _mm256_loadu_ps(x + i);
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + i), xv, s0);
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + i), xv, s1);
            s2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + i), xv, s2);
            s3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + i), xv, s3);
        }
        /* reduce 4 x 8 lanes -> 4 sums */
        __m256 h01 = _mm256_hadd_ps(s0, s1), h23 = _mm256_hadd_ps(s2, s3);
        __m256 h = _mm256_hadd_ps(h01, h23);
        __m128 sum = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        float out[4];
        _mm_storeu_ps(out, sum);
        vsk_matvec4_finish(w0, x, bias, y, r, i, cols, out);
    }
    for (; r < rows; ++r) {
        float v = dot_avx2(W + r * cols, x, cols);
        y[r] = bias ? v + bias[r] : v;
    }
}
/* Short windows: vectorise across lags instead (no horizontal sums):
 * for each j, 8 consecutive lags share the broadcast x_j. */
VSK_AVX2 static void sqdiff_lags_short_avx2(const float *x, size_t W, size_t t0,
                                            size_t count, float *out)
{
    size_t q = 0;
    for (; q + 32 <= count; q += 32) {
        const float *b = x + t0 + q;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (size_t j = 0; j < W; ++j) {
            const __m256 a = _mm256_broadcast_ss(x + j);
            __m256 d0 = _mm256_sub_ps(a, _mm256_loadu_ps(b + j));
            __m256 d1 = _mm256_sub_ps(a, _mm256_loadu_ps(b + j + 8));
            __m256 d2 = _mm256_sub_ps(a, _mm256_loadu_ps(b + j + 16));
            __m256 d3 = _mm256_sub_ps(a, _mm256_loadu_ps(b + j + 24));
            s0 = _mm256_fmadd_ps(d0, d0, s0);
            s1 = _mm256_fmadd_ps(d1, d1, s1);
            s2 = _mm256_fmadd_ps(d2, d2, s2);
            s3 = _mm256_fmadd_ps(d3, d3, s3);
        }
        _mm256_storeu_ps(out + q, s0);
        _mm256_storeu_ps(out + q + 8, s1);
        _mm256_storeu_ps(out + q + 16, s2);
        _mm256_storeu_ps(out + q + 24, s3);
    }
    for (; q + 8 <= count; q += 8) {
        const float *b = x + t0 + q;
        __m256 s0 = _mm256_setzero_ps();
        for (size_t j = 0; j < W; ++j) {
            __m256 d0 = _mm256_sub_ps(_mm256_broadcast_ss(x + j), _mm256_loadu_ps(b + j));
            s0 = _mm256_fmadd_ps(d0, d0, s0);
        }
        _mm256_storeu_ps(out + q, s0);
    }
    for (; q < count; ++q) {
        float acc = 0.f;
        for (size_t j = 0; j < W; ++j) {
            float d = x[j] - x[j + t0 + q];
            acc += d * d;
        }
        out[q] = acc;
    }
}

VSK_AVX2 static void sqdiff_lags_avx2(const float *x, size_t W, size_t t0, size_t count,
                                      float *out)
{
    if (W <= 128) {
        sqdiff_lags_short_avx2(x, W, t0, count, out);
        return;
    }
    size_t q = 0;
    for (; q + 4 <= count; q += 4) {
        const float *b0 = x + t0 + q, *b1 = b0 + 1, *b2 = b0 + 2, *b3 = b0 + 3;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        __m256 u0 = s0, u1 = s0, u2 = s0, u3 = s0;
        size_t j = 0;
        for (; j + 16 <= W; j += 16) {
            __m256 a = _mm256_loadu_ps(x + j), c = _mm256_loadu_ps(x + j + 8), d;
            d = _mm256_sub_ps(a, _mm256_loadu_ps(b0 + j)); s0 = _mm256_fmadd_ps(d, d, s0);
            d = _mm256_sub_ps(a, _mm256_loadu_ps(b1 + j)); s1 = _mm256_fmadd_ps(d, d, s1);
            d = _mm256_sub_ps(a, _mm256_loadu_ps(b2 + j)); s2 = _mm256_fmadd_ps(d, d, s2);
            d = _mm256_sub_ps(a, _mm256_loadu_ps(b3 + j)); s3 = _mm256_fmadd_ps(d, d, s3);
            d = _mm256_sub_ps(c, _mm256_loadu_ps(b0 + j + 8)); u0 = _mm256_fmadd_ps(d, d, u0);
            d = _mm256_sub_ps(c, _mm256_loadu_ps(b1 + j + 8)); u1 = _mm256_fmadd_ps(d, d, u1);
            d = _mm256_sub_ps(c, _mm256_loadu_ps(b2 + j + 8)); u2 = _mm256_fmadd_ps(d, d, u2);
            d = _mm256_sub_ps(c, _mm256_loadu_ps(b3 + j + 8)); u3 = _mm256_fmadd_ps(d, d, u3);
        }
        for (; j + 8 <= W; j += 8) {
            __m256 a = _mm256_loadu_ps(x + j), d;
            d = _mm256_sub_ps(a, _mm256_loadu_ps(b0 + j)); s0 = _mm256_fmadd_ps(d, d, s0);
            d = _mm256_sub_ps(a, _mm256_loadu_ps(b1 + j)); s1 = _mm256_fmadd_ps(d, d, s1);
            d = _mm256_sub_ps(a, _mm256_loadu_ps(b2 + j)); s2 = _mm256_fmadd_ps(d, d, s2);
            d = _mm256_sub_ps(a, _mm256_loadu_ps(b3 + j)); s3 = _mm256_fmadd_ps(d, d, s3);
        }
        float r0 = hsum256(_mm256_add_ps(s0, u0)), r1 = hsum256(_mm256_add_ps(s1, u1));
        float r2 = hsum256(_mm256_add_ps(s2, u2)), r3 = hsum256(_mm256_add_ps(s3, u3));
        for (; j < W; ++j) {
            float a = x[j], d0 = a - b0[j], d1 = a - b1[j], d2 = a - b2[j], d3 = a - b3[j];
            r0 += d0 * d0; r1 += d1 * d1; r2 += d2 * d2; r3 += d3 * d3;
        }
        out[q] = r0; out[q + 1] = r1; out[q + 2] = r2; out[q + 3] = r3;
    }
    for (; q < count; ++q) out[q] = sqdiff_avx2(x, x + t0 + q, W);
}

/* Vectorised across lags: for each j, 4 consecutive lags per register share
 * the broadcast x_j; 32 lags (8 independent chains) per pass. */
VSK_AVX2 static void sqdiff_lags_f64_avx2(const float *x, size_t W, size_t t0, size_t count,
                                          double *out)
{
    size_t q = 0;
    for (; q + 32 <= count; q += 32) {
        const float *b = x + t0 + q;
        __m256d s[8];
        for (int k = 0; k < 8; ++k) s[k] = _mm256_setzero_pd();
        for (size_t j = 0; j < W; ++j) {
            const __m256d a = _mm256_set1_pd((double)x[j]);
            const float *bj = b + j;
            for (int k = 0; k < 8; ++k) {
                __m256d d = _mm256_sub_pd(a, _mm256_cvtps_pd(_mm_loadu_ps(bj + 4 * k)));
                s[k] = _mm256_fmadd_pd(d, d, s[k]);
            }
        }
        for (int k = 0; k < 8; ++k) _mm256_storeu_pd(out + q + 4 * k, s[k]);
    }
    for (; q + 4 <= count; q += 4) {
        const float *b = x + t0 + q;
        __m256d s0 = _mm256_setzero_pd();
        for (size_t j = 0; j < W; ++j) {
            __m256d d = _mm256_sub_pd(_mm256_set1_pd((double)x[j]),
                                      _mm256_cvtps_pd(_mm_loadu_ps(b + j)));
            s0 = _mm256_fmadd_pd(d, d, s0);
        }
        _mm256_storeu_pd(out + q, s0);
    }
    if (q < count) vsk_sqdiff_lags_f64_ref(x, W, t0 + q, count - q, out + q);
}

/* Same per-element order as the reference (first, then rows 0, 1, ...):
 * bit-identical to it; 16 elements per pass, each row added from memory. */
VSK_AVX2 static void sum_rows_f64_avx2(const double *first, const double *rows,
                                       size_t nrows, size_t n, double *out)
{
    size_t t = 0;
    for (; t + 16 <= n; t += 16) {
        __m256d s0 = _mm256_loadu_pd(first + t), s1 = _mm256_loadu_pd(first + t + 4);
        __m256d s2 = _mm256_loadu_pd(first + t + 8), s3 = _mm256_loadu_pd(first + t + 12);
        const double *r = rows + t;
        for (size_t b = 0; b < nrows; ++b, r += n) {
            s0 = _mm256_add_pd(s0, _mm256_loadu_pd(r));
            s1 = _mm256_add_pd(s1, _mm256_loadu_pd(r + 4));
            s2 = _mm256_add_pd(s2, _mm256_loadu_pd(r + 8));
            s3 = _mm256_add_pd(s3, _mm256_loadu_pd(r + 12));
        }
        _mm256_storeu_pd(out + t, s0); _mm256_storeu_pd(out + t + 4, s1);
        _mm256_storeu_pd(out + t + 8, s2); _mm256_storeu_pd(out + t + 12, s3);
    }
    for (; t + 4 <= n; t += 4) {
        __m256d s0 = _mm256_loadu_pd(first + t);
        for (size_t b = 0; b < nrows; ++b) s0 = _mm256_add_pd(s0, _mm256_loadu_pd(rows + b * n + t));
        _mm256_storeu_pd(out + t, s0);
    }
    if (t < n) {
        for (; t < n; ++t) {
            double s = first[t];
            for (size_t b = 0; b < nrows; ++b) s += rows[b * n + t];
            out[t] = s;
        }
    }
}
/* The running sums in blocks of 64 lags (sequential, as the reference),
 * then the quotients 4 at a time: the reference's bits, with the divisions
 * (the loop's cost) pipelined. Lanes whose sum is 0 divide by 1 and are
 * then replaced by 1, so nothing divides by zero. */
VSK_AVX2 static void yin_cmnd_avx2(double *d, size_t tmax)
{
    enum { B = 64 };
    double c[B], cum = 0.0;
    d[0] = 1.0;
    const __m256d zero = _mm256_setzero_pd(), one = _mm256_set1_pd(1.0);
    for (size_t t0 = 1; t0 <= tmax; t0 += B) {
        const size_t m = tmax - t0 + 1 < B ? tmax - t0 + 1 : B;
        for (size_t i = 0; i < m; ++i) {
            cum += d[t0 + i];
            c[i] = cum;
        }
        size_t i = 0;
        for (; i + 4 <= m; i += 4) {
            const __m256d ci = _mm256_loadu_pd(c + i);
            const __m256d pos = _mm256_cmp_pd(ci, zero, _CMP_GT_OQ);
            const __m256d t = _mm256_set_pd((double)(t0 + i + 3), (double)(t0 + i + 2),
                                            (double)(t0 + i + 1), (double)(t0 + i));
            const __m256d q = _mm256_div_pd(_mm256_mul_pd(_mm256_loadu_pd(d + t0 + i), t),
                                            _mm256_blendv_pd(one, ci, pos));
            _mm256_storeu_pd(d + t0 + i, _mm256_blendv_pd(one, q, pos));
        }
        for (; i < m; ++i)
            d[t0 + i] = c[i] > 0.0 ? d[t0 + i] * (double)(t0 + i) / c[i] : 1.0;
    }
}

/* Σ x² in double, 16 partial sums (products exact). */
VSK_AVX2 static double sumsq_f64_avx2(const float *x, size_t n)
{
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256d a = _mm256_cvtps_pd(_mm_loadu_ps(x + j)), b = _mm256_cvtps_pd(_mm_loadu_ps(x + j + 4));
        __m256d c = _mm256_cvtps_pd(_mm_loadu_ps(x + j + 8)), d = _mm256_cvtps_pd(_mm_loadu_ps(x + j + 12));
        s0 = _mm256_fmadd_pd(a, a, s0); s1 = _mm256_fmadd_pd(b, b, s1);
        s2 = _mm256_fmadd_pd(c, c, s2); s3 = _mm256_fmadd_pd(d, d, s3);
    }
    __m256d s = _mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3));
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    double r = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    for (; j < n; ++j) r += (double)x[j] * x[j];
    return r;
}

/* 8 hashes per pass in 32-bit lanes; h < 2^24, so h·2^-23 − 1 is exact and
 * equals the reference bit for bit. */
VSK_AVX2 static void noise_uniform_avx2(uint32_t seed, uint32_t base, size_t n, double *out)
{
    const __m256i golden = _mm256_set1_epi32((int)0x9E3779B9u), sd = _mm256_set1_epi32((int)seed);
    const __m256i m1 = _mm256_set1_epi32(0x7feb352d), m2 = _mm256_set1_epi32((int)0x846ca68bu);
    const __m256d scale = _mm256_set1_pd(1.0 / 8388608.0), one = _mm256_set1_pd(1.0);
    __m256i idx = _mm256_add_epi32(_mm256_set1_epi32((int)base), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256i eight = _mm256_set1_epi32(8);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256i x = _mm256_xor_si256(sd, _mm256_mullo_epi32(idx, golden));
        x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 16)); x = _mm256_mullo_epi32(x, m1);
        x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 15)); x = _mm256_mullo_epi32(x, m2);
        x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
        x = _mm256_srli_epi32(x, 8);
        __m256d lo = _mm256_cvtepi32_pd(_mm256_castsi256_si128(x));
        __m256d hi = _mm256_cvtepi32_pd(_mm256_extracti128_si256(x, 1));
        _mm256_storeu_pd(out + j, _mm256_sub_pd(_mm256_mul_pd(lo, scale), one));
        _mm256_storeu_pd(out + j + 4, _mm256_sub_pd(_mm256_mul_pd(hi, scale), one));
        idx = _mm256_add_epi32(idx, eight);
    }
    if (j < n) vsk_noise_uniform_ref(seed, base + (uint32_t)j, n - j, out + j);
}

/* The same on a frame already widened to double (each sample converted
 * once per step instead of once per lag group): per 4 lags one load-sub
 * and one FMA. Same per-lag order as the reference up to the 4-lane
 * grouping of lags (sums over j are sequential per lag: bit-identical). */
VSK_AVX2 static void sqdiff_lags_f64d_avx2(const double *x, size_t W, size_t t0, size_t count,
                                           double *out)
{
    size_t q = 0;
    for (; q + 32 <= count; q += 32) {
        const double *b = x + t0 + q;
        __m256d s[8];
        for (int k = 0; k < 8; ++k) s[k] = _mm256_setzero_pd();
        for (size_t j = 0; j < W; ++j) {
            const __m256d a = _mm256_broadcast_sd(x + j);
            const double *bj = b + j;
            for (int k = 0; k < 8; ++k) {
                __m256d d = _mm256_sub_pd(a, _mm256_loadu_pd(bj + 4 * k));
                s[k] = _mm256_fmadd_pd(d, d, s[k]);
            }
        }
        for (int k = 0; k < 8; ++k) _mm256_storeu_pd(out + q + 4 * k, s[k]);
    }
    for (; q + 4 <= count; q += 4) {
        const double *b = x + t0 + q;
        __m256d s0 = _mm256_setzero_pd();
        for (size_t j = 0; j < W; ++j) {
            __m256d d = _mm256_sub_pd(_mm256_broadcast_sd(x + j), _mm256_loadu_pd(b + j));
            s0 = _mm256_fmadd_pd(d, d, s0);
        }
        _mm256_storeu_pd(out + q, s0);
    }
    for (; q < count; ++q) {
        const double *b = x + t0 + q;
        double s0 = 0.0;
        for (size_t j = 0; j < W; ++j) {
            double d = x[j] - b[j];
            s0 = fma(d, d, s0);
        }
        out[q] = s0;
    }
}

/* |z_k| for 4 bins per pass: squares, pairwise add, sqrt, round to float
 * (the reference's operations: bit-identical). */
VSK_AVX2 static void cabs_f32_avx2(const double *z, size_t n, float *y)
{
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        __m256d a = _mm256_loadu_pd(z + 2 * k), b = _mm256_loadu_pd(z + 2 * k + 4);
        __m256d h = _mm256_hadd_pd(_mm256_mul_pd(a, a), _mm256_mul_pd(b, b)); /* k, k+2, k+1, k+3 */
        h = _mm256_permute4x64_pd(h, 0xD8);                                      /* k..k+3 */
        _mm_storeu_ps(y + k, _mm256_cvtpd_ps(_mm256_sqrt_pd(h)));
    }
    if (k < n) vsk_cabs_f32_ref(z + 2 * k, n - k, y + k);
}
/* (double)a·(double)b (exact products), 8 per pass. */
VSK_AVX2 static void mul_f32_to_f64_avx2(const float *a, const float *b, size_t n, double *out)
{
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256d a0 = _mm256_cvtps_pd(_mm_loadu_ps(a + j)), a1 = _mm256_cvtps_pd(_mm_loadu_ps(a + j + 4));
        __m256d b0 = _mm256_cvtps_pd(_mm_loadu_ps(b + j)), b1 = _mm256_cvtps_pd(_mm_loadu_ps(b + j + 4));
        _mm256_storeu_pd(out + j, _mm256_mul_pd(a0, b0));
        _mm256_storeu_pd(out + j + 4, _mm256_mul_pd(a1, b1));
    }
    if (j < n) vsk_mul_f32_to_f64_ref(a + j, b + j, n - j, out + j);
}

VSK_AVX2 static void acc_f64_avx2(double *acc, const float *src, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm256_storeu_pd(acc + i, _mm256_add_pd(_mm256_loadu_pd(acc + i),
                                                _mm256_cvtps_pd(_mm_loadu_ps(src + i))));
    for (; i < n; ++i) acc[i] += (double)src[i];
}

/* exp(x) for x in about [−87, 88] (Cephes expf polynomial, ~1 ulp). */
VSK_AVX2 static inline __m256 exp256(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* 2^n: n in [−126, 128]; split so that n = 127 + 1 does not overflow */
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i h = _mm256_srai_epi32(ni, 1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(
        _mm256_add_epi32(_mm256_sub_epi32(ni, h), _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

/* ln(x) for normal x > 0 (Cephes logf polynomial, ~1 ulp). */
VSK_AVX2 static inline __m256 log256(__m256 x)
{
    x = _mm256_max_ps(x, _mm256_set1_ps(1.17549435e-38f));
    __m256i xi = _mm256_castps_si256(x);
    __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(xi, 23), _mm256_set1_epi32(126)));
    __m256 m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(xi, _mm256_set1_epi32(0x007FFFFF)),
                                                   _mm256_set1_epi32(0x3F000000)));  /* [0.5, 1) */
    __m256 small = _mm256_cmp_ps(m, _mm256_set1_ps(0.707106781186547524f), _CMP_LT_OQ);
    e = _mm256_sub_ps(e, _mm256_and_ps(small, _mm256_set1_ps(1.0f)));
    m = _mm256_sub_ps(_mm256_add_ps(m, _mm256_and_ps(small, m)), _mm256_set1_ps(1.0f));
    __m256 z = _mm256_mul_ps(m, m);
    __m256 y = _mm256_set1_ps(7.0376836292e-2f);
    y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-1.1514610310e-1f));
    y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(1.1676998740e-1f));
    y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-1.2420140846e-1f));
    y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(1.4249322787e-1f));
    y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-1.6668057665e-1f));
    y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(2.0000714765e-1f));
    y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-2.4999993993e-1f));
    y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(3.3333331174e-1f));
    y = _mm256_mul_ps(_mm256_mul_ps(y, m), z);
    y = _mm256_fmadd_ps(e, _mm256_set1_ps(-2.12194440e-4f), y);
    y = _mm256_fnmadd_ps(z, _mm256_set1_ps(0.5f), y);
    __m256 r = _mm256_add_ps(m, y);
    return _mm256_fmadd_ps(e, _mm256_set1_ps(0.693359375f), r);
}

VSK_AVX2 static inline __m256 sigmoid256(__m256 x)
{
    __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

VSK_AVX2 static void sigmoid_avx2(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, sigmoid256(_mm256_loadu_ps(x + i)));
    if (i < n) vsk_sigmoid_ref(x + i, y + i, n - i);
}

VSK_AVX2 static void tanh_avx2(const float *x, float *y, size_t n)
{
    /* tanh(x) = 2σ(2x) − 1 (absolute error ~1e-7) */
    size_t i = 0;
    const __m256 two = _mm256_set1_ps(2.0f), one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= n; i += 8) {
        __m256 s = sigmoid256(_mm256_mul_ps(two, _mm256_loadu_ps(x + i)));
        _mm256_storeu_ps(y + i, _mm256_fmsub_ps(two, s, one));
    }
    if (i < n) vsk_tanh_ref(x + i, y + i, n - i);
}

VSK_AVX2 static void exp_sigmoid_avx2(const float *x, float *y, size_t n)
{
    /* 2·exp(ln10 · ln σ(x)) + 1e−7 */
    size_t i = 0;
    const __m256 ln10 = _mm256_set1_ps(2.302585093f), two = _mm256_set1_ps(2.0f);
    for (; i + 8 <= n; i += 8) {
        __m256 ls = log256(sigmoid256(_mm256_loadu_ps(x + i)));
        __m256 v = _mm256_mul_ps(two, exp256(_mm256_mul_ps(ln10, ls)));
        _mm256_storeu_ps(y + i, _mm256_add_ps(v, _mm256_set1_ps(1e-7f)));
    }
    if (i < n) vsk_exp_sigmoid_ref(x + i, y + i, n - i);
}
VSK_AVX2 static void harmonic_sum_avx2(const double *A0, const double *A1, size_t kmax,
                                       const double *t, const double *c2, double *s1,
                                       double *s0, double *acc, size_t hop)
{
    size_t j = 0;
    /* 16 samples at a time, all recurrences in registers, k innermost */
    for (; j + 16 <= hop; j += 16) {
        __m256d S1[4], S0[4], C[4], T[4], Y[4];
        for (int b = 0; b < 4; ++b) {
            S1[b] = _mm256_loadu_pd(s1 + j + 4 * b);
            S0[b] = _mm256_loadu_pd(s0 + j + 4 * b);
            C[b] = _mm256_loadu_pd(c2 + j + 4 * b);
            T[b] = _mm256_loadu_pd(t + j + 4 * b);
            Y[b] = _mm256_loadu_pd(acc + j + 4 * b);
        }
        for (size_t k = 1; k <= kmax; ++k) {
            const __m256d a0 = _mm256_set1_pd(A0[k]), da = _mm256_set1_pd(A1[k] - A0[k]);
            for (int b = 0; b < 4; ++b) {
                __m256d sk = S1[b];
                Y[b] = _mm256_fmadd_pd(_mm256_fmadd_pd(T[b], da, a0), sk, Y[b]);
                S1[b] = _mm256_fmsub_pd(C[b], sk, S0[b]);
                S0[b] = sk;
            }
        }
        for (int b = 0; b < 4; ++b) _mm256_storeu_pd(acc + j + 4 * b, Y[b]);
    }
    if (j < hop)
        vsk_harmonic_sum_loop(A0, A1, kmax, t + j, c2 + j, s1 + j, s0 + j, acc + j, hop - j);
}

/* vsk_q8_quantise_ref vectorised (same m, same products, same rounding:
 * cvtps rounds half to even as nearbyintf does), 32 values per pass. */
VSK_AVX2 static float q8_quantise_avx2(const float *x, size_t cols, int8_t *xq)
{
    const size_t half = VSK_Q8_SCRATCH(cols) / 2u;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m8 = _mm256_setzero_ps(), bad = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= cols; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        m8 = _mm256_max_ps(m8, _mm256_and_ps(v, absmask));
        bad = _mm256_or_ps(bad, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    float m = _mm_cvtss_f32(h);
    int nan = _mm256_movemask_ps(bad) != 0;
    nan |= vsk_q8_absmax_from(x, i, cols, &m);
    if (nan || isinf(m)) return NAN;
    if (m == 0.f) return 0.f;
    const float inv = 127.f / m;
    const __m256 vi = _mm256_set1_ps(inv);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (i = 0; i + 32 <= cols; i += 32) {
        __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i), vi));
        __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8), vi));
        __m256i c = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 16), vi));
        __m256i d = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 24), vi));
        __m256i q = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
        q = _mm256_permutevar8x32_epi32(q, order);
        _mm256_storeu_si256((__m256i *)(xq + i), q);
        _mm256_storeu_si256((__m256i *)(xq + half + i), _mm256_abs_epi8(q));
    }
    vsk_q8_store_from(x, inv, i, cols, xq);
    return m / 127.f;
}

/* One column group (4 columns) of one 8-row block: |q| times the weights
 * with q's signs (maddubs needs one unsigned operand; |Q| <= 127 keeps its
 * pairwise sums inside int16), summed into the 8 int32 row sums. */
VSK_AVX2 static inline __m256i q8_group_avx2(__m256i acc, const int8_t *blk, __m256i xa,
                                             __m256i xs)
{
    const __m256i w = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)blk), xs);
    const __m256i p = _mm256_maddubs_epi16(xa, w);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
}

VSK_AVX2 static inline void q8_store_avx2(__m256i acc, const float *scale, float sx,
                                          const float *bias, float *y, size_t r0, size_t rows)
{
    const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc),
                                   _mm256_mul_ps(_mm256_loadu_ps(scale + r0), _mm256_set1_ps(sx)));
    if (r0 + 8 <= rows) {
        _mm256_storeu_ps(y + r0, bias ? _mm256_add_ps(f, _mm256_loadu_ps(bias + r0)) : f);
        return;
    }
    float t[8];
    _mm256_storeu_ps(t, f);
    vsk_q8_put(t, bias, y, r0, 8u, rows);
}

/* Two 8-row blocks per pass share each broadcast of x; no horizontal sums
 * (the blocked layout keeps a block's 8 rows in the 8 lanes). Measured on
 * Zen 1 (maddubs and madd share one pipe: at most 8 MACs per cycle, ~7
 * reached here): 4 blocks per pass no faster; the same loop written as one
 * always-inline helper for 1 and 2 blocks ~6 % slower. */
VSK_AVX2 static void matvec_q8_avx2(const int8_t *Q, const float *scale, const float *x,
                                    const float *bias, float *y, size_t rows, size_t cols,
                                    int8_t *xq)
{
    const float sx = q8_quantise_avx2(x, cols, xq);
    if (vsk_q8_special(sx, Q, scale, x, bias, y, rows, cols)) return;
    const size_t G = VSK_Q8_GROUPS(cols), P = (rows + 7u) / 8u, half = VSK_Q8_SCRATCH(cols) / 2u;
    const int8_t *xa = xq + half;
    size_t p = 0;
    for (; p + 2 <= P; p += 2) {
        const int8_t *b0 = Q + p * G * 32u, *b1 = b0 + G * 32u;
        __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
        for (size_t g = 0; g < G; ++g) {
            const __m256i bxa = _mm256_set1_epi32(vsk_q8_word(xa, g));
            const __m256i bxs = _mm256_set1_epi32(vsk_q8_word(xq, g));
            a0 = q8_group_avx2(a0, b0 + 32u * g, bxa, bxs);
            a1 = q8_group_avx2(a1, b1 + 32u * g, bxa, bxs);
        }
        q8_store_avx2(a0, scale, sx, bias, y, 8u * p, rows);
        q8_store_avx2(a1, scale, sx, bias, y, 8u * p + 8u, rows);
    }
    if (p < P) {
        const int8_t *b0 = Q + p * G * 32u;
        __m256i a0 = _mm256_setzero_si256();
        for (size_t g = 0; g < G; ++g) {
            a0 = q8_group_avx2(a0, b0 + 32u * g, _mm256_set1_epi32(vsk_q8_word(xa, g)),
                               _mm256_set1_epi32(vsk_q8_word(xq, g)));
        }
        q8_store_avx2(a0, scale, sx, bias, y, 8u * p, rows);
    }
}

#define VSK_AVX2_ENTRY(name) .name = name##_avx2,
const vsk_kernel_table vsk_kernels_avx2 = {VSK_KERNEL_LIST(VSK_AVX2_ENTRY)};
#else
const vsk_kernel_table vsk_kernels_avx2 = {0};
#endif
