/* voice.c — one audio stream converted through one bundle.
 *
 * Design (docs/abi.md, "Voice: latency, tiers, mix"):
 *   Every tier owns a pipeline
 *       host mono -> downsampler -> input FIFO (hop) -> graph step
 *                 -> upsampler (+ tier padding) -> converted host mono
 *   all planned into one memory block at get_size/init. The upsampler's
 *   extra delay ("padding") is chosen per tier so that every tier has the
 *   same total latency L host frames, and so that the data each output
 *   frame needs has always arrived, whatever the block sizes. Streaming is
 *   therefore block-size invariant: output frame n is a fixed function of
 *   input frames 0..n.
 *
 *   Time is counted in units of 1/lcm(host, model) seconds per tier:
 *   a host frame lasts Q units, a model sample P units. Latency in units:
 *     downsampler lead_d*Q + upsampler lead_u*P + model lookahead*P
 *     + hop buffering (hop*P - Q) + padding  ==  L*Q.
 *
 *   Tier switch: set_tier stores an atomic; the next process resets the
 *   new tier's pipeline, runs it in parallel (output discarded) for its
 *   warm-up, then crossfades (raised cosine, 10 ms) and stops the old one.
 *   Mix/bypass: wet moves linearly to its target over 5 ms. */
#include "voiceskin.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "graph.h"
#include "resample.h"

#if defined(__SSE2__) || defined(_M_X64)
#include <xmmintrin.h>
/* Flush-to-zero + denormals-are-zero while processing (restored after):
 * recurrent states decaying on silence must not fall into slow denormal
 * arithmetic on the audio thread. */
#define VSK_NO_DENORMALS_BEGIN                                                \
    const unsigned int vsk_saved_csr_ = _mm_getcsr();                         \
    _mm_setcsr(vsk_saved_csr_ | 0x8040u);
#define VSK_NO_DENORMALS_END _mm_setcsr(vsk_saved_csr_);
#else
#define VSK_NO_DENORMALS_BEGIN
#define VSK_NO_DENORMALS_END
#endif

#define VSK_VOICE_MAX_BLOCK 65536u
#define VSK_VOICE_MAX_CHANNELS 8u
#define VSK_VOICE_MAX_LATENCY_S 4u
#define VSK_XFADE_S 0.010
#define VSK_MIX_RAMP_S 0.005
#define VSK_NO_TIER 0xFFFFFFFFu
#define VSK_PI_F 3.14159265358979323846f

#define A64(n) (((n) + (size_t)63) & ~(size_t)63)

typedef struct vsk_rate_tables {
    uint32_t model_rate;
    vsk_rs_spec down, up;           /* host->model, model->host */
    float *down_table, *up_table;
} vsk_rate_tables;

typedef struct vsk_pipe {
    const vsk_graph *graph;
    uint32_t hop;
    uint32_t rate_index;
    uint64_t pad_units;             /* upsampler extra delay */
    uint32_t warm_frames;           /* host frames before a crossfade */
    vsk_rs down, up;
    float *fifo;
    uint32_t fill;
    void *runtime;
} vsk_pipe;

struct vsk_voice {
    vsk_bundle *bundle;
    void *owned;                    /* set when vsk_voice_create allocated */
    uint32_t rate, channels, max_block, tier_count;
    uint32_t latency;               /* host frames */
    uint32_t xfade_frames;
    float mix_step;
    uint32_t rate_count;
    vsk_rate_tables rates[VSK_MAX_TIERS];
    vsk_pipe pipes[VSK_MAX_TIERS];
    float *dry;                     /* latency x channels ring */
    uint32_t dry_pos;
    float *mono, *conv0, *conv1, *step_out;
    /* audio-thread state */
    uint32_t cur, next;
    uint32_t warm_left, xfade_pos;
    float wet;
    /* [any-rt] requests */
    atomic_uint req_tier;
    atomic_uint mix_bits;
    atomic_int bypass;
};

/* ------------------------------------------------------------- planning */

