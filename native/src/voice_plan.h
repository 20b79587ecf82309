/* voice_plan.h — internal: a voice's configuration checks, latency and
 * memory plan (voice_plan.c; docs/abi.md "Voice: latency, tiers, mix").
 * Pure arithmetic over the bundle and the config: voice.c uses it, and it
 * does not depend on the voice object's layout (voice.h). */
#ifndef VSK_VOICE_PLAN_H
#define VSK_VOICE_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "resample.h"
#include "voiceskin.h"

#define VSK_VOICE_MAX_BLOCK 65536u
#define VSK_VOICE_MAX_CHANNELS 8u
#define VSK_VOICE_MAX_LATENCY_S 4u

#define VSK_A64(n) (((n) + (size_t)63) & ~(size_t)63)

/* Everything about the memory block, computed without allocating. */
typedef struct vsk_plan {
    uint32_t latency;
    uint32_t even;                  /* VSK_SCHEDULE_EVEN */
    uint32_t rate_count;
    uint32_t rate_of_tier[VSK_MAX_TIERS];
    uint32_t model_rate[VSK_MAX_TIERS];
    vsk_rs_spec down[VSK_MAX_TIERS], up[VSK_MAX_TIERS];  /* per rate */
    uint64_t pad[VSK_MAX_TIERS];
    uint32_t warm[VSK_MAX_TIERS];
    uint32_t down_cap[VSK_MAX_TIERS], up_cap[VSK_MAX_TIERS];
    uint32_t queue_cap[VSK_MAX_TIERS];  /* even: model samples waiting */
    size_t off_down_table[VSK_MAX_TIERS], off_up_table[VSK_MAX_TIERS];
    size_t off_down_hist[VSK_MAX_TIERS], off_up_hist[VSK_MAX_TIERS];
    size_t off_fifo[VSK_MAX_TIERS], off_runtime[VSK_MAX_TIERS];
    size_t off_queue[VSK_MAX_TIERS];
    size_t off_dry, off_mono, off_conv0, off_conv1, off_step;
    size_t total;
} vsk_plan;

/* Reads a caller's config under the struct_size growth rule (abi.h) into
 * `out` (fields the caller's header lacked = 0, then defaults applied):
 * INVALID_ARGUMENT (NULL), ABI_MISMATCH, STRUCT_TOO_NEW or VSK_OK. */
vsk_status vsk_voice_config_load(const vsk_bundle *b,
                                 const vsk_voice_config *in,
                                 vsk_voice_config *out);
/* Checks a loaded configuration against the bundle and plans the voice's
 * block: the voice object (`header_bytes`, i.e. sizeof(struct vsk_voice))
 * first, then every part at a 64-byte aligned offset. VSK_OK or the status
 * vsk_voice_get_size documents. Allocates nothing. */
vsk_status vsk_voice_plan(const vsk_bundle *b, const vsk_voice_config *c,
                          size_t header_bytes, vsk_plan *p);

#endif
