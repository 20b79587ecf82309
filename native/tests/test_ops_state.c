/* test_ops_state.c — every op, driven directly through vsk_op_lookup:
 * validate accepts the node, run writes only its output value and stays
 * inside its state_bytes (guard bytes around both), reset returns the op to
 * a state that reproduces the same outputs bit for bit, and outputs stay
 * finite. The op sources are compiled in (their symbols are hidden in the
 * library). Numerical agreement with the reference is
 * tests/test_ops_conformance.py. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/fft.c"
#include "../src/kernels.c"
#include "../src/kernels_avx2.c"
#include "../src/kernels_neon.c"
#include "../src/kernels_ref.c"
#include "../src/kernels_sse2.c"
#include "../src/ops.c"
#include "../src/ops_nn.c"
#include "../src/ops_signal.c"
#include "../src/yin_fft.c"

#include "check.h"

static uint32_t rng = 777u;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)(rng >> 8) / 8388608.0f - 1.0f;
}

#define GUARD 128
#define MAXV 8
enum { STEPS = 300 };

typedef struct tcase {
    const char *name;
    uint32_t op, hop;
    uint32_t n_in;
    uint32_t in_size[4];
    uint32_t out_size;
    uint32_t n_const;
    uint32_t cdims[4][4];   /* ndim in cdims[i][3] */
    uint32_t n_iattr, n_fattr;
    int32_t iattr[4];
    float fattr[8];
    float in_scale[4];      /* input amplitude per input (0 = 1) */
} tcase;

