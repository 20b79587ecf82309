/* test_bundle_fuzz.c — mutation fuzzing of vsk_bundle_open_memory.
 *
 * A valid two-tier bundle using most ops is mutated (bit flips, interesting
 * u32 values, truncation, inserted/deleted/duplicated bytes, stacked 1..3
 * times); most mutants get their file_size and CRC rewritten so that the
 * structural checks (not just the checksum) see them. Every open must
 * return a documented status and never crash; a bundle that does open is
 * queried fully and run through a voice for a few blocks (real kernels on
 * whatever the validators let through). Built with -fsanitize=address,
 * undefined this finds out-of-bounds reads and overflows.
 *
 * Bounded: VSK_FUZZ_ITERS iterations (default 6000) or 2.5 s, whichever
 * comes first; VSK_FUZZ_SEED picks the sequence. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under a strict -std=c11 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vsk_test_bundle.h"
#include "voiceskin.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return (uint32_t)(x >> 32);
}

static uint32_t rnd_below(uint32_t n) { return n ? rnd() % n : 0; }

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);   /* intercepted by every sanitizer (MSan has no timespec_get) */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* hop h (16 or 32):
 *   v0 [h] -> FRAME 2h -> v1 [2h] -> STFT_MAG(window, n = 2h) -> v2 [h+1]
 *   -> LOG -> v3 -> LINEAR(W [8, h+1], b) -> v4 [8] -> ACT tanh -> v5
 *   -> GRU(8) -> v6 [8]; v5 -> CONV1D(K 3, dilation 2) -> v7 [8]
 *   CONCAT(v6, v7) -> v8 [16] -> AFFINE -> v9 [16] -> LINEAR [h, 16] -> v10
 *   ADD(v10, v0) -> v11 [h] output */
static void rich_graph(tb_spec *s, uint32_t tier, uint32_t h)
{
    tb_buf *g = &s->tiers[tier].graph;
    uint32_t t_win = tb_add_tensor(s, 1, 2 * h, 1, 1, 0.5f);
    uint32_t t_w1 = tb_add_tensor(s, 2, 8, h + 1, 1, 0.1f);
    uint32_t t_b1 = tb_add_tensor(s, 1, 8, 1, 1, 0.1f);
    uint32_t t_ih = tb_add_tensor(s, 2, 24, 8, 1, 0.2f);
    uint32_t t_hh = tb_add_tensor(s, 2, 24, 8, 1, 0.2f);
    uint32_t t_bih = tb_add_tensor(s, 1, 24, 1, 1, 0.1f);
    uint32_t t_bhh = tb_add_tensor(s, 1, 24, 1, 1, 0.1f);
    uint32_t t_cw = tb_add_tensor(s, 3, 8, 8, 3, 0.1f);
    uint32_t t_cb = tb_add_tensor(s, 1, 8, 1, 1, 0.1f);
    uint32_t t_sc = tb_add_tensor(s, 1, 16, 1, 1, 1.0f);
    uint32_t t_sh = tb_add_tensor(s, 1, 16, 1, 1, 0.1f);
    uint32_t t_w2 = tb_add_tensor(s, 2, h, 16, 1, 0.1f);
    uint32_t sizes[12] = {h, 2 * h, h + 1, h + 1, 8, 8, 8, 8, 16, 16, h, h};
    uint32_t v[12], i, c_stft = t_win, c_lin1[2], c_gru[4], c_conv[2],
                      c_aff[2], c_lin2 = t_w2, cat[2] = {6, 7}, add[2] = {10, 0};
    int32_t win = (int32_t)(2 * h), nfft = (int32_t)(2 * h), tanh_k = 2, dil = 2;
    float eps = 1e-5f;
    for (i = 0; i < 12; i++)
        v[i] = i;
    c_lin1[0] = t_w1;
    c_lin1[1] = t_b1;
    c_gru[0] = t_ih;
    c_gru[1] = t_hh;
    c_gru[2] = t_bih;
    c_gru[3] = t_bhh;
    c_conv[0] = t_cw;
    c_conv[1] = t_cb;
    c_aff[0] = t_sc;
    c_aff[1] = t_sh;
    g->n = 0;
    tb_u32(g, 12);
    for (i = 0; i < 12; i++)
        tb_u32(g, sizes[i]);
    tb_u32(g, 0);
    tb_u32(g, 11);
    tb_u32(g, 11);
    tb_node(g, 1, 1, &v[0], 1, &v[1], 0, NULL, 1, &win, 0, NULL);
    tb_node(g, 2, 1, &v[1], 1, &v[2], 1, &c_stft, 1, &nfft, 0, NULL);
    tb_node(g, 5, 1, &v[2], 1, &v[3], 0, NULL, 0, NULL, 1, &eps);
    tb_node(g, 3, 1, &v[3], 1, &v[4], 2, c_lin1, 0, NULL, 0, NULL);
    tb_node(g, 4, 1, &v[4], 1, &v[5], 0, NULL, 1, &tanh_k, 0, NULL);
    tb_node(g, 7, 1, &v[5], 1, &v[6], 4, c_gru, 0, NULL, 0, NULL);
    tb_node(g, 6, 1, &v[5], 1, &v[7], 2, c_conv, 1, &dil, 0, NULL);
    tb_node(g, 8, 2, cat, 1, &v[8], 0, NULL, 0, NULL, 0, NULL);
    tb_node(g, 12, 1, &v[8], 1, &v[9], 2, c_aff, 0, NULL, 0, NULL);
    tb_node(g, 3, 1, &v[9], 1, &v[10], 1, &c_lin2, 0, NULL, 0, NULL);
    tb_node(g, 10, 2, add, 1, &v[11], 0, NULL, 0, NULL, 0, NULL);
}

