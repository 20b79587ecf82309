/* test_voice_governor.c — the CPU governor ("dynamic quality",
 * vsk_voice_set_cpu_budget; docs/abi.md "CPU governor").
 *
 * Exact tests use a fake clock (vsk_voice_config.clock): each
 * vsk_voice_process call costs the audible tier's c_k of one core, i.e.
 * the clock's second read in a call returns the first + c_k x the buffer's
 * audio time. Tiers are identity graphs at 16 kHz with hops 256/128/64/32,
 * so their computed cost_per_second doubles per tier and c_k is set
 * proportional to it (the governor's prediction for a tier it has not run
 * is then exact). Checked: under a budget between two tiers' costs the
 * voice settles on the highest tier that fits and never moves again (no
 * oscillation), within a bounded time; it steps back up when the budget
 * grows; budget 0 leaves the tier alone and reads no clock; the requested
 * tier is a ceiling; a reset keeps the cap; noisy costs (+-20 % per buffer)
 * settle the same; a shared budget is split among its members by need
 * (max-min fair) and outlives its creator's reference; after a transient
 * load spike the voice climbs back; a tier the cost model underestimates is
 * retried with a doubling back-off; the switcher's budget reaches its voice and its tier state reports it; bad
 * values are refused. Then one real-clock run: a tiny budget settles on the
 * lowest tier. */
#include "voice_test_util.h"

#define RATE 48000u
#define BLOCK 256u
#define NT 4

typedef struct fake_clock {
    uint64_t now;        /* ns */
    uint64_t pending;    /* cost of the call in progress, ns */
    long reads;
    int read_in_call;
} fake_clock;

static uint64_t fake_read(void *user)
{
    fake_clock *fc = (fake_clock *)user;
    fc->reads++;
    if (fc->read_in_call++ & 1)
        fc->now += fc->pending;
    return fc->now;
}

static vsk_bundle *ladder(void)
{
    bb_builder bb;
    bb_init(&bb, "test.governor", "Governor", "1.0.0");
    bb_identity_tier(&bb, "low", 16000, 256);
    bb_identity_tier(&bb, "medium", 16000, 128);
    bb_identity_tier(&bb, "high", 16000, 64);
    bb_identity_tier(&bb, "ultra", 16000, 32);
    return vt_open(&bb);
}

/* c_k: tier k's fake cost (fraction of one core), c_0 = base, the others in
 * the ratio of the tiers' computed cost_per_second (about 2x per tier). */
static double cost[NT];
static void set_costs(const vsk_bundle *b, double base)
{
    uint64_t c[NT];
    for (uint32_t k = 0; k < NT; k++) {
        vsk_tier_info ti = {.struct_size = sizeof ti};
        CHECK_OK(vsk_bundle_get_tier_info(b, k, &ti));
        c[k] = ti.cost_per_second;
    }
    for (uint32_t k = 0; k < NT; k++)
        cost[k] = base * (double)c[k] / (double)c[0];
}

static uint32_t g_schedule = VSK_SCHEDULE_LOW_LATENCY;

static vsk_voice *make_voice(vsk_bundle *b, fake_clock *fc, uint32_t tier,
                             float budget, vsk_cpu_budget *shared)
{
    vsk_voice_config c;
    vsk_voice_config_init(&c);
    c.schedule = g_schedule;
    c.sample_rate = RATE;
    c.max_block_frames = BLOCK;
    c.initial_tier = tier;
    c.cpu_budget = budget;
    c.clock = fc ? fake_read : NULL;
    c.clock_user = fc;
    c.shared_budget = shared;
    vsk_voice *v = NULL;
    vsk_status st = vsk_voice_create(b, &c, &v);
    CHECK(st == VSK_OK, "create: %s", vsk_status_name(st));
    return v;
}

static vsk_tier_state state_of(const vsk_voice *v)
{
    vsk_tier_state s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    CHECK_OK(vsk_voice_get_tier_state(v, &s));
    return s;
}

/* What a run saw: the audible tier at the end, tier changes, when the last
 * one happened (seconds from the run's start). */
typedef struct run_log {
    uint32_t audible, changes;
    double last_change_s;
} run_log;

static float in_buf[BLOCK], out_buf[BLOCK];

