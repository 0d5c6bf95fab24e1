/* fuzz_cache_codec: feeds arbitrary bytes (as read back from a shared tier,
 * Redis, possibly written by another replica or version) to
 * sg_cache_codec_decode (gateway/cache/cache_codec.c). The input is copied to a buffer
 * of exactly its size, so ASan sees any read past len.
 * Properties: a rejection always names why; whatever decodes re-encodes with
 * sg_cache_codec_encode to exactly the same bytes (decode accepts nothing it
 * would not have written), and the entry holds one reference and a
 * NUL-terminated etag and owner. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/cache_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = malloc(size ? size : 1);
    if (!in)
        abort();
    memcpy(in, data, size);
    const char *why = NULL;
    struct sg_cache_entry *e = sg_cache_codec_decode(in, size, &why);
    if (!e) {
        if (!why || !why[0])
            abort();
        free(in);
        return 0;
    }
    if (e->refs != 1 || !memchr(e->etag, '\0', sizeof e->etag) ||
        !memchr(e->owner, '\0', sizeof e->owner))
        abort();
    size_t len = 0;
    char *out = sg_cache_codec_encode(e, &len);
    if (!out || len != size || memcmp(out, in, size) != 0)
        abort();
    free(out);
    sg_cache_entry_put(e);
    free(in);
    return 0;
}
