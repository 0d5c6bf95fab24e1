/* The verified-credential cache the auth providers share: per worker, a
 * bounded LRU from a keyed digest of the credential to the principal it
 * verified as and a deadline. The credential itself is never stored, and the
 * digest key is the cache's own random one, so a dump of the table tells
 * nothing about passwords or tokens. */
#ifndef SG_CRED_CACHE_H
#define SG_CRED_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapgate/auth.h"

#define SG_CRED_KEY_LEN 32

/* Per worker, never shared between threads. */
struct sg_cred_cache;

/* A cache of at most max_entries (0 counts as 1), keyed by HMAC-SHA256 under a
 * key drawn from the system RNG. Aborts when the RNG or OpenSSL's HMAC fails
 * (nothing sane to do). The caller owns the result: sg_cred_cache_free. */
struct sg_cred_cache *sg_cred_cache_new(size_t max_entries);
/* Frees every entry and wipes the HMAC key; NULL is fine. */
void sg_cred_cache_free(struct sg_cred_cache *c);
/* key gets HMAC-SHA256(c's key, data[0..len)): equal data gives equal keys
 * within one cache, two caches give different keys. SG_OK, or SG_ERR when
 * OpenSSL fails (the caller then neither reads nor fills the cache). */
int sg_cred_cache_key(struct sg_cred_cache *c, const void *data, size_t len,
                      unsigned char key[SG_CRED_KEY_LEN]);
/* True, with *out overwritten by a copy of the principal remembered under key
 * (name and groups newly allocated, upstream_session NULL; the caller frees
 * with sg_principal_clear), when there is an entry and now_ms is before its
 * deadline; the entry becomes the most recently used. False otherwise, out
 * untouched; an expired entry is dropped. Hits never extend the deadline. The
 * clock is the caller's: the cache only compares now_ms with until_ms. */
bool sg_cred_cache_get(struct sg_cred_cache *c, const unsigned char key[SG_CRED_KEY_LEN],
                       uint64_t now_ms, struct sg_principal *out);
/* Remembers a copy of p's name and groups (never its upstream_session: a
 * backend session is not the cache's to keep) under key until until_ms,
 * replacing what key held; when full, the least recently used entry goes.
 * p stays the caller's. */
void sg_cred_cache_put(struct sg_cred_cache *c, const unsigned char key[SG_CRED_KEY_LEN],
                       const struct sg_principal *p, uint64_t until_ms);
/* Drops every entry (a reload: credentials may have changed). */
void sg_cred_cache_clear(struct sg_cred_cache *c);
/* How many entries c holds now (expired ones not yet dropped included). */
size_t sg_cred_cache_count(const struct sg_cred_cache *c);

#endif
