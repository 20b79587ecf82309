/* cursor.h — internal: a bounds-checked little-endian reader over a byte
 * range. Every read checks the remaining length first; a failed read
 * leaves the cursor unchanged and returns 0. Used by bundle.c and graph.c
 * so no parser ever dereferences a byte outside its section. */
#ifndef VSK_CURSOR_H
#define VSK_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct vsk_cursor {
    const uint8_t *base;   /* first byte of the range */
    size_t size;           /* bytes in the range */
    size_t pos;            /* next byte to read, 0 .. size */
} vsk_cursor;

static inline vsk_cursor vsk_cursor_make(const uint8_t *base, size_t size)
{
    vsk_cursor c;
    c.base = base;
    c.size = size;
    c.pos = 0;
    return c;
}

static inline size_t vsk_cursor_left(const vsk_cursor *c)
{
    return c->size - c->pos;
}

static inline uint32_t vsk_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t vsk_le64(const uint8_t *p)
{
    return (uint64_t)vsk_le32(p) | ((uint64_t)vsk_le32(p + 4) << 32);
}

/* Returns a pointer to the next n bytes and advances, or NULL (no move). */
static inline const uint8_t *vsk_cursor_take(vsk_cursor *c, size_t n)
{
    const uint8_t *p;
    if (n > vsk_cursor_left(c))
        return NULL;
    p = c->base + c->pos;
    c->pos += n;
    return p;
}

static inline int vsk_cursor_u32(vsk_cursor *c, uint32_t *out)
{
    const uint8_t *p = vsk_cursor_take(c, 4);
    if (!p)
        return 0;
    *out = vsk_le32(p);
    return 1;
}

static inline int vsk_cursor_u64(vsk_cursor *c, uint64_t *out)
{
    const uint8_t *p = vsk_cursor_take(c, 8);
    if (!p)
        return 0;
    *out = vsk_le64(p);
    return 1;
}

/* n u32 values into out[] (n*4 checked against the remaining bytes). */
static inline int vsk_cursor_u32s(vsk_cursor *c, uint32_t *out, uint32_t n)
{
    const uint8_t *p;
    uint32_t i;
    if ((size_t)n > vsk_cursor_left(c) / 4)
        return 0;
    p = vsk_cursor_take(c, (size_t)n * 4);
    for (i = 0; i < n; i++)
        out[i] = vsk_le32(p + 4 * (size_t)i);
    return 1;
}

/* A format string: u32 length then that many bytes (not NUL-terminated). */
static inline int vsk_cursor_string(vsk_cursor *c, const uint8_t **out,
                                    uint32_t *out_len)
{
    size_t save = c->pos;
    uint32_t n;
    const uint8_t *p;
    if (!vsk_cursor_u32(c, &n))
        return 0;
    p = vsk_cursor_take(c, n);
    if (!p) {
        c->pos = save;
        return 0;
    }
    *out = p;
    *out_len = n;
    return 1;
}

static inline float vsk_f32_from_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#endif
