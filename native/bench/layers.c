/* layers.c — the layer race (issue 18 item 7; benchmarks only, not part of
 * the library): one GRU step and one dense layer, batch 1, one thread,
 * voiceskin's own ops against peers loaded from shared objects.
 *
 * Built from the library's sources (benchmarks/bench_layers.py compiles it
 * with the library's flags, so the kernels are the shipped ones, chosen at
 * run time by CPUID), it runs the real GRU and LINEAR ops
 * (vsk_op_def_gru / vsk_op_def_linear: validate, state, reset, run) on a
 * node it builds itself. Each peer is a shared object exporting the C
 * functions of layers_peer.h (native/bench/layers_rtneural.cpp builds one
 * from RTNeural); each is dlopen'ed RTLD_LOCAL, so two builds of one library
 * (portable and -march=native) live side by side in this one process.
 *
 *   layers SIZES ROUNDS [NAME=PEER.so ...]
 *
 * SIZES: comma-separated widths N (GRU: N inputs, N units; dense: N → N).
 * Every contestant gets the same random weights (PyTorch's GRU layout and
 * gate order; peers convert) and the same inputs; before timing, 32 steps
 * from a zero state are compared (max |Δ| printed: the race is only fair if
 * they compute the same layer). Timing: ROUNDS rounds, each running every
 * contestant for a block of steps in turn (the order rotating per round);
 * per-step time = block time / steps, after WARMUP_BLOCKS untimed blocks
 * each. Besides the peers, voiceskin races itself with int8 weights (the
 * per-tier option; docs/bundle-format.md's layout, one scale per row).
 * Prints one JSON object.
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "kernels.h"
#include "layers_peer.h"
#include "ops.h"
#include "ops_impl.h"

#define MAX_PEERS 4
#define CHECK_STEPS 32
#define N_INPUTS 64
#define WARMUP_BLOCKS 20

typedef struct layer_fns {
    void *(*create)(const char *kind, int n, const float *const *w);
    void (*step)(void *h, const float *x, float *y);
    void (*destroy)(void *h);
} layer_fns;

/* ------------------------------------------------- voiceskin, op by op */

typedef struct vsk_layer {
    const vsk_op_def *op;
    vsk_tensor t[4];
    int8_t *q8[2];
    float *q8_scale[2];
    uint32_t in_id, out_id, value_size[2];
    vsk_node node;
    void *state;
    float *values[2];
    uint32_t isa;
} vsk_layer;

static void tensor2(vsk_tensor *t, const float *data, uint32_t d0, uint32_t d1)
{
    memset(t, 0, sizeof *t);
    t->ndim = d1 ? 2 : 1;
    t->dims[0] = d0;
    t->dims[1] = d1 ? d1 : 1;
    t->dims[2] = t->dims[3] = 1;
    t->count = (uint64_t)d0 * (d1 ? d1 : 1);
    t->data = data;
    t->dtype = VSK_DTYPE_F32;
}

/* t becomes W [rows, cols] in int8 (docs/bundle-format.md: one scale per
 * row, max|W_r|/127; blocks of 8 rows x 4 columns, zero-padded) */
static int quantise(vsk_tensor *t, const float *W, uint32_t rows, uint32_t cols, int8_t **q8,
                    float **scale)
{
    const size_t P = (rows + 7u) / 8u, G = (cols + 3u) / 4u;
    *q8 = aligned_alloc(64, vsk_align64(P * G * 32u));
    *scale = aligned_alloc(64, vsk_align64(P * 8u * sizeof(float)));
    if (!*q8 || !*scale) return -1;
    memset(*q8, 0, vsk_align64(P * G * 32u));
    memset(*scale, 0, vsk_align64(P * 8u * sizeof(float)));
    for (uint32_t r = 0; r < rows; ++r) {
        float m = 0.f;
        for (uint32_t c = 0; c < cols; ++c) m = fmaxf(m, fabsf(W[(size_t)r * cols + c]));
        const float s = m > 0.f ? m / 127.f : 0.f;
        (*scale)[r] = s;
        for (uint32_t c = 0; c < cols; ++c) {
            const float q = s > 0.f ? rintf(W[(size_t)r * cols + c] / s) : 0.f;
            (*q8)[32u * ((r / 8u) * G + c / 4u) + 4u * (r % 8u) + c % 4u] = (int8_t)q;
        }
    }
    t->dtype = VSK_DTYPE_I8;
    t->data = NULL;
    t->q8 = *q8;
    t->q8_scale = *scale;
    return 0;
}