/* Bytes before the tensor data (header, table, manifest, graphs, QA,
 * descriptors): half of the mutations land here. */
static uint32_t struct_end;

static tb_buf make_base(void)
{
    tb_layout L;
    tb_spec s;
    tb_buf f;
    memset(&s, 0, sizeof s);
    s.voice_id = "fuzz.voice";
    s.display_name = "Fuzz";
    s.version = "0.1.0";
    s.qa = "{\"q\":1}";
    s.tier_count = 2;
    s.tiers[0].name = "low";
    s.tiers[0].rate = 16000;
    s.tiers[0].hop = 16;
    s.tiers[0].latency = 32;
    s.tiers[1].name = "high";
    s.tiers[1].rate = 24000;
    s.tiers[1].hop = 32;
    s.tiers[1].latency = 64;
    rich_graph(&s, 0, 16);
    rich_graph(&s, 1, 32);
    f = tb_write(&s, &L);
    struct_end = (uint32_t)L.tensor_data_off[0];
    tb_spec_free(&s);
    return f;
}

static const uint32_t interesting[] = {
    0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128,
    255, 256, 4095, 4096, 4097, 65535, 65536, 65537, 0x00FFFFFFu,
    0x7FFFFFFFu, 0x80000000u, 0xFFFFFFF0u, 0xFFFFFFFFu};

static void mutate(tb_buf *m)
{
    uint32_t kind = rnd_below(10), pos, len, k;
    if (m->n < 8)
        return;
    pos = rnd_below(rnd_below(2) && struct_end < m->n ? struct_end
                                                      : (uint32_t)m->n);
    switch (kind) {
    case 0: case 1: case 2: /* bit flips */
        len = 1 + rnd_below(4);
        for (k = 0; k < len; k++)
            m->p[rnd_below((uint32_t)m->n)] ^= (uint8_t)(1u << rnd_below(8));
        break;
    case 3: case 4: case 5: /* interesting u32, aligned to 4 (structure) */
        pos &= ~3u;
        if (pos + 4 <= m->n)
            tb_put32(m->p + pos,
                     interesting[rnd_below(sizeof interesting / sizeof interesting[0])] +
                         (rnd_below(4) == 0 ? (uint32_t)m->n : 0u));
        break;
    case 6: /* random byte */
        m->p[pos] = (uint8_t)rnd();
        break;
    case 7: /* truncate */
        m->n = pos;
        break;
    case 8: /* delete a chunk */
        len = 1 + rnd_below(16);
        if (pos + len > m->n)
            len = (uint32_t)m->n - pos;
        memmove(m->p + pos, m->p + pos + len, m->n - pos - len);
        m->n -= len;
        break;
    default: /* insert a chunk (random or copied from elsewhere) */
        len = 1 + rnd_below(16);
        tb_reserve(m, len);
        memmove(m->p + pos + len, m->p + pos, m->n - pos);
        for (k = 0; k < len; k++)
            m->p[pos + k] = rnd_below(2) ? (uint8_t)rnd()
                                         : m->p[rnd_below((uint32_t)m->n)];
        m->n += len;
        break;
    }
}

static int documented(vsk_status st)
{
    return st == VSK_OK || st == VSK_ERR_TRUNCATED || st == VSK_ERR_BAD_MAGIC ||
           st == VSK_ERR_UNSUPPORTED_VERSION || st == VSK_ERR_TOO_LARGE ||
           st == VSK_ERR_CHECKSUM || st == VSK_ERR_CORRUPT ||
           st == VSK_ERR_UNSUPPORTED_OP;
}

