/* fuzz_registry — a registry fed fuzzed bundles: each added from memory or
 * opened first and added as a bundle, some added twice (a duplicate ID at
 * the same version must be refused), with a small max_voices sometimes;
 * then enumeration and find, with the registry's invariants: IDs unique,
 * find(get(i).voice_id) == i, count within max_voices, refused adds leave
 * the registry unchanged, and bundles outlive the caller's references.
 *
 * Input: 1 byte of config, then records: u8 op, u16 length (LE), bytes. */
#include "fuzz_common.h"

#define FZ_MAX_RECORDS 8

static const char *fz_voice_id(const vsk_bundle *b)
{
    vsk_bundle_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    FZ_CHECK(vsk_bundle_get_info(b, &info) == VSK_OK);
    return info.voice_id;
}

static uint32_t fz_count(const vsk_registry *r)
{
    uint32_t n = 0xFFFFFFFFu;
    FZ_CHECK(vsk_registry_count(r, &n) == VSK_OK);
    return n;
}

/* Every entry: readable, its ID found at its own index, IDs unique. */
static void fz_check_registry(const vsk_registry *r, uint32_t max_voices)
{
    uint32_t n = fz_count(r);
    FZ_CHECK(n <= max_voices);
    for (uint32_t i = 0; i < n; i++) {
        vsk_bundle *b = NULL;
        FZ_CHECK(vsk_registry_get(r, i, &b) == VSK_OK && b != NULL);
        (void)fz_query_bundle(b);
        uint32_t at = 0xFFFFFFFFu;
        FZ_CHECK(vsk_registry_find(r, fz_voice_id(b), &at) == VSK_OK);
        FZ_CHECK(at == i); /* so no other index holds the same ID */
    }
    vsk_bundle *none = NULL;
    FZ_CHECK(vsk_registry_get(r, n, &none) == VSK_ERR_NOT_FOUND && none == NULL);
    uint32_t at = 0;
    FZ_CHECK(vsk_registry_find(r, "UPPER case is never a valid id", &at) == VSK_ERR_NOT_FOUND);
    FZ_CHECK(vsk_registry_find(r, NULL, &at) == VSK_ERR_INVALID_ARGUMENT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    vsk_registry_config cfg;
    vsk_registry_config_init(&cfg);
    cfg.max_voices = data[0] & 3u; /* 0 = default (256), else 1..3 */
    uint32_t max_voices = cfg.max_voices ? cfg.max_voices : 256u;
    vsk_registry *r = NULL;
    FZ_CHECK(vsk_registry_create(&cfg, &r) == VSK_OK && r != NULL);

    size_t at = 1;
    for (int rec = 0; rec < FZ_MAX_RECORDS && at + 3 <= size; rec++) {
        uint32_t op = data[at];
        size_t len = (size_t)data[at + 1] | ((size_t)data[at + 2] << 8);
        at += 3;
        if (len > size - at) len = size - at;
        const uint8_t *bytes = data + at;
        at += len;

        uint32_t before = fz_count(r), idx = 0xFFFFFFFFu;
        vsk_status st;
        vsk_bundle *b = NULL;
        if (op & 1u) { /* open, then add the bundle */
            b = fz_open(bytes, len);
            if (!b) continue;
            st = vsk_registry_add_bundle(r, b, &idx);
        } else {
            uint8_t *copy = (uint8_t *)malloc(len ? len : 1);
            if (!copy) continue;
            memcpy(copy, bytes, len);
            if (op & 4u) fz_fixup(copy, len);
            st = vsk_registry_add_memory(r, copy, len, &idx);
            memset(copy, 0x5A, len); /* the registry copied what it keeps */
            free(copy);
        }
        fz_check_status(st);
        uint32_t after = fz_count(r);
        if (st != VSK_OK) {
            FZ_CHECK(after == before); /* refused: unchanged */
        } else {
            FZ_CHECK(idx < after && (after == before || after == before + 1));
            vsk_bundle *got = NULL;
            FZ_CHECK(vsk_registry_get(r, idx, &got) == VSK_OK);
            if (b) FZ_CHECK(got == b);
            if ((op & 2u) && b) {
                /* the same bundle again: same ID, same version: refused */
                uint32_t idx2 = 0xFFFFFFFFu;
                FZ_CHECK(vsk_registry_add_bundle(r, b, &idx2) == VSK_ERR_DUPLICATE);
                FZ_CHECK(fz_count(r) == after);
            }
        }
        vsk_bundle_release(b); /* the registry keeps its own reference */
        if (op & 8u) fz_check_registry(r, max_voices);
    }
    uint32_t idx = 0;
    FZ_CHECK(vsk_registry_add_file(r, "/nonexistent/voiceskin/fuzz.vskin", &idx) == VSK_ERR_IO);
    fz_check_registry(r, max_voices);
    vsk_registry_destroy(r);
    return 0;
}
