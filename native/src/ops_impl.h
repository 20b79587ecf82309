/* ops_impl.h — internal: shared helpers of the op kernels (ops_nn.c,
 * ops_signal.c) and the op definitions that ops.c puts in its table. */
#ifndef VSK_OPS_IMPL_H
#define VSK_OPS_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include "ops.h"

/* Round a byte count up to a multiple of 64. */
static inline size_t vsk_align64(size_t n) { return (n + 63u) & ~(size_t)63u; }

/* Size of the node's i-th input / output value (floats). */
static inline uint32_t vsk_in_size(const vsk_node *n, uint32_t i)
{
    return n->value_size[n->in[i]];
}
static inline uint32_t vsk_out_size(const vsk_node *n, uint32_t i)
{
    return n->value_size[n->out[i]];
}

/* validate() helpers: return VSK_OK or VSK_ERR_CORRUPT. */
vsk_status vsk_check_counts(const vsk_node *n, uint32_t n_in, uint32_t n_out,
                            uint32_t const_min, uint32_t const_max,
                            uint32_t n_iattr, uint32_t n_fattr);
vsk_status vsk_check_ids(const vsk_node *n, uint32_t value_count);
/* 1 if tensor t has exactly this shape (ndim 1..3, dims as given). */
int vsk_tensor_is(const vsk_tensor *t, uint32_t ndim, uint32_t d0, uint32_t d1,
                  uint32_t d2);
/* 1 if t is a 2-D weight [d0, d1] in f32 or int8 (the weights LINEAR and
 * GRU accept; vsk_tensor_is accepts f32 only). */
int vsk_weight_is(const vsk_tensor *t, uint32_t d0, uint32_t d1);
/* y = W x (+ bias) for such a weight: vsk_matvec or vsk_matvec_q8 (whose
 * scratch is xq, VSK_Q8_SCRATCH(cols) bytes, 32-aligned). [audio] */
void vsk_weight_matvec(uint32_t isa, const vsk_tensor *W, const float *x, const float *bias,
                       float *y, int8_t *xq);
/* 1 if every fattr is finite. */
int vsk_fattr_finite(const vsk_node *n);

/* The ops (defined in ops_nn.c and ops_signal.c). */
extern const vsk_op_def vsk_op_def_frame, vsk_op_def_stft_mag,
    vsk_op_def_linear, vsk_op_def_act, vsk_op_def_log, vsk_op_def_conv1d,
    vsk_op_def_gru, vsk_op_def_concat, vsk_op_def_slice, vsk_op_def_add,
    vsk_op_def_mul, vsk_op_def_affine, vsk_op_def_pitch_yin,
    vsk_op_def_pitch_map, vsk_op_def_harmonic, vsk_op_def_noise,
    vsk_op_def_running_mean, vsk_op_def_argmin, vsk_op_def_warp,
    vsk_op_def_nearest;

#endif
