/* test_abi_growth.c — the 0.4/0.5/0.6 ABI rules (docs/abi.md, "Growing the
 * ABI" and "Bounded cost"):
 *   - a 0.3-sized config (struct_size 32 / 12) and a 0.3-sized tier info
 *     (48 bytes) still work, bytes past a small info struct are untouched,
 *     a larger struct is VSK_ERR_STRUCT_TOO_NEW, the 0.3 config_init
 *     exports write only 0.3's struct;
 *   - the cost rule: the hostile bundle of issue 14 item 7 (hop 1, FRAME
 *     65536, PITCH_YIN fmin 0.24 Hz, a manifest claiming 1 FLOP/s) opens,
 *     reports its real worst-case cost, and is refused by voice create /
 *     get_size / registry add with VSK_ERR_TOO_COSTLY and a log message;
 *     an explicit higher limit admits it; ordinary tiers are far below;
 *   - allocator and log callbacks; max_isa; tier state through a switch;
 *     vsk_registry_remove;
 *   - 0.5: a 0.4-sized voice config (88 bytes) and tier state (20) still
 *     work, the governor fields past them untouched / read as 0;
 *   - 0.6: a 0.5-sized voice config (120 bytes) still works on the default
 *     schedule; VSK_SCHEDULE_EVEN adds latency. */
#include <string.h>

#include "voice_test_util.h"

/* ---------------------------------------------------------- the bundles */

/* The bundle: one tier at 16 kHz, hop 1, FRAME(65536) →
 * PITCH_YIN(sr 16000, fmin 0.24, fmax 8000, threshold 0.1) → SLICE f0. */
static uint8_t *hostile_bundle(size_t *size)
{
    bb_builder bb;
    bb_init(&bb, "x.slow", "S", "1.0.0");
    bb_tier(&bb, "t", 16000, 1, 1);
    uint32_t x = bb_value(&bb, 1);
    uint32_t f = bb_frame(&bb, x, 65536);
    uint32_t p = bb_value(&bb, 2);
    const float fa[4] = {16000.0f, 0.24f, 8000.0f, 0.1f};
    bb_node(&bb, 13 /* PITCH_YIN */, &f, 1, &p, 1, NULL, 0, NULL, 0, fa, 4);
    uint32_t y = bb_value(&bb, 1);
    const int32_t ia[2] = {0, 1};
    bb_node(&bb, 9 /* SLICE */, &p, 1, &y, 1, NULL, 0, ia, 2, NULL, 0);
    bb_io(&bb, x, y);
    return bb_finish(&bb, size);
}

static vsk_bundle *open_family(void)
{
    bb_builder bb;
    bb_init(&bb, "test.abi", "ABI", "1.0.0");
    bb_identity_tier(&bb, "low", 16000, 64);
    bb_gain_tier(&bb, "high", 24000, 32, 96, 0.5f);
    size_t size;
    uint8_t *data = bb_finish(&bb, &size);
    vsk_bundle *b = NULL;
    CHECK_OK(vsk_bundle_open_memory(data, size, &b));
    free(data);
    return b;
}

/* ---------------------------------------------------------- callbacks */

typedef struct log_rec {
    int calls;
    int32_t level;
    char last[600];
} log_rec;

static void on_log(void *user, int32_t level, const char *msg)
{
    log_rec *r = (log_rec *)user;
    r->calls++;
    r->level = level;
    strncpy(r->last, msg, sizeof r->last - 1);
}

typedef struct alloc_rec {
    int allocs, frees;
    size_t live;
} alloc_rec;

static void *my_alloc(void *user, size_t size, size_t alignment)
{
    alloc_rec *r = (alloc_rec *)user;
    r->allocs++;
    r->live += size;
    return aligned_alloc(alignment < 64 ? 64 : alignment,
                         (size + 63) & ~(size_t)63);
}

static void my_free(void *user, void *p, size_t size)
{
    alloc_rec *r = (alloc_rec *)user;
    r->frees++;
    r->live -= size;
    free(p);
}

/* ---------------------------------------------------------------- tests */

