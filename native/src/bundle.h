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
    void *data;                   /* private, 64-byte aligned copy of file */
    size_t size;
    const uint8_t *qa;            /* QA section inside data (UTF-8 JSON), or
                                     NULL when the bundle has none */
    size_t qa_size;
    void *data_alloc;             /* what malloc returned for data (freed) */
};

#endif