static const tcase CASES[] = {
    {"frame", VSK_OP_FRAME, 64, 1, {64}, 200, 0, {{0}}, 1, 0, {200}, {0}, {0}},
    {"stft", VSK_OP_STFT_MAG, 64, 1, {200}, 129, 1, {{200, 0, 0, 1}}, 1, 0, {256}, {0}, {0}},
    {"linear", VSK_OP_LINEAR, 64, 1, {37}, 13, 2, {{13, 37, 0, 2}, {13, 0, 0, 1}}, 0, 0, {0}, {0}, {0}},
    {"linear_nobias", VSK_OP_LINEAR, 64, 1, {5}, 3, 1, {{3, 5, 0, 2}}, 0, 0, {0}, {0}, {0}},
    {"act_exp_sigmoid", VSK_OP_ACT, 64, 1, {21}, 21, 0, {{0}}, 1, 0, {5}, {0}, {30}},
    {"act_exp", VSK_OP_ACT, 64, 1, {21}, 21, 0, {{0}}, 1, 0, {6}, {0}, {30}},
    {"act_tanh", VSK_OP_ACT, 64, 1, {21}, 21, 0, {{0}}, 1, 0, {2}, {0}, {5}},
    {"act_softplus", VSK_OP_ACT, 64, 1, {9}, 9, 0, {{0}}, 1, 0, {4}, {0}, {40}},
    {"log", VSK_OP_LOG, 64, 1, {9}, 9, 0, {{0}}, 0, 1, {0}, {1e-4f}, {0}},
    {"conv", VSK_OP_CONV1D, 64, 1, {7}, 5, 2, {{5, 7, 3, 3}, {5, 0, 0, 1}}, 1, 0, {3}, {0}, {0}},
    {"conv_k1", VSK_OP_CONV1D, 64, 1, {7}, 5, 2, {{5, 7, 1, 3}, {5, 0, 0, 1}}, 1, 0, {1}, {0}, {0}},
    {"gru", VSK_OP_GRU, 64, 1, {11}, 6, 4, {{18, 11, 0, 2}, {18, 6, 0, 2}, {18, 0, 0, 1}, {18, 0, 0, 1}}, 0, 0, {0}, {0}, {0}},
    {"concat", VSK_OP_CONCAT, 64, 3, {3, 1, 5}, 9, 0, {{0}}, 0, 0, {0}, {0}, {0}},
    {"slice", VSK_OP_SLICE, 64, 1, {10}, 4, 0, {{0}}, 2, 0, {6, 4}, {0}, {0}},
    {"add", VSK_OP_ADD, 64, 2, {6, 6}, 6, 0, {{0}}, 0, 0, {0}, {0}, {0}},
    {"mul", VSK_OP_MUL, 64, 2, {6, 6}, 6, 0, {{0}}, 0, 0, {0}, {0}, {0}},
    {"affine", VSK_OP_AFFINE, 64, 1, {6}, 6, 2, {{6, 0, 0, 1}, {6, 0, 0, 1}}, 0, 0, {0}, {0}, {0}},
    {"yin", VSK_OP_PITCH_YIN, 64, 1, {640}, 2, 0, {{0}}, 0, 4, {0}, {16000, 60, 800, 0.15f}, {0}},
    /* a 512-sample frame that does not slide: the FFT path (yin_use_fft) */
    {"yin_fft", VSK_OP_PITCH_YIN, 64, 1, {512}, 2, 0, {{0}}, 0, 4, {0}, {16000, 60, 600, 0.15f}, {0}},
    {"yin_hop_gt_W", VSK_OP_PITCH_YIN, 256, 1, {300}, 2, 0, {{0}}, 0, 4, {0}, {16000, 60, 800, 0.15f}, {0}},
    {"pitch_map", VSK_OP_PITCH_MAP, 64, 1, {2}, 1, 0, {{0}}, 0, 7, {0}, {5.3f, 0.2f, 5.0f, 0.25f, 10, 50, 0.5f}, {400}},
    {"running_mean", VSK_OP_RUNNING_MEAN, 64, 2, {13, 1}, 13, 1, {{13, 0, 0, 1}}, 0, 3, {0}, {20, 50, 0.1f}, {0}},
    {"argmin", VSK_OP_ARGMIN, 64, 1, {17}, 1, 0, {{0}}, 0, 0, {0}, {0}, {0}},
    {"argmin_g1", VSK_OP_ARGMIN, 64, 1, {1}, 1, 0, {{0}}, 0, 0, {0}, {0}, {0}},
    {"warp", VSK_OP_WARP, 64, 2, {32, 1}, 32, 1, {{32, 0, 0, 1}}, 0, 0, {0}, {0}, {0, 0.5f}},
    {"warp_c2_huge_s", VSK_OP_WARP, 64, 2, {2, 1}, 2, 1, {{2, 0, 0, 1}}, 0, 0, {0}, {0}, {0, 1000}},
    {"nearest", VSK_OP_NEAREST, 64, 1, {9}, 5, 3, {{301, 9, 0, 2}, {301, 0, 0, 1}, {301, 5, 0, 2}}, 1, 0, {4}, {0}, {0}},
    {"nearest_k1_n1", VSK_OP_NEAREST, 64, 1, {3}, 2, 3, {{1, 3, 0, 2}, {1, 0, 0, 1}, {1, 2, 0, 2}}, 1, 0, {1}, {0}, {0}},
    {"harmonic", VSK_OP_HARMONIC, 64, 2, {1, 33}, 64, 0, {{0}}, 2, 1, {64, 120}, {16000}, {600, 1}},
    {"harmonic_odd", VSK_OP_HARMONIC, 37, 2, {1, 2}, 37, 0, {{0}}, 2, 1, {37, 5}, {8000}, {900, 1}},
    {"noise", VSK_OP_NOISE, 64, 1, {17}, 64, 0, {{0}}, 2, 0, {64, -5}, {0}, {0}},
    {"noise_hop1", VSK_OP_NOISE, 1, 1, {2}, 1, 0, {{0}}, 2, 0, {1, 3}, {0}, {0}},
};

static void *alloc64(size_t n) { return aligned_alloc(64, (n + 63) / 64 * 64); }