static void test_old_sizes(void)
{
    vsk_bundle *b = open_family();
    if (!b)
        return;
    /* 0.3's voice config: 32 bytes, the fields after it absent. */
    struct {
        vsk_voice_config c;
        unsigned char guard[64];
    } old;
    memset(&old, 0xAB, sizeof old);
    vsk_voice_config_init_size(&old.c, 32);
    CHECK(old.c.struct_size == 32, "init_size wrote struct_size %u",
          old.c.struct_size);
    CHECK(((unsigned char *)&old.c)[32] == 0xAB,
          "init_size(32) wrote past 32 bytes");
    /* the 0.3 export (bypassing this header's macro) writes 32 bytes too */
    memset(&old, 0xAB, sizeof old);
    (vsk_voice_config_init)(&old.c);
    CHECK(old.c.struct_size == 32 && ((unsigned char *)&old.c)[32] == 0xAB,
          "the 0.3 vsk_voice_config_init export wrote %u bytes",
          old.c.struct_size);
    old.c.sample_rate = 44100;
    vsk_voice *v = NULL;
    CHECK_OK(vsk_voice_create(b, &old.c, &v)); /* garbage past 32 ignored */
    uint32_t lvl = 0;
    CHECK_OK(vsk_voice_get_isa(v, &lvl));
    CHECK(lvl >= VSK_ISA_LEVEL_SCALAR && lvl <= VSK_ISA_LEVEL_AVX2,
          "isa level %u", lvl);
    vsk_voice_destroy(v);

    /* sizes: below 0.3's, between, above ours */
    vsk_voice_config c;
    vsk_voice_config_init(&c);
    CHECK(c.struct_size == sizeof c, "macro init size %u", c.struct_size);
    size_t bytes;
    c.struct_size = 28;
    CHECK(vsk_voice_get_size(b, &c, &bytes) == VSK_ERR_ABI_MISMATCH, "28 B");
    c.struct_size = 36; /* a field cut in half: the cut field reads 0 */
    CHECK_OK(vsk_voice_get_size(b, &c, &bytes));
    c.struct_size = sizeof c + 4;
    CHECK(vsk_voice_get_size(b, &c, &bytes) == VSK_ERR_STRUCT_TOO_NEW,
          "larger config");
    vsk_voice_config_init(&c);
    c.reserved0 = 1;
    CHECK(vsk_voice_get_size(b, &c, &bytes) == VSK_ERR_INVALID_ARGUMENT,
          "reserved0 != 0");

    /* 0.3's tier info: 48 bytes; cost_per_second is not written */
    struct {
        vsk_tier_info ti;
        unsigned char guard[16];
    } ti;
    memset(&ti, 0xCD, sizeof ti);
    ti.ti.struct_size = (uint32_t)offsetof(vsk_tier_info, cost_per_second);
    CHECK_OK(vsk_bundle_get_tier_info(b, 0, &ti.ti));
    CHECK(ti.ti.hop_samples == 64, "hop %u", ti.ti.hop_samples);
    CHECK(((unsigned char *)&ti.ti)[offsetof(vsk_tier_info, cost_per_second)] ==
              0xCD, "wrote past a 0.3 tier info");
    ti.ti.struct_size = sizeof ti.ti;
    CHECK_OK(vsk_bundle_get_tier_info(b, 0, &ti.ti));
    CHECK(ti.ti.cost_per_second > 0 && ti.ti.cost_per_second < 100000000u,
          "identity tier cost %llu",
          (unsigned long long)ti.ti.cost_per_second);
    ti.ti.struct_size = sizeof ti.ti + 8;
    CHECK(vsk_bundle_get_tier_info(b, 0, &ti.ti) == VSK_ERR_STRUCT_TOO_NEW,
          "larger tier info");

    /* 0.3's registry config: 12 bytes */
    struct {
        vsk_registry_config c;
        unsigned char guard[64];
    } rc;
    memset(&rc, 0xEF, sizeof rc);
    (vsk_registry_config_init)(&rc.c);
    CHECK(rc.c.struct_size == 12 && ((unsigned char *)&rc.c)[12] == 0xEF,
          "0.3 registry init wrote %u bytes", rc.c.struct_size);
    vsk_registry *r = NULL;
    CHECK_OK(vsk_registry_create(&rc.c, &r));
    CHECK_OK(vsk_registry_add_bundle(r, b, NULL));
    vsk_registry_destroy(r);
    vsk_bundle_release(b);
}

