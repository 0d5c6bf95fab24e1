/* cache/redis: per-worker instances (two connections each) and the module's
 * registry entry. The layers run one way: this file starts and stops the
 * links (redis_link.c, which also keeps the circuit) and points at the cache
 * ops (redis_cmd.c, which send on the command link). */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "redis.h"
#include "snapgate/common.h"

static void fill_random(void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = getrandom((char *)buf + got, n - got, 0);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    if (got < n) {
        /* No entropy source: still distinct per worker and process. */
        uint64_t seed = sg_wall_ms() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)buf;
        for (size_t i = got; i < n; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            ((unsigned char *)buf)[i] = (unsigned char)(seed >> 56);
        }
    }
}

/* Starts both connections; neither is ready until its handshake answers, and
 * calls fail fast until then. */
static void *redis_worker_init(void *priv, struct sg_worker *w)
{
    const struct sg_redis_conf *rc = priv;
    struct sg_redis_inst *r = sg_xcalloc(1, sizeof(*r));
    r->base = sg_worker_base(w);
    r->addr = rc->addr ? sg_xstrdup(rc->addr) : NULL;
    r->path = rc->url.path ? sg_xstrdup(rc->url.path) : NULL;
    r->password = rc->url.password ? sg_xstrdup(rc->url.password) : NULL;
    r->port = rc->url.port;
    r->db = rc->url.db;
    r->timeout_ms = rc->timeout_ms ? rc->timeout_ms : SG_REDIS_DEFAULT_TIMEOUT_MS;
    unsigned char tok[16];
    fill_random(tok, sizeof(tok));
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(tok); i++) {
        r->token[2 * i] = hex[tok[i] >> 4];
        r->token[2 * i + 1] = hex[tok[i] & 15];
    }
    r->token[32] = '\0';
    fill_random(&r->rng, sizeof(r->rng));
    r->rng |= 1; /* xorshift must not start at 0 */
    sg_strmap_init(&r->leases);
    r->cmd.r = r;
    r->sub.r = r;
    r->sub.is_sub = true;
    sg_redis_link_start(&r->cmd);
    sg_redis_link_start(&r->sub);
    return r;
}

/* Commands still pending are completed with SG_ERR before this returns (their
 * callbacks run from here); none comes later. Must not be called from inside
 * one of this instance's callbacks. */
static void redis_worker_fini(void *inst)
{
    struct sg_redis_inst *r = inst;
    if (!r)
        return;
    r->closing = true;
    sg_redis_link_stop(&r->cmd);
    sg_redis_link_stop(&r->sub);
    sg_redis_leases_clear(r);
    if (r->password)
        explicit_bzero(r->password, strlen(r->password));
    free(r->password);
    free(r->path);
    free(r->addr);
    free(r);
}

const struct sg_module sg_module_cache_redis = {
    .name = "redis",
    .kind = SG_MOD_CACHE,
    .conf = sg_redis_conf_hook,
    .free_conf = sg_redis_free_conf,
    .conf_equal = sg_redis_conf_equal,
    .worker_init = redis_worker_init,
    .worker_fini = redis_worker_fini,
    .ops = &sg_redis_ops,
};
