/* kernels.c — dot / squared difference / matvec: plain C + SSE2, AVX2+FMA
 * (x86-64, via __attribute__((target))) and NEON (aarch64). See kernels.h. */
#include "kernels.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#  define VSK_X86 1
#  include <cpuid.h>
#  include <immintrin.h>
#endif
#if defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#  define VSK_NEON 1
#  include <arm_neon.h>
#endif

/* ------------------------------------------------------------ detection */

#ifdef VSK_X86
static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int x86_has_avx2_fma(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned osxsave = 1u << 27, avx = 1u << 28, fma = 1u << 12;
    if ((c & (osxsave | avx | fma)) != (osxsave | avx | fma)) return 0;
    if ((xgetbv0() & 6u) != 6u) return 0;           /* XMM + YMM state */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & (1u << 5)) != 0;                    /* AVX2 */
}
#endif

uint32_t vsk_isa_detect(void)
{
#if defined(VSK_X86)
    return x86_has_avx2_fma() ? VSK_ISA_AVX2 : VSK_ISA_SSE2;
#elif defined(VSK_NEON)
    return VSK_ISA_NEON;
#else
    return VSK_ISA_SCALAR;
#endif
}

int vsk_isa_available(uint32_t isa)
{
    switch (isa) {
    case VSK_ISA_SCALAR: return 1;
#if defined(VSK_X86)
    case VSK_ISA_SSE2: return 1;
    case VSK_ISA_AVX2: return x86_has_avx2_fma();
#endif
#if defined(VSK_NEON)
    case VSK_ISA_NEON: return 1;
#endif
    default: return 0;
    }
}

const char *vsk_isa_name(uint32_t isa)
{
    static const char *const names[] = {"scalar", "sse2", "avx2", "neon"};
    return isa < VSK_ISA_COUNT_ ? names[isa] : "?";
}

/* ------------------------------------------------------------ reference */

float vsk_dot_ref(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += (double)a[i] * b[i];
    return (float)s;
}

float vsk_sqdiff_ref(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) {
        double d = (double)a[i] - b[i];
        s += d * d;
    }
    return (float)s;
}

void vsk_matvec_ref(const float *W, const float *x, const float *bias,
                    float *y, size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; ++r) {
        float v = vsk_dot_ref(W + r * cols, x, cols);
        y[r] = bias ? v + bias[r] : v;
    }
}

/* ----------------------------------------------------------------- SSE2 */

#ifdef VSK_X86
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
        for (; i < cols; ++i) {
            out[0] += w0[i] * x[i]; out[1] += w1[i] * x[i];
            out[2] += w2[i] * x[i]; out[3] += w3[i] * x[i];
        }
        for (int k = 0; k < 4; ++k) y[r + k] = bias ? out[k] + bias[r + k] : out[k];
    }
    for (; r < rows; ++r) {
        float v = dot_sse2(W + r * cols, x, cols);
        y[r] = bias ? v + bias[r] : v;
    }
}

/* ------------------------------------------------------------ AVX2 + FMA */

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
        for (; i < cols; ++i) {
            out[0] += w0[i] * x[i]; out[1] += w1[i] * x[i];
            out[2] += w2[i] * x[i]; out[3] += w3[i] * x[i];
        }
        for (int k = 0; k < 4; ++k) y[r + k] = bias ? out[k] + bias[r + k] : out[k];
    }
    for (; r < rows; ++r) {
        float v = dot_avx2(W + r * cols, x, cols);
        y[r] = bias ? v + bias[r] : v;
    }
}
#endif /* VSK_X86 */

/* ----------------------------------------------------------------- NEON */

#ifdef VSK_NEON
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
        for (; i < cols; ++i) {
            out[0] += w0[i] * x[i]; out[1] += w1[i] * x[i];
            out[2] += w2[i] * x[i]; out[3] += w3[i] * x[i];
        }
        for (int k = 0; k < 4; ++k) y[r + k] = bias ? out[k] + bias[r + k] : out[k];
    }
    for (; r < rows; ++r) {
        float v = dot_neon(W + r * cols, x, cols);
        y[r] = bias ? v + bias[r] : v;
    }
}
#endif /* VSK_NEON */

/* ------------------------------------------------------------- dispatch */

float vsk_dot(uint32_t isa, const float *a, const float *b, size_t n)
{
    switch (isa) {
#ifdef VSK_X86
    case VSK_ISA_AVX2: return dot_avx2(a, b, n);
    case VSK_ISA_SSE2: return dot_sse2(a, b, n);
#endif
#ifdef VSK_NEON
    case VSK_ISA_NEON: return dot_neon(a, b, n);
#endif
    default: return vsk_dot_ref(a, b, n);
    }
}

float vsk_sqdiff(uint32_t isa, const float *a, const float *b, size_t n)
{
    switch (isa) {
#ifdef VSK_X86
    case VSK_ISA_AVX2: return sqdiff_avx2(a, b, n);
    case VSK_ISA_SSE2: return sqdiff_sse2(a, b, n);
#endif
#ifdef VSK_NEON
    case VSK_ISA_NEON: return sqdiff_neon(a, b, n);
#endif
    default: return vsk_sqdiff_ref(a, b, n);
    }
}

void vsk_matvec(uint32_t isa, const float *W, const float *x,
                const float *bias, float *y, size_t rows, size_t cols)
{
    switch (isa) {
#ifdef VSK_X86
    case VSK_ISA_AVX2: matvec_avx2(W, x, bias, y, rows, cols); return;
    case VSK_ISA_SSE2: matvec_sse2(W, x, bias, y, rows, cols); return;
#endif
#ifdef VSK_NEON
    case VSK_ISA_NEON: matvec_neon(W, x, bias, y, rows, cols); return;
#endif
    default: vsk_matvec_ref(W, x, bias, y, rows, cols); return;
    }
}
