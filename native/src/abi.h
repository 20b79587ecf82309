/* abi.h — internal: the struct_size growth rule (docs/abi.md, "Growing the
 * ABI"), the allocator/log plumbing and the ISA choice shared by voice.c,
 * voice_plan.c, registry.c and bundle.c.
 *
 * Growth rule: a caller's struct may be any size from the struct's first
 * published size (`min`) up to this library's sizeof (`full`). Configs are
 * read into a zeroed copy of the full struct, so every field the caller's
 * header did not have reads as 0 (= its default); a field that lies only
 * partly inside struct_size is zeroed too (`ends` lists the field ends
 * beyond `min`). Info structs are filled in a full local copy and only the
 * caller's struct_size bytes are written back. Smaller than `min` is
 * VSK_ERR_ABI_MISMATCH, larger than `full` VSK_ERR_STRUCT_TOO_NEW. */
#ifndef VSK_ABI_H
#define VSK_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(_WIN32)
#include <malloc.h> /* _aligned_malloc, _aligned_free */
#endif

#include "voiceskin.h"

/* First published sizes (0.3): the offset of the first field added since. */
#define VSK_VOICE_CONFIG_MIN_SIZE offsetof(vsk_voice_config, max_isa)
#define VSK_REGISTRY_CONFIG_MIN_SIZE offsetof(vsk_registry_config, reserved0)
#define VSK_TIER_INFO_MIN_SIZE offsetof(vsk_tier_info, cost_per_second)
#define VSK_BUNDLE_INFO_MIN_SIZE sizeof(vsk_bundle_info)
#define VSK_TIER_STATE_MIN_SIZE offsetof(vsk_tier_state, governed_tier)

/* Checks `size` against [min, full]: VSK_OK, VSK_ERR_ABI_MISMATCH or
 * VSK_ERR_STRUCT_TOO_NEW. */
static inline vsk_status vsk_struct_size_check(uint32_t size, size_t min,
                                               size_t full)
{
    if (size < min)
        return VSK_ERR_ABI_MISMATCH;
    if (size > full)
        return VSK_ERR_STRUCT_TOO_NEW;
    return VSK_OK;
}

/* Reads a caller's config (`in`, in->struct_size bytes, already checked)
 * into `out` (`full` bytes): zero-filled past the last field that lies
 * wholly inside struct_size. `ends` (ascending, `n_ends` entries) are the
 * end offsets of the fields after `min`. */
static inline void vsk_struct_load(const void *in, uint32_t size, size_t min,
                                   const size_t *ends, size_t n_ends,
                                   void *out, size_t full)
{
    size_t keep = min;
    for (size_t i = 0; i < n_ends; i++)
        if (ends[i] <= size)
            keep = ends[i];
    memset(out, 0, full);
    memcpy(out, in, keep);
}

/* A caller's config (struct_size and abi_version are its first two u32):
 * size checked against [min, full], abi_version against VSK_ABI_VERSION,
 * then loaded into `out` by vsk_struct_load. VSK_OK, VSK_ERR_ABI_MISMATCH
 * or VSK_ERR_STRUCT_TOO_NEW. */
static inline vsk_status vsk_config_load(const void *in, uint32_t size,
                                         uint32_t abi_version, size_t min,
                                         const size_t *ends, size_t n_ends,
                                         void *out, size_t full)
{
    vsk_status st = vsk_struct_size_check(size, min, full);
    if (st != VSK_OK)
        return st;
    if (abi_version != VSK_ABI_VERSION)
        return VSK_ERR_ABI_MISMATCH;
    vsk_struct_load(in, size, min, ends, n_ends, out, full);
    return VSK_OK;
}

/* *_config_init_size: zeroes `d` (`full` bytes, the library's config) and
 * sets its struct_size and abi_version (its first two u32). Returns how
 * many bytes of it to copy to the caller, `size` capped at `full`; 0 (copy
 * nothing) when `config` is NULL or `size` cannot hold struct_size. */
static inline uint32_t vsk_config_init(const void *config, void *d, size_t full,
                                       uint32_t size)
{
    if (!config)
        return 0;
    if (size > full)
        size = (uint32_t)full;
    if (size < sizeof(uint32_t))
        return 0;
    const uint32_t head[2] = {size, VSK_ABI_VERSION};
    memset(d, 0, full);
    memcpy(d, head, sizeof head);
    return size;
}

/* Writes a filled info struct back: only the caller's struct_size bytes
 * (its own struct_size stays as it was). */
static inline void vsk_struct_store(void *caller, const void *filled,
                                    uint32_t size)
{
    memcpy((uint8_t *)caller + sizeof(uint32_t),
           (const uint8_t *)filled + sizeof(uint32_t),
           size - sizeof(uint32_t));
}

/* Allocator: the caller's, or the C heap when `a` is NULL or both its
 * functions are NULL. `alignment`: a power of two <= 64. Control threads
 * only. (Inline so that white-box tests including one source file link.) */
static inline void *vsk_mem_alloc(const vsk_allocator *a, size_t size,
                                  size_t alignment)
{
    if (size == 0)
        size = 1;
    if (a && a->alloc)
        return a->alloc(a->user, size, alignment);
    if (alignment < sizeof(void *))
        alignment = sizeof(void *);
    if (size > SIZE_MAX - alignment)
        return NULL;
    /* C11 aligned_alloc wants a multiple of the alignment. */
    size = (size + alignment - 1) & ~(alignment - 1);
#if defined(_WIN32)
    return _aligned_malloc(size, alignment);
#else
    return aligned_alloc(alignment, size);
#endif
}
/* `size` is what was asked of vsk_mem_alloc. NULL is a no-op. */
static inline void vsk_mem_free(const vsk_allocator *a, void *p, size_t size)
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
/* Zeroed memory (calloc through the allocator). */
static inline void *vsk_mem_calloc(const vsk_allocator *a, size_t size)
{
    void *p = vsk_mem_alloc(a, size, 16);
    if (p)
        memset(p, 0, size ? size : 1);
    return p;
}
/* VSK_OK if both or neither function is set, else INVALID_ARGUMENT. */
static inline vsk_status vsk_allocator_check(const vsk_allocator *a)
{
    return (a->alloc == NULL) == (a->free == NULL) ? VSK_OK
                                                   : VSK_ERR_INVALID_ARGUMENT;
}

/* printf-style message to a log callback (no-op when `fn` is NULL).
 * Control threads only. */
void vsk_logf(vsk_log_fn fn, void *user, int32_t level, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* The kernels.h instruction set a voice uses: detected once (CPUID on
 * x86) and capped at `max_level` (VSK_ISA_LEVEL_*). Control threads only. */
uint32_t vsk_isa_select(uint32_t max_level);
/* VSK_ISA_LEVEL_* of a kernels.h instruction set. */
uint32_t vsk_isa_level(uint32_t isa);

#endif
