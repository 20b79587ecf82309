/* fft.h — internal: radix-2 real FFT in double precision for power-of-two
 * sizes n >= 2. No global state: the twiddle table lives in caller memory
 * (an op's state), filled by vsk_rfft_init at reset. */
#ifndef VSK_FFT_H
#define VSK_FFT_H

#include <stddef.h>
#include <stdint.h>

/* 1 if n is a power of two >= 2. */
int vsk_fft_size_ok(uint32_t n);
/* Doubles of table vsk_rfft_init writes for size n. */
size_t vsk_rfft_table_doubles(uint32_t n);
void vsk_rfft_init(uint32_t n, double *table);

/* `isa` is a VSK_ISA_* from kernels.h (AVX2 runs two butterflies per
 * instruction; every ISA gives the same result up to rounding).
 * Forward: buf[0..n) real in; out: n/2+1 complex bins (re, im interleaved)
 * in buf[0..n+2). X_k = Σ_j x_j e^{-2πijk/n}. */
void vsk_rfft_forward(uint32_t isa, uint32_t n, const double *table, double *buf);
/* Inverse: buf holds n/2+1 complex bins (imaginary parts of bins 0 and n/2
 * are ignored, as numpy's irfft does); out: n reals in buf[0..n),
 * x_j = (1/n) Σ_k X_k e^{2πijk/n} over the Hermitian spectrum. */
void vsk_rfft_inverse(uint32_t isa, uint32_t n, const double *table, double *buf);

#endif
