/* Lookups and purges across the two tiers (see lookup.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_store.h"
#include "cache/lookup.h"
#include "obs/metrics.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "worker/wstate.h"

/* A shared-tier lookup under way. */
struct shared_get {
    struct sg_wstate *ws;
    sg_lookup_cb cb;
    void *arg;
    char key[];
};

/* The shared tier's result: counted, a hit kept in the worker's tier. */
static enum sg_lookup shared_result(struct sg_wstate *ws, const char *key, int rc,
                                    struct sg_cache_entry *e)
{
    if (rc == SG_OK) {
        sg_metrics_cache(ws, "hit");
        if (!ws->stopping)
            sg_cache_store_local(ws, key, e);
        return SG_LOOKUP_HIT;
    }
    if (rc == SG_DECLINED) {
        sg_metrics_cache(ws, "miss");
        return SG_LOOKUP_MISS;
    }
    sg_metrics_cache(ws, "error");
    return SG_LOOKUP_FAILED;
}

static void on_shared_get(int rc, struct sg_cache_entry *e, void *arg)
{
    struct shared_get *g = arg;
    enum sg_lookup what = shared_result(g->ws, g->key, rc, e);
    g->cb(what, e, g->arg);
    free(g);
}

enum sg_lookup sg_cache_lookup(struct sg_wstate *ws, const char *key, struct sg_cache_entry **e,
                               struct sg_cache_entry **stale_local, sg_lookup_cb cb, void *arg)
{
    *e = NULL;
    *stale_local = NULL;
    struct sg_cache_entry *found = NULL;
    /* The hit path: one local lookup, no allocation, no JSON. */
    if (ws->local_ops->get(ws->local, key, &found, NULL, NULL) == SG_OK) {
        sg_metrics_cache(ws, "hit");
        *e = found;
        return SG_LOOKUP_HIT;
    }
    *stale_local = found;
    if (!ws->shared_ops) {
        sg_metrics_cache(ws, "miss");
        return SG_LOOKUP_MISS;
    }
    size_t klen = strlen(key);
    struct shared_get *g = sg_xmalloc(sizeof(*g) + klen + 1);
    g->ws = ws;
    g->cb = cb;
    g->arg = arg;
    memcpy(g->key, key, klen + 1);
    found = NULL;
    int rc = ws->shared_ops->get(ws->shared, key, &found, on_shared_get, g);
    if (rc == SG_AGAIN)
        return SG_LOOKUP_PENDING;
    free(g);
    *e = found;
    return shared_result(ws, key, rc, found);
}

static void drop_key(const char *key, void *arg)
{
    sg_cache_drop_local(arg, key);
}

struct purge_ctx {
    struct sg_wstate *ws;
    bool tell_shared;
};

static void purge_key(const char *key, void *arg)
{
    const struct purge_ctx *p = arg;
    drop_key(key, p->ws);
    if (p->tell_shared && p->ws->shared_ops &&
        p->ws->shared_ops->purge(p->ws->shared, key) != SG_OK)
        sg_log_warn("cache", "purge of a task could not reach the shared tier");
}

void sg_cache_purge(struct sg_wstate *ws, const char *task, bool tell_shared)
{
    struct purge_ctx p = {ws, tell_shared};
    /* Under header routing, and for delegated callers, a task is cached once
     * per backend too. */
    sg_cache_keys(ws->conf, task, purge_key, &p);
}

void sg_cache_drop_local(struct sg_wstate *ws, const char *key)
{
    ws->local_ops->del(ws->local, key);
}