/* A load spike: every cost times `factor` from `from_s` to `to_s` seconds
 * into a run (another job on the core). */
typedef struct spike {
    double factor, from_s, to_s;
    uint32_t preempt_every; /* every Nth call also waits preempt_ns (0 = none) */
    double preempt_ns;
} spike;
static const spike no_spike = {1.0, 0.0, 0.0, 0, 0.0};

/* One 256-frame buffer of voice `v` at buffer index i of a run: costs from
 * cost[] (times a uniform factor in [1 - jitter, 1 + jitter], times the
 * spike's factor while it lasts). */
static void one_buffer(vsk_voice *v, fake_clock *fc, uint32_t i, double jitter,
                       spike sp)
{
    const double buf_ns = 1e9 * BLOCK / RATE;
    const double t = (double)i * BLOCK / RATE;
    for (uint32_t f = 0; f < BLOCK; f++)
        in_buf[f] = (float)(0.3 * sin(0.05 * (double)(i * BLOCK + f)));
    const vsk_tier_state before = state_of(v);
    double c = cost[before.audible];
    if (before.switching && before.incoming != VSK_NO_TIER)
        c += cost[before.incoming];
    c *= 1.0 + jitter * (2.0 * vt_uniform() - 1.0);
    if (t >= sp.from_s && t < sp.to_s)
        c *= sp.factor;
    fc->pending = (uint64_t)(c * buf_ns);
    if (sp.preempt_every && i % sp.preempt_every == sp.preempt_every - 1)
        fc->pending += (uint64_t)sp.preempt_ns; /* another thread ran meanwhile */
    fc->read_in_call = 0;
    CHECK_OK(vsk_voice_process(v, in_buf, out_buf, BLOCK));
    fc->now += (uint64_t)buf_ns - fc->pending; /* idle rest of the period */
}

static void log_tier(run_log *log, const vsk_voice *v, uint32_t i)
{
    const uint32_t a = state_of(v).audible;
    if (a != log->audible) {
        log->changes++;
        log->last_change_s = (double)(i + 1) * BLOCK / RATE;
        log->audible = a;
    }
}

/* `seconds` of audio in 256-frame buffers. */
static run_log run_spike(vsk_voice *v, fake_clock *fc, double seconds, double jitter,
                         spike sp)
{
    run_log log = {state_of(v).audible, 0, 0.0};
    const uint32_t calls = (uint32_t)(seconds * RATE / BLOCK);
    for (uint32_t i = 0; i < calls; i++) {
        one_buffer(v, fc, i, jitter, sp);
        log_tier(&log, v, i);
    }
    return log;
}

static run_log run(vsk_voice *v, fake_clock *fc, double seconds, double jitter)
{
    return run_spike(v, fc, seconds, jitter, no_spike);
}

/* n voices processed buffer by buffer in turn (one game audio thread). */
static void run_all(vsk_voice **v, fake_clock *fc, int n, double seconds,
                    run_log *logs)
{
    for (int k = 0; k < n; k++)
        logs[k] = (run_log){state_of(v[k]).audible, 0, 0.0};
    const uint32_t calls = (uint32_t)(seconds * RATE / BLOCK);
    for (uint32_t i = 0; i < calls; i++)
        for (int k = 0; k < n; k++) {
            one_buffer(v[k], &fc[k], i, 0.0, no_spike);
            log_tier(&logs[k], v[k], i);
        }
}

