/* bundle.c — opening, validating and describing .vskin bundles
 * (docs/bundle-format.md). The file is copied into a private 64-byte
 * aligned buffer first; every later read goes through a bounds-checked
 * cursor over that copy, and tensor descriptors point into it.
 *
 * Check order (the tooling's reader sdk/voiceskin/format.py follows the
 * same order, so both report the same status for the same defect):
 *   size >= 68 (TRUNCATED), magic (BAD_MAGIC), version then flags
 *   (UNSUPPORTED_VERSION), declared size > 256 MiB then actual size
 *   > 256 MiB (TOO_LARGE), actual < declared (TRUNCATED), actual > declared
 *   (CORRUPT), CRC (CHECKSUM); then structure: header fields, section
 *   table, sections (bounds, overlap, multiplicity), MANIFEST, TENSORS,
 *   GRAPH sections per tier, each tier's graph (graph.c), QA is UTF-8. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* fseeko / ftello */
#endif
#if !defined(_WIN32) && !defined(_FILE_OFFSET_BITS)
#define _FILE_OFFSET_BITS 64
#endif

#include "bundle.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "crc32.h"
#include "cursor.h"
#include "voiceskin.h"

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#endif

#define VSK_MAX_FILE_SIZE ((uint64_t)256 * 1024 * 1024)
#define VSK_HEADER_SIZE 64u
#define VSK_TRAILER_SIZE 4u
#define VSK_MIN_FILE_SIZE (VSK_HEADER_SIZE + VSK_TRAILER_SIZE)
#define VSK_SECTION_ENTRY_SIZE 32u
#define VSK_MAX_SECTIONS 64u
/* Tensor descriptor: u32 dtype, u32 ndim, u32 dims[4], u64 offset = 32
 * bytes (the size the format doc and the Python writer state). */
#define VSK_TENSOR_DESC_SIZE 32u
#define VSK_MAX_TENSORS 65536u
#define VSK_MAX_TENSOR_ELEMENTS ((uint64_t)64 * 1024 * 1024)

enum {
    SEC_MANIFEST = 1,
    SEC_TENSORS = 2,
    SEC_GRAPH = 3,
    SEC_QA = 4
};

static const uint8_t vsk_magic[8] = {0x56, 0x53, 0x4B, 0x49,
                                     0x4E, 0x00, 0x0D, 0x0A};

typedef struct vsk_section {
    uint32_t type, index;
    uint64_t offset, size;
} vsk_section;

/* ------------------------------------------------------------ helpers */

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF), as Python's
 * bytes.decode("utf-8") accepts. NUL bytes are valid UTF-8. */
static int utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len, k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07u;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0u) != 0x80u)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += len;
    }
    return 1;
}

static int is_id_char(uint8_t c, int allow_dot)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || (allow_dot && c == '.');
}

static int name_valid(const uint8_t *s, uint32_t n, uint32_t max_len,
                      int allow_dot)
{
    uint32_t i;
    if (n < 1 || n > max_len)
        return 0;
    for (i = 0; i < n; i++)
        if (!is_id_char(s[i], allow_dot))
            return 0;
    return 1;
}

/* "MAJOR.MINOR.PATCH", each one or more ASCII digits, value 0..65535. */
static int parse_version(const uint8_t *s, uint32_t n, uint32_t out[3])
{
    uint32_t i = 0, part;
    for (part = 0; part < 3; part++) {
        uint32_t v = 0, digits = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            v = v * 10u + (uint32_t)(s[i] - '0');
            if (v > 65535u)
                return 0;
            digits++;
            i++;
        }
        if (digits == 0)
            return 0;
        out[part] = v;
        if (part < 2) {
            if (i >= n || s[i] != '.')
                return 0;
            i++;
        }
    }
    return i == n;
}