typedef struct vsk_plan {
    uint32_t latency;
    uint32_t rate_count;
    uint32_t rate_of_tier[VSK_MAX_TIERS];
    uint32_t model_rate[VSK_MAX_TIERS];
    vsk_rs_spec down[VSK_MAX_TIERS], up[VSK_MAX_TIERS];  /* per rate */
    uint64_t pad[VSK_MAX_TIERS];
    uint32_t warm[VSK_MAX_TIERS];
    uint32_t down_cap[VSK_MAX_TIERS], up_cap[VSK_MAX_TIERS];
    size_t off_down_table[VSK_MAX_TIERS], off_up_table[VSK_MAX_TIERS];
    size_t off_down_hist[VSK_MAX_TIERS], off_up_hist[VSK_MAX_TIERS];
    size_t off_fifo[VSK_MAX_TIERS], off_runtime[VSK_MAX_TIERS];
    size_t off_dry, off_mono, off_conv0, off_conv1, off_step;
    size_t total;
} vsk_plan;

static vsk_status check_config(const vsk_bundle *b, const vsk_voice_config *c)
{
    if (!b || !c)
        return VSK_ERR_INVALID_ARGUMENT;
    if (c->struct_size != sizeof(vsk_voice_config) ||
        c->abi_version != VSK_ABI_VERSION)
        return VSK_ERR_ABI_MISMATCH;
    if (c->sample_rate < 8000 || c->sample_rate > 192000)
        return VSK_ERR_UNSUPPORTED_RATE;
    if (c->channels < 1 || c->channels > VSK_VOICE_MAX_CHANNELS)
        return VSK_ERR_INVALID_ARGUMENT;
    if (c->max_block_frames < 1 || c->max_block_frames > VSK_VOICE_MAX_BLOCK)
        return VSK_ERR_INVALID_ARGUMENT;
    if (!(c->mix >= 0.0f && c->mix <= 1.0f))
        return VSK_ERR_INVALID_ARGUMENT;
    if (b->tier_count < 1 || b->tier_count > VSK_MAX_TIERS)
        return VSK_ERR_INVALID_ARGUMENT;
    if (c->initial_tier >= b->tier_count)
        return VSK_ERR_NOT_FOUND;
    for (uint32_t k = 0; k < b->tier_count; k++) {
        const vsk_tier *t = &b->tiers[k];
        if (t->model_sample_rate < 8000 || t->model_sample_rate > 192000)
            return VSK_ERR_UNSUPPORTED_RATE;
        if (t->hop_samples < 1 || t->graph.hop != t->hop_samples)
            return VSK_ERR_INVALID_ARGUMENT;
    }
    return VSK_OK;
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return (a + b - 1) / b;
}