static void test_cost(void)
{
    size_t size;
    uint8_t *data = hostile_bundle(&size);
    printf("hostile bundle: %zu bytes\n", size);
    vsk_bundle *b = NULL;
    CHECK_OK(vsk_bundle_open_memory(data, size, &b)); /* valid: it opens */
    if (!b) {
        free(data);
        return;
    }
    vsk_tier_info ti;
    ti.struct_size = sizeof ti;
    CHECK_OK(vsk_bundle_get_tier_info(b, 0, &ti));
    printf("hostile tier: cost %.3g operations/s (default limit %.3g)\n",
           (double)ti.cost_per_second,
           (double)VSK_DEFAULT_MAX_COST_PER_SECOND);
    CHECK(ti.cost_per_second > 10 * VSK_DEFAULT_MAX_COST_PER_SECOND,
          "hostile cost %llu not far over the default",
          (unsigned long long)ti.cost_per_second);

    log_rec lr = {0, -1, ""};
    vsk_voice_config c;
    vsk_voice_config_init(&c);
    c.sample_rate = 16000;
    c.log = on_log;
    c.log_user = &lr;
    size_t bytes;
    vsk_voice *v = NULL;
    CHECK(vsk_voice_get_size(b, &c, &bytes) == VSK_ERR_TOO_COSTLY, "get_size");
    CHECK(vsk_voice_create(b, &c, &v) == VSK_ERR_TOO_COSTLY && v == NULL,
          "create");
    CHECK(lr.calls == 1 && lr.level == VSK_LOG_ERROR &&
              strstr(lr.last, "VSK_ERR_TOO_COSTLY") &&
              strstr(lr.last, "tier 0 't'") &&
              strstr(lr.last, "vsk_voice_create"),
          "log: %d call(s): %s", lr.calls, lr.last);
    printf("log: %s\n", lr.last);
    c.max_cost_per_second = 0; /* 0 = the default */
    CHECK(vsk_voice_create(b, &c, &v) == VSK_ERR_TOO_COSTLY, "limit 0");
    c.max_cost_per_second = VSK_COST_UNLIMITED;
    CHECK_OK(vsk_voice_create(b, &c, &v));
    vsk_voice_destroy(v);

    vsk_registry_config rc;
    vsk_registry_config_init(&rc);
    lr.calls = 0;
    rc.log = on_log;
    rc.log_user = &lr;
    vsk_registry *r = NULL;
    CHECK_OK(vsk_registry_create(&rc, &r));
    CHECK(vsk_registry_add_memory(r, data, size, NULL) == VSK_ERR_TOO_COSTLY,
          "registry add_memory");
    CHECK(vsk_registry_add_bundle(r, b, NULL) == VSK_ERR_TOO_COSTLY,
          "registry add_bundle");
    CHECK(lr.calls == 2 && strstr(lr.last, "vsk_registry_add"), "reg log %s",
          lr.last);
    uint32_t n = 9;
    CHECK_OK(vsk_registry_count(r, &n));
    CHECK(n == 0, "count %u", n);
    vsk_registry_destroy(r);
    rc.max_cost_per_second = ti.cost_per_second; /* exactly its cost fits */
    CHECK_OK(vsk_registry_create(&rc, &r));
    CHECK_OK(vsk_registry_add_bundle(r, b, NULL));
    vsk_registry_destroy(r);

    /* the ordinary family: far below the default */
    vsk_bundle *fam = open_family();
    for (uint32_t k = 0; fam && k < 2; k++) {
        ti.struct_size = sizeof ti;
        CHECK_OK(vsk_bundle_get_tier_info(fam, k, &ti));
        CHECK(ti.cost_per_second < VSK_DEFAULT_MAX_COST_PER_SECOND / 20,
              "tier %u cost %llu", k, (unsigned long long)ti.cost_per_second);
    }
    vsk_bundle_release(fam);
    vsk_bundle_release(b);
    free(data);
}

