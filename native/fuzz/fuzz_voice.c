/* fuzz_voice — a fuzzed bundle that opens, then a voice on it at a fuzzed
 * sample rate / channel count / block size / tier / mix / bypass (created
 * on the heap or in caller memory), a few vsk_voice_process calls with
 * fuzzed buffer sizes and signals (in place or not), tier switches, mix and
 * bypass changes and a reset. Every output sample must be written and every
 * call must succeed or return a documented status. (Finite output is not
 * checked: a fuzzed bundle's weights may be anything, NaN included.)
 *
 * Input: FZ_VOICE_PARAMS bytes of parameters, then the bundle bytes. */
#include <math.h>

#include "fuzz_common.h"

#define FZ_VOICE_PARAMS 32
#define FZ_MAX_CALLS 6
#define FZ_MAX_FRAMES 1024 /* per call: keeps an execution short */

static const uint32_t fz_rates[8] = {48000, 44100, 16000, 8000, 96000, 192000, 22050, 32000};

/* deterministic test signal: kind 0 sine, 1 noise, 2 silence, 3 full-scale
 * square, 4 DC, 5 huge (1e30), 6 NaN/Inf burst, 7 denormals */
static void fz_signal(float *x, uint32_t n, uint32_t kind, uint32_t seed)
{
    uint32_t r = seed | 1u;
    for (uint32_t i = 0; i < n; i++) {
        r ^= r << 13; r ^= r >> 17; r ^= r << 5;
        float v;
        switch (kind & 7u) {
        case 0: v = 0.5f * sinf(0.05f * (float)(i + seed % 1000)); break;
        case 1: v = (float)(int32_t)r * (1.0f / 2147483648.0f); break;
        case 2: v = 0.0f; break;
        case 3: v = ((i / 37u) & 1u) ? 1.0f : -1.0f; break;
        case 4: v = 0.75f; break;
        case 5: v = (r & 1u) ? 1e30f : -1e30f; break;
        case 6: v = (r & 3u) == 0 ? NAN : ((r & 3u) == 1 ? INFINITY : 0.1f); break;
        default: v = 1e-40f * (float)(r & 0xFFu); break;
        }
        x[i] = v;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < FZ_VOICE_PARAMS) return 0;
    fz_params P = {data, FZ_VOICE_PARAMS, 0};
    vsk_bundle *b = fz_open(data + FZ_VOICE_PARAMS, size - FZ_VOICE_PARAMS);
    if (!b) return 0;
    uint32_t tiers = fz_query_bundle(b);

    vsk_voice_config cfg;
    vsk_voice_config_init(&cfg);
    uint32_t rsel = fz_u8(&P);
    /* mostly common rates; sometimes any value, valid or not */
    cfg.sample_rate = (rsel & 0x80u) ? 7000u + fz_u32(&P) % 190000u : fz_rates[rsel & 7u];
    if (!(rsel & 0x80u)) (void)fz_u32(&P);
    cfg.channels = fz_u8(&P) % 10u;                  /* 0 and 9 are invalid */
    cfg.max_block_frames = fz_u16(&P) % 5000u;       /* 0 is the invalid one */
    cfg.initial_tier = fz_u8(&P) % (tiers + 1u);     /* tiers is invalid */
    cfg.mix = (float)fz_u8(&P) / 200.0f;             /* up to 1.275: > 1 invalid */
    cfg.bypass = fz_u8(&P) & 1u;
    uint32_t flags = fz_u8(&P);

    vsk_voice *v = NULL;
    void *mem = NULL;
    vsk_status st;
    if (flags & 1u) { /* caller memory */
        size_t bytes = 0;
        st = vsk_voice_get_size(b, &cfg, &bytes);
        fz_check_status(st);
        if (st == VSK_OK) {
            FZ_CHECK(bytes > 0);
            size_t rounded = (bytes + 63u) & ~(size_t)63u;
            mem = aligned_alloc(64, rounded);
            if (mem) {
                vsk_status short_st = vsk_voice_init(mem, bytes - 1, b, &cfg, &v);
                fz_check_status(short_st);
                FZ_CHECK(short_st != VSK_OK && v == NULL);
                st = vsk_voice_init(mem, bytes, b, &cfg, &v);
                /* where the size is all that is wrong, it is what is said */
                FZ_CHECK(st != VSK_OK || short_st == VSK_ERR_BUFFER_TOO_SMALL);
            }
        }
    } else {
        st = vsk_voice_create(b, &cfg, &v);
    }
    fz_check_status(st);
    FZ_CHECK((st == VSK_OK) == (v != NULL));
    vsk_bundle_release(b); /* the voice holds its own reference */
    if (!v) {
        free(mem);
        return 0;
    }

    uint32_t lat = 0;
    FZ_CHECK(vsk_voice_get_latency(v, &lat) == VSK_OK);
    uint32_t ch = cfg.channels;
    float *in = (float *)malloc(sizeof(float) * FZ_MAX_FRAMES * ch);
    float *out = (float *)malloc(sizeof(float) * FZ_MAX_FRAMES * ch);
    if (in && out) {
        uint32_t calls = 1u + fz_u8(&P) % FZ_MAX_CALLS;
        for (uint32_t c = 0; c < calls; c++) {
            uint32_t op = fz_u8(&P);
            uint32_t frames = fz_u16(&P) % (FZ_MAX_FRAMES + 1u);
            uint32_t kind = op >> 5;
            fz_signal(in, frames * ch, kind, op * 2654435761u + c);
            int in_place = (op & 1u) != 0;
            float *dst = in_place ? in : out;
            if (!in_place)
                for (uint32_t i = 0; i < frames * ch; i++) out[i] = 12345.0f;
            st = vsk_voice_process(v, in, dst, frames);
            FZ_CHECK(st == VSK_OK);
            if (!in_place) /* every sample written (NaN != 12345 too) */
                for (uint32_t i = 0; i < frames * ch; i++) FZ_CHECK(dst[i] != 12345.0f);
            switch ((op >> 1) & 7u) {
            case 0: st = vsk_voice_set_tier(v, fz_u8(&P) % (tiers + 1u));
                    FZ_CHECK(st == VSK_OK || st == VSK_ERR_NOT_FOUND ||
                             st == VSK_ERR_INVALID_ARGUMENT);
                    break;
            case 1: FZ_CHECK(vsk_voice_set_mix(v, (float)(fz_u8(&P) % 101u) / 100.0f) == VSK_OK); break;
            case 2: FZ_CHECK(vsk_voice_set_bypass(v, fz_u8(&P) & 1u) == VSK_OK); break;
            case 3: FZ_CHECK(vsk_voice_reset(v) == VSK_OK); break;
            case 4: FZ_CHECK(vsk_voice_set_mix(v, 2.0f) != VSK_OK); break;
            default: break;
            }
            uint32_t t = 999, lat2 = 0;
            FZ_CHECK(vsk_voice_get_tier(v, &t) == VSK_OK && t < tiers);
            FZ_CHECK(vsk_voice_get_latency(v, &lat2) == VSK_OK && lat2 == lat);
        }
        /* zero frames is allowed and does nothing */
        FZ_CHECK(vsk_voice_process(v, in, out, 0) == VSK_OK);
    }
    free(in);
    free(out);
    vsk_voice_destroy(v);
    free(mem);
    return 0;
}