static void run_case(const tcase *c)
{
    /* values: inputs 0..n_in-1, output n_in */
    uint32_t vcount = c->n_in + 1, vsize[MAXV];
    uint32_t in_ids[4], out_id = c->n_in;
    for (uint32_t i = 0; i < c->n_in; ++i) { vsize[i] = c->in_size[i]; in_ids[i] = i; }
    vsize[out_id] = c->out_size;
    float *vals[MAXV];
    for (uint32_t i = 0; i < vcount; ++i) {
        vals[i] = alloc64(vsize[i] * sizeof(float) + GUARD);
        memset(vals[i], 0xA5, vsize[i] * sizeof(float) + GUARD);
    }
    vsk_tensor tens[4];
    memset(tens, 0, sizeof tens);   /* dtype f32, no int8 data, no row spans */
    float *tdata[4] = {0};
    vsk_node n;
    memset(&n, 0, sizeof n);
    for (uint32_t k = 0; k < c->n_const; ++k) {
        vsk_tensor *t = &tens[k];
        t->ndim = c->cdims[k][3];
        t->count = 1;
        for (uint32_t d = 0; d < 4; ++d) {
            t->dims[d] = d < t->ndim ? c->cdims[k][d] : 1;
            t->count *= t->dims[d];
        }
        tdata[k] = alloc64(t->count * sizeof(float));
        for (uint64_t i = 0; i < t->count; ++i) tdata[k][i] = 0.5f * frand();
        if (c->op == VSK_OP_WARP)   /* positions: strictly increasing, from 0 */
            for (uint64_t i = 0; i < t->count; ++i) tdata[k][i] = 40.f * (float)(i * i + i);
        t->data = tdata[k];
        n.const_[k] = t;
    }
    n.op = c->op;
    n.n_in = c->n_in; n.n_out = 1; n.n_const = c->n_const;
    n.n_iattr = c->n_iattr; n.n_fattr = c->n_fattr;
    n.in = in_ids; n.out = &out_id;
    n.iattr = c->iattr; n.fattr = c->fattr;
    n.hop = c->hop;
    n.value_size = vsize;
    const vsk_op_def *op = vsk_op_lookup(c->op);
    CHECK(op != NULL, "%s: no op", c->name);
    if (!op) return;
    vsk_status st = op->validate(&n, vsize, vcount);
    CHECK(st == VSK_OK, "%s: validate %d", c->name, st);
    if (st != VSK_OK) return;
    size_t sb = op->state_bytes(&n, vsize);
    CHECK(sb % 64 == 0, "%s: state_bytes %zu not a multiple of 64", c->name, sb);
    n.state_bytes = sb;
    unsigned char *state = alloc64(sb + GUARD);
    memset(state, 0xA5, sb + GUARD);
    float *inputs = malloc(sizeof(float) * STEPS * 1024), *outs[2];
    for (int p = 0; p < 2; ++p) outs[p] = malloc(sizeof(float) * STEPS * c->out_size);
    for (size_t i = 0; i < (size_t)STEPS * 1024; ++i) inputs[i] = frand();
    for (int pass = 0; pass < 2; ++pass) {
        op->reset(&n, state, vsk_isa_detect());
        for (int s = 0; s < STEPS; ++s) {
            const float *src = inputs + (size_t)s * 1024;
            size_t o = 0;
            for (uint32_t i = 0; i < c->n_in; ++i) {
                float sc = c->in_scale[i] != 0.f ? c->in_scale[i] : 1.f;
                for (uint32_t j = 0; j < vsize[i]; ++j) {
                    float v = src[(o + j) % 1024];
                    /* pitch-like inputs: positive; YIN gets a periodic frame */
                    if (c->op == VSK_OP_PITCH_YIN) v = sinf(0.05f * (float)(j + (size_t)s * c->hop)) + 0.1f * v;
                    if ((c->op == VSK_OP_PITCH_MAP || c->op == VSK_OP_HARMONIC) && i == 0)
                        v = fabsf(v) * (s % 7 == 3 ? 0.f : 1.f);
                    if (c->op == VSK_OP_PITCH_MAP && j == 1) v = fabsf(src[j]);
                    if ((c->op == VSK_OP_HARMONIC && i == 1) || c->op == VSK_OP_NOISE) v = fabsf(v);
                    vals[i][j] = v * sc;
                }
                o += vsize[i];
            }
            op->run(&n, vals, state);
            memcpy(outs[pass] + (size_t)s * c->out_size, vals[out_id], c->out_size * sizeof(float));
        }
    }
    int finite = 1;
    for (size_t i = 0; i < (size_t)STEPS * c->out_size; ++i) finite &= isfinite(outs[0][i]) != 0;
    CHECK(finite, "%s: non-finite output", c->name);
    CHECK(memcmp(outs[0], outs[1], sizeof(float) * STEPS * c->out_size) == 0,
          "%s: output after reset differs", c->name);
    for (size_t i = 0; i < GUARD; ++i) {
        CHECK(state[sb + i] == 0xA5, "%s: state guard byte %zu overwritten", c->name, i);
        if (state[sb + i] != 0xA5) break;
    }
    for (uint32_t v = 0; v < vcount; ++v) {
        const unsigned char *g = (const unsigned char *)(vals[v] + vsize[v]);
        for (size_t i = 0; i < GUARD; ++i)
            if (g[i] != 0xA5) { CHECK(0, "%s: value %u guard overwritten", c->name, v); break; }
    }
    /* inputs unchanged by run (except FRAME-like copies) */
    free(inputs); free(outs[0]); free(outs[1]); free(state);
    for (uint32_t i = 0; i < vcount; ++i) free(vals[i]);
    for (uint32_t k = 0; k < c->n_const; ++k) free(tdata[k]);
}

