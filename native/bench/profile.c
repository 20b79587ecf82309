/* profile.c — per-node cost profile of one tier (benchmarks only; not part
 * of the library, and the library's audio path has no clock reads).
 *
 * Built from the library's sources (benchmarks/op_profile.py compiles it
 * with the library's flags), so it can reach the internal graph. For one
 * tier it streams a host-rate signal buffer by buffer and, interleaved in
 * the same loop:
 *   - times vsk_voice_process on the buffer (the real voice: resampling,
 *     FIFO, guards, graph), one clock read before and after;
 *   - runs the graph steps that fall in that buffer on a second runtime of
 *     the same graph, fed a model-rate signal, with vsk_graph_step_timed
 *     (one clock read between nodes).
 *
 *   profile BUNDLE TIER HOST_RATE BUFFER HOST.f32 MODEL.f32
 *
 * HOST.f32 / MODEL.f32: raw float32 mono at the host and the tier's model
 * rate. Prints one JSON object: per-buffer voice times (median, p99, mean,
 * µs), the clock read's own cost (ns, subtracted from every node), steps
 * per buffer, and per node its op, median and mean ns per step. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "bundle.h"
#include "graph.h"
#include "kernels.h"
#include "ops.h"
#include "voiceskin.h"

static uint64_t now_ns(void *user)
{
    (void)user;
    return bench_now_ns();
}

static float *read_f32(const char *path, size_t *n)
{
    size_t bytes = 0;
    float *x = bench_read_file(path, &bytes);
    *n = bytes / sizeof(float);
    return x;
}

/* sorts v in place; the q-quantile (nearest rank) */
static double quantile(uint64_t *v, size_t n, double q)
{
    if (!n) return 0.0;
    qsort(v, n, sizeof *v, bench_cmp_u64);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)v[i < n ? i : n - 1];
}
static double mean(const uint64_t *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += (double)v[i];
    return n ? s / (double)n : 0.0;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s BUNDLE TIER HOST_RATE BUFFER HOST.f32 MODEL.f32\n", argv[0]);
        return 2;
    }
    const uint32_t tier = (uint32_t)atoi(argv[2]), rate = (uint32_t)atoi(argv[3]);
    const uint32_t B = (uint32_t)atoi(argv[4]);
    size_t nh = 0, nm = 0;
    float *xh = read_f32(argv[5], &nh), *xm = read_f32(argv[6], &nm);
    vsk_bundle *b = NULL;
    if (!xh || !xm || vsk_bundle_open_file(argv[1], &b) != VSK_OK || tier >= b->tier_count) {
        fprintf(stderr, "profile: cannot read the inputs or open tier %u\n", tier);
        return 1;
    }
    const vsk_tier *t = &b->tiers[tier];
    const vsk_graph *g = &t->graph;
    const uint32_t hop = g->hop, nodes = g->node_count;

    vsk_voice_config cfg;
    bench_voice_config(&cfg, rate, B, tier);
    vsk_voice *voice = NULL;
    if (vsk_voice_create(b, &cfg, &voice) != VSK_OK) {
        fprintf(stderr, "profile: voice create failed\n");
        return 1;
    }
    const uint32_t isa = vsk_isa_detect();
    const size_t rt_bytes = (vsk_graph_runtime_bytes(g) + 63) & ~(size_t)63;
    void *rt = aligned_alloc(64, rt_bytes);
    vsk_graph_runtime_init(g, rt, isa);

    const size_t nbuf = nh / B;
    const size_t max_steps = nm / hop;
    uint64_t *buf_ns = calloc(nbuf ? nbuf : 1, sizeof *buf_ns);
    uint64_t *node_ns = calloc((size_t)nodes * (max_steps ? max_steps : 1), sizeof *node_ns);
    float *out = calloc(B > hop ? B : hop, sizeof(float));
    size_t done = 0;
    for (size_t i = 0; i < nbuf; ++i) {
        uint64_t t0 = now_ns(NULL);
        vsk_voice_process(voice, xh + i * B, out, B);
        buf_ns[i] = now_ns(NULL) - t0;
        const size_t avail = (size_t)(((uint64_t)(i + 1) * B * t->model_sample_rate) / rate) / hop;
        for (; done < avail && done < max_steps; ++done)
            vsk_graph_step_timed(g, rt, xm + done * hop, out, now_ns, NULL,
                                 node_ns + done * nodes);
    }
    /* the clock read's own cost (one read per node is inside each node's
     * time): the median gap between back-to-back reads */
    uint64_t gaps[4096];
    for (size_t k = 0; k < 4096; ++k) {
        uint64_t a = now_ns(NULL);
        gaps[k] = now_ns(NULL) - a;
    }
    const double clock_ns = quantile(gaps, 4096, 0.5);

    const size_t skip = nbuf > 40 ? 20 : 0;  /* cold caches */
    const size_t steps = done, sskip = steps > 40 ? 20 : 0;
    printf("{\"tier\": \"%s\", \"model_rate\": %u, \"hop\": %u, \"isa\": \"%s\", ", t->name,
           t->model_sample_rate, hop, vsk_isa_name(isa));
    printf("\"buffers\": %zu, \"steps\": %zu, \"steps_per_buffer\": %.6f, \"clock_ns\": %.1f, ",
           nbuf - skip, steps - sskip,
           (double)t->model_sample_rate * B / ((double)rate * hop), clock_ns);
    const double bmean = mean(buf_ns + skip, nbuf - skip) / 1e3;
    const double bp99 = quantile(buf_ns + skip, nbuf - skip, 0.99) / 1e3;
    const double bmed = quantile(buf_ns + skip, nbuf - skip, 0.5) / 1e3;
    printf("\"voice_us\": {\"median\": %.3f, \"p99\": %.3f, \"mean\": %.3f}, \"nodes\": [", bmed,
           bp99, bmean);
    uint64_t *col = calloc(steps ? steps : 1, sizeof *col);
    for (uint32_t k = 0; k < nodes; ++k) {
        for (size_t s = 0; s < steps; ++s) {
            uint64_t v = node_ns[s * nodes + k];
            col[s] = v > (uint64_t)clock_ns ? v - (uint64_t)clock_ns : 0;
        }
        const double mn = mean(col + sskip, steps - sskip);
        const double md = quantile(col + sskip, steps - sskip, 0.5);
        const vsk_op_def *op = vsk_op_lookup(g->nodes[k].op);
        printf("%s{\"op\": \"%s\", \"median_ns\": %.1f, \"mean_ns\": %.1f, \"cost\": %llu}",
               k ? ", " : "", op ? op->name : "?", md, mn,
               (unsigned long long)g->nodes[k].cost);
    }
    printf("]}\n");
    free(col);
    free(out);
    free(node_ns);
    free(buf_ns);
    free(rt);
    vsk_voice_destroy(voice);
    vsk_bundle_release(b);
    free(xh);
    free(xm);
    return 0;
}
