/* kernels_table.h — internal to the kernels: one table of kernel functions
 * per instruction set (kernels_ref.c, kernels_sse2.c, kernels_avx2.c,
 * kernels_neon.c). kernels.c dispatches every public kernel (kernels.h)
 * through the table of the caller's ISA; a NULL entry means that ISA has no
 * variant of that kernel and the reference runs instead, so the coverage of
 * each ISA is what its table lists (native/tests/test_kernels.c prints it).
 * The reference table has every entry. */
#ifndef VSK_KERNELS_TABLE_H
#define VSK_KERNELS_TABLE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#  define VSK_X86 1
#endif
#if defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#  define VSK_NEON 1
#endif

/* Each entry has the signature of the public kernel of that name in
 * kernels.h without its leading `isa` argument. */
typedef struct vsk_kernel_table {
    float (*dot)(const float *a, const float *b, size_t n);
    void (*dot_batch)(const float *const *a, const float *const *b, size_t n,
                      size_t count, float *out);
    float (*sqdiff)(const float *a, const float *b, size_t n);
    void (*sqdiff_lags)(const float *x, size_t W, size_t t0, size_t count, float *out);
    void (*sqdiff_lags_f64)(const float *x, size_t W, size_t t0, size_t count,
                            double *out);
    void (*sqdiff_lags_f64d)(const double *x, size_t W, size_t t0, size_t count,
                             double *out);
    void (*sum_rows_f64)(const double *first, const double *rows, size_t nrows,
                         size_t n, double *out);
    void (*yin_cmnd)(double *d, size_t tmax);
    double (*sumsq_f64)(const float *x, size_t n);
    void (*noise_uniform)(uint32_t seed, uint32_t base, size_t n, double *out);
    void (*cabs_f32)(const double *z, size_t n, float *y);
    void (*mul_f32_to_f64)(const float *a, const float *b, size_t n, double *out);
    void (*acc_f64)(double *acc, const float *src, size_t n);
    void (*sigmoid)(const float *x, float *y, size_t n);
    void (*tanh)(const float *x, float *y, size_t n);
    void (*exp_sigmoid)(const float *x, float *y, size_t n);
    void (*harmonic_sum)(const double *A0, const double *A1, size_t kmax,
                         const double *t, const double *c2, double *s1,
                         double *s0, double *acc, size_t hop);
    void (*matvec)(const float *W, const float *x, const float *bias, float *y,
                   size_t rows, size_t cols);
    void (*matvec_q8)(const int8_t *Q, const float *scale, const float *x,
                      const float *bias, float *y, size_t rows, size_t cols, int8_t *xq);
} vsk_kernel_table;

/* HARMONIC's reference loop (vsk_harmonic_sum_ref), also the tail of the
 * SIMD variants. Inline on purpose: inside a variant compiled for AVX2+FMA
 * the compiler fuses its multiply-adds, as it did when the variants and the
 * reference shared one file, so the tail's outputs stay bit for bit what
 * they were. */
static inline void vsk_harmonic_sum_loop(const double *A0, const double *A1, size_t kmax,
                                         const double *t, const double *c2, double *s1,
                                         double *s0, double *acc, size_t hop)
{
    for (size_t k = 1; k <= kmax; ++k) {
        const double a0 = A0[k], da = A1[k] - A0[k];
        for (size_t j = 0; j < hop; ++j) {
            double sk = s1[j];
            acc[j] += (a0 + t[j] * da) * sk;
            s1[j] = c2[j] * sk - s0[j];
            s0[j] = sk;
        }
    }
}

/* matvec's finish of a group of four rows starting at row r (w0 = its first
 * row): adds columns [i, cols) to the four SIMD sums in out[] and writes
 * y[r..r+3] (+ bias). Inline, so inside a variant compiled for AVX2+FMA
 * its multiply-adds fuse as they always did. */
static inline void vsk_matvec4_finish(const float *w0, const float *x, const float *bias,
                                      float *y, size_t r, size_t i, size_t cols,
                                      float out[4])
{
    const float *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
    for (; i < cols; ++i) {
        out[0] += w0[i] * x[i]; out[1] += w1[i] * x[i];
        out[2] += w2[i] * x[i]; out[3] += w3[i] * x[i];
    }
    for (int k = 0; k < 4; ++k) y[r + k] = bias ? out[k] + bias[r + k] : out[k];
}

/* vsk_q8_quantise_ref's two loops from element i on (the reference runs
 * them whole, a SIMD variant for its tail): the largest |x_j| into *m
 * (returns 1 if any x_j is NaN), and the quantised values and magnitudes
 * up to the padded length. Inline so the SIMD tail is the reference's. */
static inline int vsk_q8_absmax_from(const float *x, size_t i, size_t cols, float *m)
{
    int nan = 0;
    for (; i < cols; ++i) {
        const float a = fabsf(x[i]);
        nan |= isnan(a);
        *m = a > *m ? a : *m;
    }
    return nan;
}
static inline void vsk_q8_store_from(const float *x, float inv, size_t i, size_t cols,
                                     int8_t *xq)
{
    const size_t padded = (size_t)VSK_Q8_GROUPS(cols) * 4u, half = VSK_Q8_SCRATCH(cols) / 2u;
    for (; i < padded; ++i) {
        /* |x_i·inv| <= 127 (+ rounding), so the integer is in [-127, 127] */
        const int v = i < cols ? (int)nearbyintf(x[i] * inv) : 0;
        xq[i] = (int8_t)v;
        xq[half + i] = (int8_t)(v < 0 ? -v : v);
    }
}

