/*
 * vske_effect.c — engine-independent core of the Unity mixer effect.
 * See vske_effect.h for the contract.
 */
#include "vske_effect.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <voiceskin.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define FOLDER_MAX 4096

/* ------------------------------------------------------------ shared registry
 * One registry for all instances, scanned on the first create (and again
 * after the folder changes or every instance was released). Control calls
 * only; a spinlock keeps concurrent creates apart (they are rare and short
 * apart from the scan itself). */

static atomic_flag g_lock = ATOMIC_FLAG_INIT;
static char g_folder[FOLDER_MAX];            /* set explicitly ("" = none)  */
static char g_scanned[FOLDER_MAX];           /* folder g_registry came from */
static char g_effective[FOLDER_MAX];
static vsk_registry *g_registry;
static int g_instances;

static void lock(void) { while (atomic_flag_test_and_set_explicit(&g_lock, memory_order_acquire)) { } }
static void unlock(void) { atomic_flag_clear_explicit(&g_lock, memory_order_release); }

static const char *effective_folder_locked(void)
{
    const char *f = g_folder;
    if (!f[0]) {
        const char *env = getenv(VSKE_BUNDLE_DIR_ENV);
        f = (env && env[0]) ? env : VSKE_DEFAULT_BUNDLE_DIR;
    }
    size_t n = strlen(f);
    if (n >= FOLDER_MAX) n = FOLDER_MAX - 1;
    memcpy(g_effective, f, n);
    g_effective[n] = 0;
    return g_effective;
}

int vske_set_bundle_folder(const char *folder)
{
    size_t n = folder ? strlen(folder) : 0;
    if (n >= FOLDER_MAX) return -1;
    lock();
    if (n) memcpy(g_folder, folder, n);
    g_folder[n] = 0;
    unlock();
    return 0;
}

const char *vske_bundle_folder(void)
{
    lock();
    const char *f = effective_folder_locked();
    unlock();
    return f;
}

/* Returns the registry for the current folder (rescanning if it changed). */
static vsk_registry *registry_acquire_locked(void)
{
    const char *folder = effective_folder_locked();
    if (g_registry && strcmp(folder, g_scanned) != 0) {
        vsk_registry_destroy(g_registry);    /* voices keep their bundles */
        g_registry = NULL;
    }
    if (!g_registry) {
        vsk_registry_config cfg;
        vsk_registry_config_init(&cfg);
        cfg.max_voices = VSKE_MAX_VOICES;
        if (vsk_registry_create(&cfg, &g_registry) != VSK_OK) return NULL;
        uint32_t added = 0, skipped = 0;
        (void)vsk_registry_scan_folder(g_registry, folder, &added, &skipped);  /* missing: empty */
        strcpy(g_scanned, folder);
    }
    return g_registry;
}

/* -------------------------------------------------------------------- effect */

typedef struct slot {
    vsk_voice *voice;
    uint32_t tiers;
    uint32_t latency;
    float *pad;            /* delay of (max latency - latency) frames */
    uint32_t pad_len, pad_pos;
} slot;

struct vske_effect {
    uint32_t rate, max_block, latency, nvoices;
    slot voices[VSKE_MAX_VOICES];
    float *mono, *conv_a, *conv_b;           /* max_block each              */
    float *dry;                              /* latency frames x 8 channels */
    uint32_t dry_pos;
    /* parameters (any thread) */
    atomic_int req_voice, req_tier;
    atomic_uint req_mix_bits;
    /* audio thread */
    int seen_voice, seen_tier, off, started;
    int counted;                             /* holds a g_instances count */
    int cur, next;
    uint32_t next_frames, warmup, fade_pos, fade_len;
    float wet, wet_step;
};

static float bits_to_float(unsigned b) { float f; memcpy(&f, &b, sizeof f); return f; }
static unsigned float_to_bits(float f) { unsigned b; memcpy(&b, &f, sizeof b); return b; }

