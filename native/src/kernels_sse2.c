/* kernels_sse2.c — SSE2 kernels (x86-64 baseline, 4 lanes). Its table
 * covers dot, sqdiff and matvec; dot_batch and sqdiff_lags are those
 * applied per output; every other entry is NULL (the reference runs). */
#include "kernels_table.h"

#ifdef VSK_X86
#include <immintrin.h>

static inline float hsum128(__m128 v)
{
    __m128 s = _mm_add_ps(v, _mm_movehl_ps(v, v));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

static float dot_sse2(const float *a, const float *b, size_t n)
{
    __m128 s0 = _mm_setzero_ps(), s1 = _mm_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i)));
        s1 = _mm_add_ps(s1, _mm_mul_ps(_mm_loadu_ps(a + i + 4), _mm_loadu_ps(b + i + 4)));
    }
    float s = hsum128(_mm_add_ps(s0, s1));
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

static float sqdiff_sse2(const float *a, const float *b, size_t n)
{
    __m128 s0 = _mm_setzero_ps(), s1 = _mm_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128 d0 = _mm_sub_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i));
        __m128 d1 = _mm_sub_ps(_mm_loadu_ps(a + i + 4), _mm_loadu_ps(b + i + 4));
        s0 = _mm_add_ps(s0, _mm_mul_ps(d0, d0));
        s1 = _mm_add_ps(s1, _mm_mul_ps(d1, d1));
    }
    float s = hsum128(_mm_add_ps(s0, s1));
    for (; i < n; ++i) { float d = a[i] - b[i]; s += d * d; }
    return s;
}

static void matvec_sse2(const float *W, const float *x, const float *bias,
                        float *y, size_t rows, size_t cols)
{
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *w0 = W + r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        __m128 s0 = _mm_setzero_ps(), s1 = _mm_setzero_ps();
        __m128 s2 = _mm_setzero_ps(), s3 = _mm_setzero_ps();
        size_t i = 0;
        for (; i + 4 <= cols; i += 4) {
            __m128 xv = _mm_loadu_ps(x + i);
            s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(w0 + i), xv));
            s1 = _mm_add_ps(s1, _mm_mul_ps(_mm_loadu_ps(w1 + i), xv));
            s2 = _mm_add_ps(s2, _mm_mul_ps(_mm_loadu_ps(w2 + i), xv));
            s3 = _mm_add_ps(s3, _mm_mul_ps(_mm_loadu_ps(w3 + i), xv));
        }
        /* transpose-add the four accumulators into one vector of sums */
        __m128 t0 = _mm_unpacklo_ps(s0, s1), t1 = _mm_unpackhi_ps(s0, s1);
        __m128 t2 = _mm_unpacklo_ps(s2, s3), t3 = _mm_unpackhi_ps(s2, s3);
        __m128 sum = _mm_add_ps(_mm_add_ps(_mm_movelh_ps(t0, t2), _mm_movehl_ps(t2, t0)),
                                _mm_add_ps(_mm_movelh_ps(t1, t3), _mm_movehl_ps(t3, t1)));
        float out[4];
        _mm_storeu_ps(out, sum);
        vsk_matvec4_finish(w0, x, bias, y, r, i, cols, out);
    }
    for (; r < rows; ++r) {
        float v = dot_sse2(W + r * cols, x, cols);
        y[r] = bias ? v + bias[r] : v;
    }
}

VSK_KERNELS_PER_OUTPUT(sse2)

const vsk_kernel_table vsk_kernels_sse2 = {
    .dot = dot_sse2, .dot_batch = dot_batch_sse2, .sqdiff = sqdiff_sse2,
    .sqdiff_lags = sqdiff_lags_sse2, .matvec = matvec_sse2};
#else
const vsk_kernel_table vsk_kernels_sse2 = {0};
#endif
