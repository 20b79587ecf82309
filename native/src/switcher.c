/* switcher.c — the voice switcher (voiceskin.h, "voice switcher";
 * docs/abi.md, "Voice switcher"): the one implementation of voice
 * switching every engine adapter runs.
 *
 * Hand-off between the feeder (publish/collect) and the audio thread, all
 * through slot indexes into a fixed pool planned at create:
 *
 *   feeder                                  audio thread
 *   fills a free slot, then
 *   pending <- slot  (exchange, acq_rel) -> take: exchange(pending, -1) at a
 *                                           buffer start, when no crossfade
 *                                           runs and retired[] is empty
 *   drains retired[k] (exchange, acq_rel) <- retired[k] <- slot (release)
 *   and hands the voice back once no            once the slot is never used
 *   other lent slot holds it                    again
 *
 * A slot is written by the feeder only while it is free (feeder-side
 * bookkeeping) and read by the audio thread only between take and retire,
 * so the acquire/release pairs on `pending` and `retired` order every
 * access. At most pending (1) + heard and incoming (2) + retired (4) slots
 * are lent, so the feeder always finds a free one of SW_SLOTS. */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "abi.h"
#include "voice.h"

#define SW_SLOTS 8
#define SW_RETIRE 4
#define SW_UNSET 0xFFFFFFFFu
#define SW_PI 3.14159265358979323846

typedef struct sw_slot {
    vsk_voice *voice;   /* NULL: no voice (input passes through) */
    uint64_t tag;
    uint32_t channels;  /* 0 for no voice: fits any buffer */
    uint32_t latency;   /* heard latency: the voice's + pad */
    uint32_t pad;       /* alignment delay frames */
} sw_slot;

struct vsk_switcher {
    vsk_allocator allocator;
    size_t bytes;
    uint32_t rate, max_ch, max_block, warmup_extra, align, fade_len;
    float *fade;        /* fade_len gains sin(pi/2 (i + 0.5) / fade_len) */
    float *scratch;     /* max_block * max_ch */
    float *delay[2];    /* align * max_ch each (alignment delay lines) */
    sw_slot slots[SW_SLOTS];
    /* hand-off */
    atomic_int pending;
    atomic_int retired[SW_RETIRE];
    /* [any-rt] parameters (SW_UNSET: leave the voices alone) */
    atomic_uint tier, mix_bits, bypass, budget_bits;
    /* [any-rt] state published by the audio thread */
    atomic_uint st_switching, st_latency, st_errors, st_channels;
    /* the heard voice's vsk_tier_state (st_heard_ok: 0 = no voice) */
    atomic_uint st_heard_ok, st_ts_requested, st_ts_audible, st_ts_incoming,
        st_ts_switching, st_ts_governed, st_ts_load_bits, st_ts_steps;
    _Atomic uint64_t st_tag, st_heard_tag;
    /* feeder only */
    uint8_t used[SW_SLOTS];
    vsk_voice *back[SW_SLOTS];
    uint64_t back_tag[SW_SLOTS];
    uint32_t nback;
    /* audio only */
    int out, in;        /* heard and incoming slot, -1 = none */
    int line_out;       /* delay line of the heard slot (incoming: 1 - it) */
    uint32_t pos[2];
    int started, switching;
    uint32_t warm_left, fade_pos, errors;
};

void vsk_switcher_config_init_size(vsk_switcher_config *config,
                                   uint32_t struct_size)
{
    vsk_switcher_config d;
    if (!config)
        return;
    memset(&d, 0, sizeof d);
    if (struct_size > sizeof d)
        struct_size = (uint32_t)sizeof d;
    d.struct_size = struct_size;
    d.abi_version = VSK_ABI_VERSION;
    d.sample_rate = 48000;
    d.max_channels = 8;
    d.max_block_frames = 1024;
    d.warmup_ms = VSK_SWITCH_WARMUP_MS;
    memcpy(config, &d, struct_size);
}

