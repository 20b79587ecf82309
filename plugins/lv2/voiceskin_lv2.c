/*
 * voiceskin_lv2.c — voice skins in any LV2 host (Ardour, Carla, Reaper...).
 *
 * Two plugins in one binary: #mono (1 in / 1 out) and #stereo (2 in /
 * 2 out; the model hears the channel mean, the converted voice goes to
 * both channels, the dry signal keeps its stereo image).
 *
 * Voices: at instantiate the plugin scans a registry folder (every *.vskin
 * directly in it, in name order) and builds one voice per entry, all in
 * advance:
 *   1. $VOICESKIN_LV2_VOICES, if set (one folder);
 *   2. otherwise the folder "voices" inside this plugin's bundle
 *      (…/voiceskin.lv2/voices/).
 * The "voice" control port picks the registry index (clamped to what is
 * there). Changing it resets the newly picked voice's stream and switches
 * to it (an audition control, not one to automate); "tier" requests a
 * quality tier of the current voice (crossfaded by the library), "mix" is
 * the wet amount, "bypass" passes the dry input delayed by the same latency.
 * The "latency" output port reports the current voice's latency in frames
 * (lv2:reportsLatency), so hosts compensate it.
 *
 * Real-time: run() allocates nothing, locks nothing and does no I/O — every
 * voice and scratch buffer is made in instantiate(); run() only calls the
 * library's [audio] and [any-rt] functions.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lv2/core/lv2.h>

#include "voiceskin.h"

#define VSK_LV2_URI "http://voiceskin.dev/plugins/lv2/voiceskin"
#define MAX_VOICES 64u
#define CHUNK 1024u /* frames per library call (stereo interleave scratch) */

enum { P_VOICE, P_TIER, P_MIX, P_BYPASS, P_LATENCY, P_CONTROLS };

typedef struct {
    uint32_t channels;
    /* ports: controls first (same indices for mono and stereo), then audio */
    const float *control[P_CONTROLS - 1];
    float *latency_port;
    const float *in[2];
    float *out[2];

    vsk_registry *registry;
    vsk_voice *voices[MAX_VOICES];
    uint32_t latency[MAX_VOICES];
    uint32_t tier_count[MAX_VOICES];
    uint32_t nvoices;

    uint32_t active;        /* current voice index (valid if nvoices > 0) */
    float last_tier, last_mix, last_bypass;
    float *scratch_in, *scratch_out; /* CHUNK * channels, stereo only */
} Plugin;

static void log_error(const char *what, const char *detail, vsk_status st) {
    /* instantiate-time only (never from run) */
    fprintf(stderr, "voiceskin.lv2: %s%s%s%s%s\n", what, detail ? " " : "", detail ? detail : "",
            st ? ": " : "", st ? vsk_status_name(st) : "");
}

static void cleanup(LV2_Handle h) {
    Plugin *p = (Plugin *)h;
    for (uint32_t i = 0; i < p->nvoices; i++) vsk_voice_destroy(p->voices[i]);
    vsk_registry_destroy(p->registry);
    free(p->scratch_in);
    free(p->scratch_out);
    free(p);
}

static LV2_Handle instantiate(const LV2_Descriptor *d, double rate, const char *bundle_path,
                              const LV2_Feature *const *features) {
    (void)features;
    Plugin *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->channels = strstr(d->URI, "#stereo") ? 2 : 1;
    p->last_tier = p->last_mix = p->last_bypass = -1.0f;

    char folder[4096];
    const char *env = getenv("VOICESKIN_LV2_VOICES");
    if (env && *env) snprintf(folder, sizeof folder, "%s", env);
    else snprintf(folder, sizeof folder, "%s%svoices", bundle_path,
                  bundle_path[0] && bundle_path[strlen(bundle_path) - 1] == '/' ? "" : "/");

    vsk_registry_config rc;
    vsk_registry_config_init(&rc);
    rc.max_voices = MAX_VOICES;
    vsk_status st = vsk_registry_create(&rc, &p->registry);
    uint32_t added = 0, skipped = 0, count = 0;
    if (st == VSK_OK) st = vsk_registry_scan_folder(p->registry, folder, &added, &skipped);
    if (st != VSK_OK) {
        /* No voices: the plugin still runs, as a plain delay-free pass-through. */
        log_error("cannot read voice folder", folder, st);
        return (LV2_Handle)p;
    }
    if (skipped) fprintf(stderr, "voiceskin.lv2: %u file(s) in %s could not be used\n", skipped, folder);
    vsk_registry_count(p->registry, &count);

    vsk_voice_config cfg;
    vsk_voice_config_init(&cfg);
    cfg.sample_rate = (uint32_t)(rate + 0.5);
    cfg.channels = p->channels;
    cfg.max_block_frames = CHUNK;
    for (uint32_t i = 0; i < count && p->nvoices < MAX_VOICES; i++) {
        vsk_bundle *b;
        vsk_bundle_info info = {.struct_size = sizeof info};
        vsk_voice *v = NULL;
        if (vsk_registry_get(p->registry, i, &b) || vsk_bundle_get_info(b, &info)) break;
        st = vsk_voice_create(b, &cfg, &v);
        if (st != VSK_OK) {
            /* keep indices equal to registry indices: stop at the first failure */
            log_error("cannot create voice", info.voice_id, st);
            break;
        }
        p->voices[p->nvoices] = v;
        p->tier_count[p->nvoices] = info.tier_count;
        vsk_voice_get_latency(v, &p->latency[p->nvoices]);
        p->nvoices++;
    }
    if (p->channels == 2) {
        p->scratch_in = malloc(CHUNK * 2 * sizeof(float));
        p->scratch_out = malloc(CHUNK * 2 * sizeof(float));
        if (!p->scratch_in || !p->scratch_out) { cleanup(p); return NULL; }
    }
    return (LV2_Handle)p;
}

