/* What a reload may change: auth, allow-list, TTLs, log settings, routing and
 * backends. Listeners, workers, the local tier's size and Redis are built once
 * per process, so changing them is refused (with the key named) rather than
 * half-applied. */
#include <stdbool.h>
#include <string.h>

#include "server.h"

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool sg_conf_backend_equal(const struct sg_conf_backend *a, const struct sg_conf_backend *b)
{
    return str_eq(a->name, b->name) && str_eq(a->url, b->url) && a->dialect == b->dialect &&
           str_eq(a->release, b->release) && str_eq(a->username, b->username) &&
           str_eq(a->password, b->password) && str_eq(a->tls_ca_file, b->tls_ca_file) &&
           a->tls_verify == b->tls_verify && str_eq(a->tls_server_name, b->tls_server_name) &&
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

bool sg_conf_backends_equal(const struct sg_conf *cur, const struct sg_conf *next)
{
    if (cur->backends_n != next->backends_n)
        return false;
    for (size_t i = 0; i < cur->backends_n; i++)
        if (!sg_conf_backend_equal(&cur->backends[i], &next->backends[i]))
            return false;
    return true;
}

const char *sg_conf_restart_needed(const struct sg_conf *cur, const struct sg_conf *next)
{
    if (!str_eq(cur->listen, next->listen))
        return "listen changed (needs a restart)";
    if (!str_eq(cur->admin_listen, next->admin_listen))
        return "admin_listen changed (needs a restart)";
    if (cur->workers != next->workers)
        return "workers changed (needs a restart)";
    if (cur->local_max_entries != next->local_max_entries)
        return "cache.local.max_entries changed (needs a restart)";
    if (!str_eq(cur->redis_url, next->redis_url) || cur->redis_timeout_ms != next->redis_timeout_ms)
        return "redis changed (needs a restart)";
    return NULL;
}
