/* cache/memory: the per-worker, bounded LRU tier. It is the whole cache when no
 * Redis is configured, and the small tier in front of Redis otherwise. Each
 * worker has its own instance: no locks, entries never cross threads. */
#include <stdlib.h>

#include "snapgate/cache.h"
#include "snapgate/common.h"
#include "snapgate/module.h"
#include "snapgate/strmap.h"

struct mem_conf {
    uint64_t max_entries;
};

struct mem_item {
    struct mem_item *prev, *next; /* LRU: head is the most recently used */
    struct sg_cache_entry *entry;
    uint64_t fresh_until_ms; /* wall clock: served as fresh until then */
    uint64_t keep_until_ms;  /* then kept for stale use until then */
    char *key;               /* for eviction, which starts from the item */
};

struct mem_cache {
    struct sg_strmap map;
    struct mem_item *head, *tail;
    uint64_t max_entries;
};

static void lru_unlink(struct mem_cache *c, struct mem_item *it)
{
    if (it->prev)
        it->prev->next = it->next;
    else
        c->head = it->next;
    if (it->next)
        it->next->prev = it->prev;
    else
        c->tail = it->prev;
    it->prev = it->next = NULL;
}

static void lru_push_front(struct mem_cache *c, struct mem_item *it)
{
    it->prev = NULL;
    it->next = c->head;
    if (c->head)
        c->head->prev = it;
    c->head = it;
    if (!c->tail)
        c->tail = it;
}

static void item_drop(struct mem_cache *c, struct mem_item *it)
{
    lru_unlink(c, it);
    sg_strmap_del(&c->map, it->key);
    sg_cache_entry_put(it->entry);
    free(it->key);
    free(it);
}

static int mem_get(void *inst, const char *key, struct sg_cache_entry **out, sg_cache_get_cb cb,
                   void *arg)
{
    (void)cb;
    (void)arg;
    struct mem_cache *c = inst;
    struct mem_item *it = sg_strmap_get(&c->map, key);
    *out = NULL;
    if (!it)
        return SG_DECLINED;
    uint64_t now = sg_wall_ms();
    if (now >= it->keep_until_ms) {
        item_drop(c, it);
        return SG_DECLINED;
    }
    lru_unlink(c, it);
    lru_push_front(c, it);
    *out = sg_cache_entry_get(it->entry);
    /* Past its freshness the entry is a miss, handed over for stale use. */
    return now < it->fresh_until_ms ? SG_OK : SG_DECLINED;
}

static int mem_put(void *inst, const char *key, struct sg_cache_entry *e, uint64_t fresh_ms,
                   uint64_t keep_ms)
{
    struct mem_cache *c = inst;
    if (fresh_ms == 0 || c->max_entries == 0)
        return SG_OK;
    struct mem_item *it = sg_strmap_get(&c->map, key);
    if (it) {
        sg_cache_entry_put(it->entry);
        lru_unlink(c, it);
    } else {
        it = sg_xcalloc(1, sizeof(*it));
        it->key = sg_xstrdup(key);
        sg_strmap_put(&c->map, key, it);
    }
    it->entry = sg_cache_entry_get(e);
    uint64_t now = sg_wall_ms();
    it->fresh_until_ms = now + fresh_ms;
    it->keep_until_ms = now + (keep_ms > fresh_ms ? keep_ms : fresh_ms);
    lru_push_front(c, it);
    while (c->map.count > c->max_entries && c->tail)
        item_drop(c, c->tail);
    return SG_OK;
}

static int mem_del(void *inst, const char *key)
{
    struct mem_cache *c = inst;
    struct mem_item *it = sg_strmap_get(&c->map, key);
    if (it)
        item_drop(c, it);
    return SG_OK;
}

static int mem_conf(const struct sg_conf_node *node, const char *path, const struct sg_conf *conf,
                    struct sg_conf_errs *errs, void **priv)
{
    (void)node;
    (void)path;
    (void)errs;
    struct mem_conf *mc = sg_xcalloc(1, sizeof(*mc));
    mc->max_entries = conf->local_max_entries;
    *priv = mc;
    return SG_OK;
}

static void mem_free_conf(void *priv)
{
    free(priv);
}

static void *mem_worker_init(void *priv, struct sg_worker *w)
{
    (void)w;
    const struct mem_conf *mc = priv;
    struct mem_cache *c = sg_xcalloc(1, sizeof(*c));
    sg_strmap_init(&c->map);
    c->max_entries = mc->max_entries;
    return c;
}

static void mem_worker_fini(void *inst)
{
    struct mem_cache *c = inst;
    while (c->head)
        item_drop(c, c->head);
    sg_strmap_destroy(&c->map);
    free(c);
}

static const struct sg_cache_ops mem_ops = {
    .get = mem_get,
    .put = mem_put,
    .del = mem_del,
};

const struct sg_module sg_module_cache_memory = {
    .name = "memory",
    .kind = SG_MOD_CACHE,
    .conf = mem_conf,
    .free_conf = mem_free_conf,
    .worker_init = mem_worker_init,
    .worker_fini = mem_worker_fini,
    .ops = &mem_ops,
};
