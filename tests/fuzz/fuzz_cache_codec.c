/* fuzz_cache_codec: feeds arbitrary bytes (as read back from a shared tier,
 * Redis, possibly written by another replica or version) to
 * sg_cache_codec_decode (gateway/cache/cache_codec.c). The input is copied to a buffer
 * of exactly its size, so ASan sees any read past len.
 * Properties: a rejection always names why; whatever decodes re-encodes with
 * sg_cache_codec_encode to exactly the same bytes (decode accepts nothing it
 * would not have written), and the entry holds one reference and a
 * NUL-terminated etag and owner.
 * The other direction, from the same input read as an entry's fields (status,
 * times, completed, owner, body, and for a 200 a framed rpc part): what
 * sg_cache_codec_encode writes decodes,
 * field for field, to the entry it came from (decode rejects nothing encode
 * writes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/cache_codec.h"
#include "snapgate/task.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t take_u64(const uint8_t **p, size_t *left)
{
    uint64_t v = 0;
    for (int i = 0; i < 8 && *left; i++, (*p)++, (*left)--)
        v = (v << 8) | **p;
    return v;
}

/* Whatever decodes re-encodes to exactly the same bytes, and a refusal says
 * why. */
static void decode_is_exact(const uint8_t *data, size_t size)
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
        return;
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
}

/* Encode an entry built from the input's bytes, decode it, compare. */
static void entry_round_trip(const uint8_t *p, size_t left)
{
    if (left < 4)
        return;
    uint8_t pick = p[0];
    int http_status = 100 + ((p[0] << 8) | p[1]) % 500;
    int task_status = (int)(p[2] % (SG_TASK_FAILED + 2)) - 1;
    size_t olen = p[3] % (SG_CACHE_OWNER_MAX + 1);
    p += 4;
    left -= 4;
    uint64_t fetched = take_u64(&p, &left);
    uint64_t expires = take_u64(&p, &left);
    int64_t completed = (int64_t)take_u64(&p, &left);
    if (completed < -1)
        completed = -1;
    if (olen > left)
        olen = left;
    struct sg_cache_entry *e = sg_cache_entry_new(http_status, task_status, (const char *)p + olen,
                                                  left - olen, fetched, expires);
    for (size_t i = 0; i < olen; i++)
        e->owner[i] = p[i] ? (char)p[i] : 'x'; /* an owner is a C string */
    e->owner[olen] = '\0';
    e->completed = completed;
    if (http_status == 200) {
        /* A 200 carries its JSON-RPC answer: framed as the envelope's suffix,
         * the body's bytes (NUL-free) inside. */
        static const char head[] = ",\"result\":{\"output\":";
        size_t h = sizeof(head) - 1, b = e->len;
        e->rpc = malloc(h + b + 3);
        if (!e->rpc)
            abort();
        memcpy(e->rpc, head, h);
        for (size_t i = 0; i < b; i++)
            e->rpc[h + i] = e->body[i] ? e->body[i] : 'x';
        memcpy(e->rpc + h + b, "}}", 3);
        e->rpc_len = h + b + 2;
    }

    size_t len = 0;
    char *bytes = sg_cache_codec_encode(e, &len);
    const char *why = NULL;
    struct sg_cache_entry *back = sg_cache_codec_decode(bytes, len, &why);
    if (!back || back->http_status != e->http_status || back->task_status != e->task_status ||
        back->fetched_at_ms != e->fetched_at_ms || back->expires_at_ms != e->expires_at_ms ||
        back->completed != e->completed || strcmp(back->etag, e->etag) != 0 ||
        strcmp(back->owner, e->owner) != 0 || back->len != e->len ||
        memcmp(back->body, e->body, e->len) != 0 || back->rpc_len != e->rpc_len ||
        (e->rpc && memcmp(back->rpc, e->rpc, e->rpc_len) != 0) || (!e->rpc && back->rpc))
        abort();
    sg_cache_entry_put(back);
    sg_cache_entry_put(e);

    /* Near misses of a valid value: decode must refuse them or give back
     * exactly them. The input's first byte picks the change, so the decode
     * direction does not depend on the seeds holding valid values of the
     * current version (they did not, after the codec's v3). */
    unsigned char *near = malloc(len + 1);
    if (!near)
        abort();
    memcpy(near, bytes, len);
    near[len] = pick;
    decode_is_exact(near, len + 1); /* a byte past the end */
    if (len > 0) {
        decode_is_exact(near, len - 1); /* one short */
        near[pick % len] ^= (unsigned char)(1u << (pick % 8));
        decode_is_exact(near, len); /* one bit flipped */
    }
    free(near);
    free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    entry_round_trip(data, size);
    decode_is_exact(data, size);
    return 0;
}
