/* vsk_test_bundle.h — a tiny .vskin writer for the C tests (header-only,
 * test code only). Writes the layout of docs/bundle-format.md: header,
 * section table at 64, MANIFEST, GRAPHs, QA, then TENSORS (64-aligned
 * data), trailer CRC. Tests then poke bytes at the recorded offsets and call
 * tb_fix() to rewrite file_size + CRC so that structural checks are hit. */
#ifndef VSK_TEST_BUNDLE_H
#define VSK_TEST_BUNDLE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voiceskin.h"

/* ------------------------------------------------------------- checks */

static int tb_failures = 0;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
            tb_failures++;                                                 \
        }                                                                  \
    } while (0)

#define CHECK_ST(expr, want)                                               \
    do {                                                                   \
        vsk_status got_ = (expr);                                          \
        if (got_ != (want)) {                                              \
            fprintf(stderr, "%s:%d: %s -> %s, expected %s\n", __FILE__,    \
                    __LINE__, #expr, vsk_status_name(got_),                \
                    vsk_status_name(want));                                \
            tb_failures++;                                                 \
        }                                                                  \
    } while (0)

/* -------------------------------------------------------------- buffer */

typedef struct tb_buf {
    uint8_t *p;
    size_t n, cap;
} tb_buf;

static inline void tb_reserve(tb_buf *b, size_t n)
{
    if (b->n + n <= b->cap)
        return;
    while (b->cap < b->n + n)
        b->cap = b->cap ? b->cap * 2 : 256;
    b->p = (uint8_t *)realloc(b->p, b->cap);
    if (!b->p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
}

static inline void tb_bytes(tb_buf *b, const void *d, size_t n)
{
    tb_reserve(b, n);
    if (n)
        memcpy(b->p + b->n, d, n);
    b->n += n;
}

static inline void tb_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void tb_put64(uint8_t *p, uint64_t v)
{
    tb_put32(p, (uint32_t)v);
    tb_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t tb_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline void tb_u32(tb_buf *b, uint32_t v)
{
    uint8_t t[4];
    tb_put32(t, v);
    tb_bytes(b, t, 4);
}

static inline void tb_u64(tb_buf *b, uint64_t v)
{
    uint8_t t[8];
    tb_put64(t, v);
    tb_bytes(b, t, 8);
}

static inline void tb_f32(tb_buf *b, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    tb_u32(b, v);
}

static inline void tb_str(tb_buf *b, const char *s)
{
    tb_u32(b, (uint32_t)strlen(s));
    tb_bytes(b, s, strlen(s));
}

static inline void tb_pad(tb_buf *b, size_t align)
{
    static const uint8_t z[64] = {0};
    tb_bytes(b, z, (align - b->n % align) % align);
}

static inline void tb_free(tb_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* zlib CRC-32, bitwise (independent of the library's table). */
static inline uint32_t tb_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

/* Rewrites header.file_size = f->n and the trailer CRC. */
static inline void tb_fix(tb_buf *f)
{
    if (f->n < 68)
        return;
    tb_put64(f->p + 16, (uint64_t)f->n);
    tb_put32(f->p + f->n - 4, tb_crc32(f->p, f->n - 4));
}

/* Only the CRC. */
static inline void tb_fix_crc(tb_buf *f)
{
    if (f->n >= 4)
        tb_put32(f->p + f->n - 4, tb_crc32(f->p, f->n - 4));
}

/* --------------------------------------------------------------- graph */

static inline void tb_node(tb_buf *g, uint32_t op, uint32_t n_in, const uint32_t *in,
                    uint32_t n_out, const uint32_t *out, uint32_t n_const,
                    const uint32_t *cst, uint32_t n_i, const int32_t *ia,
                    uint32_t n_f, const float *fa)
{
    uint32_t k;
    tb_u32(g, op);
    tb_u32(g, n_in);
    for (k = 0; k < n_in; k++)
        tb_u32(g, in[k]);
    tb_u32(g, n_out);
    for (k = 0; k < n_out; k++)
        tb_u32(g, out[k]);
    tb_u32(g, n_const);
    for (k = 0; k < n_const; k++)
        tb_u32(g, cst[k]);
    tb_u32(g, n_i);
    for (k = 0; k < n_i; k++)
        tb_u32(g, (uint32_t)ia[k]);
    tb_u32(g, n_f);
    for (k = 0; k < n_f; k++)
        tb_f32(g, fa[k]);
}

/* ---------------------------------------------------------------- spec */

#define TB_MAX_TENSORS 64

typedef struct tb_tier {
    const char *name;
    uint32_t rate, hop, latency;
    uint64_t params, flops;
    tb_buf graph; /* raw GRAPH section */
} tb_tier;

typedef struct tb_tensor {
    uint32_t ndim;
    uint32_t dims[4];
    float scale; /* data[k] = scale * pattern(k) */
} tb_tensor;

typedef struct tb_spec {
    const char *voice_id, *display_name, *version;
    uint32_t tier_count;
    tb_tier tiers[17];
    uint32_t tensor_count;
    tb_tensor tensors[TB_MAX_TENSORS];
    const char *qa; /* NULL: no QA section */
} tb_spec;

typedef struct tb_layout {
    size_t table_off;
    uint32_t section_count;
    size_t manifest_off, manifest_size;
    size_t graph_off[17], graph_size[17];
    size_t qa_off, qa_size;
    size_t tensors_off, tensors_size;
    size_t tensor_data_off[TB_MAX_TENSORS];
    size_t tier_off[17]; /* offset of each tier's name string (manifest) */
} tb_layout;

static inline float tb_pattern(uint32_t tensor, uint64_t k)
{
    return (float)((int)((k * 7u + tensor * 3u) % 13u) - 6) / 6.0f;
}

static inline uint64_t tb_count(const tb_tensor *t)
{
    return (uint64_t)t->dims[0] * t->dims[1] * t->dims[2] * t->dims[3];
}

static inline uint32_t tb_add_tensor(tb_spec *s, uint32_t ndim, uint32_t d0,
                              uint32_t d1, uint32_t d2, float scale)
{
    tb_tensor *t = &s->tensors[s->tensor_count];
    t->ndim = ndim;
    t->dims[0] = d0;
    t->dims[1] = ndim > 1 ? d1 : 1;
    t->dims[2] = ndim > 2 ? d2 : 1;
    t->dims[3] = 1;
    t->scale = scale;
    return s->tensor_count++;
}

static inline tb_buf tb_write(const tb_spec *s, tb_layout *lay)
{
    tb_buf f = {0};
    tb_layout L;
    uint32_t i, sc = 2 + s->tier_count + (s->qa ? 1u : 0u), e = 0;
    uint64_t k;

    memset(&L, 0, sizeof L);
    tb_reserve(&f, 64);
    memset(f.p, 0, 64);
    f.n = 64;
    L.table_off = f.n;
    L.section_count = sc;
    tb_reserve(&f, 32 * (size_t)sc);
    memset(f.p + f.n, 0, 32 * (size_t)sc);
    f.n += 32 * (size_t)sc;

    /* MANIFEST */
    tb_pad(&f, 8);
    L.manifest_off = f.n;
    tb_str(&f, s->voice_id);
    tb_str(&f, s->display_name);
    tb_str(&f, s->version);
    tb_u32(&f, s->tier_count);
    for (i = 0; i < s->tier_count; i++) {
        const tb_tier *t = &s->tiers[i];
        L.tier_off[i] = f.n;
        tb_str(&f, t->name);
        tb_u32(&f, t->rate);
        tb_u32(&f, t->hop);
        tb_u32(&f, t->latency);
        tb_u64(&f, t->params);
        tb_u64(&f, t->flops);
    }
    L.manifest_size = f.n - L.manifest_off;
    /* GRAPHs */
    for (i = 0; i < s->tier_count; i++) {
        tb_pad(&f, 8);
        L.graph_off[i] = f.n;
        tb_bytes(&f, s->tiers[i].graph.p, s->tiers[i].graph.n);
        L.graph_size[i] = s->tiers[i].graph.n;
    }
    if (s->qa) {
        tb_pad(&f, 8);
        L.qa_off = f.n;
        tb_bytes(&f, s->qa, strlen(s->qa));
        L.qa_size = strlen(s->qa);
    }
    /* TENSORS */
    tb_pad(&f, 64);
    L.tensors_off = f.n;
    {
        size_t data_off = f.n + 4 + 32 * (size_t)s->tensor_count;
        tb_u32(&f, s->tensor_count);
        for (i = 0; i < s->tensor_count; i++) {
            const tb_tensor *t = &s->tensors[i];
            data_off = (data_off + 63) & ~(size_t)63;
            L.tensor_data_off[i] = data_off;
            tb_u32(&f, 1);
            tb_u32(&f, t->ndim);
            tb_u32(&f, t->dims[0]);
            tb_u32(&f, t->dims[1]);
            tb_u32(&f, t->dims[2]);
            tb_u32(&f, t->dims[3]);
            tb_u64(&f, data_off);
            data_off += 4 * (size_t)tb_count(t);
        }
        for (i = 0; i < s->tensor_count; i++) {
            tb_pad(&f, 64);
            for (k = 0; k < tb_count(&s->tensors[i]); k++)
                tb_f32(&f, s->tensors[i].scale * tb_pattern(i, k));
        }
    }
    L.tensors_size = f.n - L.tensors_off;

    /* header + section table */
    memcpy(f.p, "VSKIN\0\r\n", 8);
    tb_put32(f.p + 8, 1);
    tb_put32(f.p + 12, 64);
    tb_put32(f.p + 24, sc);
    tb_put64(f.p + 32, L.table_off);
#define TB_ENTRY(type, index, off, size)                                   \
    do {                                                                   \
        uint8_t *p_ = f.p + L.table_off + 32 * (size_t)e++;                \
        tb_put32(p_, (type));                                              \
        tb_put32(p_ + 4, (index));                                         \
        tb_put64(p_ + 8, (off));                                           \
        tb_put64(p_ + 16, (size));                                         \
    } while (0)
    TB_ENTRY(1, 0, L.manifest_off, L.manifest_size);
    for (i = 0; i < s->tier_count; i++)
        TB_ENTRY(3, i, L.graph_off[i], L.graph_size[i]);
    if (s->qa)
        TB_ENTRY(4, 0, L.qa_off, L.qa_size);
    TB_ENTRY(2, 0, L.tensors_off, L.tensors_size);
#undef TB_ENTRY
    tb_u32(&f, 0); /* trailer */
    tb_fix(&f);
    if (lay)
        *lay = L;
    return f;
}

/* Section table entry k (byte pointer). */
static inline uint8_t *tb_entry(tb_buf *f, const tb_layout *L, uint32_t k)
{
    return f->p + L->table_off + 32 * (size_t)k;
}

/* The standard test graph for one tier with hop h, reading tensors W
 * [h, 2h] and b [h]:
 *   v0 [h] input -> FRAME(win 2h) -> v1 [2h] -> LINEAR(W, b) -> v2 [h]
 *   -> ACT(tanh) -> v3 [h] output. */
static inline void tb_std_graph(tb_buf *g, uint32_t h, uint32_t w_id, uint32_t b_id)
{
    uint32_t in0 = 0, v1 = 1, v2 = 2, v3 = 3, cst[2];
    int32_t win = (int32_t)(2 * h), tanh_kind = 2;
    cst[0] = w_id;
    cst[1] = b_id;
    g->n = 0;
    tb_u32(g, 4);
    tb_u32(g, h);
    tb_u32(g, 2 * h);
    tb_u32(g, h);
    tb_u32(g, h);
    tb_u32(g, 0); /* input */
    tb_u32(g, 3); /* output */
    tb_u32(g, 3); /* nodes */
    tb_node(g, 1, 1, &in0, 1, &v1, 0, NULL, 1, &win, 0, NULL);
    tb_node(g, 3, 1, &v1, 1, &v2, 2, cst, 0, NULL, 0, NULL);
    tb_node(g, 4, 1, &v2, 1, &v3, 0, NULL, 1, &tanh_kind, 0, NULL);
}

/* A valid two-tier bundle spec ("low" hop 32 @16 kHz, "high" hop 64
 * @48 kHz), each tier with its own W/b, plus a QA section. */
static inline void tb_std_spec(tb_spec *s)
{
    uint32_t i;
    static const char *names[2] = {"low", "high"};
    static const uint32_t hops[2] = {32, 64}, rates[2] = {16000, 48000};
    memset(s, 0, sizeof *s);
    s->voice_id = "demo.test-voice_1";
    s->display_name = "Test Voice";
    s->version = "1.2.3";
    s->qa = "{\"score\": 1}";
    s->tier_count = 2;
    for (i = 0; i < 2; i++) {
        tb_tier *t = &s->tiers[i];
        uint32_t w = tb_add_tensor(s, 2, hops[i], 2 * hops[i], 1, 0.05f);
        uint32_t b = tb_add_tensor(s, 1, hops[i], 1, 1, 0.01f);
        t->name = names[i];
        t->rate = rates[i];
        t->hop = hops[i];
        t->latency = 2 * hops[i];
        t->params = 1000 + i;
        t->flops = 2000000 + i;
        tb_std_graph(&t->graph, hops[i], w, b);
    }
}

static inline void tb_spec_free(tb_spec *s)
{
    uint32_t i;
    for (i = 0; i < 17; i++)
        tb_free(&s->tiers[i].graph);
}

static inline vsk_status tb_open(const tb_buf *f)
{
    vsk_bundle *b = NULL;
    vsk_status st = vsk_bundle_open_memory(f->p, f->n, &b);
    if (st == VSK_OK)
        vsk_bundle_release(b);
    return st;
}

#endif
