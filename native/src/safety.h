/* safety.h — internal: the voice's guards against hostile audio
 * (docs/abi.md, "Hostile input").
 *
 * Three cheap stages, all real-time safe (branches only, no state):
 *   1. entry:  every host sample, on both the model and the dry path, is
 *              sanitised: NaN and ±Inf become 0 (garbage, not a loud
 *              signal), finite |x| > VSK_SAFE_LIMIT is clipped to
 *              ±VSK_SAFE_LIMIT, and |x| < VSK_SAFE_TINY
 *              (≈ −300 dBFS, subnormals included) becomes 0. No non-finite,
 *              huge or subnormal value ever reaches a resampler, a FIFO or a
 *              graph's state, so nothing sticks in a recurrent state and
 *              nothing squares its way into the subnormal range, with or
 *              without the CPU's FTZ/DAZ modes.
 *   2. step:   after each graph step the tier's hop of output is checked.
 *              A non-finite sample means the graph overflowed internally
 *              (from finite input): that tier's graph state is re-initialised
 *              at once (no vsk_voice_reset needed) and the step outputs
 *              silence; finite samples are clipped to ±VSK_SAFE_LIMIT.
 *   3. exit:   every output sample is clipped to ±VSK_SAFE_LIMIT
 *              (non-finite → 0),
 *              so |out| ≤ VSK_SAFE_LIMIT holds exactly, mix ramps and
 *              resampler overshoot included.
 * For finite input with VSK_SAFE_TINY ≤ |x| ≤ VSK_SAFE_LIMIT (and zeros)
 * stage 1 is the identity, so the dry path stays bit-exact there. */
#ifndef VSK_SAFETY_H
#define VSK_SAFETY_H

#include <float.h>
#include <math.h>
#include <stdint.h>

/* +18.06 dBFS: far above any sane signal, far below float overflow. */
#define VSK_SAFE_LIMIT 8.0f
/* −300 dBFS: far under any converter's noise floor (24-bit ≈ −144 dBFS). */
#define VSK_SAFE_TINY 1e-15f

/* Stage 1: one host input sample. */
static inline float vsk_safe_in(float x)
{
    /* selects, not branches, so loops over it vectorise */
    const float a = fabsf(x);
    const float kept = a >= VSK_SAFE_TINY ? x : 0.0f;
    /* huge but finite: clip; NaN, ±Inf: 0 */
    const float clipped = a <= FLT_MAX ? copysignf(VSK_SAFE_LIMIT, x) : 0.0f;
    return a <= VSK_SAFE_LIMIT ? kept : clipped; /* false for NaN */
}

/* Stage 3: one output sample. */
static inline float vsk_safe_out(float x)
{
    /* selects, not branches, so loops over it vectorise */
    const float a = fabsf(x);
    const float clipped = a <= FLT_MAX ? copysignf(VSK_SAFE_LIMIT, x) : 0.0f;
    return a <= VSK_SAFE_LIMIT ? x : clipped;
}

/* Stage 2: a graph step's output, in place. Returns 1 (and zeroes all n
 * samples) when any sample was non-finite, else clips and returns 0. */
int vsk_safe_step(float *y, uint32_t n);

#endif
