/*
 * voiceskin.h — the whole public ABI of libvoiceskin.
 *
 * voiceskin runs small streaming "voice skin" networks (distilled students)
 * per audio buffer. Three objects:
 *
 *   vsk_bundle    an immutable, validated .vskin file (weights + tier graphs).
 *                 Shareable: any number of voices on any threads may use one.
 *   vsk_voice     one audio stream converted through one bundle. All memory
 *                 is planned and allocated at create; processing allocates
 *                 nothing, locks nothing and does no I/O.
 *   vsk_registry  the plugin registry: bundles added by path, memory or folder
 *                 scan; voices and their quality tiers enumerated for menus.
 *
 * Conventions
 *   - Every function that can fail returns vsk_status: VSK_OK (0) or a
 *     negative error code; vsk_status_name()/vsk_status_string() describe it.
 *   - Out-parameters are written only on success.
 *   - Config and info structs begin with `struct_size`; fill configs with
 *     the matching *_config_init() first, then change what you need. The
 *     library accepts any struct_size from the struct's first published size
 *     up to its own (fields past a smaller size read as zero = default; info
 *     fields past it are not written) and refuses a larger one with
 *     VSK_ERR_STRUCT_TOO_NEW. New fields are only ever appended.
 *   - Enums are 32-bit integers on the wire (int32_t typedefs).
 *   - Strings are UTF-8, NUL-terminated, owned by the object that returned
 *     them and valid for its lifetime.
 *
 * Threading (see docs/abi.md for the full table)
 *   [any]     may be called from any thread, concurrently with anything.
 *   [control] not real-time safe (may allocate / do I/O); calls on one object
 *             must not run concurrently with other calls on that object.
 *   [audio]   real-time safe: no heap allocation, no locks, no I/O, no
 *             logging, bounded time. Meant for the audio thread. Calls on one
 *             voice must not run concurrently with each other, except the
 *             setters marked [any-rt], which may be called from any thread
 *             while the audio thread processes (they only store atomics).
 */
#ifndef VOICESKIN_H
#define VOICESKIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && !defined(VSK_STATIC)
#  ifdef VSK_BUILDING_LIBRARY
#    define VSK_API __declspec(dllexport)
#  else
#    define VSK_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define VSK_API __attribute__((visibility("default")))
#else
#  define VSK_API
#endif

/* ---------------------------------------------------------------- versions */

/** ABI version. Bumped only on an incompatible change (a function removed or
 *  changed, a field moved, resized or given a new meaning); appending a
 *  field to a struct or adding a function or status is compatible and bumps
 *  VSK_VERSION_MINOR instead (docs/abi.md, "Growing the ABI"). Hosts pass
 *  the value they were compiled with in vsk_voice_config.abi_version and
 *  vsk_registry_config.abi_version; a mismatch gives VSK_ERR_ABI_MISMATCH. */
#define VSK_ABI_VERSION 1

#define VSK_VERSION_MAJOR 0
#define VSK_VERSION_MINOR 7
#define VSK_VERSION_PATCH 0

/** Library version as (major << 16) | (minor << 8) | patch. [any] */
VSK_API uint32_t vsk_version(void);
/** Library version as "major.minor.patch". Static string. [any] */
VSK_API const char *vsk_version_string(void);
/** The VSK_ABI_VERSION the library was built with. [any] */
VSK_API uint32_t vsk_abi_version(void);

/* ---------------------------------------------------------------- statuses */

typedef int32_t vsk_status;
enum {
    VSK_OK = 0,
    VSK_ERR_INVALID_ARGUMENT = -1,   /* NULL pointer, value out of range   */
    VSK_ERR_NO_MEMORY = -2,          /* allocation failed (control calls)  */
    VSK_ERR_IO = -3,                 /* file could not be opened or read   */
    VSK_ERR_BAD_MAGIC = -4,          /* not a .vskin file                  */
    VSK_ERR_UNSUPPORTED_VERSION = -5,/* .vskin format version unknown      */
    VSK_ERR_TRUNCATED = -6,          /* file shorter than it declares      */
    VSK_ERR_CHECKSUM = -7,           /* integrity checksum mismatch        */
    VSK_ERR_CORRUPT = -8,            /* structure invalid (bad offsets...) */
    VSK_ERR_TOO_LARGE = -9,          /* exceeds a documented size limit    */
    VSK_ERR_UNSUPPORTED_OP = -10,    /* graph uses an op this build lacks  */
    VSK_ERR_ABI_MISMATCH = -11,      /* struct_size / abi_version mismatch */
    VSK_ERR_UNSUPPORTED_RATE = -12,  /* sample rate outside 8..192 kHz     */
    VSK_ERR_NOT_FOUND = -13,         /* no such voice / tier / index       */
    VSK_ERR_DUPLICATE = -14,         /* registry: same voice ID & version  */
    VSK_ERR_BUFFER_TOO_SMALL = -15,  /* caller memory smaller than needed  */
    VSK_ERR_BAD_STATE = -16,         /* call not valid in object's state   */
    VSK_ERR_STRUCT_TOO_NEW = -17,    /* struct_size larger than this
                                        library's struct (newer header)     */
    VSK_ERR_TOO_COSTLY = -18         /* a tier's worst-case cost, computed
                                        from its graph, exceeds the
                                        configured max_cost_per_second      */
};

