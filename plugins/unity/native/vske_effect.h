/*
 * vske_effect.h — the engine-independent core of the Unity mixer effect
 * (audioplugin_voiceskin): a voice-skin insert effect over interleaved float
 * buffers of any channel count, with voice, tier and dry/wet parameters.
 *
 * One shared vsk_registry (scanned once from the bundle folder) lists the
 * voices. Each effect instance creates, at vske_create, one mono vsk_voice
 * per registry voice (at most VSKE_MAX_VOICES), so that choosing another
 * voice while audio runs allocates nothing: the new voice is reset, warms up
 * beside the current one, then crossfades in. The model hears the mean of
 * the channels; the converted voice goes to every channel; dry/wet mixes it
 * with the dry input delayed by the same latency (the largest latency of the
 * voices, so a voice switch never shifts the timing).
 *
 * Threads: vske_create/vske_destroy/vske_set_bundle_folder are control calls
 * (allocate, do I/O). vske_process/vske_reset are audio calls (no allocation,
 * locks or I/O). vske_set_* only store atomics and may come from any thread.
 */
#ifndef VSKE_EFFECT_H
#define VSKE_EFFECT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VSKE_MAX_VOICES 32
#define VSKE_MAX_CHANNELS 8
/* Environment variable naming the bundle folder (overrides the default). */
#define VSKE_BUNDLE_DIR_ENV "VOICESKIN_BUNDLE_DIR"
/* Default bundle folder: the Unity editor's working directory is the
 * project folder, so this is the project's StreamingAssets/VoiceSkins. */
#define VSKE_DEFAULT_BUNDLE_DIR "Assets/StreamingAssets/VoiceSkins"

typedef struct vske_effect vske_effect;

/* Sets the folder scanned for *.vskin by instances created from now on
 * (UTF-8; NULL or "" = back to the environment variable / default). The
 * next vske_create rescans. Returns 0, or -1 if the path is too long. */
int vske_set_bundle_folder(const char *folder);
/* The folder the next scan will use (static storage). */
const char *vske_bundle_folder(void);

/* Creates an instance for `sample_rate` and buffers of about `max_block`
 * frames (longer ones are split). Returns NULL only if memory runs out; a
 * missing or empty folder gives an instance with no voices (pass-through). */
vske_effect *vske_create(uint32_t sample_rate, uint32_t max_block);
void vske_destroy(vske_effect *fx);

void vske_set_voice(vske_effect *fx, int index);   /* registry index; others: dry */
void vske_set_tier(vske_effect *fx, int tier);     /* clamped to the voice's tiers */
void vske_set_mix(vske_effect *fx, float wet);     /* 0..1, clamped; NaN ignored */
int vske_get_voice(const vske_effect *fx);
int vske_get_tier(const vske_effect *fx);
float vske_get_mix(const vske_effect *fx);
/* CPU budget per voice, fraction of one core, 0 = off (dynamic quality:
 * vsk_switcher_set_cpu_budget); clamped to 0..1, NaN ignored. */
void vske_set_cpu_budget(vske_effect *fx, float fraction);
float vske_get_cpu_budget(const vske_effect *fx);
/* The tier the CPU governor allows the heard voice, -1 without one. */
int vske_governed_tier(const vske_effect *fx);

/* Converts `frames` interleaved frames of `channels` (1..VSKE_MAX_CHANNELS;
 * other counts pass through). `in == out` is allowed. */
void vske_process(vske_effect *fx, const float *in, float *out, uint32_t frames, int channels);
/* Clears all streaming state (voices, delay lines, crossfades). */
void vske_reset(vske_effect *fx);

uint32_t vske_latency(const vske_effect *fx);      /* frames, constant */
uint32_t vske_voice_count(const vske_effect *fx);
/* Tier count of voice `index` (0 if none). */
uint32_t vske_tier_count(const vske_effect *fx, int index);

#ifdef __cplusplus
}
#endif
#endif /* VSKE_EFFECT_H */
