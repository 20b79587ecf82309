/* test_bundle_core.c — status strings, version, bundle validation (good and
 * bad bundles built byte by byte, each defect mapped to its documented
 * status and check order), bundle lifetime and queries. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "vsk_test_bundle.h"
#include "voiceskin.h"

/* ------------------------------------------------------------ statuses */

static void test_status_strings(void)
{
    static const struct {
        vsk_status st;
        const char *name;
    } all[] = {
        {VSK_OK, "VSK_OK"},
        {VSK_ERR_INVALID_ARGUMENT, "VSK_ERR_INVALID_ARGUMENT"},
        {VSK_ERR_NO_MEMORY, "VSK_ERR_NO_MEMORY"},
        {VSK_ERR_IO, "VSK_ERR_IO"},
        {VSK_ERR_BAD_MAGIC, "VSK_ERR_BAD_MAGIC"},
        {VSK_ERR_UNSUPPORTED_VERSION, "VSK_ERR_UNSUPPORTED_VERSION"},
        {VSK_ERR_TRUNCATED, "VSK_ERR_TRUNCATED"},
        {VSK_ERR_CHECKSUM, "VSK_ERR_CHECKSUM"},
        {VSK_ERR_CORRUPT, "VSK_ERR_CORRUPT"},
        {VSK_ERR_TOO_LARGE, "VSK_ERR_TOO_LARGE"},
        {VSK_ERR_UNSUPPORTED_OP, "VSK_ERR_UNSUPPORTED_OP"},
        {VSK_ERR_ABI_MISMATCH, "VSK_ERR_ABI_MISMATCH"},
        {VSK_ERR_UNSUPPORTED_RATE, "VSK_ERR_UNSUPPORTED_RATE"},
        {VSK_ERR_NOT_FOUND, "VSK_ERR_NOT_FOUND"},
        {VSK_ERR_DUPLICATE, "VSK_ERR_DUPLICATE"},
        {VSK_ERR_BUFFER_TOO_SMALL, "VSK_ERR_BUFFER_TOO_SMALL"},
        {VSK_ERR_BAD_STATE, "VSK_ERR_BAD_STATE"},
        {VSK_ERR_STRUCT_TOO_NEW, "VSK_ERR_STRUCT_TOO_NEW"},
        {VSK_ERR_TOO_COSTLY, "VSK_ERR_TOO_COSTLY"},
    };
    const char *unknown_text = vsk_status_string(12345);
    size_t i, j;
    CHECK(unknown_text && *unknown_text);
    for (i = 0; i < sizeof all / sizeof all[0]; i++) {
        const char *text = vsk_status_string(all[i].st);
        CHECK(strcmp(vsk_status_name(all[i].st), all[i].name) == 0);
        CHECK(text && strlen(text) > 3);
        CHECK(strcmp(text, unknown_text) != 0);
        for (j = 0; j < i; j++)
            CHECK(strcmp(text, vsk_status_string(all[j].st)) != 0);
    }
    CHECK(strcmp(vsk_status_name(1), "VSK_ERR_UNKNOWN") == 0);
    CHECK(strcmp(vsk_status_name(-19), "VSK_ERR_UNKNOWN") == 0);
    CHECK(strcmp(vsk_status_name(INT32_MIN), "VSK_ERR_UNKNOWN") == 0);
    CHECK(strcmp(vsk_status_string(-19), unknown_text) == 0);
    CHECK(strcmp(vsk_status_string(INT32_MAX), unknown_text) == 0);

    CHECK(vsk_version() == (((uint32_t)VSK_VERSION_MAJOR << 16) |
                            ((uint32_t)VSK_VERSION_MINOR << 8) |
                            (uint32_t)VSK_VERSION_PATCH));
    {
        char want[32];
        snprintf(want, sizeof want, "%d.%d.%d", VSK_VERSION_MAJOR,
                 VSK_VERSION_MINOR, VSK_VERSION_PATCH);
        CHECK(strcmp(vsk_version_string(), want) == 0);
    }
    CHECK(vsk_abi_version() == VSK_ABI_VERSION);
}

/* ------------------------------------------------------- valid bundles */