static void test_allocator_and_isa(void)
{
    vsk_bundle *b = open_family();
    if (!b)
        return;
    alloc_rec ar = {0, 0, 0};
    vsk_voice_config c;
    vsk_voice_config_init(&c);
    c.allocator.alloc = my_alloc;
    vsk_voice *v = NULL;
    CHECK(vsk_voice_create(b, &c, &v) == VSK_ERR_INVALID_ARGUMENT,
          "alloc without free");
    c.allocator.free = my_free;
    c.allocator.user = &ar;
    c.max_isa = VSK_ISA_LEVEL_SCALAR;
    CHECK_OK(vsk_voice_create(b, &c, &v));
    CHECK(ar.allocs == 1 && ar.live > 0, "voice allocs %d", ar.allocs);
    uint32_t lvl = 0;
    CHECK_OK(vsk_voice_get_isa(v, &lvl));
    CHECK(lvl == VSK_ISA_LEVEL_SCALAR, "capped level %u", lvl);
    /* two scalar voices agree bit for bit */
    vsk_voice *w = NULL;
    CHECK_OK(vsk_voice_create(b, &c, &w));
    float x[1024], y0[1024], y1[1024];
    vt_multisine(x, 1024, 48000.0, 100.0, 4000.0, 8);
    CHECK_OK(vsk_voice_set_tier(v, 1));
    CHECK_OK(vsk_voice_set_tier(w, 1));
    for (int i = 0; i < 20; i++) {
        CHECK_OK(vsk_voice_process(v, x, y0, 1024));
        CHECK_OK(vsk_voice_process(w, x, y1, 1024));
    }
    CHECK(memcmp(y0, y1, sizeof y0) == 0, "scalar voices differ");
    vsk_voice_destroy(w);
    vsk_voice_destroy(v);
    CHECK(ar.frees == ar.allocs && ar.live == 0, "frees %d/%d live %zu",
          ar.frees, ar.allocs, ar.live);

    c.max_isa = VSK_ISA_LEVEL_SIMD128;
    CHECK_OK(vsk_voice_create(b, &c, &v));
    CHECK_OK(vsk_voice_get_isa(v, &lvl));
    CHECK(lvl == VSK_ISA_LEVEL_SIMD128 || lvl == VSK_ISA_LEVEL_SCALAR,
          "SIMD128 cap gave %u", lvl);
    vsk_voice_destroy(v);

    /* registry memory through the allocator */
    ar.allocs = ar.frees = 0;
    vsk_registry_config rc;
    vsk_registry_config_init(&rc);
    rc.allocator.alloc = my_alloc;
    rc.allocator.free = my_free;
    rc.allocator.user = &ar;
    vsk_registry *r = NULL;
    CHECK_OK(vsk_registry_create(&rc, &r));
    CHECK_OK(vsk_registry_add_bundle(r, b, NULL));
    const int reg_allocs = ar.allocs;
    /* bundles the registry opens come from its allocator too */
    bb_builder bb;
    bb_init(&bb, "test.other", "Other", "1.0.0");
    bb_identity_tier(&bb, "base", 16000, 64);
    size_t size;
    uint8_t *data = bb_finish(&bb, &size);
    CHECK_OK(vsk_registry_add_memory(r, data, size, NULL));
    free(data);
    CHECK(ar.allocs >= reg_allocs + 4, "bundle allocs %d", ar.allocs - reg_allocs);
    vsk_registry_destroy(r);
    CHECK(reg_allocs >= 2 && ar.frees == ar.allocs && ar.live == 0,
          "registry allocs %d frees %d live %zu", ar.allocs, ar.frees, ar.live);
    vsk_bundle_release(b);
}

static void test_tier_state(void)
{
    vsk_bundle *b = open_family();
    if (!b)
        return;
    vsk_voice_config c;
    vsk_voice_config_init(&c);
    vsk_voice *v = NULL;
    CHECK_OK(vsk_voice_create(b, &c, &v));
    vsk_tier_state s;
    s.struct_size = sizeof s;
    CHECK_OK(vsk_voice_get_tier_state(v, &s));
    CHECK(s.requested == 0 && s.audible == 0 && s.incoming == VSK_NO_TIER &&
              !s.switching, "initial state");
    CHECK_OK(vsk_voice_set_tier(v, 1));
    CHECK_OK(vsk_voice_get_tier_state(v, &s));
    CHECK(s.requested == 1 && s.audible == 0 && !s.switching,
          "requested, not yet processed");
    float buf[256] = {0};
    CHECK_OK(vsk_voice_process(v, buf, buf, 256));
    CHECK_OK(vsk_voice_get_tier_state(v, &s));
    CHECK(s.requested == 1 && s.audible == 0 && s.incoming == 1 && s.switching,
          "warming: audible %u incoming %u switching %u", s.audible,
          s.incoming, s.switching);
    int frames = 256;
    while (s.switching && frames < 48000) {
        CHECK_OK(vsk_voice_process(v, buf, buf, 256));
        frames += 256;
        CHECK_OK(vsk_voice_get_tier_state(v, &s));
    }
    CHECK(!s.switching && s.audible == 1 && s.incoming == VSK_NO_TIER,
          "after the switch (%d frames): audible %u", frames, s.audible);
    printf("switch heard after %d frames (%.1f ms)\n", frames,
           frames / 48.0);
    s.struct_size = sizeof s + 4;
    CHECK(vsk_voice_get_tier_state(v, &s) == VSK_ERR_STRUCT_TOO_NEW, "big");
    /* 0.4's 20-byte tier state: filled, the governor fields after it not */
    CHECK(offsetof(vsk_tier_state, governed_tier) == 20, "0.4 tier state size");
    memset(&s, 0xAB, sizeof s);
    s.struct_size = 20;
    CHECK_OK(vsk_voice_get_tier_state(v, &s));
    CHECK(s.audible == 1 && s.governed_tier == 0xABABABABu,
          "0.4-sized tier state: audible %u, byte 20 on written", s.audible);
    s.struct_size = 16;
    CHECK(vsk_voice_get_tier_state(v, &s) == VSK_ERR_ABI_MISMATCH, "small");
    vsk_voice_destroy(v);
    /* 0.4's 88-byte voice config: creates, the governor off (fields after
     * it read as 0, whatever the bytes there) */
    CHECK(offsetof(vsk_voice_config, cpu_budget) == 88, "0.4 config size");
    memset(&c, 0x7F, sizeof c);
    vsk_voice_config_init_size(&c, 88);
    CHECK(c.struct_size == 88 && c.reserved1 == 0x7F7F7F7Fu,
          "init_size(88) wrote past 88 bytes");
    CHECK_OK(vsk_voice_create(b, &c, &v));
    float f = -1.0f;
    CHECK_OK(vsk_voice_get_cpu_budget(v, &f));
    CHECK(f == 0.0f, "0.4 config: budget %g", f);
    uint32_t lat_default = 0, lat = 0;
    CHECK_OK(vsk_voice_get_latency(v, &lat_default));
    vsk_voice_destroy(v);
    /* 0.5's 120-byte voice config: creates on the default schedule (the
     * 0.6 fields after it read as 0, whatever the bytes there); the full
     * struct with VSK_SCHEDULE_EVEN: one hop more */
    CHECK(offsetof(vsk_voice_config, schedule) == 120, "0.5 config size");
    for (int even = 0; even < 2; even++) {
        memset(&c, 0x7F, sizeof c);
        vsk_voice_config_init_size(&c, even ? (uint32_t)sizeof c : 120u);
        if (even) {
            CHECK(c.schedule == VSK_SCHEDULE_LOW_LATENCY && c.reserved2 == 0,
                  "0.6 defaults");
            c.schedule = VSK_SCHEDULE_EVEN;
        } else {
            CHECK(c.struct_size == 120 && c.schedule == 0x7F7F7F7Fu,
                  "init_size(120) wrote past 120 bytes");
        }
        CHECK_OK(vsk_voice_create(b, &c, &v));
        CHECK_OK(vsk_voice_get_latency(v, &lat));
        CHECK(even ? lat > lat_default : lat == lat_default,
              "schedule %d: latency %u, default %u", even, lat, lat_default);
        vsk_voice_destroy(v);
    }
    vsk_bundle_release(b);
}

