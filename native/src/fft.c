/* fft.c — real FFT of size n via one complex FFT of size m = n/2
 * (iterative radix-2, bit-reversed input order), double precision.
 *
 * Table layout: see vsk_rfft_init. */
#include "fft.h"

#include <math.h>

#include "kernels.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#  define VSK_FFT_X86 1
#  include <immintrin.h>
#endif

#define VSK_TWO_PI 6.283185307179586476925286766559

int vsk_fft_size_ok(uint32_t n)
{
    return n >= 2 && (n & (n - 1)) == 0;
}

/* Table layout (doubles), m = n/2:
 *   [0, m)         complex twiddles e^{-2πik/m}, k < m/2 (re, im)
 *   [m, 3m)        split twiddles e^{-2πik/n}, k < m
 *   [3m, 7m)       AVX stage twiddles: for len = 8, 16, .., m and each pair
 *                  k, k+1 < len/2: (wr_k, wr_k, wr_k+1, wr_k+1) then
 *                  (wi_k, wi_k, wi_k+1, wi_k+1), w = e^{-2πik/len}
 *   [7m, 8m)       bit-reversal swaps: uint32 count, then (i, j) pairs */
#define VSK_TAB_STAGES(m) (3 * (size_t)(m))
#define VSK_TAB_SWAPS(m) (7 * (size_t)(m))

size_t vsk_rfft_table_doubles(uint32_t n)
{
    size_t m = n / 2;
    return 8 * m;
}

void vsk_rfft_init(uint32_t n, double *table)
{
    uint32_t m = n / 2;
    for (uint32_t k = 0; k < m / 2; ++k) {
        double a = -VSK_TWO_PI * (double)k / (double)m;
        table[2 * k] = cos(a);
        table[2 * k + 1] = sin(a);
    }
    double *split = table + m;
    for (uint32_t k = 0; k < m; ++k) {
        double a = -VSK_TWO_PI * (double)k / (double)n;
        split[2 * k] = cos(a);
        split[2 * k + 1] = sin(a);
    }
    /* the same values as the complex table (index k·m/len), duplicated */
    double *st = table + VSK_TAB_STAGES(m);
    for (uint32_t len = 8; len <= m; len <<= 1) {
        const uint32_t half = len >> 1, step = m / len;
        for (uint32_t k = 0; k < half; k += 2, st += 8) {
            const double *w0 = table + 2 * k * step, *w1 = table + 2 * (k + 1) * step;
            st[0] = st[1] = w0[0]; st[2] = st[3] = w1[0];
            st[4] = st[5] = w0[1]; st[6] = st[7] = w1[1];
        }
    }
    uint32_t *sw = (uint32_t *)(void *)(table + VSK_TAB_SWAPS(m)), cnt = 0;
    for (uint32_t i = 1, j = 0; i < m; ++i) {
        uint32_t bit = m >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j |= bit;
        if (i < j) { sw[1 + 2 * cnt] = i; sw[2 + 2 * cnt] = j; ++cnt; }
    }
    sw[0] = cnt;
}

/* In-place complex FFT of size m (power of two) on interleaved z[2m].
 * inverse = 0: forward (table twiddles), 1: inverse (conjugated, unscaled).
 * Stages of length 2 and 4 have trivial twiddles and are done first. */
#ifdef VSK_FFT_X86
/* Stages of length >= 8 with AVX: butterflies k and k+1 side by side,
 * twiddles pre-duplicated in the table (same products and sums as the
 * scalar loop, so the same result). */
__attribute__((target("avx"))) static void stages_avx(uint32_t m, const double *st, double *z,
                                                      int inverse)
{
    const __m256d conj = _mm256_set1_pd(inverse ? -0.0 : 0.0);
    for (uint32_t len = 8; len <= m; len <<= 1) {
        const uint32_t half = len >> 1;
        for (uint32_t s = 0; s < m; s += len) {
            const double *w = st;
            for (uint32_t k = 0; k < half; k += 2, w += 8) {
                const __m256d wr = _mm256_loadu_pd(w);
                const __m256d wi = _mm256_xor_pd(_mm256_loadu_pd(w + 4), conj);
                double *pa = z + 2 * (s + k), *pb = z + 2 * (s + k + half);
                __m256d a = _mm256_loadu_pd(pa), b = _mm256_loadu_pd(pb);
                __m256d bw = _mm256_addsub_pd(_mm256_mul_pd(b, wr),
                                              _mm256_mul_pd(_mm256_permute_pd(b, 0x5), wi));
                _mm256_storeu_pd(pa, _mm256_add_pd(a, bw));
                _mm256_storeu_pd(pb, _mm256_sub_pd(a, bw));
            }
        }
        st += 4 * half;
    }
}
/* The length-2 and length-4 stages fused, two registers per 4 points
 * (same operations as the scalar stages: bit-identical). */