static void copy_str(char *dst, const uint8_t *src, uint32_t n)
{
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ------------------------------------------------------------ lifetime */

static void bundle_free(vsk_bundle *b)
{
    uint32_t i;
    if (!b)
        return;
    const vsk_allocator a = b->allocator;
    for (i = 0; i < VSK_MAX_TIERS; i++)
        vsk_graph_free(&b->tiers[i].graph);
    vsk_mem_free(&a, b->tensors,
                 (size_t)(b->tensor_count ? b->tensor_count : 1) *
                     sizeof *b->tensors);
    vsk_mem_free(&a, b->spans, b->span_words * sizeof *b->spans);
    vsk_mem_free(&a, b->data_alloc, b->size + 64);
    vsk_mem_free(&a, b, sizeof *b);
}

/* A zeroed bundle with a 64-byte aligned buffer of `size` bytes. */
static vsk_status bundle_alloc(size_t size, const vsk_allocator *a,
                               vsk_bundle **out)
{
    vsk_bundle *b = (vsk_bundle *)vsk_mem_calloc(a, sizeof *b);
    if (!b)
        return VSK_ERR_NO_MEMORY;
    if (a)
        b->allocator = *a;
    b->data_alloc = vsk_mem_alloc(a, size + 64, 64);
    if (!b->data_alloc) {
        vsk_mem_free(a, b, sizeof *b);
        return VSK_ERR_NO_MEMORY;
    }
    b->data = (void *)(((uintptr_t)b->data_alloc + 63u) & ~(uintptr_t)63u);
    b->size = size;
    atomic_init(&b->refcount, 1u);
    *out = b;
    return VSK_OK;
}

/* ------------------------------------------------------------- parsing */

/* Checks that need only the first 32 bytes and the actual size. `p` must
 * hold at least 32 bytes when actual >= 68. */
static vsk_status check_prefix(const uint8_t *p, uint64_t actual)
{
    uint64_t declared;
    if (actual < VSK_MIN_FILE_SIZE)
        return VSK_ERR_TRUNCATED;
    if (memcmp(p, vsk_magic, sizeof vsk_magic) != 0)
        return VSK_ERR_BAD_MAGIC;
    if (vsk_le32(p + 8) != 1u || vsk_le32(p + 28) != 0u)
        return VSK_ERR_UNSUPPORTED_VERSION;
    declared = vsk_le64(p + 16);
    if (declared > VSK_MAX_FILE_SIZE || actual > VSK_MAX_FILE_SIZE)
        return VSK_ERR_TOO_LARGE;
    if (actual < declared)
        return VSK_ERR_TRUNCATED;
    if (actual > declared)
        return VSK_ERR_CORRUPT;
    return VSK_OK;
}

static vsk_status parse_sections(const uint8_t *base, size_t size,
                                 vsk_section *secs, uint32_t *out_count)
{
    uint64_t body_end = (uint64_t)size - VSK_TRAILER_SIZE;
    uint32_t count = vsk_le32(base + 24);
    uint64_t table = vsk_le64(base + 32);
    uint64_t ranges[VSK_MAX_SECTIONS + 1][2];
    uint32_t i, j;

    if (vsk_le32(base + 12) != VSK_HEADER_SIZE)
        return VSK_ERR_CORRUPT;
    for (i = 40; i < 64; i++)
        if (base[i] != 0)
            return VSK_ERR_CORRUPT;
    if (count > VSK_MAX_SECTIONS)
        return VSK_ERR_TOO_LARGE;
    if (count == 0)
        return VSK_ERR_CORRUPT;
    if (table < VSK_HEADER_SIZE || table > body_end ||
        (uint64_t)count * VSK_SECTION_ENTRY_SIZE > body_end - table)
        return VSK_ERR_CORRUPT;

    for (i = 0; i < count; i++) {
        /* In bounds: the table was checked against the body above. */
        const uint8_t *e = base + (size_t)table + (size_t)i * VSK_SECTION_ENTRY_SIZE;
        vsk_section *s = &secs[i];
        s->type = vsk_le32(e);
        s->index = vsk_le32(e + 4);
        s->offset = vsk_le64(e + 8);
        s->size = vsk_le64(e + 16);
        if (s->type < SEC_MANIFEST || s->type > SEC_QA)
            return VSK_ERR_CORRUPT;
        if (vsk_le64(e + 24) != 0)
            return VSK_ERR_CORRUPT;
        if (s->offset < VSK_HEADER_SIZE || s->offset > body_end ||
            s->size > body_end - s->offset)
            return VSK_ERR_CORRUPT;
        ranges[i][0] = s->offset;
        ranges[i][1] = s->offset + s->size;
    }
    ranges[count][0] = table;
    ranges[count][1] = table + (uint64_t)count * VSK_SECTION_ENTRY_SIZE;

    /* Sort by (start, end) (insertion sort, <= 65 entries); then every
     * range must end at or before the next one starts. */
    for (i = 1; i <= count; i++) {
        uint64_t a = ranges[i][0], b = ranges[i][1];
        j = i;
        while (j > 0 && (ranges[j - 1][0] > a ||
                         (ranges[j - 1][0] == a && ranges[j - 1][1] > b))) {
            ranges[j][0] = ranges[j - 1][0];
            ranges[j][1] = ranges[j - 1][1];
            j--;
        }
        ranges[j][0] = a;
        ranges[j][1] = b;
    }
    for (i = 0; i < count; i++)
        if (ranges[i][1] > ranges[i + 1][0])
            return VSK_ERR_CORRUPT;
    *out_count = count;
    return VSK_OK;
}

/* The single section of `type` (MANIFEST/TENSORS required, QA optional);
 * its index must be 0. */
static vsk_status find_only(const vsk_section *secs, uint32_t count,
                            uint32_t type, int required,
                            const vsk_section **out)
{
    const vsk_section *found = NULL;
    uint32_t i;
    for (i = 0; i < count; i++) {
        if (secs[i].type != type)
            continue;
        if (found)
            return VSK_ERR_CORRUPT;
        found = &secs[i];
    }
    if (!found && required)
        return VSK_ERR_CORRUPT;
    if (found && found->index != 0)
        return VSK_ERR_CORRUPT;
    *out = found;
    return VSK_OK;
}

static vsk_status parse_manifest(vsk_bundle *b, const vsk_section *sec)
{
    vsk_cursor c = vsk_cursor_make((const uint8_t *)b->data + sec->offset,
                                   (size_t)sec->size);
    const uint8_t *s;
    uint32_t n, i, j, ver[3];

    if (!vsk_cursor_string(&c, &s, &n) || !utf8_valid(s, n) ||
        !name_valid(s, n, 64, 1))
        return VSK_ERR_CORRUPT;
    copy_str(b->voice_id, s, n);

    /* No NUL: the C API hands it out NUL-terminated, so a NUL inside would
     * silently cut it (found by fuzz_registry: "\0\0\b tiers" read as ""). */
    if (!vsk_cursor_string(&c, &s, &n) || !utf8_valid(s, n) || n < 1 ||
        n > 128 || memchr(s, 0, n) != NULL)
        return VSK_ERR_CORRUPT;
    copy_str(b->display_name, s, n);

    if (!vsk_cursor_string(&c, &s, &n) || !utf8_valid(s, n) ||
        !parse_version(s, n, ver))
        return VSK_ERR_CORRUPT;
    b->version_major = ver[0];
    b->version_minor = ver[1];
    b->version_patch = ver[2];
    /* Canonical form (leading zeros dropped); always fits. */
    snprintf(b->version, sizeof b->version, "%u.%u.%u", (unsigned)ver[0],
             (unsigned)ver[1], (unsigned)ver[2]);

    if (!vsk_cursor_u32(&c, &n))
        return VSK_ERR_CORRUPT;
    if (n > VSK_MAX_TIERS)
        return VSK_ERR_TOO_LARGE;
    if (n < 1)
        return VSK_ERR_CORRUPT;
    b->tier_count = n;

    for (i = 0; i < b->tier_count; i++) {
        vsk_tier *t = &b->tiers[i];
        const uint8_t *f;
        if (!vsk_cursor_string(&c, &s, &n) || !utf8_valid(s, n) ||
            !name_valid(s, n, 32, 0))
            return VSK_ERR_CORRUPT;
        copy_str(t->name, s, n);
        for (j = 0; j < i; j++)
            if (strcmp(b->tiers[j].name, t->name) == 0)
                return VSK_ERR_CORRUPT;
        f = vsk_cursor_take(&c, 28);
        if (!f)
            return VSK_ERR_CORRUPT;
        t->model_sample_rate = vsk_le32(f);
        t->hop_samples = vsk_le32(f + 4);
        t->latency_samples = vsk_le32(f + 8);
        t->manifest_parameter_count = vsk_le64(f + 12);
        t->manifest_flops_per_second = vsk_le64(f + 20);
        if (t->model_sample_rate < 8000 || t->model_sample_rate > 192000)
            return VSK_ERR_CORRUPT;
        if (t->hop_samples < 1 || t->hop_samples > 4096)
            return VSK_ERR_CORRUPT;
        if (t->latency_samples < t->hop_samples)
            return VSK_ERR_CORRUPT;
    }
    if (vsk_cursor_left(&c) != 0)
        return VSK_ERR_CORRUPT;
    return VSK_OK;
}

/* int8 weights (dtype 2): ceil(rows/8) blocks of 8 rows, each ceil(cols/4)
 * groups of 8 x 4 bytes, then one f32 scale per padded row. */
static uint64_t q8_padded_rows(uint32_t rows) { return ((uint64_t)rows + 7u) / 8u * 8u; }
static uint64_t q8_bytes(uint32_t rows, uint32_t cols)
{
    const uint64_t G = ((uint64_t)cols + 3u) / 4u;
    return q8_padded_rows(rows) * (G * 4u + 4u);
}
/* Values in [-127, 127] (the kernels' sign trick needs |q| <= 127), zero in
 * the padding, scales finite and >= 0 (padding rows' scales 0). The data
 * lies inside the section (checked by the caller). */
static vsk_status check_q8(const uint8_t *p, uint32_t rows, uint32_t cols)
{
    const uint64_t G = ((uint64_t)cols + 3u) / 4u, R = q8_padded_rows(rows);
    for (uint64_t blk = 0; blk < R / 8u; ++blk)
        for (uint64_t g = 0; g < G; ++g)
            for (uint32_t k = 0; k < 8; ++k)
                for (uint32_t j = 0; j < 4; ++j) {
                    const int8_t q = (int8_t)p[(blk * G + g) * 32u + k * 4u + j];
                    const int pad = blk * 8u + k >= rows || g * 4u + j >= cols;
                    if (q == -128 || (pad && q != 0))
                        return VSK_ERR_CORRUPT;
                }
    const uint8_t *sc = p + R * G * 4u;
    for (uint64_t r = 0; r < R; ++r) {
        uint32_t bits = vsk_le32(sc + 4u * r);
        float f;
        memcpy(&f, &bits, 4);
        if (!isfinite(f) || !(f >= 0.f) || (r >= rows && f != 0.f))
            return VSK_ERR_CORRUPT;
    }
    return VSK_OK;
}

/* The row spans of the mostly-zero f32 matrices (a LINEAR multiplies only
 * them; ops.h, vsk_tensor_plan_spans), in one block for the bundle. */
static vsk_status plan_spans(vsk_bundle *b)
{
    size_t words = 0, used = 0;
    for (uint32_t i = 0; i < b->tensor_count; i++)
        words += vsk_tensor_plan_spans(&b->tensors[i], NULL);
    if (!words)
        return VSK_OK;
    b->spans = (uint32_t *)vsk_mem_alloc(&b->allocator, words * sizeof *b->spans, 64);
    if (!b->spans)
        return VSK_ERR_NO_MEMORY;
    b->span_words = words;
    for (uint32_t i = 0; i < b->tensor_count; i++)
        used += vsk_tensor_plan_spans(&b->tensors[i], b->spans + used);
    return VSK_OK;
}

static vsk_status parse_tensors(vsk_bundle *b, const vsk_section *sec)
{
    const uint8_t *base = (const uint8_t *)b->data;
    uint64_t t0 = sec->offset, t1 = sec->offset + sec->size;
    vsk_cursor c = vsk_cursor_make(base + t0, (size_t)sec->size);
    uint64_t desc_end, total = 0;
    uint32_t count, i, k;

    if (!vsk_cursor_u32(&c, &count))
        return VSK_ERR_CORRUPT;
    if (count > VSK_MAX_TENSORS)
        return VSK_ERR_TOO_LARGE;
    desc_end = t0 + 4 + (uint64_t)count * VSK_TENSOR_DESC_SIZE;
    if (desc_end > t1)
        return VSK_ERR_CORRUPT;
    b->tensors = (vsk_tensor *)vsk_mem_calloc(
        &b->allocator, (size_t)(count ? count : 1) * sizeof *b->tensors);
    if (!b->tensors)
        return VSK_ERR_NO_MEMORY;
    b->tensor_count = count;

    for (i = 0; i < count; i++) {
        const uint8_t *d = vsk_cursor_take(&c, VSK_TENSOR_DESC_SIZE);
        vsk_tensor *t = &b->tensors[i];
        uint32_t ndim, dtype;
        uint64_t bytes;
        uint64_t off, elems = 1;
        if (!d) /* cannot happen: desc_end <= t1 */
            return VSK_ERR_CORRUPT;
        ndim = vsk_le32(d + 4);
        off = vsk_le64(d + 24);
        dtype = vsk_le32(d);
        if (dtype != VSK_DTYPE_F32 && dtype != VSK_DTYPE_I8)
            return VSK_ERR_CORRUPT;
        if (dtype == VSK_DTYPE_I8 && ndim != 2) /* weights [rows, cols] only */
            return VSK_ERR_CORRUPT;
        if (ndim < 1 || ndim > 4)
            return VSK_ERR_CORRUPT;
        for (k = 0; k < 4; k++) {
            t->dims[k] = vsk_le32(d + 8 + 4 * k);
            if (t->dims[k] < 1)
                return VSK_ERR_CORRUPT;
        }
        for (k = ndim; k < 4; k++)
            if (t->dims[k] != 1)
                return VSK_ERR_CORRUPT;
        if (off % 64u != 0)
            return VSK_ERR_CORRUPT;
        /* elems stays <= 64 Mi before each multiply: no u64 overflow. */
        for (k = 0; k < 4 && elems <= VSK_MAX_TENSOR_ELEMENTS; k++)
            elems *= t->dims[k];
        if (elems > VSK_MAX_TENSOR_ELEMENTS ||
            total + elems > VSK_MAX_TENSOR_ELEMENTS)
            return VSK_ERR_TOO_LARGE;
        total += elems;
        bytes = dtype == VSK_DTYPE_I8 ? q8_bytes(t->dims[0], t->dims[1]) : 4 * elems;
        if (off < desc_end || off > t1 || bytes > t1 - off)
            return VSK_ERR_CORRUPT;
        t->ndim = ndim;
        t->count = elems;
        t->dtype = dtype;
        if (dtype == VSK_DTYPE_I8) {
            vsk_status st = check_q8(base + (size_t)off, t->dims[0], t->dims[1]);
            if (st != VSK_OK)
                return st;
            t->q8 = (const int8_t *)(const void *)(base + (size_t)off);
            t->q8_scale = (const float *)(const void *)(base + (size_t)off +
                                                        (size_t)(bytes - q8_padded_rows(t->dims[0]) * 4u));
        } else {
            t->data = (const float *)(const void *)(base + (size_t)off);
        }
    }
    return plan_spans(b);
}

static uint64_t flops_per_second(uint64_t per_step, uint32_t rate,
                                 uint32_t hop)
{
    uint64_t steps_num = rate; /* steps per second = rate / hop */
    if (per_step > UINT64_MAX / steps_num)
        return UINT64_MAX;
    return (per_step * steps_num + hop / 2) / hop;
}

static vsk_status parse_graphs(vsk_bundle *b, const vsk_section *secs,
                               uint32_t count)
{
    const vsk_section *by_tier[VSK_MAX_TIERS] = {0};
    uint32_t i;
    for (i = 0; i < count; i++) {
        if (secs[i].type != SEC_GRAPH)
            continue;
        if (secs[i].index >= b->tier_count || by_tier[secs[i].index])
            return VSK_ERR_CORRUPT;
        by_tier[secs[i].index] = &secs[i];
    }
    for (i = 0; i < b->tier_count; i++)
        if (!by_tier[i])
            return VSK_ERR_CORRUPT;

    for (i = 0; i < b->tier_count; i++) {
        vsk_tier *t = &b->tiers[i];
        vsk_status st = vsk_graph_parse_a(
            &t->graph, (const uint8_t *)b->data + by_tier[i]->offset,
            (size_t)by_tier[i]->size, t->hop_samples, b->tensors,
            b->tensor_count, &b->allocator);
        if (st != VSK_OK)
            return st;
        t->parameter_count = t->manifest_parameter_count
                                 ? t->manifest_parameter_count
                                 : t->graph.parameter_count;
        t->flops_per_second =
            t->manifest_flops_per_second
                ? t->manifest_flops_per_second
                : flops_per_second(t->graph.flops_per_step,
                                   t->model_sample_rate, t->hop_samples);
        /* Rounded up: a bound. */
        t->cost_per_second =
            flops_per_second(t->graph.cost_per_step, t->model_sample_rate,
                             t->hop_samples);
        if (t->cost_per_second < UINT64_MAX)
            t->cost_per_second++;
    }
    return VSK_OK;
}

/* Full validation of b->data (b->size bytes, prefix already checked). */
static vsk_status validate(vsk_bundle *b)
{
    const uint8_t *base = (const uint8_t *)b->data;
    vsk_section secs[VSK_MAX_SECTIONS];
    const vsk_section *manifest, *tensors, *qa;
    uint32_t count = 0;
    vsk_status st;

    if (vsk_crc32(0, base, b->size - VSK_TRAILER_SIZE) !=
        vsk_le32(base + b->size - VSK_TRAILER_SIZE))
        return VSK_ERR_CHECKSUM;
    b->format_version = vsk_le32(base + 8);
    if ((st = parse_sections(base, b->size, secs, &count)) != VSK_OK)
        return st;
    if ((st = find_only(secs, count, SEC_MANIFEST, 1, &manifest)) != VSK_OK ||
        (st = find_only(secs, count, SEC_TENSORS, 1, &tensors)) != VSK_OK ||
        (st = find_only(secs, count, SEC_QA, 0, &qa)) != VSK_OK)
        return st;
    if ((st = parse_manifest(b, manifest)) != VSK_OK)
        return st;
    if ((st = parse_tensors(b, tensors)) != VSK_OK)
        return st;
    if ((st = parse_graphs(b, secs, count)) != VSK_OK)
        return st;
    if (qa) {
        b->qa = base + qa->offset;
        b->qa_size = (size_t)qa->size;
        if (!utf8_valid(b->qa, b->qa_size))
            return VSK_ERR_CORRUPT;
    }
    return VSK_OK;
}

static vsk_status finish_open(vsk_bundle *b, vsk_bundle **out_bundle)
{
    vsk_status st = validate(b);
    if (st != VSK_OK) {
        bundle_free(b);
        return st;
    }
    *out_bundle = b;
    return VSK_OK;
}

/* ----------------------------------------------------------------- API */

vsk_status vsk_bundle_open_memory(const void *data, size_t size,
                                  vsk_bundle **out_bundle)
{
    return vsk_bundle_open_memory_a(data, size, NULL, out_bundle);
}

vsk_status vsk_bundle_open_memory_a(const void *data, size_t size,
                                    const vsk_allocator *a,
                                    vsk_bundle **out_bundle)
{
    vsk_bundle *b;
    vsk_status st;
    if (!data || !out_bundle)
        return VSK_ERR_INVALID_ARGUMENT;
    if ((st = check_prefix((const uint8_t *)data, (uint64_t)size)) != VSK_OK)
        return st;
    if ((st = bundle_alloc(size, a, &b)) != VSK_OK)
        return st;
    memcpy(b->data, data, size);
    return finish_open(b, out_bundle);
}

#ifdef _WIN32
#define vsk_fseek _fseeki64
#define vsk_ftell _ftelli64
/* Paths are UTF-8: convert to UTF-16 for _wfopen (fopen would use the ANSI
 * code page). */
static FILE *vsk_fopen_utf8(const char *path)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    wchar_t *w;
    FILE *f;
    if (n <= 0)
        return NULL;
    w = (wchar_t *)malloc((size_t)n * sizeof *w);
    if (!w)
        return NULL;
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, n);
    f = _wfopen(w, L"rb");
    free(w);
    return f;
}
#else
#define vsk_fseek fseeko
#define vsk_ftell ftello
#define vsk_fopen_utf8(path) fopen((path), "rb")
#endif

