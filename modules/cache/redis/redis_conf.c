/* The `redis` config section: the URL, and the host name resolved here.
 *
 * hiredis 0.14 resolves names blocking inside redisAsyncConnect, which would
 * stall a worker's loop on every reconnect. So the name is resolved once, while
 * the config is loaded (no loop runs yet), and workers connect to the numeric
 * address. A name that does not resolve is a config error: snapgate -t and
 * SIGHUP report it, and the old config stays on a reload. A Redis that moves to
 * another address therefore takes a reload (SIGHUP) to follow. */
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "redis.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"

/* The first address of host, as numeric text (IPv4 before IPv6, as hiredis
 * itself would try); NULL and *why on failure. */
static char *resolve(const char *host, const char **why)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    char buf[NI_MAXHOST];
    char *out = NULL;
    const int families[] = {AF_INET, AF_INET6};
    int rc = EAI_NONAME;
    for (size_t i = 0; i < SG_ARRAY_LEN(families) && !out; i++) {
        hints.ai_family = families[i];
        rc = getaddrinfo(host, NULL, &hints, &res);
        if (rc != 0)
            continue;
        if (getnameinfo(res->ai_addr, res->ai_addrlen, buf, sizeof(buf), NULL, 0, NI_NUMERICHOST) ==
            0)
            out = sg_xstrdup(buf);
        freeaddrinfo(res);
    }
    if (!out)
        *why = gai_strerror(rc);
    return out;
}

void sg_redis_free_conf(void *priv)
{
    struct sg_redis_conf *rc = priv;
    if (!rc)
        return;
    sg_redis_url_clear(&rc->url);
    free(rc->addr);
    free(rc);
}

int sg_redis_conf_hook(const struct sg_conf_node *node, const char *path,
                       const struct sg_conf *conf, struct sg_conf_errs *errs, void **priv)
{
    (void)conf;
    struct sg_redis_conf *rc = sg_xcalloc(1, sizeof(*rc));
    char *url = NULL;
    char why[160];
    *priv = NULL;
    char *upath = sg_xasprintf("%s.url", path ? path : "redis");
    const struct sg_conf_node *n = sg_conf_node_get(node, "url");
    if (!n) {
        sg_conf_errs_add(errs, node ? node->line : 0, upath, "is required");
        goto fail;
    }
    if (sg_conf_read_string(n, upath, errs, &url) != SG_OK)
        goto fail;
    if (sg_redis_url_parse(url, &rc->url, why, sizeof(why)) != SG_OK) {
        sg_conf_errs_add(errs, n->line, upath, "%s", why);
        goto fail;
    }
    if (rc->url.host) {
        const char *gai = NULL;
        rc->addr = resolve(rc->url.host, &gai);
        if (!rc->addr) {
            sg_conf_errs_add(errs, n->line, upath, "cannot resolve '%s': %s", rc->url.host, gai);
            goto fail;
        }
    }
    rc->timeout_ms = SG_REDIS_DEFAULT_TIMEOUT_MS;
    const struct sg_conf_node *t = sg_conf_node_get(node, "timeout");
    if (t) {
        char *tpath = sg_xasprintf("%s.timeout", path ? path : "redis");
        int trc = sg_conf_read_duration_ms(t, tpath, errs, &rc->timeout_ms);
        free(tpath);
        if (trc != SG_OK)
            goto fail;
    }
    sg_wipe_free(url);
    free(upath);
    *priv = rc;
    return SG_OK;
fail:
    sg_wipe_free(url);
    free(upath);
    sg_redis_free_conf(rc);
    return SG_ERR;
}

bool sg_redis_conf_equal(const void *a, const void *b)
{
    const struct sg_redis_conf *x = a, *y = b;
    if (!x || !y)
        return x == y;
    /* The URL is compared as written by the core; what it resolved to and the
     * timeout are the module's. */
    return x->timeout_ms == y->timeout_ms &&
           !strcmp(x->addr ? x->addr : "", y->addr ? y->addr : "");
}
