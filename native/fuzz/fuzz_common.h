/* fuzz_common.h — shared by the libFuzzer targets in native/fuzz.
 *
 * A .vskin file ends with a CRC-32 of everything before it and declares its
 * own size, so almost every mutation of a real bundle would stop at those
 * two checks. The targets therefore open each input twice: as is (which
 * covers the header, size and checksum checks), and — when that fails —
 * with file_size and the CRC rewritten to match ("fixed up"), so mutations
 * reach the structural validators, the graph compiler and the kernels.
 *
 * Invariants the targets check (a violation aborts, which libFuzzer
 * reports as a crash): every status is one of the documented ones; a
 * bundle that opens answers every query sensibly. No global mutable state:
 * everything lives on the stack or in memory freed before returning. */
#ifndef VSK_FUZZ_COMMON_H
#define VSK_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voiceskin.h"
#include "../src/crc32.h" /* the library's own (internal) CRC-32 */

#define FZ_CHECK(cond)                                                         \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                    \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* A status is VSK_OK or one of the library's documented error codes (it
 * has a name other than the fallback for unknown codes). */
static inline void fz_check_status(vsk_status st)
{
    const char *name = vsk_status_name(st);
    const char *text = vsk_status_string(st);
    FZ_CHECK(st <= VSK_OK);
    FZ_CHECK(name != NULL && text != NULL && strlen(text) > 0);
    FZ_CHECK(strcmp(name, "VSK_ERR_UNKNOWN") != 0);
}

/* Rewrites header.file_size and the CRC trailer of buf[0..n) in place.
 * Does nothing to inputs too short to hold a header and a trailer. */
static inline void fz_fixup(uint8_t *buf, size_t n)
{
    if (n < 68) return;
    uint64_t sz = (uint64_t)n;
    for (int i = 0; i < 8; i++) buf[16 + i] = (uint8_t)(sz >> (8 * i));
    uint32_t c = vsk_crc32(0, buf, n - 4);
    for (int i = 0; i < 4; i++) buf[n - 4 + i] = (uint8_t)(c >> (8 * i));
}

/* Opens data[0..n) as is, and if that fails, a fixed-up copy. Returns the
 * bundle (caller releases) or NULL. */
static inline vsk_bundle *fz_open(const uint8_t *data, size_t n)
{
    vsk_bundle *b = NULL;
    vsk_status st = vsk_bundle_open_memory(data, n, &b);
    fz_check_status(st);
    FZ_CHECK((st == VSK_OK) == (b != NULL));
    if (st == VSK_OK || n < 68) return b;
    uint8_t *copy = (uint8_t *)malloc(n);
    if (!copy) return NULL;
    memcpy(copy, data, n);
    fz_fixup(copy, n);
    st = vsk_bundle_open_memory(copy, n, &b);
    memset(copy, 0xA5, n); /* the bundle must have copied what it keeps */
    free(copy);
    fz_check_status(st);
    FZ_CHECK((st == VSK_OK) == (b != NULL));
    return b;
}

/* Every query of an open bundle, with its invariants. Returns tier_count. */
static inline uint32_t fz_query_bundle(const vsk_bundle *b)
{
    vsk_bundle_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    FZ_CHECK(vsk_bundle_get_info(b, &info) == VSK_OK);
    FZ_CHECK(info.voice_id && info.display_name && info.version);
    size_t idl = strlen(info.voice_id), dnl = strlen(info.display_name);
    FZ_CHECK(idl >= 1 && idl <= 64 && dnl >= 1 && dnl <= 128);
    FZ_CHECK(strlen(info.version) >= 5);
    FZ_CHECK(info.tier_count >= 1 && info.tier_count <= 16);
    FZ_CHECK(info.format_version == 1);

    /* a wrong struct_size is refused, never written past */
    vsk_bundle_info small;
    memset(&small, 0, sizeof small);
    small.struct_size = 4;
    FZ_CHECK(vsk_bundle_get_info(b, &small) != VSK_OK);
    FZ_CHECK(vsk_bundle_get_info(b, NULL) == VSK_ERR_INVALID_ARGUMENT);

    for (uint32_t t = 0; t < info.tier_count; t++) {
        vsk_tier_info ti;
        memset(&ti, 0, sizeof ti);
        ti.struct_size = sizeof ti;
        FZ_CHECK(vsk_bundle_get_tier_info(b, t, &ti) == VSK_OK);
        FZ_CHECK(ti.name != NULL);
        size_t nl = strlen(ti.name);
        FZ_CHECK(nl >= 1 && nl <= 32);
        FZ_CHECK(ti.model_sample_rate >= 8000 && ti.model_sample_rate <= 192000);
        FZ_CHECK(ti.hop_samples >= 1 && ti.hop_samples <= 4096);
        FZ_CHECK(ti.latency_samples >= ti.hop_samples);
        uint32_t idx = 999;
        FZ_CHECK(vsk_bundle_find_tier(b, ti.name, &idx) == VSK_OK); /* names unique */
        FZ_CHECK(idx == t);
    }
    vsk_tier_info ti;
    memset(&ti, 0, sizeof ti);
    ti.struct_size = sizeof ti;
    FZ_CHECK(vsk_bundle_get_tier_info(b, info.tier_count, &ti) == VSK_ERR_NOT_FOUND);
    uint32_t idx = 0;
    FZ_CHECK(vsk_bundle_find_tier(b, "no such tier name, too long to be valid!", &idx) ==
             VSK_ERR_NOT_FOUND);
    FZ_CHECK(vsk_bundle_find_tier(b, "", &idx) != VSK_OK);
    FZ_CHECK(vsk_bundle_find_tier(b, NULL, &idx) == VSK_ERR_INVALID_ARGUMENT);
    return info.tier_count;
}

/* Little-endian reader of fuzzer parameters that yields 0 past the end. */
typedef struct fz_params {
    const uint8_t *p;
    size_t n, at;
} fz_params;

static inline uint32_t fz_u8(fz_params *s)
{
    return s->at < s->n ? s->p[s->at++] : 0u;
}

static inline uint32_t fz_u16(fz_params *s)
{
    uint32_t lo = fz_u8(s);
    return lo | (fz_u8(s) << 8);
}

static inline uint32_t fz_u32(fz_params *s)
{
    uint32_t lo = fz_u16(s);
    return lo | (fz_u16(s) << 16);
}

#endif /* VSK_FUZZ_COMMON_H */