vsk_status vsk_switcher_create(const vsk_switcher_config *config,
                               vsk_switcher **out_switcher)
{
    vsk_switcher_config c;
    vsk_status st;
    if (!config || !out_switcher)
        return VSK_ERR_INVALID_ARGUMENT;
    if ((st = vsk_struct_size_check(config->struct_size, sizeof c, sizeof c)) !=
        VSK_OK)
        return st;
    if (config->abi_version != VSK_ABI_VERSION)
        return VSK_ERR_ABI_MISMATCH;
    memcpy(&c, config, sizeof c);
    if (c.sample_rate < 8000 || c.sample_rate > 192000)
        return VSK_ERR_UNSUPPORTED_RATE;
    if (c.max_channels < 1 || c.max_channels > VSK_VOICE_MAX_CHANNELS ||
        c.max_block_frames < 1 || c.max_block_frames > VSK_VOICE_MAX_BLOCK ||
        c.warmup_ms > 4000 || c.reserved0 != 0 ||
        c.align_latency_frames > VSK_VOICE_MAX_LATENCY_S * c.sample_rate ||
        vsk_allocator_check(&c.allocator) != VSK_OK)
        return VSK_ERR_INVALID_ARGUMENT;

    uint32_t fade_len = (uint32_t)lround(VSK_SWITCH_FADE_MS * 1e-3 * c.sample_rate);
    if (fade_len < 1)
        fade_len = 1;
    const size_t off_fade = VSK_A64(sizeof(vsk_switcher));
    const size_t off_scratch = off_fade + VSK_A64(sizeof(float) * fade_len);
    const size_t line = VSK_A64(sizeof(float) * (size_t)c.align_latency_frames *
                                c.max_channels);
    const size_t off_delay = off_scratch +
        VSK_A64(sizeof(float) * (size_t)c.max_block_frames * c.max_channels);
    const size_t total = off_delay + 2 * line;

    uint8_t *mem = (uint8_t *)vsk_mem_alloc(&c.allocator, total, 64);
    if (!mem)
        return VSK_ERR_NO_MEMORY;
    memset(mem, 0, total);
    vsk_switcher *sw = (vsk_switcher *)mem;
    sw->allocator = c.allocator;
    sw->bytes = total;
    sw->rate = c.sample_rate;
    sw->max_ch = c.max_channels;
    sw->max_block = c.max_block_frames;
    sw->warmup_extra = (uint32_t)lround(c.warmup_ms * 1e-3 * c.sample_rate);
    sw->align = c.align_latency_frames;
    sw->fade_len = fade_len;
    sw->fade = (float *)(mem + off_fade);
    sw->scratch = (float *)(mem + off_scratch);
    sw->delay[0] = (float *)(mem + off_delay);
    sw->delay[1] = (float *)(mem + off_delay + line);
    for (uint32_t i = 0; i < fade_len; i++)
        sw->fade[i] = (float)sin(0.5 * SW_PI * ((double)i + 0.5) / (double)fade_len);
    atomic_init(&sw->pending, -1);
    for (int k = 0; k < SW_RETIRE; k++)
        atomic_init(&sw->retired[k], -1);
    atomic_init(&sw->tier, SW_UNSET);
    atomic_init(&sw->mix_bits, SW_UNSET);
    atomic_init(&sw->budget_bits, SW_UNSET);
    atomic_init(&sw->bypass, SW_UNSET);
    atomic_init(&sw->st_switching, 0);
    atomic_init(&sw->st_latency, sw->align);
    atomic_init(&sw->st_errors, 0);
    atomic_init(&sw->st_channels, 0);
    atomic_init(&sw->st_tag, 0);
    atomic_init(&sw->st_heard_tag, 0);
    atomic_init(&sw->st_heard_ok, 0u);
    atomic_init(&sw->st_ts_requested, 0u);
    atomic_init(&sw->st_ts_audible, 0u);
    atomic_init(&sw->st_ts_incoming, VSK_NO_TIER);
    atomic_init(&sw->st_ts_switching, 0u);
    atomic_init(&sw->st_ts_governed, 0u);
    atomic_init(&sw->st_ts_load_bits, 0u);
    atomic_init(&sw->st_ts_steps, 0u);
    sw->out = sw->in = -1;
    *out_switcher = sw;
    return VSK_OK;
}

