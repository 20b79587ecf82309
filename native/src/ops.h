/* ops.h — internal interface between the graph (graph.c) and the op kernels
 * (ops*.c). Not installed. See docs/bundle-format.md for each op's maths. */
#ifndef VSK_OPS_H
#define VSK_OPS_H

#include <stddef.h>
#include <stdint.h>
#include "voiceskin.h"

#define VSK_MAX_NODE_ARGS 64

enum {
    VSK_OP_FRAME = 1, VSK_OP_STFT_MAG = 2, VSK_OP_LINEAR = 3, VSK_OP_ACT = 4,
    VSK_OP_LOG = 5, VSK_OP_CONV1D = 6, VSK_OP_GRU = 7, VSK_OP_CONCAT = 8,
    VSK_OP_SLICE = 9, VSK_OP_ADD = 10, VSK_OP_MUL = 11, VSK_OP_AFFINE = 12,
    VSK_OP_PITCH_YIN = 13, VSK_OP_PITCH_MAP = 14, VSK_OP_HARMONIC = 15,
    VSK_OP_NOISE = 16, VSK_OP_RUNNING_MEAN = 17, VSK_OP_ARGMIN = 18,
    VSK_OP_WARP = 19, VSK_OP_NEAREST = 20,
    VSK_OP_COUNT_ /* one past the last code */
};

/* Tensor dtypes (docs/bundle-format.md). */
enum { VSK_DTYPE_F32 = 1, VSK_DTYPE_I8 = 2 };

/* A constant tensor inside the bundle (read-only, 64-byte aligned data).
 * f32: `data` (count floats). i8 (2-D weights of LINEAR and GRU only):
 * `data` is NULL, `q8` the blocks of 8 rows x 4 columns and `q8_scale` the
 * per-row scales (kernels.h, vsk_matvec_q8); dims/count are the logical
 * [rows, cols]. `row_span`: for a 2-D f32 tensor whose rows' nonzero spans
 * cover at most half of it (vsk_tensor_plan_spans), per row [first, last +
 * 1) of its nonzero columns (2 per row) and `span_entries` their total;
 * NULL otherwise (LINEAR then multiplies whole rows). */
typedef struct vsk_tensor {
    uint32_t ndim;
    uint32_t dims[4];      /* unused dims are 1 */
    uint64_t count;        /* product of dims */
    const float *data;
    uint32_t dtype;        /* VSK_DTYPE_F32 or VSK_DTYPE_I8 (0, as zeroed, = f32) */
    const int8_t *q8;
    const float *q8_scale;
    const uint32_t *row_span;
    uint64_t span_entries;
} vsk_tensor;

/* The u32 words of `t`'s row spans (2 per row) when it is a 2-D f32 tensor
 * whose rows' nonzero spans cover at most half of it, else 0; then, with
 * `span` not NULL (room for 2 per row), writes them there and sets
 * t->row_span and t->span_entries. Called once per tensor when the bundle
 * is opened (control thread). */
size_t vsk_tensor_plan_spans(vsk_tensor *t, uint32_t *span);

/* One node of a validated graph. Arrays point into memory owned by the
 * bundle. `value_size`, `state_offset` and `state_bytes` are filled by the
 * graph planner (graph.c) before validate/reset/run are called. */
typedef struct vsk_node {
    uint32_t op;
    uint32_t n_in, n_out, n_const, n_iattr, n_fattr;
    const uint32_t *in;             /* value ids */
    const uint32_t *out;            /* value ids */
    const vsk_tensor *const_[VSK_MAX_NODE_ARGS];
    const int32_t *iattr;           /* n_iattr entries (unaligned-safe copy) */
    const float *fattr;             /* n_fattr entries (copy) */
    uint32_t hop;                   /* the graph's hop, for ops that need it */
    const uint32_t *value_size;     /* the graph's value sizes (floats), set by
                                       the graph planner: reset/run read
                                       their in/out sizes here */
    size_t state_offset;            /* bytes into the voice's state block */
    size_t state_bytes;             /* from op->state_bytes */
    uint32_t in_slides;             /* set by the planner: in[0] is written
                                       by a FRAME node, so consecutive steps
                                       see it shifted by hop (PITCH_YIN's
                                       incremental path always applies) */
    uint64_t cost;                  /* set by the planner: this node's
                                       worst-case cost per step
                                       (VSK_COST_NODE + op->cost), the unit
                                       the even schedule budgets in */
} vsk_node;

/* Per-op behaviour. All functions are pure with respect to global state.
 *  validate:    check arity, attrs, value sizes (value_size[id]) and const
 *               shapes; return VSK_OK, VSK_ERR_CORRUPT or VSK_ERR_TOO_LARGE.
 *  state_bytes: bytes of per-voice state (incl. scratch), multiple of 64.
 *  reset:       put state into its initial (zero) condition; `isa` is the
 *               voice's instruction set (kernels.h), chosen once at init:
 *               reset runs on the audio thread and must not detect it.
 *  run:         one graph step. values[id] points to each value's floats
 *               (64-byte aligned). Must not allocate, lock or do I/O.
 *  flops:       estimated floating point operations per step (typical
 *               path; reported to hosts when the manifest says 0).
 *  cost:        worst-case operations of one step over every path run()
 *               can take, in the unit of docs/abi.md "Bounded cost" (one
 *               vectorised multiply-add or one float moved = 1; scalar
 *               loops and libm calls weighted by what they cost). Must be
 *               an upper bound: the runtime refuses bundles on it. */
typedef struct vsk_op_def {
    const char *name;
    vsk_status (*validate)(const vsk_node *node, const uint32_t *value_size,
                           uint32_t value_count);
    size_t (*state_bytes)(const vsk_node *node, const uint32_t *value_size);
    void (*reset)(const vsk_node *node, void *state, uint32_t isa);
    void (*run)(const vsk_node *node, float *const *values, void *state);
    uint64_t (*flops)(const vsk_node *node, const uint32_t *value_size);
    uint64_t (*cost)(const vsk_node *node, const uint32_t *value_size);
} vsk_op_def;

/* Cost weights (docs/abi.md, "Bounded cost"), in units of one vectorised
 * multiply-add (or one float copied): per element of a SIMD polynomial
 * (tanh, sigmoid), per element of a scalar loop (branches, conversions,
 * divisions), per libm call (log, exp, sin, cos, sqrt), per node and step.
 * Calibrated so that one unit costs about the same time whatever the op
 * (benchmarks/bench_cost.py). */
#define VSK_COST_SIMD_FN 16u
#define VSK_COST_SCALAR 16u
#define VSK_COST_LIBM 64u
#define VSK_COST_NODE 64u
/* per graph step: the voice's FIFO, step call and copies around it */
#define VSK_COST_STEP 512u

/* The op table; NULL for codes this build does not know. */
const vsk_op_def *vsk_op_lookup(uint32_t op);

#endif
