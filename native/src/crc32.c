/* crc32.c — zlib-compatible CRC-32 with a lookup table built by the
 * preprocessor, so it lives in read-only memory and there is no lazy
 * initialisation (no global mutable state, nothing to race on). */
#include "crc32.h"

/* One bit of the reflected CRC shift register. */
#define VSK_CRC_BIT(c) (((c) >> 1) ^ (0xEDB88320u & (0u - ((c) & 1u))))
#define VSK_CRC_B2(c) VSK_CRC_BIT(VSK_CRC_BIT(c))
#define VSK_CRC_B4(c) VSK_CRC_B2(VSK_CRC_B2(c))
#define VSK_CRC_B8(c) VSK_CRC_B4(VSK_CRC_B4(c))
#define VSK_CRC_E(n) VSK_CRC_B8((uint32_t)(n))
#define VSK_CRC_R4(n) VSK_CRC_E(n), VSK_CRC_E((n) + 1), VSK_CRC_E((n) + 2), VSK_CRC_E((n) + 3)
#define VSK_CRC_R16(n) VSK_CRC_R4(n), VSK_CRC_R4((n) + 4), VSK_CRC_R4((n) + 8), VSK_CRC_R4((n) + 12)
#define VSK_CRC_R64(n) VSK_CRC_R16(n), VSK_CRC_R16((n) + 16), VSK_CRC_R16((n) + 32), VSK_CRC_R16((n) + 48)

static const uint32_t vsk_crc_table[256] = {
    VSK_CRC_R64(0), VSK_CRC_R64(64), VSK_CRC_R64(128), VSK_CRC_R64(192)
};

uint32_t vsk_crc32(uint32_t crc, const void *data, size_t size)
{
    const uint8_t *p = (const uint8_t *)data;
    uint32_t c = crc ^ 0xFFFFFFFFu;
    size_t i;
    for (i = 0; i < size; i++)
        c = vsk_crc_table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}