static void test_registry_remove(void)
{
    vsk_registry_config rc;
    vsk_registry_config_init(&rc);
    vsk_registry *r = NULL;
    CHECK_OK(vsk_registry_create(&rc, &r));
    const char *ids[3] = {"a.one", "b.two", "c.three"};
    for (int i = 0; i < 3; i++) {
        bb_builder bb;
        bb_init(&bb, ids[i], ids[i], "1.0.0");
        bb_identity_tier(&bb, "base", 16000, 64);
        size_t size;
        uint8_t *data = bb_finish(&bb, &size);
        CHECK_OK(vsk_registry_add_memory(r, data, size, NULL));
        free(data);
    }
    vsk_bundle *kept = NULL;
    CHECK_OK(vsk_registry_get(r, 0, &kept));
    vsk_bundle_retain(kept);
    CHECK_OK(vsk_registry_remove(r, "a.one"));
    CHECK(vsk_registry_remove(r, "a.one") == VSK_ERR_NOT_FOUND, "twice");
    CHECK(vsk_registry_remove(r, NULL) == VSK_ERR_INVALID_ARGUMENT, "NULL");
    uint32_t n = 0, idx = 9;
    CHECK_OK(vsk_registry_count(r, &n));
    CHECK(n == 2, "count %u", n);
    CHECK_OK(vsk_registry_find(r, "b.two", &idx));
    CHECK(idx == 0, "b.two moved to %u", idx);
    CHECK_OK(vsk_registry_find(r, "c.three", &idx));
    CHECK(idx == 1, "c.three at %u", idx);
    /* the removed bundle lives on through our reference */
    vsk_bundle_info info;
    info.struct_size = sizeof info;
    CHECK_OK(vsk_bundle_get_info(kept, &info));
    CHECK(strcmp(info.voice_id, "a.one") == 0, "kept %s", info.voice_id);
    /* and can come back */
    CHECK_OK(vsk_registry_add_bundle(r, kept, &idx));
    CHECK(idx == 2, "re-added at %u", idx);
    vsk_bundle_release(kept);
    vsk_registry_destroy(r);
}

int main(void)
{
    test_old_sizes();
    test_cost();
    test_allocator_and_isa();
    test_tier_state();
    test_registry_remove();
    return vt_finish("test_abi_growth");
}