/* Everything about the memory block, computed without allocating. */
static vsk_status make_plan(const vsk_bundle *b, const vsk_voice_config *c,
                            vsk_plan *p)
{
    vsk_status st = check_config(b, c);
    if (st != VSK_OK)
        return st;
    memset(p, 0, sizeof *p);
    const uint32_t host = c->sample_rate, maxb = c->max_block_frames;
    const uint32_t nt = b->tier_count;

    /* Distinct model rates share their tables. */
    for (uint32_t k = 0; k < nt; k++) {
        uint32_t m = b->tiers[k].model_sample_rate, r;
        for (r = 0; r < p->rate_count; r++)
            if (p->model_rate[r] == m)
                break;
        if (r == p->rate_count) {
            p->model_rate[r] = m;
            vsk_rs_spec_init(&p->down[r], host, m);
            vsk_rs_spec_init(&p->up[r], m, host);
            p->rate_count++;
        }
        p->rate_of_tier[k] = r;
    }

    /* Common latency: the largest tier need, in host frames. */
    uint64_t latency = 0;
    for (uint32_t k = 0; k < nt; k++) {
        const vsk_tier *t = &b->tiers[k];
        const vsk_rs_spec *dn = &p->down[p->rate_of_tier[k]];
        const vsk_rs_spec *up = &p->up[p->rate_of_tier[k]];
        uint64_t q = dn->pin, pm = dn->pout; /* units per host / model sample */
        uint64_t look = t->latency_samples > t->hop_samples
                            ? t->latency_samples - t->hop_samples : 0;
        uint64_t hb = (uint64_t)t->hop_samples * pm > q
                          ? (uint64_t)t->hop_samples * pm - q : 0;
        uint64_t need = dn->lead * q + up->lead * pm + look * pm + hb;
        uint64_t l = ceil_div(need, q);
        if (l > latency)
            latency = l;
    }
    /* A bundle may declare any lookahead; refuse absurd ones (the dry
     * delay line and padding would be that long). */
    if (latency > (uint64_t)VSK_VOICE_MAX_LATENCY_S * host)
        return VSK_ERR_TOO_LARGE;
    p->latency = (uint32_t)latency;

    size_t off = A64(sizeof(struct vsk_voice));
    for (uint32_t r = 0; r < p->rate_count; r++) {
        p->off_down_table[r] = off;
        off += vsk_rs_table_bytes(&p->down[r]);
        p->off_up_table[r] = off;
        off += vsk_rs_table_bytes(&p->up[r]);
    }
    uint32_t max_hop = 1;
    for (uint32_t k = 0; k < nt; k++) {
        const vsk_tier *t = &b->tiers[k];
        const vsk_rs_spec *dn = &p->down[p->rate_of_tier[k]];
        const vsk_rs_spec *up = &p->up[p->rate_of_tier[k]];
        uint64_t q = dn->pin, pm = dn->pout;
        uint32_t m = t->model_sample_rate, h = t->hop_samples;
        uint64_t look = t->latency_samples > h ? t->latency_samples - h : 0;
        p->pad[k] = latency * q - dn->lead * q - up->lead * pm - look * pm;
        /* Model samples one block can carry, plus a hop in flight. */
        uint32_t per_block = (uint32_t)ceil_div((uint64_t)maxb * m, host) + 2;
        p->down_cap[k] = vsk_rs_hist_floats(dn, 0, 0, maxb);
        p->up_cap[k] = vsk_rs_hist_floats(up, p->pad[k], per_block + h, h);
        /* Warm-up: until the new pipeline's output depends on no input
         * from before its reset (FIR part), i.e. latency + both kernels +
         * the graph's frame history. */
        uint64_t span = (uint64_t)up->taps + t->graph.warmup_samples + h;
        p->warm[k] = (uint32_t)(latency + dn->taps +
                                ceil_div(span * host, m) + 2);
        p->off_down_hist[k] = off;
        off += A64((size_t)p->down_cap[k] * sizeof(float));
        p->off_up_hist[k] = off;
        off += A64((size_t)p->up_cap[k] * sizeof(float));
        p->off_fifo[k] = off;
        off += A64((size_t)h * sizeof(float));
        p->off_runtime[k] = off;
        off += A64(vsk_graph_runtime_bytes(&t->graph));
        if (h > max_hop)
            max_hop = h;
    }
    p->off_dry = off;
    off += A64((size_t)latency * c->channels * sizeof(float));
    p->off_mono = off;
    off += A64((size_t)maxb * sizeof(float));
    p->off_conv0 = off;
    off += A64((size_t)maxb * sizeof(float));
    p->off_conv1 = off;
    off += A64((size_t)maxb * sizeof(float));
    p->off_step = off;
    off += A64((size_t)max_hop * sizeof(float));
    p->total = off;
    return VSK_OK;
}

/* ------------------------------------------------------------- lifetime */

void vsk_voice_config_init(vsk_voice_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->struct_size = sizeof *config;
    config->abi_version = VSK_ABI_VERSION;
    config->sample_rate = 48000;
    config->channels = 1;
    config->max_block_frames = 1024;
    config->initial_tier = 0;
    config->mix = 1.0f;
    config->bypass = 0;
}

vsk_status vsk_voice_get_size(const vsk_bundle *bundle,
                              const vsk_voice_config *config, size_t *out_bytes)
{
    vsk_plan plan;
    if (!out_bytes)
        return VSK_ERR_INVALID_ARGUMENT;
    vsk_status st = make_plan(bundle, config, &plan);
    if (st != VSK_OK)
        return st;
    *out_bytes = plan.total;
    return VSK_OK;
}

static void pipe_reset(vsk_pipe *p)
{
    vsk_rs_reset(&p->down);
    vsk_rs_reset(&p->up);
    p->fill = 0;
    memset(p->fifo, 0, (size_t)p->hop * sizeof(float));
    vsk_graph_runtime_reset(p->graph, p->runtime);
}