__attribute__((target("avx"))) static void radix4_first_avx(uint32_t m, double *z, int inverse)
{
    /* (re, im)·(∓i): swap re/im of the upper complex, negate one part */
    const __m256d neg = inverse ? _mm256_set_pd(0.0, -0.0, 0.0, 0.0)
                                : _mm256_set_pd(-0.0, 0.0, 0.0, 0.0);
    for (uint32_t s = 0; s < m; s += 4) {
        double *p = z + 2 * s;
        __m256d v01 = _mm256_loadu_pd(p), v23 = _mm256_loadu_pd(p + 4);
        __m256d e = _mm256_permute2f128_pd(v01, v23, 0x20);    /* z0, z2 */
        __m256d o = _mm256_permute2f128_pd(v01, v23, 0x31);    /* z1, z3 */
        __m256d sum = _mm256_add_pd(e, o), dif = _mm256_sub_pd(e, o);  /* a0,a2 | a1,a3 */
        __m256d x = _mm256_permute2f128_pd(sum, dif, 0x20);    /* a0, a1 */
        __m256d y = _mm256_permute2f128_pd(sum, dif, 0x31);    /* a2, a3 */
        y = _mm256_xor_pd(_mm256_permute_pd(y, 0x6), neg);     /* a2, a3·(∓i) */
        _mm256_storeu_pd(p, _mm256_add_pd(x, y));
        _mm256_storeu_pd(p + 4, _mm256_sub_pd(x, y));
    }
}
#endif

static void cfft(uint32_t isa, uint32_t m, const double *tw, double *z, int inverse)
{
    /* bit-reversal permutation (swap list from the table) */
    const uint32_t *sw = (const uint32_t *)(const void *)(tw + VSK_TAB_SWAPS(m));
    for (uint32_t c = 0, cnt = sw[0]; c < cnt; ++c) {
        const uint32_t i = sw[1 + 2 * c], j = sw[2 + 2 * c];
        double tr = z[2 * i], ti = z[2 * i + 1];
        z[2 * i] = z[2 * j]; z[2 * i + 1] = z[2 * j + 1];
        z[2 * j] = tr; z[2 * j + 1] = ti;
    }
#ifdef VSK_FFT_X86
    if (isa == VSK_ISA_AVX2 && m >= 4) {
        radix4_first_avx(m, z, inverse);
        stages_avx(m, tw + VSK_TAB_STAGES(m), z, inverse);
        return;
    }
#endif
    if (m >= 2) {                                   /* length 2: w = 1 */
        for (uint32_t s = 0; s < m; s += 2) {
            double *a = z + 2 * s, *b = a + 2;
            double br = b[0], bi = b[1];
            b[0] = a[0] - br; b[1] = a[1] - bi;
            a[0] += br; a[1] += bi;
        }
    }
    if (m >= 4) {                                   /* length 4: w = 1, ∓i */
        const double sg = inverse ? -1.0 : 1.0;
        for (uint32_t s = 0; s < m; s += 4) {
            double *a0 = z + 2 * s, *a1 = a0 + 2, *b0 = a0 + 4, *b1 = a0 + 6;
            double br = b0[0], bi = b0[1];
            b0[0] = a0[0] - br; b0[1] = a0[1] - bi;
            a0[0] += br; a0[1] += bi;
            /* b1·(−i) forward = (b1i, −b1r); inverse (+i) = (−b1i, b1r) */
            double cr = sg * b1[1], ci = -sg * b1[0];
            b1[0] = a1[0] - cr; b1[1] = a1[1] - ci;
            a1[0] += cr; a1[1] += ci;
        }
    }
    const double sg = inverse ? -1.0 : 1.0;
    for (uint32_t len = 8; len <= m; len <<= 1) {
        const uint32_t half = len >> 1, step = m / len;
        for (uint32_t k = 0; k < half; ++k) {
            const double wr = tw[2 * k * step], wi = sg * tw[2 * k * step + 1];
            for (uint32_t s = k; s < m; s += len) {
                double *a = z + 2 * s, *b = z + 2 * (s + half);
                double br = b[0] * wr - b[1] * wi, bi = b[0] * wi + b[1] * wr;
                b[0] = a[0] - br; b[1] = a[1] - bi;
                a[0] += br; a[1] += bi;
            }
        }
    }
}

