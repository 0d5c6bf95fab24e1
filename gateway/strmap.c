#include <stdlib.h>
#include <string.h>

#include "snapgate/common.h"
#include "strmap.h"

/* FNV-1a: short keys, no adversarial control over table size beyond memory. The
 * seed-free hash is acceptable because chains are bounded by resizing, and task
 * ids only reach the table after authentication. */
static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

void sg_strmap_init(struct sg_strmap *m)
{
    m->nbuckets = 64;
    m->count = 0;
    m->buckets = sg_xcalloc(m->nbuckets, sizeof(*m->buckets));
}

void sg_strmap_destroy(struct sg_strmap *m)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct sg_strmap_node *n = m->buckets[i];
        while (n) {
            struct sg_strmap_node *next = n->next;
            free(n);
            n = next;
        }
    }
    free(m->buckets);
    m->buckets = NULL;
    m->nbuckets = m->count = 0;
}

static struct sg_strmap_node **find_slot(const struct sg_strmap *m, const char *key, uint64_t h)
{
    struct sg_strmap_node **slot = &m->buckets[h & (m->nbuckets - 1)];
    while (*slot && ((*slot)->hash != h || strcmp((*slot)->key, key) != 0))
        slot = &(*slot)->next;
    return slot;
}

static void grow(struct sg_strmap *m)
{
    size_t nb = m->nbuckets * 2;
    struct sg_strmap_node **b = sg_xcalloc(nb, sizeof(*b));
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct sg_strmap_node *n = m->buckets[i];
        while (n) {
            struct sg_strmap_node *next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
            n = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
}

void *sg_strmap_get(const struct sg_strmap *m, const char *key)
{
    struct sg_strmap_node *n = *find_slot(m, key, hash_key(key));
    return n ? n->value : NULL;
}

void *sg_strmap_put(struct sg_strmap *m, const char *key, void *value)
{
    uint64_t h = hash_key(key);
    struct sg_strmap_node **slot = find_slot(m, key, h);
    if (*slot) {
        void *old = (*slot)->value;
        (*slot)->value = value;
        return old;
    }
    size_t klen = strlen(key);
    struct sg_strmap_node *n = sg_xmalloc(sizeof(*n) + klen + 1);
    n->next = NULL;
    n->hash = h;
    n->value = value;
    memcpy(n->key, key, klen + 1);
    *slot = n;
    if (++m->count > m->nbuckets)
        grow(m);
    return NULL;
}

void *sg_strmap_del(struct sg_strmap *m, const char *key)
{
    struct sg_strmap_node **slot = find_slot(m, key, hash_key(key));
    struct sg_strmap_node *n = *slot;
    if (!n)
        return NULL;
    void *value = n->value;
    *slot = n->next;
    free(n);
    m->count--;
    return value;
}

void sg_strmap_each(const struct sg_strmap *m, void (*fn)(const char *key, void *value, void *arg),
                    void *arg)
{
    for (size_t i = 0; i < m->nbuckets; i++)
        for (struct sg_strmap_node *n = m->buckets[i]; n; n = n->next)
            fn(n->key, n->value, arg);
}
