/* Cache entries as bytes for a shared tier: a fixed header, the ETag, the
 * body. The reader trusts nothing (another version, a foreign writer or a
 * truncated value may sit under the key): every length is checked against what
 * is left and the ETag must match the body. */
#include <string.h>

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

char *sg_cache_codec_encode(const struct sg_cache_entry *e, size_t *len)
{
    size_t elen = strlen(e->etag);
    size_t olen = strlen(e->owner);
    size_t n = CODEC_FIXED + elen + 1 + olen + 8 + 4 + e->len;
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
    if (left - 4 != blen || completed < -1) {
        reason = completed < -1 ? "completed out of range" : "bad body length";
        goto fail;
    }
    e = sg_cache_entry_new(http_status, task_status, (const char *)q + 4, blen, get_be(p + 9, 8),
                           get_be(p + 17, 8));
    memcpy(e->owner, owner, olen);
    e->owner[olen] = '\0';
    e->completed = completed;
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