/* PITCH_YIN's two ways to d(τ) give the same output: the same node
 * (16 kHz, 512-sample frame, 60..600 Hz, the student family's tracker) run
 * with in_slides = 1 takes the direct path (block sums from exact
 * differences) and with in_slides = 0 the FFT path; fed the same sliding
 * frames of a gliding voiced tone with noise and pauses, f0 and voicing
 * agree within 1e-6 relative (in practice bit for bit in float32). */
static void test_yin_paths(void)
{
    enum { N = 512, HOP = 64, NSTEPS = 400 };
    const float fa[4] = {16000.f, 60.f, 600.f, 0.15f};
    uint32_t vsize[2] = {N, 2}, in_id = 0, out_id = 1;
    vsk_node nd[2];
    unsigned char *st[2];
    float *y[2], *fr = alloc64(N * sizeof(float));
    const vsk_op_def *op = vsk_op_lookup(VSK_OP_PITCH_YIN);
    for (int p = 0; p < 2; ++p) {
        memset(&nd[p], 0, sizeof nd[p]);
        nd[p].op = VSK_OP_PITCH_YIN;
        nd[p].n_in = nd[p].n_out = 1;
        nd[p].n_fattr = 4;
        nd[p].in = &in_id; nd[p].out = &out_id;
        nd[p].fattr = fa;
        nd[p].hop = HOP;
        nd[p].value_size = vsize;
        nd[p].in_slides = p == 0;
        CHECK(op->validate(&nd[p], vsize, 2) == VSK_OK, "yin paths: validate");
        st[p] = alloc64(op->state_bytes(&nd[p], vsize));
        op->reset(&nd[p], st[p], vsk_isa_detect());
        y[p] = alloc64(64);
    }
    CHECK(!yin_plan(&nd[0], N).use_fft && yin_plan(&nd[1], N).use_fft,
          "yin paths: direct when sliding, FFT otherwise (got %d, %d)",
          yin_plan(&nd[0], N).use_fft, yin_plan(&nd[1], N).use_fft);
    double ph = 0.0, worst_f = 0.0, worst_v = 0.0;
    int same = 0, voiced = 0;
    memset(fr, 0, N * sizeof(float));
    for (int s = 0; s < NSTEPS; ++s) {
        memmove(fr, fr + HOP, (N - HOP) * sizeof(float));
        for (int j = 0; j < HOP; ++j) {
            const double t = (double)(s * HOP + j) / 16000.0;
            ph += 6.283185307179586 * (110.0 + 60.0 * t) / 16000.0;
            const int pause = (s / 50) % 3 == 2;
            fr[N - HOP + j] = pause ? 0.001f * frand()
                                    : (float)(0.5 * sin(ph) + 0.2 * sin(2 * ph + 0.3) +
                                              0.1 * sin(3 * ph)) + 0.01f * frand();
        }
        float *vals[2][2] = {{fr, y[0]}, {fr, y[1]}};
        for (int p = 0; p < 2; ++p) op->run(&nd[p], vals[p], st[p]);
        const double df = fabs((double)y[0][0] - y[1][0]) / (fabs((double)y[0][0]) + 1e-30);
        const double dv = fabs((double)y[0][1] - y[1][1]);
        if (df > worst_f) worst_f = df;
        if (dv > worst_v) worst_v = dv;
        same += y[0][0] == y[1][0] && y[0][1] == y[1][1];
        voiced += y[0][1] > 0.85f;
    }
    CHECK(worst_f <= 1e-6 && worst_v <= 1e-6, "yin paths: f0 rel %.3g, voicing %.3g", worst_f,
          worst_v);
    CHECK(voiced > NSTEPS / 3 && voiced < NSTEPS, "yin paths: %d of %d steps voiced", voiced,
          NSTEPS);
    printf("yin paths: direct vs FFT over %d steps (%d voiced): %d identical, worst f0 rel %.3g, "
           "voicing %.3g\n", NSTEPS, voiced, same, worst_f, worst_v);
    for (int p = 0; p < 2; ++p) { free(st[p]); free(y[p]); }
    free(fr);
}

