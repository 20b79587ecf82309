/* ops_nn.c — the neural-network and elementwise ops: LINEAR, ACT, LOG,
 * CONV1D, GRU, CONCAT, SLICE, ADD, MUL, AFFINE, ARGMIN, NEAREST
 * (docs/bundle-format.md). */
#include <math.h>
#include <string.h>

#include "kernels.h"
#include "ops_impl.h"

#define HDR 64u   /* bytes of per-node header (the chosen ISA) at state start */

typedef struct nn_hdr { uint32_t isa; uint32_t pos; } nn_hdr;

static uint64_t nonneg(int64_t v) { return v < 0 ? 0 : (uint64_t)v; }

/* ---------------------------------------------------------------- LINEAR */

/* State: header | (int8 weights) the scratch of the quantised input.
 *
 * Sparse path: float weights whose rows' nonzero spans cover at most half
 * of W (a mel filterbank; planned when the bundle is opened: ops.h,
 * vsk_tensor_plan_spans) take one dot product per row over its span, not
 * the whole row. Zeros outside a span are skipped, so there a non-finite
 * input column gives no NaN (0·Inf); inside, the sums are the dense path's
 * up to rounding order. */
static size_t q8_scratch(const vsk_tensor *W, size_t cols)
{
    return W->dtype == VSK_DTYPE_I8 ? vsk_align64(VSK_Q8_SCRATCH(cols)) : 0;
}
static vsk_status linear_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 1, 1, 1, 2, 0, 0) || vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    uint32_t I = vs[n->in[0]], O = vs[n->out[0]];
    if (!vsk_weight_is(n->const_[0], O, I)) return VSK_ERR_CORRUPT;
    if (n->n_const == 2 && !vsk_tensor_is(n->const_[1], 1, O, 0, 0)) return VSK_ERR_CORRUPT;
    return VSK_OK;
}
static size_t hdr_state_bytes(const vsk_node *n, const uint32_t *vs) { return HDR; }
static void hdr_reset(const vsk_node *n, void *state, uint32_t isa)
{
    memset(state, 0, HDR);
    ((nn_hdr *)state)->isa = isa;
}
static size_t linear_state_bytes(const vsk_node *n, const uint32_t *vs)
{
    return HDR + q8_scratch(n->const_[0], n->const_[0]->dims[1]);
}
static void linear_reset(const vsk_node *n, void *state, uint32_t isa)
{
    memset(state, 0, linear_state_bytes(n, NULL));
    ((nn_hdr *)state)->isa = isa;
}
static void linear_run(const vsk_node *n, float *const *v, void *state)
{
    const uint32_t isa = ((nn_hdr *)state)->isa;
    const vsk_tensor *W = n->const_[0];
    const float *x = v[n->in[0]], *bias = n->n_const == 2 ? n->const_[1]->data : NULL;
    float *y = v[n->out[0]];
    if (W->row_span) {
        const uint32_t rows = W->dims[0], cols = W->dims[1];
        for (uint32_t r = 0; r < rows; ++r) {
            const uint32_t a = W->row_span[2 * r], b = W->row_span[2 * r + 1];
            const float s = b > a ? vsk_dot(isa, W->data + (size_t)r * cols + a, x + a, b - a) : 0.0f;
            y[r] = bias ? s + bias[r] : s;
        }
        return;
    }
    vsk_weight_matvec(isa, W, x, bias, y, (int8_t *)state + HDR);
}
static uint64_t linear_flops(const vsk_node *n, const uint32_t *vs)
{
    return 2ull * n->const_[0]->count + (n->n_const == 2 ? n->const_[0]->dims[0] : 0);
}
static uint64_t linear_cost(const vsk_node *n, const uint32_t *vs)
{
    const vsk_tensor *W = n->const_[0];
    /* the sparse path: the spans plus a dot call per row */
    if (W->row_span)
        return W->span_entries + (uint64_t)VSK_COST_SCALAR * W->dims[0] + 2ull * vs[n->out[0]];
    return W->count + 2ull * vs[n->out[0]];
}
const vsk_op_def vsk_op_def_linear = {"LINEAR", linear_validate, linear_state_bytes,
                                      linear_reset, linear_run, linear_flops, linear_cost};

/* ------------------------------------------------------------------- ACT */

enum { ACT_IDENTITY, ACT_RELU, ACT_TANH, ACT_SIGMOID, ACT_SOFTPLUS, ACT_EXP_SIGMOID, ACT_EXP, ACT_COUNT };

