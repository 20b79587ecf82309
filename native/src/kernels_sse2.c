/* kernels_sse2.c — SSE2 kernels (x86-64 baseline, 4 lanes). Its table
 * covers dot, sqdiff, matvec and matvec_q8; dot_batch and sqdiff_lags are those
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

/* int8 weights: SSE2 has no byte multiply-add, so each 8-row block's bytes
 * are sign-extended to int16 and multiplied with the quantised x (also
 * int16, one 4-column group repeated twice) by madd: per row two int32
 * pair sums, added at the end. Same integer sums as the reference. */
static inline __m128i q8_widen_lo(__m128i b) { return _mm_srai_epi16(_mm_unpacklo_epi8(b, b), 8); }
static inline __m128i q8_widen_hi(__m128i b) { return _mm_srai_epi16(_mm_unpackhi_epi8(b, b), 8); }
static inline __m128i q8_pair_sums(__m128i a, __m128i b) /* [a0+a1, a2+a3, b0+b1, b2+b3] */
{
    const __m128 fa = _mm_castsi128_ps(a), fb = _mm_castsi128_ps(b);
    return _mm_add_epi32(_mm_castps_si128(_mm_shuffle_ps(fa, fb, _MM_SHUFFLE(2, 0, 2, 0))),
                         _mm_castps_si128(_mm_shuffle_ps(fa, fb, _MM_SHUFFLE(3, 1, 3, 1))));
}

static void q8_block_sse2(const int8_t *blk, size_t G, const int8_t *xq, const float *scale,
                          float sx, float t[8])
{
    __m128i a01 = _mm_setzero_si128(), a23 = a01, a45 = a01, a67 = a01;
    for (size_t g = 0; g < G; ++g) {
        __m128i xv = q8_widen_lo(_mm_cvtsi32_si128(vsk_q8_word(xq, g)));
        xv = _mm_unpacklo_epi64(xv, xv);
        const __m128i w0 = _mm_loadu_si128((const __m128i *)(blk + 32u * g));
        const __m128i w1 = _mm_loadu_si128((const __m128i *)(blk + 32u * g + 16u));
        a01 = _mm_add_epi32(a01, _mm_madd_epi16(q8_widen_lo(w0), xv));
        a23 = _mm_add_epi32(a23, _mm_madd_epi16(q8_widen_hi(w0), xv));
        a45 = _mm_add_epi32(a45, _mm_madd_epi16(q8_widen_lo(w1), xv));
        a67 = _mm_add_epi32(a67, _mm_madd_epi16(q8_widen_hi(w1), xv));
    }
    const __m128 s = _mm_set1_ps(sx);
    _mm_storeu_ps(t, _mm_mul_ps(_mm_cvtepi32_ps(q8_pair_sums(a01, a23)),
                                _mm_mul_ps(_mm_loadu_ps(scale), s)));
    _mm_storeu_ps(t + 4, _mm_mul_ps(_mm_cvtepi32_ps(q8_pair_sums(a45, a67)),
                                    _mm_mul_ps(_mm_loadu_ps(scale + 4), s)));
}
VSK_Q8_MATVEC_BY_BLOCKS(sse2)

const vsk_kernel_table vsk_kernels_sse2 = {
    .dot = dot_sse2, .dot_batch = dot_batch_sse2, .sqdiff = sqdiff_sse2,
    .sqdiff_lags = sqdiff_lags_sse2, .matvec = matvec_sse2, .matvec_q8 = matvec_q8_sse2};
#else
const vsk_kernel_table vsk_kernels_sse2 = {0};
#endif
