/* Verified tokens, per worker: a fixed-size chained hash table over an LRU
 * list, keyed by SHA-256 of the whole header value. A SAML token is a signed
 * document, not a guessable secret, so a plain hash is enough to keep the
 * token itself out of memory; its first bytes index the table directly.
 * Entries end at an absolute wall-clock time: the token's own NotOnOrAfter
 * (plus the skew) or the cache TTL, whichever comes first. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "saml.h"
#include "snapgate/common.h"

struct cache_entry {
    unsigned char key[SG_SAML_HASH_LEN];
    struct sg_principal p;
    uint64_t expires_ms;
    struct cache_entry *prev, *next; /* LRU list, most recent first */
    struct cache_entry *chain;       /* bucket chain */
};

struct sg_saml_cache {
    struct cache_entry **buckets;
    size_t nbuckets; /* a power of two */
    size_t count, max;
    struct cache_entry *head, *tail;
};

static size_t bucket_of(const struct sg_saml_cache *c, const unsigned char *key)
{
    uint64_t h;
    memcpy(&h, key, sizeof(h));
    return (size_t)(h & (c->nbuckets - 1));
}

static void lru_unlink(struct sg_saml_cache *c, struct cache_entry *e)
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

static void lru_push_front(struct sg_saml_cache *c, struct cache_entry *e)
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
static struct cache_entry **find_slot(struct sg_saml_cache *c, const unsigned char *key)
{
    struct cache_entry **pp = &c->buckets[bucket_of(c, key)];
    while (*pp && CRYPTO_memcmp((*pp)->key, key, SG_SAML_HASH_LEN) != 0)
        pp = &(*pp)->chain;
    return pp;
}

static void remove_entry(struct sg_saml_cache *c, struct cache_entry **slot)
{
    struct cache_entry *e = *slot;
    *slot = e->chain;
    lru_unlink(c, e);
    sg_principal_clear(&e->p);
    free(e);
    c->count--;
}

static void principal_copy(struct sg_principal *dst, const struct sg_principal *src)
{
    memcpy(dst->name, src->name, sizeof(dst->name));
    dst->ngroups = src->ngroups;
    dst->groups = src->ngroups ? sg_xcalloc(src->ngroups, sizeof(*dst->groups)) : NULL;
    for (size_t i = 0; i < src->ngroups; i++)
        dst->groups[i] = sg_xstrdup(src->groups[i]);
}

struct sg_saml_cache *sg_saml_cache_new(size_t max_entries)
{
    struct sg_saml_cache *c = sg_xcalloc(1, sizeof(*c));
    c->max = max_entries ? max_entries : 1;
    c->nbuckets = 1;
    while (c->nbuckets < c->max)
        c->nbuckets <<= 1;
    c->buckets = sg_xcalloc(c->nbuckets, sizeof(*c->buckets));
    return c;
}

void sg_saml_cache_free(struct sg_saml_cache *c)
{
    if (!c)
        return;
    sg_saml_cache_clear(c);
    free(c->buckets);
    free(c);
}

int sg_saml_cache_key(const char *hdr, size_t len, unsigned char key[SG_SAML_HASH_LEN])
{
    unsigned int n = 0;
    if (!EVP_Digest(hdr, len, key, &n, EVP_sha256(), NULL) || n != SG_SAML_HASH_LEN)
        return SG_ERR;
    return SG_OK;
}

bool sg_saml_cache_get(struct sg_saml_cache *c, const unsigned char key[SG_SAML_HASH_LEN],
                       uint64_t now_ms, struct sg_principal *out)
{
    struct cache_entry **slot = find_slot(c, key);
    struct cache_entry *e = *slot;
    if (!e)
        return false;
    if (now_ms >= e->expires_ms) {
        remove_entry(c, slot);
        return false;
    }
    lru_unlink(c, e);
    lru_push_front(c, e);
    principal_copy(out, &e->p);
    return true;
}

void sg_saml_cache_put(struct sg_saml_cache *c, const unsigned char key[SG_SAML_HASH_LEN],
                       const struct sg_principal *p, uint64_t expires_ms)
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
        memcpy(e->key, key, SG_SAML_HASH_LEN);
        *slot = e;
        c->count++;
    }
    principal_copy(&e->p, p);
    e->expires_ms = expires_ms;
    lru_push_front(c, e);
}

void sg_saml_cache_clear(struct sg_saml_cache *c)
{
    while (c->head)
        remove_entry(c, find_slot(c, c->head->key));
}

size_t sg_saml_cache_count(const struct sg_saml_cache *c)
{
    return c->count;
}
