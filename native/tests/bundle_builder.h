/* bundle_builder.h — a tiny writer of valid v1 .vskin bundles for the C tests
 * (docs/bundle-format.md). Header-only; test code, so it mallocs freely.
 *
 *   bb_builder b;
 *   bb_init(&b, "test.voice", "Test", "1.0.0");
 *   uint32_t w = bb_tensor2(&b, O, I, data);          // W[O,I]
 *   bb_tier(&b, "low", 16000, 64, 64);               // starts a graph
 *   uint32_t x = bb_value(&b, 64), y = bb_value(&b, 64);
 *   bb_io(&b, x, y);
 *   bb_node(&b, op, ins, n_in, outs, n_out, consts, n_const, iattr, n_iattr,
 *           fattr, n_fattr);
 *   ... more bb_tier ...
 *   size_t size; uint8_t *bytes = bb_finish(&b, &size);   // free() it
 */
#ifndef VSK_TESTS_BUNDLE_BUILDER_H
#define VSK_TESTS_BUNDLE_BUILDER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BB_MAX_TIERS 16
#define BB_MAX_TENSORS 256

typedef struct bb_buf {
    uint8_t *p;
    size_t n, cap;
} bb_buf;

static void bb_put(bb_buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap *= 2;
        b->p = (uint8_t *)realloc(b->p, cap);
        b->cap = cap;
    }
    if (d)
        memcpy(b->p + b->n, d, n);
    else
        memset(b->p + b->n, 0, n);
    b->n += n;
}
static void bb_u32(bb_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};
    bb_put(b, x, 4);
}
static void bb_u64(bb_buf *b, uint64_t v)
{
    bb_u32(b, (uint32_t)v);
    bb_u32(b, (uint32_t)(v >> 32));
}
static void bb_f32(bb_buf *b, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    bb_u32(b, v);
}
static void bb_str(bb_buf *b, const char *s)
{
    bb_u32(b, (uint32_t)strlen(s));
    bb_put(b, s, strlen(s));
}
static void bb_set_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static void bb_set_u64(uint8_t *p, uint64_t v)
{
    bb_set_u32(p, (uint32_t)v);
    bb_set_u32(p + 4, (uint32_t)(v >> 32));
}

typedef struct bb_tensor {
    uint32_t ndim, dims[4];
    float *data;
    uint64_t count;
} bb_tensor;

typedef struct bb_tier_def {
    char name[40];
    uint32_t rate, hop, latency;
    uint32_t value_count;
    uint32_t value_size[4096];
    uint32_t in_value, out_value;
    uint32_t node_count;
    bb_buf nodes;
} bb_tier_def;

typedef struct bb_builder {
    char voice_id[80], display[140], version[40];
    uint32_t tier_count, tensor_count;
    bb_tier_def *tiers[BB_MAX_TIERS];
    bb_tensor tensors[BB_MAX_TENSORS];
} bb_builder;

static void bb_init(bb_builder *b, const char *id, const char *name,
                    const char *version)
{
    memset(b, 0, sizeof *b);
    strncpy(b->voice_id, id, sizeof b->voice_id - 1);
    strncpy(b->display, name, sizeof b->display - 1);
    strncpy(b->version, version, sizeof b->version - 1);
}

/* Adds a tensor (copied). dims: ndim entries. Returns its id. */
static uint32_t bb_tensor_n(bb_builder *b, uint32_t ndim, const uint32_t *dims,
                            const float *data)
{
    bb_tensor *t = &b->tensors[b->tensor_count];
    t->ndim = ndim;
    t->count = 1;
    for (uint32_t k = 0; k < 4; k++) {
        t->dims[k] = k < ndim ? dims[k] : 1;
        t->count *= t->dims[k];
    }
    t->data = (float *)malloc(t->count * sizeof(float));
    memcpy(t->data, data, t->count * sizeof(float));
    return b->tensor_count++;
}
static uint32_t bb_tensor1(bb_builder *b, uint32_t n, const float *data)
{
    return bb_tensor_n(b, 1, &n, data);
}
static uint32_t bb_tensor2(bb_builder *b, uint32_t o, uint32_t i,
                           const float *data)
{
    uint32_t d[2] = {o, i};
    return bb_tensor_n(b, 2, d, data);
}