static void test_valid_bundle(void)
{
    tb_spec s;
    tb_buf f;
    vsk_bundle *b = NULL;
    vsk_bundle_info info;
    vsk_tier_info ti;
    uint32_t idx = 99;

    tb_std_spec(&s);
    f = tb_write(&s, NULL);
    CHECK_ST(vsk_bundle_open_memory(f.p, f.n, &b), VSK_OK);
    /* The bundle owns a copy: wreck and free the caller's bytes. */
    memset(f.p, 0xAB, f.n);
    tb_free(&f);
    if (!b) {
        tb_spec_free(&s);
        return;
    }
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    CHECK_ST(vsk_bundle_get_info(b, &info), VSK_OK);
    CHECK(strcmp(info.voice_id, "demo.test-voice_1") == 0);
    CHECK(strcmp(info.display_name, "Test Voice") == 0);
    CHECK(strcmp(info.version, "1.2.3") == 0);
    CHECK(info.tier_count == 2);
    CHECK(info.format_version == 1);

    memset(&ti, 0, sizeof ti);
    ti.struct_size = sizeof ti;
    CHECK_ST(vsk_bundle_get_tier_info(b, 0, &ti), VSK_OK);
    CHECK(strcmp(ti.name, "low") == 0);
    CHECK(ti.model_sample_rate == 16000 && ti.hop_samples == 32);
    CHECK(ti.latency_samples == 64);
    CHECK(ti.parameter_count == 1000 && ti.flops_per_second == 2000000);
    CHECK_ST(vsk_bundle_get_tier_info(b, 1, &ti), VSK_OK);
    CHECK(strcmp(ti.name, "high") == 0 && ti.hop_samples == 64);
    CHECK(ti.model_sample_rate == 48000);
    CHECK_ST(vsk_bundle_get_tier_info(b, 2, &ti), VSK_ERR_NOT_FOUND);
    CHECK_ST(vsk_bundle_find_tier(b, "high", &idx), VSK_OK);
    CHECK(idx == 1);
    CHECK_ST(vsk_bundle_find_tier(b, "low", &idx), VSK_OK);
    CHECK(idx == 0);
    idx = 77;
    CHECK_ST(vsk_bundle_find_tier(b, "ultra", &idx), VSK_ERR_NOT_FOUND);
    CHECK(idx == 77); /* out-parameters only written on success */
    CHECK_ST(vsk_bundle_find_tier(b, "", &idx), VSK_ERR_NOT_FOUND);

    /* Argument and ABI checks. */
    info.struct_size = sizeof info - 1;
    CHECK_ST(vsk_bundle_get_info(b, &info), VSK_ERR_ABI_MISMATCH);
    info.struct_size = sizeof info + 8; /* a newer header's struct */
    CHECK_ST(vsk_bundle_get_info(b, &info), VSK_ERR_STRUCT_TOO_NEW);
    ti.struct_size = 4;
    CHECK_ST(vsk_bundle_get_tier_info(b, 0, &ti), VSK_ERR_ABI_MISMATCH);
    CHECK_ST(vsk_bundle_get_info(NULL, &info), VSK_ERR_INVALID_ARGUMENT);
    CHECK_ST(vsk_bundle_get_info(b, NULL), VSK_ERR_INVALID_ARGUMENT);
    CHECK_ST(vsk_bundle_get_tier_info(NULL, 0, &ti), VSK_ERR_INVALID_ARGUMENT);
    CHECK_ST(vsk_bundle_find_tier(b, NULL, &idx), VSK_ERR_INVALID_ARGUMENT);
    CHECK_ST(vsk_bundle_find_tier(b, "low", NULL), VSK_ERR_INVALID_ARGUMENT);

    /* Reference counting: three references, three releases (ASan/valgrind
     * would flag a use after free or a leak). */
    vsk_bundle_retain(b);
    vsk_bundle_retain(b);
    vsk_bundle_release(b);
    vsk_bundle_release(b);
    info.struct_size = sizeof info;
    CHECK_ST(vsk_bundle_get_info(b, &info), VSK_OK);
    vsk_bundle_release(b);
    vsk_bundle_release(NULL);
    vsk_bundle_retain(NULL);
    tb_spec_free(&s);
}

/* Manifest parameter_count / flops_per_second of 0 fall back to the
 * runtime's own figures; leading zeros in the version are normalised. */
static void test_manifest_fallbacks(void)
{
    tb_spec s;
    tb_buf f;
    vsk_bundle *b = NULL;
    vsk_tier_info ti;
    vsk_bundle_info info;

    tb_std_spec(&s);
    s.tiers[0].params = 0;
    s.tiers[0].flops = 0;
    s.version = "01.002.0003";
    s.qa = NULL;
    s.display_name = "\xC3\x89lo\xC3\xAF\x73\x65 \xE2\x9C\x93"; /* UTF-8 */
    f = tb_write(&s, NULL);
    CHECK_ST(vsk_bundle_open_memory(f.p, f.n, &b), VSK_OK);
    if (b) {
        memset(&ti, 0, sizeof ti);
        ti.struct_size = sizeof ti;
        CHECK_ST(vsk_bundle_get_tier_info(b, 0, &ti), VSK_OK);
        /* W [32, 64] + b [32] */
        CHECK(ti.parameter_count == 32u * 64u + 32u);
        /* LINEAR alone is 2 flops per weight, 500 steps per second. */
        CHECK(ti.flops_per_second >= 2u * 32u * 64u * 500u);
        CHECK_ST(vsk_bundle_get_tier_info(b, 1, &ti), VSK_OK);
        CHECK(ti.parameter_count == 1001);
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        CHECK_ST(vsk_bundle_get_info(b, &info), VSK_OK);
        CHECK(strcmp(info.version, "1.2.3") == 0);
        CHECK(strcmp(info.display_name, s.display_name) == 0);
        vsk_bundle_release(b);
    }
    tb_free(&f);
    tb_spec_free(&s);
}

/* --------------------------------------------------------- header path */

