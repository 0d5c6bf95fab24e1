/* A string-keyed hash map for per-worker tables (in-flight fetches, the local
 * cache, delegated pairs, the failed-login throttle). Keyed hashing (SipHash
 * under a random key per map): callers choose the keys, they must not choose
 * the buckets. Not thread-safe by design: each worker owns its own maps.
 * Part of the module ABI (the memory and redis tiers, auth/vcenter use it). */
#ifndef SG_STRMAP_H
#define SG_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

struct sg_strmap_node {
    struct sg_strmap_node *next;
    uint64_t hash;
    void *value;
    char key[]; /* NUL-terminated copy */
};

struct sg_strmap {
    struct sg_strmap_node **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
    EVP_MAC_CTX *mac; /* SipHash-2-4 under this map's key */
};

/* Draws the map's hash key; aborts when the RNG or OpenSSL's SipHash fails. */
void sg_strmap_init(struct sg_strmap *m);
/* Frees the nodes; values are the caller's (free them first via sg_strmap_each). */
void sg_strmap_destroy(struct sg_strmap *m);
/* The value stored under key, or NULL when key is absent. */
void *sg_strmap_get(const struct sg_strmap *m, const char *key);
/* Inserts or replaces; returns the previous value or NULL. */
void *sg_strmap_put(struct sg_strmap *m, const char *key, void *value);
/* Removes; returns the removed value or NULL. */
void *sg_strmap_del(struct sg_strmap *m, const char *key);
/* The keyed hash of key in m (exposed for tests: two maps disagree). */
uint64_t sg_strmap_hash(const struct sg_strmap *m, const char *key);
/* Calls fn for every entry; fn must not modify the map. */
void sg_strmap_each(const struct sg_strmap *m, void (*fn)(const char *key, void *value, void *arg),
                    void *arg);

#endif