void vsk_switcher_destroy(vsk_switcher *switcher)
{
    if (!switcher)
        return;
    const vsk_allocator a = switcher->allocator;
    vsk_mem_free(&a, switcher, switcher->bytes);
}

/* ------------------------------------------------------------------ feeder */

/* Slot `i` is free again: its voice goes on the hand-back list unless
 * another lent slot still holds it (or it is listed already). */
static void sw_give_back(vsk_switcher *sw, int i)
{
    vsk_voice *v = sw->slots[i].voice;
    if (!v)
        return;
    for (int j = 0; j < SW_SLOTS; j++)
        if (sw->used[j] && sw->slots[j].voice == v)
            return;
    for (uint32_t k = 0; k < sw->nback; k++)
        if (sw->back[k] == v)
            return;
    sw->back[sw->nback] = v;
    sw->back_tag[sw->nback] = sw->slots[i].tag;
    sw->nback++;
}

/* Takes what the audio thread retired. */
static void sw_drain(vsk_switcher *sw)
{
    int got[SW_RETIRE], n = 0;
    for (int k = 0; k < SW_RETIRE; k++) {
        int i = atomic_exchange_explicit(&sw->retired[k], -1, memory_order_acq_rel);
        if (i >= 0) {
            sw->used[i] = 0;
            got[n++] = i;
        }
    }
    for (int k = 0; k < n; k++)
        sw_give_back(sw, got[k]);
}

vsk_status vsk_switcher_publish(vsk_switcher *sw, vsk_voice *voice,
                                uint64_t tag)
{
    if (!sw)
        return VSK_ERR_INVALID_ARGUMENT;
    if (voice && (voice->channels > sw->max_ch ||
                  (sw->align && voice->latency > sw->align)))
        return VSK_ERR_INVALID_ARGUMENT;
    sw_drain(sw);
    int f = -1;
    for (int i = 0; i < SW_SLOTS && f < 0; i++)
        if (!sw->used[i])
            f = i;
    if (f < 0)
        return VSK_ERR_BAD_STATE; /* cannot happen: see the header comment */
    for (uint32_t k = 0; k < sw->nback; k++)
        if (sw->back[k] == voice) { /* lent again before it was collected */
            sw->nback--;
            sw->back[k] = sw->back[sw->nback];
            sw->back_tag[k] = sw->back_tag[sw->nback];
            break;
        }
    sw_slot *s = &sw->slots[f];
    s->voice = voice;
    s->tag = tag;
    s->channels = voice ? voice->channels : 0;
    s->pad = sw->align ? sw->align - (voice ? voice->latency : 0) : 0;
    s->latency = (voice ? voice->latency : 0) + s->pad;
    sw->used[f] = 1;
    int old = atomic_exchange_explicit(&sw->pending, f, memory_order_acq_rel);
    if (old >= 0) { /* never taken: free now */
        sw->used[old] = 0;
        sw_give_back(sw, old);
    }
    return VSK_OK;
}

vsk_status vsk_switcher_collect(vsk_switcher *sw, vsk_voice **out_voice,
                                uint64_t *out_tag)
{
    if (!sw || !out_voice)
        return VSK_ERR_INVALID_ARGUMENT;
    sw_drain(sw);
    if (sw->nback == 0)
        return VSK_ERR_NOT_FOUND;
    sw->nback--;
    *out_voice = sw->back[sw->nback];
    if (out_tag)
        *out_tag = sw->back_tag[sw->nback];
    return VSK_OK;
}

static void sw_publish_state(vsk_switcher *sw);