/* w: GRU {W_ih [3N,N], W_hh [3N,N], b_ih [3N], b_hh [3N]}; dense {W [N,N], b [N]} */
static void *vsk_create_as(const char *kind, int n, const float *const *w, int int8)
{
    vsk_layer *L = calloc(1, sizeof *L);
    if (!L) return NULL;
    const uint32_t N = (uint32_t)n;
    int gru = strcmp(kind, "gru") == 0;
    L->op = gru ? &vsk_op_def_gru : &vsk_op_def_linear;
    if (gru) {
        tensor2(&L->t[0], w[0], 3 * N, N);
        tensor2(&L->t[1], w[1], 3 * N, N);
        tensor2(&L->t[2], w[2], 3 * N, 0);
        tensor2(&L->t[3], w[3], 3 * N, 0);
    } else {
        tensor2(&L->t[0], w[0], N, N);
        tensor2(&L->t[1], w[1], N, 0);
    }
    for (int i = 0; int8 && i < (gru ? 2 : 1); ++i)
        if (quantise(&L->t[i], w[i], L->t[i].dims[0], N, &L->q8[i], &L->q8_scale[i])) {
            for (int j = 0; j <= i; ++j) {
                free(L->q8[j]);
                free(L->q8_scale[j]);
            }
            free(L);
            return NULL;
        }
    L->in_id = 0;
    L->out_id = 1;
    L->value_size[0] = L->value_size[1] = N;
    vsk_node *nd = &L->node;
    nd->n_in = nd->n_out = 1;
    nd->n_const = gru ? 4 : 2;
    nd->in = &L->in_id;
    nd->out = &L->out_id;
    for (uint32_t i = 0; i < nd->n_const; ++i) nd->const_[i] = &L->t[i];
    nd->value_size = L->value_size;
    if (L->op->validate(nd, L->value_size, 2) != VSK_OK) {
        fprintf(stderr, "layers: voiceskin rejects the %s node\n", kind);
        free(L);
        return NULL;
    }
    size_t bytes = vsk_align64(L->op->state_bytes(nd, L->value_size));
    L->state = aligned_alloc(64, bytes ? bytes : 64);
    L->values[0] = aligned_alloc(64, vsk_align64(N * sizeof(float)));
    L->values[1] = aligned_alloc(64, vsk_align64(N * sizeof(float)));
    L->isa = vsk_isa_detect();
    L->op->reset(nd, L->state, L->isa);
    return L;
}
static void *vsk_create(const char *kind, int n, const float *const *w)
{
    return vsk_create_as(kind, n, w, 0);
}
static void *vsk_create_q8(const char *kind, int n, const float *const *w)
{
    return vsk_create_as(kind, n, w, 1);
}
static void vsk_step(void *h, const float *x, float *y)
{
    vsk_layer *L = h;
    memcpy(L->values[0], x, L->value_size[0] * sizeof(float));
    L->op->run(&L->node, L->values, L->state);
    memcpy(y, L->values[1], L->value_size[1] * sizeof(float));
}
static void vsk_destroy(void *h)
{
    vsk_layer *L = h;
    free(L->state);
    free(L->values[0]);
    free(L->values[1]);
    for (int i = 0; i < 2; ++i) {
        free(L->q8[i]);
        free(L->q8_scale[i]);
    }
    free(L);
}

/* ------------------------------------------------------------- driver */

