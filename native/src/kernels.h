/* kernels.h — internal: the dense inner loops (dot, squared difference,
 * matrix-vector) with one plain-C reference (kernels_ref.c) and SIMD
 * variants (kernels_sse2.c, kernels_avx2.c, kernels_neon.c), one table per
 * ISA (kernels_table.h); kernels.c detects the ISA and dispatches.
 *
 * The instruction set is chosen at run time by vsk_isa_detect() (CPUID on
 * x86; NEON is baseline on aarch64), once per voice at init (abi.c,
 * vsk_isa_select, which also applies vsk_voice_config.max_isa). Nothing is
 * cached globally: the voice hands the choice to its resamplers and graph
 * runtimes, whose op resets keep it in their node state, and every kernel
 * call takes it as an argument. No [audio] call reaches CPUID
 * (native/tests/test_audio_no_cpuid.c). All variants compute the same
 * maths; they differ only in float rounding (summation order, FMA). */
#ifndef VSK_KERNELS_H
#define VSK_KERNELS_H

#include <stddef.h>
#include <stdint.h>

enum {
    VSK_ISA_SCALAR = 0,   /* plain C, always available */
    VSK_ISA_SSE2 = 1,     /* x86-64 baseline, 4 lanes */
    VSK_ISA_AVX2 = 2,     /* x86-64 with AVX2 + FMA (OS-enabled), 8 lanes */
    VSK_ISA_NEON = 3,     /* aarch64, 4 lanes */
    VSK_ISA_COUNT_
};

/* Best instruction set of this CPU that this build can use. Costs a CPUID
 * (may trap in a VM): control threads only, never on the audio thread. */
uint32_t vsk_isa_detect(void);
/* Whether `isa` can run here (for tests). */
int vsk_isa_available(uint32_t isa);
const char *vsk_isa_name(uint32_t isa);

/* Σ a_i b_i */
float vsk_dot(uint32_t isa, const float *a, const float *b, size_t n);
/* out[i] = Σ_{j<n} a[i][j]·b[i][j] for i < count (a resampler's outputs:
 * table row and input window per output). Each out[i] is bit-identical
 * to what a call with that pair alone (count 1) gives on the same isa. */
void vsk_dot_batch(uint32_t isa, const float *const *a, const float *const *b, size_t n,
                   size_t count, float *out);
/* Σ (a_i − b_i)² */
float vsk_sqdiff(uint32_t isa, const float *a, const float *b, size_t n);
/* out[q] = Σ_{j<W} (x_j − x_{j+t0+q})² for q < count (YIN's difference
 * function; x must hold W + t0 + count − 1 floats). */
void vsk_sqdiff_lags(uint32_t isa, const float *x, size_t W, size_t t0,
                     size_t count, float *out);
/* The same in double: out[q] = Σ_{j<W} ((double)x_j − x_{j+t0+q})², with
 * every difference exact and the squares summed in double (YIN uses this
 * so its f0 matches a double-precision reference to ~1e-15). */
void vsk_sqdiff_lags_f64(uint32_t isa, const float *x, size_t W, size_t t0,
                         size_t count, double *out);
void vsk_sqdiff_lags_f64_ref(const float *x, size_t W, size_t t0, size_t count,
                             double *out);
/* out[t] = first[t] + rows[0][t] + rows[1][t] + ... (rows: nrows × n,
 * row-major), added in exactly that order on every ISA (bit-identical). */
void vsk_sum_rows_f64(uint32_t isa, const double *first, const double *rows, size_t nrows,
                      size_t n, double *out);
void vsk_sum_rows_f64_ref(const double *first, const double *rows, size_t nrows,
                          size_t n, double *out);
/* YIN's cumulative mean normalised difference, in place: d[0] = 1 and for
 * t = 1..tmax, with c_t = d[1] + ... + d[t] added in that order,
 * d[t] = c_t > 0 ? d[t]·t / c_t : 1 (bit-identical on every ISA: the sums
 * are sequential, each quotient correctly rounded). */
void vsk_yin_cmnd(uint32_t isa, double *d, size_t tmax);
void vsk_yin_cmnd_ref(double *d, size_t tmax);
/* Σ (double)x_j² (SIMD: partial sums, so rounding differs from the
 * sequential reference by ~1e-16 relative). */
double vsk_sumsq_f64(uint32_t isa, const float *x, size_t n);
double vsk_sumsq_f64_ref(const float *x, size_t n);
/* NOISE's white noise: out[j] = 2·h_j/2^24 − 1 with h_j the top 24 bits of
 * lowbias32(seed ^ ((base + j)·0x9E3779B9)), all mod 2^32 (bit-identical
 * on every ISA). */
void vsk_noise_uniform(uint32_t isa, uint32_t seed, uint32_t base, size_t n, double *out);
void vsk_noise_uniform_ref(uint32_t seed, uint32_t base, size_t n, double *out);
/* The same with x already in double (x holds W + t0 + count − 1 values;
 * a frame widened from float keeps every difference exact). */
void vsk_sqdiff_lags_f64d(uint32_t isa, const double *x, size_t W, size_t t0, size_t count,
                          double *out);
void vsk_sqdiff_lags_f64d_ref(const double *x, size_t W, size_t t0, size_t count,
                              double *out);
/* STFT_MAG: y_k = (float)sqrt(re_k² + im_k²) for n interleaved complex
 * doubles, and out_j = (double)a_j·(double)b_j (both bit-identical on
 * every ISA). */
