/* What differs between two configs (conf_diff.h). A reload may change auth,
 * the allow-list, TTLs, log settings, routing and backends; the keys built
 * once per process are reported by name, for the reload to refuse. */
#include <stdbool.h>
#include <string.h>

#include "conf/conf_diff.h"
#include "snapgate/module.h"

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool sg_conf_backend_equal(const struct sg_conf_backend *a, const struct sg_conf_backend *b)
{
    return str_eq(a->name, b->name) && str_eq(a->url, b->url) && a->dialect == b->dialect &&
           (a->dialect && a->dialect->conf_equal
                ? a->dialect->conf_equal(a->dialect_priv, b->dialect_priv)
                : a->dialect_priv == b->dialect_priv) &&
           str_eq(a->username, b->username) && str_eq(a->password, b->password) &&
           str_eq(a->tls_ca_file, b->tls_ca_file) && a->tls_verify == b->tls_verify &&
           str_eq(a->tls_server_name, b->tls_server_name) &&
           a->connect_timeout_ms == b->connect_timeout_ms &&
           a->request_timeout_ms == b->request_timeout_ms &&
           a->pool_max_connections == b->pool_max_connections && a->retries_max == b->retries_max &&
           a->retry_budget_percent == b->retry_budget_percent &&
           a->health_enabled == b->health_enabled && str_eq(a->health_path, b->health_path) &&
           a->health_interval_ms == b->health_interval_ms &&
           a->health_timeout_ms == b->health_timeout_ms && a->health_rise == b->health_rise &&
           a->health_fall == b->health_fall && a->outlier_failures == b->outlier_failures &&
           a->outlier_ejection_ms == b->outlier_ejection_ms;
}

static bool backends_equal(const struct sg_conf *cur, const struct sg_conf *next)
{
    if (cur->backends_n != next->backends_n)
        return false;
    for (size_t i = 0; i < cur->backends_n; i++)
        if (!sg_conf_backend_equal(&cur->backends[i], &next->backends[i]))
            return false;
    return true;
}

static const char *fixed_key(const struct sg_conf *cur, const struct sg_conf *next)
{
    if (!str_eq(cur->listen, next->listen))
        return "listen";
    if (!str_eq(cur->admin_listen, next->admin_listen))
        return "admin_listen";
    if (cur->workers != next->workers)
        return "workers";
    if (cur->local_max_entries != next->local_max_entries)
        return "cache.local.max_entries";
    if (!str_eq(cur->redis_url, next->redis_url) || cur->shared_cache != next->shared_cache ||
        (cur->shared_cache && cur->shared_cache->conf_equal &&
         !cur->shared_cache->conf_equal(cur->shared_cache_priv, next->shared_cache_priv)))
        return "redis";
    return NULL;
}

void sg_conf_diff(const struct sg_conf *cur, const struct sg_conf *next, struct sg_conf_diff *d)
{
    d->fixed_key = fixed_key(cur, next);
    d->backends_changed = !backends_equal(cur, next);
}
