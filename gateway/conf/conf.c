/* sg_conf_load: defaults, then the file, then the environment, validated as
 * one tree against the contract's schema (the tables below), every problem
 * collected; then the modules' conf hooks. sg_conf_free undoes it all. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "conf/conf_internal.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "snapgate/module.h"

#define C_OFF(field) offsetof(struct sg_conf, field)

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const log_formats[] = {"json", "text", NULL};

/* listen and admin_listen: kept as given once host:port parses. */
static void read_hostport(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                          char **out)
{
    char q[SG_CONF_QUOTE_MAX];
    char *s, *host;
    uint16_t port;
    if (sg_conf_read_string(n, path, errs, &s) != SG_OK)
        return;
    if (sg_parse_hostport(s, &host, &port) != SG_OK) {
        sg_conf_errs_add(errs, n->line, path,
                         "%s is not an address to listen on (want HOST:PORT or [IPv6]:PORT, "
                         "port 1..65535)",
                         sg_conf_node_quote(n, q));
        free(s);
        return;
    }
    free(host);
    free(*out);
    *out = s;
}

static void read_listen(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                        void *target)
{
    read_hostport(n, path, errs, &((struct sg_conf *)target)->listen);
}

static void read_admin_listen(const struct sg_conf_node *n, const char *path,
                              struct sg_conf_errs *errs, void *target)
{
    read_hostport(n, path, errs, &((struct sg_conf *)target)->admin_listen);
}

static void read_workers(const struct sg_conf_node *n, const char *path, struct sg_conf_errs *errs,
                         void *target)
{
    uint64_t v;
    if (sg_conf_read_uint(n, path, errs, 1, 64, &v) == SG_OK)
        ((struct sg_conf *)target)->workers = (unsigned)v;
}

static const struct sg_conf_spec log_spec[] = {
    {.key = "level", .kind = SG_SPEC_ENUM, .off = C_OFF(log_level), .names = log_levels},
    {.key = "format", .kind = SG_SPEC_ENUM, .off = C_OFF(log_format), .names = log_formats},
    {0},
};

static const struct sg_conf_spec ttl_spec[] = {
    {.key = "pending", .kind = SG_SPEC_DURATION, .off = C_OFF(ttl_pending_ms), .min = 1},
    {.key = "running", .kind = SG_SPEC_DURATION, .off = C_OFF(ttl_running_ms), .min = 1},
    {.key = "blocked", .kind = SG_SPEC_DURATION, .off = C_OFF(ttl_blocked_ms), .min = 1},
    {.key = "terminal", .kind = SG_SPEC_DURATION, .off = C_OFF(ttl_terminal_ms), .min = 1},
    {.key = "not_found", .kind = SG_SPEC_DURATION, .off = C_OFF(ttl_not_found_ms), .min = 1},
    {0},
};

static const struct sg_conf_spec local_spec[] = {
    /* The cap keeps a typo from sizing a table past any machine's memory. */
    {.key = "max_entries",
     .kind = SG_SPEC_UINT,
     .off = C_OFF(local_max_entries),
     .min = 1,
     .max = 100000000},
    /* 0s means something here: the local tier keeps nothing in front of Redis. */
    {.key = "max_ttl", .kind = SG_SPEC_DURATION, .off = C_OFF(local_max_ttl_ms), .min = 0},
    {0},
};

static const struct sg_conf_spec cache_spec[] = {
    {.key = "ttl", .kind = SG_SPEC_MAP, .sub = ttl_spec},
    /* 0s: never serve stale. */
    {.key = "stale_if_error", .kind = SG_SPEC_DURATION, .off = C_OFF(stale_if_error_ms), .min = 0},
    {.key = "local", .kind = SG_SPEC_MAP, .sub = local_spec},
    {0},
};

static const struct sg_conf_spec shutdown_spec[] = {
    {.key = "drain_timeout", .kind = SG_SPEC_DURATION, .off = C_OFF(drain_timeout_ms), .min = 1},
    {0},
};

static const char *const redis_on_error[] = {"bypass", "reject", NULL};

static const struct sg_conf_spec redis_spec[] = {
    {.key = "url", .kind = SG_SPEC_MODULE},
    {.key = "timeout", .kind = SG_SPEC_MODULE},
    {.key = "on_error",
     .kind = SG_SPEC_ENUM,
     .off = C_OFF(redis_on_error),
     .names = redis_on_error},
    {0},
};

/* A bound against typos (12h written 12000h): a session id is a bearer secret,
 * and 30 days is already longer than any operator means it to live. */
#define SESSION_LIFETIME_MAX_MS (30ULL * 24 * 60 * 60 * 1000)