/* Starts a new tier (and its graph). */
static void bb_tier(bb_builder *b, const char *name, uint32_t rate,
                    uint32_t hop, uint32_t latency)
{
    bb_tier_def *t = (bb_tier_def *)calloc(1, sizeof *t);
    strncpy(t->name, name, sizeof t->name - 1);
    t->rate = rate;
    t->hop = hop;
    t->latency = latency;
    b->tiers[b->tier_count++] = t;
}
static bb_tier_def *bb_cur(bb_builder *b)
{
    return b->tiers[b->tier_count - 1];
}
static uint32_t bb_value(bb_builder *b, uint32_t size)
{
    bb_tier_def *t = bb_cur(b);
    t->value_size[t->value_count] = size;
    return t->value_count++;
}
static void bb_io(bb_builder *b, uint32_t in, uint32_t out)
{
    bb_cur(b)->in_value = in;
    bb_cur(b)->out_value = out;
}
static void bb_node(bb_builder *b, uint32_t op, const uint32_t *in,
                    uint32_t n_in, const uint32_t *out, uint32_t n_out,
                    const uint32_t *cst, uint32_t n_const, const int32_t *ia,
                    uint32_t n_ia, const float *fa, uint32_t n_fa)
{
    bb_buf *g = &bb_cur(b)->nodes;
    bb_u32(g, op);
    bb_u32(g, n_in);
    for (uint32_t i = 0; i < n_in; i++) bb_u32(g, in[i]);
    bb_u32(g, n_out);
    for (uint32_t i = 0; i < n_out; i++) bb_u32(g, out[i]);
    bb_u32(g, n_const);
    for (uint32_t i = 0; i < n_const; i++) bb_u32(g, cst[i]);
    bb_u32(g, n_ia);
    for (uint32_t i = 0; i < n_ia; i++) bb_u32(g, (uint32_t)ia[i]);
    bb_u32(g, n_fa);
    for (uint32_t i = 0; i < n_fa; i++) bb_f32(g, fa[i]);
    bb_cur(b)->node_count++;
}

/* Convenience graphs ------------------------------------------------------ */

/* y = FRAME(win) of the hop input; if win == hop this is the identity. */
static uint32_t bb_frame(bb_builder *b, uint32_t x, uint32_t win)
{
    uint32_t y = bb_value(b, win);
    int32_t w = (int32_t)win;
    bb_node(b, 1 /* FRAME */, &x, 1, &y, 1, NULL, 0, &w, 1, NULL, 0);
    return y;
}
/* y = W x (+ bias) with W given [o x i] row-major. */
static uint32_t bb_linear(bb_builder *b, uint32_t x, uint32_t i, uint32_t o,
                          const float *w, const float *bias)
{
    uint32_t y = bb_value(b, o);
    uint32_t c[2];
    c[0] = bb_tensor2(b, o, i, w);
    uint32_t nc = 1;
    if (bias) {
        c[1] = bb_tensor1(b, o, bias);
        nc = 2;
    }
    bb_node(b, 3 /* LINEAR */, &x, 1, &y, 1, c, nc, NULL, 0, NULL, 0);
    return y;
}

/* An identity tier: FRAME(win = hop), output = input (zero lookahead). */
static void bb_identity_tier(bb_builder *b, const char *name, uint32_t rate,
                             uint32_t hop)
{
    bb_tier(b, name, rate, hop, hop);
    uint32_t x = bb_value(b, hop);
    uint32_t y = bb_frame(b, x, hop);
    bb_io(b, x, y);
}

/* A tier whose output is gain * (the newest hop samples of a FRAME(win)):
 * zero lookahead, warm-up `win`. Uses FRAME + LINEAR. */
static void bb_gain_tier(bb_builder *b, const char *name, uint32_t rate,
                         uint32_t hop, uint32_t win, float gain)
{
    bb_tier(b, name, rate, hop, hop);
    uint32_t x = bb_value(b, hop);
    uint32_t f = bb_frame(b, x, win);
    float *w = (float *)calloc((size_t)hop * win, sizeof(float));
    for (uint32_t r = 0; r < hop; r++)
        w[(size_t)r * win + (win - hop) + r] = gain;
    uint32_t y = bb_linear(b, f, win, hop, w, NULL);
    free(w);
    bb_io(b, x, y);
}