static size_t no_state(const vsk_node *n, const uint32_t *vs) { return 0; }
static void no_reset(const vsk_node *n, void *state, uint32_t isa) {}

static vsk_status unary_sizes(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    return vs[n->in[0]] == vs[n->out[0]] ? VSK_OK : VSK_ERR_CORRUPT;
}
static vsk_status act_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 1, 1, 0, 0, 1, 0)) return VSK_ERR_CORRUPT;
    if (n->iattr[0] < 0 || n->iattr[0] >= ACT_COUNT) return VSK_ERR_CORRUPT;
    return unary_sizes(n, vs, vc);
}

static void act_run(const vsk_node *n, float *const *v, void *state)
{
    const uint32_t isa = ((nn_hdr *)state)->isa;
    const float *x = v[n->in[0]];
    float *y = v[n->out[0]];
    uint32_t len = vsk_in_size(n, 0);
    switch (n->iattr[0]) {
    case ACT_IDENTITY: memcpy(y, x, len * sizeof *y); break;
    case ACT_RELU: for (uint32_t i = 0; i < len; ++i) y[i] = x[i] > 0.f ? x[i] : 0.f; break;
    case ACT_TANH: vsk_tanh(isa, x, y, len); break;
    case ACT_SIGMOID: vsk_sigmoid(isa, x, y, len); break;
    case ACT_SOFTPLUS:
        for (uint32_t i = 0; i < len; ++i) y[i] = x[i] > 20.f ? x[i] : log1pf(expf(x[i]));
        break;
    case ACT_EXP_SIGMOID: vsk_exp_sigmoid(isa, x, y, len); break;
    case ACT_EXP: /* e^min(x, 88): finite for every finite x (e^88 < FLT_MAX); NaN stays NaN */
        for (uint32_t i = 0; i < len; ++i) y[i] = expf(x[i] > 88.f ? 88.f : x[i]);
        break;
    default: break;
    }
}
static uint64_t act_flops(const vsk_node *n, const uint32_t *vs)
{
    return (n->iattr[0] == ACT_IDENTITY ? 0u : n->iattr[0] == ACT_RELU ? 1u : 20u) *
           (uint64_t)vs[n->in[0]];
}
static uint64_t act_cost(const vsk_node *n, const uint32_t *vs)
{
    /* every kind at its dearest ISA path: softplus is two libm calls */
    uint64_t per = n->iattr[0] == ACT_IDENTITY ? 1u
                 : n->iattr[0] == ACT_RELU ? 2u
                 : n->iattr[0] == ACT_SOFTPLUS ? 3u * VSK_COST_LIBM
                 : VSK_COST_SIMD_FN;
    return per * (uint64_t)vs[n->in[0]];
}
const vsk_op_def vsk_op_def_act = {"ACT", act_validate, hdr_state_bytes, hdr_reset, act_run,
                                   act_flops, act_cost};

/* ------------------------------------------------------------------- LOG */

static vsk_status log_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 1, 1, 0, 0, 0, 1)) return VSK_ERR_CORRUPT;
    if (!vsk_fattr_finite(n) || !(n->fattr[0] > 0.f)) return VSK_ERR_CORRUPT;
    return unary_sizes(n, vs, vc);
}
static void log_run(const vsk_node *n, float *const *v, void *state)
{
    const float *x = v[n->in[0]];
    float *y = v[n->out[0]];
    const float eps = n->fattr[0];
    for (uint32_t i = 0, len = vsk_in_size(n, 0); i < len; ++i)
        y[i] = logf(x[i] > eps ? x[i] : eps);
}
static uint64_t log_flops(const vsk_node *n, const uint32_t *vs) { return 20ull * vs[n->in[0]]; }
static uint64_t log_cost(const vsk_node *n, const uint32_t *vs)
{
    return (uint64_t)VSK_COST_LIBM * vs[n->in[0]];
}
const vsk_op_def vsk_op_def_log = {"LOG", log_validate, no_state, no_reset, log_run, log_flops,
                                   log_cost};

/* ---------------------------------------------------------------- CONV1D */
/* State: header (isa, ring position) | ring of L = (K−1)·d past inputs
 * [L][Cin] | gathered input z[Cin·K] laid out like a row of W. */

#define CONV_MAX_HISTORY (1u << 24)   /* floats */

