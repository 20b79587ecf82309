/* kernels.c — CPU detection and the dispatch of every kernel (kernels.h)
 * through the caller's ISA table (kernels_table.h): the ISA's variant where
 * its table has one, else the reference (kernels_ref.c). The variants live
 * in kernels_sse2.c, kernels_avx2.c (x86-64, via __attribute__((target)))
 * and kernels_neon.c (aarch64). */
#include "kernels.h"

#include "kernels_table.h"

#ifdef VSK_X86
#  include <cpuid.h>
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

/* Tests count CPUID paths by defining this (test_audio_no_cpuid.c). */
#ifndef VSK_TEST_CPUID_HOOK
#define VSK_TEST_CPUID_HOOK() ((void)0)
#endif

uint32_t vsk_isa_detect(void)
{
    VSK_TEST_CPUID_HOOK();
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
    VSK_TEST_CPUID_HOOK();
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

/* ------------------------------------------------------------- tables */

#define VSK_KERNEL_NAME(name) #name,
const char *const vsk_kernel_names[VSK_KERNEL_TABLE_ENTRIES] = {VSK_KERNEL_LIST(VSK_KERNEL_NAME)};

const vsk_kernel_table *vsk_kernels_for(uint32_t isa)
{
    static const vsk_kernel_table *const tables[VSK_ISA_COUNT_] = {
        [VSK_ISA_SCALAR] = &vsk_kernels_ref,
        [VSK_ISA_SSE2] = &vsk_kernels_sse2,
        [VSK_ISA_AVX2] = &vsk_kernels_avx2,
        [VSK_ISA_NEON] = &vsk_kernels_neon,
    };
    return isa < VSK_ISA_COUNT_ ? tables[isa] : &vsk_kernels_ref;
}

vsk_kernel_fn vsk_kernel_table_entry(const vsk_kernel_table *t, uint32_t k)
{
#define VSK_KERNEL_ENTRY(name) (vsk_kernel_fn)t->name,
    const vsk_kernel_fn entries[VSK_KERNEL_TABLE_ENTRIES] = {VSK_KERNEL_LIST(VSK_KERNEL_ENTRY)};
    return k < VSK_KERNEL_TABLE_ENTRIES ? entries[k] : NULL;
}

/* The ISA's entry, or the reference's where the ISA has none. */
#define VSK_KERNEL(isa, name) \
    (vsk_kernels_for(isa)->name ? vsk_kernels_for(isa)->name : vsk_kernels_ref.name)

/* ------------------------------------------------------------- dispatch */

float vsk_dot(uint32_t isa, const float *a, const float *b, size_t n)
{
    return VSK_KERNEL(isa, dot)(a, b, n);
}

void vsk_dot_batch(uint32_t isa, const float *const *a, const float *const *b, size_t n,
                   size_t count, float *out)
{
    VSK_KERNEL(isa, dot_batch)(a, b, n, count, out);
}

float vsk_sqdiff(uint32_t isa, const float *a, const float *b, size_t n)
{
    return VSK_KERNEL(isa, sqdiff)(a, b, n);
}

void vsk_sqdiff_lags(uint32_t isa, const float *x, size_t W, size_t t0,
                     size_t count, float *out)
{
    VSK_KERNEL(isa, sqdiff_lags)(x, W, t0, count, out);
}

void vsk_sqdiff_lags_f64(uint32_t isa, const float *x, size_t W, size_t t0,
                         size_t count, double *out)
{
    VSK_KERNEL(isa, sqdiff_lags_f64)(x, W, t0, count, out);
}

void vsk_sqdiff_lags_f64d(uint32_t isa, const double *x, size_t W, size_t t0, size_t count,
                          double *out)
{
    VSK_KERNEL(isa, sqdiff_lags_f64d)(x, W, t0, count, out);
}

void vsk_sum_rows_f64(uint32_t isa, const double *first, const double *rows, size_t nrows,
                      size_t n, double *out)
{
    VSK_KERNEL(isa, sum_rows_f64)(first, rows, nrows, n, out);
}

void vsk_yin_cmnd(uint32_t isa, double *d, size_t tmax)
{
    VSK_KERNEL(isa, yin_cmnd)(d, tmax);
}

double vsk_sumsq_f64(uint32_t isa, const float *x, size_t n)
{
    return VSK_KERNEL(isa, sumsq_f64)(x, n);
}

void vsk_noise_uniform(uint32_t isa, uint32_t seed, uint32_t base, size_t n, double *out)
{
    VSK_KERNEL(isa, noise_uniform)(seed, base, n, out);
}

void vsk_cabs_f32(uint32_t isa, const double *z, size_t n, float *y)
{
    VSK_KERNEL(isa, cabs_f32)(z, n, y);
}

void vsk_mul_f32_to_f64(uint32_t isa, const float *a, const float *b, size_t n, double *out)
{
    VSK_KERNEL(isa, mul_f32_to_f64)(a, b, n, out);
}

void vsk_acc_f64(uint32_t isa, double *acc, const float *src, size_t n)
{
    VSK_KERNEL(isa, acc_f64)(acc, src, n);
}

void vsk_sigmoid(uint32_t isa, const float *x, float *y, size_t n)
{
    VSK_KERNEL(isa, sigmoid)(x, y, n);
}

void vsk_tanh(uint32_t isa, const float *x, float *y, size_t n)
{
    VSK_KERNEL(isa, tanh)(x, y, n);
}

void vsk_exp_sigmoid(uint32_t isa, const float *x, float *y, size_t n)
{
    VSK_KERNEL(isa, exp_sigmoid)(x, y, n);
}

void vsk_harmonic_sum(uint32_t isa, const double *A0, const double *A1,
                      size_t kmax, const double *t, const double *c2,
                      double *s1, double *s0, double *acc, size_t hop)
{
    VSK_KERNEL(isa, harmonic_sum)(A0, A1, kmax, t, c2, s1, s0, acc, hop);
}

void vsk_matvec(uint32_t isa, const float *W, const float *x,
                const float *bias, float *y, size_t rows, size_t cols)
{
    VSK_KERNEL(isa, matvec)(W, x, bias, y, rows, cols);
}

void vsk_matvec_q8(uint32_t isa, const int8_t *Q, const float *scale, const float *x,
                   const float *bias, float *y, size_t rows, size_t cols, int8_t *xq)
{
    VSK_KERNEL(isa, matvec_q8)(Q, scale, x, bias, y, rows, cols, xq);
}