/* LINEAR's sparse path (ops_nn.c; its row spans planned as the bundle
 * loader plans them, vsk_tensor_plan_spans): banded float weights (a mel
 * filterbank's shape, one all-zero row) take it, dense ones do not; both
 * match W·x in double within rounding, the sparse cost counts only the
 * spans, and a NaN in a column no row reads stays out of the output. */
static void test_linear_sparse_path(void)
{
    enum { O = 40, I = 129 };
    static float w[2][O * I], x[I], y[O], bias[O];
    static unsigned char state[2][4096];
    static uint32_t spans[2 * O];
    for (int k = 0; k < 2; ++k)
        for (uint32_t r = 0; r < O; ++r)
            for (uint32_t c = 0; c < I; ++c) {
                const int in_band = c >= 3 * r && c < 3 * r + 8 && r != 17;
                w[k][r * I + c] = k == 1 || in_band ? 0.5f * frand() : 0.0f;
            }
    for (uint32_t c = 0; c < I; ++c) x[c] = frand();
    for (uint32_t r = 0; r < O; ++r) bias[r] = frand();
    uint32_t vsize[2] = {I, O}, in_id = 0, out_id = 1;
    for (int k = 0; k < 2; ++k) {
        vsk_tensor W = {2, {O, I, 1, 1}, (uint64_t)O * I, w[k], VSK_DTYPE_F32, NULL, NULL, NULL, 0};
        vsk_tensor B = {1, {O, 1, 1, 1}, O, bias, VSK_DTYPE_F32, NULL, NULL, NULL, 0};
        vsk_tensor_plan_spans(&W, spans);
        vsk_node n;
        memset(&n, 0, sizeof n);
        n.op = VSK_OP_LINEAR; n.n_in = 1; n.n_out = 1; n.n_const = 2;
        n.in = &in_id; n.out = &out_id; n.const_[0] = &W; n.const_[1] = &B; n.hop = 64;
        n.value_size = vsize;
        const vsk_op_def *op = vsk_op_lookup(VSK_OP_LINEAR);
        CHECK(op->validate(&n, vsize, 2) == VSK_OK, "linear %d: validate", k);
        CHECK(op->state_bytes(&n, vsize) <= sizeof state[k], "linear %d: state", k);
        op->reset(&n, state[k], vsk_isa_detect());
        CHECK((W.row_span != NULL) == (k == 0), "linear %s: sparse path %s", k ? "dense" : "banded",
              W.row_span ? "taken" : "not taken");
        const uint64_t cost = op->cost(&n, vsize);
        CHECK(k == 1 ? cost >= (uint64_t)O * I : cost < (uint64_t)O * I / 4,
              "linear %d: cost %llu", k, (unsigned long long)cost);
        float *vals[2] = {x, y};
        op->run(&n, vals, state[k]);
        for (uint32_t r = 0; r < O; ++r) {
            double s = bias[r], mag = fabs(bias[r]);
            for (uint32_t c = 0; c < I; ++c) {
                s += (double)w[k][r * I + c] * x[c];
                mag += fabs((double)w[k][r * I + c] * x[c]);
            }
            CHECK(fabs(y[r] - s) <= 1e-6 * mag + 1e-7, "linear %d row %u: %g vs %g", k, r, y[r], s);
        }
        if (k == 0) {  /* column 128 is outside every band (the last row ends at 125) */
            x[128] = NAN;
            op->run(&n, vals, state[k]);
            int finite = 1;
            for (uint32_t r = 0; r < O; ++r) finite &= isfinite(y[r]) != 0;
            CHECK(finite, "banded linear: a NaN in an unread column reached the output");
            x[128] = 0.25f;
        }
    }
}

/* NEAREST against a brute-force double reference: the k nearest rows by
 * squared distance (lower row first among ties; a NaN query or key row ranks
 * last), their values averaged; zero key rows give exact ties. */