vske_effect *vske_create(uint32_t sample_rate, uint32_t max_block)
{
    if (max_block == 0) max_block = 1024;
    if (max_block > 65536) max_block = 65536;
    vske_effect *fx = calloc(1, sizeof *fx);
    if (!fx) return NULL;
    fx->rate = sample_rate;
    fx->max_block = max_block;
    fx->cur = fx->next = -1;
    fx->seen_voice = 0;
    atomic_init(&fx->req_voice, 0);
    atomic_init(&fx->req_tier, 0);
    atomic_init(&fx->req_mix_bits, float_to_bits(1.0f));
    fx->wet = 1.0f;
    fx->wet_step = 1.0f / (0.005f * (float)(sample_rate ? sample_rate : 48000));
    fx->mono = calloc(max_block, sizeof(float));
    fx->conv_a = calloc(max_block, sizeof(float));
    fx->conv_b = calloc(max_block, sizeof(float));
    if (!fx->mono || !fx->conv_a || !fx->conv_b) { vske_destroy(fx); return NULL; }

    lock();
    g_instances++;
    fx->counted = 1;
    vsk_registry *reg = registry_acquire_locked();
    uint32_t count = 0;
    if (reg) vsk_registry_count(reg, &count);
    if (count > VSKE_MAX_VOICES) count = VSKE_MAX_VOICES;
    vsk_voice_config cfg;
    vsk_voice_config_init(&cfg);
    cfg.sample_rate = sample_rate;
    cfg.channels = 1;
    cfg.max_block_frames = max_block;
    for (uint32_t i = 0; i < count; i++) {
        vsk_bundle *b = NULL;
        vsk_bundle_info info = { .struct_size = sizeof info };
        slot *s = &fx->voices[fx->nvoices];
        /* A voice that cannot run here (e.g. an unsupported rate) stays
         * empty at its index: choosing it gives the dry signal. */
        fx->nvoices++;
        if (vsk_registry_get(reg, i, &b) != VSK_OK || vsk_bundle_get_info(b, &info) != VSK_OK) continue;
        if (vsk_voice_create(b, &cfg, &s->voice) != VSK_OK) { s->voice = NULL; continue; }
        s->tiers = info.tier_count;
        vsk_voice_get_latency(s->voice, &s->latency);
        if (s->latency > fx->latency) fx->latency = s->latency;
    }
    unlock();

    for (uint32_t i = 0; i < fx->nvoices; i++) {
        slot *s = &fx->voices[i];
        if (!s->voice) continue;
        s->pad_len = fx->latency - s->latency;
        if (s->pad_len && !(s->pad = calloc(s->pad_len, sizeof(float)))) { vske_destroy(fx); return NULL; }
    }
    if (fx->latency && !(fx->dry = calloc((size_t)fx->latency * VSKE_MAX_CHANNELS, sizeof(float)))) {
        vske_destroy(fx);
        return NULL;
    }
    if (fx->nvoices > 0 && fx->voices[0].voice) fx->cur = 0;
    fx->off = fx->cur < 0;
    return fx;
}

void vske_destroy(vske_effect *fx)
{
    if (!fx) return;
    for (uint32_t i = 0; i < fx->nvoices; i++) {
        vsk_voice_destroy(fx->voices[i].voice);
        free(fx->voices[i].pad);
    }
    free(fx->mono);
    free(fx->conv_a);
    free(fx->conv_b);
    free(fx->dry);
    if (fx->counted) {
        lock();
        if (--g_instances == 0 && g_registry) {  /* the next create rescans */
            vsk_registry_destroy(g_registry);
            g_registry = NULL;
        }
        unlock();
    }
    free(fx);
}

/* ------------------------------------------------------------- parameters */