#ifdef VSK_FFT_X86
/* The split loops two k at a time (k, k+1 with q, q−1), the scalar
 * operations in the same order (bit-identical). Returns the next k. */
__attribute__((target("avx"))) static uint32_t split_fwd_avx(uint32_t m, const double *split,
                                                             double *buf)
{
    const __m256d half = _mm256_set1_pd(0.5), hm = _mm256_setr_pd(0.5, -0.5, 0.5, -0.5);
    const __m256d conj = _mm256_setr_pd(0.0, -0.0, 0.0, -0.0);
    uint32_t k = 1;
    for (; 2 * k + 2 < m; k += 2) {
        const uint32_t q1 = m - k - 1;                       /* q − 1 */
        __m256d a = _mm256_loadu_pd(buf + 2 * k);
        __m256d bm = _mm256_loadu_pd(buf + 2 * q1);          /* Z_{q−1}, Z_q */
        __m256d b = _mm256_permute2f128_pd(bm, bm, 0x01);    /* Z_q, Z_{q−1} */
        __m256d sum = _mm256_add_pd(a, b), dif = _mm256_sub_pd(a, b);
        __m256d e = _mm256_mul_pd(half, _mm256_blend_pd(sum, dif, 0xA));     /* er, ei */
        __m256d o = _mm256_mul_pd(hm, _mm256_permute_pd(_mm256_blend_pd(sum, dif, 0x5), 0x5));
        __m256d w = _mm256_loadu_pd(split + 2 * k);
        __m256d t = _mm256_addsub_pd(_mm256_mul_pd(_mm256_movedup_pd(w), o),
                                     _mm256_mul_pd(_mm256_permute_pd(w, 0xF),
                                                   _mm256_permute_pd(o, 0x5)));
        __m256d xk = _mm256_add_pd(e, t);
        __m256d xq = _mm256_xor_pd(_mm256_sub_pd(e, t), conj);
        _mm256_storeu_pd(buf + 2 * k, xk);
        _mm256_storeu_pd(buf + 2 * q1, _mm256_permute2f128_pd(xq, xq, 0x01));
    }
    return k;
}
__attribute__((target("avx"))) static uint32_t split_inv_avx(uint32_t m, const double *split,
                                                             double *buf)
{
    const __m256d half = _mm256_set1_pd(0.5);
    const __m256d conj = _mm256_setr_pd(0.0, -0.0, 0.0, -0.0);
    const __m256d negre = _mm256_setr_pd(-0.0, 0.0, -0.0, 0.0);
    uint32_t k = 1;
    for (; 2 * k + 2 < m; k += 2) {
        const uint32_t q1 = m - k - 1;
        __m256d a = _mm256_loadu_pd(buf + 2 * k);
        __m256d bm = _mm256_loadu_pd(buf + 2 * q1);
        __m256d b = _mm256_permute2f128_pd(bm, bm, 0x01);
        __m256d sum = _mm256_add_pd(a, b), dif = _mm256_sub_pd(a, b);
        __m256d e = _mm256_mul_pd(half, _mm256_blend_pd(sum, dif, 0xA));     /* er, ei */
        __m256d d = _mm256_mul_pd(half, _mm256_blend_pd(dif, sum, 0xA));     /* dr, di */
        __m256d w = _mm256_xor_pd(_mm256_loadu_pd(split + 2 * k), conj);     /* conj W^k */
        __m256d o = _mm256_addsub_pd(_mm256_mul_pd(_mm256_movedup_pd(w), d),
                                     _mm256_mul_pd(_mm256_permute_pd(w, 0xF),
                                                   _mm256_permute_pd(d, 0x5)));
        __m256d os = _mm256_permute_pd(o, 0x5);                              /* oi, or */
        __m256d zk = _mm256_add_pd(e, _mm256_xor_pd(os, negre));             /* er − oi, ei + or */
        __m256d zq = _mm256_add_pd(_mm256_xor_pd(e, conj), os);              /* er + oi, −ei + or */
        _mm256_storeu_pd(buf + 2 * k, zk);
        _mm256_storeu_pd(buf + 2 * q1, _mm256_permute2f128_pd(zq, zq, 0x01));
    }
    return k;
}
#endif