vsk_status vsk_switcher_retire_all(vsk_switcher *sw)
{
    if (!sw)
        return VSK_ERR_INVALID_ARGUMENT;
    int got[3], n = 0;
    int p = atomic_exchange_explicit(&sw->pending, -1, memory_order_acq_rel);
    if (p >= 0)
        got[n++] = p;
    if (sw->out >= 0)
        got[n++] = sw->out;
    if (sw->in >= 0)
        got[n++] = sw->in;
    sw_drain(sw);
    for (int k = 0; k < n; k++)
        sw->used[got[k]] = 0;
    for (int k = 0; k < n; k++)
        sw_give_back(sw, got[k]);
    sw->out = sw->in = -1;
    sw->started = sw->switching = 0;
    sw->warm_left = sw->fade_pos = 0;
    sw_publish_state(sw);
    return VSK_OK;
}

/* -------------------------------------------------------------- parameters */

vsk_status vsk_switcher_set_tier(vsk_switcher *sw, uint32_t tier)
{
    if (!sw || tier == SW_UNSET)
        return VSK_ERR_INVALID_ARGUMENT;
    atomic_store_explicit(&sw->tier, tier, memory_order_relaxed);
    return VSK_OK;
}

vsk_status vsk_switcher_set_mix(vsk_switcher *sw, float wet)
{
    uint32_t bits;
    if (!sw || !(wet >= 0.0f && wet <= 1.0f))
        return VSK_ERR_INVALID_ARGUMENT;
    memcpy(&bits, &wet, sizeof bits);
    atomic_store_explicit(&sw->mix_bits, bits, memory_order_relaxed);
    return VSK_OK;
}

vsk_status vsk_switcher_set_cpu_budget(vsk_switcher *sw, float fraction)
{
    uint32_t bits;
    if (!sw || !vsk_gov_budget_ok(fraction, VSK_GOV_MAX_VOICE))
        return VSK_ERR_INVALID_ARGUMENT;
    memcpy(&bits, &fraction, sizeof bits);
    atomic_store_explicit(&sw->budget_bits, bits, memory_order_relaxed);
    return VSK_OK;
}

vsk_status vsk_switcher_set_bypass(vsk_switcher *sw, uint32_t bypass)
{
    if (!sw)
        return VSK_ERR_INVALID_ARGUMENT;
    atomic_store_explicit(&sw->bypass, bypass ? 1u : 0u, memory_order_relaxed);
    return VSK_OK;
}

vsk_status vsk_switcher_get_state(const vsk_switcher *switcher,
                                  vsk_switcher_state *state)
{
    vsk_switcher *sw = (vsk_switcher *)switcher;
    vsk_switcher_state s;
    vsk_status st;
    if (!sw || !state)
        return VSK_ERR_INVALID_ARGUMENT;
    if ((st = vsk_struct_size_check(state->struct_size, sizeof s, sizeof s)) !=
        VSK_OK)
        return st;
    memset(&s, 0, sizeof s);
    s.switching = atomic_load_explicit(&sw->st_switching, memory_order_relaxed);
    s.tag = atomic_load_explicit(&sw->st_tag, memory_order_relaxed);
    s.heard_tag = atomic_load_explicit(&sw->st_heard_tag, memory_order_relaxed);
    s.latency_frames = atomic_load_explicit(&sw->st_latency, memory_order_relaxed);
    s.errors = atomic_load_explicit(&sw->st_errors, memory_order_relaxed);
    s.channels = atomic_load_explicit(&sw->st_channels, memory_order_relaxed);
    vsk_struct_store(state, &s, state->struct_size);
    return VSK_OK;
}

/* ------------------------------------------------------------------- audio */

