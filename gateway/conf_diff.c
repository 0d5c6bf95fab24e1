/* What a reload may change: auth, allow-list, TTLs, log settings. Listeners,
 * workers, the local tier's size and backends are built once per process, so
 * changing them is refused (with the key named) rather than half-applied. */
#include <stdbool.h>
#include <string.h>

#include "server.h"

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool backend_eq(const struct sg_conf_backend *a, const struct sg_conf_backend *b)
{
    return str_eq(a->name, b->name) && str_eq(a->url, b->url) && a->dialect == b->dialect &&
           str_eq(a->release, b->release) && str_eq(a->username, b->username) &&
           str_eq(a->password, b->password) && str_eq(a->tls_ca_file, b->tls_ca_file) &&
           a->tls_verify == b->tls_verify && a->connect_timeout_ms == b->connect_timeout_ms &&
           a->request_timeout_ms == b->request_timeout_ms;
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
    if (cur->backends_n != next->backends_n)
        return "backends changed (reloading backends is not supported yet: restart)";
    for (size_t i = 0; i < cur->backends_n; i++)
        if (!backend_eq(&cur->backends[i], &next->backends[i]))
            return "backends changed (reloading backends is not supported yet: restart)";
    return NULL;
}
