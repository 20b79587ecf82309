/* crc32.h — internal: zlib-compatible CRC-32 (IEEE 802.3, reflected,
 * polynomial 0xEDB88320, init/xorout 0xFFFFFFFF). Pure, no global state. */
#ifndef VSK_CRC32_H
#define VSK_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Same contract as zlib's crc32(): start with crc = 0 and chain calls to
 * checksum data in pieces: vsk_crc32(vsk_crc32(0, a, na), b, nb) equals
 * the CRC of a followed by b. `data` may be NULL only when size is 0. */
uint32_t vsk_crc32(uint32_t crc, const void *data, size_t size);

#endif
