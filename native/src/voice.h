/* voice.h — internal: the voice object's layout, owned by voice.c
 * (lifetime, processing, controls; the switcher reads it too). Its memory
 * plan is voice_plan.h: voice.c depends on the plan, the plan knows nothing
 * of this layout. */
#ifndef VSK_VOICE_H
#define VSK_VOICE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "governor.h"
#include "graph.h"
#include "resample.h"
#include "voice_plan.h"
#include "voiceskin.h"

#define VSK_XFADE_S 0.010
#define VSK_MIX_RAMP_S 0.005

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
    /* VSK_SCHEDULE_EVEN only (voice.c, pipe_run_even): model samples not
     * yet in a step, the step in flight and the work the schedule owes */
    float *queue;                   /* queue_cap floats */
    uint32_t queue_cap, queue_head, queue_len;
    uint32_t in_step, node;         /* a step is in flight; its next node */
    double credit;                  /* cost units owed (> 0: behind) */
    double cost_per_sample;         /* the graph's cost_per_step / hop */
    double work;                    /* cost units run so far (diagnostic,
                                       read by test_voice_schedule) */
} vsk_pipe;

struct vsk_voice {
    vsk_bundle *bundle;
    void *owned;                    /* set when vsk_voice_create allocated */
    size_t owned_bytes;             /* its size (for allocator.free) */
    vsk_allocator allocator;        /* config's, used by destroy */
    uint32_t isa;                   /* kernels.h, chosen once at init */
    uint32_t rate, channels, max_block, tier_count;
    uint32_t latency;               /* host frames */
    uint32_t even;                  /* VSK_SCHEDULE_EVEN */
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
    /* CPU governor (governor.h): caps the requested tier */
    vsk_governor gov;
};

#endif