static void conv_dims(const vsk_node *n, uint32_t *cout, uint32_t *cin, uint32_t *k,
                      uint64_t *hist)
{
    const vsk_tensor *W = n->const_[0];
    *cout = W->dims[0]; *cin = W->dims[1]; *k = W->dims[2];
    *hist = (uint64_t)(*k - 1) * (uint64_t)n->iattr[0];
}
static vsk_status conv_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 1, 1, 2, 2, 1, 0) || vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    if (n->iattr[0] < 1) return VSK_ERR_CORRUPT;
    uint32_t cin = vs[n->in[0]], cout = vs[n->out[0]];
    const vsk_tensor *W = n->const_[0];
    if (W->dtype == VSK_DTYPE_I8 || W->ndim != 3 || W->dims[0] != cout || W->dims[1] != cin || W->dims[2] < 1)
        return VSK_ERR_CORRUPT;
    if (!vsk_tensor_is(n->const_[1], 1, cout, 0, 0)) return VSK_ERR_CORRUPT;
    if ((uint64_t)(W->dims[2] - 1) * (uint64_t)n->iattr[0] * cin > CONV_MAX_HISTORY)
        return VSK_ERR_TOO_LARGE;
    return VSK_OK;
}
static size_t conv_state_bytes(const vsk_node *n, const uint32_t *vs)
{
    uint32_t cout, cin, k; uint64_t L;
    conv_dims(n, &cout, &cin, &k, &L);
    return HDR + vsk_align64((size_t)L * cin * sizeof(float)) +
           vsk_align64((size_t)cin * k * sizeof(float));
}
static void conv_reset(const vsk_node *n, void *state, uint32_t isa)
{
    uint32_t cout, cin, k; uint64_t L;
    conv_dims(n, &cout, &cin, &k, &L);
    memset(state, 0, conv_state_bytes(n, NULL));
    ((nn_hdr *)state)->isa = isa;
}
static void conv_run(const vsk_node *n, float *const *v, void *state)
{
    uint32_t cout, cin, K; uint64_t L;
    conv_dims(n, &cout, &cin, &K, &L);
    nn_hdr *h = state;
    float *ring = (float *)((char *)state + HDR);
    float *z = (float *)((char *)ring + vsk_align64((size_t)L * cin * sizeof(float)));
    const float *x = v[n->in[0]];
    const uint64_t d = (uint64_t)n->iattr[0];
    for (uint32_t k = 0; k < K; ++k) {
        uint64_t m = (uint64_t)(K - 1 - k) * d;      /* steps back */
        const float *src = m == 0 ? x : ring + ((h->pos + L - m) % L) * cin;
        for (uint32_t c = 0; c < cin; ++c) z[(size_t)c * K + k] = src[c];
    }
    vsk_matvec(h->isa, n->const_[0]->data, z, n->const_[1]->data, v[n->out[0]], cout,
               (size_t)cin * K);
    if (L > 0) {
        memcpy(ring + (size_t)h->pos * cin, x, cin * sizeof(float));
        h->pos = (uint32_t)((h->pos + 1) % L);
    }
}
static uint64_t conv_flops(const vsk_node *n, const uint32_t *vs)
{
    return 2ull * n->const_[0]->count + n->const_[0]->dims[0];
}
static uint64_t conv_cost(const vsk_node *n, const uint32_t *vs)
{
    /* gather Cin·K (strided), the matvec, the ring update */
    const vsk_tensor *W = n->const_[0];
    return W->count + (uint64_t)VSK_COST_SCALAR * W->dims[1] * W->dims[2] / 4u +
           2ull * W->dims[0] + W->dims[1];
}
const vsk_op_def vsk_op_def_conv1d = {"CONV1D", conv_validate, conv_state_bytes,
                                      conv_reset, conv_run, conv_flops, conv_cost};

/* ------------------------------------------------------------------- GRU */
/* State: header | h[H] | gi[3H] | gh[3H] (each 64-aligned) | (int8
 * weights) the scratch of the quantised input or h, whichever is longer. */