/* A tier with `delay` samples of model lookahead: it outputs gain * the
 * input delayed by `delay` model samples and declares latency_samples =
 * hop + delay, so the voice must count the delay in its latency. */
static void bb_delay_tier(bb_builder *b, const char *name, uint32_t rate,
                          uint32_t hop, uint32_t delay, float gain)
{
    const uint32_t win = hop + delay;
    bb_tier(b, name, rate, hop, hop + delay);
    uint32_t x = bb_value(b, hop);
    uint32_t f = bb_frame(b, x, win);
    float *w = (float *)calloc((size_t)hop * win, sizeof(float));
    for (uint32_t r = 0; r < hop; r++)
        w[(size_t)r * win + r] = gain; /* frame[r] = x[t - delay] */
    uint32_t y = bb_linear(b, f, win, hop, w, NULL);
    free(w);
    bb_io(b, x, y);
}

/* A tier of the neural ops (LINEAR, ACT, GRU, ADD) with random weights
 * (rand()-seeded by the caller): y = x + LINEAR(GRU(tanh(LINEAR(FRAME(x)))))
 * with FRAME(win), hidden sizes h1 and hg; zero lookahead. */
static float bb_rand_weight(float scale)
{
    return ((float)rand() / (float)RAND_MAX - 0.5f) * scale;
}
static float *bb_rand_weights(size_t n, float scale)
{
    float *w = (float *)malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        w[i] = bb_rand_weight(scale);
    return w;
}
static void bb_nn_tier(bb_builder *b, const char *name, uint32_t rate,
                       uint32_t hop, uint32_t win, uint32_t h1, uint32_t hg)
{
    bb_tier(b, name, rate, hop, hop);
    uint32_t x = bb_value(b, hop);
    uint32_t f = bb_frame(b, x, win);
    float *w1 = bb_rand_weights((size_t)h1 * win, 0.1f);
    float *b1 = bb_rand_weights(h1, 0.1f);
    uint32_t l1 = bb_linear(b, f, win, h1, w1, b1);
    uint32_t a1 = bb_value(b, h1);
    int32_t kind = 2; /* tanh */
    bb_node(b, 4 /* ACT */, &l1, 1, &a1, 1, NULL, 0, &kind, 1, NULL, 0);
    float *wih = bb_rand_weights((size_t)3 * hg * h1, 0.3f);
    float *whh = bb_rand_weights((size_t)3 * hg * hg, 0.3f);
    float *bias = (float *)malloc(sizeof(float) * 3 * hg);
    for (uint32_t i = 0; i < 3 * hg; i++)
        bias[i] = 0.01f;
    uint32_t c[4] = {bb_tensor2(b, 3 * hg, h1, wih), bb_tensor2(b, 3 * hg, hg, whh),
                     bb_tensor1(b, 3 * hg, bias), bb_tensor1(b, 3 * hg, bias)};
    uint32_t g = bb_value(b, hg);
    bb_node(b, 7 /* GRU */, &a1, 1, &g, 1, c, 4, NULL, 0, NULL, 0);
    float *w2 = bb_rand_weights((size_t)hop * hg, 0.05f);
    uint32_t l2 = bb_linear(b, g, hg, hop, w2, NULL);
    uint32_t y = bb_value(b, hop);
    uint32_t add_in[2] = {x, l2};
    bb_node(b, 10 /* ADD */, add_in, 2, &y, 1, NULL, 0, NULL, 0, NULL, 0);
    bb_io(b, x, y);
    free(w1); free(b1); free(wih); free(whh); free(bias); free(w2);
}

/* zlib crc32 */
static uint32_t bb_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void bb_align(bb_buf *f, size_t a)
{
    while (f->n % a)
        bb_put(f, NULL, 1);
}