/* Everything a host would do with a bundle that opened. */
static void exercise(vsk_bundle *b)
{
    vsk_bundle_info info;
    vsk_tier_info ti;
    uint32_t t, idx;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    CHECK_ST(vsk_bundle_get_info(b, &info), VSK_OK);
    CHECK(info.tier_count >= 1 && info.tier_count <= 16);
    CHECK(strlen(info.voice_id) >= 1 && strlen(info.voice_id) <= 64);
    CHECK(strlen(info.version) >= 5);
    for (t = 0; t < info.tier_count; t++) {
        memset(&ti, 0, sizeof ti);
        ti.struct_size = sizeof ti;
        CHECK_ST(vsk_bundle_get_tier_info(b, t, &ti), VSK_OK);
        CHECK_ST(vsk_bundle_find_tier(b, ti.name, &idx), VSK_OK);
        CHECK(idx == t);
        CHECK(ti.hop_samples >= 1 && ti.hop_samples <= 4096);
    }
    for (t = 0; t < info.tier_count && t < 2; t++) {
        vsk_voice_config c;
        vsk_voice *v = NULL;
        static float buf[2 * 256];
        uint32_t i;
        vsk_voice_config_init(&c);
        c.sample_rate = 16000;
        c.max_block_frames = 256;
        c.initial_tier = t;
        if (vsk_voice_create(b, &c, &v) != VSK_OK)
            continue;
        for (i = 0; i < 2 * 256; i++)
            buf[i] = (float)((int)(i * 37u % 200u) - 100) / 100.0f;
        CHECK_ST(vsk_voice_process(v, buf, buf, 256), VSK_OK);
        CHECK_ST(vsk_voice_process(v, buf, buf + 256, 256), VSK_OK);
        vsk_voice_destroy(v);
    }
}

int main(void)
{
    const char *e_iters = getenv("VSK_FUZZ_ITERS"), *e_seed = getenv("VSK_FUZZ_SEED");
    long iters = e_iters ? atol(e_iters) : 6000, i;
    double budget = e_iters ? 1e9 : 2.5; /* wall seconds */
    long counts[17] = {0}, undocumented = 0;
    double t0 = wall_seconds();
    tb_buf base = make_base(), m = {0};
    vsk_status st;

    if (e_seed)
        rng_state ^= (uint64_t)strtoull(e_seed, NULL, 0) * 0x2545F4914F6CDD1Dull;
    if (rng_state == 0)
        rng_state = 1;

    /* the unmutated base must be valid */
    st = tb_open(&base);
    CHECK_ST(st, VSK_OK);
    if (st != VSK_OK) {
        fprintf(stderr, "base bundle invalid; fuzzing skipped\n");
        return 1;
    }
    {
        vsk_bundle *b = NULL;
        CHECK_ST(vsk_bundle_open_memory(base.p, base.n, &b), VSK_OK);
        if (b) {
            exercise(b);
            vsk_bundle_release(b);
        }
    }

    for (i = 0; i < iters; i++) {
        uint32_t k, rounds = 1 + rnd_below(3);
        vsk_bundle *b = NULL;
        if ((i & 63) == 0 &&
            wall_seconds() - t0 > budget)
            break;
        m.n = 0;
        tb_bytes(&m, base.p, base.n);
        for (k = 0; k < rounds; k++)
            mutate(&m);
        if (rnd_below(8) != 0)
            tb_fix(&m);
        st = vsk_bundle_open_memory(m.p, m.n, &b);
        if (!documented(st)) {
            undocumented++;
            fprintf(stderr, "iteration %ld: undocumented status %d (%s)\n", i,
                    (int)st, vsk_status_name(st));
        }
        if (st <= 0 && st >= -16)
            counts[-st]++;
        if (st == VSK_OK) {
            exercise(b);
            vsk_bundle_release(b);
        }
    }
    printf("test_bundle_fuzz: %ld iterations in %.2f s\n", i,
           wall_seconds() - t0);
    {
        int k;
        for (k = 0; k <= 16; k++)
            if (counts[k])
                printf("  %-28s %ld\n", vsk_status_name(-k), counts[k]);
    }
    CHECK(undocumented == 0);
    /* the mutator must actually reach the structural checks, and some
     * mutants must still open (weights, QA text) */
    CHECK(counts[-VSK_ERR_CORRUPT] > 0);
    CHECK(counts[0] > 0);
    CHECK(counts[-VSK_ERR_CHECKSUM] > 0);
    tb_free(&m);
    tb_free(&base);
    if (tb_failures) {
        fprintf(stderr, "test_bundle_fuzz: %d check(s) failed\n", tb_failures);
        return 1;
    }
    return 0;
}
