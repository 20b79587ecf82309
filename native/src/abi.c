/* abi.c — allocator and log plumbing, ISA choice (see abi.h). Control
 * threads only: nothing here is reached from an [audio] call. */
#include "abi.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(_WIN32)
#include <malloc.h> /* _aligned_malloc, _aligned_free */
#endif

#include "kernels.h"

vsk_status vsk_allocator_check(const vsk_allocator *a)
{
    return (a->alloc == NULL) == (a->free == NULL) ? VSK_OK
                                                   : VSK_ERR_INVALID_ARGUMENT;
}

void *vsk_mem_alloc(const vsk_allocator *a, size_t size, size_t alignment)
{
    if (size == 0)
        size = 1;
    if (a && a->alloc)
        return a->alloc(a->user, size, alignment);
    if (alignment < sizeof(void *))
        alignment = sizeof(void *);
    /* C11 aligned_alloc wants a multiple of the alignment. */
    if (size > SIZE_MAX - alignment)
        return NULL;
    size = (size + alignment - 1) & ~(alignment - 1);
#if defined(_WIN32)
    return _aligned_malloc(size, alignment);
#else
    return aligned_alloc(alignment, size);
#endif
}

void vsk_mem_free(const vsk_allocator *a, void *p, size_t size)
{
    if (!p)
        return;
    if (a && a->free) {
        a->free(a->user, p, size ? size : 1);
        return;
    }
#if defined(_WIN32)
    _aligned_free(p);
#else
    free(p);
#endif
}

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
