/* graph.c — parses and validates one tier's GRAPH section, plans its memory
 * and runs it step by step (see graph.h and docs/bundle-format.md).
 *
 * Check order (mirrors the tooling's reader, sdk/voiceskin/format.py):
 *   1. structure: counts (0 -> CORRUPT, over limit -> TOO_LARGE), value
 *      sizes, every array inside the section, no trailing bytes;
 *   2. every op code known to this build, else UNSUPPORTED_OP;
 *   3. input/output ids in range and of size hop;
 *   4. node by node in file order: inputs in range and already written,
 *      outputs in range and not yet written (the input counts as written),
 *      const ids in range, then the op's own validate();
 *   5. the output value is written by a node.
 * Values that no node writes and no node reads are allowed (they stay 0).
 *
 * Memory: everything a graph owns is one allocation whose base is
 * g->nodes: [nodes][value_offset][value_size][u32 pool: in, out, const ids,
 * iattr, fattr]. vsk_graph_free frees g->nodes.
 *
 * Runtime block (caller memory, 64-byte aligned):
 *   [header: isa, padded to 64][value pointer table, padded to 64][values]
 *   [node states]
 * The pointer table is built by vsk_graph_runtime_init, so the block holds
 * absolute pointers into itself: it must not be moved or copied after
 * init (re-run init if it is). */
#include "graph.h"

#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "cursor.h"

#define VSK_GRAPH_MAX_VALUES 4096u
#define VSK_GRAPH_MAX_VALUE_SIZE 65536u
#define VSK_GRAPH_MAX_NODES 4096u
/* Per-voice runtime of one graph (values + node states). Far above any real
 * student; keeps every size computation inside 32-bit size_t too. */
#define VSK_GRAPH_MAX_RUNTIME_BYTES ((size_t)1 << 30)

#define VSK_ALIGN64(n) (((n) + (size_t)63) & ~(size_t)63)

/* A count field: 0 below `lo` is CORRUPT, above `hi` TOO_LARGE. */
static vsk_status read_count(vsk_cursor *c, uint32_t lo, uint32_t hi,
                             uint32_t *out)
{
    uint32_t n;
    if (!vsk_cursor_u32(c, &n))
        return VSK_ERR_CORRUPT;
    if (n > hi)
        return VSK_ERR_TOO_LARGE;
    if (n < lo)
        return VSK_ERR_CORRUPT;
    *out = n;
    return VSK_OK;
}

/* Pass 1: walks the section, checks structure and counts, and returns how
 * many u32 words of per-node arrays the graph needs. */
static vsk_status scan_structure(const uint8_t *data, size_t size,
                                 uint32_t *out_values, uint32_t *out_nodes,
                                 size_t *out_pool_words)
{
    vsk_cursor c = vsk_cursor_make(data, size);
    uint32_t nv, nn, i, k, tmp;
    size_t pool = 0;
    vsk_status st;

    if ((st = read_count(&c, 1, VSK_GRAPH_MAX_VALUES, &nv)) != VSK_OK)
        return st;
    if ((size_t)nv > vsk_cursor_left(&c) / 4)
        return VSK_ERR_CORRUPT;
    for (i = 0; i < nv; i++) {
        uint32_t s = 0;
        vsk_cursor_u32(&c, &s);
        if (s > VSK_GRAPH_MAX_VALUE_SIZE)
            return VSK_ERR_TOO_LARGE;
        if (s == 0)
            return VSK_ERR_CORRUPT;
    }
    if (!vsk_cursor_u32(&c, &tmp) || !vsk_cursor_u32(&c, &tmp))
        return VSK_ERR_CORRUPT;
    if ((st = read_count(&c, 1, VSK_GRAPH_MAX_NODES, &nn)) != VSK_OK)
        return st;
    for (i = 0; i < nn; i++) {
        if (!vsk_cursor_u32(&c, &tmp)) /* op */
            return VSK_ERR_CORRUPT;
        for (k = 0; k < 5; k++) { /* in, out, const, iattr, fattr */
            uint32_t n;
            if ((st = read_count(&c, 0, VSK_MAX_NODE_ARGS, &n)) != VSK_OK)
                return st;
            if (!vsk_cursor_take(&c, (size_t)n * 4))
                return VSK_ERR_CORRUPT;
            pool += n;
        }
    }
    if (vsk_cursor_left(&c) != 0)
        return VSK_ERR_CORRUPT; /* trailing bytes */
    *out_values = nv;
    *out_nodes = nn;
    *out_pool_words = pool;
    return VSK_OK;
}