/** Symbolic name of a status, e.g. "VSK_ERR_CHECKSUM". Static. [any] */
VSK_API const char *vsk_status_name(vsk_status status);
/** Human-readable description of a status. Static. [any] */
VSK_API const char *vsk_status_string(vsk_status status);

/* ------------------------------------------------- allocator, log, limits */

/** Optional allocator for a registry or voice (all NULL = the C heap). Used
 *  only by [control] calls on the object it was given to, never on the
 *  audio thread. `alloc` returns `size` bytes aligned to `alignment` (a
 *  power of two, at most 64) or NULL; `free` gets the pointer and the size
 *  that was asked for. Set both or neither (one alone is
 *  VSK_ERR_INVALID_ARGUMENT). */
typedef struct vsk_allocator {
    void *(*alloc)(void *user, size_t size, size_t alignment);
    void (*free)(void *user, void *ptr, size_t size);
    void *user;
} vsk_allocator;

/** Log levels of vsk_log_fn. */
enum { VSK_LOG_ERROR = 0, VSK_LOG_WARNING = 1, VSK_LOG_INFO = 2 };
/** Optional log callback (NULL = silent). Called only from [control] calls
 *  on the object it was given to (never on the audio thread), on that call's
 *  thread, with a NUL-terminated UTF-8 message valid during the call; it
 *  says why a call failed where the status alone does not (e.g. which tier
 *  is too costly and by how much). */
typedef void (*vsk_log_fn)(void *user, int32_t level, const char *message);

/** Default of max_cost_per_second (registry and voice configs): worst-case
 *  operations per second of audio one tier may need, counted by the
 *  library from the tier's graph (one operation ~ one vectorised
 *  multiply-add or float copied; docs/abi.md, "Bounded cost"). Measured,
 *  one operation takes 0.1-0.21 ns of one x86-64 core (AVX2), so the
 *  default is 5-10 % of one core; the student tiers need 11-27 % of it. */
#define VSK_DEFAULT_MAX_COST_PER_SECOND 500000000ull
/** max_cost_per_second value that disables the limit. */
#define VSK_COST_UNLIMITED UINT64_MAX

/** Caps on the SIMD instruction set (vsk_voice_config.max_isa). Different
 *  instruction sets round differently (FMA, summation order); a cap makes
 *  outputs bit-identical across machines that support it. */
enum {
    VSK_ISA_LEVEL_BEST = 0,     /* no cap: the best this CPU has (default) */
    VSK_ISA_LEVEL_SCALAR = 1,   /* plain C                                 */
    VSK_ISA_LEVEL_SIMD128 = 2,  /* SSE2 (x86-64) or NEON (AArch64)         */
    VSK_ISA_LEVEL_AVX2 = 3      /* AVX2 + FMA (x86-64)                     */
};

/* ------------------------------------------------------------------ bundle */

typedef struct vsk_bundle vsk_bundle;

/** Opens a bundle from memory. The bytes are copied and fully validated
 *  (structure, checksum, every graph); `data` may be freed on return.
 *  [control] */
VSK_API vsk_status vsk_bundle_open_memory(const void *data, size_t size,
                                          vsk_bundle **out_bundle);
/** Opens a bundle from a file path (UTF-8). Same validation. [control] */
VSK_API vsk_status vsk_bundle_open_file(const char *path,
                                        vsk_bundle **out_bundle);
/** Adds a reference. Voices and registries hold their own. [any] */
VSK_API void vsk_bundle_retain(vsk_bundle *bundle);
/** Drops a reference; the bundle is freed when the last one goes. Passing
 *  NULL is a no-op. [control] (frees memory) */
VSK_API void vsk_bundle_release(vsk_bundle *bundle);

typedef struct vsk_bundle_info {
    uint32_t struct_size;        /* = sizeof(vsk_bundle_info), set by caller */
    const char *voice_id;        /* stable ID, e.g. "demo.aria"             */
    const char *display_name;    /* for menus, e.g. "Aria"                  */
    const char *version;         /* "major.minor.patch" of this voice       */
    uint32_t tier_count;         /* >= 1, ordered lowest to highest quality */
    uint32_t format_version;     /* .vskin format version of the file       */
} vsk_bundle_info;

/** Fills `info` (caller sets info->struct_size first). [any] */
VSK_API vsk_status vsk_bundle_get_info(const vsk_bundle *bundle,
                                       vsk_bundle_info *info);

