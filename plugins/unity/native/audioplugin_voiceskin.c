/*
 * audioplugin_voiceskin.c — the VoiceSkin mixer effect for Unity's native
 * audio plugin interface. Thin glue: the effect itself is vske_effect.c.
 *
 * Unity calls, per effect instance (see README.md, "Threads"):
 *   create    when the mixer effect is instantiated  -> vske_create
 *   setfloatparameter / getfloatparameter            -> atomics
 *   process   on the mixer thread, every DSP buffer  -> vske_process
 *   reset     to clear state                         -> vske_reset
 *   release   when the instance goes away            -> vske_destroy
 */
#include <stddef.h>
#include <string.h>

#include "unity_audio_plugin.h"
#include "vske_effect.h"

#define VSKE_PLUGIN_VERSION 0x000100   /* 0.1.0 */

enum { P_VOICE, P_TIER, P_MIX, P_BUDGET, P_COUNT };

static UnityAudioParameterDefinition g_params[P_COUNT] = {
    { "Voice", "", "Voice index in the bundle folder (StreamingAssets/VoiceSkins, name order)",
      0.0f, (float)(VSKE_MAX_VOICES - 1), 0.0f, 1.0f, 1.0f },
    { "Tier", "", "Quality tier index, 0 = lowest; clamped to the voice's tiers",
      0.0f, 15.0f, 0.0f, 1.0f, 1.0f },
    { "Dry/Wet", "%", "Converted voice amount (0 = dry, 100 = fully converted)",
      0.0f, 1.0f, 1.0f, 100.0f, 1.0f },
    { "CPU budget", "%", "Per voice, % of one core (0 = off): steps the tier down, and back up, to fit",
      0.0f, 1.0f, 0.0f, 100.0f, 1.0f },
};

static UNITY_AUDIODSP_RESULT UNITY_AUDIODSP_CALLBACK fx_create(UnityAudioEffectState *state);
static UNITY_AUDIODSP_RESULT UNITY_AUDIODSP_CALLBACK fx_release(UnityAudioEffectState *state);
static UNITY_AUDIODSP_RESULT UNITY_AUDIODSP_CALLBACK fx_reset(UnityAudioEffectState *state);
static UNITY_AUDIODSP_RESULT UNITY_AUDIODSP_CALLBACK fx_process(UnityAudioEffectState *state, float *in,
                                                                float *out, unsigned int length,
                                                                int inchannels, int outchannels);
static UNITY_AUDIODSP_RESULT UNITY_AUDIODSP_CALLBACK fx_set_float(UnityAudioEffectState *state, int index,
                                                                  float value);
static UNITY_AUDIODSP_RESULT UNITY_AUDIODSP_CALLBACK fx_get_float(UnityAudioEffectState *state, int index,
                                                                  float *value, char *valuestr);
static UNITY_AUDIODSP_RESULT UNITY_AUDIODSP_CALLBACK fx_get_buffer(UnityAudioEffectState *state,
                                                                   const char *name, float *buffer,
                                                                   int numsamples);

static UnityAudioEffectDefinition g_definition = {
    sizeof(UnityAudioEffectDefinition),
    sizeof(UnityAudioParameterDefinition),
    UNITY_AUDIO_PLUGIN_API_VERSION,
    VSKE_PLUGIN_VERSION,
    0,                     /* any channel count */
    P_COUNT,
    0,                     /* a plain insert effect */
    "VoiceSkin",
    fx_create,
    fx_release,
    fx_reset,
    fx_process,
    NULL,                  /* setposition: not a generator */
    g_params,
    fx_set_float,
    fx_get_float,
    fx_get_buffer,
};

static UnityAudioEffectDefinition *g_definitions[1] = { &g_definition };

UNITY_AUDIODSP_EXPORT_API int UnityGetAudioEffectDefinitions(UnityAudioEffectDefinition ***descptr)
{
    if (!descptr) return 0;
    *descptr = g_definitions;
    return 1;
}

/* Lets the game point the effect at its StreamingAssets folder before the
 * mixer creates instances (VoiceSkinStreamingAssets does this at startup).
 * UTF-8; NULL or "" restores VOICESKIN_BUNDLE_DIR / the default. */
UNITY_AUDIODSP_EXPORT_API int audioplugin_voiceskin_set_bundle_folder(const char *folder)
{
    return vske_set_bundle_folder(folder);
}

UNITY_AUDIODSP_EXPORT_API const char *audioplugin_voiceskin_bundle_folder(void)
{
    return vske_bundle_folder();
}

/* ------------------------------------------------------------- callbacks */

static vske_effect *fx_of(UnityAudioEffectState *state)
{
    return state ? (vske_effect *)state->effectdata : NULL;
}