/* Pass 2: fills the arrays (the structure is known to be valid). Const ids
 * go to the pool; their pointers are set once the ids are checked. */
static void fill_graph(vsk_graph *g, const uint8_t *data, size_t size,
                       uint32_t *pool, uint32_t **const_ids)
{
    vsk_cursor c = vsk_cursor_make(data, size);
    uint32_t i, tmp;

    vsk_cursor_u32(&c, &tmp);
    vsk_cursor_u32s(&c, g->value_size, g->value_count);
    vsk_cursor_u32(&c, &g->input_value);
    vsk_cursor_u32(&c, &g->output_value);
    vsk_cursor_u32(&c, &tmp);
    for (i = 0; i < g->node_count; i++) {
        vsk_node *n = &g->nodes[i];
        vsk_cursor_u32(&c, &n->op);
        vsk_cursor_u32(&c, &n->n_in);
        vsk_cursor_u32s(&c, pool, n->n_in);
        n->in = pool;
        pool += n->n_in;
        vsk_cursor_u32(&c, &n->n_out);
        vsk_cursor_u32s(&c, pool, n->n_out);
        n->out = pool;
        pool += n->n_out;
        vsk_cursor_u32(&c, &n->n_const);
        vsk_cursor_u32s(&c, pool, n->n_const);
        const_ids[i] = pool;
        pool += n->n_const;
        vsk_cursor_u32(&c, &n->n_iattr);
        vsk_cursor_u32s(&c, pool, n->n_iattr); /* i32 bits, copied aligned */
        n->iattr = (const int32_t *)(void *)pool;
        pool += n->n_iattr;
        vsk_cursor_u32(&c, &n->n_fattr);
        vsk_cursor_u32s(&c, pool, n->n_fattr); /* f32 bits, copied aligned */
        n->fattr = (const float *)(void *)pool;
        pool += n->n_fattr;
        n->hop = g->hop;
        n->value_size = g->value_size;
    }
}

/* fattr words were stored as u32 bit patterns; rewrite them as floats so
 * reads through node->fattr access float objects (well-defined aliasing).
 * iattr needs nothing: int32 may alias uint32. */