static vsk_status gru_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 1, 1, 4, 4, 0, 0) || vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    uint32_t I = vs[n->in[0]], H = vs[n->out[0]];
    if ((uint64_t)3 * H > 0xFFFFFFFFu) return VSK_ERR_TOO_LARGE;
    if (!vsk_weight_is(n->const_[0], 3 * H, I) ||
        !vsk_weight_is(n->const_[1], 3 * H, H) ||
        !vsk_tensor_is(n->const_[2], 1, 3 * H, 0, 0) ||
        !vsk_tensor_is(n->const_[3], 1, 3 * H, 0, 0))
        return VSK_ERR_CORRUPT;
    return VSK_OK;
}
static size_t gru_state_bytes(const vsk_node *n, const uint32_t *vs)
{
    size_t H = n->const_[1]->dims[1], I = n->const_[0]->dims[1];
    size_t si = q8_scratch(n->const_[0], I), sh = q8_scratch(n->const_[1], H);
    return HDR + vsk_align64(H * 4) + 2 * vsk_align64(3 * H * 4) + (si > sh ? si : sh);
}
static void gru_reset(const vsk_node *n, void *state, uint32_t isa)
{
    memset(state, 0, gru_state_bytes(n, NULL));
    ((nn_hdr *)state)->isa = isa;
}
static void gru_run(const vsk_node *n, float *const *v, void *state)
{
    const size_t H = n->const_[1]->dims[1];
    const uint32_t isa = ((nn_hdr *)state)->isa;
    float *h = (float *)((char *)state + HDR);
    float *gi = (float *)((char *)h + vsk_align64(H * 4));
    float *gh = (float *)((char *)gi + vsk_align64(3 * H * 4));
    int8_t *xq = (int8_t *)((char *)gh + vsk_align64(3 * H * 4));
    vsk_weight_matvec(isa, n->const_[0], v[n->in[0]], n->const_[2]->data, gi, xq);
    vsk_weight_matvec(isa, n->const_[1], h, n->const_[3]->data, gh, xq);
    float *y = v[n->out[0]];
    /* r, z = σ(gi + gh) over the first 2H; n = tanh(gi_n + r·gh_n) */
    for (size_t i = 0; i < 2 * H; ++i) gi[i] += gh[i];
    vsk_sigmoid(isa, gi, gi, 2 * H);
    float *r = gi, *z = gi + H, *c = gi + 2 * H;
    for (size_t i = 0; i < H; ++i) c[i] += r[i] * gh[2 * H + i];
    vsk_tanh(isa, c, c, H);
    for (size_t i = 0; i < H; ++i) {
        h[i] = (1.f - z[i]) * c[i] + z[i] * h[i];
        y[i] = h[i];
    }
}
static uint64_t gru_flops(const vsk_node *n, const uint32_t *vs)
{
    uint64_t H = n->const_[1]->dims[1];
    return 2ull * (n->const_[0]->count + n->const_[1]->count) + 6 * H + 60 * H;
}
static uint64_t gru_cost(const vsk_node *n, const uint32_t *vs)
{
    uint64_t H = n->const_[1]->dims[1];
    return n->const_[0]->count + n->const_[1]->count + 12 * H + 3 * H * VSK_COST_SIMD_FN;
}
const vsk_op_def vsk_op_def_gru = {"GRU", gru_validate, gru_state_bytes, gru_reset,
                                   gru_run, gru_flops, gru_cost};

/* ------------------------------------------------------ CONCAT and SLICE */

static vsk_status concat_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (n->n_in < 1 || n->n_out != 1 || n->n_const || n->n_iattr || n->n_fattr ||
        vsk_check_ids(n, vc))
        return VSK_ERR_CORRUPT;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n->n_in; ++i) total += vs[n->in[i]];
    return total == vs[n->out[0]] ? VSK_OK : VSK_ERR_CORRUPT;
}
static void concat_run(const vsk_node *n, float *const *v, void *state)
{
    float *y = v[n->out[0]];
    for (uint32_t i = 0; i < n->n_in; ++i) {
        uint32_t len = vsk_in_size(n, i);
        memcpy(y, v[n->in[i]], len * sizeof *y);
        y += len;
    }
}
static uint64_t zero_flops(const vsk_node *n, const uint32_t *vs) { return 0; }
static uint64_t copy_cost(const vsk_node *n, const uint32_t *vs) { return vs[n->out[0]]; }
const vsk_op_def vsk_op_def_concat = {"CONCAT", concat_validate, no_state, no_reset,
                                      concat_run, zero_flops, copy_cost};

static vsk_status slice_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 1, 1, 0, 0, 2, 0) || vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    int64_t start = n->iattr[0], len = n->iattr[1];
    if (start < 0 || len < 1 || start + len > (int64_t)vs[n->in[0]] ||
        (uint64_t)len != vs[n->out[0]])
        return VSK_ERR_CORRUPT;
    return VSK_OK;
}
static void slice_run(const vsk_node *n, float *const *v, void *state)
{
    memcpy(v[n->out[0]], v[n->in[0]] + nonneg(n->iattr[0]), nonneg(n->iattr[1]) * sizeof(float));
}
const vsk_op_def vsk_op_def_slice = {"SLICE", slice_validate, no_state, no_reset,
                                     slice_run, zero_flops, copy_cost};