static UNITY_AUDIODSP_RESULT UNITY_AUDIODSP_CALLBACK fx_create(UnityAudioEffectState *state)
{
    if (!state) return UNITY_AUDIODSP_ERR_UNSUPPORTED;
    uint32_t max_block = 1024;
    /* dspbuffersize exists from API 1.1 on: check the host's struct size. */
    if (state->structsize >= offsetof(UnityAudioEffectState, dspbuffersize) + sizeof(uint32_t) &&
        state->dspbuffersize > 0)
        max_block = state->dspbuffersize;
    vske_effect *fx = vske_create(state->samplerate, max_block);
    if (!fx) return UNITY_AUDIODSP_ERR_UNSUPPORTED;
    vske_set_voice(fx, (int)g_params[P_VOICE].defaultval);
    vske_set_tier(fx, (int)g_params[P_TIER].defaultval);
    vske_set_mix(fx, g_params[P_MIX].defaultval);
    vske_set_cpu_budget(fx, g_params[P_BUDGET].defaultval);
    state->effectdata = fx;
    return UNITY_AUDIODSP_OK;
}

static UNITY_AUDIODSP_RESULT UNITY_AUDIODSP_CALLBACK fx_release(UnityAudioEffectState *state)
{
    vske_destroy(fx_of(state));
    if (state) state->effectdata = NULL;
    return UNITY_AUDIODSP_OK;
}

static UNITY_AUDIODSP_RESULT UNITY_AUDIODSP_CALLBACK fx_reset(UnityAudioEffectState *state)
{
    vske_reset(fx_of(state));
    return UNITY_AUDIODSP_OK;
}

static UNITY_AUDIODSP_RESULT UNITY_AUDIODSP_CALLBACK fx_process(UnityAudioEffectState *state, float *in,
                                                                float *out, unsigned int length,
                                                                int inchannels, int outchannels)
{
    vske_effect *fx = fx_of(state);
    if (!fx || inchannels != outchannels) {
        /* Not ours to convert: copy what fits, silence the rest. */
        int c = inchannels < outchannels ? inchannels : outchannels;
        for (unsigned int i = 0; i < length; i++)
            for (int k = 0; k < outchannels; k++)
                out[(size_t)i * outchannels + k] = k < c ? in[(size_t)i * inchannels + k] : 0.0f;
        return UNITY_AUDIODSP_OK;
    }
    vske_process(fx, in, out, length, inchannels);
    return UNITY_AUDIODSP_OK;
}

static int round_index(float v) { return v <= 0.0f ? 0 : (int)(v + 0.5f); }

static UNITY_AUDIODSP_RESULT UNITY_AUDIODSP_CALLBACK fx_set_float(UnityAudioEffectState *state, int index,
                                                                  float value)
{
    vske_effect *fx = fx_of(state);
    if (!fx || index < 0 || index >= P_COUNT || value != value) return UNITY_AUDIODSP_ERR_UNSUPPORTED;
    if (value < g_params[index].min) value = g_params[index].min;
    if (value > g_params[index].max) value = g_params[index].max;
    switch (index) {
    case P_VOICE: vske_set_voice(fx, round_index(value)); break;
    case P_TIER: vske_set_tier(fx, round_index(value)); break;
    case P_BUDGET: vske_set_cpu_budget(fx, value); break;
    default: vske_set_mix(fx, value); break;
    }
    return UNITY_AUDIODSP_OK;
}

static UNITY_AUDIODSP_RESULT UNITY_AUDIODSP_CALLBACK fx_get_float(UnityAudioEffectState *state, int index,
                                                                  float *value, char *valuestr)
{
    vske_effect *fx = fx_of(state);
    if (!fx || index < 0 || index >= P_COUNT) return UNITY_AUDIODSP_ERR_UNSUPPORTED;
    if (value) {
        switch (index) {
        case P_VOICE: *value = (float)vske_get_voice(fx); break;
        case P_TIER: *value = (float)vske_get_tier(fx); break;
        case P_BUDGET: *value = vske_get_cpu_budget(fx); break;
        default: *value = vske_get_mix(fx); break;
        }
    }
    if (valuestr) valuestr[0] = 0;   /* the host formats the number */
    return UNITY_AUDIODSP_OK;
}

/* Read-only figures for custom inspectors and tests: "Latency" (frames),
 * "Voices" (count), "Tiers" (tier count of the selected voice),
 * "GovernedTier" (the tier the CPU governor allows now, -1 without a voice). */
static UNITY_AUDIODSP_RESULT UNITY_AUDIODSP_CALLBACK fx_get_buffer(UnityAudioEffectState *state,
                                                                   const char *name, float *buffer,
                                                                   int numsamples)
{
    vske_effect *fx = fx_of(state);
    if (!fx || !name || !buffer || numsamples < 1) return UNITY_AUDIODSP_ERR_UNSUPPORTED;
    float v;
    if (strcmp(name, "Latency") == 0) v = (float)vske_latency(fx);
    else if (strcmp(name, "Voices") == 0) v = (float)vske_voice_count(fx);
    else if (strcmp(name, "Tiers") == 0) v = (float)vske_tier_count(fx, vske_get_voice(fx));
    else if (strcmp(name, "GovernedTier") == 0) v = (float)vske_governed_tier(fx);
    else return UNITY_AUDIODSP_ERR_UNSUPPORTED;
    for (int i = 0; i < numsamples; i++) buffer[i] = v;
    return UNITY_AUDIODSP_OK;
}