static void sw_publish_state(vsk_switcher *sw)
{
    const int newest = sw->in >= 0 ? sw->in : sw->out;
    const sw_slot *n = newest >= 0 ? &sw->slots[newest] : NULL;
    atomic_store_explicit(&sw->st_switching, (unsigned)sw->switching, memory_order_relaxed);
    atomic_store_explicit(&sw->st_tag, n ? n->tag : 0, memory_order_relaxed);
    atomic_store_explicit(&sw->st_heard_tag, sw->out >= 0 ? sw->slots[sw->out].tag : 0,
                          memory_order_relaxed);
    atomic_store_explicit(&sw->st_latency, n ? n->latency : sw->align, memory_order_relaxed);
    atomic_store_explicit(&sw->st_channels, n ? n->channels : 0, memory_order_relaxed);
    atomic_store_explicit(&sw->st_errors, sw->errors, memory_order_relaxed);
    vsk_tier_state ts = {.struct_size = sizeof ts};
    const vsk_voice *heard = sw->out >= 0 ? sw->slots[sw->out].voice : NULL;
    const int ok = heard && vsk_voice_get_tier_state(heard, &ts) == VSK_OK;
    if (ok) {
        uint32_t load;
        memcpy(&load, &ts.cpu_load, sizeof load);
        atomic_store_explicit(&sw->st_ts_requested, ts.requested, memory_order_relaxed);
        atomic_store_explicit(&sw->st_ts_audible, ts.audible, memory_order_relaxed);
        atomic_store_explicit(&sw->st_ts_incoming, ts.incoming, memory_order_relaxed);
        atomic_store_explicit(&sw->st_ts_switching, ts.switching, memory_order_relaxed);
        atomic_store_explicit(&sw->st_ts_governed, ts.governed_tier, memory_order_relaxed);
        atomic_store_explicit(&sw->st_ts_load_bits, load, memory_order_relaxed);
        atomic_store_explicit(&sw->st_ts_steps, ts.governor_steps, memory_order_relaxed);
    }
    atomic_store_explicit(&sw->st_heard_ok, ok ? 1u : 0u, memory_order_relaxed);
}

vsk_status vsk_switcher_get_tier_state(const vsk_switcher *switcher,
                                       vsk_tier_state *state)
{
    vsk_switcher *sw = (vsk_switcher *)switcher;
    vsk_tier_state s;
    vsk_status st;
    if (!sw || !state)
        return VSK_ERR_INVALID_ARGUMENT;
    if ((st = vsk_struct_size_check(state->struct_size, VSK_TIER_STATE_MIN_SIZE,
                                    sizeof s)) != VSK_OK)
        return st;
    if (!atomic_load_explicit(&sw->st_heard_ok, memory_order_relaxed))
        return VSK_ERR_NOT_FOUND;
    memset(&s, 0, sizeof s);
    s.requested = atomic_load_explicit(&sw->st_ts_requested, memory_order_relaxed);
    s.audible = atomic_load_explicit(&sw->st_ts_audible, memory_order_relaxed);
    s.incoming = atomic_load_explicit(&sw->st_ts_incoming, memory_order_relaxed);
    s.switching = atomic_load_explicit(&sw->st_ts_switching, memory_order_relaxed);
    s.governed_tier = atomic_load_explicit(&sw->st_ts_governed, memory_order_relaxed);
    uint32_t load = atomic_load_explicit(&sw->st_ts_load_bits, memory_order_relaxed);
    memcpy(&s.cpu_load, &load, sizeof load);
    s.governor_steps = atomic_load_explicit(&sw->st_ts_steps, memory_order_relaxed);
    vsk_struct_store(state, &s, state->struct_size);
    return VSK_OK;
}

static vsk_voice *sw_voice_of(const vsk_switcher *sw, int slot)
{
    return slot >= 0 ? sw->slots[slot].voice : NULL;
}

/* Hands a slot back to the feeder; the audio thread never touches it again.
 * There is always room: a take happens only with retired[] empty and
 * retires at most 3, a finished crossfade 1 more. */
static void sw_retire(vsk_switcher *sw, int slot)
{
    if (slot < 0)
        return;
    for (int k = 0; k < SW_RETIRE; k++)
        if (atomic_load_explicit(&sw->retired[k], memory_order_relaxed) < 0) {
            atomic_store_explicit(&sw->retired[k], slot, memory_order_release);
            return;
        }
}

