/* yin_fft.h — internal: YIN's difference function from an FFT correlation
 * (PITCH_YIN, docs/bundle-format.md), O(L log L) per frame instead of the
 * direct W·τmax sums.
 *
 * For a frame x[N] and 1 <= tmax <= N − 2, W = N − tmax:
 *   r(τ)  = Σ_{j<W} x_j x_{j+τ}           (cross-correlation of x[0:W]
 *                                           with x, one circular
 *                                           correlation of size L >= N:
 *                                           j + τ <= N − 1 never wraps)
 *   e0    = Σ_{j<W} x_j²,   eτ = Σ_{j<W} x_{j+τ}²  (prefix sums c)
 *   d(τ)  = max(e0 + eτ − 2 r(τ), 0),  d(0) = 0
 * all in double, the same formula as the reference
 * (voiceskin_tooling.ops._yin_cmnd). It equals the direct
 * Σ_{j<W} (x_j − x_{j+τ})² up to rounding of order 1e-16 · (e0 + eτ)
 * (native/tests/test_yin_fft.c compares it with the direct kernel). No
 * global state: tables and scratch live in caller memory (op state). */
#ifndef VSK_YIN_FFT_H
#define VSK_YIN_FFT_H

#include <stddef.h>
#include <stdint.h>

/* L: the smallest power of two >= N (and >= 4). */
uint32_t vsk_yin_fft_len(uint32_t N);
/* Doubles of memory vsk_yin_fft_init and vsk_yin_diff_fft use for N. */
size_t vsk_yin_fft_doubles(uint32_t N);
/* Fills the FFT table (control thread or reset; no allocation). */
void vsk_yin_fft_init(uint32_t N, double *mem);
/* d[0..tmax] of the frame x[N] (float, widened exactly to double). `isa`
 * as kernels.h; `mem` initialised by vsk_yin_fft_init for this N. */
void vsk_yin_diff_fft(uint32_t isa, const float *x, uint32_t N, uint32_t tmax, double *mem,
                      double *d);

#endif