static void test_settles_and_climbs(vsk_bundle *b)
{
    fake_clock fc = {0};
    set_costs(b, 0.001);
    printf("fake costs: %.5f %.5f %.5f %.5f of one core\n", cost[0], cost[1],
           cost[2], cost[3]);
    CHECK(cost[1] > 1.1 * cost[0] && cost[2] > 1.1 * cost[1] && cost[3] > 1.1 * cost[2],
          "tier costs not ordered as the test assumes");
    const float between = (float)(0.5 * (cost[1] + cost[2]));
    vsk_voice *v = make_voice(b, &fc, 3, between, NULL);

    /* Budget between c_1 and c_2: ultra -> high -> medium, then nothing. */
    run_log r = run(v, &fc, 20.0, 0.0);
    vsk_tier_state s = state_of(v);
    printf("budget (c1+c2)/2: settled on tier %u after %.2f s (%u changes), "
           "load %.5f, steps %u\n", r.audible, r.last_change_s, r.changes,
           s.cpu_load, s.governor_steps);
    CHECK(r.audible == 1, "budget (c1+c2)/2: audible tier %u, want 1", r.audible);
    CHECK(r.changes == 2, "budget (c1+c2)/2: %u tier changes, want 2 (3->2->1)", r.changes);
    CHECK(r.last_change_s < 1.5, "budget (c1+c2)/2: settled only after %.2f s",
          r.last_change_s);
    CHECK(s.governed_tier == 1 && s.requested == 3 && s.governor_steps == 2,
          "governed %u requested %u steps %u", s.governed_tier, s.requested,
          s.governor_steps);
    CHECK(fabs(s.cpu_load - cost[1]) < 1e-4, "cpu_load %.6f, want %.6f", s.cpu_load,
          cost[1]);
    /* ... and stays there: 60 s more, not one change. */
    r = run(v, &fc, 60.0, 0.0);
    CHECK(r.changes == 0 && r.audible == 1, "budget (c1+c2)/2: %u changes in 60 s more",
          r.changes);

    /* Budget grows: 80 % of it fits tier 2 but not 3. */
    const float fits2 = (float)(1.05 * cost[2] / 0.8);
    CHECK(cost[3] > 0.8 * fits2, "test assumption: tier 3 too cheap");
    CHECK_OK(vsk_voice_set_cpu_budget(v, fits2));
    r = run(v, &fc, 20.0, 0.0);
    printf("budget 1.31 c2: tier %u after %.2f s (%u changes)\n", r.audible,
           r.last_change_s, r.changes);
    CHECK(r.audible == 2 && r.changes == 1, "budget 1.31 c2: tier %u, %u changes",
          r.audible, r.changes);
    CHECK(r.last_change_s < 2.0, "budget 1.31 c2: stepped up after %.2f s",
          r.last_change_s);

    /* Plenty: back to the requested tier (never above it). */
    CHECK_OK(vsk_voice_set_cpu_budget(v, 0.05f));
    r = run(v, &fc, 20.0, 0.0);
    CHECK(r.audible == 3 && r.changes == 1, "budget 0.05: tier %u, %u changes",
          r.audible, r.changes);

    /* The requested tier is a ceiling. */
    CHECK_OK(vsk_voice_set_tier(v, 1));
    r = run(v, &fc, 10.0, 0.0);
    CHECK(r.audible == 1 && r.changes == 1, "ceiling: tier %u, %u changes",
          r.audible, r.changes);

    /* Budget 0: off. The cap lifts, the clock is not read, the tier is the
     * request. */
    CHECK_OK(vsk_voice_set_tier(v, 3));
    CHECK_OK(vsk_voice_set_cpu_budget(v, 0.0001f));
    r = run(v, &fc, 10.0, 0.0);
    CHECK(r.audible == 0, "budget 1e-4: tier %u, want 0", r.audible);
    CHECK_OK(vsk_voice_set_cpu_budget(v, 0.0f));
    float got = -1.0f;
    CHECK_OK(vsk_voice_get_cpu_budget(v, &got));
    CHECK(got == 0.0f, "get_cpu_budget %g", got);
    run(v, &fc, 1.0, 0.0); /* the switch up to 3 happens here */
    const long reads = fc.reads;
    r = run(v, &fc, 10.0, 0.0);
    s = state_of(v);
    CHECK(r.audible == 3 && r.changes == 0, "budget 0: tier %u, %u changes",
          r.audible, r.changes);
    CHECK(s.governed_tier == NT - 1 && s.cpu_load == 0.0f,
          "budget 0: governed %u load %g", s.governed_tier, s.cpu_load);
    CHECK(fc.reads == reads, "budget 0: %ld clock reads", fc.reads - reads);

    /* A reset forgets measurements but keeps the cap. */
    CHECK_OK(vsk_voice_set_cpu_budget(v, between));
    run(v, &fc, 5.0, 0.0);
    CHECK_OK(vsk_voice_reset(v));
    s = state_of(v);
    CHECK(s.audible == 1 && s.governed_tier == 1 && !s.switching,
          "after reset: audible %u governed %u", s.audible, s.governed_tier);
    r = run(v, &fc, 20.0, 0.0);
    CHECK(r.audible == 1, "after reset: tier %u", r.audible);
    CHECK(r.changes <= 2, "after reset: %u changes (one probe of tier 2 at most)",
          r.changes);
    vsk_voice_destroy(v);
}

