/* fft.c — real FFT of size n via one complex FFT of size m = n/2
 * (iterative radix-2, bit-reversed input order), double precision.
 *
 * Table layout (doubles):  [0, m)        complex twiddles e^{-2πik/m},
 *                                          k < m/2 (re, im)
 *                          [m, m + 2m)    split twiddles e^{-2πik/n}, k < m */
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

size_t vsk_rfft_table_doubles(uint32_t n)
{
    size_t m = n / 2;
    return m + 2 * m;
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
}

/* In-place complex FFT of size m (power of two) on interleaved z[2m].
 * inverse = 0: forward (table twiddles), 1: inverse (conjugated, unscaled).
 * Stages of length 2 and 4 have trivial twiddles and are done first. */
#ifdef VSK_FFT_X86
/* Stages of length >= 8 with AVX: butterflies k and k+1 side by side. */
__attribute__((target("avx"))) static void stages_avx(uint32_t m, const double *tw, double *z,
                                                      int inverse)
{
    const __m256d conj = _mm256_set_pd(inverse ? -0.0 : 0.0, 0.0, inverse ? -0.0 : 0.0, 0.0);
    for (uint32_t len = 8; len <= m; len <<= 1) {
        const uint32_t half = len >> 1, step = m / len;
        for (uint32_t s = 0; s < m; s += len) {
            for (uint32_t k = 0; k < half; k += 2) {
                __m256d w = _mm256_set_m128d(_mm_loadu_pd(tw + 2 * (k + 1) * step),
                                             _mm_loadu_pd(tw + 2 * k * step));
                w = _mm256_xor_pd(w, conj);
                double *pa = z + 2 * (s + k), *pb = z + 2 * (s + k + half);
                __m256d a = _mm256_loadu_pd(pa), b = _mm256_loadu_pd(pb);
                __m256d wr = _mm256_movedup_pd(w), wi = _mm256_permute_pd(w, 0xF);
                __m256d bw = _mm256_addsub_pd(_mm256_mul_pd(b, wr),
                                              _mm256_mul_pd(_mm256_permute_pd(b, 0x5), wi));
                _mm256_storeu_pd(pa, _mm256_add_pd(a, bw));
                _mm256_storeu_pd(pb, _mm256_sub_pd(a, bw));
            }
        }
    }
}
#endif

static void cfft(uint32_t isa, uint32_t m, const double *tw, double *z, int inverse)
{
    /* bit-reversal permutation */
    for (uint32_t i = 1, j = 0; i < m; ++i) {
        uint32_t bit = m >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j |= bit;
        if (i < j) {
            double tr = z[2 * i], ti = z[2 * i + 1];
            z[2 * i] = z[2 * j]; z[2 * i + 1] = z[2 * j + 1];
            z[2 * j] = tr; z[2 * j + 1] = ti;
        }
    }
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
#ifdef VSK_FFT_X86
    if (isa == VSK_ISA_AVX2) {
        stages_avx(m, tw, z, inverse);
        return;
    }
#endif
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
    for (uint32_t k = 1; k <= m / 2; ++k) {
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
    for (uint32_t k = 1; k <= m / 2; ++k) {
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
