/* test_graph_core.c — unit tests of graph.c (parse rules, memory plan,
 * runtime) against mock ops, independent of the real kernels.
 *
 * graph.c is compiled into this executable (native/tests/CMakeLists.txt;
 * the shared library keeps its copy hidden, so there is no clash) and this
 * file provides the vsk_op_lookup it calls, with a few simple ops whose
 * results are easy to predict. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-parameter" /* mock op signatures */
#endif
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>

#include "vsk_test_bundle.h"

/* ------------------------------------------------------------ mock ops */
/* code 1 FRAME-like: in [hop] -> out [win], iattr win, state win floats.
 * code 2 SCALE:  out = in * const0[0] (const count 1), no state.
 * code 3 ACCUM:  out = in + acc; acc = out (state n floats, n + 1 bytes
 *                requested to check rounding to 64).
 * code 4 ADD2:   out = a + b.
 * code 5 BIG:    validate returns TOO_LARGE.
 * code 6 HUGE:   asks for 2 GiB of state.
 * anything else: unknown (NULL). */

static int mock_reset_calls;

static vsk_status frame_v(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (n->n_in != 1 || n->n_out != 1 || n->n_iattr != 1 || n->iattr[0] < 1 ||
        vs[n->out[0]] != (uint32_t)n->iattr[0] || vs[n->in[0]] != n->hop)
        return VSK_ERR_CORRUPT;
    return VSK_OK;
}
static size_t frame_s(const vsk_node *n, const uint32_t *vs)
{
    return (size_t)n->iattr[0] * sizeof(float);
}
static void frame_r(const vsk_node *n, void *st, uint32_t isa)
{
    mock_reset_calls++;
    memset(st, 0, frame_s(n, NULL));
}
static void frame_run(const vsk_node *n, float *const *v, void *st)
{
    uint32_t win = (uint32_t)n->iattr[0], h = n->value_size[n->in[0]];
    float *buf = (float *)st;
    memmove(buf, buf + h, (win - h) * sizeof(float));
    memcpy(buf + win - h, v[n->in[0]], h * sizeof(float));
    memcpy(v[n->out[0]], buf, win * sizeof(float));
}
static uint64_t frame_f(const vsk_node *n, const uint32_t *vs) { return 1; }

static vsk_status scale_v(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    if (n->n_in != 1 || n->n_out != 1 || n->n_const < 1 ||
        vs[n->in[0]] != vs[n->out[0]] || !n->const_[0] || n->const_[0]->count < 1)
        return VSK_ERR_CORRUPT;
    return VSK_OK;
}
static void scale_run(const vsk_node *n, float *const *v, void *st)
{
    uint32_t i, len = n->value_size[n->out[0]];
    for (i = 0; i < len; i++)
        v[n->out[0]][i] = v[n->in[0]][i] * n->const_[0]->data[0];
}
static uint64_t scale_f(const vsk_node *n, const uint32_t *vs) { return 10; }

static vsk_status accum_v(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    return (n->n_in == 1 && n->n_out == 1 && vs[n->in[0]] == vs[n->out[0]])
               ? VSK_OK
               : VSK_ERR_CORRUPT;
}
static size_t accum_s(const vsk_node *n, const uint32_t *vs)
{
    return (size_t)vs[n->out[0]] * sizeof(float) + 1;
}
static void accum_r(const vsk_node *n, void *st, uint32_t isa) { mock_reset_calls++; }
static void accum_run(const vsk_node *n, float *const *v, void *st)
{
    uint32_t i, len = n->value_size[n->out[0]];
    float *acc = (float *)st;
    for (i = 0; i < len; i++) {
        acc[i] += v[n->in[0]][i];
        v[n->out[0]][i] = acc[i];
    }
}
static uint64_t accum_f(const vsk_node *n, const uint32_t *vs) { return 100; }

static vsk_status add_v(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    return (n->n_in == 2 && n->n_out == 1 && vs[n->in[0]] == vs[n->out[0]] &&
            vs[n->in[1]] == vs[n->out[0]])
               ? VSK_OK
               : VSK_ERR_CORRUPT;
}
static void add_run(const vsk_node *n, float *const *v, void *st)
{
    uint32_t i, len = n->value_size[n->out[0]];
    for (i = 0; i < len; i++)
        v[n->out[0]][i] = v[n->in[0]][i] + v[n->in[1]][i];
}