typedef struct vsk_tier_info {
    uint32_t struct_size;        /* = sizeof(vsk_tier_info), set by caller  */
    const char *name;            /* "low", "medium", "high", "ultra", ...   */
    uint32_t model_sample_rate;  /* rate the student runs at (Hz)           */
    uint32_t hop_samples;        /* samples per network step at model rate */
    uint32_t latency_samples;    /* algorithmic latency at model rate,
                                    excluding host resampling               */
    uint64_t parameter_count;    /* weights in this tier's graph            */
    uint64_t flops_per_second;   /* the manifest's cost estimate (or the
                                    library's if the manifest says 0):
                                    informative only, never trusted         */
    /* since 0.4 */
    uint64_t cost_per_second;    /* worst-case operations per second of
                                    audio, computed by the library from the
                                    graph (what max_cost_per_second limits) */
} vsk_tier_info;

/** Fills `info` for tier `index` (0 .. tier_count-1). [any] */
VSK_API vsk_status vsk_bundle_get_tier_info(const vsk_bundle *bundle,
                                            uint32_t index,
                                            vsk_tier_info *info);
/** Finds a tier by name; VSK_ERR_NOT_FOUND if absent. [any] */
VSK_API vsk_status vsk_bundle_find_tier(const vsk_bundle *bundle,
                                        const char *name, uint32_t *out_index);

/* ------------------------------------------------------------------- voice */

typedef struct vsk_voice vsk_voice;

/** A monotonic clock in nanoseconds (any epoch), for the CPU governor
 *  (vsk_voice_config.clock; since 0.5). Called on the audio thread, twice
 *  per vsk_voice_process while a budget is set, never otherwise: it must
 *  be real-time safe. Meant for tests and for hosts with their own clock;
 *  NULL uses the system's (clock_gettime(CLOCK_MONOTONIC);
 *  QueryPerformanceCounter on Windows). */
typedef uint64_t (*vsk_clock_fn)(void *user);

/** A CPU budget shared by several voices (since 0.5): each member voice
 *  (vsk_voice_config.shared_budget) governs its tier against its share, on
 *  whatever thread it runs. Shares follow need (since 0.6): the budget
 *  minus what the members running their requested tier use, divided
 *  equally among the members held below theirs, and never less than
 *  budget / members. Only atomics: members join at voice init and leave at
 *  vsk_voice_destroy. Every vsk_registry has one
 *  (vsk_registry_get_cpu_budget). */
typedef struct vsk_cpu_budget vsk_cpu_budget;

typedef struct vsk_voice_config {
    uint32_t struct_size;        /* = sizeof(vsk_voice_config)              */
    uint32_t abi_version;        /* = VSK_ABI_VERSION                       */
    uint32_t sample_rate;        /* host rate, 8000 .. 192000 Hz            */
    uint32_t channels;           /* 1 .. 8, interleaved                     */
    uint32_t max_block_frames;   /* typical largest buffer; larger buffers
                                    are processed in pieces, never refused  */
    uint32_t initial_tier;       /* tier index to start with                */
    float mix;                   /* wet amount 0..1 (1 = fully converted)   */
    uint32_t bypass;             /* nonzero = start bypassed                */
    /* since 0.4 (an older, smaller struct_size reads these as 0) */
    uint32_t max_isa;            /* VSK_ISA_LEVEL_*: cap on the SIMD level,
                                    chosen once at init; 0 = best           */
    uint32_t reserved0;          /* must be 0                               */
    uint64_t max_cost_per_second;/* refuse a bundle any of whose tiers needs
                                    more (VSK_ERR_TOO_COSTLY); 0 = default
                                    VSK_DEFAULT_MAX_COST_PER_SECOND         */
    vsk_allocator allocator;     /* vsk_voice_create's block; zeros = heap  */
    vsk_log_fn log;              /* why init/create failed; NULL = silent   */
    void *log_user;              /* passed to log                           */
    /* since 0.5 (an older, smaller struct_size reads these as 0) */
    float cpu_budget;            /* CPU governor budget, fraction of one
                                    core, 0..1; 0 = off (see
                                    vsk_voice_set_cpu_budget)               */
    uint32_t reserved1;          /* must be 0                               */
    vsk_clock_fn clock;          /* the governor's clock; NULL = the
                                    system's monotonic clock                */
    void *clock_user;            /* passed to clock                         */
    vsk_cpu_budget *shared_budget;/* join a budget shared by several voices
                                    (vsk_cpu_budget_create); NULL = none.
                                    Must outlive the voice                  */
    /* since 0.6 (an older, smaller struct_size reads these as 0) */
    uint32_t schedule;           /* VSK_SCHEDULE_*: how the model's work is
                                    spread over buffers; 0 = LOW_LATENCY.
                                    Read once, at init                      */
    uint32_t reserved2;          /* must be 0                               */
} vsk_voice_config;

/** Schedules (vsk_voice_config.schedule, since 0.6; docs/abi.md, "Even
 *  schedule"). Chosen once at init; outputs are the same samples either
 *  way, EVEN's delayed by its extra latency. */