static uint32_t rng_state = 12345u;
static float frand(float scale)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return scale * ((float)(rng_state >> 8) / 8388608.0f - 1.0f);
}
static double quantile(double *v, size_t n, double q)
{
    for (size_t i = 1; i < n; ++i)   /* insertion sort: n is small */
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; --j) {
            double t = v[j]; v[j] = v[j - 1]; v[j - 1] = t;
        }
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: layers SIZES ROUNDS [NAME=PEER.so ...]\n");
        return 2;
    }
    const int rounds = atoi(argv[2]);
    const char *names[2 + MAX_PEERS] = {"voiceskin", "voiceskin_int8"};
    layer_fns fns[2 + MAX_PEERS] = {{vsk_create, vsk_step, vsk_destroy},
                                    {vsk_create_q8, vsk_step, vsk_destroy}};
    int nc = 2;
    for (int a = 3; a < argc && nc < 2 + MAX_PEERS; ++a) {
        char *eq = strchr(argv[a], '=');
        if (!eq) { fprintf(stderr, "layers: peer %s is not NAME=PATH\n", argv[a]); return 2; }
        *eq = 0;
        void *so = dlopen(eq + 1, RTLD_NOW | RTLD_LOCAL);
        if (!so) { fprintf(stderr, "layers: %s\n", dlerror()); return 1; }
        layer_fns f = {(void *(*)(const char *, int, const float *const *))dlsym(so, "peer_layer_create"),
                       (void (*)(void *, const float *, float *))dlsym(so, "peer_layer_step"),
                       (void (*)(void *))dlsym(so, "peer_layer_destroy")};
        if (!f.create || !f.step || !f.destroy) {
            fprintf(stderr, "layers: %s lacks the peer_layer_* functions\n", eq + 1);
            return 1;
        }
        names[nc] = argv[a];
        fns[nc++] = f;
    }
    printf("{\"isa\": \"%s\", \"rounds\": %d, \"results\": [", vsk_isa_name(vsk_isa_detect()), rounds);
    const char *kinds[2] = {"gru", "dense"};
    int first = 1;
    char *sizes = strdup(argv[1]);
    for (char *tok = strtok(sizes, ","); tok; tok = strtok(NULL, ",")) {
        const int n = atoi(tok);
        for (int k = 0; k < 2; ++k) {
            const int gru = k == 0;
            const size_t rows = gru ? 3 * (size_t)n : (size_t)n;
            const float s = 1.0f / sqrtf((float)n);
            float *w[4];
            const size_t len[4] = {rows * n, gru ? rows * n : rows, rows, rows};
            for (int i = 0; i < (gru ? 4 : 2); ++i) {
                w[i] = malloc(len[i] * sizeof(float));
                for (size_t j = 0; j < len[i]; ++j) w[i][j] = frand(s);
            }
            float *xs = malloc((size_t)N_INPUTS * n * sizeof(float));
            for (size_t j = 0; j < (size_t)N_INPUTS * n; ++j) xs[j] = frand(1.0f);
            float *y = malloc((size_t)n * sizeof(float)), *y0 = malloc((size_t)n * CHECK_STEPS * sizeof(float));
            void *h[2 + MAX_PEERS];
            double diff[2 + MAX_PEERS] = {0};
            for (int c = 0; c < nc; ++c) {
                h[c] = fns[c].create(kinds[k], n, (const float *const *)w);
                if (!h[c]) { fprintf(stderr, "layers: %s cannot make %s %d\n", names[c], kinds[k], n); return 1; }
                for (int t = 0; t < CHECK_STEPS; ++t) {
                    fns[c].step(h[c], xs + (size_t)(t % N_INPUTS) * n, y);
                    for (int i = 0; i < n; ++i) {
                        if (c == 0) y0[(size_t)t * n + i] = y[i];
                        else diff[c] = fmax(diff[c], fabs((double)y[i] - y0[(size_t)t * n + i]));
                    }
                }
            }
            /* steps per block: about 40k multiply-adds' worth, at least 8 */
            const int block = (int)fmax(8.0, 40000.0 / (double)(rows * n * (gru ? 2 : 1)));
            double *t_us[2 + MAX_PEERS];
            for (int c = 0; c < nc; ++c) t_us[c] = malloc((size_t)rounds * sizeof(double));
            int xi = 0;
            for (int r = 0; r < WARMUP_BLOCKS; ++r)   /* caches, branch predictors, clocks */
                for (int c = 0; c < nc; ++c)
                    for (int b = 0; b < block; ++b) fns[c].step(h[c], xs + (size_t)(b % N_INPUTS) * n, y);
            for (int r = 0; r < rounds; ++r)
                for (int j = 0; j < nc; ++j) {
                    const int c = (r + j) % nc;
                    uint64_t t0 = bench_now_ns();
                    for (int b = 0; b < block; ++b)
                        fns[c].step(h[c], xs + (size_t)((xi + b) % N_INPUTS) * n, y);
                    t_us[c][r] = (double)(bench_now_ns() - t0) / 1000.0 / block;
                    xi = (xi + block) % N_INPUTS;
                }
            for (int c = 0; c < nc; ++c) {
                double med = quantile(t_us[c], (size_t)rounds, 0.5), p99 = quantile(t_us[c], (size_t)rounds, 0.99);
                printf("%s{\"layer\": \"%s\", \"n\": %d, \"who\": \"%s\", \"median_us\": %.4f, "
                       "\"p99_us\": %.4f, \"steps_per_block\": %d, \"max_abs_diff\": %.3g}",
                       first ? "" : ", ", kinds[k], n, names[c], med, p99, block, diff[c]);
                first = 0;
                fns[c].destroy(h[c]);
                free(t_us[c]);
            }
            for (int i = 0; i < (gru ? 4 : 2); ++i) free(w[i]);
            free(xs); free(y); free(y0);
        }
    }
    printf("]}\n");
    free(sizes);
    return 0;
}