vsk_status vsk_bundle_open_file(const char *path, vsk_bundle **out_bundle)
{
    return vsk_bundle_open_file_a(path, NULL, out_bundle);
}

vsk_status vsk_bundle_open_file_a(const char *path, const vsk_allocator *a,
                                  vsk_bundle **out_bundle)
{
    uint8_t head[VSK_HEADER_SIZE];
    vsk_bundle *b = NULL;
    FILE *f;
    int64_t fsize;
    size_t want;
    vsk_status st;

    if (!path || !out_bundle)
        return VSK_ERR_INVALID_ARGUMENT;
    f = vsk_fopen_utf8(path);
    if (!f)
        return VSK_ERR_IO;
    if (vsk_fseek(f, 0, SEEK_END) != 0 || (fsize = (int64_t)vsk_ftell(f)) < 0 ||
        vsk_fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return VSK_ERR_IO;
    }
    /* Header checks first, so an oversized or foreign file is refused
     * without reading (or allocating) all of it. */
    want = fsize < (int64_t)sizeof head ? (size_t)fsize : sizeof head;
    if (fread(head, 1, want, f) != want) {
        fclose(f);
        return VSK_ERR_IO;
    }
    if ((st = check_prefix(head, (uint64_t)fsize)) != VSK_OK) {
        fclose(f);
        return st;
    }
    /* fsize <= 256 MiB here. */
    if ((st = bundle_alloc((size_t)fsize, a, &b)) != VSK_OK) {
        fclose(f);
        return st;
    }
    memcpy(b->data, head, want);
    if (fread((uint8_t *)b->data + want, 1, (size_t)fsize - want, f) !=
        (size_t)fsize - want) {
        fclose(f);
        bundle_free(b);
        return VSK_ERR_IO;
    }
    fclose(f);
    return finish_open(b, out_bundle);
}