static float target_wet(const vsk_voice *v)
{
    if (atomic_load_explicit(&v->bypass, memory_order_relaxed))
        return 0.0f;
    uint32_t bits = atomic_load_explicit(&v->mix_bits, memory_order_relaxed);
    float w;
    memcpy(&w, &bits, sizeof w);
    return w;
}

vsk_status vsk_voice_init(void *memory, size_t bytes, vsk_bundle *bundle,
                          const vsk_voice_config *config, vsk_voice **out_voice)
{
    vsk_plan *plan;
    vsk_plan plan_storage;
    plan = &plan_storage;
    if (!memory || !out_voice)
        return VSK_ERR_INVALID_ARGUMENT;
    if (((uintptr_t)memory & 63u) != 0)
        return VSK_ERR_INVALID_ARGUMENT;
    vsk_status st = make_plan(bundle, config, plan);
    if (st != VSK_OK)
        return st;
    if (bytes < plan->total)
        return VSK_ERR_BUFFER_TOO_SMALL;

    uint8_t *base = (uint8_t *)memory;
    vsk_voice *v = (vsk_voice *)memory;
    memset(v, 0, sizeof *v);
    v->bundle = bundle;
    v->rate = config->sample_rate;
    v->channels = config->channels;
    v->max_block = config->max_block_frames;
    v->tier_count = bundle->tier_count;
    v->latency = plan->latency;
    v->xfade_frames = (uint32_t)lround(VSK_XFADE_S * v->rate);
    v->mix_step = (float)(1.0 / (VSK_MIX_RAMP_S * v->rate));
    v->rate_count = plan->rate_count;
    for (uint32_t r = 0; r < plan->rate_count; r++) {
        vsk_rate_tables *rt = &v->rates[r];
        rt->model_rate = plan->model_rate[r];
        rt->down = plan->down[r];
        rt->up = plan->up[r];
        rt->down_table = (float *)(void *)(base + plan->off_down_table[r]);
        rt->up_table = (float *)(void *)(base + plan->off_up_table[r]);
        vsk_rs_table_build(&rt->down, rt->down_table);
        vsk_rs_table_build(&rt->up, rt->up_table);
    }
    for (uint32_t k = 0; k < v->tier_count; k++) {
        vsk_pipe *p = &v->pipes[k];
        vsk_rate_tables *rt = &v->rates[plan->rate_of_tier[k]];
        p->graph = &bundle->tiers[k].graph;
        p->hop = bundle->tiers[k].hop_samples;
        p->rate_index = plan->rate_of_tier[k];
        p->pad_units = plan->pad[k];
        p->warm_frames = plan->warm[k];
        p->fifo = (float *)(void *)(base + plan->off_fifo[k]);
        p->runtime = base + plan->off_runtime[k];
        vsk_rs_init(&p->down, &rt->down, rt->down_table,
                    (float *)(void *)(base + plan->off_down_hist[k]),
                    plan->down_cap[k], 0);
        vsk_rs_init(&p->up, &rt->up, rt->up_table,
                    (float *)(void *)(base + plan->off_up_hist[k]),
                    plan->up_cap[k], plan->pad[k]);
        vsk_graph_runtime_init(p->graph, p->runtime);
        p->fill = 0;
        memset(p->fifo, 0, (size_t)p->hop * sizeof(float));
    }
    v->dry = (float *)(void *)(base + plan->off_dry);
    memset(v->dry, 0, (size_t)v->latency * v->channels * sizeof(float));
    v->mono = (float *)(void *)(base + plan->off_mono);
    v->conv0 = (float *)(void *)(base + plan->off_conv0);
    v->conv1 = (float *)(void *)(base + plan->off_conv1);
    v->step_out = (float *)(void *)(base + plan->off_step);

    uint32_t mix_bits;
    float mix = config->mix;
    memcpy(&mix_bits, &mix, sizeof mix_bits);
    atomic_init(&v->req_tier, config->initial_tier);
    atomic_init(&v->mix_bits, mix_bits);
    atomic_init(&v->bypass, config->bypass ? 1 : 0);
    v->cur = config->initial_tier;
    v->next = VSK_NO_TIER;
    v->wet = target_wet(v);
    vsk_bundle_retain(bundle);
    *out_voice = v;
    return VSK_OK;
}