enum {
    /* Each buffer runs every graph step whose input it completes: the
     * lowest latency, but a buffer's cost follows how many steps fall in it
     * (at 48 kHz, 256 frames and a 4 ms hop: 1 or 2, cost ~1x or ~1.7x). */
    VSK_SCHEDULE_LOW_LATENCY = 0,
    /* Each buffer runs its share of the graph's work (resumable at node
     * granularity), about the same every buffer: vsk_voice_get_latency
     * grows by one hop at the model rate in host frames (the largest
     * tier's ceil(hop * host rate / model rate); 192 frames = 4 ms at
     * 48 kHz for a 16 kHz model with hop 64). */
    VSK_SCHEDULE_EVEN = 1
};

/** Fills the first `struct_size` bytes of `config` with the defaults
 *  (48000 Hz, 1 channel, 1024 frames, tier 0, mix 1, no bypass, best ISA,
 *  default cost limit, C heap, no log) and sets config->struct_size to
 *  `struct_size`; writes nothing past it. `struct_size` is clamped to this
 *  library's sizeof (so a newer host's extra fields stay as they were:
 *  zero them first). [any] */
VSK_API void vsk_voice_config_init_size(vsk_voice_config *config,
                                        uint32_t struct_size);
/** The 0.3 entry point, kept for hosts built against 0.3: fills only 0.3's
 *  32-byte struct. Through this header the name is a macro for
 *  vsk_voice_config_init_size(config, sizeof *config), which fills the
 *  struct this header declares. [any] */
VSK_API void (vsk_voice_config_init)(vsk_voice_config *config);
#ifndef VSK_BUILDING_LIBRARY
#define vsk_voice_config_init(config) \
    vsk_voice_config_init_size((config), (uint32_t)sizeof *(config))
#endif

/** Bytes of caller memory vsk_voice_init needs for this bundle + config.
 *  [any] */
VSK_API vsk_status vsk_voice_get_size(const vsk_bundle *bundle,
                                      const vsk_voice_config *config,
                                      size_t *out_bytes);
/** Builds a voice inside caller memory (`memory` 64-byte aligned, at least
 *  vsk_voice_get_size bytes). The voice retains the bundle. Destroy it with
 *  vsk_voice_destroy, which then does not free `memory`. [control] */
VSK_API vsk_status vsk_voice_init(void *memory, size_t bytes,
                                  vsk_bundle *bundle,
                                  const vsk_voice_config *config,
                                  vsk_voice **out_voice);
/** Allocates and builds a voice (one allocation, through config->allocator
 *  when set). [control] */
VSK_API vsk_status vsk_voice_create(vsk_bundle *bundle,
                                    const vsk_voice_config *config,
                                    vsk_voice **out_voice);
/** Releases the bundle reference and frees memory the voice allocated.
 *  NULL is a no-op. [control] */
VSK_API void vsk_voice_destroy(vsk_voice *voice);

/** Converts `frames` interleaved frames. Any count: 0, more than
 *  max_block_frames, and `in == out` are all allowed (partial overlap is
 *  not). Output is delayed by vsk_voice_get_latency frames. Input channels
 *  are averaged to mono for the model and the converted voice is written to
 *  every channel; the dry signal keeps its channels. [audio] */
VSK_API vsk_status vsk_voice_process(vsk_voice *voice, const float *in,
                                     float *out, uint32_t frames);

/** Requests a tier. It takes effect at the next vsk_voice_process: the new
 *  tier warms up in parallel, then crossfades in (see docs/abi.md), so there
 *  is no click. Latency does not change. [any-rt] */
VSK_API vsk_status vsk_voice_set_tier(vsk_voice *voice, uint32_t tier);
/** The tier most recently requested (initial_tier, then the last
 *  vsk_voice_set_tier): what the voice is heading for, not necessarily
 *  what is heard yet; see vsk_voice_get_tier_state. [any-rt] */
VSK_API vsk_status vsk_voice_get_tier(const vsk_voice *voice,
                                      uint32_t *out_tier);

/** No tier (vsk_tier_state.incoming when no switch is in progress). */
#define VSK_NO_TIER 0xFFFFFFFFu

typedef struct vsk_tier_state {
    uint32_t struct_size;  /* = sizeof(vsk_tier_state), set by caller      */
    uint32_t requested;    /* = vsk_voice_get_tier                          */
    uint32_t audible;      /* the tier the output comes from; during a
                              crossfade the outgoing one                    */
    uint32_t incoming;     /* the tier warming up or fading in, or
                              VSK_NO_TIER                                   */
    uint32_t switching;    /* 1 while a switch is in progress (warm-up or
                              crossfade), else 0                            */
    /* since 0.5: the CPU governor (vsk_voice_set_cpu_budget) */
    uint32_t governed_tier;/* the highest tier the governor allows now: the
                              voice heads for min(requested, governed_tier).
                              tier count - 1 while no budget is set        */
    float cpu_load;        /* the governor's last measurement: processing
                              time / audio time of its last window (~100
                              ms), as a fraction of one core; 0 without a
                              budget or before the first window             */
    uint32_t governor_steps;/* tier changes the governor has made so far   */
} vsk_tier_state;

