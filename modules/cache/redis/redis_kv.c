/* The kv ops (struct sg_cache_ops kv_get, kv_set, kv_del): raw values under
 * SG_REDIS_KV_PREFIX, for the session store. Each is one command through
 * sg_redis_send, so it has the module's timer, fails fast while the link is
 * not ready or the circuit is open, and completes from the loop; this file
 * only turns the reply into the caller's outcome. A reply of an unexpected
 * type is an error (counted), never taken for a miss: a session check fails
 * closed on it. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis.h"
#include "snapgate/common.h"

enum kv_kind { KV_GET, KV_SET, KV_DEL };

struct kv_call {
    enum kv_kind kind;
    sg_cache_kv_get_cb get_cb;
    sg_cache_kv_cb cb;
    void *arg;
};

static void on_kv_reply(struct sg_redis_inst *r, const redisReply *rep, void *arg)
{
    struct kv_call *k = arg;
    int rc = SG_ERR;
    if (rep) {
        switch (k->kind) {
        case KV_GET:
            if (rep->type == REDIS_REPLY_STRING) {
                k->get_cb(SG_OK, rep->str, rep->len, k->arg);
                free(k);
                return;
            }
            if (rep->type == REDIS_REPLY_NIL)
                rc = SG_DECLINED;
            break;
        case KV_SET:
            /* SET ... NX / XX answers nil when its condition does not hold. */
            if (rep->type == REDIS_REPLY_STATUS && !strcmp(rep->str, "OK"))
                rc = SG_OK;
            else if (rep->type == REDIS_REPLY_NIL)
                rc = SG_DENIED;
            break;
        case KV_DEL:
            if (rep->type == REDIS_REPLY_INTEGER)
                rc = rep->integer > 0 ? SG_OK : SG_DENIED;
            break;
        }
        if (rc == SG_ERR)
            r->errors++; /* an answer of another type: nothing to trust */
    }
    if (k->kind == KV_GET)
        k->get_cb(rc, NULL, 0, k->arg);
    else if (k->cb)
        k->cb(rc, k->arg);
    free(k);
}

/* Sends argv (argv[1] is the full key); frees nothing of the caller's. */
static int kv_send(struct sg_redis_inst *r, const char *key, int argc, const char **argv,
                   const size_t *lens, struct kv_call *k)
{
    int rc = sg_redis_send(r, key, argc, argv, lens, on_kv_reply, k);
    if (rc != SG_AGAIN)
        free(k);
    return rc;
}

static struct kv_call *call_new(enum kv_kind kind, sg_cache_kv_cb cb, void *arg)
{
    struct kv_call *k = sg_xcalloc(1, sizeof(*k));
    k->kind = kind;
    k->cb = cb;
    k->arg = arg;
    return k;
}

int sg_redis_kv_get(void *inst, const char *key, sg_cache_kv_get_cb cb, void *arg)
{
    struct kv_call *k = call_new(KV_GET, NULL, arg);
    k->get_cb = cb;
    char *full = sg_xasprintf(SG_REDIS_KV_PREFIX "%s", key);
    const char *argv[] = {"GET", full};
    const size_t lens[] = {3, strlen(full)};
    int rc = kv_send(inst, key, 2, argv, lens, k);
    free(full);
    return rc;
}

int sg_redis_kv_set(void *inst, const char *key, const void *val, size_t len, uint64_t ttl_ms,
                    enum sg_cache_kv_when when, sg_cache_kv_cb cb, void *arg)
{
    /* A value without a TTL would outlive whatever it stands for. */
    if (ttl_ms == 0)
        return SG_ERR;
    char *full = sg_xasprintf(SG_REDIS_KV_PREFIX "%s", key);
    char px[24];
    snprintf(px, sizeof(px), "%llu", (unsigned long long)ttl_ms);
    const char *argv[] = {"SET", full, (const char *)val,
                          "PX",  px,   when == SG_KV_IF_ABSENT ? "NX" : "XX"};
    const size_t lens[] = {3, strlen(full), len, 2, strlen(px), 2};
    int argc = when == SG_KV_ALWAYS ? 5 : 6;
    int rc = kv_send(inst, key, argc, argv, lens, call_new(KV_SET, cb, arg));
    free(full);
    return rc;
}

int sg_redis_kv_del(void *inst, const char *key, sg_cache_kv_cb cb, void *arg)
{
    char *full = sg_xasprintf(SG_REDIS_KV_PREFIX "%s", key);
    const char *argv[] = {"DEL", full};
    const size_t lens[] = {3, strlen(full)};
    int rc = kv_send(inst, key, 2, argv, lens, call_new(KV_DEL, cb, arg));
    free(full);
    return rc;
}