static void connect_port(LV2_Handle h, uint32_t port, void *data) {
    Plugin *p = (Plugin *)h;
    if (port < P_LATENCY) p->control[port] = (const float *)data;
    else if (port == P_LATENCY) p->latency_port = (float *)data;
    else {
        uint32_t a = port - P_CONTROLS; /* in[0..ch-1], out[0..ch-1] */
        if (a < p->channels) p->in[a] = (const float *)data;
        else if (a < 2 * p->channels) p->out[a - p->channels] = (float *)data;
    }
}

static void activate(LV2_Handle h) {
    Plugin *p = (Plugin *)h;
    if (p->nvoices) vsk_voice_reset(p->voices[p->active]);
}

static float ctl(const Plugin *p, int i, float dflt) {
    return p->control[i] ? *p->control[i] : dflt;
}

static void run(LV2_Handle h, uint32_t frames) {
    Plugin *p = (Plugin *)h;
    const uint32_t ch = p->channels;
    if (!p->nvoices) { /* no voice: pass through */
        for (uint32_t c = 0; c < ch; c++)
            if (p->out[c] != p->in[c]) memmove(p->out[c], p->in[c], frames * sizeof(float));
        if (p->latency_port) *p->latency_port = 0.0f;
        return;
    }
    /* voice selection */
    float fv = ctl(p, P_VOICE, 0.0f);
    uint32_t want = fv <= 0.0f ? 0 : (uint32_t)(fv + 0.5f);
    if (want >= p->nvoices) want = p->nvoices - 1;
    if (want != p->active) {
        p->active = want;
        vsk_voice_reset(p->voices[want]);
        p->last_tier = p->last_mix = p->last_bypass = -1.0f; /* re-send controls */
    }
    vsk_voice *v = p->voices[p->active];
    /* controls: only on change ([any-rt] setters, atomics) */
    float tier = ctl(p, P_TIER, 0.0f), mix = ctl(p, P_MIX, 1.0f), bypass = ctl(p, P_BYPASS, 0.0f);
    if (tier != p->last_tier) {
        uint32_t t = tier <= 0.0f ? 0 : (uint32_t)(tier + 0.5f);
        if (t >= p->tier_count[p->active]) t = p->tier_count[p->active] - 1;
        vsk_voice_set_tier(v, t);
        p->last_tier = tier;
    }
    if (mix != p->last_mix) {
        vsk_voice_set_mix(v, mix < 0.0f ? 0.0f : mix > 1.0f ? 1.0f : mix);
        p->last_mix = mix;
    }
    if (bypass != p->last_bypass) {
        vsk_voice_set_bypass(v, bypass > 0.5f);
        p->last_bypass = bypass;
    }
    if (p->latency_port) *p->latency_port = (float)p->latency[p->active];

    if (ch == 1) { /* in == out (in-place hosts) is allowed by the library */
        vsk_voice_process(v, p->in[0], p->out[0], frames);
        return;
    }
    for (uint32_t pos = 0; pos < frames; pos += CHUNK) { /* stereo: interleave */
        uint32_t n = frames - pos < CHUNK ? frames - pos : CHUNK;
        for (uint32_t i = 0; i < n; i++) {
            p->scratch_in[2 * i] = p->in[0][pos + i];
            p->scratch_in[2 * i + 1] = p->in[1][pos + i];
        }
        vsk_voice_process(v, p->scratch_in, p->scratch_out, n);
        for (uint32_t i = 0; i < n; i++) {
            p->out[0][pos + i] = p->scratch_out[2 * i];
            p->out[1][pos + i] = p->scratch_out[2 * i + 1];
        }
    }
}

static const LV2_Descriptor descriptors[2] = {
    {VSK_LV2_URI "#mono", instantiate, connect_port, activate, run, NULL, cleanup, NULL},
    {VSK_LV2_URI "#stereo", instantiate, connect_port, activate, run, NULL, cleanup, NULL},
};

LV2_SYMBOL_EXPORT const LV2_Descriptor *lv2_descriptor(uint32_t index) {
    return index < 2 ? &descriptors[index] : NULL;
}
