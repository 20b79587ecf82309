/* ops.c — the op table and the validation helpers shared by the kernels.
 * Each op's maths is specified in docs/bundle-format.md ("Ops (version 1)"). */
#include "ops.h"

#include <math.h>
#include "kernels.h"
#include "ops_impl.h"

vsk_status vsk_check_counts(const vsk_node *n, uint32_t n_in, uint32_t n_out,
                            uint32_t const_min, uint32_t const_max,
                            uint32_t n_iattr, uint32_t n_fattr)
{
    if (n->n_in != n_in || n->n_out != n_out || n->n_const < const_min ||
        n->n_const > const_max || n->n_iattr != n_iattr ||
        n->n_fattr != n_fattr)
        return VSK_ERR_CORRUPT;
    return VSK_OK;
}

vsk_status vsk_check_ids(const vsk_node *n, uint32_t value_count)
{
    for (uint32_t i = 0; i < n->n_in; ++i)
        if (n->in[i] >= value_count) return VSK_ERR_CORRUPT;
    for (uint32_t i = 0; i < n->n_out; ++i)
        if (n->out[i] >= value_count) return VSK_ERR_CORRUPT;
    for (uint32_t i = 0; i < n->n_const; ++i)
        if (!n->const_[i] || (!n->const_[i]->data && !n->const_[i]->q8)) return VSK_ERR_CORRUPT;
    return VSK_OK;
}

int vsk_tensor_is(const vsk_tensor *t, uint32_t ndim, uint32_t d0, uint32_t d1,
                  uint32_t d2)
{
    if (!t || t->ndim != ndim || t->dtype == VSK_DTYPE_I8 || !t->data) return 0;
    const uint32_t want[3] = {d0, d1, d2};
    for (uint32_t i = 0; i < ndim && i < 3; ++i)
        if (t->dims[i] != want[i]) return 0;
    return 1;
}

int vsk_weight_is(const vsk_tensor *t, uint32_t d0, uint32_t d1)
{
    if (!t || t->ndim != 2 || t->dims[0] != d0 || t->dims[1] != d1) return 0;
    return t->dtype == VSK_DTYPE_I8 ? t->q8 && t->q8_scale : t->data != NULL;
}

/* Each row's [first nonzero, last nonzero + 1) into span (when not NULL);
 * returns the entries inside them. */
static uint64_t row_spans(const vsk_tensor *t, uint32_t *span)
{
    const uint32_t rows = t->dims[0], cols = t->dims[1];
    uint64_t inside = 0;
    for (uint32_t r = 0; r < rows; ++r) {
        const float *w = t->data + (size_t)r * cols;
        uint32_t a = 0, b = cols;
        while (a < cols && w[a] == 0.0f) ++a;
        while (b > a && w[b - 1] == 0.0f) --b;
        if (span) { span[2 * r] = a; span[2 * r + 1] = b; }
        inside += b - a;
    }
    return inside;
}

size_t vsk_tensor_plan_spans(vsk_tensor *t, uint32_t *span)
{
    if (t->dtype == VSK_DTYPE_I8 || t->ndim != 2 || !t->data || 2 * row_spans(t, NULL) > t->count)
        return 0;
    if (span) {
        t->span_entries = row_spans(t, span);
        t->row_span = span;
    }
    return 2 * (size_t)t->dims[0];
}

void vsk_weight_matvec(uint32_t isa, const vsk_tensor *W, const float *x, const float *bias,
                       float *y, int8_t *xq)
{
    if (W->dtype == VSK_DTYPE_I8)
        vsk_matvec_q8(isa, W->q8, W->q8_scale, x, bias, y, W->dims[0], W->dims[1], xq);
    else
        vsk_matvec(isa, W->data, x, bias, y, W->dims[0], W->dims[1]);
}

int vsk_fattr_finite(const vsk_node *n)
{
    for (uint32_t i = 0; i < n->n_fattr; ++i)
        if (!isfinite(n->fattr[i])) return 0;
    return 1;
}

const vsk_op_def *vsk_op_lookup(uint32_t op)
{
    switch (op) {
    case VSK_OP_FRAME: return &vsk_op_def_frame;
    case VSK_OP_STFT_MAG: return &vsk_op_def_stft_mag;
    case VSK_OP_LINEAR: return &vsk_op_def_linear;
    case VSK_OP_ACT: return &vsk_op_def_act;
    case VSK_OP_LOG: return &vsk_op_def_log;
    case VSK_OP_CONV1D: return &vsk_op_def_conv1d;
    case VSK_OP_GRU: return &vsk_op_def_gru;
    case VSK_OP_CONCAT: return &vsk_op_def_concat;
    case VSK_OP_SLICE: return &vsk_op_def_slice;
    case VSK_OP_ADD: return &vsk_op_def_add;
    case VSK_OP_MUL: return &vsk_op_def_mul;
    case VSK_OP_AFFINE: return &vsk_op_def_affine;
    case VSK_OP_PITCH_YIN: return &vsk_op_def_pitch_yin;
    case VSK_OP_PITCH_MAP: return &vsk_op_def_pitch_map;
    case VSK_OP_HARMONIC: return &vsk_op_def_harmonic;
    case VSK_OP_NOISE: return &vsk_op_def_noise;
    case VSK_OP_RUNNING_MEAN: return &vsk_op_def_running_mean;
    case VSK_OP_ARGMIN: return &vsk_op_def_argmin;
    case VSK_OP_WARP: return &vsk_op_def_warp;
    case VSK_OP_NEAREST: return &vsk_op_def_nearest;
    default: return NULL;
    }
}
