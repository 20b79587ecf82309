/* governor.h — internal: the CPU governor of a voice ("dynamic quality",
 * voiceskin.h vsk_voice_set_cpu_budget; docs/abi.md "CPU governor") and
 * the shared budget object. One vsk_governor lives inside each vsk_voice,
 * set up at init; the audio thread calls vsk_gov_begin / vsk_gov_end around
 * each vsk_voice_process and reads the tier cap. No allocation, lock or
 * I/O on those paths; the clock is read only while a budget is set. */
#ifndef VSK_GOVERNOR_H
#define VSK_GOVERNOR_H

#include <stdatomic.h>
#include <stdint.h>

#include "bundle.h"
#include "voiceskin.h"

#define VSK_GOV_WINDOW_S 0.1   /* measurement window (audio time) */
#define VSK_GOV_DOWN_WINDOWS 2 /* windows over budget before a step down */
#define VSK_GOV_UP_WINDOWS 10  /* windows with margin before a step up */
#define VSK_GOV_UP_MARGIN 0.8f /* the tier above must fit in 80 % ... */
#define VSK_GOV_UP_MARGIN_MEASURED 0.9f /* ... 90 % if its ratio is measured */
#define VSK_GOV_PAIR_S 1.0     /* two tiers' windows this close (audio
                                  time) give a measured cost ratio */
#define VSK_GOV_RETRY_S 5.0    /* a ratio measured when a tier failed is
                                  trusted this long, then the cost model's
                                  (if lower) is tried: doubles per failure */
#define VSK_GOV_RETRY_MAX_S 80.0
#define VSK_GOV_NEAR_MISS 1.5f /* a failure's level up to 1.5x the budget:
                                  a near miss, not a spike */
#define VSK_GOV_CALL_CAP 3.0   /* a call counts at most 3x the tier's
                                  median cost per frame (preemption) */
#define VSK_GOV_MAX_VOICE 1.0f /* vsk_voice_set_cpu_budget range */
#define VSK_GOV_MAX_SHARED 64.0f

struct vsk_cpu_budget {
    vsk_allocator allocator;
    atomic_uint budget_bits;    /* float */
    atomic_uint members;
    atomic_uint refs;           /* the creator's + one per member */
    atomic_uint limited;        /* members held below their requested tier */
    atomic_llong load_micro;    /* members' summed load, 1e-6 core units */
    atomic_llong free_micro;    /* the part of it from members not limited */
};

typedef struct vsk_governor {
    vsk_clock_fn clock;
    void *clock_user;
    uint64_t qpc_hz;            /* Windows: QueryPerformanceFrequency, read once */
    vsk_cpu_budget *shared;
    uint32_t tier_count, window_frames;
    uint32_t step_frames[VSK_MAX_TIERS]; /* host frames per graph step */
    float tier_cost[VSK_MAX_TIERS];  /* cost_per_second, for predictions */
    /* audio thread */
    uint32_t cap;               /* highest tier allowed */
    float budget;               /* effective budget of the last buffer */
    uint32_t own_bits, shared_bits; /* the settings the measurements are for */
    uint64_t now;               /* audio frames processed under a budget */
    uint64_t acc_ns, acc_frames;
    double med_npf;             /* running median ns per frame of a call, */
    uint32_t med_tier;          /* ... on this tier (0 = none yet) */
    uint64_t clamped;           /* calls counted at the cap (preempted) */
    uint32_t over, under;       /* consecutive windows */
    float hist[3];              /* the heard tier's last windows' loads */
    uint32_t nhist, hist_pos, hist_tier;
    uint32_t last_tier;         /* the last counted window's tier ... */
    float last_load;            /* ... its load ... */
    uint64_t last_at;           /* ... and when it ended (frames) */
    float ratio[VSK_MAX_TIERS];      /* measured load(k) / load(k-1), 0 = none */
    uint64_t ratio_at[VSK_MAX_TIERS];
    uint64_t retry[VSK_MAX_TIERS];   /* frames a failure's ratio is trusted;
                                        0 = tier k never failed */
    uint64_t near_until[VSK_MAX_TIERS]; /* after a near miss of tier k: until
                                        then climbing to it needs the model's
                                        margin */
    long long shared_contrib, free_contrib; /* our parts of the shared sums */
    uint32_t limited_contrib;
    uint32_t steps;
    /* [any-rt] request, and what the audio thread publishes */
    atomic_uint budget_bits;
    atomic_uint st_cap, st_load_bits, st_steps;
} vsk_governor;

/* Checks a budget value: finite, 0 <= f <= max. */
int vsk_gov_budget_ok(float f, float max);

/* At voice init (control thread): the clock (NULL = the system's), the
 * shared budget (joined here), the tiers' costs, the initial budget. */
void vsk_gov_init(vsk_governor *g, const vsk_bundle *b, uint32_t host_rate,
                  vsk_clock_fn clock, void *clock_user, vsk_cpu_budget *shared,
                  float budget);
/* At voice destroy (control thread): leaves the shared budget, freeing it
 * if this was its last reference. */
void vsk_gov_leave(vsk_governor *g);

/* [audio] Start of vsk_voice_process: the effective budget and, when it is
 * nonzero, the clock (else 0, and the clock is not read). */
uint64_t vsk_gov_begin(vsk_governor *g);
/* [audio] End of vsk_voice_process: `frames` processed, `t0` from begin,
 * `cur` the tier heard, `requested` the requested tier, `switching` nonzero
 * if a tier switch ran during the call (the sample is then dropped).
 * Updates g->cap and publishes the state. */
void vsk_gov_end(vsk_governor *g, uint64_t t0, uint32_t frames, uint32_t cur,
                 uint32_t requested, int switching);
/* [audio] vsk_voice_reset: forgets measurements (the cap stays). */
void vsk_gov_reset(vsk_governor *g);

#endif