/** What is heard: as of the end of the last vsk_voice_process or
 *  vsk_voice_reset on the audio thread (a request made since is in
 *  `requested` only). [any-rt] */
VSK_API vsk_status vsk_voice_get_tier_state(const vsk_voice *voice,
                                            vsk_tier_state *state);
/** CPU governor ("dynamic quality", since 0.5): a budget for this voice's
 *  processing, as a fraction of one core (0.002 = 0.2 %), or 0 = off (the
 *  default; then no clock is read). While a budget is set the voice reads
 *  a monotonic clock at the start and end of each vsk_voice_process (no
 *  allocation, lock or I/O), averages processing time / audio time over
 *  windows of about 100 ms (windows that overlap a tier switch are not
 *  counted: two tiers run then) and moves a tier cap:
 *    - down one tier after 2 windows in a row over the budget;
 *    - up one tier after 10 windows in a row (about 1 s) in which the tier
 *      above is expected to need at most 80 % of the budget (its own
 *      measurement if the voice ran it since the budget last changed, else
 *      this tier's measurement scaled by the tiers' cost_per_second).
 *  A tier measured over the budget is not tried again until the budget
 *  changes or the voice is reset, so the voice settles on the highest tier
 *  that fits and stays there. The cap never exceeds the requested tier
 *  (vsk_voice_set_tier is the quality setting, the budget limits it); every
 *  change goes through the usual warm-up and crossfade. The decision is in
 *  vsk_tier_state.governed_tier. A voice in a shared budget
 *  (vsk_voice_config.shared_budget) uses the smaller nonzero of this budget
 *  and its share. VSK_ERR_INVALID_ARGUMENT for NaN, negative or > 1.
 *  [any-rt] */
VSK_API vsk_status vsk_voice_set_cpu_budget(vsk_voice *voice,
                                            float fraction_of_one_core);
/** The budget last set (config->cpu_budget, then vsk_voice_set_cpu_budget);
 *  0 = off. [any-rt] */
VSK_API vsk_status vsk_voice_get_cpu_budget(const vsk_voice *voice,
                                            float *out_fraction);
/** Wet amount 0..1, smoothed over a few ms. [any-rt] */
VSK_API vsk_status vsk_voice_set_mix(vsk_voice *voice, float wet);
/** Nonzero bypasses the model: output is the dry input delayed by the same
 *  latency (so toggling keeps sync); toggling crossfades. [any-rt] */
VSK_API vsk_status vsk_voice_set_bypass(vsk_voice *voice, uint32_t bypass);
/** Clears all streaming state (as after create); keeps tier, mix, bypass.
 *  [audio] */
VSK_API vsk_status vsk_voice_reset(vsk_voice *voice);
/** Total latency in host frames: model lookahead, hop buffering, both
 *  resamplers and, with VSK_SCHEDULE_EVEN, one more hop. Constant for the
 *  voice's lifetime, equal for every tier.
 *  [any] */
VSK_API vsk_status vsk_voice_get_latency(const vsk_voice *voice,
                                         uint32_t *out_frames);
/** The SIMD level the voice runs (a VSK_ISA_LEVEL_* other than BEST),
 *  chosen once at init from the CPU and config->max_isa. [any] */
VSK_API vsk_status vsk_voice_get_isa(const vsk_voice *voice,
                                     uint32_t *out_level);

/* ------------------------------------------------------ shared CPU budget */

/** Creates a CPU budget that several voices share (since 0.5):
 *  `fraction_of_cores` (0 = off, up to 64: voices on several threads may
 *  share more than one core) is shared among the voices created with
 *  vsk_voice_config.shared_budget pointing to it (by need, see
 *  vsk_cpu_budget), and each governs its own tier against its share as
 *  vsk_voice_set_cpu_budget describes. A registry's own budget
 *  (vsk_registry_get_cpu_budget) is one of these. `allocator` may be NULL
 *  (the C heap). [control] */
VSK_API vsk_status vsk_cpu_budget_create(float fraction_of_cores,
                                         const vsk_allocator *allocator,
                                         vsk_cpu_budget **out_budget);
/** Drops the creator's reference to a shared budget: it is freed now, or
 *  (since 0.6) when its last member voice is destroyed. NULL is a no-op.
 *  [control] */
VSK_API void vsk_cpu_budget_destroy(vsk_cpu_budget *budget);
/** Changes the shared budget (0 = off; NaN, negative or > 64 is
 *  VSK_ERR_INVALID_ARGUMENT). Members see it at their next buffer.
 *  [any-rt] */
VSK_API vsk_status vsk_cpu_budget_set(vsk_cpu_budget *budget,
                                      float fraction_of_cores);