static void sw_apply_params(vsk_switcher *sw, vsk_voice *v)
{
    if (!v)
        return;
    uint32_t t = atomic_load_explicit(&sw->tier, memory_order_relaxed);
    if (t != SW_UNSET)
        vsk_voice_set_tier(v, t < v->tier_count ? t : v->tier_count - 1);
    uint32_t m = atomic_load_explicit(&sw->mix_bits, memory_order_relaxed);
    if (m != SW_UNSET) {
        float w;
        memcpy(&w, &m, sizeof w);
        vsk_voice_set_mix(v, w);
    }
    uint32_t b = atomic_load_explicit(&sw->bypass, memory_order_relaxed);
    if (b != SW_UNSET)
        vsk_voice_set_bypass(v, b);
    uint32_t c = atomic_load_explicit(&sw->budget_bits, memory_order_relaxed);
    if (c != SW_UNSET) {
        float f;
        memcpy(&f, &c, sizeof f);
        vsk_voice_set_cpu_budget(v, f);
    }
}

static void sw_clear_line(vsk_switcher *sw, int line)
{
    if (sw->align)
        memset(sw->delay[line], 0, sizeof(float) * (size_t)sw->align * sw->max_ch);
    sw->pos[line] = 0;
}

/* Takes a published slot at a buffer start (see vsk_switcher_publish). */
static void sw_take(vsk_switcher *sw)
{
    if (atomic_load_explicit(&sw->pending, memory_order_relaxed) < 0)
        return;
    if (sw->switching && sw->warm_left == 0)
        return; /* a crossfade runs: it finishes first */
    for (int k = 0; k < SW_RETIRE; k++)
        if (atomic_load_explicit(&sw->retired[k], memory_order_acquire) >= 0)
            return; /* the last retirees are not collected yet */
    const int p = atomic_exchange_explicit(&sw->pending, -1, memory_order_acq_rel);
    if (p < 0)
        return;
    sw_slot *s = &sw->slots[p];
    vsk_voice *heard = sw_voice_of(sw, sw->out);
    if (s->voice == heard) { /* the heard voice again: cancel a warm-up */
        sw_retire(sw, sw->in);
        sw_retire(sw, sw->out);
        sw->in = -1;
        sw->out = p;
        sw->switching = 0;
        return;
    }
    if (sw->in >= 0 && s->voice == sw_voice_of(sw, sw->in)) { /* keeps warming */
        sw_retire(sw, sw->in);
        sw->in = p;
        return;
    }
    if (s->voice) {
        sw_apply_params(sw, s->voice);
        vsk_voice_reset(s->voice);
    }
    const int at_once = !sw->started ||
        (heard && s->voice && heard->channels != s->voice->channels);
    sw_retire(sw, sw->in);
    sw->in = -1;
    if (at_once) {
        sw_retire(sw, sw->out);
        sw->out = p;
        sw->switching = 0;
        sw_clear_line(sw, sw->line_out);
        return;
    }
    sw->in = p;
    sw_clear_line(sw, 1 - sw->line_out);
    sw->switching = 1;
    sw->warm_left = s->voice ? s->voice->latency + sw->warmup_extra : 0;
    sw->fade_pos = 0;
}

static void sw_finish(vsk_switcher *sw)
{
    sw_retire(sw, sw->out);
    sw->out = sw->in;
    sw->in = -1;
    sw->line_out = 1 - sw->line_out;
    sw->switching = 0;
    sw->warm_left = 0;
    sw->fade_pos = sw->fade_len;
}