/* vsk_matvec_q8's special inputs, given s_x from a quantiser: NaN (a
 * non-finite x) computes the float path into y, 0 (x all zero) writes the
 * bias (or 0); returns 1 then (the caller returns), else 0. */
static inline int vsk_q8_special(float sx, const int8_t *Q, const float *scale,
                                 const float *x, const float *bias, float *y, size_t rows,
                                 size_t cols)
{
    if (isnan(sx)) {
        vsk_matvec_q8_float_ref(Q, scale, x, bias, y, rows, cols);
        return 1;
    }
    if (sx == 0.f) {
        for (size_t r = 0; r < rows; ++r) y[r] = bias ? bias[r] : 0.f;
        return 1;
    }
    return 0;
}
/* vsk_matvec_q8's start in a variant that uses the reference's quantiser:
 * returns s_x, or NaN when vsk_q8_special has written y (the caller
 * returns). */
static inline float vsk_q8_begin(const int8_t *Q, const float *scale, const float *x,
                                 const float *bias, float *y, size_t rows, size_t cols,
                                 int8_t *xq)
{
    const float sx = vsk_q8_quantise_ref(x, cols, xq);
    return vsk_q8_special(sx, Q, scale, x, bias, y, rows, cols) ? NAN : sx;
}
/* Column group g's four quantised values (or magnitudes) as one word. */
static inline int32_t vsk_q8_word(const int8_t *xq, size_t g)
{
    int32_t v;
    memcpy(&v, xq + 4u * g, 4);
    return v;
}
/* y[r] = t[r − r0] (+ bias[r]) for r in [r0, min(r0 + n, rows)). */
static inline void vsk_q8_put(const float *t, const float *bias, float *y, size_t r0, size_t n,
                              size_t rows)
{
    for (size_t r = r0; r < rows && r < r0 + n; ++r)
        y[r] = bias ? t[r - r0] + bias[r] : t[r - r0];
}

/* matvec_q8_<isa> for an ISA that uses the reference's quantiser and has
 * q8_block_<isa>(blk, G, xq, scale, sx, t): one 8-row block's outputs
 * (without bias) into t[8] (static function). */
#define VSK_Q8_MATVEC_BY_BLOCKS(isa)                                              \
    static void matvec_q8_##isa(const int8_t *Q, const float *scale, const float *x, \
                                const float *bias, float *y, size_t rows,         \
                                size_t cols, int8_t *xq)                          \
    {                                                                             \
        const float sx = vsk_q8_begin(Q, scale, x, bias, y, rows, cols, xq);      \
        if (isnan(sx)) return;                                                    \
        const size_t G = VSK_Q8_GROUPS(cols);                                     \
        for (size_t r0 = 0; r0 < rows; r0 += 8u) {                                \
            float t[8];                                                           \
            q8_block_##isa(Q + r0 / 8u * G * 32u, G, xq, scale + r0, sx, t);      \
            vsk_q8_put(t, bias, y, r0, 8u, rows);                                 \
        }                                                                         \
    }

/* dot_batch_<isa> and sqdiff_lags_<isa> for an ISA without its own: its
 * dot_<isa> / sqdiff_<isa> applied per output (static functions). */
#define VSK_KERNELS_PER_OUTPUT(isa)                                              \
    static void dot_batch_##isa(const float *const *a, const float *const *b,   \
                                size_t n, size_t count, float *out)              \
    {                                                                            \
        for (size_t i = 0; i < count; ++i) out[i] = dot_##isa(a[i], b[i], n);   \
    }                                                                            \
    static void sqdiff_lags_##isa(const float *x, size_t W, size_t t0,           \
                                  size_t count, float *out)                      \
    {                                                                            \
        for (size_t q = 0; q < count; ++q)                                       \
            out[q] = sqdiff_##isa(x, x + t0 + q, W);                             \
    }

/* The entries in declaration order (X-macro), their count and names. */
#define VSK_KERNEL_LIST(X)                                                       \
    X(dot) X(dot_batch) X(sqdiff) X(sqdiff_lags) X(sqdiff_lags_f64)             \
    X(sqdiff_lags_f64d) X(sum_rows_f64) X(yin_cmnd) X(sumsq_f64)                \
    X(noise_uniform) X(cabs_f32) X(mul_f32_to_f64) X(acc_f64) X(sigmoid)        \
    X(tanh) X(exp_sigmoid) X(harmonic_sum) X(matvec) X(matvec_q8)
#define VSK_KERNEL_TABLE_ENTRIES 19u
extern const char *const vsk_kernel_names[VSK_KERNEL_TABLE_ENTRIES];

/* Every table exists in every build; an ISA this build cannot compile
 * (SSE2/AVX2 off x86-64, NEON off aarch64) has an all-NULL table. */
extern const vsk_kernel_table vsk_kernels_ref, vsk_kernels_sse2, vsk_kernels_avx2,
    vsk_kernels_neon;

/* The table of `isa` as written (NULL entries kept; the reference for an
 * unknown isa). */
const vsk_kernel_table *vsk_kernels_for(uint32_t isa);
/* Entry `k` (< VSK_KERNEL_TABLE_ENTRIES, in declaration order) of `t` as a
 * generic function pointer (for comparing; NULL = not set or k too large). */
typedef void (*vsk_kernel_fn)(void);
vsk_kernel_fn vsk_kernel_table_entry(const vsk_kernel_table *t, uint32_t k);

#endif
