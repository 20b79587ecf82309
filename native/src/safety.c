/* safety.c — the per-step guard of safety.h. */
#include "safety.h"

#include <string.h>

int vsk_safe_step(float *y, uint32_t n)
{
    /* x - x is 0 for finite x and NaN for NaN/±Inf: one pass, no branch
     * per sample, vectorisable. */
    float acc = 0.0f;
    for (uint32_t i = 0; i < n; i++)
        acc += y[i] - y[i];
    if (acc != 0.0f || acc != acc) {
        memset(y, 0, (size_t)n * sizeof *y);
        return 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        float v = y[i];
        v = v > VSK_SAFE_LIMIT ? VSK_SAFE_LIMIT : v;
        y[i] = v < -VSK_SAFE_LIMIT ? -VSK_SAFE_LIMIT : v;
    }
    return 0;
}
