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
#if defined(_WIN32)
#include <malloc.h> /* _aligned_malloc, _aligned_free */
#endif
#include <string.h>

#include "abi.h"
#include "safety.h"
#include "voice.h"
#include "voice_plan.h"

#if defined(__SSE2__) || defined(_M_X64)
#include <xmmintrin.h>
/* Flush-to-zero + denormals-are-zero while processing (restored after):
 * recurrent states decaying on silence must not fall into slow denormal
 * arithmetic on the audio thread. */
#define VSK_NO_DENORMALS_BEGIN                                                \
    const unsigned int vsk_saved_csr_ = _mm_getcsr();                         \
    _mm_setcsr(vsk_saved_csr_ | 0x8040u);
#define VSK_NO_DENORMALS_END _mm_setcsr(vsk_saved_csr_);
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
/* Same on AArch64: FPCR.FZ (bit 24). */
#define VSK_NO_DENORMALS_BEGIN                                                \
    uint64_t vsk_saved_fpcr_;                                                 \
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(vsk_saved_fpcr_));             \
    __asm__ __volatile__("msr fpcr, %0" : : "r"(vsk_saved_fpcr_ | (1ull << 24)));
#define VSK_NO_DENORMALS_END                                                  \
    __asm__ __volatile__("msr fpcr, %0" : : "r"(vsk_saved_fpcr_));
#else
#define VSK_NO_DENORMALS_BEGIN
#define VSK_NO_DENORMALS_END
#endif

#define VSK_PI_F 3.14159265358979323846f

/* ------------------------------------------------------------- lifetime */

void vsk_voice_config_init_size(vsk_voice_config *config, uint32_t struct_size)
{
    vsk_voice_config d;
    const uint32_t n = vsk_config_init(config, &d, sizeof d, struct_size);
    if (!n)
        return;
    d.sample_rate = 48000;
    d.channels = 1;
    d.max_block_frames = 1024;
    d.initial_tier = 0;
    d.mix = 1.0f;
    d.bypass = 0;
    d.max_isa = VSK_ISA_LEVEL_BEST;
    d.max_cost_per_second = VSK_DEFAULT_MAX_COST_PER_SECOND;
    memcpy(config, &d, n);
}

void(vsk_voice_config_init)(vsk_voice_config *config)
{
    vsk_voice_config_init_size(config, (uint32_t)VSK_VOICE_CONFIG_MIN_SIZE);
}

vsk_status vsk_voice_get_size(const vsk_bundle *bundle,
                              const vsk_voice_config *config, size_t *out_bytes)
{
    vsk_plan plan;
    vsk_voice_config cfg;
    if (!out_bytes)
        return VSK_ERR_INVALID_ARGUMENT;
    vsk_status st = vsk_voice_config_load(bundle, config, &cfg);
    if (st == VSK_OK)
        st = vsk_voice_plan(bundle, &cfg, sizeof(struct vsk_voice), &plan);
    if (st != VSK_OK)
        return st;
    *out_bytes = plan.total;
    return VSK_OK;
}

/* The even schedule's state back to time 0: nothing queued, no step in
 * flight, and the work owed one step behind the input (the extra hop of
 * latency is what lets each step finish up to one hop after its input). */
static void pipe_even_reset(vsk_pipe *p)
{
    p->queue_head = p->queue_len = 0;
    p->in_step = 0;
    p->node = 0;
    p->credit = -p->cost_per_sample * (double)p->hop;
}