/** The budget, its member count and the members' summed load (each
 *  member's last window, fraction of one core). Each value is read on its
 *  own. Any out-pointer may be NULL. [any-rt] */
VSK_API vsk_status vsk_cpu_budget_get(const vsk_cpu_budget *budget,
                                      float *out_fraction,
                                      uint32_t *out_members,
                                      float *out_load);

/* ---------------------------------------------------------------- registry */

typedef struct vsk_registry vsk_registry;

typedef struct vsk_registry_config {
    uint32_t struct_size;        /* = sizeof(vsk_registry_config)           */
    uint32_t abi_version;        /* = VSK_ABI_VERSION                       */
    uint32_t max_voices;         /* 0 = default (256)                       */
    /* since 0.4 (an older, smaller struct_size reads these as 0) */
    uint32_t reserved0;          /* must be 0                               */
    uint64_t max_cost_per_second;/* refuse a bundle any of whose tiers needs
                                    more (VSK_ERR_TOO_COSTLY); 0 = default
                                    VSK_DEFAULT_MAX_COST_PER_SECOND         */
    vsk_allocator allocator;     /* the registry's memory and the bundles
                                    add_file/add_memory/scan_folder open
                                    (kept by each bundle until its last
                                    release); zeros = heap                  */
    vsk_log_fn log;              /* why an add was refused; NULL = silent   */
    void *log_user;              /* passed to log                           */
} vsk_registry_config;

/** Fills the first `struct_size` bytes of `config` with the defaults (256
 *  voices, default cost limit, C heap, no log) and sets
 *  config->struct_size to `struct_size` (clamped to this library's
 *  sizeof); writes nothing past it. [any] */
VSK_API void vsk_registry_config_init_size(vsk_registry_config *config,
                                           uint32_t struct_size);
/** The 0.3 entry point (fills only 0.3's 12-byte struct). Through this
 *  header the name is a macro for vsk_registry_config_init_size(config,
 *  sizeof *config). [any] */
VSK_API void (vsk_registry_config_init)(vsk_registry_config *config);
#ifndef VSK_BUILDING_LIBRARY
#define vsk_registry_config_init(config) \
    vsk_registry_config_init_size((config), (uint32_t)sizeof *(config))
#endif
/** Creates an empty registry. [control] */
VSK_API vsk_status vsk_registry_create(const vsk_registry_config *config,
                                       vsk_registry **out_registry);
/** Releases every bundle reference the registry holds. NULL is a no-op.
 *  [control] */
VSK_API void vsk_registry_destroy(vsk_registry *registry);

/** Duplicate rule, for every add: a voice ID is present at most once. Adding
 *  a bundle whose ID is present keeps the higher semantic version (the new
 *  one replaces an older one; an older or equal one is refused with
 *  VSK_ERR_DUPLICATE and the registry is unchanged). Indexes are stable
 *  except that a replacement keeps the index of what it replaced and
 *  vsk_registry_remove moves later entries down. Cost rule, checked first:
 *  a bundle any of whose tiers needs more than the registry's
 *  max_cost_per_second is refused with VSK_ERR_TOO_COSTLY (the log callback
 *  says which tier and by how much). [control]
 */
VSK_API vsk_status vsk_registry_add_bundle(vsk_registry *registry,
                                           vsk_bundle *bundle,
                                           uint32_t *out_index);
/** Opens and adds a file. [control] */
VSK_API vsk_status vsk_registry_add_file(vsk_registry *registry,
                                         const char *path,
                                         uint32_t *out_index);
/** Opens and adds a bundle from memory (copied). [control] */
VSK_API vsk_status vsk_registry_add_memory(vsk_registry *registry,
                                           const void *data, size_t size,
                                           uint32_t *out_index);
/** Adds every `*.vskin` file directly inside `folder`, in name order.
 *  Files that fail to open or are refused by the duplicate rule are skipped
 *  and counted; the call fails only if the folder cannot be read.
 *  [control] */
VSK_API vsk_status vsk_registry_scan_folder(vsk_registry *registry,
                                            const char *folder,
                                            uint32_t *out_added,
                                            uint32_t *out_skipped);
/** Number of voices. [control] */
VSK_API vsk_status vsk_registry_count(const vsk_registry *registry,
                                      uint32_t *out_count);
/** The bundle at `index` (borrowed: retain it to keep it beyond the
 *  registry). [control] */
VSK_API vsk_status vsk_registry_get(const vsk_registry *registry,
                                    uint32_t index, vsk_bundle **out_bundle);
/** Index of the voice with this ID, or VSK_ERR_NOT_FOUND. [control] */
VSK_API vsk_status vsk_registry_find(const vsk_registry *registry,
                                     const char *voice_id,
                                     uint32_t *out_index);
/** The registry's CPU budget (since 0.6): one vsk_cpu_budget, made with the
 *  registry (budget 0 = off), for the voices a game makes from its bundles
 *  to share: pass it as vsk_voice_config.shared_budget. Borrowed: valid
 *  while the registry lives, and while any voice that joined it lives (each
 *  member holds a reference). [control] */