/* Costs that vary +-20 % per buffer: averaged over ~100 ms windows the
 * verdict is the same, and still no oscillation. */
static void test_noisy(vsk_bundle *b)
{
    fake_clock fc = {0};
    set_costs(b, 0.001);
    vsk_voice *v = make_voice(b, &fc, 3, (float)(0.5 * (cost[1] + cost[2])), NULL);
    run_log r = run(v, &fc, 60.0, 0.2);
    printf("noisy costs: tier %u, %u changes, last at %.2f s\n", r.audible, r.changes,
           r.last_change_s);
    CHECK(r.audible == 1 && r.changes == 2, "noisy: tier %u, %u changes", r.audible,
          r.changes);
    vsk_voice_destroy(v);
}

/* One budget shared by voices that one thread processes in turn. Equal
 * needs: an equal split, settled with no oscillation; then a voice leaves,
 * the budget grows, a voice's own smaller budget wins. */
static void test_shared(vsk_bundle *b)
{
    set_costs(b, 0.001);
    const float between = (float)(0.5 * (cost[1] + cost[2]));
    const float fits2 = (float)(1.05 * cost[2] / 0.8);
    CHECK(cost[2] > 0.8 * 4.0 / 3.0 * between, "test assumption: tier 2 too cheap");
    vsk_cpu_budget *sb = NULL;
    CHECK_OK(vsk_cpu_budget_create(4 * between, NULL, &sb));
    fake_clock fc[4] = {{0}};
    vsk_voice *v[4];
    run_log r[4];
    for (int i = 0; i < 4; i++)
        v[i] = make_voice(b, &fc[i], 3, 0.0f, sb);
    uint32_t members = 0;
    float frac = 0, load = 0;
    CHECK_OK(vsk_cpu_budget_get(sb, &frac, &members, &load));
    CHECK(members == 4 && frac == 4 * between, "members %u budget %g", members, frac);
    /* share (c1+c2)/2 each: every voice settles on tier 1 ... */
    run_all(v, fc, 4, 10.0, r);
    for (int i = 0; i < 4; i++)
        CHECK(r[i].audible == 1 && r[i].changes == 2 && r[i].last_change_s < 1.5,
              "shared voice %d: tier %u, %u changes, last at %.2f s", i, r[i].audible,
              r[i].changes, r[i].last_change_s);
    CHECK_OK(vsk_cpu_budget_get(sb, NULL, NULL, &load));
    CHECK(fabs(load - 4 * cost[1]) < 1e-5, "shared load %g, want %g", load, 4 * cost[1]);
    /* ... and stays there */
    run_all(v, fc, 4, 30.0, r);
    for (int i = 0; i < 4; i++)
        CHECK(r[i].audible == 1 && r[i].changes == 0, "shared voice %d: %u changes in "
              "30 s more", i, r[i].changes);
    /* one leaves: share 4/3 of it, still under c2 / 0.8: stay */
    vsk_voice_destroy(v[3]);
    CHECK_OK(vsk_cpu_budget_get(sb, NULL, &members, NULL));
    CHECK(members == 3, "members %u after a destroy", members);
    run_all(v, fc, 3, 10.0, r);
    for (int i = 0; i < 3; i++)
        CHECK(r[i].audible == 1 && r[i].changes == 0, "3 members, voice %d: tier %u, "
              "%u changes", i, r[i].audible, r[i].changes);
    /* more budget: the share fits tier 2 */
    CHECK_OK(vsk_cpu_budget_set(sb, 3 * fits2));
    run_all(v, fc, 3, 10.0, r);
    for (int i = 0; i < 3; i++)
        CHECK(r[i].audible == 2 && r[i].changes == 1, "share 1.31 c2, voice %d: tier %u, "
              "%u changes", i, r[i].audible, r[i].changes);
    /* the voice's own budget is used when smaller than its share */
    CHECK_OK(vsk_voice_set_cpu_budget(v[0], (float)(0.5 * (cost[0] + cost[1]))));
    run_all(v, fc, 3, 10.0, r);
    CHECK(r[0].audible == 0, "own budget below the share: tier %u", r[0].audible);
    for (int i = 0; i < 3; i++)
        vsk_voice_destroy(v[i]);
    CHECK_OK(vsk_cpu_budget_get(sb, NULL, &members, &load));
    CHECK(members == 0 && load == 0.0f, "after all left: members %u load %g", members,
          load);
    vsk_cpu_budget_destroy(sb);
}

