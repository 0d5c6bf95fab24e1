/* Cache entries as bytes for a shared tier: a fixed header, the ETag, the
 * body. The reader trusts nothing (another version, a foreign writer or a
 * truncated value may sit under the key): every length is checked against what
 * is left and the ETag must match the body. */
#include <stdbool.h>
#include <string.h>

#include "normalize/datavalue.h"
#include "snapgate/cache_codec.h"
#include "snapgate/common.h"
#include "snapgate/task.h"

#define CODEC_MAGIC "SGCE"
#define CODEC_FIXED 26 /* magic .. etag length byte */

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* The rpc part is served as it is, so it must at least be what the envelope
 * suffix looks like (normalize/datavalue.h), bounded and without a NUL: a
 * foreign or damaged value cannot turn the answer's frame into something
 * else. What is inside is trusted as much as the body is. */
static bool rpc_framed(const unsigned char *p, size_t n)
{
    size_t h = SG_DV_OUTPUT_HEAD_LEN;
    return n >= h + 2 && n <= SG_CACHE_CODEC_RPC_MAX && memcmp(p, SG_DV_OUTPUT_HEAD, h) == 0 &&
           memcmp(p + n - 2, "}}", 2) == 0 && !memchr(p, '\0', n);
}

char *sg_cache_codec_encode(const struct sg_cache_entry *e, size_t *len)
{
    size_t elen = strlen(e->etag);
    size_t olen = strlen(e->owner);
    size_t rlen = e->rpc ? e->rpc_len : 0;
    size_t n = CODEC_FIXED + elen + 1 + olen + 8 + 4 + e->len + 4 + rlen;
    unsigned char *buf = sg_xmalloc(n);
    memcpy(buf, CODEC_MAGIC, 4);
    buf[4] = SG_CACHE_CODEC_VERSION;
    put_be(buf + 5, (uint64_t)e->http_status, 2);
    put_be(buf + 7, (uint16_t)(int16_t)e->task_status, 2);
    put_be(buf + 9, e->fetched_at_ms, 8);
    put_be(buf + 17, e->expires_at_ms, 8);
    buf[25] = (unsigned char)elen;
    unsigned char *p = buf + CODEC_FIXED;
    memcpy(p, e->etag, elen);
    p += elen;
    *p++ = (unsigned char)olen;
    memcpy(p, e->owner, olen);
    p += olen;
    put_be(p, (uint64_t)e->completed, 8);
    p += 8;
    put_be(p, e->len, 4);
    memcpy(p + 4, e->body, e->len);
    p += 4 + e->len;
    put_be(p, rlen, 4);
    if (rlen)
        memcpy(p + 4, e->rpc, rlen);
    *len = n;
    return (char *)buf;
}

struct sg_cache_entry *sg_cache_codec_decode(const void *data, size_t len, const char **why)
{
    const unsigned char *p = data;
    const char *reason;
    struct sg_cache_entry *e = NULL;
    if (len < CODEC_FIXED || memcmp(p, CODEC_MAGIC, 4) != 0) {
        reason = "bad magic";
        goto fail;
    }
    if (p[4] != SG_CACHE_CODEC_VERSION) {
        reason = "unknown version";
        goto fail;
    }
    int http_status = (int)get_be(p + 5, 2);
    int task_status = (int16_t)(uint16_t)get_be(p + 7, 2);
    if (http_status < 100 || http_status > 599 || task_status < -1 ||
        task_status > SG_TASK_FAILED) {
        reason = "status out of range";
        goto fail;
    }
    size_t elen = p[25];
    if (elen == 0 || elen >= sizeof(e->etag) || len - CODEC_FIXED < elen + 1) {
        reason = "bad etag length";
        goto fail;
    }
    const unsigned char *q = p + CODEC_FIXED + elen;
    size_t left = len - CODEC_FIXED - elen;
    size_t olen = *q++;
    left--;
    if (olen > SG_CACHE_OWNER_MAX || left < olen + 8 + 4 || memchr(q, '\0', olen)) {
        reason = "bad owner";
        goto fail;
    }
    const unsigned char *owner = q;
    q += olen;
    int64_t completed = (int64_t)get_be(q, 8);
    q += 8;
    left -= olen + 8;
    size_t blen = (size_t)get_be(q, 4);
    left -= 4;
    if (left < blen || left - blen < 4 || completed < -1) {
        reason = completed < -1 ? "completed out of range" : "bad body length";
        goto fail;
    }
    const unsigned char *rpc = q + 4 + blen + 4;
    size_t rlen = (size_t)get_be(rpc - 4, 4);
    if (left - blen - 4 != rlen) {
        reason = "bad rpc length";
        goto fail;
    }
    if (rlen && (http_status != 200 || !rpc_framed(rpc, rlen))) {
        reason = "bad rpc part";
        goto fail;
    }
    e = sg_cache_entry_new(http_status, task_status, (const char *)q + 4, blen, get_be(p + 9, 8),
                           get_be(p + 17, 8));
    memcpy(e->owner, owner, olen);
    e->owner[olen] = '\0';
    e->completed = completed;
    if (rlen) {
        e->rpc = sg_xmalloc(rlen + 1);
        memcpy(e->rpc, rpc, rlen);
        e->rpc[rlen] = '\0';
        e->rpc_len = rlen;
    }
    const unsigned char *etag = p + CODEC_FIXED;
    /* The ETag is recomputed from the body: a mismatch is a corrupt value. */
    if (strlen(e->etag) != elen || memcmp(e->etag, etag, elen) != 0) {
        reason = "etag does not match the body";
        goto fail;
    }
    return e;
fail:
    sg_cache_entry_put(e);
    if (why)
        *why = reason;
    return NULL;
}