static vsk_status big_v(const vsk_node *n, const uint32_t *vs, uint32_t vc)
{
    return VSK_ERR_TOO_LARGE;
}
static size_t huge_s(const vsk_node *n, const uint32_t *vs)
{
    return (size_t)1 << 31;
}

static const vsk_op_def mock_ops[7] = {
    {NULL, NULL, NULL, NULL, NULL, NULL},
    {"FRAME", frame_v, frame_s, frame_r, frame_run, frame_f},
    {"SCALE", scale_v, NULL, NULL, scale_run, scale_f},
    {"ACCUM", accum_v, accum_s, accum_r, accum_run, accum_f},
    {"ADD2", add_v, NULL, NULL, add_run, NULL},
    {"BIG", big_v, NULL, NULL, add_run, NULL},
    {"HUGE", accum_v, huge_s, NULL, accum_run, NULL},
};

const vsk_op_def *vsk_op_lookup(uint32_t op)
{
    return op >= 1 && op <= 6 ? &mock_ops[op] : NULL;
}

/* ------------------------------------------------------------- helpers */

static _Alignas(64) float tensor_data[64];
static vsk_tensor tensors[3];

static void make_tensors(void)
{
    uint32_t i;
    for (i = 0; i < 3; i++) {
        tensors[i].ndim = 1;
        tensors[i].dims[0] = i + 1;
        tensors[i].dims[1] = tensors[i].dims[2] = tensors[i].dims[3] = 1;
        tensors[i].count = i + 1;
        tensors[i].data = &tensor_data[16 * i];
    }
    tensor_data[0] = 2.0f;  /* t0: {2} */
    tensor_data[16] = -1.0f; /* t1: {-1, 0} */
    tensor_data[32] = 0.5f;  /* t2: {0.5, 0, 0} */
}

/* hop 4:
 *   v0 [4] input
 *   n0 FRAME win 8   v0 -> v1 [8]
 *   n1 SCALE t0      v0 -> v2 [4]      (x2)
 *   n2 ACCUM         v2 -> v3 [4]      running sum of 2x
 *   n3 SCALE t0      v3 -> v4 [4]      (t0 again: counted once)
 *   n4 SCALE t2      v0 -> v5 [4]      (x0.5)
 *   n5 ADD2          v4, v5 -> v6 [4]  output
 *   v7 [3] unused, never written */
static void build_graph(tb_buf *g)
{
    uint32_t v[8] = {0, 1, 2, 3, 4, 5, 6, 7}, t0 = 0, t2 = 2, add_in[2] = {4, 5};
    int32_t win = 8;
    static const uint32_t sizes[8] = {4, 8, 4, 4, 4, 4, 4, 3};
    uint32_t i;
    g->n = 0;
    tb_u32(g, 8);
    for (i = 0; i < 8; i++)
        tb_u32(g, sizes[i]);
    tb_u32(g, 0);
    tb_u32(g, 6);
    tb_u32(g, 6);
    tb_node(g, 1, 1, &v[0], 1, &v[1], 0, NULL, 1, &win, 0, NULL);
    tb_node(g, 2, 1, &v[0], 1, &v[2], 1, &t0, 0, NULL, 0, NULL);
    tb_node(g, 3, 1, &v[2], 1, &v[3], 0, NULL, 0, NULL, 0, NULL);
    tb_node(g, 2, 1, &v[3], 1, &v[4], 1, &t0, 0, NULL, 0, NULL);
    tb_node(g, 2, 1, &v[0], 1, &v[5], 1, &t2, 0, NULL, 0, NULL);
    tb_node(g, 4, 2, add_in, 1, &v[6], 0, NULL, 0, NULL, 0, NULL);
}

static vsk_status parse(const tb_buf *b, uint32_t hop, vsk_graph *g)
{
    vsk_status st = vsk_graph_parse(g, b->p, b->n, hop, tensors, 3);
    if (st != VSK_OK) {
        /* nothing must be left allocated or dangling on failure */
        CHECK(g->nodes == NULL && g->value_size == NULL && g->node_count == 0);
    }
    return st;
}

/* --------------------------------------------------------------- tests */

/* A clock for vsk_graph_step_timed: read r (from 1) returns r². */
static uint64_t fake_clock(void *user)
{
    uint64_t *r = user;
    ++*r;
    return *r * *r;
}

