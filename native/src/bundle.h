/* bundle.h — internal: the in-memory form of a validated .vskin bundle.
 * Owned by bundle.c; read by voice.c and registry.c. */
#ifndef VSK_BUNDLE_H
#define VSK_BUNDLE_H

#include <stdatomic.h>
#include "graph.h"

#define VSK_MAX_TIERS 16

typedef struct vsk_tier {
    char name[33];
    uint32_t model_sample_rate;
    uint32_t hop_samples;
    uint32_t latency_samples;
    uint64_t parameter_count;     /* reported by get_tier_info: the manifest
                                     value, or the graph's count if that is 0 */
    uint64_t flops_per_second;    /* likewise (graph estimate if manifest 0) */
    uint64_t manifest_parameter_count;   /* as written in the MANIFEST */
    uint64_t manifest_flops_per_second;  /* as written in the MANIFEST */
    uint64_t cost_per_second;     /* worst case from the graph (never the
                                     manifest): what cost limits check */
    vsk_graph graph;
} vsk_tier;

struct vsk_bundle {
    atomic_uint refcount;
    uint32_t format_version;
    char voice_id[65];
    char display_name[129];
    char version[32];
    uint32_t version_major, version_minor, version_patch;
    uint32_t tier_count;
    vsk_tier tiers[VSK_MAX_TIERS];
    uint32_t tensor_count;
    vsk_tensor *tensors;
    uint32_t *spans;              /* the mostly-zero tensors' row spans
                                     (vsk_tensor.row_span point here) */
    size_t span_words;
    void *data;                   /* private, 64-byte aligned copy of file */
    size_t size;
    const uint8_t *qa;            /* QA section inside data (UTF-8 JSON), or
                                     NULL when the bundle has none */
    size_t qa_size;
    void *data_alloc;             /* what was allocated for data (freed) */
    vsk_allocator allocator;      /* every allocation of the bundle (zeros:
                                     the C heap); used again by the last
                                     release */
};

/* vsk_bundle_open_memory / _file with an allocator (NULL = the C heap) for
 * everything the bundle allocates (registry adds pass theirs). */
vsk_status vsk_bundle_open_memory_a(const void *data, size_t size,
                                    const vsk_allocator *a,
                                    vsk_bundle **out_bundle);
vsk_status vsk_bundle_open_file_a(const char *path, const vsk_allocator *a,
                                  vsk_bundle **out_bundle);

/* The cost rule (docs/abi.md, "Bounded cost"): VSK_OK when every tier's
 * cost_per_second is at most `limit` (0 = VSK_DEFAULT_MAX_COST_PER_SECOND),
 * else VSK_ERR_TOO_COSTLY after logging which tier, its cost and the limit
 * through `log` (may be NULL). `who` names the refusing call in the
 * message. Control threads (it may log). */
vsk_status vsk_bundle_check_cost(const vsk_bundle *b, uint64_t limit,
                                 vsk_log_fn log, void *log_user,
                                 const char *who);
/* 1 if every tier fits `limit` (0 = default); no logging, any thread. */
int vsk_bundle_cost_ok(const vsk_bundle *b, uint64_t limit);

#endif