void vsk_cabs_f32(uint32_t isa, const double *z, size_t n, float *y);
void vsk_cabs_f32_ref(const double *z, size_t n, float *y);
void vsk_mul_f32_to_f64(uint32_t isa, const float *a, const float *b, size_t n, double *out);
void vsk_mul_f32_to_f64_ref(const float *a, const float *b, size_t n, double *out);
/* acc_i += (double)src_i */
void vsk_acc_f64(uint32_t isa, double *acc, const float *src, size_t n);
void vsk_acc_f64_ref(double *acc, const float *src, size_t n);
/* Elementwise y = σ(x), tanh(x), 2·σ(x)^{ln 10} + 1e−7 (ACT kinds 3, 2, 5);
 * y may equal x. SIMD variants use polynomial exp/log (≤ ~2e-7 abs). */
void vsk_sigmoid(uint32_t isa, const float *x, float *y, size_t n);
void vsk_tanh(uint32_t isa, const float *x, float *y, size_t n);
void vsk_exp_sigmoid(uint32_t isa, const float *x, float *y, size_t n);
/* HARMONIC's inner sum, in double: for j < hop, with s1 = sin φ_j,
 * s0 = 0 and c2 = 2 cos φ_j on entry,
 *   acc_j += Σ_{k=1..kmax} (A0_k + t_j·(A1_k − A0_k)) · sin(kφ_j)
 * using sin((k+1)φ) = c2·sin(kφ) − sin((k−1)φ). s1/s0 are clobbered. */
void vsk_harmonic_sum(uint32_t isa, const double *A0, const double *A1,
                      size_t kmax, const double *t, const double *c2,
                      double *s1, double *s0, double *acc, size_t hop);
/* y = W x (+ bias if not NULL); W row-major [rows, cols]. y must not alias
 * W, x or bias. */
void vsk_matvec(uint32_t isa, const float *W, const float *x,
                const float *bias, float *y, size_t rows, size_t cols);

/* int8 weights (bundle dtype 2, docs/bundle-format.md): y = diag(scale) Q x
 * (+ bias), Q [rows, cols] of int8 in [−127, 127] stored in blocks of 8 rows
 * × 4 columns (block p, column group g at byte offset 32·(p·G + g), byte
 * 4k + j = Q[8p + k, 4g + j]; G = ceil(cols/4), rows and columns padded with
 * zeros to whole blocks; `scale` has one float per padded row, 0 for the
 * padding). x is quantised per call with one scale:
 * m = max|x_i|, s_x = m/127, q_i = round-half-even(x_i·127/m) (int8), then
 * y_r = (float)(Σ_i Q_ri q_i) · (scale_r · s_x) (+ bias_r) with the sum
 * exact in int32. m = 0 gives y = bias (or 0); a non-finite x (m NaN/Inf)
 * takes the float path y_r = Σ_i (Q_ri·scale_r)·x_i so NaN/Inf propagate as
 * they do through float weights. `xq` is scratch of VSK_Q8_SCRATCH(cols)
 * bytes, 32-byte aligned (the quantised x and its magnitudes). All ISAs
 * compute the same quantised x and integer sums; they differ only in
 * the rounding of the final multiply-add (FMA). y must not alias anything.
 * Thread role: [audio] (no allocation, no locks). */
#define VSK_Q8_GROUPS(cols) (((cols) + 3u) / 4u)
#define VSK_Q8_SCRATCH(cols) (2u * (((size_t)VSK_Q8_GROUPS(cols) * 4u + 31u) & ~(size_t)31u))
void vsk_matvec_q8(uint32_t isa, const int8_t *Q, const float *scale, const float *x,
                   const float *bias, float *y, size_t rows, size_t cols, int8_t *xq);

/* The plain-C references (also what VSK_ISA_SCALAR runs). */
float vsk_dot_ref(const float *a, const float *b, size_t n);
float vsk_sqdiff_ref(const float *a, const float *b, size_t n);
void vsk_dot_batch_ref(const float *const *a, const float *const *b, size_t n,
                       size_t count, float *out);
void vsk_matvec_ref(const float *W, const float *x, const float *bias,
                    float *y, size_t rows, size_t cols);
void vsk_matvec_q8_ref(const int8_t *Q, const float *scale, const float *x,
                       const float *bias, float *y, size_t rows, size_t cols, int8_t *xq);
/* vsk_matvec_q8's quantisation of x into xq (the signed values, then their
 * magnitudes at xq + VSK_Q8_SCRATCH(cols)/2, both zero-padded to whole
 * column groups); returns s_x, 0 when x is all zero, NaN when m is not
 * finite (xq then untouched). Shared by every ISA. */
float vsk_q8_quantise_ref(const float *x, size_t cols, int8_t *xq);
/* vsk_matvec_q8's float path (used for a non-finite x). */
void vsk_matvec_q8_float_ref(const int8_t *Q, const float *scale, const float *x,
                             const float *bias, float *y, size_t rows, size_t cols);
void vsk_sqdiff_lags_ref(const float *x, size_t W, size_t t0, size_t count,
                         float *out);
void vsk_sigmoid_ref(const float *x, float *y, size_t n);
void vsk_harmonic_sum_ref(const double *A0, const double *A1, size_t kmax,
                          const double *t, const double *c2, double *s1,
                          double *s0, double *acc, size_t hop);
void vsk_tanh_ref(const float *x, float *y, size_t n);
void vsk_exp_sigmoid_ref(const float *x, float *y, size_t n);

#endif
