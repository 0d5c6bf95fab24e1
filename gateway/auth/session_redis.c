/* Sessions in the shared tier (Redis, through the cache ops' kv calls), so
 * every replica knows every session and a delete ends it everywhere. Each
 * session is one value under "session:<key>" with a TTL of the least of the
 * idle time and what is left of its lifetime: Redis itself forgets a session
 * that ended, and a check reads the times in the value too (a TTL computed
 * under an older config, or by a replica whose clock is off, decides nothing).
 *
 * A check is one GET. When it passes, the refreshed value goes back with SET
 * XX, fire-and-forget: the request does not wait for it, and XX never brings
 * back a session another replica deleted since the GET. Its refresh is
 * skipped while the stored access is under SG_SESSION_TOUCH_MS old.
 *
 * Any failure of the tier is SG_ERR (authentication fails closed); nothing
 * falls back to the process's table, which other replicas cannot see. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/session_int.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "worker/wstate.h"

#define KV_KEY_LEN (sizeof(SG_SESSION_KV_PREFIX) - 1 + SG_SESSION_KEY_LEN)

struct call {
    struct sg_wstate *ws;
    enum sg_session_op op;
    sg_session_cb cb;
    void *arg;
    struct sg_session_limits lim;
    uint64_t now_ms;
    struct sg_principal *out;
    struct sg_session_info *info;
    char *id; /* create: the caller's copy of the new id, wiped on failure */
    char kv_key[KV_KEY_LEN + 1];
};

static struct call *call_new(struct sg_wstate *ws, enum sg_session_op op, const char *key,
                             sg_session_cb cb, void *arg)
{
    struct call *c = sg_xcalloc(1, sizeof(*c));
    c->ws = ws;
    c->op = op;
    c->cb = cb;
    c->arg = arg;
    snprintf(c->kv_key, sizeof(c->kv_key), "%s%s", SG_SESSION_KV_PREFIX, key);
    return c;
}

static void call_end(struct call *c, int rc)
{
    struct sg_wstate *ws = c->ws;
    sg_session_cb cb = c->cb;
    void *arg = c->arg;
    enum sg_session_op op = c->op;
    free(c);
    sg_session_finish(ws, op, rc, cb, arg);
}

/* The tier has no kv calls: a build whose shared tier cannot hold sessions. */
static bool kv_missing(const struct sg_wstate *ws)
{
    const struct sg_cache_ops *o = ws->shared_ops;
    if (o && o->kv_get && o->kv_set && o->kv_del)
        return false;
    sg_log_error(LOG_MOD_SESSION, "the shared cache tier cannot hold sessions (no kv calls)");
    return true;
}

/* ---- create ------------------------------------------------------------------------ */

static void on_stored(int rc, void *arg)
{
    struct call *c = arg;
    if (rc == SG_DENIED) {
        /* SET NX found the key taken: two equal random ids. Never merged. */
        sg_log_error(LOG_MOD_SESSION, "a new session's key exists already: refused");
        rc = SG_ERR;
    }
    if (rc != SG_OK)
        OPENSSL_cleanse(c->id, SG_SESSION_ID_LEN + 1); /* never to be handed out */
    call_end(c, rc);
}

int sg_session_shared_create(struct sg_wstate *ws, const struct sg_session_limits *lim,
                             const char *key, const struct sg_principal *p, uint64_t now_ms,
                             char *id, sg_session_cb cb, void *arg)
{
    if (kv_missing(ws))
        return SG_ERR;
    size_t len;
    const char *why = NULL;
    unsigned char *val = sg_session_encode(p, now_ms, now_ms, &len, &why);
    if (!val) {
        sg_log_warn(LOG_MOD_SESSION, "cannot make a session for this principal: %s", why);
        return SG_ERR;
    }
    struct call *c = call_new(ws, SG_SESSION_OP_CREATE, key, cb, arg);
    c->id = id;
    uint64_t ttl = sg_session_ttl_ms(lim, now_ms, now_ms);
    int rc =
        ws->shared_ops->kv_set(ws->shared, c->kv_key, val, len, ttl, SG_KV_IF_ABSENT, on_stored, c);
    free(val);
    if (rc != SG_AGAIN) {
        free(c);
        return SG_ERR;
    }
    return SG_AGAIN;
}

