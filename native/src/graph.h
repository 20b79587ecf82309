/* graph.h — internal: a tier's validated network and its per-voice state.
 * Owned by graph.c; used by bundle.c (parse/validate) and voice.c (run). */
#ifndef VSK_GRAPH_H
#define VSK_GRAPH_H

#include <stddef.h>
#include <stdint.h>
#include "ops.h"

typedef struct vsk_graph {
    uint32_t hop;                 /* samples per step (tier's hop_samples) */
    uint32_t value_count;
    uint32_t *value_size;         /* floats per value */
    size_t *value_offset;         /* bytes into the value block, 64-aligned */
    uint32_t input_value, output_value;
    uint32_t node_count;
    vsk_node *nodes;
    size_t values_bytes;          /* total bytes of all values */
    size_t state_bytes;           /* total bytes of all node states */
    uint64_t flops_per_step;      /* typical estimate (ops' flops) */
    uint64_t cost_per_step;       /* worst case (ops' cost + copies) */
    uint64_t parameter_count;     /* distinct const elements read */
    uint32_t warmup_samples;      /* largest FRAME window (history needed) */
    vsk_allocator allocator;      /* what `nodes` came from (freed with) */
    size_t alloc_bytes;           /* its size */
} vsk_graph;

/* Parses and validates one GRAPH section. `tensors` are the bundle's
 * validated tensors. Allocates into the graph (control thread). Returns
 * VSK_OK, VSK_ERR_CORRUPT, VSK_ERR_TOO_LARGE, VSK_ERR_UNSUPPORTED_OP or
 * VSK_ERR_NO_MEMORY. On failure nothing is leaked. */
vsk_status vsk_graph_parse(vsk_graph *g, const uint8_t *data, size_t size,
                           uint32_t hop, const vsk_tensor *tensors,
                           uint32_t tensor_count);
/* The same with an allocator (NULL = the C heap) for every allocation,
 * kept in the graph for vsk_graph_free. */
vsk_status vsk_graph_parse_a(vsk_graph *g, const uint8_t *data, size_t size,
                             uint32_t hop, const vsk_tensor *tensors,
                             uint32_t tensor_count, const vsk_allocator *a);
void vsk_graph_free(vsk_graph *g);

/* Per-voice runtime state of one graph lives in caller memory of
 * vsk_graph_runtime_bytes(g) bytes (64-byte aligned). init (control
 * thread) records `isa` (kernels.h, chosen once by the voice) in the block
 * and resets; reset (real-time safe) reuses it. */
size_t vsk_graph_runtime_bytes(const vsk_graph *g);
void vsk_graph_runtime_init(const vsk_graph *g, void *mem, uint32_t isa);
void vsk_graph_runtime_reset(const vsk_graph *g, void *mem);
/* One step: reads g->hop samples from `in`, writes g->hop to `out`.
 * Real-time safe. */
void vsk_graph_step(const vsk_graph *g, void *mem, const float *in,
                    float *out);
/* The same step in pieces, for the voice's even schedule (voice.c): begin
 * copies the step's input in, run_node runs node i (0 .. node_count-1, in
 * order, each once per step), end copies the output out. Between the pieces
 * the step's intermediate values stay in `mem`, so a step may be spread over
 * several calls (audio buffers) as long as no other step of this runtime
 * runs in between. Real-time safe; vsk_graph_step is exactly begin, every
 * node, end. */
void vsk_graph_step_begin(const vsk_graph *g, void *mem, const float *in);
void vsk_graph_run_node(const vsk_graph *g, void *mem, uint32_t i);
void vsk_graph_step_end(const vsk_graph *g, void *mem, float *out);
/* The same step with a clock read between nodes, for profiling tools only
 * (native/bench/profile.c; the voice never calls it): ns[i] += node i's
 * time, clock() returning monotonic nanoseconds (node_count + 1 reads). */
void vsk_graph_step_timed(const vsk_graph *g, void *mem, const float *in,
                          float *out, uint64_t (*clock)(void *), void *user,
                          uint64_t *ns);

#endif
