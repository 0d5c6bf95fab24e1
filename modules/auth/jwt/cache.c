/* The verified-token cache: a chained hash table over an LRU list, each
 * entry with its own deadline (the token's exp bounds it). HMAC outputs are
 * uniformly random, so their first bytes index the table directly; the key is
 * the cache's own, drawn from the system RNG, so the table tells nothing
 * about tokens. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "jwt.h"
#include "snapgate/common.h"
#include "snapgate/log.h"

struct cache_entry {
    unsigned char mac[SG_JWT_MAC_LEN];
    struct sg_jwt_claims claims;
    uint64_t until;                  /* monotonic ms; hits do not extend it */
    struct cache_entry *prev, *next; /* LRU list, most recent first */
    struct cache_entry *chain;       /* bucket chain */
};

struct sg_jwt_cache {
    unsigned char key[32];
    EVP_MAC_CTX *mac; /* keyed once, re-initialized per use */
    struct cache_entry **buckets;
    size_t nbuckets; /* a power of two */
    size_t count, max;
    struct cache_entry *head, *tail;
};

static size_t bucket_of(const struct sg_jwt_cache *c, const unsigned char *mac)
{
    uint64_t h;
    memcpy(&h, mac, sizeof(h));
    return (size_t)(h & (c->nbuckets - 1));
}

static void lru_unlink(struct sg_jwt_cache *c, struct cache_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(struct sg_jwt_cache *c, struct cache_entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    else
        c->tail = e;
    c->head = e;
}

/* The bucket slot pointing at the entry with mac, or at the chain's NULL end. */
static struct cache_entry **find_slot(struct sg_jwt_cache *c, const unsigned char *mac)
{
    struct cache_entry **pp = &c->buckets[bucket_of(c, mac)];
    while (*pp && CRYPTO_memcmp((*pp)->mac, mac, SG_JWT_MAC_LEN) != 0)
        pp = &(*pp)->chain;
    return pp;
}

static void remove_entry(struct sg_jwt_cache *c, struct cache_entry **slot)
{
    struct cache_entry *e = *slot;
    *slot = e->chain;
    lru_unlink(c, e);
    sg_jwt_claims_clear(&e->claims);
    free(e);
    c->count--;
}

static void claims_copy(struct sg_jwt_claims *dst, const struct sg_jwt_claims *src)
{
    memcpy(dst->sub, src->sub, sizeof(dst->sub));
    dst->exp = src->exp;
    dst->ngroups = src->ngroups;
    dst->groups = src->ngroups ? sg_xcalloc(src->ngroups, sizeof(*dst->groups)) : NULL;
    for (size_t i = 0; i < src->ngroups; i++)
        dst->groups[i] = sg_xstrdup(src->groups[i]);
}

struct sg_jwt_cache *sg_jwt_cache_new(size_t max_entries)
{
    struct sg_jwt_cache *c = sg_xcalloc(1, sizeof(*c));
    if (RAND_bytes(c->key, sizeof(c->key)) != 1) {
        sg_log_error("auth.jwt", "the system random generator failed; cannot key the cache");
        abort();
    }
    c->max = max_entries ? max_entries : 1;
    c->nbuckets = 1;
    while (c->nbuckets < c->max)
        c->nbuckets <<= 1;
    c->buckets = sg_xcalloc(c->nbuckets, sizeof(*c->buckets));
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    c->mac = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    EVP_MAC_free(hmac); /* the context keeps its own reference */
    if (!c->mac || !EVP_MAC_init(c->mac, c->key, sizeof(c->key), params)) {
        sg_log_error("auth.jwt", "OpenSSL has no HMAC-SHA256; cannot key the cache");
        abort();
    }
    return c;
}

void sg_jwt_cache_free(struct sg_jwt_cache *c)
{
    if (!c)
        return;
    sg_jwt_cache_clear(c);
    EVP_MAC_CTX_free(c->mac);
    OPENSSL_cleanse(c->key, sizeof(c->key));
    free(c->buckets);
    free(c);
}

int sg_jwt_cache_key(const struct sg_jwt_cache *c, const char *tok, size_t tl,
                     unsigned char mac[SG_JWT_MAC_LEN])
{
    size_t maclen = 0;
    /* A NULL key re-initializes with the key set at creation. */
    if (!EVP_MAC_init(c->mac, NULL, 0, NULL) ||
        !EVP_MAC_update(c->mac, (const unsigned char *)tok, tl) ||
        !EVP_MAC_final(c->mac, mac, &maclen, SG_JWT_MAC_LEN) || maclen != SG_JWT_MAC_LEN)
        return SG_ERR;
    return SG_OK;
}

const struct sg_jwt_claims *
sg_jwt_cache_get(struct sg_jwt_cache *c, const unsigned char mac[SG_JWT_MAC_LEN], uint64_t now_ms)
{
    struct cache_entry **slot = find_slot(c, mac);
    struct cache_entry *e = *slot;
    if (!e)
        return NULL;
    if (now_ms >= e->until) {
        remove_entry(c, slot);
        return NULL;
    }
    lru_unlink(c, e);
    lru_push_front(c, e);
    return &e->claims;
}

void sg_jwt_cache_put(struct sg_jwt_cache *c, const unsigned char mac[SG_JWT_MAC_LEN],
                      const struct sg_jwt_claims *claims, uint64_t until_ms)
{
    struct cache_entry **slot = find_slot(c, mac);
    struct cache_entry *e = *slot;
    if (e) {
        sg_jwt_claims_clear(&e->claims);
        lru_unlink(c, e);
    } else {
        if (c->count == c->max) {
            struct cache_entry *old = c->tail;
            remove_entry(c, find_slot(c, old->mac));
            slot = find_slot(c, mac); /* the eviction may have moved the chain's end */
        }
        e = sg_xcalloc(1, sizeof(*e));
        memcpy(e->mac, mac, SG_JWT_MAC_LEN);
        *slot = e;
        c->count++;
    }
    claims_copy(&e->claims, claims);
    e->until = until_ms;
    lru_push_front(c, e);
}

void sg_jwt_cache_clear(struct sg_jwt_cache *c)
{
    while (c->head)
        remove_entry(c, find_slot(c, c->head->mac));
}

size_t sg_jwt_cache_count(const struct sg_jwt_cache *c)
{
    return c->count;
}