vsk_status vsk_voice_create(vsk_bundle *bundle, const vsk_voice_config *config,
                            vsk_voice **out_voice)
{
    size_t bytes;
    if (!out_voice)
        return VSK_ERR_INVALID_ARGUMENT;
    vsk_status st = vsk_voice_get_size(bundle, config, &bytes);
    if (st != VSK_OK)
        return st;
    void *mem = aligned_alloc(64, A64(bytes));
    if (!mem)
        return VSK_ERR_NO_MEMORY;
    vsk_voice *v;
    st = vsk_voice_init(mem, bytes, bundle, config, &v);
    if (st != VSK_OK) {
        free(mem);
        return st;
    }
    v->owned = mem;
    *out_voice = v;
    return VSK_OK;
}

void vsk_voice_destroy(vsk_voice *voice)
{
    if (!voice)
        return;
    void *owned = voice->owned;
    vsk_bundle_release(voice->bundle);
    voice->bundle = NULL;
    free(owned);
}

/* ------------------------------------------------------------ processing */

/* Feeds n host frames of mono into a tier's pipeline and writes the n
 * converted host frames it has for them. */
static void pipe_run(vsk_voice *v, vsk_pipe *p, const float *mono, uint32_t n,
                     float *conv)
{
    vsk_rs_push(&p->down, mono, n);
    for (;;) {
        uint32_t want = p->hop - p->fill;
        p->fill += vsk_rs_pull(&p->down, p->fifo + p->fill, want);
        if (p->fill < p->hop)
            break;
        vsk_graph_step(p->graph, p->runtime, p->fifo, v->step_out);
        vsk_rs_push(&p->up, v->step_out, p->hop);
        p->fill = 0;
    }
    uint32_t made = vsk_rs_pull(&p->up, conv, n);
    /* The latency plan guarantees made == n; keep the output defined. */
    for (uint32_t i = made; i < n; i++)
        conv[i] = 0.0f;
}

static void start_switch(vsk_voice *v, uint32_t tier)
{
    pipe_reset(&v->pipes[tier]);
    v->next = tier;
    v->warm_left = v->pipes[tier].warm_frames;
    v->xfade_pos = 0;
}

static void take_tier_request(vsk_voice *v)
{
    uint32_t r = atomic_load_explicit(&v->req_tier, memory_order_acquire);
    if (r >= v->tier_count)
        return;
    if (v->next == VSK_NO_TIER) {
        if (r != v->cur)
            start_switch(v, r);
    } else if (v->warm_left > 0 && r != v->next) {
        /* Still warming, nothing audible yet: retarget or cancel. */
        if (r == v->cur)
            v->next = VSK_NO_TIER;
        else
            start_switch(v, r);
    }
    /* While crossfading, a new request waits for the fade to finish. */
}

static void process_chunk(vsk_voice *v, const float *in, float *out,
                          uint32_t n, float target)
{
    const uint32_t ch = v->channels;
    const float inv = 1.0f / (float)ch;
    float *mono = v->mono;
    if (ch == 1) {
        memcpy(mono, in, (size_t)n * sizeof(float));
    } else {
        for (uint32_t f = 0; f < n; f++) {
            float s = 0.0f;
            for (uint32_t c = 0; c < ch; c++)
                s += in[(size_t)f * ch + c];
            mono[f] = s * inv;
        }
    }
    pipe_run(v, &v->pipes[v->cur], mono, n, v->conv0);
    int switching = v->next != VSK_NO_TIER;
    if (switching)
        pipe_run(v, &v->pipes[v->next], mono, n, v->conv1);

    int switched = 0;
    const uint32_t lat = v->latency;
    float wet = v->wet;
    const float step = v->mix_step;
    for (uint32_t f = 0; f < n; f++) {
        float y;
        if (!switching) {
            y = v->conv0[f];
        } else if (switched) {
            y = v->conv1[f];
        } else if (v->warm_left > 0) {
            v->warm_left--;
            y = v->conv0[f];
        } else {
            v->xfade_pos++;
            float t = (float)v->xfade_pos / (float)v->xfade_frames;
            float g = 0.5f - 0.5f * cosf(VSK_PI_F * t);
            y = v->conv0[f] * (1.0f - g) + v->conv1[f] * g;
            if (v->xfade_pos >= v->xfade_frames)
                switched = 1;
        }
        if (wet < target) {
            wet += step;
            if (wet > target)
                wet = target;
        } else if (wet > target) {
            wet -= step;
            if (wet < target)
                wet = target;
        }
        const float dw = 1.0f - wet;
        const size_t base = (size_t)f * ch;
        if (lat > 0) {
            float *d = v->dry + (size_t)v->dry_pos * ch;
            for (uint32_t c = 0; c < ch; c++) {
                float x = in[base + c];
                float dry = d[c];
                d[c] = x;
                out[base + c] = dry * dw + y * wet;
            }
            if (++v->dry_pos == lat)
                v->dry_pos = 0;
        } else {
            for (uint32_t c = 0; c < ch; c++) {
                float x = in[base + c];
                out[base + c] = x * dw + y * wet;
            }
        }
    }
    v->wet = wet;
    if (switched) {
        v->cur = v->next;
        v->next = VSK_NO_TIER;
        v->warm_left = 0;
        v->xfade_pos = 0;
    }
}