/* Shares by need: a voice that asks for the lowest tier uses less than an
 * equal share, and the other gets the rest (max-min fairness). Budget
 * S = c_0 + 1.05 c_2 / 0.8: an equal split (S / 2 < c_2) would hold the
 * second voice on tier 1; by need it reaches tier 2, and the two together
 * stay within S. The budget object outlives its creator's reference: it is
 * destroyed first and freed by the last member (ASan checks both ways). */
static void test_shared_by_need(vsk_bundle *b)
{
    set_costs(b, 0.001);
    const float S = (float)(cost[0] + 1.05 * cost[2] / 0.8);
    CHECK(0.5 * S < cost[2] && 0.8 * 0.5 * S >= cost[1] && S - cost[0] < cost[3],
          "test assumption: S/2 fits tier 1 only, S - c0 fits tier 2 only");
    vsk_cpu_budget *sb = NULL;
    CHECK_OK(vsk_cpu_budget_create(S, NULL, &sb));
    fake_clock fc[2] = {{0}};
    vsk_voice *v[2] = {make_voice(b, &fc[0], 0, 0.0f, sb), make_voice(b, &fc[1], 3, 0.0f, sb)};
    vsk_cpu_budget_destroy(sb); /* the members keep it */
    run_log r[2];
    run_all(v, fc, 2, 20.0, r);
    float load = 0;
    CHECK_OK(vsk_cpu_budget_get(sb, NULL, NULL, &load));
    printf("by need, S = %.5f: voices on tiers %u and %u, summed load %.5f\n", S,
           r[0].audible, r[1].audible, load);
    CHECK(r[0].audible == 0 && r[0].changes == 0, "cheap voice: tier %u, %u changes",
          r[0].audible, r[0].changes);
    CHECK(r[1].audible == 2, "by need: second voice on tier %u, want 2 (an equal split "
          "gives 1)", r[1].audible);
    CHECK(load <= S, "summed load %g over the budget %g", load, S);
    run_all(v, fc, 2, 30.0, r);
    CHECK(r[0].changes == 0 && r[1].changes == 0, "by need: %u / %u changes in 30 s more",
          r[0].changes, r[1].changes);
    /* the cheap voice now wants tier 3 too: both are held, equal shares */
    CHECK_OK(vsk_voice_set_tier(v[0], 3));
    run_all(v, fc, 2, 20.0, r);
    CHECK(r[0].audible == 1 && r[1].audible == 1, "both wanting more: tiers %u and %u, "
          "want 1 and 1", r[0].audible, r[1].audible);
    vsk_voice_destroy(v[0]);
    vsk_voice_destroy(v[1]);
}

/* A transient spike (another job takes the core for a while): the voice
 * steps down, then back up once its own load shows the spike is over. */
