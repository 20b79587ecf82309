/*
 * vsk_host — the shortest honest example of the libvoiceskin ABI for engine
 * programmers: a registry on a folder, a voice in caller memory, a WAV
 * rendered buffer by buffer as an engine's audio callback would, tier
 * switches mid-stream, per-buffer timing.
 *
 *   vsk_host list   FOLDER
 *   vsk_host render FOLDER VOICE IN.wav OUT.wav [options]
 *
 * VOICE is a voice ID or a registry index. Options:
 *   --tier T          starting tier (index or name; default 0)
 *   --buffer N        fixed buffer size in frames (default 256)
 *   --stress          random buffer sizes 1..4096 (see --seed)
 *   --seed S          random seed for --stress (default 1)
 *   --switch SEC:T    request tier T at SEC seconds (repeatable); it takes
 *                     effect at the first buffer starting at or after SEC
 *   --mix W           wet amount 0..1 (default 1)
 *   --bypass          start bypassed (dry, delayed by the latency)
 *   --pcm16 | --float output sample format (default: the input's)
 *   --pace            call process at real-time pace (sleep until each
 *                     buffer is due), as an audio callback is called: the
 *                     timing then includes cold caches after each sleep,
 *                     which a tight loop hides (often several times faster)
 *   --rt              render on SCHED_FIFO priority 10 if permitted, as an
 *                     engine's audio thread runs (worst case without
 *                     preemption by other load)
 *
 * Everything between "audio thread begins" and "audio thread ends" is what
 * an engine runs per buffer: one vsk_voice_process call, plus the [any-rt]
 * vsk_voice_set_tier when the game asks for another quality.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "voiceskin.h"
#include "wav.h"

#define MAX_SWITCHES 16
#define STRESS_MAX 4096

static int check(vsk_status st, const char *what) {
    if (st != VSK_OK)
        fprintf(stderr, "vsk_host: %s: %s (%s)\n", what, vsk_status_name(st), vsk_status_string(st));
    return st != VSK_OK;
}

static void print_voice(uint32_t index, const vsk_bundle *b) {
    vsk_bundle_info info = {.struct_size = sizeof info};
    if (check(vsk_bundle_get_info(b, &info), "reading voice info")) return;
    printf("voice %u: %s \"%s\" %s, %u tier(s)\n", index, info.voice_id, info.display_name,
           info.version, info.tier_count);
    for (uint32_t t = 0; t < info.tier_count; t++) {
        vsk_tier_info ti = {.struct_size = sizeof ti};
        if (check(vsk_bundle_get_tier_info(b, t, &ti), "reading tier info")) return;
        printf("  tier %u: %-8s %u Hz, hop %u, latency %u samples, %llu params, %.1f MFLOP/s\n",
               t, ti.name, ti.model_sample_rate, ti.hop_samples, ti.latency_samples,
               (unsigned long long)ti.parameter_count, (double)ti.flops_per_second / 1e6);
    }
}

/* A tier argument: an index, or a name looked up in the bundle. */
static int parse_tier(const vsk_bundle *b, const char *s, uint32_t *out) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*s && !*end && !errno) { *out = (uint32_t)v; return 0; }
    return check(vsk_bundle_find_tier(b, s, out), s);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static uint32_t xorshift32(uint32_t *s) {
    uint32_t x = *s;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    return *s = x;
}

static int usage(void) {
    fprintf(stderr,
            "usage: vsk_host list FOLDER\n"
            "       vsk_host render FOLDER VOICE IN.wav OUT.wav [--tier T] [--buffer N | --stress]\n"
            "              [--seed S] [--switch SEC:TIER]... [--mix W] [--bypass] [--pcm16 | --float]\n"
            "              [--pace] [--rt]\n");
    return 2;
}

static vsk_registry *open_registry(const char *folder) {
    vsk_registry_config rc;
    vsk_registry_config_init(&rc);
    vsk_registry *reg = NULL;
    uint32_t added = 0, skipped = 0, count = 0;
    if (check(vsk_registry_create(&rc, &reg), "creating registry")) return NULL;
    if (check(vsk_registry_scan_folder(reg, folder, &added, &skipped), folder)) {
        vsk_registry_destroy(reg);
        return NULL;
    }
    vsk_registry_count(reg, &count);
    printf("registry: %u voice(s) from %s (%u file(s) skipped)\n", count, folder, skipped);
    return reg;
}