vsk_status vsk_voice_process(vsk_voice *voice, const float *in, float *out,
                             uint32_t frames)
{
    if (!voice)
        return VSK_ERR_INVALID_ARGUMENT;
    if (frames == 0)
        return VSK_OK;
    if (!in || !out)
        return VSK_ERR_INVALID_ARGUMENT;
    VSK_NO_DENORMALS_BEGIN
    take_tier_request(voice);
    const float target = target_wet(voice);
    const size_t ch = voice->channels;
    while (frames > 0) {
        uint32_t n = frames < voice->max_block ? frames : voice->max_block;
        process_chunk(voice, in, out, n, target);
        in += (size_t)n * ch;
        out += (size_t)n * ch;
        frames -= n;
    }
    VSK_NO_DENORMALS_END
    return VSK_OK;
}

/* ------------------------------------------------------------- controls */

vsk_status vsk_voice_set_tier(vsk_voice *voice, uint32_t tier)
{
    if (!voice)
        return VSK_ERR_INVALID_ARGUMENT;
    if (tier >= voice->tier_count)
        return VSK_ERR_NOT_FOUND;
    atomic_store_explicit(&voice->req_tier, tier, memory_order_release);
    return VSK_OK;
}

vsk_status vsk_voice_get_tier(const vsk_voice *voice, uint32_t *out_tier)
{
    if (!voice || !out_tier)
        return VSK_ERR_INVALID_ARGUMENT;
    *out_tier = atomic_load_explicit(&((vsk_voice *)voice)->req_tier,
                                     memory_order_acquire);
    return VSK_OK;
}

vsk_status vsk_voice_set_mix(vsk_voice *voice, float wet)
{
    if (!voice || !(wet >= 0.0f && wet <= 1.0f))
        return VSK_ERR_INVALID_ARGUMENT;
    uint32_t bits;
    memcpy(&bits, &wet, sizeof bits);
    atomic_store_explicit(&voice->mix_bits, bits, memory_order_relaxed);
    return VSK_OK;
}

vsk_status vsk_voice_set_bypass(vsk_voice *voice, int32_t bypass)
{
    if (!voice)
        return VSK_ERR_INVALID_ARGUMENT;
    atomic_store_explicit(&voice->bypass, bypass ? 1 : 0, memory_order_relaxed);
    return VSK_OK;
}

vsk_status vsk_voice_reset(vsk_voice *voice)
{
    if (!voice)
        return VSK_ERR_INVALID_ARGUMENT;
    uint32_t r = atomic_load_explicit(&voice->req_tier, memory_order_acquire);
    if (r >= voice->tier_count)
        r = voice->cur;
    voice->cur = r;
    voice->next = VSK_NO_TIER;
    voice->warm_left = 0;
    voice->xfade_pos = 0;
    pipe_reset(&voice->pipes[r]);
    memset(voice->dry, 0,
           (size_t)voice->latency * voice->channels * sizeof(float));
    voice->dry_pos = 0;
    voice->wet = target_wet(voice);
    return VSK_OK;
}

vsk_status vsk_voice_get_latency(const vsk_voice *voice, uint32_t *out_frames)
{
    if (!voice || !out_frames)
        return VSK_ERR_INVALID_ARGUMENT;
    *out_frames = voice->latency;
    return VSK_OK;
}
