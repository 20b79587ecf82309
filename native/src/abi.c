/* abi.c — allocator and log plumbing, ISA choice (see abi.h). Control
 * threads only: nothing here is reached from an [audio] call. */
#include "abi.h"

#include <stdarg.h>
#include <stdio.h>

#include "kernels.h"

void vsk_logf(vsk_log_fn fn, void *user, int32_t level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    if (!fn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fn(user, level, msg);
}

uint32_t vsk_isa_level(uint32_t isa)
{
    switch (isa) {
    case VSK_ISA_AVX2: return VSK_ISA_LEVEL_AVX2;
    case VSK_ISA_SSE2:
    case VSK_ISA_NEON: return VSK_ISA_LEVEL_SIMD128;
    default: return VSK_ISA_LEVEL_SCALAR;
    }
}

uint32_t vsk_isa_select(uint32_t max_level)
{
    uint32_t isa = vsk_isa_detect();
    if (max_level == VSK_ISA_LEVEL_BEST || vsk_isa_level(isa) <= max_level)
        return isa;
    /* Capped: the best level at or below the cap. */
    if (isa == VSK_ISA_AVX2 && max_level >= VSK_ISA_LEVEL_SIMD128)
        return VSK_ISA_SSE2;
    return VSK_ISA_SCALAR;
}
