/* The verified-credential cache: a fixed-size chained hash table over an LRU
 * list, each entry with its own deadline. HMAC outputs are uniformly random,
 * so their first bytes index the table directly. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "snapgate/cred_cache.h"
#include "snapgate/common.h"
#include "snapgate/log.h"

struct cache_entry {
    unsigned char key[SG_CRED_KEY_LEN];
    struct sg_principal p;           /* name and groups only */
    uint64_t until;                  /* the caller's clock; hits do not extend it */
    struct cache_entry *prev, *next; /* LRU list, most recent first */
    struct cache_entry *chain;       /* bucket chain */
};

struct sg_cred_cache {
    unsigned char secret[32];
    /* Keyed once and re-initialized per use: fetching the algorithm and
     * setting the key on every request cost more than the MAC itself. */
    EVP_MAC_CTX *mac;
    struct cache_entry **buckets;
    size_t nbuckets; /* a power of two */
    size_t count, max;
    struct cache_entry *head, *tail;
};

static size_t bucket_of(const struct sg_cred_cache *c, const unsigned char *key)
{
    uint64_t h;
    memcpy(&h, key, sizeof(h));
    return (size_t)(h & (c->nbuckets - 1));
}

static void lru_unlink(struct sg_cred_cache *c, struct cache_entry *e)
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

static void lru_push_front(struct sg_cred_cache *c, struct cache_entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    else
        c->tail = e;
    c->head = e;
}

/* The bucket slot pointing at the entry with key, or at the chain's NULL end. */
static struct cache_entry **find_slot(struct sg_cred_cache *c, const unsigned char *key)
{
    struct cache_entry **pp = &c->buckets[bucket_of(c, key)];
    while (*pp && CRYPTO_memcmp((*pp)->key, key, SG_CRED_KEY_LEN) != 0)
        pp = &(*pp)->chain;
    return pp;
}

static void remove_entry(struct sg_cred_cache *c, struct cache_entry **slot)
{
    struct cache_entry *e = *slot;
    *slot = e->chain;
    lru_unlink(c, e);
    sg_principal_clear(&e->p);
    free(e);
    c->count--;
}

/* Name and groups only: the upstream session stays with whoever owns src. */
static void principal_copy(struct sg_principal *dst, const struct sg_principal *src)
{
    memcpy(dst->name, src->name, sizeof(dst->name));
    dst->ngroups = src->ngroups;
    dst->groups = src->ngroups ? sg_xcalloc(src->ngroups, sizeof(*dst->groups)) : NULL;
    for (size_t i = 0; i < src->ngroups; i++)
        dst->groups[i] = sg_xstrdup(src->groups[i]);
    dst->upstream_session = NULL;
}

struct sg_cred_cache *sg_cred_cache_new(size_t max_entries)
{
    struct sg_cred_cache *c = sg_xcalloc(1, sizeof(*c));
    if (RAND_bytes(c->secret, sizeof(c->secret)) != 1) {
        sg_log_error("auth", "the system random generator failed; cannot key the credential cache");
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
    if (!c->mac || !EVP_MAC_init(c->mac, c->secret, sizeof(c->secret), params)) {
        sg_log_error("auth", "OpenSSL has no HMAC-SHA256; cannot key the credential cache");
        abort();
    }
    return c;
}

void sg_cred_cache_free(struct sg_cred_cache *c)
{
    if (!c)
        return;
    sg_cred_cache_clear(c);
    EVP_MAC_CTX_free(c->mac);
    OPENSSL_cleanse(c->secret, sizeof(c->secret));
    free(c->buckets);
    free(c);
}

int sg_cred_cache_key(struct sg_cred_cache *c, const void *data, size_t len,
                      unsigned char key[SG_CRED_KEY_LEN])
{
    size_t n = 0;
    /* A NULL key re-initializes with the key set at creation. */
    if (!EVP_MAC_init(c->mac, NULL, 0, NULL) || !EVP_MAC_update(c->mac, data, len) ||
        !EVP_MAC_final(c->mac, key, &n, SG_CRED_KEY_LEN) || n != SG_CRED_KEY_LEN)
        return SG_ERR;
    return SG_OK;
}

bool sg_cred_cache_get(struct sg_cred_cache *c, const unsigned char key[SG_CRED_KEY_LEN],
                       uint64_t now_ms, struct sg_principal *out)
{
    struct cache_entry **slot = find_slot(c, key);
    struct cache_entry *e = *slot;
    if (!e)
        return false;
    if (now_ms >= e->until) {
        remove_entry(c, slot);
        return false;
    }
    lru_unlink(c, e);
    lru_push_front(c, e);
    principal_copy(out, &e->p);
    return true;
}

void sg_cred_cache_put(struct sg_cred_cache *c, const unsigned char key[SG_CRED_KEY_LEN],
                       const struct sg_principal *p, uint64_t until_ms)
{
    struct cache_entry **slot = find_slot(c, key);
    struct cache_entry *e = *slot;
    if (e) {
        sg_principal_clear(&e->p);
        lru_unlink(c, e);
    } else {
        if (c->count == c->max) {
            remove_entry(c, find_slot(c, c->tail->key));
            slot = find_slot(c, key); /* the eviction may have moved the chain's end */
        }
        e = sg_xcalloc(1, sizeof(*e));
        memcpy(e->key, key, SG_CRED_KEY_LEN);
        *slot = e;
        c->count++;
    }
    principal_copy(&e->p, p);
    e->until = until_ms;
    lru_push_front(c, e);
}

void sg_cred_cache_clear(struct sg_cred_cache *c)
{
    while (c->head)
        remove_entry(c, find_slot(c, c->head->key));
}

size_t sg_cred_cache_count(const struct sg_cred_cache *c)
{
    return c->count;
}