static void test_plan_and_run(void)
{
    tb_buf b = {0};
    vsk_graph g;
    uint32_t i, step;
    size_t bytes;
    void *mem, *raw;
    float in[4], out[4], first[5][4];

    build_graph(&b);
    CHECK_ST(parse(&b, 4, &g), VSK_OK);
    CHECK(g.hop == 4 && g.value_count == 8 && g.node_count == 6);
    CHECK(g.input_value == 0 && g.output_value == 6);
    for (i = 0; i < g.value_count; i++) {
        CHECK(g.value_offset[i] % 64 == 0);
        if (i)
            CHECK(g.value_offset[i] >=
                  g.value_offset[i - 1] + g.value_size[i - 1] * sizeof(float));
    }
    CHECK(g.values_bytes == 8 * 64);
    CHECK(g.warmup_samples == 8);
    CHECK(g.flops_per_step == 1 + 10 + 100 + 10 + 10);
    CHECK(g.parameter_count == 1 + 3); /* t0 once, t2; t1 unused */
    for (i = 0; i < g.node_count; i++) {
        CHECK(g.nodes[i].state_offset % 64 == 0);
        CHECK(g.nodes[i].state_bytes % 64 == 0);
        CHECK(g.nodes[i].hop == 4);
        CHECK(g.nodes[i].value_size == g.value_size);
    }
    CHECK(g.nodes[0].state_bytes == 64);  /* 8 floats */
    CHECK(g.nodes[2].state_bytes == 64);  /* 16 + 1 bytes rounded up */
    CHECK(g.nodes[2].state_offset == 64);
    CHECK(g.nodes[1].state_bytes == 0);
    CHECK(g.state_bytes == 128);
    CHECK(g.nodes[1].const_[0] == &tensors[0] && g.nodes[4].const_[0] == &tensors[2]);
    bytes = vsk_graph_runtime_bytes(&g);
    /* 64 B header (isa) + 8 ptrs = 64 B */
    CHECK(bytes == 64 + 64 + g.values_bytes + g.state_bytes);

    raw = malloc(bytes + 64);
    mem = (void *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    memset(mem, 0xFF, bytes); /* init must not rely on zeroed memory */
    mock_reset_calls = 0;
    vsk_graph_runtime_init(&g, mem, 0u /* VSK_ISA_SCALAR */);
    CHECK(mock_reset_calls == 2); /* FRAME and ACCUM have reset hooks */
    for (step = 0; step < 5; step++) {
        for (i = 0; i < 4; i++)
            in[i] = (float)(step * 4 + i);
        vsk_graph_step(&g, mem, in, out);
        for (i = 0; i < 4; i++) {
            /* out = 2 * sum_{s<=step} 2*in_s + 0.5*in */
            float sum = 0.0f, want;
            uint32_t s2;
            for (s2 = 0; s2 <= step; s2++)
                sum += 2.0f * (float)(s2 * 4 + i);
            want = 2.0f * sum + 0.5f * in[i];
            CHECK(out[i] == want);
            first[step][i] = out[i];
        }
    }
    /* FRAME's output value holds the last 8 inputs, oldest first */
    {
        const float *v1 = (const float *)((uint8_t *)mem + 128 + g.value_offset[1]);
        for (i = 0; i < 8; i++)
            CHECK(v1[i] == (float)(12 + i));
    }
    /* reset restores the initial state: same outputs again */
    vsk_graph_runtime_reset(&g, mem);
    for (step = 0; step < 5; step++) {
        for (i = 0; i < 4; i++)
            in[i] = (float)(step * 4 + i);
        vsk_graph_step(&g, mem, in, out);
        CHECK(memcmp(out, first[step], sizeof out) == 0);
    }
    /* the profiling step (native/bench/profile.c) computes the same
     * outputs, reads the clock once before the nodes and once after each,
     * and charges node i the difference of reads i and i + 1 */
    vsk_graph_runtime_reset(&g, mem);
    {
        uint64_t ns[6] = {0}, ticks = 0;
        for (step = 0; step < 5; step++) {
            for (i = 0; i < 4; i++)
                in[i] = (float)(step * 4 + i);
            vsk_graph_step_timed(&g, mem, in, out, fake_clock, &ticks, ns);
            CHECK(memcmp(out, first[step], sizeof out) == 0);
        }
        CHECK(ticks == 5 * (6 + 1));
        /* read r returns r² (r = 1, 2, ...): node i of step s is charged
         * (7s + i + 2)² − (7s + i + 1)² = 2(7s + i) + 3, summed over s < 5 */
        for (i = 0; i < 6; i++)
            CHECK(ns[i] == 2 * (7 * 10 + 5 * i) + 15);
    }
    /* in-place step (in == out) works too */
    vsk_graph_runtime_reset(&g, mem);
    for (i = 0; i < 4; i++)
        in[i] = (float)i;
    vsk_graph_step(&g, mem, in, in);
    CHECK(memcmp(in, first[0], sizeof in) == 0);

    free(raw);
    vsk_graph_free(&g);
    vsk_graph_free(&g); /* idempotent on a freed graph */
    CHECK(g.nodes == NULL);
    tb_free(&b);
}

static void test_rules(void)
{
    tb_buf b = {0};
    vsk_graph g;
    uint32_t v0 = 0, v1 = 1, v2 = 2, t0 = 0, t5 = 5, pair[2] = {0, 1};
    int32_t win = 8;
    size_t cut, full;

    /* every strict prefix of the valid graph is CORRUPT */
    build_graph(&b);
    full = b.n;
    for (cut = 0; cut < full; cut++)
        CHECK_ST(vsk_graph_parse(&g, b.p, cut, 4, tensors, 3), VSK_ERR_CORRUPT);
    /* a trailing byte */
    tb_bytes(&b, "", 1);
    CHECK_ST(parse(&b, 4, &g), VSK_ERR_CORRUPT);
    /* hop must match the input and output sizes */
    build_graph(&b);
    CHECK_ST(parse(&b, 5, &g), VSK_ERR_CORRUPT);
    CHECK_ST(vsk_graph_parse(NULL, b.p, b.n, 4, tensors, 3), VSK_ERR_INVALID_ARGUMENT);

#define G(nv, sizes, in, out, nn)                                          \
    do {                                                                   \
        static const uint32_t sz_[] = sizes;                               \
        uint32_t k_;                                                       \
        b.n = 0;                                                           \
        tb_u32(&b, nv);                                                    \
        for (k_ = 0; k_ < (nv); k_++)                                      \
            tb_u32(&b, sz_[k_]);                                           \
        tb_u32(&b, in);                                                    \
        tb_u32(&b, out);                                                   \
        tb_u32(&b, nn);                                                    \
    } while (0)
#define SIZES(...) {__VA_ARGS__}

    /* minimal valid: SCALE input -> output */
    G(2, SIZES(4, 4), 0, 1, 1);
    tb_node(&b, 2, 1, &v0, 1, &v1, 1, &t0, 0, NULL, 0, NULL);
    CHECK_ST(parse(&b, 4, &g), VSK_OK);
    CHECK(g.warmup_samples == 0 && g.state_bytes == 0);
    vsk_graph_free(&g);
    /* const id out of range */
    G(2, SIZES(4, 4), 0, 1, 1);
    tb_node(&b, 2, 1, &v0, 1, &v1, 1, &t5, 0, NULL, 0, NULL);
    CHECK_ST(parse(&b, 4, &g), VSK_ERR_CORRUPT);
    /* unknown op wins over a dataflow error later in the graph */
    G(3, SIZES(4, 4, 4), 0, 2, 2);
    tb_node(&b, 4, 2, pair, 1, &v2, 0, NULL, 0, NULL, 0, NULL); /* reads v1 unwritten */
    tb_node(&b, 42, 1, &v0, 1, &v1, 0, NULL, 0, NULL, 0, NULL);
    CHECK_ST(parse(&b, 4, &g), VSK_ERR_UNSUPPORTED_OP);
    /* the op's own status passes through (TOO_LARGE) */
    G(3, SIZES(4, 4, 4), 0, 2, 1);
    tb_node(&b, 5, 2, pair, 1, &v2, 0, NULL, 0, NULL, 0, NULL);
    CHECK_ST(parse(&b, 4, &g), VSK_ERR_CORRUPT); /* v1 read before write */
    G(2, SIZES(4, 4), 0, 1, 1);
    tb_node(&b, 5, 1, &v0, 1, &v1, 0, NULL, 0, NULL, 0, NULL);
    CHECK_ST(parse(&b, 4, &g), VSK_ERR_TOO_LARGE);
    /* a node reading its own output */
    G(2, SIZES(4, 4), 0, 1, 1);
    tb_node(&b, 3, 1, &v1, 1, &v1, 0, NULL, 0, NULL, 0, NULL);
    CHECK_ST(parse(&b, 4, &g), VSK_ERR_CORRUPT);
    /* a node writing the same value twice */
    {
        uint32_t twice[2] = {1, 1};
        G(2, SIZES(4, 4), 0, 1, 1);
        tb_node(&b, 3, 1, &v0, 2, twice, 0, NULL, 0, NULL, 0, NULL);
        CHECK_ST(parse(&b, 4, &g), VSK_ERR_CORRUPT);
    }
    /* state too big for the runtime limit */
    G(2, SIZES(4, 4), 0, 1, 1);
    tb_node(&b, 6, 1, &v0, 1, &v1, 0, NULL, 0, NULL, 0, NULL);
    CHECK_ST(parse(&b, 4, &g), VSK_ERR_TOO_LARGE);
    /* a FRAME's window is the warm-up */
    G(3, SIZES(4, 8, 4), 0, 2, 2);
    tb_node(&b, 1, 1, &v0, 1, &v1, 0, NULL, 1, &win, 0, NULL);
    tb_node(&b, 2, 1, &v0, 1, &v2, 1, &t0, 0, NULL, 0, NULL);
    CHECK_ST(parse(&b, 4, &g), VSK_OK);
    CHECK(g.warmup_samples == 8);
    vsk_graph_free(&g);
    /* negative and float attributes are carried through unchanged */
    {
        int32_t ia[3] = {-1, INT32_MIN, 7};
        float fa[2] = {-0.25f, 1e30f};
        G(2, SIZES(4, 4), 0, 1, 1);
        tb_node(&b, 2, 1, &v0, 1, &v1, 1, &t0, 3, ia, 2, fa);
        CHECK_ST(parse(&b, 4, &g), VSK_OK);
        CHECK(g.nodes[0].n_iattr == 3 && g.nodes[0].iattr[0] == -1 &&
              g.nodes[0].iattr[1] == INT32_MIN && g.nodes[0].iattr[2] == 7);
        CHECK(g.nodes[0].n_fattr == 2 && g.nodes[0].fattr[0] == -0.25f &&
              g.nodes[0].fattr[1] == 1e30f);
        CHECK(((uintptr_t)g.nodes[0].iattr % 4) == 0 &&
              ((uintptr_t)g.nodes[0].fattr % 4) == 0);
        vsk_graph_free(&g);
    }
    /* limits: 4096 values OK, 4097 TOO_LARGE; 64 args OK, 65 TOO_LARGE */
    {
        uint32_t k, ids[65];
        for (k = 0; k < 65; k++)
            ids[k] = 0;
        b.n = 0;
        tb_u32(&b, 4096);
        for (k = 0; k < 4096; k++)
            tb_u32(&b, 4);
        tb_u32(&b, 0);
        tb_u32(&b, 1);
        tb_u32(&b, 1);
        tb_node(&b, 2, 1, &v0, 1, &v1, 64, ids, 0, NULL, 0, NULL);
        CHECK_ST(parse(&b, 4, &g), VSK_OK);
        CHECK(g.parameter_count == 1);
        vsk_graph_free(&g);
        b.n = 0;
        tb_u32(&b, 4097);
        CHECK_ST(parse(&b, 4, &g), VSK_ERR_TOO_LARGE);
        G(2, SIZES(4, 4), 0, 1, 1);
        tb_node(&b, 2, 1, &v0, 1, &v1, 65, ids, 0, NULL, 0, NULL);
        CHECK_ST(parse(&b, 4, &g), VSK_ERR_TOO_LARGE);
    }
#undef G
#undef SIZES
    tb_free(&b);
}

int main(void)
{
    make_tensors();
    test_plan_and_run();
    test_rules();
    if (tb_failures) {
        fprintf(stderr, "test_graph_core: %d check(s) failed\n", tb_failures);
        return 1;
    }
    printf("test_graph_core: all checks passed\n");
    return 0;
}