static void pipe_reset(vsk_pipe *p)
{
    vsk_rs_reset(&p->down);
    vsk_rs_reset(&p->up);
    p->fill = 0;
    memset(p->fifo, 0, (size_t)p->hop * sizeof(float));
    vsk_graph_runtime_reset(p->graph, p->runtime);
    pipe_even_reset(p);
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

/* The audible tier and the incoming one, for vsk_voice_get_tier_state. */
static void publish_tiers(vsk_voice *v)
{
    uint32_t in = v->next == VSK_NO_TIER ? 0u : v->next + 1u;
    atomic_store_explicit(&v->tier_state, (v->cur & 0xFFFFu) | (in << 16),
                          memory_order_release);
}

/* Says why a control call failed, through the config's log callback. */
static vsk_status voice_fail(const vsk_bundle *b, const vsk_voice_config *c,
                             const char *who, vsk_status st)
{
    if (st == VSK_ERR_TOO_COSTLY)
        return vsk_bundle_check_cost(b, c->max_cost_per_second, c->log,
                                     c->log_user, who);
    vsk_logf(c->log, c->log_user, VSK_LOG_ERROR, "%s: %s (%s)", who,
             vsk_status_string(st), vsk_status_name(st));
    return st;
}

vsk_status vsk_voice_init(void *memory, size_t bytes, vsk_bundle *bundle,
                          const vsk_voice_config *config, vsk_voice **out_voice)
{
    vsk_plan plan_storage;
    vsk_plan *plan = &plan_storage;
    vsk_voice_config cfg_storage;
    const vsk_voice_config *cfg = &cfg_storage;
    vsk_status st = vsk_voice_config_load(bundle, config, &cfg_storage);
    if (st != VSK_OK)
        return st;
    /* From here on `config` is read through the loaded copy only. */
    config = cfg;
    if (!memory || !out_voice || ((uintptr_t)memory & 63u) != 0)
        return voice_fail(bundle, cfg, "vsk_voice_init",
                          VSK_ERR_INVALID_ARGUMENT);
    st = vsk_voice_plan(bundle, cfg, sizeof(struct vsk_voice), plan);
    if (st != VSK_OK)
        return voice_fail(bundle, cfg, "vsk_voice_init", st);
    if (bytes < plan->total)
        return voice_fail(bundle, cfg, "vsk_voice_init",
                          VSK_ERR_BUFFER_TOO_SMALL);

    uint8_t *base = (uint8_t *)memory;
    vsk_voice *v = (vsk_voice *)memory;
    memset(v, 0, sizeof *v);
    v->bundle = bundle;
    v->rate = config->sample_rate;
    v->channels = config->channels;
    v->max_block = config->max_block_frames;
    v->tier_count = bundle->tier_count;
    v->allocator = config->allocator;
    /* CPU features: detected here, once, never on the audio thread. */
    v->isa = vsk_isa_select(config->max_isa);
    v->latency = plan->latency;
    v->even = plan->even;
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
                    plan->down_cap[k], 0, v->isa);
        vsk_rs_init(&p->up, &rt->up, rt->up_table,
                    (float *)(void *)(base + plan->off_up_hist[k]),
                    plan->up_cap[k], plan->pad[k], v->isa);
        vsk_graph_runtime_init(p->graph, p->runtime, v->isa);
        p->fill = 0;
        memset(p->fifo, 0, (size_t)p->hop * sizeof(float));
        p->queue = (float *)(void *)(base + plan->off_queue[k]);
        p->queue_cap = plan->queue_cap[k];
        p->cost_per_sample = (double)p->graph->cost_per_step / (double)p->hop;
        pipe_even_reset(p);
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
    atomic_init(&v->tier_state, 0u);
    publish_tiers(v);
    v->wet = target_wet(v);
    vsk_gov_init(&v->gov, bundle, v->rate, config->clock, config->clock_user,
                 config->shared_budget, config->cpu_budget);
    vsk_bundle_retain(bundle);
    *out_voice = v;
    return VSK_OK;
}

vsk_status vsk_voice_create(vsk_bundle *bundle, const vsk_voice_config *config,
                            vsk_voice **out_voice)
{
    vsk_plan plan;
    vsk_voice_config cfg;
    vsk_status st = vsk_voice_config_load(bundle, config, &cfg);
    if (st != VSK_OK)
        return st;
    if (!out_voice)
        return voice_fail(bundle, &cfg, "vsk_voice_create",
                          VSK_ERR_INVALID_ARGUMENT);
    if ((st = vsk_voice_plan(bundle, &cfg, sizeof(struct vsk_voice),
                             &plan)) != VSK_OK)
        return voice_fail(bundle, &cfg, "vsk_voice_create", st);
    /* 64-byte aligned block (the C heap, or the config's allocator). */
    const size_t bytes = VSK_A64(plan.total);
    void *mem = vsk_mem_alloc(&cfg.allocator, bytes, 64);
    if (!mem)
        return voice_fail(bundle, &cfg, "vsk_voice_create", VSK_ERR_NO_MEMORY);
    if (((uintptr_t)mem & 63u) != 0) {
        vsk_mem_free(&cfg.allocator, mem, bytes);
        return voice_fail(bundle, &cfg, "vsk_voice_create (allocator "
                          "returned memory not 64-byte aligned)",
                          VSK_ERR_INVALID_ARGUMENT);
    }
    vsk_voice *v;
    st = vsk_voice_init(mem, bytes, bundle, &cfg, &v);
    if (st != VSK_OK) {
        vsk_mem_free(&cfg.allocator, mem, bytes);
        return st;
    }
    v->owned = mem;
    v->owned_bytes = bytes;
    *out_voice = v;
    return VSK_OK;
}