VSK_API vsk_status vsk_registry_get_cpu_budget(vsk_registry *registry,
                                               vsk_cpu_budget **out_budget);
/** Sets the registry's CPU budget, in cores (0 = off, up to 64; NaN or
 *  out of range: VSK_ERR_INVALID_ARGUMENT): vsk_cpu_budget_set on it.
 *  Member voices see it at their next buffer. [any-rt] */
VSK_API vsk_status vsk_registry_set_cpu_budget(vsk_registry *registry,
                                               float fraction_of_cores);
/** Removes the voice with this ID (DLC unload, hot reload) and drops the
 *  registry's reference to its bundle (voices made from it keep theirs).
 *  Entries after it move down one index; pointers from vsk_registry_get
 *  for the removed entry are no longer valid unless retained.
 *  VSK_ERR_NOT_FOUND if absent. [control] */
VSK_API vsk_status vsk_registry_remove(vsk_registry *registry,
                                       const char *voice_id);

/* --------------------------------------------------------- voice switcher */

/** A voice switcher: the one implementation of voice switching that every
 *  engine adapter (the C++ adapter of Unreal and Godot, the Unity C# layer,
 *  the Unity mixer effect) runs. It holds the voice being heard and, during
 *  a switch, the incoming one; a newly published voice runs silently beside
 *  the heard one for its latency plus `warmup_ms` (its state settles), then
 *  an equal-power crossfade of VSK_SWITCH_FADE_MS hands over (gains
 *  sin(pi/2 t) in, cos(pi/2 t) out, t = (i + 0.5) / fade frames: the
 *  squared gains are raised cosines and sum to 1). Voices are owned by the
 *  caller: published ones are lent to the switcher and handed back by
 *  vsk_switcher_collect once the audio thread provably no longer uses them.
 *
 *  Roles: [feeder] = vsk_switcher_publish / vsk_switcher_collect. They
 *  allocate nothing and take no lock, so the feeder may be a game thread or
 *  the audio thread itself, but feeder calls on one switcher must not
 *  overlap each other; they may overlap vsk_switcher_process. */
typedef struct vsk_switcher vsk_switcher;

/** Length of the voice-switch crossfade (equal power), milliseconds. */
#define VSK_SWITCH_FADE_MS 20
/** Default extra warm-up of an incoming voice beyond its latency (ms). */
#define VSK_SWITCH_WARMUP_MS 100

typedef struct vsk_switcher_config {
    uint32_t struct_size;        /* = sizeof(vsk_switcher_config)           */
    uint32_t abi_version;        /* = VSK_ABI_VERSION                       */
    uint32_t sample_rate;        /* host rate, 8000 .. 192000 Hz            */
    uint32_t max_channels;       /* widest buffer, 1 .. 8                   */
    uint32_t max_block_frames;   /* piece size while two voices run
                                    (larger buffers are fine), 1 .. 65536   */
    uint32_t warmup_ms;          /* extra warm-up of an incoming voice
                                    (default VSK_SWITCH_WARMUP_MS), <= 4000 */
    uint32_t align_latency_frames;/* 0: each voice is heard at its own
                                    latency; else every voice (and "no
                                    voice") is delayed to this latency, so
                                    a switch never shifts timing (a voice
                                    with a larger latency is refused)       */
    uint32_t reserved0;          /* must be 0                               */
    vsk_allocator allocator;     /* the switcher's one block; zeros = heap  */
} vsk_switcher_config;

/** Fills the first `struct_size` bytes of `config` with the defaults
 *  (48000 Hz, 8 channels, 1024 frames, VSK_SWITCH_WARMUP_MS, no alignment,
 *  C heap) and sets config->struct_size to `struct_size` (clamped to this
 *  library's sizeof). [any] */
VSK_API void vsk_switcher_config_init_size(vsk_switcher_config *config,
                                           uint32_t struct_size);
#define vsk_switcher_config_init(config) \
    vsk_switcher_config_init_size((config), (uint32_t)sizeof *(config))

/** Creates a switcher; all its memory (scratch, fade table, alignment
 *  delay lines) is allocated here, once. It starts with no voice (audio
 *  passes through, delayed by align_latency_frames). [control] */
VSK_API vsk_status vsk_switcher_create(const vsk_switcher_config *config,
                                       vsk_switcher **out_switcher);
/** Frees the switcher, never the voices (collect them first, after
 *  vsk_switcher_retire_all). NULL is a no-op. [control] */
VSK_API void vsk_switcher_destroy(vsk_switcher *switcher);