static const struct sg_conf_spec sessions_spec[] = {
    {.key = "idle_timeout",
     .kind = SG_SPEC_DURATION,
     .off = C_OFF(session_idle_ms),
     .min = 1,
     .max = SESSION_LIFETIME_MAX_MS},
    {.key = "max_lifetime",
     .kind = SG_SPEC_DURATION,
     .off = C_OFF(session_max_lifetime_ms),
     .min = 1,
     .max = SESSION_LIFETIME_MAX_MS},
    {0},
};

static const char *const routing_strategies[] = {"fanout", "header", NULL};

static const struct sg_conf_spec routing_spec[] = {
    {.key = "strategy", .kind = SG_SPEC_ENUM, .off = C_OFF(routing), .names = routing_strategies},
    {.key = "owner_ttl", .kind = SG_SPEC_DURATION, .off = C_OFF(owner_ttl_ms), .min = 1},
    {0},
};

static const struct sg_conf_spec top_spec[] = {
    {.key = "listen", .kind = SG_SPEC_CUSTOM, .custom = read_listen},
    {.key = "admin_listen", .kind = SG_SPEC_CUSTOM, .custom = read_admin_listen},
    {.key = "workers", .kind = SG_SPEC_CUSTOM, .custom = read_workers},
    /* A cap far past any descriptor limit would be no cap at all. */
    {.key = "max_connections",
     .kind = SG_SPEC_UINT,
     .off = C_OFF(max_connections),
     .min = 1,
     .max = 1000000},
    {.key = "log", .kind = SG_SPEC_MAP, .sub = log_spec},
    {.key = "redis", .kind = SG_SPEC_MAP, .sub = redis_spec},
    {.key = "cache", .kind = SG_SPEC_MAP, .sub = cache_spec},
    {.key = "auth", .kind = SG_SPEC_CUSTOM, .custom = sg_conf_auth_read},
    {.key = "backends", .kind = SG_SPEC_CUSTOM, .custom = sg_conf_backends_read},
    {.key = "routing", .kind = SG_SPEC_MAP, .sub = routing_spec},
    {.key = "sessions", .kind = SG_SPEC_MAP, .sub = sessions_spec},
    {.key = "shutdown", .kind = SG_SPEC_MAP, .sub = shutdown_spec},
    {0},
};

static struct sg_conf *conf_defaults(const char *path)
{
    struct sg_conf *c = sg_xcalloc(1, sizeof(*c));
    c->path = path ? sg_xstrdup(path) : NULL;
    c->listen = sg_xstrdup("127.0.0.1:8080");
    c->admin_listen = sg_xstrdup("127.0.0.1:9901");
    c->workers = 1;
    c->max_connections = 10000;
    c->log_level = SG_LOG_INFO;
    c->log_format = SG_LOG_JSON;
    c->ttl_pending_ms = 1000;
    c->ttl_running_ms = 1000;
    c->ttl_blocked_ms = 5000;
    c->ttl_terminal_ms = 24 * 60 * 60 * 1000;
    c->ttl_not_found_ms = 30 * 1000;
    c->local_max_entries = 100000;
    c->local_max_ttl_ms = 1000;
    c->stale_if_error_ms = 5 * 60 * 1000;
    c->redis_on_error = SG_REDIS_BYPASS;
    c->auth_realm = sg_xstrdup("snapgate");
    c->drain_timeout_ms = 20 * 1000;
    c->routing = SG_ROUTE_FANOUT;
    c->owner_ttl_ms = 24 * 60 * 60 * 1000;
    c->session_idle_ms = 30 * 60 * 1000;
    c->session_max_lifetime_ms = 12 * 60 * 60 * 1000;
    return c;
}

static bool is_wildcard(const char *host)
{
    return !strcmp(host, "0.0.0.0") || !strcmp(host, "::");
}

/* The admin port must never be the client port: the same port on the same
 * host, or on a wildcard that covers the other, is one socket. */
static void check_listeners(const struct sg_conf_node *root, const struct sg_conf *conf,
                            struct sg_conf_errs *errs)
{
    char *h1 = NULL, *h2 = NULL;
    uint16_t p1, p2;
    if (sg_parse_hostport(conf->listen, &h1, &p1) != SG_OK ||
        sg_parse_hostport(conf->admin_listen, &h2, &p2) != SG_OK)
        goto fail;
    if (p1 == p2 && (!strcasecmp(h1, h2) || is_wildcard(h1) || is_wildcard(h2))) {
        const struct sg_conf_node *n = sg_conf_node_get(root, "admin_listen");
        const char *path = n ? "admin_listen" : "listen";
        if (!n)
            n = sg_conf_node_get(root, "listen");
        sg_conf_errs_add(errs, n ? n->line : 0, path,
                         "listen \"%s\" and admin_listen \"%s\" are the same address (the admin "
                         "port must be separate)",
                         conf->listen, conf->admin_listen);
    }
fail:
    free(h1);
    free(h2);
}

