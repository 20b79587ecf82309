/* fuzz_bundle_open — vsk_bundle_open_memory on arbitrary bytes (as is, and
 * with file_size + CRC fixed up so the structural checks see mutations),
 * then every query of a bundle that opens, with their invariants
 * (fuzz_common.h), and the voice size for the default config. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vsk_bundle *b = fz_open(data, size);
    if (!b) return 0;
    vsk_bundle_retain(b);
    (void)fz_query_bundle(b);
    vsk_bundle_release(b); /* still one reference left */
    (void)fz_query_bundle(b);

    vsk_voice_config cfg;
    vsk_voice_config_init(&cfg);
    size_t bytes = 0;
    vsk_status st = vsk_voice_get_size(b, &cfg, &bytes);
    fz_check_status(st);
    FZ_CHECK(st != VSK_OK || bytes > 0);
    vsk_bundle_release(b);
    return 0;
}