static void test_spike_recovers(vsk_bundle *b)
{
    set_costs(b, 0.001);
    const float budget = (float)(1.05 * cost[2] / 0.8); /* fits 2, not 3 */
    CHECK(cost[3] > budget, "test assumption: tier 3 fits");
    const double lengths[] = {1.0, 0.25, 0.6};
    for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
        fake_clock fc = {0};
        vsk_voice *v = make_voice(b, &fc, 3, budget, NULL);
        run_log r = run(v, &fc, 10.0, 0.0);
        CHECK(r.audible == 2, "before the spike: tier %u", r.audible);
        /* 3x the cost for lengths[k] s, 2 s into the run */
        const spike sp = {3.0, 2.0, 2.0 + lengths[k], 0, 0.0};
        r = run_spike(v, &fc, 30.0, 0.0, sp);
        printf("spike x3 for %.2f s: %u changes, back on tier %u at %.2f s\n",
               lengths[k], r.changes, r.audible, r.last_change_s);
        CHECK(r.changes >= 2, "spike %.2f s: %u changes (no step down?)", lengths[k],
              r.changes);
        CHECK(r.audible == 2, "spike %.2f s: ends on tier %u, want 2", lengths[k],
              r.audible);
        /* back one up-step (~1.1 s) per tier climbed after the spike when
         * the cost ratios were measured inside it, else after the 5 s a
         * failure's ratio is trusted: at most 5 + 2 x 1.5 s */
        CHECK(r.last_change_s < 2.0 + lengths[k] + 8.0, "spike %.2f s: back only at "
              "%.2f s", lengths[k], r.last_change_s);
        vsk_voice_destroy(v);
    }
    /* A tier that holds at 85 % of the budget (over the 80 % the cost model
     * needs to climb): after a spike the voice climbs back on the ratio it
     * measured (90 %). */
    fake_clock fc = {0};
    vsk_voice *v = make_voice(b, &fc, 2, (float)(cost[2] / 0.85), NULL);
    run_log r = run(v, &fc, 5.0, 0.0);
    CHECK(r.audible == 2 && r.changes == 0, "85 %%: tier %u, %u changes", r.audible, r.changes);
    const spike sp = {3.0, 2.0, 3.0, 0, 0.0};
    r = run_spike(v, &fc, 30.0, 0.0, sp);
    printf("tier at 85 %% of the budget, spike x3 for 1 s: %u changes, back on tier %u at "
           "%.2f s\n", r.changes, r.audible, r.last_change_s);
    CHECK(r.audible == 2 && r.changes >= 2 && r.last_change_s < 3.0 + 5.0,
          "85 %%: ends on tier %u after %u changes, last at %.2f s", r.audible, r.changes,
          r.last_change_s);
    vsk_voice_destroy(v);
}

/* Preemption: every 10th call the thread is descheduled for 4 ms (another
 * thread runs). Counted as processing, that would add 0.075 of a core,
 * fifteen times the budget; counted at the call cap (3x the tier's median
 * cost for the call) it adds 0.2 of the tier's cost, and the voice stays on
 * the tier that fits. */
static void test_preemption_is_not_load(vsk_bundle *b)
{
    set_costs(b, 0.001);
    fake_clock fc = {0};
    const float budget = (float)(cost[3] / 0.7);
    vsk_voice *v = make_voice(b, &fc, 3, budget, NULL);
    run_log r = run(v, &fc, 5.0, 0.0);
    CHECK(r.audible == 3 && r.changes == 0, "before: tier %u", r.audible);
    const spike sp = {1.0, 0.0, 0.0, 10, 4e6};
    r = run_spike(v, &fc, 30.0, 0.0, sp);
    const vsk_tier_state s = state_of(v);
    printf("preempted 4 ms every 10th call: tier %u, %u changes, load %.5f (tier cost %.5f, "
           "budget %.5f)\n", r.audible, r.changes, s.cpu_load, cost[3], budget);
    CHECK(r.audible == 3 && r.changes == 0, "preemption: tier %u, %u changes", r.audible,
          r.changes);
    CHECK(s.cpu_load < 1.3 * cost[3], "preemption: load %.5f counted", s.cpu_load);
    vsk_voice_destroy(v);
}

/* A cost model that underestimates a tier (tier 3 really costs 3 c_2, its
 * computed cost says ~1.7 c_2, and a budget that fits what it says): the
 * governor retries it, fails, and waits
 * twice as long each time (5, 10, 20, 40, 80, 80 ... s). */
