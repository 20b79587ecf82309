/*
 * vske_effect.c — engine-independent core of the Unity mixer effect.
 * See vske_effect.h for the contract.
 */
#include "vske_effect.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <voiceskin.h>

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
} slot;

struct vske_effect {
    uint32_t rate, max_block, latency, nvoices;
    slot voices[VSKE_MAX_VOICES];
    /* Voice switching (warm-up, equal-power crossfade, one latency for
     * every voice) is the library's vsk_switcher; this effect is its feeder
     * on the audio thread (publish/collect allocate nothing). */
    vsk_switcher *sw;
    float *mono, *conv;                      /* max_block each              */
    float *dry;                              /* latency frames x 8 channels */
    uint32_t dry_pos;
    /* parameters (any thread) */
    atomic_int req_voice, req_tier;
    atomic_uint req_mix_bits, req_budget_bits;
    /* audio thread */
    int seen_voice, seen_tier, off, started;
    int counted;                             /* holds a g_instances count */
    int published;                           /* voice index lent last, -1 none */
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
    fx->published = -1;
    fx->seen_voice = 0;
    atomic_init(&fx->req_voice, 0);
    atomic_init(&fx->req_tier, 0);
    atomic_init(&fx->req_mix_bits, float_to_bits(1.0f));
    atomic_init(&fx->req_budget_bits, float_to_bits(0.0f));
    fx->wet = 1.0f;
    fx->wet_step = 1.0f / (0.005f * (float)(sample_rate ? sample_rate : 48000));
    fx->mono = calloc(max_block, sizeof(float));
    fx->conv = calloc(max_block, sizeof(float));
    if (!fx->mono || !fx->conv) { vske_destroy(fx); return NULL; }

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

    if (fx->latency) {
        vsk_switcher_config sc;
        vsk_switcher_config_init(&sc);
        sc.sample_rate = sample_rate;
        sc.max_channels = 1;
        sc.max_block_frames = max_block;
        sc.align_latency_frames = fx->latency;   /* a switch never shifts timing */
        if (vsk_switcher_create(&sc, &fx->sw) != VSK_OK ||
            !(fx->dry = calloc((size_t)fx->latency * VSKE_MAX_CHANNELS, sizeof(float)))) {
            vske_destroy(fx);
            return NULL;
        }
        vsk_switcher_set_tier(fx->sw, 0);
    }
    fx->off = !(fx->nvoices > 0 && fx->voices[0].voice);
    if (!fx->off) {                          /* taken at once by the first buffer */
        vsk_switcher_publish(fx->sw, fx->voices[0].voice, 1);
        fx->published = 0;
    }
    return fx;
}

void vske_destroy(vske_effect *fx)
{
    if (!fx) return;
    vsk_switcher_destroy(fx->sw);            /* never touches the voices */
    for (uint32_t i = 0; i < fx->nvoices; i++) vsk_voice_destroy(fx->voices[i].voice);
    free(fx->mono);
    free(fx->conv);
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
void vske_set_cpu_budget(vske_effect *fx, float fraction)
{
    if (!fx || fraction != fraction) return;
    if (fraction < 0.0f) fraction = 0.0f;
    if (fraction > 1.0f) fraction = 1.0f;
    atomic_store(&fx->req_budget_bits, float_to_bits(fraction));
    vsk_switcher_set_cpu_budget(fx->sw, fraction);   /* [any-rt] */
}
float vske_get_cpu_budget(const vske_effect *fx)
{
    return fx ? bits_to_float(atomic_load(&((vske_effect *)fx)->req_budget_bits)) : 0.0f;
}
int vske_governed_tier(const vske_effect *fx)
{
    vsk_tier_state s = {.struct_size = sizeof s};
    if (!fx || vsk_switcher_get_tier_state(fx->sw, &s) != VSK_OK) return -1;
    return (int)s.governed_tier;
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

/* Feeds the switcher (audio thread): voices it handed back stay owned by
 * the effect; a newly chosen voice is lent (tag = index + 1). */
static void take_parameters(vske_effect *fx)
{
    vsk_voice *back;
    while (vsk_switcher_collect(fx->sw, &back, NULL) == VSK_OK) { }
    int t = atomic_load(&fx->req_tier);
    if (t != fx->seen_tier) {
        fx->seen_tier = t;
        vsk_switcher_set_tier(fx->sw, (uint32_t)t);   /* clamped per voice */
    }
    int v = atomic_load(&fx->req_voice);
    if (v == fx->seen_voice) return;
    fx->seen_voice = v;
    if (!valid_voice(fx, v)) { fx->off = 1; return; }   /* fade to the delayed dry signal */
    fx->off = 0;
    if (v != fx->published) {
        vsk_switcher_publish(fx->sw, fx->voices[v].voice, (uint64_t)v + 1);
        fx->published = v;
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
    vsk_switcher_process(fx->sw, fx->mono, fx->conv, n, 1);
    const float target = fx->off ? 0.0f : bits_to_float(atomic_load(&fx->req_mix_bits));
    float w = fx->wet;
    uint32_t d = fx->dry_pos;
    for (uint32_t i = 0; i < n; i++) {
        if (w < target) { w += fx->wet_step; if (w > target) w = target; }
        else if (w > target) { w -= fx->wet_step; if (w < target) w = target; }
        const float h = 1.0f - w;
        const float y = fx->conv[i];
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
    if (channels < 1 || channels > VSKE_MAX_CHANNELS || !fx->sw) {
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
    if (!fx || !fx->sw) return;
    take_parameters(fx);
    vsk_switcher_reset(fx->sw);
    if (fx->dry) memset(fx->dry, 0, (size_t)fx->latency * VSKE_MAX_CHANNELS * sizeof(float));
    fx->dry_pos = 0;
    fx->wet = fx->off ? 0.0f : bits_to_float(atomic_load(&fx->req_mix_bits));
}