/* ------------------------------------------------------- ADD, MUL, AFFINE */

static vsk_status binary_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 2, 1, 0, 0, 0, 0) || vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    uint32_t len = vs[n->out[0]];
    return vs[n->in[0]] == len && vs[n->in[1]] == len ? VSK_OK : VSK_ERR_CORRUPT;
}
static void add_run(const vsk_node *n, float *const *v, void *state)
{
    const float *a = v[n->in[0]], *b = v[n->in[1]];
    float *y = v[n->out[0]];
    for (uint32_t i = 0, len = vsk_out_size(n, 0); i < len; ++i) y[i] = a[i] + b[i];
}
static void mul_run(const vsk_node *n, float *const *v, void *state)
{
    const float *a = v[n->in[0]], *b = v[n->in[1]];
    float *y = v[n->out[0]];
    for (uint32_t i = 0, len = vsk_out_size(n, 0); i < len; ++i) y[i] = a[i] * b[i];
}
static uint64_t elem_flops(const vsk_node *n, const uint32_t *vs) { return vs[n->out[0]]; }
static uint64_t elem_cost(const vsk_node *n, const uint32_t *vs) { return 2ull * vs[n->out[0]]; }
const vsk_op_def vsk_op_def_add = {"ADD", binary_validate, no_state, no_reset, add_run,
                                   elem_flops, elem_cost};
const vsk_op_def vsk_op_def_mul = {"MUL", binary_validate, no_state, no_reset, mul_run,
                                   elem_flops, elem_cost};

static vsk_status affine_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 1, 1, 2, 2, 0, 0) || unary_sizes(n, vs, vc)) return VSK_ERR_CORRUPT;
    uint32_t len = vs[n->in[0]];
    if (!vsk_tensor_is(n->const_[0], 1, len, 0, 0) || !vsk_tensor_is(n->const_[1], 1, len, 0, 0))
        return VSK_ERR_CORRUPT;
    return VSK_OK;
}
static void affine_run(const vsk_node *n, float *const *v, void *state)
{
    const float *x = v[n->in[0]], *s = n->const_[0]->data, *t = n->const_[1]->data;
    float *y = v[n->out[0]];
    for (uint32_t i = 0, len = vsk_in_size(n, 0); i < len; ++i) y[i] = x[i] * s[i] + t[i];
}
static uint64_t affine_flops(const vsk_node *n, const uint32_t *vs) { return 2ull * vs[n->in[0]]; }
static uint64_t affine_cost(const vsk_node *n, const uint32_t *vs) { return 3ull * vs[n->in[0]]; }
const vsk_op_def vsk_op_def_affine = {"AFFINE", affine_validate, no_state, no_reset,
                                      affine_run, affine_flops, affine_cost};

/* ---------------------------------------------------------------- ARGMIN */
/* Stateless. In double: the first index of the smallest finite element (0 if
 * none is finite), refined by a parabola through it and its neighbours. */

static vsk_status argmin_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 1, 1, 0, 0, 0, 0) || vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    return vs[n->in[0]] >= 1 && vs[n->out[0]] == 1 ? VSK_OK : VSK_ERR_CORRUPT;
}
static void argmin_run(const vsk_node *n, float *const *v, void *state)
{
    const float *x = v[n->in[0]];
    const uint32_t G = vsk_in_size(n, 0);
    uint32_t i = 0;
    int found = 0;
    for (uint32_t k = 0; k < G; ++k)
        if (isfinite(x[k]) && (!found || x[k] < x[i])) { i = k; found = 1; }
    double p = (double)i;
    if (i > 0 && i + 1 < G && isfinite(x[i - 1]) && isfinite(x[i + 1])) {
        const double xm = x[i - 1], x0 = x[i], xp = x[i + 1];
        const double d = xm - 2.0 * x0 + xp;
        if (d > 0.0) {
            double off = 0.5 * (xm - xp) / d;
            p += off < -1.0 ? -1.0 : off > 1.0 ? 1.0 : off;
        }
    }
    v[n->out[0]][0] = (float)p;
}
static uint64_t argmin_flops(const vsk_node *n, const uint32_t *vs) { return 2ull * vs[n->in[0]]; }
static uint64_t argmin_cost(const vsk_node *n, const uint32_t *vs)
{
    return (uint64_t)VSK_COST_SCALAR * vs[n->in[0]] + VSK_COST_SCALAR;
}
const vsk_op_def vsk_op_def_argmin = {"ARGMIN", argmin_validate, no_state, no_reset,
                                      argmin_run, argmin_flops, argmin_cost};