void vsk_voice_destroy(vsk_voice *voice)
{
    if (!voice)
        return;
    void *owned = voice->owned;
    const size_t bytes = voice->owned_bytes;
    const vsk_allocator allocator = voice->allocator;
    vsk_gov_leave(&voice->gov);
    vsk_bundle_release(voice->bundle);
    voice->bundle = NULL;
    vsk_mem_free(&allocator, owned, bytes);
}

/* ------------------------------------------------------------ processing */

/* A finished step's output (in v->step_out) into the upsampler.
 * Non-finite output: the graph overflowed; re-initialise its state so
 * nothing sticks (safety.h, stage 2). */
static void pipe_step_done(vsk_voice *v, vsk_pipe *p)
{
    if (vsk_safe_step(v->step_out, p->hop))
        vsk_graph_runtime_reset(p->graph, p->runtime);
    vsk_rs_push(&p->up, v->step_out, p->hop);
}

/* Writes the n converted host frames the upsampler has; the latency plan
 * guarantees it has them all: keep the output defined anyway. */
static void pipe_fill_rest(float *conv, uint32_t made, uint32_t n)
{
    for (uint32_t i = made; i < n; i++)
        conv[i] = 0.0f;
}

/* Even schedule, one piece of work: begin the next step (its input is
 * complete in the queue), or run the next node of the step in flight (and
 * end the step after its last node). Returns 0 when there is nothing to
 * run. The pieces of a step are charged their planned costs (graph.c):
 * begin + end 2*hop + VSK_COST_STEP, each node its `cost`. */
static int pipe_even_piece(vsk_voice *v, vsk_pipe *p)
{
    const vsk_graph *g = p->graph;
    if (!p->in_step) {
        if (p->queue_len - p->queue_head < p->hop)
            return 0;
        vsk_graph_step_begin(g, p->runtime, p->queue + p->queue_head);
        p->queue_head += p->hop;
        p->in_step = 1;
        p->node = 0;
        const double c = 2.0 * p->hop + VSK_COST_STEP;
        p->credit -= c;
        p->work += c;
        return 1;
    }
    vsk_graph_run_node(g, p->runtime, p->node);
    p->credit -= (double)g->nodes[p->node].cost;
    p->work += (double)g->nodes[p->node].cost;
    if (++p->node == g->node_count) {
        vsk_graph_step_end(g, p->runtime, v->step_out);
        p->in_step = 0;
        pipe_step_done(v, p);
    }
    return 1;
}

/* Runs pieces until a step ends (the one in flight, else the next queued
 * one). Returns 0 when none could end. */
static int pipe_even_finish_step(vsk_voice *v, vsk_pipe *p)
{
    do {
        if (!pipe_even_piece(v, p))
            return 0;
    } while (p->in_step);
    return 1;
}

/* The even schedule (VSK_SCHEDULE_EVEN; docs/abi.md "Even schedule").
 * Each model sample that arrives adds cost_per_step / hop to the work owed
 * (the credit, which starts one step behind); pieces run while work is
 * owed and input is complete, so each buffer runs work in proportion to
 * its length, whatever the step boundaries. The extra hop of latency makes
 * that enough: the output of buffer ending at model sample M needs the
 * steps complete at M - hop, exactly what the credit has paid for. Should
 * the upsampler still lack samples, whole steps run until it has them
 * (the deadline): the output is the default schedule's, only later. */
static void pipe_run_even(vsk_voice *v, vsk_pipe *p, const float *mono,
                          uint32_t n, float *conv)
{
    vsk_rs_push(&p->down, mono, n);
    for (;;) {
        if (p->queue_head > 0) {
            memmove(p->queue, p->queue + p->queue_head,
                    (size_t)(p->queue_len - p->queue_head) * sizeof(float));
            p->queue_len -= p->queue_head;
            p->queue_head = 0;
        }
        const uint32_t space = p->queue_cap - p->queue_len;
        const uint32_t got = vsk_rs_pull(&p->down, p->queue + p->queue_len,
                                         space);
        p->queue_len += got;
        p->credit += (double)got * p->cost_per_sample;
        /* A full queue (the plan's capacity rules it out): make room. */
        if (got < space || !pipe_even_finish_step(v, p))
            break;
    }
    while (p->credit > 0.0 && pipe_even_piece(v, p))
        ;
    uint32_t made = vsk_rs_pull(&p->up, conv, n);
    while (made < n && pipe_even_finish_step(v, p))
        made += vsk_rs_pull(&p->up, conv + made, n - made);
    pipe_fill_rest(conv, made, n);
}