void vske_set_voice(vske_effect *fx, int index) { if (fx) atomic_store(&fx->req_voice, index); }
void vske_set_tier(vske_effect *fx, int tier) { if (fx) atomic_store(&fx->req_tier, tier < 0 ? 0 : tier); }
void vske_set_mix(vske_effect *fx, float wet)
{
    if (!fx || wet != wet) return;
    if (wet < 0.0f) wet = 0.0f;
    if (wet > 1.0f) wet = 1.0f;
    atomic_store(&fx->req_mix_bits, float_to_bits(wet));
}
int vske_get_voice(const vske_effect *fx) { return fx ? atomic_load(&((vske_effect *)fx)->req_voice) : -1; }
int vske_get_tier(const vske_effect *fx) { return fx ? atomic_load(&((vske_effect *)fx)->req_tier) : 0; }
float vske_get_mix(const vske_effect *fx)
{
    return fx ? bits_to_float(atomic_load(&((vske_effect *)fx)->req_mix_bits)) : 0.0f;
}
uint32_t vske_latency(const vske_effect *fx) { return fx ? fx->latency : 0; }
uint32_t vske_voice_count(const vske_effect *fx) { return fx ? fx->nvoices : 0; }
uint32_t vske_tier_count(const vske_effect *fx, int index)
{
    if (!fx || index < 0 || (uint32_t)index >= fx->nvoices) return 0;
    return fx->voices[index].voice ? fx->voices[index].tiers : 0;
}

/* ------------------------------------------------------------------ audio */

static int valid_voice(const vske_effect *fx, int v)
{
    return v >= 0 && (uint32_t)v < fx->nvoices && fx->voices[v].voice != NULL;
}

static void apply_tier(vske_effect *fx, int v)
{
    slot *s = &fx->voices[v];
    int t = fx->seen_tier;
    if (t >= (int)s->tiers) t = (int)s->tiers - 1;
    vsk_voice_set_tier(s->voice, (uint32_t)t);
}

static void clear_slot(slot *s)
{
    if (s->pad) memset(s->pad, 0, s->pad_len * sizeof(float));
    s->pad_pos = 0;
}

/* A voice about to be heard: its tier, a clean state. */
static void start_voice(vske_effect *fx, int v)
{
    apply_tier(fx, v);
    vsk_voice_reset(fx->voices[v].voice);    /* makes the requested tier current */
    clear_slot(&fx->voices[v]);
}

static void take_parameters(vske_effect *fx)
{
    int t = atomic_load(&fx->req_tier);
    if (t != fx->seen_tier) {
        fx->seen_tier = t;
        if (fx->cur >= 0) apply_tier(fx, fx->cur);
        if (fx->next >= 0) apply_tier(fx, fx->next);
    }
    int v = atomic_load(&fx->req_voice);
    if (v == fx->seen_voice) return;
    fx->seen_voice = v;
    if (!valid_voice(fx, v)) { fx->off = 1; return; }   /* fade to the delayed dry signal */
    fx->off = 0;
    if (v == fx->cur) {
        fx->next = -1;                       /* cancels a switch away from it */
    } else if (v == fx->next) {
        /* already warming up */
    } else if (fx->cur < 0 || !fx->started) {
        /* nothing heard yet: take it at once, no crossfade */
        fx->next = -1;
        start_voice(fx, v);
        fx->cur = v;
    } else {
        start_voice(fx, v);
        fx->next = v;
        fx->next_frames = 0;
        fx->fade_pos = 0;
        fx->fade_len = fx->rate / 50;                               /* 20 ms  */
        if (fx->fade_len < 1) fx->fade_len = 1;
        fx->warmup = fx->voices[v].latency + fx->rate / 10;         /* +100 ms */
    }
}

static void run_voice(vske_effect *fx, int v, float *out, uint32_t n)
{
    slot *s = &fx->voices[v];
    if (vsk_voice_process(s->voice, fx->mono, out, n) != VSK_OK) memset(out, 0, n * sizeof(float));
    if (s->pad_len) {
        uint32_t p = s->pad_pos;
        for (uint32_t i = 0; i < n; i++) {
            float t = s->pad[p];
            s->pad[p] = out[i];
            out[i] = t;
            if (++p == s->pad_len) p = 0;
        }
        s->pad_pos = p;
    }
}