static void fix_attr_types(vsk_graph *g)
{
    uint32_t i, k;
    for (i = 0; i < g->node_count; i++) {
        vsk_node *n = &g->nodes[i];
        uint32_t *fw = (uint32_t *)(void *)(uintptr_t)n->fattr;
        for (k = 0; k < n->n_fattr; k++) {
            float f = vsk_f32_from_bits(fw[k]);
            memcpy(&fw[k], &f, sizeof f);
        }
    }
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static vsk_status check_dataflow(vsk_graph *g, uint32_t **const_ids,
                                 const vsk_tensor *tensors,
                                 uint32_t tensor_count, uint8_t *written)
{
    uint32_t i, k;
    if (g->input_value >= g->value_count || g->output_value >= g->value_count)
        return VSK_ERR_CORRUPT;
    if (g->value_size[g->input_value] != g->hop ||
        g->value_size[g->output_value] != g->hop)
        return VSK_ERR_CORRUPT;
    memset(written, 0, g->value_count);
    written[g->input_value] = 1;
    for (i = 0; i < g->node_count; i++) {
        vsk_node *n = &g->nodes[i];
        const vsk_op_def *op = vsk_op_lookup(n->op);
        vsk_status st;
        for (k = 0; k < n->n_in; k++)
            if (n->in[k] >= g->value_count || !written[n->in[k]])
                return VSK_ERR_CORRUPT;
        for (k = 0; k < n->n_out; k++) {
            if (n->out[k] >= g->value_count || written[n->out[k]])
                return VSK_ERR_CORRUPT;
            written[n->out[k]] = 1;
        }
        for (k = 0; k < n->n_const; k++) {
            if (const_ids[i][k] >= tensor_count)
                return VSK_ERR_CORRUPT;
            n->const_[k] = &tensors[const_ids[i][k]];
        }
        st = op->validate ? op->validate(n, g->value_size, g->value_count)
                          : VSK_OK;
        if (st != VSK_OK)
            return st < 0 ? st : VSK_ERR_CORRUPT;
    }
    if (g->output_value == g->input_value || !written[g->output_value])
        return VSK_ERR_CORRUPT;
    return VSK_OK;
}

static vsk_status plan(vsk_graph *g, uint32_t **const_ids,
                       uint32_t tensor_count, const vsk_tensor *tensors)
{
    size_t off = 0, total;
    uint32_t i, k;
    uint8_t *seen;

    for (i = 0; i < g->value_count; i++) {
        g->value_offset[i] = off;
        off += VSK_ALIGN64((size_t)g->value_size[i] * sizeof(float));
    }
    g->values_bytes = off; /* <= 4096 * 256 KiB = 1 GiB */
    if (g->values_bytes > VSK_GRAPH_MAX_RUNTIME_BYTES)
        return VSK_ERR_TOO_LARGE;

    /* Which values a FRAME writes (PITCH_YIN's worst case depends on it). */
    seen = (uint8_t *)vsk_mem_calloc(&g->allocator, g->value_count);
    if (!seen)
        return VSK_ERR_NO_MEMORY;
    for (i = 0; i < g->node_count; i++)
        if (g->nodes[i].op == VSK_OP_FRAME)
            seen[g->nodes[i].out[0]] = 1;
    for (i = 0; i < g->node_count; i++)
        g->nodes[i].in_slides =
            g->nodes[i].n_in >= 1 && seen[g->nodes[i].in[0]];
    vsk_mem_free(&g->allocator, seen, g->value_count);

    total = g->values_bytes;
    off = 0;
    g->flops_per_step = 0;
    /* Worst case: the step's input and output copies, then every node. */
    g->cost_per_step = 2ull * g->hop + VSK_COST_STEP;
    g->warmup_samples = 0;
    for (i = 0; i < g->node_count; i++) {
        vsk_node *n = &g->nodes[i];
        const vsk_op_def *op = vsk_op_lookup(n->op);
        size_t sb = op->state_bytes ? op->state_bytes(n, g->value_size) : 0;
        if (sb > VSK_GRAPH_MAX_RUNTIME_BYTES)
            return VSK_ERR_TOO_LARGE;
        sb = VSK_ALIGN64(sb);
        if (sb > VSK_GRAPH_MAX_RUNTIME_BYTES - total)
            return VSK_ERR_TOO_LARGE;
        n->state_offset = off;
        n->state_bytes = sb;
        off += sb;
        total += sb;
        if (op->flops)
            g->flops_per_step =
                sat_add(g->flops_per_step, op->flops(n, g->value_size));
        n->cost = VSK_COST_NODE;
        if (op->cost)
            n->cost = sat_add(n->cost, op->cost(n, g->value_size));
        g->cost_per_step = sat_add(g->cost_per_step, n->cost);
        if (n->op == VSK_OP_FRAME && n->n_iattr >= 1 && n->iattr[0] > 0 &&
            (uint32_t)n->iattr[0] > g->warmup_samples)
            g->warmup_samples = (uint32_t)n->iattr[0];
    }
    g->state_bytes = off;

    /* Distinct constant elements the graph reads. */
    g->parameter_count = 0;
    seen = (uint8_t *)vsk_mem_calloc(&g->allocator,
                                     tensor_count ? tensor_count : 1);
    if (!seen)
        return VSK_ERR_NO_MEMORY;
    for (i = 0; i < g->node_count; i++)
        for (k = 0; k < g->nodes[i].n_const; k++) {
            uint32_t id = const_ids[i][k];
            if (!seen[id]) {
                seen[id] = 1;
                g->parameter_count =
                    sat_add(g->parameter_count, tensors[id].count);
            }
        }
    vsk_mem_free(&g->allocator, seen, tensor_count ? tensor_count : 1);
    return VSK_OK;
}

vsk_status vsk_graph_parse(vsk_graph *g, const uint8_t *data, size_t size,
                           uint32_t hop, const vsk_tensor *tensors,
                           uint32_t tensor_count)
{
    return vsk_graph_parse_a(g, data, size, hop, tensors, tensor_count, NULL);
}

vsk_status vsk_graph_parse_a(vsk_graph *g, const uint8_t *data, size_t size,
                             uint32_t hop, const vsk_tensor *tensors,
                             uint32_t tensor_count, const vsk_allocator *a)
{
    uint32_t nv = 0, nn = 0, i;
    size_t pool_words = 0, nodes_bytes, offs_bytes, sizes_bytes, bytes;
    uint8_t *block;
    uint32_t **const_ids = NULL;
    uint8_t *written = NULL;
    vsk_status st;

    if (!g || (!data && size) || (!tensors && tensor_count))
        return VSK_ERR_INVALID_ARGUMENT;
    memset(g, 0, sizeof *g);
    if (a)
        g->allocator = *a;
    if ((st = scan_structure(data, size, &nv, &nn, &pool_words)) != VSK_OK)
        return st;

    nodes_bytes = (size_t)nn * sizeof(vsk_node);
    offs_bytes = (size_t)nv * sizeof(size_t);
    sizes_bytes = (size_t)nv * sizeof(uint32_t);
    bytes = nodes_bytes + offs_bytes + sizes_bytes +
            (pool_words ? pool_words : 1) * sizeof(uint32_t);
    const vsk_allocator *al = &g->allocator;
    block = (uint8_t *)vsk_mem_calloc(al, bytes);
    const_ids = (uint32_t **)vsk_mem_calloc(al, (size_t)nn * sizeof *const_ids);
    written = (uint8_t *)vsk_mem_alloc(al, nv, 16);
    if (!block || !const_ids || !written) {
        vsk_mem_free(al, block, bytes);
        vsk_mem_free(al, const_ids, (size_t)nn * sizeof *const_ids);
        vsk_mem_free(al, written, nv);
        return VSK_ERR_NO_MEMORY;
    }
    g->alloc_bytes = bytes;
    g->hop = hop;
    g->value_count = nv;
    g->node_count = nn;
    g->nodes = (vsk_node *)(void *)block;
    g->value_offset = (size_t *)(void *)(block + nodes_bytes);
    g->value_size = (uint32_t *)(void *)(block + nodes_bytes + offs_bytes);
    fill_graph(g, data, size,
               (uint32_t *)(void *)(block + nodes_bytes + offs_bytes +
                                    sizes_bytes),
               const_ids);
    fix_attr_types(g);

    st = VSK_OK;
    for (i = 0; i < nn && st == VSK_OK; i++)
        if (!vsk_op_lookup(g->nodes[i].op))
            st = VSK_ERR_UNSUPPORTED_OP;
    if (st == VSK_OK)
        st = check_dataflow(g, const_ids, tensors, tensor_count, written);
    if (st == VSK_OK)
        st = plan(g, const_ids, tensor_count, tensors);
    vsk_mem_free(al, const_ids, (size_t)nn * sizeof *const_ids);
    vsk_mem_free(al, written, nv);
    if (st != VSK_OK)
        vsk_graph_free(g);
    return st;
}

void vsk_graph_free(vsk_graph *g)
{
    if (!g)
        return;
    vsk_mem_free(&g->allocator, g->nodes, g->alloc_bytes);
    memset(g, 0, sizeof *g);
}

/* The block's header: what init recorded for reset. */
typedef struct vsk_runtime_hdr {
    uint32_t isa;
} vsk_runtime_hdr;
#define VSK_RUNTIME_HDR_BYTES ((size_t)64)

static size_t ptr_table_bytes(const vsk_graph *g)
{
    return VSK_ALIGN64((size_t)g->value_count * sizeof(float *));
}

size_t vsk_graph_runtime_bytes(const vsk_graph *g)
{
    return VSK_RUNTIME_HDR_BYTES + ptr_table_bytes(g) + g->values_bytes +
           g->state_bytes;
}

void vsk_graph_runtime_init(const vsk_graph *g, void *mem, uint32_t isa)
{
    float **ptrs = (float **)(void *)((uint8_t *)mem + VSK_RUNTIME_HDR_BYTES);
    uint8_t *values = (uint8_t *)ptrs + ptr_table_bytes(g);
    uint32_t i;
    ((vsk_runtime_hdr *)mem)->isa = isa;
    for (i = 0; i < g->value_count; i++)
        ptrs[i] = (float *)(void *)(values + g->value_offset[i]);
    vsk_graph_runtime_reset(g, mem);
}

void vsk_graph_runtime_reset(const vsk_graph *g, void *mem)
{
    const uint32_t isa = ((const vsk_runtime_hdr *)mem)->isa;
    uint8_t *values = (uint8_t *)mem + VSK_RUNTIME_HDR_BYTES +
                      ptr_table_bytes(g);
    uint8_t *states = values + g->values_bytes;
    uint32_t i;
    memset(values, 0, g->values_bytes + g->state_bytes);
    for (i = 0; i < g->node_count; i++) {
        const vsk_node *n = &g->nodes[i];
        const vsk_op_def *op = vsk_op_lookup(n->op);
        if (op && op->reset)
            op->reset(n, states + n->state_offset, isa);
    }
}

static float **value_ptrs(void *mem)
{
    return (float **)(void *)((uint8_t *)mem + VSK_RUNTIME_HDR_BYTES);
}

void vsk_graph_step_begin(const vsk_graph *g, void *mem, const float *in)
{
    memcpy(value_ptrs(mem)[g->input_value], in, (size_t)g->hop * sizeof(float));
}

void vsk_graph_run_node(const vsk_graph *g, void *mem, uint32_t i)
{
    float **ptrs = value_ptrs(mem);
    uint8_t *states = (uint8_t *)ptrs + ptr_table_bytes(g) + g->values_bytes;
    const vsk_node *n = &g->nodes[i];
    /* Known non-NULL: vsk_graph_parse refused unknown ops. */
    vsk_op_lookup(n->op)->run(n, (float *const *)ptrs, states + n->state_offset);
}

void vsk_graph_step_end(const vsk_graph *g, void *mem, float *out)
{
    memcpy(out, value_ptrs(mem)[g->output_value], (size_t)g->hop * sizeof(float));
}

void vsk_graph_step(const vsk_graph *g, void *mem, const float *in,
                    float *out)
{
    vsk_graph_step_begin(g, mem, in);
    for (uint32_t i = 0; i < g->node_count; i++)
        vsk_graph_run_node(g, mem, i);
    vsk_graph_step_end(g, mem, out);
}

void vsk_graph_step_timed(const vsk_graph *g, void *mem, const float *in,
                          float *out, uint64_t (*clock)(void *), void *user,
                          uint64_t *ns)
{
    uint64_t t0, t1;
    vsk_graph_step_begin(g, mem, in);
    t0 = clock(user);
    for (uint32_t i = 0; i < g->node_count; i++) {
        vsk_graph_run_node(g, mem, i);
        t1 = clock(user);
        ns[i] += t1 - t0;
        t0 = t1;
    }
    vsk_graph_step_end(g, mem, out);
}