/* Serialises the bundle and frees the builder. Caller frees the bytes. */
static uint8_t *bb_finish(bb_builder *b, size_t *out_size)
{
    uint32_t nsec = 2 + b->tier_count;
    bb_buf f = {0};
    bb_put(&f, NULL, 64);                 /* header, filled at the end */
    size_t table = f.n;
    bb_put(&f, NULL, (size_t)nsec * 32);  /* section table */
    uint64_t sec_off[2 + BB_MAX_TIERS], sec_size[2 + BB_MAX_TIERS];
    uint32_t sec_type[2 + BB_MAX_TIERS], sec_index[2 + BB_MAX_TIERS];

    /* MANIFEST */
    sec_off[0] = f.n;
    sec_type[0] = 1;
    sec_index[0] = 0;
    bb_str(&f, b->voice_id);
    bb_str(&f, b->display);
    bb_str(&f, b->version);
    bb_u32(&f, b->tier_count);
    for (uint32_t k = 0; k < b->tier_count; k++) {
        bb_tier_def *t = b->tiers[k];
        bb_str(&f, t->name);
        bb_u32(&f, t->rate);
        bb_u32(&f, t->hop);
        bb_u32(&f, t->latency);
        bb_u64(&f, 0); /* parameter_count: 0 = computed by the runtime */
        bb_u64(&f, 0); /* flops_per_second: likewise */
    }
    sec_size[0] = f.n - sec_off[0];

    /* TENSORS */
    bb_align(&f, 64);
    sec_off[1] = f.n;
    sec_type[1] = 2;
    sec_index[1] = 0;
    bb_u32(&f, b->tensor_count);
    size_t desc = f.n;
    bb_put(&f, NULL, (size_t)b->tensor_count * 32);
    for (uint32_t i = 0; i < b->tensor_count; i++) {
        bb_tensor *t = &b->tensors[i];
        bb_align(&f, 64);
        uint64_t off = f.n;
        for (uint64_t j = 0; j < t->count; j++)
            bb_f32(&f, t->data[j]);
        uint8_t *d = f.p + desc + (size_t)i * 32;
        bb_set_u32(d, 1);
        bb_set_u32(d + 4, t->ndim);
        for (uint32_t k = 0; k < 4; k++)
            bb_set_u32(d + 8 + 4 * k, t->dims[k]);
        bb_set_u64(d + 24, off);
        free(t->data);
    }
    sec_size[1] = f.n - sec_off[1];

    /* GRAPHs */
    for (uint32_t k = 0; k < b->tier_count; k++) {
        bb_tier_def *t = b->tiers[k];
        bb_align(&f, 4);
        sec_off[2 + k] = f.n;
        sec_type[2 + k] = 3;
        sec_index[2 + k] = k;
        bb_u32(&f, t->value_count);
        for (uint32_t i = 0; i < t->value_count; i++)
            bb_u32(&f, t->value_size[i]);
        bb_u32(&f, t->in_value);
        bb_u32(&f, t->out_value);
        bb_u32(&f, t->node_count);
        bb_put(&f, t->nodes.p, t->nodes.n);
        sec_size[2 + k] = f.n - sec_off[2 + k];
        free(t->nodes.p);
        free(t);
    }
    for (uint32_t s = 0; s < nsec; s++) {
        uint8_t *e = f.p + table + (size_t)s * 32;
        bb_set_u32(e, sec_type[s]);
        bb_set_u32(e + 4, sec_index[s]);
        bb_set_u64(e + 8, sec_off[s]);
        bb_set_u64(e + 16, sec_size[s]);
        bb_set_u64(e + 24, 0);
    }
    uint64_t total = f.n + 4;
    static const uint8_t magic[8] = {0x56, 0x53, 0x4B, 0x49, 0x4E, 0x00, 0x0D, 0x0A};
    memcpy(f.p, magic, 8);
    bb_set_u32(f.p + 8, 1);
    bb_set_u32(f.p + 12, 64);
    bb_set_u64(f.p + 16, total);
    bb_set_u32(f.p + 24, nsec);
    bb_set_u32(f.p + 28, 0);
    bb_set_u64(f.p + 32, table);
    uint32_t crc = bb_crc32(f.p, f.n);
    bb_u32(&f, crc);
    *out_size = f.n;
    memset(b, 0, sizeof *b);
    return f.p;
}

#endif