/* Feeds n host frames of mono into a tier's pipeline and writes the n
 * converted host frames it has for them. */
static void pipe_run(vsk_voice *v, vsk_pipe *p, const float *mono, uint32_t n,
                     float *conv)
{
    if (v->even) {
        pipe_run_even(v, p, mono, n, conv);
        return;
    }
    vsk_rs_push(&p->down, mono, n);
    for (;;) {
        uint32_t want = p->hop - p->fill;
        p->fill += vsk_rs_pull(&p->down, p->fifo + p->fill, want);
        if (p->fill < p->hop)
            break;
        vsk_graph_step(p->graph, p->runtime, p->fifo, v->step_out);
        pipe_step_done(v, p);
        p->fill = 0;
    }
    pipe_fill_rest(conv, vsk_rs_pull(&p->up, conv, n), n);
}

static void start_switch(vsk_voice *v, uint32_t tier)
{
    pipe_reset(&v->pipes[tier]);
    v->next = tier;
    v->warm_left = v->pipes[tier].warm_frames;
    v->xfade_pos = 0;
}

/* The tier the voice heads for: the request, capped by the governor. */
static uint32_t target_tier(const vsk_voice *v)
{
    uint32_t r = atomic_load_explicit(&((vsk_voice *)v)->req_tier,
                                      memory_order_acquire);
    return r < v->gov.cap ? r : v->gov.cap;
}

