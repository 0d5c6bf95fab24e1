/* Cache entries: rendered bytes plus a strong ETag, computed once when the
 * answer is stored, so a hit only copies bytes. */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/cache.h"
#include "snapgate/common.h"

/* SHA-256 fetched once: EVP_sha256() makes EVP_Digest look the
 * implementation up again on every call, a quarter of the digest's cost for
 * a 1 KB body, and every entry read from Redis is digested (its stored ETag
 * is checked against its body). Process-lifetime, never freed. */
static EVP_MD *sha256;

static void fetch_sha256(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!sha256)
        abort(); /* no SHA-256 in libcrypto: nothing can work */
}

/* 96 bits of SHA-256 is ample to tell two bodies of one task apart. */
static void etag_of(const char *body, size_t len, char out[32])
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fetch_sha256);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(body, len, md, &mdlen, sha256, NULL) != 1)
        abort(); /* only on allocation failure */
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    out[n++] = '"';
    for (int i = 0; i < 12; i++) {
        out[n++] = hex[md[i] >> 4];
        out[n++] = hex[md[i] & 15];
    }
    out[n++] = '"';
    out[n] = '\0';
}

struct sg_cache_entry *sg_cache_entry_new(int http_status, int task_status, const char *body,
                                          size_t len, uint64_t fetched_at_ms,
                                          uint64_t expires_at_ms)
{
    struct sg_cache_entry *e = sg_xmalloc(sizeof(*e) + len + 1);
    e->refs = 1;
    e->http_status = http_status;
    e->task_status = task_status;
    e->fetched_at_ms = fetched_at_ms;
    e->expires_at_ms = expires_at_ms;
    e->owner[0] = '\0';
    e->completed = -1;
    e->rpc = NULL;
    e->rpc_len = 0;
    e->len = len;
    memcpy(e->body, body, len);
    e->body[len] = '\0';
    etag_of(body, len, e->etag);
    return e;
}

struct sg_cache_entry *sg_cache_entry_get(struct sg_cache_entry *e)
{
    e->refs++;
    return e;
}

void sg_cache_entry_put(struct sg_cache_entry *e)
{
    if (e && --e->refs == 0) {
        free(e->rpc);
        free(e);
    }
}