int main(int argc, char **argv) {
    if (argc < 3) return usage();
    if (vsk_abi_version() != VSK_ABI_VERSION) {
        fprintf(stderr, "vsk_host: library ABI %u, header ABI %u\n", vsk_abi_version(), VSK_ABI_VERSION);
        return 1;
    }
    printf("libvoiceskin %s (ABI %u)\n", vsk_version_string(), vsk_abi_version());

    vsk_registry *reg = open_registry(argv[2]);
    if (!reg) return 1;
    uint32_t count = 0;
    vsk_registry_count(reg, &count);

    if (!strcmp(argv[1], "list")) {
        for (uint32_t i = 0; i < count; i++) {
            vsk_bundle *b;
            if (!check(vsk_registry_get(reg, i, &b), "getting voice")) print_voice(i, b);
        }
        vsk_registry_destroy(reg);
        return 0;
    }
    if (strcmp(argv[1], "render") || argc < 6) { vsk_registry_destroy(reg); return usage(); }

    /* ---- which voice */
    const char *voice_arg = argv[3], *in_path = argv[4], *out_path = argv[5];
    uint32_t index;
    char *end;
    unsigned long v = strtoul(voice_arg, &end, 10);
    if (*voice_arg && !*end) index = (uint32_t)v;
    else if (check(vsk_registry_find(reg, voice_arg, &index), voice_arg)) { vsk_registry_destroy(reg); return 1; }
    vsk_bundle *bundle;
    if (check(vsk_registry_get(reg, index, &bundle), "getting voice")) { vsk_registry_destroy(reg); return 1; }
    print_voice(index, bundle);

    /* ---- options */
    uint32_t buffer = 256, seed = 1, tier = 0, bypass = 0, nswitch = 0;
    int stress = 0, out_format = 0, pace = 0, rt = 0;
    float mix = 1.0f;
    double switch_sec[MAX_SWITCHES];
    uint32_t switch_tier[MAX_SWITCHES];
    for (int i = 6; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--stress")) stress = 1;
        else if (!strcmp(a, "--bypass")) bypass = 1;
        else if (!strcmp(a, "--pace")) pace = 1;
        else if (!strcmp(a, "--rt")) rt = 1;
        else if (!strcmp(a, "--pcm16")) out_format = WAV_PCM16;
        else if (!strcmp(a, "--float")) out_format = WAV_FLOAT32;
        else if (val && !strcmp(a, "--buffer")) { buffer = (uint32_t)strtoul(val, NULL, 10); i++; }
        else if (val && !strcmp(a, "--seed")) { seed = (uint32_t)strtoul(val, NULL, 10); i++; }
        else if (val && !strcmp(a, "--mix")) { mix = strtof(val, NULL); i++; }
        else if (val && !strcmp(a, "--tier")) {
            if (parse_tier(bundle, val, &tier)) { vsk_registry_destroy(reg); return 1; }
            i++;
        } else if (val && !strcmp(a, "--switch") && nswitch < MAX_SWITCHES) {
            const char *colon = strchr(val, ':');
            if (!colon) { vsk_registry_destroy(reg); return usage(); }
            switch_sec[nswitch] = strtod(val, NULL);
            if (parse_tier(bundle, colon + 1, &switch_tier[nswitch])) { vsk_registry_destroy(reg); return 1; }
            nswitch++;
            i++;
        } else { vsk_registry_destroy(reg); return usage(); }
    }
    if (buffer == 0 || buffer > 1u << 20) { fprintf(stderr, "vsk_host: bad --buffer\n"); vsk_registry_destroy(reg); return 2; }
    if (seed == 0) seed = 1;

    /* ---- input */
    wav_audio in;
    const char *err;
    if (wav_read(in_path, &in, &err)) {
        fprintf(stderr, "vsk_host: %s: %s\n", in_path, err);
        vsk_registry_destroy(reg);
        return 1;
    }
    if (!out_format) out_format = in.format;

    /* ---- the voice, built in caller memory (an engine's own allocator) */
    vsk_voice_config cfg;
    vsk_voice_config_init(&cfg);
    cfg.sample_rate = in.sample_rate;
    cfg.channels = in.channels;
    cfg.max_block_frames = stress ? STRESS_MAX : buffer;
    cfg.initial_tier = tier;
    cfg.mix = mix;
    cfg.bypass = bypass;
    size_t bytes = 0;
    void *memory = NULL;
    vsk_voice *voice = NULL;
    uint32_t latency = 0;
    int rc = 1;
    if (check(vsk_voice_get_size(bundle, &cfg, &bytes), "sizing the voice")) goto done;
    memory = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!memory) { fprintf(stderr, "vsk_host: out of memory\n"); goto done; }
    if (check(vsk_voice_init(memory, bytes, bundle, &cfg, &voice), "creating the voice")) goto done;
    vsk_voice_get_latency(voice, &latency);
    printf("voice memory: %zu bytes\n", bytes);
    printf("latency: %u frames (%.2f ms at %u Hz)\n", latency, 1e3 * latency / in.sample_rate,
           in.sample_rate);

    /* ---- render, one engine buffer at a time */
    size_t max_buffers = stress ? in.frames : in.frames / buffer + 1;
    double *times = malloc((max_buffers + 1) * sizeof *times);
    float *out = malloc(((size_t)in.frames * in.channels + 1) * sizeof *out);
    if (!times || !out) { fprintf(stderr, "vsk_host: out of memory\n"); free(times); free(out); goto done; }
    uint32_t pos = 0, nbuf = 0, next_switch = 0, seed0 = seed;
    double total_us = 0;
    if (rt) {
        struct sched_param sp = {.sched_priority = 10};
        int e = sched_setscheduler(0, SCHED_FIFO, &sp);
        printf("scheduling: %s\n", e == 0 ? "SCHED_FIFO 10" : "normal (SCHED_FIFO not permitted)");
    }
    struct timespec due;
    clock_gettime(CLOCK_MONOTONIC, &due);
    while (pos < in.frames) {
        uint32_t n = stress ? 1 + xorshift32(&seed) % STRESS_MAX : buffer;
        if (n > in.frames - pos) n = in.frames - pos;
        for (uint32_t s = 0; s < nswitch; s++) {     /* game logic: quality changes */
            if (s >= next_switch && (double)pos >= switch_sec[s] * in.sample_rate) {
                if (check(vsk_voice_set_tier(voice, switch_tier[s]), "switching tier")) goto fail;
                printf("switch: frame %u -> tier %u\n", pos, switch_tier[s]);
                next_switch = s + 1;
            }
        }
        if (pace) { /* the engine's audio thread wakes once per buffer */
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
            long long ns = due.tv_nsec + (long long)n * 1000000000LL / in.sample_rate;
            due.tv_sec += (time_t)(ns / 1000000000LL);
            due.tv_nsec = (long)(ns % 1000000000LL);
        }
        const float *src = in.samples + (size_t)pos * in.channels;
        float *dst = out + (size_t)pos * in.channels;
        double t0 = now_us();
        /* ---- audio thread begins */
        vsk_status st = vsk_voice_process(voice, src, dst, n);
        /* ---- audio thread ends */
        double dt = now_us() - t0;
        if (check(st, "processing")) goto fail;
        times[nbuf++] = dt;
        total_us += dt;
        pos += n;
    }
    qsort(times, nbuf, sizeof *times, cmp_double);
    double audio_us = 1e6 * in.frames / in.sample_rate;
    size_t p99 = nbuf ? (size_t)(0.99 * (nbuf - 1) + 0.5) : 0;
    if (stress) printf("buffers: %u (random 1..%u frames, seed %u)\n", nbuf, STRESS_MAX, seed0);
    else printf("buffers: %u x %u frames (%.2f ms each)%s\n", nbuf, buffer,
                1e3 * buffer / in.sample_rate, pace ? ", real-time pace" : "");
    if (nbuf)
        printf("timing: median %.1f us, p99 %.1f us, worst %.1f us per buffer; cpu %.3f %% of real time\n",
               times[nbuf / 2], times[p99], times[nbuf - 1], 100.0 * total_us / audio_us);
    if (wav_write(out_path, out, in.frames, in.channels, in.sample_rate, (wav_format)out_format, &err)) {
        fprintf(stderr, "vsk_host: %s: %s\n", out_path, err);
        goto fail;
    }
    printf("wrote %s: %u frames, %u channel(s), %u Hz\n", out_path, in.frames, in.channels, in.sample_rate);
    rc = 0;
fail:
    free(times);
    free(out);
done:
    vsk_voice_destroy(voice);     /* NULL is fine; does not free `memory` */
    free(memory);
    wav_free(&in);
    vsk_registry_destroy(reg);
    return rc;
}