/* --------------------------------------------------------------- NEAREST */
/* The mean of the values of the k stored keys nearest to x (squared
 * Euclidean distance). State: header | N floats of scratch (the products
 * K·x). d_n = key_sq[n] − 2·(K x)_n (‖x‖², the same for every n, is left
 * out); a non-finite d_n ranks after every finite one; ties go to the lower
 * index. The k picks are summed nearest first, then divided by k. */

#define NEAREST_MAX_K 16u

static vsk_status nearest_validate(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (vsk_check_counts(n, 1, 1, 3, 3, 1, 0) || vsk_check_ids(n, vc)) return VSK_ERR_CORRUPT;
    const vsk_tensor *K = n->const_[0], *V = n->const_[2];
    if (K->ndim != 2 || V->ndim != 2) return VSK_ERR_CORRUPT;
    const uint32_t N = K->dims[0], D = vs[n->in[0]], C = vs[n->out[0]];
    if (N < 1 || !vsk_tensor_is(K, 2, N, D, 0) || !vsk_tensor_is(n->const_[1], 1, N, 0, 0) ||
        !vsk_tensor_is(V, 2, N, C, 0))
        return VSK_ERR_CORRUPT;
    const int32_t k = n->iattr[0];
    return k >= 1 && (uint32_t)k <= NEAREST_MAX_K && (uint32_t)k <= N ? VSK_OK : VSK_ERR_CORRUPT;
}
static size_t nearest_state_bytes(const vsk_node *n, const uint32_t *vs)
{
    return HDR + vsk_align64((size_t)n->const_[0]->dims[0] * sizeof(float));
}
static void nearest_reset(const vsk_node *n, void *state, uint32_t isa)
{
    memset(state, 0, nearest_state_bytes(n, NULL));
    ((nn_hdr *)state)->isa = isa;
}
static void nearest_run(const vsk_node *n, float *const *v, void *state)
{
    const uint32_t isa = ((nn_hdr *)state)->isa;
    const vsk_tensor *K = n->const_[0], *V = n->const_[2];
    const float *sq = n->const_[1]->data, *x = v[n->in[0]];
    const uint32_t N = K->dims[0], D = K->dims[1], C = V->dims[1], k = (uint32_t)n->iattr[0];
    float *kx = (float *)((unsigned char *)state + HDR), *y = v[n->out[0]];
    vsk_matvec(isa, K->data, x, NULL, kx, N, D);
    float best_d[NEAREST_MAX_K];
    uint32_t best[NEAREST_MAX_K], m = 0;
    for (uint32_t i = 0; i < N; ++i) {
        float d = sq[i] - 2.0f * kx[i];
        if (!isfinite(d)) d = INFINITY;
        if (m == k && !(d < best_d[k - 1])) continue;
        uint32_t j = m < k ? m++ : k - 1;  /* insert, keeping the list sorted */
        while (j > 0 && d < best_d[j - 1]) { best_d[j] = best_d[j - 1]; best[j] = best[j - 1]; --j; }
        best_d[j] = d;
        best[j] = i;
    }
    for (uint32_t c = 0; c < C; ++c) y[c] = 0.0f;
    for (uint32_t j = 0; j < k; ++j) {
        const float *row = V->data + (size_t)best[j] * C;
        for (uint32_t c = 0; c < C; ++c) y[c] += row[c];
    }
    const float inv = (float)k;
    for (uint32_t c = 0; c < C; ++c) y[c] /= inv;
}
static uint64_t nearest_flops(const vsk_node *n, const uint32_t *vs)
{
    return 2ull * n->const_[0]->count + 2ull * n->const_[0]->dims[0] +
           (uint64_t)n->iattr[0] * vs[n->out[0]];
}
static uint64_t nearest_cost(const vsk_node *n, const uint32_t *vs)
{
    return n->const_[0]->count + 4ull * n->const_[0]->dims[0] +
           (uint64_t)n->iattr[0] * vs[n->out[0]];
}
const vsk_op_def vsk_op_def_nearest = {"NEAREST", nearest_validate, nearest_state_bytes,
                                       nearest_reset, nearest_run, nearest_flops, nearest_cost};