static void test_retry_backs_off(vsk_bundle *b)
{
    set_costs(b, 0.001);
    /* the model's tier 3 fits in 80 % of the budget, the real one does not */
    const float budget = (float)(1.05 * cost[3] / 0.8);
    cost[3] = 3.0 * cost[2];
    CHECK(cost[3] > budget, "test assumption: the real tier 3 fits");
    fake_clock fc = {0};
    vsk_voice *v = make_voice(b, &fc, 3, budget, NULL);
    run_log log = {state_of(v).audible, 0, 0.0};
    double ups[32];
    uint32_t n_up = 0;
    const uint32_t calls = (uint32_t)(300.0 * RATE / BLOCK);
    for (uint32_t i = 0; i < calls; i++) {
        const uint32_t before = log.audible;
        one_buffer(v, &fc, i, 0.0, no_spike);
        log_tier(&log, v, i);
        if (log.audible == 3 && before == 2 && n_up < 32)
            ups[n_up++] = log.last_change_s;
    }
    printf("underestimated tier 3: %u retries in 300 s, at", n_up);
    for (uint32_t k = 0; k < n_up; k++)
        printf(" %.1f", ups[k]);
    printf(" s\n");
    CHECK(state_of(v).audible == 2 || state_of(v).switching, "ends on tier %u",
          state_of(v).audible);
    CHECK(n_up >= 3 && n_up <= 7, "%u retries of tier 3 in 300 s, want 3..7", n_up);
    for (uint32_t k = 2; k < n_up; k++)
        CHECK(ups[k] - ups[k - 1] >= 1.5 * (ups[k - 1] - ups[k - 2]) ||
                  ups[k] - ups[k - 1] >= 75.0,
              "retry gaps do not grow: %.1f then %.1f s", ups[k - 1] - ups[k - 2],
              ups[k] - ups[k - 1]);
    vsk_voice_destroy(v);
    set_costs(b, 0.001);
}

