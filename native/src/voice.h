/* voice.h — internal: the voice object's layout and its memory plan.
 * Owned by voice.c (lifetime, processing, controls) and voice_plan.c
 * (configuration checks, latency and memory planning). */
#ifndef VSK_VOICE_H
#define VSK_VOICE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "graph.h"
#include "resample.h"
#include "voiceskin.h"

#define VSK_VOICE_MAX_BLOCK 65536u
#define VSK_VOICE_MAX_CHANNELS 8u
#define VSK_VOICE_MAX_LATENCY_S 4u
#define VSK_XFADE_S 0.010
#define VSK_MIX_RAMP_S 0.005

#define VSK_A64(n) (((n) + (size_t)63) & ~(size_t)63)

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
    size_t owned_bytes;             /* its size (for allocator.free) */
    vsk_allocator allocator;        /* config's, used by destroy */
    uint32_t isa;                   /* kernels.h, chosen once at init */
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
    /* [any-rt] published by the audio thread: audible tier (low 16 bits)
     * and incoming tier + 1 (high 16 bits, 0 = none) */
    atomic_uint tier_state;
    /* [any-rt] requests */
    atomic_uint req_tier;
    atomic_uint mix_bits;
    atomic_int bypass;
};

/* Everything about the memory block, computed without allocating. */
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

/* Reads a caller's config under the struct_size growth rule (abi.h) into
 * `out` (fields the caller's header lacked = 0, then defaults applied):
 * INVALID_ARGUMENT (NULL), ABI_MISMATCH, STRUCT_TOO_NEW or VSK_OK. */
vsk_status vsk_voice_config_load(const vsk_bundle *b,
                                 const vsk_voice_config *in,
                                 vsk_voice_config *out);
/* Checks a loaded configuration against the bundle and plans the voice:
 * VSK_OK or the status vsk_voice_get_size documents. Allocates nothing. */
vsk_status vsk_voice_plan(const vsk_bundle *b, const vsk_voice_config *c,
                          vsk_plan *p);

#endif