/* ---- check ------------------------------------------------------------------------- */

/* Writes the value back with this access, unless the stored one is recent. */
static void touch(struct call *c, const struct sg_principal *p, uint64_t created_ms,
                  uint64_t last_ms)
{
    uint64_t window =
        c->lim.idle_ms / 10 < SG_SESSION_TOUCH_MS ? c->lim.idle_ms / 10 : SG_SESSION_TOUCH_MS;
    if (c->now_ms < last_ms + window)
        return;
    uint64_t ttl = sg_session_ttl_ms(&c->lim, created_ms, c->now_ms);
    size_t len;
    const char *why;
    unsigned char *val = sg_session_encode(p, created_ms, c->now_ms, &len, &why);
    if (!val || ttl == 0) {
        free(val);
        return;
    }
    /* When it cannot be sent, the session ends a little early: the next
     * check after the idle time denies it, as one after an outage would. */
    c->ws->shared_ops->kv_set(c->ws->shared, c->kv_key, val, len, ttl, SG_KV_IF_PRESENT, NULL,
                              NULL);
    free(val);
}

static void on_read(int rc, const char *val, size_t len, void *arg)
{
    struct call *c = arg;
    struct sg_wstate *ws = c->ws;
    if (rc != SG_OK) {
        call_end(c, rc == SG_DECLINED ? SG_DENIED : SG_ERR);
        return;
    }
    struct sg_principal p = {0};
    uint64_t created, last;
    const char *why = NULL;
    if (sg_session_decode(val, len, &p, &created, &last, &why) != SG_OK) {
        /* Not the id: the log never names one. The value stays for an
         * operator to look at, and ends with its TTL. */
        sg_log_warn(LOG_MOD_SESSION, "a stored session does not read (%s): refused", why);
        call_end(c, SG_DENIED);
        return;
    }
    if (sg_session_expired(&c->lim, created, last, c->now_ms)) {
        /* Ended by the rules before Redis forgot it (its TTL was set under a
         * longer config, or by a clock that was behind): forget it now. */
        if (!ws->stopping)
            ws->shared_ops->kv_del(ws->shared, c->kv_key, NULL, NULL);
        sg_principal_clear(&p);
        call_end(c, SG_DENIED);
        return;
    }
    if (!ws->stopping)
        touch(c, &p, created, last);
    memcpy(c->info->user, p.name, sizeof(c->info->user));
    c->info->created_ms = created;
    c->info->last_accessed_ms = c->now_ms > last ? c->now_ms : last;
    memcpy(c->out->name, p.name, sizeof(c->out->name));
    c->out->groups = p.groups; /* moved: p is not cleared */
    c->out->ngroups = p.ngroups;
    call_end(c, SG_OK);
}

int sg_session_shared_check(struct sg_wstate *ws, const struct sg_session_limits *lim,
                            const char *key, uint64_t now_ms, struct sg_principal *out,
                            struct sg_session_info *info, sg_session_cb cb, void *arg)
{
    if (kv_missing(ws))
        return SG_ERR;
    struct call *c = call_new(ws, SG_SESSION_OP_CHECK, key, cb, arg);
    c->lim = *lim;
    c->now_ms = now_ms;
    c->out = out;
    c->info = info;
    if (ws->shared_ops->kv_get(ws->shared, c->kv_key, on_read, c) != SG_AGAIN) {
        free(c);
        return SG_ERR;
    }
    return SG_AGAIN;
}

/* ---- delete ------------------------------------------------------------------------ */

static void on_deleted(int rc, void *arg)
{
    call_end(arg, rc);
}

int sg_session_shared_delete(struct sg_wstate *ws, const char *key, sg_session_cb cb, void *arg)
{
    if (kv_missing(ws))
        return SG_ERR;
    struct call *c = call_new(ws, SG_SESSION_OP_DELETE, key, cb, arg);
    if (ws->shared_ops->kv_del(ws->shared, c->kv_key, on_deleted, c) != SG_AGAIN) {
        free(c);
        return SG_ERR;
    }
    return SG_AGAIN;
}