void vsk_rfft_forward(uint32_t isa, uint32_t n, const double *table, double *buf)
{
    uint32_t m = n / 2;
    const double *split = table + m;
    /* z_j = x_{2j} + i x_{2j+1}: the real buffer already is that layout */
    cfft(isa, m, table, buf, 0);
    /* X_k = E_k + W^k O_k,  E_k = (Z_k + conj Z_{m-k})/2,
     * O_k = (Z_k - conj Z_{m-k})/(2i); computed for pairs (k, m-k). */
    double z0r = buf[0], z0i = buf[1];
    buf[0] = z0r + z0i; buf[1] = 0.0;               /* X_0 */
    buf[2 * m] = z0r - z0i; buf[2 * m + 1] = 0.0;   /* X_{n/2} */
    uint32_t k0 = 1;
#ifdef VSK_FFT_X86
    if (isa == VSK_ISA_AVX2) k0 = split_fwd_avx(m, split, buf);
#endif
    for (uint32_t k = k0; k <= m / 2; ++k) {
        uint32_t q = m - k;
        double ar = buf[2 * k], ai = buf[2 * k + 1];
        double br = buf[2 * q], bi = buf[2 * q + 1];
        double er = 0.5 * (ar + br), ei = 0.5 * (ai - bi);        /* E_k */
        double or_ = 0.5 * (ai + bi), oi = -0.5 * (ar - br);      /* O_k */
        double wr = split[2 * k], wi = split[2 * k + 1];
        double tr = wr * or_ - wi * oi, ti = wr * oi + wi * or_;
        /* E_{m-k} = conj E_k, O_{m-k} = conj O_k, W^{m-k} = -conj W^k */
        buf[2 * k] = er + tr; buf[2 * k + 1] = ei + ti;
        if (q != k) {
            buf[2 * q] = er - tr; buf[2 * q + 1] = -(ei - ti);
        }
    }
}

void vsk_rfft_inverse(uint32_t isa, uint32_t n, const double *table, double *buf)
{
    uint32_t m = n / 2;
    const double *split = table + m;
    /* E_k = (X_k + conj X_{m-k})/2, O_k = (X_k - conj X_{m-k})/(2 W^k),
     * Z_k = E_k + i O_k, then z = ifft_m(Z) = x_{2j} + i x_{2j+1}. */
    double x0 = buf[0], xm = buf[2 * m];
    buf[0] = 0.5 * (x0 + xm);                        /* E_0 + i O_0 */
    buf[1] = 0.5 * (x0 - xm);
    uint32_t k0 = 1;
#ifdef VSK_FFT_X86
    if (isa == VSK_ISA_AVX2) k0 = split_inv_avx(m, split, buf);
#endif
    for (uint32_t k = k0; k <= m / 2; ++k) {
        uint32_t q = m - k;
        double ar = buf[2 * k], ai = buf[2 * k + 1];
        double br = buf[2 * q], bi = buf[2 * q + 1];
        double er = 0.5 * (ar + br), ei = 0.5 * (ai - bi);
        double dr = 0.5 * (ar - br), di = 0.5 * (ai + bi);   /* (X_k - conj X_q)/2 */
        double wr = split[2 * k], wi = -split[2 * k + 1];     /* conj W^k = 1/W^k */
        double or_ = dr * wr - di * wi, oi = dr * wi + di * wr; /* O_k */
        /* Z_k = E_k + i O_k */
        double zkr = er - oi, zki = ei + or_;
        /* Z_q = E_q + i O_q with E_q = conj E_k, O_q = conj O_k */
        double zqr = er + oi, zqi = -ei + or_;
        buf[2 * k] = zkr; buf[2 * k + 1] = zki;
        if (q != k) { buf[2 * q] = zqr; buf[2 * q + 1] = zqi; }
    }
    cfft(isa, m, table, buf, 1);
    double scale = 1.0 / (double)m;
    /* ifft_m scaled by 1/m gives x_{2j} + i x_{2j+1} directly */
    for (uint32_t i = 0; i < n; ++i) buf[i] *= scale;
}
