/* yin_fft.c — YIN's difference function from an FFT correlation (see
 * yin_fft.h). Memory (doubles, each part a multiple of 8):
 *   [rfft table of size L] [X: L + 2] [A: L + 2] [c: N + 1 prefix sums] */
#include "yin_fft.h"

#include "fft.h"

static size_t up8(size_t n) { return (n + 7) & ~(size_t)7; }

uint32_t vsk_yin_fft_len(uint32_t N)
{
    uint32_t L = 4;
    while (L < N) L <<= 1;
    return L;
}

size_t vsk_yin_fft_doubles(uint32_t N)
{
    const uint32_t L = vsk_yin_fft_len(N);
    return up8(vsk_rfft_table_doubles(L)) + 2 * up8((size_t)L + 2) + up8((size_t)N + 1);
}

void vsk_yin_fft_init(uint32_t N, double *mem)
{
    vsk_rfft_init(vsk_yin_fft_len(N), mem);
}

void vsk_yin_diff_fft(uint32_t isa, const float *x, uint32_t N, uint32_t tmax, double *mem,
                      double *d)
{
    const uint32_t L = vsk_yin_fft_len(N), W = N - tmax;
    const double *table = mem;
    double *X = mem + up8(vsk_rfft_table_doubles(L));
    double *A = X + up8((size_t)L + 2);
    double *c = A + up8((size_t)L + 2);
    /* the frame and its first W samples, zero-padded to L; prefix sums of
     * the squares (c[j] = Σ_{i<j} x_i²) */
    c[0] = 0.0;
    for (uint32_t j = 0; j < N; ++j) {
        const double v = (double)x[j];
        X[j] = v;
        A[j] = j < W ? v : 0.0;
        c[j + 1] = c[j] + v * v;
    }
    for (uint32_t j = N; j < L + 2; ++j) X[j] = A[j] = 0.0;
    vsk_rfft_forward(isa, L, table, X);
    vsk_rfft_forward(isa, L, table, A);
    /* conj(A_k)·X_k: the spectrum of r(τ) = Σ_j a_j x_{j+τ} (circular) */
    for (uint32_t k = 0; k <= L / 2; ++k) {
        const double ar = A[2 * k], ai = A[2 * k + 1], xr = X[2 * k], xi = X[2 * k + 1];
        X[2 * k] = ar * xr + ai * xi;
        X[2 * k + 1] = ar * xi - ai * xr;
    }
    vsk_rfft_inverse(isa, L, table, X);
    const double e0 = c[W];
    d[0] = 0.0;
    for (uint32_t t = 1; t <= tmax; ++t) {
        const double v = e0 + (c[t + W] - c[t]) - 2.0 * X[t];
        d[t] = v > 0.0 ? v : 0.0;
    }
}
