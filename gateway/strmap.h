/* A string-keyed hash map for per-worker tables (in-flight fetches, the local
 * cache). Not thread-safe by design: each worker owns its own maps. */
#ifndef SG_STRMAP_H
#define SG_STRMAP_H

#include <stddef.h>
#include <stdint.h>

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
};

void sg_strmap_init(struct sg_strmap *m);
/* Frees the nodes; values are the caller's (free them first via sg_strmap_each). */
void sg_strmap_destroy(struct sg_strmap *m);
void *sg_strmap_get(const struct sg_strmap *m, const char *key);
/* Inserts or replaces; returns the previous value or NULL. */
void *sg_strmap_put(struct sg_strmap *m, const char *key, void *value);
/* Removes; returns the removed value or NULL. */
void *sg_strmap_del(struct sg_strmap *m, const char *key);
/* Calls fn for every entry; fn must not modify the map. */
void sg_strmap_each(const struct sg_strmap *m, void (*fn)(const char *key, void *value, void *arg),
                    void *arg);

#endif