void vsk_bundle_retain(vsk_bundle *bundle)
{
    if (bundle)
        atomic_fetch_add_explicit(&bundle->refcount, 1u, memory_order_relaxed);
}

void vsk_bundle_release(vsk_bundle *bundle)
{
    if (!bundle)
        return;
    if (atomic_fetch_sub_explicit(&bundle->refcount, 1u,
                                  memory_order_acq_rel) == 1u)
        bundle_free(bundle);
}

vsk_status vsk_bundle_get_info(const vsk_bundle *bundle, vsk_bundle_info *info)
{
    vsk_bundle_info full;
    vsk_status st;
    if (!bundle || !info)
        return VSK_ERR_INVALID_ARGUMENT;
    if ((st = vsk_struct_size_check(info->struct_size, VSK_BUNDLE_INFO_MIN_SIZE,
                                    sizeof full)) != VSK_OK)
        return st;
    memset(&full, 0, sizeof full);
    full.voice_id = bundle->voice_id;
    full.display_name = bundle->display_name;
    full.version = bundle->version;
    full.tier_count = bundle->tier_count;
    full.format_version = bundle->format_version;
    vsk_struct_store(info, &full, info->struct_size);
    return VSK_OK;
}

vsk_status vsk_bundle_get_tier_info(const vsk_bundle *bundle, uint32_t index,
                                    vsk_tier_info *info)
{
    const vsk_tier *t;
    vsk_tier_info full;
    vsk_status st;
    if (!bundle || !info)
        return VSK_ERR_INVALID_ARGUMENT;
    if ((st = vsk_struct_size_check(info->struct_size, VSK_TIER_INFO_MIN_SIZE,
                                    sizeof full)) != VSK_OK)
        return st;
    if (index >= bundle->tier_count)
        return VSK_ERR_NOT_FOUND;
    t = &bundle->tiers[index];
    memset(&full, 0, sizeof full);
    full.name = t->name;
    full.model_sample_rate = t->model_sample_rate;
    full.hop_samples = t->hop_samples;
    full.latency_samples = t->latency_samples;
    full.parameter_count = t->parameter_count;
    full.flops_per_second = t->flops_per_second;
    full.cost_per_second = t->cost_per_second;
    vsk_struct_store(info, &full, info->struct_size);
    return VSK_OK;
}