static void test_bad_values(vsk_bundle *b)
{
    const float bad[] = {NAN, -0.001f, 1.5f, INFINITY, -INFINITY};
    vsk_voice *v = make_voice(b, NULL, 0, 0.0f, NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(vsk_voice_set_cpu_budget(v, bad[i]) == VSK_ERR_INVALID_ARGUMENT,
              "set_cpu_budget(%g) accepted", bad[i]);
    CHECK(vsk_voice_set_cpu_budget(NULL, 0.1f) == VSK_ERR_INVALID_ARGUMENT, "NULL voice");
    CHECK(vsk_voice_get_cpu_budget(v, NULL) == VSK_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK_OK(vsk_voice_set_cpu_budget(v, 1.0f));
    CHECK_OK(vsk_voice_set_cpu_budget(v, 0.0f));
    vsk_voice_destroy(v);

    vsk_voice_config c;
    vsk_voice_config_init(&c);
    CHECK(c.cpu_budget == 0.0f && c.clock == NULL && c.shared_budget == NULL,
          "config defaults");
    vsk_voice *w = NULL;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c.cpu_budget = bad[i];
        CHECK(vsk_voice_create(b, &c, &w) == VSK_ERR_INVALID_ARGUMENT,
              "config cpu_budget %g accepted", bad[i]);
    }
    c.cpu_budget = 0.0f;
    c.reserved1 = 1;
    CHECK(vsk_voice_create(b, &c, &w) == VSK_ERR_INVALID_ARGUMENT, "reserved1 accepted");

    vsk_cpu_budget *sb = NULL;
    CHECK(vsk_cpu_budget_create(NAN, NULL, &sb) == VSK_ERR_INVALID_ARGUMENT, "shared NaN");
    CHECK(vsk_cpu_budget_create(-1.0f, NULL, &sb) == VSK_ERR_INVALID_ARGUMENT, "shared -1");
    CHECK(vsk_cpu_budget_create(65.0f, NULL, &sb) == VSK_ERR_INVALID_ARGUMENT, "shared 65");
    CHECK(vsk_cpu_budget_create(1.0f, NULL, NULL) == VSK_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK_OK(vsk_cpu_budget_create(4.0f, NULL, &sb));
    CHECK(vsk_cpu_budget_set(sb, NAN) == VSK_ERR_INVALID_ARGUMENT, "shared set NaN");
    CHECK(vsk_cpu_budget_set(sb, 64.5f) == VSK_ERR_INVALID_ARGUMENT, "shared set 64.5");
    CHECK(vsk_cpu_budget_get(NULL, NULL, NULL, NULL) == VSK_ERR_INVALID_ARGUMENT,
          "NULL budget");
    vsk_cpu_budget_destroy(sb);
    vsk_cpu_budget_destroy(NULL);

    vsk_switcher_config sc;
    vsk_switcher_config_init(&sc);
    vsk_switcher *sw = NULL;
    CHECK_OK(vsk_switcher_create(&sc, &sw));
    CHECK(vsk_switcher_set_cpu_budget(sw, NAN) == VSK_ERR_INVALID_ARGUMENT, "switcher NaN");
    CHECK_OK(vsk_switcher_set_cpu_budget(sw, 0.01f));
    vsk_switcher_destroy(sw);
}

/* Through the voice switcher (what every engine adapter runs): its budget
 * reaches the heard voice, and vsk_switcher_get_tier_state reports the
 * governor's decision. */
static void test_switcher(vsk_bundle *b)
{
    set_costs(b, 0.001);
    fake_clock fc = {0};
    vsk_voice *v = make_voice(b, &fc, 3, 0.0f, NULL);
    vsk_switcher_config sc;
    vsk_switcher_config_init(&sc);
    sc.sample_rate = RATE;
    sc.max_channels = 1;
    sc.max_block_frames = BLOCK;
    vsk_switcher *sw = NULL;
    CHECK_OK(vsk_switcher_create(&sc, &sw));
    vsk_tier_state s = {.struct_size = sizeof s};
    CHECK(vsk_switcher_get_tier_state(sw, &s) == VSK_ERR_NOT_FOUND, "no voice yet");
    CHECK_OK(vsk_switcher_publish(sw, v, 7));
    CHECK_OK(vsk_switcher_set_cpu_budget(sw, (float)(0.5 * (cost[1] + cost[2]))));
    const double buf_ns = 1e9 * BLOCK / RATE;
    for (uint32_t i = 0; i < 10 * RATE / BLOCK; i++) {
        const vsk_tier_state t = state_of(v);
        fc.pending = (uint64_t)((cost[t.audible] + (t.switching ? cost[t.incoming] : 0.0)) * buf_ns);
        fc.read_in_call = 0;
        CHECK_OK(vsk_switcher_process(sw, in_buf, out_buf, BLOCK, 1));
        fc.now += (uint64_t)buf_ns - fc.pending;
    }
    CHECK_OK(vsk_switcher_get_tier_state(sw, &s));
    CHECK(s.audible == 1 && s.governed_tier == 1 && s.governor_steps == 2,
          "switcher: audible %u governed %u steps %u", s.audible, s.governed_tier,
          s.governor_steps);
    CHECK_OK(vsk_switcher_retire_all(sw));
    vsk_voice *back = NULL;
    while (vsk_switcher_collect(sw, &back, NULL) == VSK_OK) { }
    vsk_switcher_destroy(sw);
    vsk_voice_destroy(v);
}

/* The system clock: a budget far below any tier's cost settles on the
 * lowest tier (two steps at most 0.2 s + a switch each: well within 3 s of
 * audio whatever the machine's speed or load). */
static void test_real_clock(vsk_bundle *b)
{
    vsk_voice *v = make_voice(b, NULL, 3, 1e-7f, NULL);
    uint32_t changes = 0, last = 3;
    for (uint32_t i = 0; i < 3 * RATE / BLOCK; i++) {
        for (uint32_t f = 0; f < BLOCK; f++)
            in_buf[f] = (float)(0.3 * sin(0.05 * (double)(i * BLOCK + f)));
        CHECK_OK(vsk_voice_process(v, in_buf, out_buf, BLOCK));
        const uint32_t a = state_of(v).audible;
        changes += a != last;
        last = a;
    }
    const vsk_tier_state s = state_of(v);
    printf("real clock, budget 1e-7: tier %u, governed %u, %u changes, load %.5f\n",
           s.audible, s.governed_tier, changes, s.cpu_load);
    CHECK(s.audible == 0 && s.governed_tier == 0, "real clock: tier %u governed %u",
          s.audible, s.governed_tier);
    CHECK(changes == 3, "real clock: %u changes, want 3 (3->2->1->0)", changes);
    CHECK(s.cpu_load > 0.0f && s.cpu_load < 1e3f, "real clock: load %g", s.cpu_load);
    vsk_voice_destroy(v);
}

int main(void)
{
    vsk_bundle *b = ladder();
    test_settles_and_climbs(b);
    test_noisy(b);
    test_shared(b);
    test_shared_by_need(b);
    test_spike_recovers(b);
    test_retry_backs_off(b);
    test_preemption_is_not_load(b);
    test_bad_values(b);
    test_switcher(b);
    test_real_clock(b);
    /* the even schedule governs the same way */
    g_schedule = VSK_SCHEDULE_EVEN;
    printf("even schedule:\n");
    test_settles_and_climbs(b);
    test_real_clock(b);
    vsk_bundle_release(b);
    return vt_finish("test_voice_governor");
}