static void test_nearest_picks(void)
{
    enum { N = 203, D = 7, C = 5 };
    static float K[N * D], sq[N], V[N * C], kx_state[64 + N + 64], x[D], y[C];
    for (uint32_t i = 0; i < N; ++i) {
        double s = 0;
        for (uint32_t j = 0; j < D; ++j) {
            K[i * D + j] = (i % 50 == 7) ? 0.0f : frand();   /* rows 7, 57, ... are zero: ties */
            s += (double)K[i * D + j] * K[i * D + j];
        }
        sq[i] = (float)s;
        for (uint32_t c = 0; c < C; ++c) V[i * C + c] = (float)i + 0.01f * (float)c;
    }
    K[11 * D + 3] = NAN;                                       /* row 11 never wins */
    vsk_tensor tk = {2, {N, D, 1, 1}, (uint64_t)N * D, K, VSK_DTYPE_F32, NULL, NULL, NULL, 0};
    vsk_tensor ts = {1, {N, 1, 1, 1}, N, sq, VSK_DTYPE_F32, NULL, NULL, NULL, 0};
    vsk_tensor tv = {2, {N, C, 1, 1}, (uint64_t)N * C, V, VSK_DTYPE_F32, NULL, NULL, NULL, 0};
    uint32_t vsize[2] = {D, C}, in_id = 0, out_id = 1;
    const int32_t ks[3] = {1, 4, 16};
    for (int kk = 0; kk < 3; ++kk) {
        vsk_node n;
        memset(&n, 0, sizeof n);
        n.op = VSK_OP_NEAREST; n.n_in = 1; n.n_out = 1; n.n_const = 3; n.n_iattr = 1;
        n.in = &in_id; n.out = &out_id; n.const_[0] = &tk; n.const_[1] = &ts; n.const_[2] = &tv;
        n.iattr = &ks[kk]; n.hop = 64; n.value_size = vsize;
        const vsk_op_def *op = vsk_op_lookup(VSK_OP_NEAREST);
        CHECK(op->validate(&n, vsize, 2) == VSK_OK, "nearest k=%d: validate", ks[kk]);
        CHECK(op->state_bytes(&n, vsize) <= sizeof kx_state, "nearest: state");
        op->reset(&n, kx_state, vsk_isa_detect());
        float *vals[2] = {x, y};
        for (int trial = 0; trial < 60; ++trial) {
            const int nan_query = trial == 59, near_zero = trial % 10 == 3;
            for (uint32_t j = 0; j < D; ++j) x[j] = near_zero ? 1e-3f * frand() : frand();
            if (nan_query) x[2] = NAN;
            op->run(&n, vals, kx_state);
            /* reference: selection by (distance, row), non-finite last */
            uint32_t pick[16];
            int used[N] = {0};
            for (int32_t j = 0; j < ks[kk]; ++j) {
                int best = -1;
                double bd = 0;
                for (uint32_t i = 0; i < N; ++i) {
                    if (used[i]) continue;
                    double d = 0;
                    for (uint32_t c = 0; c < D; ++c) d += (double)K[i * D + c] * x[c];
                    d = sq[i] - 2.0 * d;
                    if (!isfinite(d)) d = INFINITY;
                    if (best < 0 || d < bd) { best = (int)i; bd = d; }
                }
                used[best] = 1;
                pick[j] = (uint32_t)best;
            }
            for (uint32_t c = 0; c < C; ++c) {
                double want = 0;
                for (int32_t j = 0; j < ks[kk]; ++j) want += V[pick[j] * C + c];
                want /= ks[kk];
                CHECK(fabs(y[c] - want) <= 1e-4, "nearest k=%d trial %d col %u: %g vs %g",
                      ks[kk], trial, c, y[c], want);
            }
            if (nan_query)  /* nothing finite: the first k rows */
                CHECK(fabs(y[0] - (ks[kk] - 1) / 2.0) <= 1e-4, "nearest NaN query: %g", y[0]);
        }
    }
}

int main(void)
{
    size_t n = sizeof CASES / sizeof *CASES;
    for (size_t i = 0; i < n; ++i) run_case(&CASES[i]);
    test_yin_paths();
    test_linear_sparse_path();
    test_nearest_picks();
    CHECK(vsk_op_lookup(0) == NULL && vsk_op_lookup(VSK_OP_COUNT_) == NULL, "unknown ops");
    for (uint32_t o = 1; o < VSK_OP_COUNT_; ++o) CHECK(vsk_op_lookup(o) != NULL, "op %u missing", o);
    printf("test_ops_state: %zu cases, %d failure(s)\n", n, failures);
    return failures ? 1 : 0;
}