/** Lends `voice` (NULL = "no voice": the input passes through) to the
 *  switcher under `tag` (the caller's name for it, reported by
 *  vsk_switcher_get_state). The audio thread takes it at the start of a
 *  buffer: at once before the first buffer, or when nothing audible
 *  changes (no voice to no voice), or when its channel count differs from
 *  the heard voice's; otherwise it warms up and crossfades in. A publish
 *  not yet taken is replaced by the next. Publishing the voice heard now
 *  cancels a switch that is still warming up; publishing one that is still
 *  lent is allowed (it is handed back once, when unused). The switcher
 *  resets a taken voice (vsk_voice_reset) unless it was already running.
 *  VSK_ERR_INVALID_ARGUMENT for a voice with more than max_channels
 *  channels or a latency above align_latency_frames. [feeder] */
VSK_API vsk_status vsk_switcher_publish(vsk_switcher *switcher,
                                        vsk_voice *voice, uint64_t tag);
/** Hands back one lent voice the audio thread will never use again (it may
 *  be destroyed now): VSK_OK with *out_voice and *out_tag set, or
 *  VSK_ERR_NOT_FOUND when there is none. Call until NOT_FOUND, e.g. once
 *  per game frame. While voices wait to be collected no new publish is
 *  taken. [feeder] */
VSK_API vsk_status vsk_switcher_collect(vsk_switcher *switcher,
                                        vsk_voice **out_voice,
                                        uint64_t *out_tag);
/** Retires every voice (pending, heard, incoming), so that collect hands
 *  them all back; the switcher is then as after create. Only while
 *  vsk_switcher_process is not running (e.g. before destroy). [control] */
VSK_API vsk_status vsk_switcher_retire_all(vsk_switcher *switcher);

/** Tier for every voice of the switcher, clamped to each voice's tier
 *  count; applied at the next buffer. Until first set the switcher leaves
 *  the voices' tiers alone. [any-rt] */
VSK_API vsk_status vsk_switcher_set_tier(vsk_switcher *switcher,
                                         uint32_t tier);
/** Wet amount 0..1 for every voice (as vsk_voice_set_mix); until first set
 *  left alone. [any-rt] */
VSK_API vsk_status vsk_switcher_set_mix(vsk_switcher *switcher, float wet);
/** Bypass for every voice (as vsk_voice_set_bypass); until first set left
 *  alone. [any-rt] */
VSK_API vsk_status vsk_switcher_set_bypass(vsk_switcher *switcher,
                                           uint32_t bypass);
/** CPU budget for every voice of the switcher (as vsk_voice_set_cpu_budget,
 *  fraction of one core per voice, 0 = off); until first set left alone.
 *  The governor then caps the tier set by vsk_switcher_set_tier (since
 *  0.5). [any-rt] */
VSK_API vsk_status vsk_switcher_set_cpu_budget(vsk_switcher *switcher,
                                               float fraction_of_one_core);

/** Converts `frames` interleaved frames of `channels` channels through the
 *  heard voice, and during a switch through both (warm-up, crossfade, then
 *  the old voice is retired for collect). A buffer whose channel count
 *  differs from a running voice's (or is 0 or above max_channels) passes
 *  through unchanged. `in == out` is allowed. A voice that fails to process
 *  passes its input through and is counted in vsk_switcher_state.errors.
 *  [audio] */
VSK_API vsk_status vsk_switcher_process(vsk_switcher *switcher,
                                        const float *in, float *out,
                                        uint32_t frames, uint32_t channels);
/** Ends a switch at once (the incoming voice becomes the heard one), then
 *  clears the streaming state of the heard voice and the delay lines.
 *  [audio] */
VSK_API vsk_status vsk_switcher_reset(vsk_switcher *switcher);

typedef struct vsk_switcher_state {
    uint32_t struct_size;    /* = sizeof(vsk_switcher_state), set by caller */
    uint32_t switching;      /* 1 while a voice warms up or crossfades in    */
    uint64_t tag;            /* tag of the newest voice taken (the incoming
                                one during a switch); 0 before any          */
    uint64_t heard_tag;      /* tag of the voice heard now (the outgoing one
                                during a crossfade)                         */
    uint32_t latency_frames; /* latency of the newest voice taken (aligned
                                when align_latency_frames is set)           */
    uint32_t errors;         /* failed vsk_voice_process calls so far       */
    uint32_t channels;       /* channel count of the newest voice taken (0
                                for no voice)                               */
    uint32_t reserved0;
} vsk_switcher_state;

/** As of the end of the last process/reset on the audio thread (each field
 *  on its own; a publish not yet taken is not in it). [any-rt] */
VSK_API vsk_status vsk_switcher_get_state(const vsk_switcher *switcher,
                                          vsk_switcher_state *state);
/** The heard voice's vsk_tier_state (tiers and the CPU governor's decision),
 *  as of the end of the last process/reset on the audio thread (each field
 *  on its own). VSK_ERR_NOT_FOUND while no voice is heard. Since 0.5.
 *  [any-rt] */
VSK_API vsk_status vsk_switcher_get_tier_state(const vsk_switcher *switcher,
                                               vsk_tier_state *state);

#ifdef __cplusplus
}
#endif
#endif /* VOICESKIN_H */