/* Whether n (when present) is what was read into v. */
static bool read_as(const struct sg_conf_node *n, uint64_t v)
{
    uint64_t got;
    return !n || (n->type == SG_NODE_SCALAR && sg_parse_duration_ms(n->scalar, &got) == SG_OK &&
                  got == v);
}

/* A session ends at sessions.max_lifetime however it is used: an idle timeout
 * past it could never act, and most likely the two were swapped. Reported at
 * the key the file sets (idle_timeout when both are), with both values. */
static void check_sessions(const struct sg_conf_node *root, const struct sg_conf *conf,
                           struct sg_conf_errs *errs)
{
    if (conf->session_idle_ms <= conf->session_max_lifetime_ms)
        return;
    const struct sg_conf_node *sect = sg_conf_node_get(root, "sessions");
    const struct sg_conf_node *idle = sg_conf_node_get(sect, "idle_timeout");
    const struct sg_conf_node *max = sg_conf_node_get(sect, "max_lifetime");
    if (!read_as(idle, conf->session_idle_ms) || !read_as(max, conf->session_max_lifetime_ms))
        return; /* a value that did not read has its own error; the default stood in */
    char a[32], b[32];
    sg_conf_duration_text(conf->session_idle_ms, a);
    sg_conf_duration_text(conf->session_max_lifetime_ms, b);
    if (idle)
        sg_conf_errs_add(errs, idle->line, "sessions.idle_timeout",
                         "%s is longer than sessions.max_lifetime (%s%s): a session ends at its "
                         "max_lifetime however it is used",
                         a, b, max ? "" : ", the default");
    else
        sg_conf_errs_add(errs, max ? max->line : 0, "sessions.max_lifetime",
                         "%s is shorter than sessions.idle_timeout (%s, the default): set "
                         "idle_timeout to at most max_lifetime",
                         b, a);
}

struct sg_conf *sg_conf_load(const char *path, struct sg_conf_errs *errs)
{
    struct sg_conf *conf = NULL;
    struct sg_conf_node *root;
    errs->file = path ? path : "<defaults>";
    root = path ? sg_conf_tree_parse_file(path, errs) : sg_conf_node_new(SG_NODE_MAP, 1);
    if (!root)
        goto fail;
    if (root->type != SG_NODE_MAP && !sg_conf_node_is_null(root)) {
        sg_conf_errs_add(errs, root->line, "", "want a map of settings, got %s",
                         sg_conf_node_kind(root));
        goto fail;
    }
    if (root->type != SG_NODE_MAP) {
        /* A document of just "~": no settings. */
        sg_conf_tree_free(root);
        root = sg_conf_node_new(SG_NODE_MAP, 1);
    }
    sg_conf_env_apply(root, errs);

    conf = conf_defaults(path);
    sg_conf_walk(root, "", top_spec, conf, errs);
    check_listeners(root, conf, errs);
    check_sessions(root, conf, errs);
    /* Hooks last: they see the whole config, backends before the providers
     * that may delegate to them. */
    sg_conf_redis_finish(root, conf, errs);
    sg_conf_backends_finish(root, conf, errs);
    sg_conf_providers_finish(root, conf, errs);
    sg_conf_delegation_check(root, conf, errs);
fail:
    sg_conf_tree_free(root);
    if (errs->n > 0) {
        sg_conf_free(conf);
        return NULL;
    }
    return conf;
}

void sg_conf_free(struct sg_conf *conf)
{
    if (!conf)
        return;
    if (conf->shared_cache && conf->shared_cache->free_conf && conf->shared_cache_priv)
        conf->shared_cache->free_conf(conf->shared_cache_priv);
    if (conf->redis_url)
        OPENSSL_cleanse(conf->redis_url, strlen(conf->redis_url));
    free(conf->redis_url);
    for (size_t i = 0; i < conf->providers_n; i++) {
        struct sg_conf_auth_provider *p = &conf->providers[i];
        if (p->priv && p->module && p->module->free_conf)
            p->module->free_conf(p->priv);
    }
    free(conf->providers);
    for (size_t i = 0; i < conf->backends_n; i++)
        sg_conf_backend_clear(&conf->backends[i]);
    free(conf->backends);
    for (size_t i = 0; i < conf->auth_allow_n; i++)
        free(conf->auth_allow[i]);
    free(conf->auth_allow);
    free(conf->auth_realm);
    free(conf->listen);
    free(conf->admin_listen);
    free(conf->path);
    free(conf);
}
