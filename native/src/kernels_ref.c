/* kernels_ref.c — the plain-C reference of every kernel (kernels.h): what
 * VSK_ISA_SCALAR runs, what every SIMD variant is tested against
 * (native/tests/test_kernels.c), and what runs for a kernel an ISA's table
 * leaves NULL (kernels_table.h). */
#include <math.h>

#include "kernels_table.h"

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

float vsk_q8_quantise_ref(const float *x, size_t cols, int8_t *xq)
{
    float m = 0.f;
    const int nan = vsk_q8_absmax_from(x, 0, cols, &m);
    if (nan || isinf(m)) return NAN;
    if (m == 0.f) return 0.f;
    vsk_q8_store_from(x, 127.f / m, 0, cols, xq);
    return m / 127.f;
}

void vsk_matvec_q8_float_ref(const int8_t *Q, const float *scale, const float *x,
                             const float *bias, float *y, size_t rows, size_t cols)
{
    const size_t G = VSK_Q8_GROUPS(cols);
    for (size_t r = 0; r < rows; ++r) {
        const int8_t *blk = Q + (r / 8u) * G * 32u + (r % 8u) * 4u;
        double s = 0.0;
        for (size_t i = 0; i < cols; ++i)
            s += (double)(blk[(i / 4u) * 32u + i % 4u] * scale[r]) * x[i];
        y[r] = bias ? (float)s + bias[r] : (float)s;
    }
}

void vsk_matvec_q8_ref(const int8_t *Q, const float *scale, const float *x,
                       const float *bias, float *y, size_t rows, size_t cols, int8_t *xq)
{
    const float sx = vsk_q8_quantise_ref(x, cols, xq);
    if (vsk_q8_special(sx, Q, scale, x, bias, y, rows, cols)) return;
    const size_t G = VSK_Q8_GROUPS(cols);
    for (size_t r = 0; r < rows; ++r) {
        const int8_t *blk = Q + (r / 8u) * G * 32u + (r % 8u) * 4u;
        int32_t acc = 0;
        for (size_t g = 0; g < G; ++g)
            for (size_t j = 0; j < 4; ++j) acc += blk[g * 32u + j] * xq[4u * g + j];
        const float v = (float)acc * (scale[r] * sx);
        y[r] = bias ? v + bias[r] : v;
    }
}

void vsk_dot_batch_ref(const float *const *a, const float *const *b, size_t n,
                       size_t count, float *out)
{
    for (size_t i = 0; i < count; ++i) out[i] = vsk_dot_ref(a[i], b[i], n);
}

void vsk_sum_rows_f64_ref(const double *first, const double *rows, size_t nrows,
                          size_t n, double *out)
{
    for (size_t t = 0; t < n; ++t) {
        double s = first[t];
        for (size_t b = 0; b < nrows; ++b) s += rows[b * n + t];
        out[t] = s;
    }
}

void vsk_yin_cmnd_ref(double *d, size_t tmax)
{
    double cum = 0.0;
    d[0] = 1.0;
    for (size_t t = 1; t <= tmax; ++t) {
        const double v = d[t];
        cum += v;
        d[t] = cum > 0.0 ? v * (double)t / cum : 1.0;
    }
}

double vsk_sumsq_f64_ref(const float *x, size_t n)
{
    double s = 0.0;
    for (size_t j = 0; j < n; ++j) s += (double)x[j] * x[j];
    return s;
}

static uint32_t lowbias32_ref(uint32_t x)
{
    x ^= x >> 16; x *= 0x7feb352du;
    x ^= x >> 15; x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

void vsk_noise_uniform_ref(uint32_t seed, uint32_t base, size_t n, double *out)
{
    for (size_t j = 0; j < n; ++j) {
        uint32_t h = lowbias32_ref(seed ^ ((base + (uint32_t)j) * 0x9E3779B9u)) >> 8;
        out[j] = 2.0 * (double)h / 16777216.0 - 1.0;
    }
}

void vsk_cabs_f32_ref(const double *z, size_t n, float *y)
{
    for (size_t k = 0; k < n; ++k) {
        const double re = z[2 * k], im = z[2 * k + 1];
        const double p = re * re, q = im * im;   /* no FMA: the same everywhere */
        y[k] = (float)sqrt(p + q);
    }
}

void vsk_mul_f32_to_f64_ref(const float *a, const float *b, size_t n, double *out)
{
    for (size_t j = 0; j < n; ++j) out[j] = (double)a[j] * (double)b[j];
}

void vsk_sqdiff_lags_ref(const float *x, size_t W, size_t t0, size_t count,
                         float *out)
{
    for (size_t q = 0; q < count; ++q) out[q] = vsk_sqdiff_ref(x, x + t0 + q, W);
}

/* out[q] = Σ_{j<W} ((double)x_j − (double)x_{j+t0+q})², summed in order:
 * one definition for a float frame and for one already widened to double. */
#define VSK_SQDIFF_LAGS_F64_REF(name, T)                                      \
    void name(const T *x, size_t W, size_t t0, size_t count, double *out)    \
    {                                                                         \
        for (size_t q = 0; q < count; ++q) {                                  \
            const T *b = x + t0 + q;                                          \
            double s = 0.0;                                                   \
            for (size_t j = 0; j < W; ++j) {                                  \
                double d = (double)x[j] - (double)b[j];                       \
                s += d * d;                                                   \
            }                                                                 \
            out[q] = s;                                                       \
        }                                                                     \
    }
VSK_SQDIFF_LAGS_F64_REF(vsk_sqdiff_lags_f64_ref, float)
VSK_SQDIFF_LAGS_F64_REF(vsk_sqdiff_lags_f64d_ref, double)

void vsk_sigmoid_ref(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + expf(-x[i]));
}

void vsk_tanh_ref(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; ++i) y[i] = tanhf(x[i]);
}

void vsk_exp_sigmoid_ref(const float *x, float *y, size_t n)
{
    /* 2·σ(x)^{ln 10} = 2·exp(−ln10 · log1p(e^{−x})), stable for both signs */
    const float ln10 = 2.302585093f;
    for (size_t i = 0; i < n; ++i) {
        float v = x[i];
        float s = v >= 0.f ? log1pf(expf(-v)) : -v + log1pf(expf(v));
        y[i] = 2.0f * expf(-ln10 * s) + 1e-7f;
    }
}

void vsk_harmonic_sum_ref(const double *A0, const double *A1, size_t kmax,
                          const double *t, const double *c2, double *s1,
                          double *s0, double *acc, size_t hop)
{
    vsk_harmonic_sum_loop(A0, A1, kmax, t, c2, s1, s0, acc, hop);
}

void vsk_acc_f64_ref(double *acc, const float *src, size_t n)
{
    for (size_t i = 0; i < n; ++i) acc[i] += (double)src[i];
}

#define VSK_REF_ENTRY(name) .name = vsk_##name##_ref,
const vsk_kernel_table vsk_kernels_ref = {VSK_KERNEL_LIST(VSK_REF_ENTRY)};