/* Delays `y` (n frames of ch) by `pad` frames through a ring. */
static void sw_delay(float *ring, uint32_t *pos, uint32_t pad, float *y,
                  uint32_t n, uint32_t ch)
{
    uint32_t p = *pos;
    if (p >= pad)
        p = 0;
    for (uint32_t i = 0; i < n; i++) {
        float *r = ring + (size_t)p * ch, *o = y + (size_t)i * ch;
        for (uint32_t c = 0; c < ch; c++) {
            float t = r[c];
            r[c] = o[c];
            o[c] = t;
        }
        if (++p == pad)
            p = 0;
    }
    *pos = p;
}

/* One slot's output for n frames (x may alias y). */
static void sw_run(vsk_switcher *sw, int slot, int line, const float *x, float *y,
                uint32_t n, uint32_t ch)
{
    vsk_voice *v = sw_voice_of(sw, slot);
    if (!v || vsk_voice_process(v, x, y, n) != VSK_OK) {
        if (v)
            sw->errors++;
        if (x != y)
            memmove(y, x, sizeof(float) * (size_t)n * ch);
    }
    const uint32_t pad = slot >= 0 ? sw->slots[slot].pad : sw->align;
    if (pad)
        sw_delay(sw->delay[line], &sw->pos[line], pad, y, n, ch);
}

vsk_status vsk_switcher_process(vsk_switcher *sw, const float *in, float *out,
                                uint32_t frames, uint32_t channels)
{
    if (!sw || (frames && (!in || !out)))
        return VSK_ERR_INVALID_ARGUMENT;
    if (frames == 0)
        return VSK_OK;
    sw_take(sw);
    sw->started = 1;
    vsk_voice *heard = sw_voice_of(sw, sw->out), *incoming = sw_voice_of(sw, sw->in);
    sw_apply_params(sw, heard);
    sw_apply_params(sw, incoming);
    const int fits = channels >= 1 && channels <= sw->max_ch &&
        (!heard || heard->channels == channels) &&
        (!incoming || incoming->channels == channels);
    if (!fits) {
        if (in != out && channels)
            memmove(out, in, sizeof(float) * (size_t)frames * channels);
        sw_publish_state(sw);
        return VSK_OK;
    }
    uint32_t done = 0;
    while (done < frames && sw->switching) {
        const uint32_t n = frames - done < sw->max_block ? frames - done : sw->max_block;
        const size_t off = (size_t)done * channels;
        /* incoming first: `in` may alias `out` */
        sw_run(sw, sw->in, 1 - sw->line_out, in + off, sw->scratch, n, channels);
        sw_run(sw, sw->out, sw->line_out, in + off, out + off, n, channels);
        float *o = out + off;
        const float *w = sw->scratch;
        const float *g = sw->fade;
        const uint32_t last = sw->fade_len - 1;
        for (uint32_t i = 0; i < n; i++, o += channels, w += channels) {
            if (sw->warm_left > 0) {
                sw->warm_left--; /* the incoming voice warms up unheard */
            } else if (sw->fade_pos < sw->fade_len) {
                const float gi = g[sw->fade_pos], go = g[last - sw->fade_pos];
                sw->fade_pos++;
                for (uint32_t c = 0; c < channels; c++)
                    o[c] = o[c] * go + w[c] * gi;
            } else {
                for (uint32_t c = 0; c < channels; c++)
                    o[c] = w[c];
            }
        }
        if (sw->warm_left == 0 && sw->fade_pos >= sw->fade_len)
            sw_finish(sw);
        done += n;
    }
    if (done < frames)
        sw_run(sw, sw->out, sw->line_out, in + (size_t)done * channels,
            out + (size_t)done * channels, frames - done, channels);
    sw_publish_state(sw);
    return VSK_OK;
}

vsk_status vsk_switcher_reset(vsk_switcher *sw)
{
    if (!sw)
        return VSK_ERR_INVALID_ARGUMENT;
    if (sw->switching)
        sw_finish(sw);
    vsk_voice *v = sw_voice_of(sw, sw->out);
    if (v)
        vsk_voice_reset(v);
    sw_clear_line(sw, 0);
    sw_clear_line(sw, 1);
    sw_publish_state(sw);
    return VSK_OK;
}