vsk_status vsk_bundle_find_tier(const vsk_bundle *bundle, const char *name,
                                uint32_t *out_index)
{
    uint32_t i;
    if (!bundle || !name || !out_index)
        return VSK_ERR_INVALID_ARGUMENT;
    for (i = 0; i < bundle->tier_count; i++) {
        if (strcmp(bundle->tiers[i].name, name) == 0) {
            *out_index = i;
            return VSK_OK;
        }
    }
    return VSK_ERR_NOT_FOUND;
}

/* ------------------------------------------------------------ cost rule */

int vsk_bundle_cost_ok(const vsk_bundle *b, uint64_t limit)
{
    uint32_t i;
    if (limit == 0)
        limit = VSK_DEFAULT_MAX_COST_PER_SECOND;
    for (i = 0; i < b->tier_count; i++)
        if (b->tiers[i].cost_per_second > limit)
            return 0;
    return 1;
}

vsk_status vsk_bundle_check_cost(const vsk_bundle *b, uint64_t limit,
                                 vsk_log_fn log, void *log_user,
                                 const char *who)
{
    uint32_t i;
    if (limit == 0)
        limit = VSK_DEFAULT_MAX_COST_PER_SECOND;
    for (i = 0; i < b->tier_count; i++) {
        const vsk_tier *t = &b->tiers[i];
        if (t->cost_per_second <= limit)
            continue;
        vsk_logf(log, log_user, VSK_LOG_ERROR,
                 "%s: voice '%s' %s, tier %u '%s' needs %.3g operations per "
                 "second of audio in the worst case (computed from its graph: "
                 "%u Hz, hop %u), over the limit %.3g (max_cost_per_second); "
                 "VSK_ERR_TOO_COSTLY",
                 who, b->voice_id, b->version, (unsigned)i, t->name,
                 (double)t->cost_per_second, (unsigned)t->model_sample_rate,
                 (unsigned)t->hop_samples, (double)limit);
        return VSK_ERR_TOO_COSTLY;
    }
    return VSK_OK;
}
