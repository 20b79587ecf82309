/* voice_plan.c — configuration checks, latency and memory plan of a voice
 * (see voice.c for the design and docs/abi.md "Voice: latency, tiers,
 * mix"). Pure arithmetic: no allocation, safe from any thread. */
#include <string.h>

#include "abi.h"
#include "governor.h"
#include "voice_plan.h"

/* End offsets of the fields added since the first published size. */
#define VSK_FIELD_END(T, f) (offsetof(T, f) + sizeof(((T *)0)->f))
static const size_t voice_config_ends[] = {
    VSK_FIELD_END(vsk_voice_config, max_isa),
    VSK_FIELD_END(vsk_voice_config, reserved0),
    VSK_FIELD_END(vsk_voice_config, max_cost_per_second),
    VSK_FIELD_END(vsk_voice_config, allocator),
    VSK_FIELD_END(vsk_voice_config, log),
    VSK_FIELD_END(vsk_voice_config, log_user),
    VSK_FIELD_END(vsk_voice_config, cpu_budget),
    VSK_FIELD_END(vsk_voice_config, reserved1),
    VSK_FIELD_END(vsk_voice_config, clock),
    VSK_FIELD_END(vsk_voice_config, clock_user),
    VSK_FIELD_END(vsk_voice_config, shared_budget),
    VSK_FIELD_END(vsk_voice_config, schedule),
    VSK_FIELD_END(vsk_voice_config, reserved2),
};

vsk_status vsk_voice_config_load(const vsk_bundle *b,
                                 const vsk_voice_config *in,
                                 vsk_voice_config *out)
{
    vsk_status st;
    if (!b || !in)
        return VSK_ERR_INVALID_ARGUMENT;
    if ((st = vsk_config_load(in, in->struct_size, in->abi_version,
                              VSK_VOICE_CONFIG_MIN_SIZE, voice_config_ends,
                              sizeof voice_config_ends / sizeof voice_config_ends[0],
                              out, sizeof *out)) != VSK_OK)
        return st;
    if (out->max_cost_per_second == 0)
        out->max_cost_per_second = VSK_DEFAULT_MAX_COST_PER_SECOND;
    return VSK_OK;
}

static vsk_status check_config(const vsk_bundle *b, const vsk_voice_config *c)
{
    if (c->sample_rate < 8000 || c->sample_rate > 192000)
        return VSK_ERR_UNSUPPORTED_RATE;
    if (c->channels < 1 || c->channels > VSK_VOICE_MAX_CHANNELS)
        return VSK_ERR_INVALID_ARGUMENT;
    if (c->max_block_frames < 1 || c->max_block_frames > VSK_VOICE_MAX_BLOCK)
        return VSK_ERR_INVALID_ARGUMENT;
    if (!(c->mix >= 0.0f && c->mix <= 1.0f))
        return VSK_ERR_INVALID_ARGUMENT;
    if (c->reserved0 != 0 || vsk_allocator_check(&c->allocator) != VSK_OK)
        return VSK_ERR_INVALID_ARGUMENT;
    if (c->reserved1 != 0 || !vsk_gov_budget_ok(c->cpu_budget, VSK_GOV_MAX_VOICE))
        return VSK_ERR_INVALID_ARGUMENT;
    if (c->reserved2 != 0 || c->schedule > VSK_SCHEDULE_EVEN)
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
    /* Every tier is planned (and may be switched to): all must fit. */
    if (!vsk_bundle_cost_ok(b, c->max_cost_per_second))
        return VSK_ERR_TOO_COSTLY;
    return VSK_OK;
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return (a + b - 1) / b;
}

vsk_status vsk_voice_plan(const vsk_bundle *b, const vsk_voice_config *c,
                          size_t header_bytes, vsk_plan *p)
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
    /* Even schedule: one more hop (the largest tier's, in host frames), so
     * a step's work may be spread over the buffers of the next hop. */
    if (c->schedule == VSK_SCHEDULE_EVEN) {
        uint64_t extra = 0;
        for (uint32_t k = 0; k < nt; k++) {
            const vsk_tier *t = &b->tiers[k];
            uint64_t e = ceil_div((uint64_t)t->hop_samples * host,
                                  t->model_sample_rate);
            if (e > extra)
                extra = e;
        }
        latency += extra;
        p->even = 1;
    }
    /* A bundle may declare any lookahead; refuse absurd ones (the dry
     * delay line and padding would be that long). */
    if (latency > (uint64_t)VSK_VOICE_MAX_LATENCY_S * host)
        return VSK_ERR_TOO_LARGE;
    p->latency = (uint32_t)latency;

    size_t off = VSK_A64(header_bytes);
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
        /* Even: up to two more hops may wait unrun (in the queue, and in
         * flight in the graph) and be pushed at once. */
        const uint32_t lag = p->even ? 2 * h : 0;
        p->up_cap[k] = vsk_rs_hist_floats(up, p->pad[k], per_block + h + lag,
                                          h + lag);
        p->queue_cap[k] = p->even ? per_block + 3 * h : 0;
        /* Warm-up: until the new pipeline's output depends on no input
         * from before its reset (FIR part), i.e. latency + both kernels +
         * the graph's frame history. */
        uint64_t span = (uint64_t)up->taps + t->graph.warmup_samples + h;
        p->warm[k] = (uint32_t)(latency + dn->taps +
                                ceil_div(span * host, m) + 2);
        p->off_down_hist[k] = off;
        off += VSK_A64((size_t)p->down_cap[k] * sizeof(float));
        p->off_up_hist[k] = off;
        off += VSK_A64((size_t)p->up_cap[k] * sizeof(float));
        p->off_fifo[k] = off;
        off += VSK_A64((size_t)h * sizeof(float));
        p->off_queue[k] = off;
        off += VSK_A64((size_t)p->queue_cap[k] * sizeof(float));
        p->off_runtime[k] = off;
        off += VSK_A64(vsk_graph_runtime_bytes(&t->graph));
        if (h > max_hop)
            max_hop = h;
    }
    p->off_dry = off;
    off += VSK_A64((size_t)latency * c->channels * sizeof(float));
    p->off_mono = off;
    off += VSK_A64((size_t)maxb * sizeof(float));
    p->off_conv0 = off;
    off += VSK_A64((size_t)maxb * sizeof(float));
    p->off_conv1 = off;
    off += VSK_A64((size_t)maxb * sizeof(float));
    p->off_step = off;
    off += VSK_A64((size_t)max_hop * sizeof(float));
    p->total = off;
    return VSK_OK;
}
