/* Verified holder-of-key assertions, per worker. sg_cred_cache cannot hold
 * the confirmation key, so this is a small table of its own: a fixed array
 * scanned linearly (SG_SAML_HOK_CACHE_MAX entries of 32-byte keys: a few
 * microseconds, against the milliseconds of an XML parse and signature
 * check it saves), least recently used out first. The keyed digest is an
 * sg_cred_cache's (its RNG-keyed HMAC-SHA256, not written twice); that cache
 * holds no entries, it only keys this one. The XML itself is never kept. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "saml_hok.h"
#include "snapgate/common.h"

struct hok_entry {
    bool used;
    unsigned char key[SG_CRED_KEY_LEN];
    struct sg_principal p; /* name and groups only */
    EVP_PKEY *pk;
    uint64_t until;    /* the caller's clock; hits do not extend it */
    uint64_t last_use; /* the cache's tick at the last put or hit */
};

struct sg_saml_hok_cache {
    struct sg_cred_cache *keyer;
    struct hok_entry *v;
    size_t max, count;
    uint64_t tick;
};

static void principal_copy(struct sg_principal *dst, const struct sg_principal *src)
{
    memset(dst, 0, sizeof(*dst));
    memcpy(dst->name, src->name, sizeof(dst->name));
    dst->ngroups = src->ngroups;
    dst->groups = src->ngroups ? sg_xcalloc(src->ngroups, sizeof(*dst->groups)) : NULL;
    for (size_t i = 0; i < src->ngroups; i++)
        dst->groups[i] = sg_xstrdup(src->groups[i]);
}

static void entry_drop(struct sg_saml_hok_cache *c, struct hok_entry *e)
{
    sg_principal_clear(&e->p);
    EVP_PKEY_free(e->pk);
    memset(e, 0, sizeof(*e));
    c->count--;
}

static struct hok_entry *find(struct sg_saml_hok_cache *c, const unsigned char *key)
{
    for (size_t i = 0; i < c->max; i++)
        if (c->v[i].used && CRYPTO_memcmp(c->v[i].key, key, SG_CRED_KEY_LEN) == 0)
            return &c->v[i];
    return NULL;
}

struct sg_saml_hok_cache *sg_saml_hok_cache_new(size_t max_entries)
{
    struct sg_saml_hok_cache *c = sg_xcalloc(1, sizeof(*c));
    c->keyer = sg_cred_cache_new(1);
    c->max = max_entries ? max_entries : 1;
    c->v = sg_xcalloc(c->max, sizeof(*c->v));
    return c;
}

void sg_saml_hok_cache_free(struct sg_saml_hok_cache *c)
{
    if (!c)
        return;
    sg_saml_hok_cache_clear(c);
    sg_cred_cache_free(c->keyer);
    free(c->v);
    free(c);
}

int sg_saml_hok_cache_key(struct sg_saml_hok_cache *c, const void *xml, size_t len,
                          unsigned char key[SG_CRED_KEY_LEN])
{
    return sg_cred_cache_key(c->keyer, xml, len, key);
}

bool sg_saml_hok_cache_get(struct sg_saml_hok_cache *c, const unsigned char key[SG_CRED_KEY_LEN],
                           uint64_t now_ms, struct sg_principal *out, EVP_PKEY **pk)
{
    struct hok_entry *e = find(c, key);
    if (!e)
        return false;
    if (now_ms >= e->until) {
        entry_drop(c, e);
        return false;
    }
    if (EVP_PKEY_up_ref(e->pk) != 1)
        return false;
    e->last_use = ++c->tick;
    principal_copy(out, &e->p);
    *pk = e->pk;
    return true;
}

/* Where a new entry goes: a free slot, else an expired one, else the least
 * recently used (whose slot is emptied). */
static struct hok_entry *slot_for(struct sg_saml_hok_cache *c, uint64_t now_ms)
{
    struct hok_entry *lru = &c->v[0]; /* max is at least 1 */
    for (size_t i = 0; i < c->max; i++) {
        struct hok_entry *e = &c->v[i];
        if (!e->used)
            return e;
        if (now_ms >= e->until) {
            entry_drop(c, e);
            return e;
        }
        if (e->last_use < lru->last_use)
            lru = e;
    }
    entry_drop(c, lru);
    return lru;
}

void sg_saml_hok_cache_put(struct sg_saml_hok_cache *c, const unsigned char key[SG_CRED_KEY_LEN],
                           const struct sg_principal *p, EVP_PKEY *pk, uint64_t now_ms,
                           uint64_t until_ms)
{
    if (!pk || EVP_PKEY_up_ref(pk) != 1)
        return;
    struct hok_entry *e = find(c, key);
    if (e)
        entry_drop(c, e);
    else
        e = slot_for(c, now_ms);
    e->used = true;
    memcpy(e->key, key, SG_CRED_KEY_LEN);
    principal_copy(&e->p, p);
    e->pk = pk;
    e->until = until_ms;
    e->last_use = ++c->tick;
    c->count++;
}

void sg_saml_hok_cache_clear(struct sg_saml_hok_cache *c)
{
    for (size_t i = 0; i < c->max; i++)
        if (c->v[i].used)
            entry_drop(c, &c->v[i]);
}

size_t sg_saml_hok_cache_count(const struct sg_saml_hok_cache *c)
{
    return c->count;
}
