/* Where answers go: the cache key of a task, the per-worker copy (bounded by
 * cache.local.max_ttl in front of a shared tier), and both tiers by status,
 * each kept past its freshness for stale_if_error and the fan-out owner. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_store.h"
#include "cache/progress_floor.h"
#include "normalize/datavalue.h"
#include "normalize/reply.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "cache/ttl.h"
#include "worker/wstate.h"

/* How long a tier keeps an entry past its freshness: for stale_if_error, and
 * for a fan-out the owner it names, so the task's next miss asks only that
 * backend (routing.owner_ttl). */
static uint64_t keep_for(const struct sg_conf *c, const struct sg_cache_entry *e, uint64_t fresh)
{
    uint64_t keep = fresh + c->stale_if_error_ms;
    if (c->routing == SG_ROUTE_FANOUT && c->backends_n > 1 && e->owner[0] && keep < c->owner_ttl_ms)
        keep = c->owner_ttl_ms;
    return keep;
}

void sg_cache_store_local(struct sg_wstate *ws, const char *key, struct sg_cache_entry *e)
{
    uint64_t now = sg_wall_ms();
    uint64_t remaining = e->expires_at_ms > now ? e->expires_at_ms - now : 0;
    uint64_t fresh =
        sg_ttl_local(ws->conf, ws->shared_ops != NULL, e->http_status, e->task_status, remaining);
    ws->local_ops->put(ws->local, key, e, fresh, keep_for(ws->conf, e, remaining));
}

char *sg_cache_key(const struct sg_conf *c, const char *task, int backend, char *out, size_t cap)
{
    if (backend >= 0) {
        snprintf(out, cap, "%s\x1e%s", task, c->backends[backend].name);
    } else {
        /* Every request, hits included: a copy, no formatting. */
        size_t len = strnlen(task, cap - 1);
        memcpy(out, task, len);
        out[len] = '\0';
    }
    return out;
}

void sg_cache_keys(const struct sg_conf *c, const char *task,
                   void (*fn)(const char *key, void *arg), void *arg)
{
    char key[SG_CACHE_KEY_MAX + 1];
    fn(task, arg);
    for (size_t i = 0; i < c->backends_n; i++)
        fn(sg_cache_key(c, task, (int)i, key, sizeof(key)), arg);
}

/* The entry's JSON-RPC answer, made here once so that no hit on either path
 * renders (snapgate/cache.h). The Info came from sg_info_canonicalize (every
 * normalized Info does), so it is encoded without checking that again. */
static void attach_rpc(struct sg_cache_entry *e, struct json_object *info)
{
    size_t dv_len = 0;
    char *dv = sg_dv_info_canonical(info, &dv_len);
    e->rpc = sg_dv_envelope_suffix(SG_DV_OUTPUT, dv, dv_len, &e->rpc_len);
    free(dv);
}

struct sg_cache_entry *sg_cache_store_answer(struct sg_wstate *ws, const char *key,
                                             const char *owner, struct sg_normalized *n,
                                             int64_t completed_floor, bool shared,
                                             enum sg_error *err)
{
    const struct sg_conf *c = ws->conf;
    uint64_t now = sg_wall_ms();
    struct sg_cache_entry *e = NULL;
    uint64_t ttl = 0;
    int64_t completed = -1;
    if (n->outcome == SG_OUT_INFO) {
        completed = sg_progress_apply_floor(n->info, completed_floor);
        size_t len = 0;
        const char *body = json_object_to_json_string_length(
            n->info, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        ttl = sg_ttl_for_status(c, n->status);
        e = sg_cache_entry_new(200, (int)n->status, body, len, now, now + ttl);
        attach_rpc(e, n->info);
    } else if (n->outcome == SG_OUT_NOT_FOUND) {
        const struct sg_error_reply *er = sg_error_reply(SG_E_NOT_FOUND);
        ttl = sg_ttl_not_found(c);
        e = sg_cache_entry_new(404, -1, er->body, er->len, now, now + ttl);
    } else {
        /* 401/403/5xx and garbage are never cached as anything. */
        *err = sg_error_for_outcome(n->outcome);
        return NULL;
    }
    snprintf(e->owner, sizeof(e->owner), "%s", owner);
    e->completed = completed;
    if (!shared)
        return e;
    sg_cache_store_local(ws, key, e);
    if (ws->shared_ops)
        ws->shared_ops->put(ws->shared, key, e, ttl, keep_for(c, e, ttl));
    return e;
}