static void test_header_checks(void)
{
    tb_spec s;
    tb_layout L;
    tb_buf f, g = {0};
    vsk_bundle *b = (vsk_bundle *)(uintptr_t)0x1;

    tb_std_spec(&s);
    f = tb_write(&s, &L);
    CHECK_ST(tb_open(&f), VSK_OK);

    CHECK_ST(vsk_bundle_open_memory(NULL, 100, &b), VSK_ERR_INVALID_ARGUMENT);
    CHECK_ST(vsk_bundle_open_memory(f.p, f.n, NULL), VSK_ERR_INVALID_ARGUMENT);
    CHECK(b == (vsk_bundle *)(uintptr_t)0x1); /* untouched on failure */

    /* Fewer than 68 bytes: TRUNCATED even with a good magic; this comes
     * before the magic check. */
    CHECK_ST(vsk_bundle_open_memory(f.p, 67, &b), VSK_ERR_TRUNCATED);
    CHECK_ST(vsk_bundle_open_memory(f.p, 0, &b), VSK_ERR_TRUNCATED);
    CHECK_ST(vsk_bundle_open_memory("not a bundle", 12, &b), VSK_ERR_TRUNCATED);

#define WITH_COPY(stmt, want)                                              \
    do {                                                                   \
        g.n = 0;                                                           \
        tb_bytes(&g, f.p, f.n);                                            \
        stmt;                                                              \
        CHECK_ST(tb_open(&g), want);                                       \
    } while (0)

    WITH_COPY(g.p[0] = 'X', VSK_ERR_BAD_MAGIC);
    WITH_COPY(g.p[5] = 'X', VSK_ERR_BAD_MAGIC);
    WITH_COPY((g.p[7] = '\n', g.p[6] = '\n'), VSK_ERR_BAD_MAGIC);
    /* magic beats version */
    WITH_COPY((g.p[1] = 'x', tb_put32(g.p + 8, 2)), VSK_ERR_BAD_MAGIC);
    WITH_COPY(tb_put32(g.p + 8, 2), VSK_ERR_UNSUPPORTED_VERSION);
    WITH_COPY(tb_put32(g.p + 8, 0), VSK_ERR_UNSUPPORTED_VERSION);
    WITH_COPY(tb_put32(g.p + 28, 1), VSK_ERR_UNSUPPORTED_VERSION);
    WITH_COPY(tb_put32(g.p + 28, 0x80000000u), VSK_ERR_UNSUPPORTED_VERSION);
    /* version beats size */
    WITH_COPY((tb_put32(g.p + 8, 9), tb_put64(g.p + 16, 1ull << 40)),
              VSK_ERR_UNSUPPORTED_VERSION);
    WITH_COPY(tb_put64(g.p + 16, (256ull << 20) + 1), VSK_ERR_TOO_LARGE);
    WITH_COPY(tb_put64(g.p + 16, UINT64_MAX), VSK_ERR_TOO_LARGE);
    WITH_COPY(tb_put64(g.p + 16, 256ull << 20), VSK_ERR_TRUNCATED);
    WITH_COPY(tb_put64(g.p + 16, f.n + 1), VSK_ERR_TRUNCATED);
    WITH_COPY(tb_put64(g.p + 16, f.n - 1), VSK_ERR_CORRUPT);
    WITH_COPY(tb_put64(g.p + 16, 0), VSK_ERR_CORRUPT);
    /* actual size: one byte short / one byte extra */
    WITH_COPY(g.n--, VSK_ERR_TRUNCATED);
    WITH_COPY(tb_u32(&g, 0), VSK_ERR_CORRUPT);
    /* CRC: trailer or any covered byte */
    WITH_COPY(g.p[g.n - 1] ^= 1, VSK_ERR_CHECKSUM);
    WITH_COPY(g.p[L.tensors_off + 200] ^= 0x10, VSK_ERR_CHECKSUM);
    WITH_COPY(g.p[40] = 1, VSK_ERR_CHECKSUM); /* CRC before structure */
    /* structure (CRC fixed) */
    WITH_COPY((tb_put32(g.p + 12, 65), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(g.p + 12, 0), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((g.p[40] = 1, tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((g.p[63] = 0x80, tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(g.p + 24, 0), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(g.p + 24, 65), tb_fix(&g)), VSK_ERR_TOO_LARGE);
    WITH_COPY((tb_put32(g.p + 24, 0xFFFFFFFFu), tb_fix(&g)), VSK_ERR_TOO_LARGE);
    WITH_COPY((tb_put32(g.p + 24, 64), tb_fix(&g)), VSK_ERR_CORRUPT);
    /* section table outside the body */
    WITH_COPY((tb_put64(g.p + 32, 0), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put64(g.p + 32, 63), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put64(g.p + 32, f.n - 4 - 32 * 5 + 1), tb_fix(&g)),
              VSK_ERR_CORRUPT);
    WITH_COPY((tb_put64(g.p + 32, UINT64_MAX - 8), tb_fix(&g)), VSK_ERR_CORRUPT);
    tb_free(&g);
    tb_free(&f);
    tb_spec_free(&s);
}

static void test_section_checks(void)
{
    tb_spec s;
    tb_layout L;
    tb_buf f, g = {0};
    uint32_t sc;

    tb_std_spec(&s);
    f = tb_write(&s, &L);
    sc = L.section_count; /* 0 MANIFEST, 1-2 GRAPH, 3 QA, 4 TENSORS */
    CHECK(sc == 5);
#define ENTRY(k) tb_entry(&g, &L, (k))
    WITH_COPY((tb_put32(ENTRY(3), 5), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(ENTRY(3), 0), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put64(ENTRY(0) + 24, 1), tb_fix(&g)), VSK_ERR_CORRUPT);
    /* outside [64, file_size - 4) */
    WITH_COPY((tb_put64(ENTRY(3) + 8, 32), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put64(ENTRY(3) + 16, f.n), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put64(ENTRY(4) + 16, L.tensors_size + 1), tb_fix(&g)),
              VSK_ERR_CORRUPT);
    WITH_COPY((tb_put64(ENTRY(3) + 8, f.n - 4), tb_put64(ENTRY(3) + 16, 0),
               tb_fix(&g)),
              VSK_OK); /* an empty QA right at the body end is fine */
    WITH_COPY((tb_put64(ENTRY(3) + 16, UINT64_MAX), tb_fix(&g)),
              VSK_ERR_CORRUPT);
    /* overlaps: QA into the tensors, a section over the table */
    WITH_COPY((tb_put64(ENTRY(3) + 16, L.tensors_off - L.qa_off + 1),
               tb_fix(&g)),
              VSK_ERR_CORRUPT);
    WITH_COPY((tb_put64(ENTRY(3) + 8, 64), tb_put64(ENTRY(3) + 16, 4),
               tb_fix(&g)),
              VSK_ERR_CORRUPT);
    WITH_COPY((tb_put64(ENTRY(3) + 8, L.manifest_off + 4),
               tb_put64(ENTRY(3) + 16, 0), tb_fix(&g)),
              VSK_ERR_CORRUPT); /* empty range strictly inside another */
    /* multiplicity and index */
    WITH_COPY((tb_put32(ENTRY(3), 1), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(ENTRY(3), 2), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(ENTRY(4), 4), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(ENTRY(0) + 4, 1), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(ENTRY(3) + 4, 1), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(ENTRY(4) + 4, 7), tb_fix(&g)), VSK_ERR_CORRUPT);
    /* GRAPH sections: duplicate tier, missing tier, tier out of range */
    WITH_COPY((tb_put32(ENTRY(2) + 4, 0), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(ENTRY(2) + 4, 2), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(ENTRY(2), 4), tb_fix(&g)), VSK_ERR_CORRUPT);
    /* swapping the two GRAPH entries' indexes swaps graphs between tiers:
     * the 64-hop graph then sits in the 32-hop tier -> CORRUPT */
    WITH_COPY((tb_put32(ENTRY(1) + 4, 1), tb_put32(ENTRY(2) + 4, 0),
               tb_fix(&g)),
              VSK_ERR_CORRUPT);
    /* QA must be UTF-8 */
    WITH_COPY((g.p[L.qa_off + 1] = 0xFF, tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((g.p[L.qa_off + 1] = 0xC0, g.p[L.qa_off + 2] = 0x80, tb_fix(&g)),
              VSK_ERR_CORRUPT); /* overlong */
#undef ENTRY
    tb_free(&g);
    tb_free(&f);
    tb_spec_free(&s);
}

/* --------------------------------------------------------------- manifest */

static vsk_status open_spec(tb_spec *s)
{
    tb_buf f = tb_write(s, NULL);
    vsk_status st = tb_open(&f);
    tb_free(&f);
    return st;
}

#define SPEC_CASE(stmt, want)                                              \
    do {                                                                   \
        tb_spec s_;                                                        \
        tb_std_spec(&s_);                                                  \
        {                                                                  \
            tb_spec *s = &s_;                                              \
            stmt;                                                          \
            CHECK_ST(open_spec(s), want);                                  \
        }                                                                  \
        tb_spec_free(&s_);                                                 \
    } while (0)

static void test_manifest_checks(void)
{
    char long_id[70], long_name[140], long_tier[40];
    memset(long_id, 'a', 65);
    long_id[65] = 0;
    memset(long_name, 'N', 129);
    long_name[129] = 0;
    memset(long_tier, 't', 33);
    long_tier[33] = 0;

    SPEC_CASE((void)s, VSK_OK);
    SPEC_CASE(s->voice_id = "a", VSK_OK);
    SPEC_CASE(s->voice_id = "0.9_z-", VSK_OK);
    SPEC_CASE(s->voice_id = "", VSK_ERR_CORRUPT);
    SPEC_CASE(s->voice_id = "Demo", VSK_ERR_CORRUPT);
    SPEC_CASE(s->voice_id = "demo aria", VSK_ERR_CORRUPT);
    SPEC_CASE(s->voice_id = "demo/aria", VSK_ERR_CORRUPT);
    SPEC_CASE(s->voice_id = long_id, VSK_ERR_CORRUPT);
    SPEC_CASE((long_id[64] = 0, s->voice_id = long_id), VSK_OK);
    SPEC_CASE(s->display_name = "", VSK_ERR_CORRUPT);
    SPEC_CASE(s->display_name = long_name, VSK_ERR_CORRUPT);
    SPEC_CASE((long_name[128] = 0, s->display_name = long_name), VSK_OK);
    SPEC_CASE(s->display_name = "bad \xFF utf8", VSK_ERR_CORRUPT);
    SPEC_CASE(s->display_name = "cut \xE2\x9C", VSK_ERR_CORRUPT);
    SPEC_CASE(s->display_name = "surrogate \xED\xA0\x80", VSK_ERR_CORRUPT);
    SPEC_CASE(s->display_name = "too big \xF4\x90\x80\x80", VSK_ERR_CORRUPT);
    SPEC_CASE(s->display_name = "emoji \xF0\x9F\x8E\xA4", VSK_OK);
    SPEC_CASE(s->version = "1.2", VSK_ERR_CORRUPT);
    SPEC_CASE(s->version = "1.2.3.4", VSK_ERR_CORRUPT);
    SPEC_CASE(s->version = "1.2.", VSK_ERR_CORRUPT);
    SPEC_CASE(s->version = ".1.2", VSK_ERR_CORRUPT);
    SPEC_CASE(s->version = "1.2.x", VSK_ERR_CORRUPT);
    SPEC_CASE(s->version = "1.-2.3", VSK_ERR_CORRUPT);
    SPEC_CASE(s->version = "1.2.3 ", VSK_ERR_CORRUPT);
    SPEC_CASE(s->version = "", VSK_ERR_CORRUPT);
    SPEC_CASE(s->version = "1.2.65536", VSK_ERR_CORRUPT);
    SPEC_CASE(s->version = "99999999999.0.0", VSK_ERR_CORRUPT);
    SPEC_CASE(s->version = "65535.65535.65535", VSK_OK);
    SPEC_CASE(s->version = "0.0.0", VSK_OK);
    /* tiers */
    SPEC_CASE(s->tiers[1].name = "low", VSK_ERR_CORRUPT);
    SPEC_CASE(s->tiers[1].name = "High", VSK_ERR_CORRUPT);
    SPEC_CASE(s->tiers[1].name = "hi.gh", VSK_ERR_CORRUPT);
    SPEC_CASE(s->tiers[1].name = "", VSK_ERR_CORRUPT);
    SPEC_CASE(s->tiers[1].name = long_tier, VSK_ERR_CORRUPT);
    SPEC_CASE((long_tier[32] = 0, s->tiers[1].name = long_tier), VSK_OK);
    SPEC_CASE(s->tiers[1].name = "ultra_2-x", VSK_OK);
    SPEC_CASE(s->tiers[0].rate = 7999, VSK_ERR_CORRUPT);
    SPEC_CASE(s->tiers[0].rate = 192001, VSK_ERR_CORRUPT);
    SPEC_CASE(s->tiers[0].rate = 8000, VSK_OK);
    SPEC_CASE(s->tiers[0].rate = 192000, VSK_OK);
    SPEC_CASE(s->tiers[0].latency = 31, VSK_ERR_CORRUPT);
    SPEC_CASE(s->tiers[0].latency = 32, VSK_OK);
    SPEC_CASE(s->tiers[0].hop = 0, VSK_ERR_CORRUPT);
    SPEC_CASE((s->tiers[0].hop = 4097, s->tiers[0].latency = 5000),
              VSK_ERR_CORRUPT);
    /* the manifest hop must match the graph's input/output sizes */
    SPEC_CASE(s->tiers[0].hop = 16, VSK_ERR_CORRUPT);
    SPEC_CASE(s->tier_count = 1, VSK_OK); /* unused tensors are fine */
}

/* Byte-level manifest edits (counts that a spec cannot express). */
static void test_manifest_bytes(void)
{
    tb_spec s;
    tb_layout L;
    tb_buf f, g = {0};
    size_t tc_off;

    tb_std_spec(&s);
    f = tb_write(&s, &L);
    tc_off = L.tier_off[0] - 4; /* tier_count */
    CHECK(tb_get32(f.p + tc_off) == 2);
    WITH_COPY((tb_put32(g.p + tc_off, 0), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(g.p + tc_off, 17), tb_fix(&g)), VSK_ERR_TOO_LARGE);
    WITH_COPY((tb_put32(g.p + tc_off, 3), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(g.p + tc_off, 1), tb_fix(&g)), VSK_ERR_CORRUPT);
    /* string length past the section */
    WITH_COPY((tb_put32(g.p + L.manifest_off, 0xFFFFFFF0u), tb_fix(&g)),
              VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(g.p + L.tier_off[1], 1000), tb_fix(&g)),
              VSK_ERR_CORRUPT);
    /* manifest section one byte short / one byte long (trailing byte) */
    WITH_COPY((tb_put64(tb_entry(&g, &L, 0) + 16, L.manifest_size - 1),
               tb_fix(&g)),
              VSK_ERR_CORRUPT);
    WITH_COPY((tb_put64(tb_entry(&g, &L, 0) + 16, L.manifest_size + 1),
               tb_fix(&g)),
              VSK_ERR_CORRUPT); /* a trailing byte (or an overlap) */
    tb_free(&g);
    tb_free(&f);
    tb_spec_free(&s);
}

/* ---------------------------------------------------------------- tensors */

static void test_tensor_checks(void)
{
    tb_spec s;
    tb_layout L;
    tb_buf f, g = {0};
    size_t d0, d3, tc;

    tb_std_spec(&s);
    f = tb_write(&s, &L);
    tc = L.tensors_off;
    d0 = tc + 4;           /* descriptor of tensor 0 (W low, [32, 64]) */
    d3 = tc + 4 + 32 * 3;  /* tensor 3 (b high, [64]) */
    CHECK(tb_get32(f.p + tc) == 4);
    WITH_COPY((tb_put32(g.p + tc, 65537), tb_fix(&g)), VSK_ERR_TOO_LARGE);
    WITH_COPY((tb_put32(g.p + tc, 65536), tb_fix(&g)), VSK_ERR_CORRUPT);
    /* fewer tensors: graph const ids go out of range */
    WITH_COPY((tb_put32(g.p + tc, 3), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(g.p + d0, 3), tb_fix(&g)), VSK_ERR_CORRUPT); /* dtype */
    WITH_COPY((tb_put32(g.p + d0, 0), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(g.p + d0 + 4, 0), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(g.p + d0 + 4, 5), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(g.p + d0 + 8, 0), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(g.p + d0 + 20, 0), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(g.p + d0 + 16, 2), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put64(g.p + d0 + 24, L.tensor_data_off[0] + 4), tb_fix(&g)),
              VSK_ERR_CORRUPT); /* not 64-aligned */
    /* data before the end of the descriptors / past the section */
    WITH_COPY((tb_put64(g.p + d0 + 24, tc), tb_fix(&g)), VSK_ERR_CORRUPT);
    WITH_COPY((tb_put64(g.p + d3 + 24, L.tensor_data_off[3] + 64), tb_fix(&g)),
              VSK_ERR_CORRUPT);
    WITH_COPY((tb_put64(g.p + d3 + 24, 1ull << 62), tb_fix(&g)), VSK_ERR_CORRUPT);
    /* element limits: one tensor over 64 Mi, and the total over 64 Mi */
    WITH_COPY((tb_put32(g.p + d0 + 8, 1u << 20), tb_put32(g.p + d0 + 12, 65),
               tb_fix(&g)),
              VSK_ERR_TOO_LARGE);
    WITH_COPY((tb_put32(g.p + d0 + 4, 4), tb_put32(g.p + d0 + 8, 0xFFFFFFFFu),
               tb_put32(g.p + d0 + 12, 0xFFFFFFFFu),
               tb_put32(g.p + d0 + 16, 0xFFFFFFFFu),
               tb_put32(g.p + d0 + 20, 0xFFFFFFFFu), tb_fix(&g)),
              VSK_ERR_TOO_LARGE);
    /* the limit is on the running total, checked before each tensor's
     * bounds: tensors 0-2 hold 2048 + 32 + 8192 = 10272 elements, so a
     * last tensor of 64 Mi - 10272 elements passes the limit (and then
     * fails the bounds check); one more element is TOO_LARGE */
    WITH_COPY((tb_put32(g.p + d3 + 8, 67108864u - 10272u), tb_fix(&g)),
              VSK_ERR_CORRUPT);
    WITH_COPY((tb_put32(g.p + d3 + 8, 67108864u - 10271u), tb_fix(&g)),
              VSK_ERR_TOO_LARGE);
    /* descriptors running past the section */
    WITH_COPY((tb_put64(tb_entry(&g, &L, 4) + 16, 4 + 32 * 4 - 1), tb_fix(&g)),
              VSK_ERR_CORRUPT);
    WITH_COPY((tb_put64(tb_entry(&g, &L, 4) + 16, 2), tb_fix(&g)),
              VSK_ERR_CORRUPT);
    /* a shape the op rejects: W [32, 64] reinterpreted as [64, 32] */
    WITH_COPY((tb_put32(g.p + d0 + 8, 64), tb_put32(g.p + d0 + 12, 32),
               tb_fix(&g)),
              VSK_ERR_CORRUPT);
    /* W low as int8 (dtype 2, docs/bundle-format.md): its f32 bytes are
     * rewritten as 4 blocks of 8 rows x 16 groups of 4 bytes, then 32
     * scales; valid, then each defect the loader refuses */
#define AS_INT8(extra)                                                          \
    do {                                                                        \
        uint8_t *q = g.p + L.tensor_data_off[0];                                \
        tb_put32(g.p + d0, 2);                                                  \
        for (uint32_t k = 0; k < 32u * 64u; ++k)                                \
            q[k] = (uint8_t)(int8_t)((int)(k % 251u) - 125); /* -125..125 */     \
        for (uint32_t r = 0; r < 32u; ++r) {                                    \
            const float sc = 0.01f;                                             \
            memcpy(q + 32u * 64u + 4u * r, &sc, 4);                             \
        }                                                                       \
        extra;                                                                  \
        tb_fix(&g);                                                             \
    } while (0)
    WITH_COPY(AS_INT8((void)0), VSK_OK);
    WITH_COPY(AS_INT8(q[5] = 0x80), VSK_ERR_CORRUPT); /* -128 */
    WITH_COPY(AS_INT8(memcpy(q + 32u * 64u + 8u, &(float){NAN}, 4)), VSK_ERR_CORRUPT);
    WITH_COPY(AS_INT8(memcpy(q + 32u * 64u, &(float){INFINITY}, 4)), VSK_ERR_CORRUPT);
    WITH_COPY(AS_INT8(memcpy(q + 32u * 64u + 4u, &(float){-1.f}, 4)), VSK_ERR_CORRUPT);
    WITH_COPY(AS_INT8(tb_put32(g.p + d0 + 4, 3)), VSK_ERR_CORRUPT); /* not 2-D */
    /* the bias (1-D, a float slot) as int8 */
    WITH_COPY((tb_put32(g.p + d3, 2), tb_fix(&g)), VSK_ERR_CORRUPT);
#undef AS_INT8
    /* two tensors may share bytes (read-only): allowed */
    WITH_COPY((tb_put64(g.p + d3 + 24, L.tensor_data_off[2]), tb_fix(&g)),
              VSK_OK);
    tb_free(&g);
    tb_free(&f);
    tb_spec_free(&s);
}

/* ----------------------------------------------------------------- graphs */

/* Rebuilds tier 0's graph: value sizes `vs` (input 0, output `outv`),
 * nodes written by the caller into `nodes`. */
static void graph_begin(tb_buf *g, uint32_t nv, const uint32_t *vs,
                        uint32_t inv, uint32_t outv, uint32_t nn)
{
    uint32_t i;
    g->n = 0;
    tb_u32(g, nv);
    for (i = 0; i < nv; i++)
        tb_u32(g, vs[i]);
    tb_u32(g, inv);
    tb_u32(g, outv);
    tb_u32(g, nn);
}

static void test_graph_checks(void)
{
    static const uint32_t vs4[4] = {32, 64, 32, 32};
    uint32_t v0 = 0, v1 = 1, v2 = 2, v3 = 3, cst[2] = {0, 1}, ids[65];
    float fz[65] = {0};
    int32_t win = 64, tanh_kind = 2, bad_kind = 99;
    uint32_t i;

    for (i = 0; i < 65; i++)
        ids[i] = 0;

    /* op unknown to this build (checked before dataflow) */
    SPEC_CASE((graph_begin(&s->tiers[0].graph, 4, vs4, 0, 3, 3),
               tb_node(&s->tiers[0].graph, 1, 1, &v0, 1, &v1, 0, NULL, 1, &win, 0, NULL),
               tb_node(&s->tiers[0].graph, 3, 1, &v1, 1, &v2, 2, cst, 0, NULL, 0, NULL),
               tb_node(&s->tiers[0].graph, 99, 1, &v3, 1, &v3, 0, NULL, 0, NULL, 0, NULL)),
              VSK_ERR_UNSUPPORTED_OP);
    SPEC_CASE((graph_begin(&s->tiers[0].graph, 4, vs4, 0, 3, 3),
               tb_node(&s->tiers[0].graph, 1, 1, &v0, 1, &v1, 0, NULL, 1, &win, 0, NULL),
               tb_node(&s->tiers[0].graph, 3, 1, &v1, 1, &v2, 2, cst, 0, NULL, 0, NULL),
               tb_node(&s->tiers[0].graph, 0, 1, &v2, 1, &v3, 0, NULL, 0, NULL, 0, NULL)),
              VSK_ERR_UNSUPPORTED_OP);
    /* op's own validation: ACT kind out of range */
    SPEC_CASE((graph_begin(&s->tiers[0].graph, 4, vs4, 0, 3, 3),
               tb_node(&s->tiers[0].graph, 1, 1, &v0, 1, &v1, 0, NULL, 1, &win, 0, NULL),
               tb_node(&s->tiers[0].graph, 3, 1, &v1, 1, &v2, 2, cst, 0, NULL, 0, NULL),
               tb_node(&s->tiers[0].graph, 4, 1, &v2, 1, &v3, 0, NULL, 1, &bad_kind, 0, NULL)),
              VSK_ERR_CORRUPT);
    /* read before write: node order swapped */
    SPEC_CASE((graph_begin(&s->tiers[0].graph, 4, vs4, 0, 3, 3),
               tb_node(&s->tiers[0].graph, 3, 1, &v1, 1, &v2, 2, cst, 0, NULL, 0, NULL),
               tb_node(&s->tiers[0].graph, 1, 1, &v0, 1, &v1, 0, NULL, 1, &win, 0, NULL),
               tb_node(&s->tiers[0].graph, 4, 1, &v2, 1, &v3, 0, NULL, 1, &tanh_kind, 0, NULL)),
              VSK_ERR_CORRUPT);
    /* a value written twice */
    SPEC_CASE((graph_begin(&s->tiers[0].graph, 4, vs4, 0, 3, 3),
               tb_node(&s->tiers[0].graph, 1, 1, &v0, 1, &v1, 0, NULL, 1, &win, 0, NULL),
               tb_node(&s->tiers[0].graph, 3, 1, &v1, 1, &v3, 2, cst, 0, NULL, 0, NULL),
               tb_node(&s->tiers[0].graph, 4, 1, &v3, 1, &v3, 0, NULL, 1, &tanh_kind, 0, NULL)),
              VSK_ERR_CORRUPT);
    /* writing the graph input */
    SPEC_CASE((graph_begin(&s->tiers[0].graph, 4, vs4, 0, 3, 3),
               tb_node(&s->tiers[0].graph, 1, 1, &v0, 1, &v1, 0, NULL, 1, &win, 0, NULL),
               tb_node(&s->tiers[0].graph, 3, 1, &v1, 1, &v0, 2, cst, 0, NULL, 0, NULL),
               tb_node(&s->tiers[0].graph, 4, 1, &v0, 1, &v3, 0, NULL, 1, &tanh_kind, 0, NULL)),
              VSK_ERR_CORRUPT);
    /* output never written (v2 is, v3 is declared the output) */
    SPEC_CASE((graph_begin(&s->tiers[0].graph, 4, vs4, 0, 3, 2),
               tb_node(&s->tiers[0].graph, 1, 1, &v0, 1, &v1, 0, NULL, 1, &win, 0, NULL),
               tb_node(&s->tiers[0].graph, 3, 1, &v1, 1, &v2, 2, cst, 0, NULL, 0, NULL)),
              VSK_ERR_CORRUPT);
    /* output == input */
    SPEC_CASE((graph_begin(&s->tiers[0].graph, 4, vs4, 0, 0, 3),
               tb_node(&s->tiers[0].graph, 1, 1, &v0, 1, &v1, 0, NULL, 1, &win, 0, NULL),
               tb_node(&s->tiers[0].graph, 3, 1, &v1, 1, &v2, 2, cst, 0, NULL, 0, NULL),
               tb_node(&s->tiers[0].graph, 4, 1, &v2, 1, &v3, 0, NULL, 1, &tanh_kind, 0, NULL)),
              VSK_ERR_CORRUPT);
    /* an unused value that nobody writes or reads is allowed */
    {
        static const uint32_t vs5[5] = {32, 64, 32, 32, 7};
        SPEC_CASE((graph_begin(&s->tiers[0].graph, 5, vs5, 0, 3, 3),
                   tb_node(&s->tiers[0].graph, 1, 1, &v0, 1, &v1, 0, NULL, 1, &win, 0, NULL),
                   tb_node(&s->tiers[0].graph, 3, 1, &v1, 1, &v2, 2, cst, 0, NULL, 0, NULL),
                   tb_node(&s->tiers[0].graph, 4, 1, &v2, 1, &v3, 0, NULL, 1, &tanh_kind, 0, NULL)),
                  VSK_OK);
    }
    /* ids out of range: input value, output value, node in/out, const */
    SPEC_CASE((graph_begin(&s->tiers[0].graph, 4, vs4, 4, 3, 3),
               tb_node(&s->tiers[0].graph, 1, 1, &v0, 1, &v1, 0, NULL, 1, &win, 0, NULL),
               tb_node(&s->tiers[0].graph, 3, 1, &v1, 1, &v2, 2, cst, 0, NULL, 0, NULL),
               tb_node(&s->tiers[0].graph, 4, 1, &v2, 1, &v3, 0, NULL, 1, &tanh_kind, 0, NULL)),
              VSK_ERR_CORRUPT);
    SPEC_CASE((graph_begin(&s->tiers[0].graph, 4, vs4, 0, 4, 3),
               tb_node(&s->tiers[0].graph, 1, 1, &v0, 1, &v1, 0, NULL, 1, &win, 0, NULL),
               tb_node(&s->tiers[0].graph, 3, 1, &v1, 1, &v2, 2, cst, 0, NULL, 0, NULL),
               tb_node(&s->tiers[0].graph, 4, 1, &v2, 1, &v3, 0, NULL, 1, &tanh_kind, 0, NULL)),
              VSK_ERR_CORRUPT);
    {
        uint32_t big = 4, far_const[2] = {0, 4};
        SPEC_CASE((graph_begin(&s->tiers[0].graph, 4, vs4, 0, 3, 3),
                   tb_node(&s->tiers[0].graph, 1, 1, &v0, 1, &v1, 0, NULL, 1, &win, 0, NULL),
                   tb_node(&s->tiers[0].graph, 3, 1, &v1, 1, &v2, 2, cst, 0, NULL, 0, NULL),
                   tb_node(&s->tiers[0].graph, 4, 1, &big, 1, &v3, 0, NULL, 1, &tanh_kind, 0, NULL)),
                  VSK_ERR_CORRUPT);
        SPEC_CASE((graph_begin(&s->tiers[0].graph, 4, vs4, 0, 3, 3),
                   tb_node(&s->tiers[0].graph, 1, 1, &v0, 1, &v1, 0, NULL, 1, &win, 0, NULL),
                   tb_node(&s->tiers[0].graph, 3, 1, &v1, 1, &v2, 2, far_const, 0, NULL, 0, NULL),
                   tb_node(&s->tiers[0].graph, 4, 1, &v2, 1, &v3, 0, NULL, 1, &tanh_kind, 0, NULL)),
                  VSK_ERR_CORRUPT);
    }
    /* counts: value_count 0 / 4097, value size 0 / 65537, node_count 0 /
     * 4097, per-node count 65 */
    SPEC_CASE(graph_begin(&s->tiers[0].graph, 0, vs4, 0, 0, 0), VSK_ERR_CORRUPT);
    SPEC_CASE((s->tiers[0].graph.n = 0, tb_u32(&s->tiers[0].graph, 4097)),
              VSK_ERR_TOO_LARGE);
    {
        static const uint32_t z[4] = {32, 0, 32, 32}, h[4] = {32, 65537, 32, 32};
        SPEC_CASE(graph_begin(&s->tiers[0].graph, 4, z, 0, 3, 1), VSK_ERR_CORRUPT);
        SPEC_CASE(graph_begin(&s->tiers[0].graph, 4, h, 0, 3, 1), VSK_ERR_TOO_LARGE);
    }
    SPEC_CASE(graph_begin(&s->tiers[0].graph, 4, vs4, 0, 3, 0), VSK_ERR_CORRUPT);
    SPEC_CASE(graph_begin(&s->tiers[0].graph, 4, vs4, 0, 3, 4097), VSK_ERR_TOO_LARGE);
    SPEC_CASE((graph_begin(&s->tiers[0].graph, 4, vs4, 0, 3, 1),
               tb_node(&s->tiers[0].graph, 8, 65, ids, 1, &v3, 0, NULL, 0, NULL, 0, NULL)),
              VSK_ERR_TOO_LARGE);
    SPEC_CASE((graph_begin(&s->tiers[0].graph, 4, vs4, 0, 3, 1),
               tb_node(&s->tiers[0].graph, 8, 1, ids, 1, &v3, 0, NULL, 0, NULL, 65, fz)),
              VSK_ERR_TOO_LARGE);
    /* input/output size != hop */
    {
        static const uint32_t bad_in[4] = {33, 64, 32, 32};
        SPEC_CASE((graph_begin(&s->tiers[0].graph, 4, bad_in, 0, 3, 3),
                   tb_node(&s->tiers[0].graph, 1, 1, &v0, 1, &v1, 0, NULL, 1, &win, 0, NULL),
                   tb_node(&s->tiers[0].graph, 3, 1, &v1, 1, &v2, 2, cst, 0, NULL, 0, NULL),
                   tb_node(&s->tiers[0].graph, 4, 1, &v2, 1, &v3, 0, NULL, 1, &tanh_kind, 0, NULL)),
                  VSK_ERR_CORRUPT);
    }
    /* trailing bytes after the last node, and a node cut short */
    SPEC_CASE(tb_u32(&s->tiers[0].graph, 0), VSK_ERR_CORRUPT);
    SPEC_CASE(s->tiers[0].graph.n -= 4, VSK_ERR_CORRUPT);
    /* every strict prefix of a valid graph is refused, none crashes */
    {
        tb_spec sp;
        size_t cut, full;
        tb_std_spec(&sp);
        full = sp.tiers[1].graph.n;
        for (cut = 0; cut < full; cut++) {
            sp.tiers[1].graph.n = cut;
            CHECK_ST(open_spec(&sp), VSK_ERR_CORRUPT);
        }
        sp.tiers[1].graph.n = full;
        CHECK_ST(open_spec(&sp), VSK_OK);
        tb_spec_free(&sp);
    }
}

/* ------------------------------------------------------------------ files */

static void test_files(void)
{
    tb_spec s;
    tb_buf f;
    vsk_bundle *b = NULL;
    char path[512];
    const char *tmp = getenv("TMPDIR");
    FILE *fp;

    CHECK_ST(vsk_bundle_open_file(NULL, &b), VSK_ERR_INVALID_ARGUMENT);
    CHECK_ST(vsk_bundle_open_file("x.vskin", NULL), VSK_ERR_INVALID_ARGUMENT);
    CHECK_ST(vsk_bundle_open_file("/nonexistent/dir/none.vskin", &b), VSK_ERR_IO);
    CHECK(b == NULL);

    snprintf(path, sizeof path, "%s/vsk_core_test_%ld.vskin", tmp ? tmp : "/tmp",
             (long)rand());
    tb_std_spec(&s);
    f = tb_write(&s, NULL);
    fp = fopen(path, "wb");
    CHECK(fp != NULL);
    if (fp) {
        vsk_bundle_info info;
        fwrite(f.p, 1, f.n, fp);
        fclose(fp);
        CHECK_ST(vsk_bundle_open_file(path, &b), VSK_OK);
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        CHECK_ST(vsk_bundle_get_info(b, &info), VSK_OK);
        CHECK(b && strcmp(info.voice_id, "demo.test-voice_1") == 0);
        vsk_bundle_release(b);
        b = NULL;

        /* truncated file, short file, oversized foreign file */
        fp = fopen(path, "wb");
        fwrite(f.p, 1, f.n - 10, fp);
        fclose(fp);
        CHECK_ST(vsk_bundle_open_file(path, &b), VSK_ERR_TRUNCATED);
        fp = fopen(path, "wb");
        fwrite(f.p, 1, 30, fp);
        fclose(fp);
        CHECK_ST(vsk_bundle_open_file(path, &b), VSK_ERR_TRUNCATED);
        fp = fopen(path, "wb");
        fclose(fp);
        CHECK_ST(vsk_bundle_open_file(path, &b), VSK_ERR_TRUNCATED);
        fp = fopen(path, "wb");
        fwrite("GARBAGE!", 1, 8, fp);
        fwrite(f.p + 8, 1, f.n - 8, fp);
        fclose(fp);
        CHECK_ST(vsk_bundle_open_file(path, &b), VSK_ERR_BAD_MAGIC);
        remove(path);
    }
#ifndef _WIN32
    CHECK_ST(vsk_bundle_open_file("/", &b), VSK_ERR_IO); /* a directory */
#endif
    CHECK(b == NULL);
    tb_free(&f);
    tb_spec_free(&s);
}

int main(void)
{
    test_status_strings();
    test_valid_bundle();
    test_manifest_fallbacks();
    test_header_checks();
    test_section_checks();
    test_manifest_checks();
    test_manifest_bytes();
    test_tensor_checks();
    test_graph_checks();
    test_files();
    if (tb_failures) {
        fprintf(stderr, "test_bundle_core: %d check(s) failed\n", tb_failures);
        return 1;
    }
    printf("test_bundle_core: all checks passed\n");
    return 0;
}
