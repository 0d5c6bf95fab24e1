/* The redis section: the shared tier. The core checks the key names and
 * types; the cache/redis module's hook parses the URL (it knows what hiredis
 * can connect to) and keeps what it needs as its priv. */
#include "conf/conf_internal.h"
#include "snapgate/common.h"
#include "snapgate/module.h"

void sg_conf_redis_finish(const struct sg_conf_node *root, struct sg_conf *conf,
                          struct sg_conf_errs *errs)
{
    const struct sg_conf_node *redis = sg_conf_node_get(root, "redis");
    const struct sg_conf_node *cache = sg_conf_node_get(root, "cache");
    const struct sg_conf_node *local = cache ? sg_conf_node_get(cache, "local") : NULL;
    const struct sg_conf_node *max_ttl = local ? sg_conf_node_get(local, "max_ttl") : NULL;

    if (!redis || redis->type != SG_NODE_MAP) {
        /* Alone, the local tier is the cache and keeps answers for their full
         * TTL: a bound meant for the tier in front of Redis would do nothing. */
        if (max_ttl)
            sg_conf_errs_add(errs, max_ttl->line, "cache.local.max_ttl",
                             "applies only in front of redis (without redis the in-process "
                             "tier is the whole cache and keeps answers for their full TTL)");
        return;
    }
    const struct sg_conf_node *url = sg_conf_node_get(redis, "url");
    if (!url) {
        sg_conf_errs_add(errs, redis->line, "redis.url", "required key is missing");
        return;
    }
    const struct sg_module *m = sg_module_find(SG_MOD_CACHE, "redis");
    if (!m) {
        sg_conf_errs_add(errs, redis->line, "redis",
                         "Redis is not supported by this build (module cache/redis is not "
                         "compiled in)");
        return;
    }
    void *priv = NULL;
    if (m->conf(redis, "redis", conf, errs, &priv) != SG_OK) {
        if (m->free_conf && priv)
            m->free_conf(priv);
        return;
    }
    conf->shared_cache = m;
    conf->shared_cache_priv = priv;
    conf->redis_url = url->type == SG_NODE_SCALAR ? sg_xstrdup(url->scalar) : NULL;
}