static void take_tier_request(vsk_voice *v)
{
    const uint32_t r = target_tier(v);
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

/* dry·(1 − wet) + y·wet, except that at the ends only one term is used:
 * fully wet never reads the dry sample and fully dry never reads the
 * converted one, so a NaN/Inf on the muted path cannot leak (0·NaN = NaN). */
static inline float mix_sample(float dry, float y, float wet, float dw)
{
    if (wet >= 1.0f)
        return y;
    if (wet <= 0.0f)
        return dry;
    return dry * dw + y * wet;
}

/* The usual case, mono with no tier switch and no mix ramp in progress:
 * the same samples as the general loop below (mix_sample, the dry delay
 * line, vsk_safe_out), in spans of the delay ring with no per-sample
 * branch on the voice's state (wet is fixed: the compiler unswitches
 * mix_sample's ends out of the loop and vectorises it). The dry
 * sample is mono[f] (= vsk_safe_in(in[f]) for one channel), already read,
 * so `in == out` is fine. */
static void steady_mono_out(vsk_voice *v, float *out, uint32_t n, float wet)
{
    const uint32_t lat = v->latency;
    const float dw = 1.0f - wet;
    for (uint32_t f = 0; f < n;) {
        uint32_t span = lat - v->dry_pos;
        if (span > n - f)
            span = n - f;
        float *restrict o = out + f;
        const float *restrict y = v->conv0 + f;
        const float *restrict d = v->dry + v->dry_pos;
        for (size_t i = 0; i < span; i++)
            o[i] = vsk_safe_out(mix_sample(d[i], y[i], wet, dw));
        memcpy(v->dry + v->dry_pos, v->mono + f, (size_t)span * sizeof(float));
        f += span;
        v->dry_pos += span;
        if (v->dry_pos == lat)
            v->dry_pos = 0;
    }
}

static void process_chunk(vsk_voice *v, const float *in, float *out,
                          uint32_t n, float target)
{
    const uint32_t ch = v->channels;
    const float inv = 1.0f / (float)ch;
    float *mono = v->mono;
    /* Hostile input (NaN, Inf, huge, subnormal) is sanitised here, on the
     * model path and below on the dry path (safety.h, stage 1). */
    if (ch == 1) {
        for (uint32_t f = 0; f < n; f++)
            mono[f] = vsk_safe_in(in[f]);
    } else {
        for (uint32_t f = 0; f < n; f++) {
            float s = 0.0f;
            for (uint32_t c = 0; c < ch; c++)
                s += vsk_safe_in(in[(size_t)f * ch + c]);
            mono[f] = s * inv;
        }
    }
    pipe_run(v, &v->pipes[v->cur], mono, n, v->conv0);
    int switching = v->next != VSK_NO_TIER;
    if (switching)
        pipe_run(v, &v->pipes[v->next], mono, n, v->conv1);

    const uint32_t lat = v->latency;
    float wet = v->wet;
    if (!switching && ch == 1 && wet == target && lat > 0) {
        steady_mono_out(v, out, n, wet);
        return;
    }
    int switched = 0;
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
                float x = vsk_safe_in(in[base + c]);
                float dry = d[c];
                d[c] = x;
                out[base + c] = vsk_safe_out(mix_sample(dry, y, wet, dw));
            }
            if (++v->dry_pos == lat)
                v->dry_pos = 0;
        } else {
            for (uint32_t c = 0; c < ch; c++) {
                float x = vsk_safe_in(in[base + c]);
                out[base + c] = vsk_safe_out(mix_sample(x, y, wet, dw));
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
    const uint64_t t0 = vsk_gov_begin(&voice->gov);
    const uint32_t total = frames;
    take_tier_request(voice);
    int switching = voice->next != VSK_NO_TIER;
    const float target = target_wet(voice);
    const size_t ch = voice->channels;
    while (frames > 0) {
        uint32_t n = frames < voice->max_block ? frames : voice->max_block;
        process_chunk(voice, in, out, n, target);
        in += (size_t)n * ch;
        out += (size_t)n * ch;
        frames -= n;
    }
    switching |= voice->next != VSK_NO_TIER;
    vsk_gov_end(&voice->gov, t0, total, voice->cur,
                atomic_load_explicit(&voice->req_tier, memory_order_relaxed),
                switching);
    publish_tiers(voice);
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

vsk_status vsk_voice_get_tier_state(const vsk_voice *voice,
                                    vsk_tier_state *state)
{
    vsk_tier_state full;
    vsk_status st;
    if (!voice || !state)
        return VSK_ERR_INVALID_ARGUMENT;
    if ((st = vsk_struct_size_check(state->struct_size, VSK_TIER_STATE_MIN_SIZE,
                                    sizeof full)) != VSK_OK)
        return st;
    vsk_voice *v = (vsk_voice *)voice;
    uint32_t s = atomic_load_explicit(&v->tier_state, memory_order_acquire);
    memset(&full, 0, sizeof full);
    full.requested = atomic_load_explicit(&v->req_tier, memory_order_acquire);
    full.audible = s & 0xFFFFu;
    full.incoming = (s >> 16) ? (s >> 16) - 1u : VSK_NO_TIER;
    full.switching = (s >> 16) != 0;
    full.governed_tier = atomic_load_explicit(&v->gov.st_cap, memory_order_relaxed);
    uint32_t load = atomic_load_explicit(&v->gov.st_load_bits, memory_order_relaxed);
    memcpy(&full.cpu_load, &load, sizeof load);
    full.governor_steps = atomic_load_explicit(&v->gov.st_steps, memory_order_relaxed);
    vsk_struct_store(state, &full, state->struct_size);
    return VSK_OK;
}

vsk_status vsk_voice_get_isa(const vsk_voice *voice, uint32_t *out_level)
{
    if (!voice || !out_level)
        return VSK_ERR_INVALID_ARGUMENT;
    *out_level = vsk_isa_level(voice->isa);
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

vsk_status vsk_voice_set_cpu_budget(vsk_voice *voice, float fraction)
{
    if (!voice || !vsk_gov_budget_ok(fraction, VSK_GOV_MAX_VOICE))
        return VSK_ERR_INVALID_ARGUMENT;
    uint32_t bits;
    memcpy(&bits, &fraction, sizeof bits);
    atomic_store_explicit(&voice->gov.budget_bits, bits, memory_order_relaxed);
    return VSK_OK;
}

vsk_status vsk_voice_get_cpu_budget(const vsk_voice *voice, float *out_fraction)
{
    if (!voice || !out_fraction)
        return VSK_ERR_INVALID_ARGUMENT;
    uint32_t bits = atomic_load_explicit(&((vsk_voice *)voice)->gov.budget_bits,
                                         memory_order_relaxed);
    memcpy(out_fraction, &bits, sizeof bits);
    return VSK_OK;
}

vsk_status vsk_voice_set_bypass(vsk_voice *voice, uint32_t bypass)
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
    uint32_t r = target_tier(voice);
    if (r >= voice->tier_count)
        r = voice->cur;
    vsk_gov_reset(&voice->gov);
    voice->cur = r;
    voice->next = VSK_NO_TIER;
    voice->warm_left = 0;
    voice->xfade_pos = 0;
    pipe_reset(&voice->pipes[r]);
    memset(voice->dry, 0,
           (size_t)voice->latency * voice->channels * sizeof(float));
    voice->dry_pos = 0;
    voice->wet = target_wet(voice);
    publish_tiers(voice);
    return VSK_OK;
}

vsk_status vsk_voice_get_latency(const vsk_voice *voice, uint32_t *out_frames)
{
    if (!voice || !out_frames)
        return VSK_ERR_INVALID_ARGUMENT;
    *out_frames = voice->latency;
    return VSK_OK;
}