/* conv_a = current voice, crossfaded into the next one after its warm-up. */
static void crossfade(vske_effect *fx, uint32_t n)
{
    float *a = fx->conv_a, *b = fx->conv_b;
    for (uint32_t i = 0; i < n; i++) {
        if (fx->next_frames < fx->warmup) { fx->next_frames++; continue; }
        if (fx->fade_pos < fx->fade_len) {
            float g = (float)(0.5 - 0.5 * cos(M_PI * (double)(fx->fade_pos + 1) / (double)(fx->fade_len + 1)));
            float h = 1.0f - g;
            a[i] = h * a[i] + g * b[i];
            fx->fade_pos++;
            continue;
        }
        memcpy(a + i, b + i, (n - i) * sizeof(float));
        fx->cur = fx->next;
        fx->next = -1;
        return;
    }
}

static void process_piece(vske_effect *fx, const float *in, float *out, uint32_t n, int channels)
{
    const float inv = 1.0f / (float)channels;
    for (uint32_t i = 0; i < n; i++) {
        const float *x = in + (size_t)i * channels;
        float s = x[0];
        for (int c = 1; c < channels; c++) s += x[c];
        fx->mono[i] = s * inv;
    }
    if (fx->cur >= 0) run_voice(fx, fx->cur, fx->conv_a, n);
    else memset(fx->conv_a, 0, n * sizeof(float));
    if (fx->next >= 0) {
        run_voice(fx, fx->next, fx->conv_b, n);
        crossfade(fx, n);
    }
    const float target = fx->off ? 0.0f : bits_to_float(atomic_load(&fx->req_mix_bits));
    float w = fx->wet;
    uint32_t d = fx->dry_pos;
    for (uint32_t i = 0; i < n; i++) {
        if (w < target) { w += fx->wet_step; if (w > target) w = target; }
        else if (w > target) { w -= fx->wet_step; if (w < target) w = target; }
        const float h = 1.0f - w;
        const float y = fx->conv_a[i];
        float *dl = fx->dry + (size_t)d * VSKE_MAX_CHANNELS;
        for (int c = 0; c < channels; c++) {
            const size_t k = (size_t)i * channels + c;
            const float x = in[k];
            const float dd = dl[c];
            dl[c] = x;
            out[k] = dd * h + w * y;
        }
        if (++d == fx->latency) d = 0;
    }
    fx->dry_pos = d;
    fx->wet = w;
}

void vske_process(vske_effect *fx, const float *in, float *out, uint32_t frames, int channels)
{
    if (!fx || frames == 0) return;
    if (channels < 1 || channels > VSKE_MAX_CHANNELS || fx->nvoices == 0 || fx->latency == 0) {
        size_t bytes = (size_t)frames * (size_t)(channels > 0 ? channels : 0) * sizeof(float);
        if (in != out && bytes) memmove(out, in, bytes);
        return;
    }
    take_parameters(fx);
    if (!fx->started) {   /* the first buffer starts at the requested mix */
        fx->started = 1;
        fx->wet = fx->off ? 0.0f : bits_to_float(atomic_load(&fx->req_mix_bits));
    }
    for (uint32_t f = 0; f < frames;) {
        uint32_t n = frames - f;
        if (n > fx->max_block) n = fx->max_block;
        process_piece(fx, in + (size_t)f * channels, out + (size_t)f * channels, n, channels);
        f += n;
    }
}

void vske_reset(vske_effect *fx)
{
    if (!fx) return;
    take_parameters(fx);
    if (fx->next >= 0) { fx->cur = fx->next; fx->next = -1; }
    if (fx->cur >= 0) start_voice(fx, fx->cur);
    if (fx->dry) memset(fx->dry, 0, (size_t)fx->latency * VSKE_MAX_CHANNELS * sizeof(float));
    fx->dry_pos = 0;
    fx->wet = fx->off ? 0.0f : bits_to_float(atomic_load(&fx->req_mix_bits));
}
