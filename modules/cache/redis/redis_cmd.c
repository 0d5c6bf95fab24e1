/* The cache ops as Redis commands on the worker's command connection.
 *
 * Every command is a small heap record with our own timer (redis.timeout):
 * whichever of the reply and the timer comes first completes it (`done`), the
 * other only lets go; the record is freed when hiredis has let go too (it calls
 * every reply callback exactly once: with the reply, or with NULL when the
 * connection is freed). A timer that fires drops the connection, so the other
 * commands pending on it fail at once instead of each waiting for its timer.
 *
 * Calls fail fast, synchronously with SG_ERR and without a callback, while the
 * connection is not ready (connecting, down, circuit open) or the worker stops:
 * nothing is queued into a socket that is not known to answer. */
#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/cache_codec.h"
#include "redis.h"
#include "snapgate/common.h"
#include "snapgate/log.h"

#define LOG_MOD "redis"

/* Deletes the lease only while it still holds our token: a lease that expired
 * and was taken by another replica is not ours to drop. */
static const char release_script[] =
    "if redis.call('get',KEYS[1])==ARGV[1] then return redis.call('del',KEYS[1]) else return 0 end";

enum cmd_kind { CMD_GET, CMD_LEASE, CMD_WRITE, CMD_RAW };

struct rcmd {
    struct sg_redis_inst *r;
    redisAsyncContext *ac; /* the connection it went out on */
    enum cmd_kind kind;
    bool done;       /* the outcome is delivered (reply, timer or teardown) */
    bool in_hiredis; /* hiredis still holds the record: its callback is to come */
    struct event *timer;
    sg_cache_get_cb get_cb;
    sg_cache_lease_cb lease_cb;
    sg_redis_reply_fn raw_fn; /* CMD_RAW: reads the reply itself (NULL: nobody listens) */
    void *arg;
    uint64_t lease_ttl_ms;
    char key[]; /* the core's key */
};

static void deliver(struct rcmd *c, int rc, struct sg_cache_entry *e)
{
    if (c->kind == CMD_GET && c->get_cb)
        c->get_cb(rc, e, c->arg);
    else if (c->kind == CMD_LEASE && c->lease_cb)
        c->lease_cb(rc, c->arg);
    else if (c->kind == CMD_RAW && c->raw_fn)
        c->raw_fn(c->r, NULL, c->arg); /* only failures come this way */
    else
        sg_cache_entry_put(e);
}

static void lease_remember(struct sg_redis_inst *r, const char *key, uint64_t ttl_ms)
{
    uint64_t *until = sg_strmap_get(&r->leases, key);
    if (!until) {
        until = sg_xmalloc(sizeof(*until));
        sg_strmap_put(&r->leases, key, until);
    }
    *until = sg_wall_ms() + ttl_ms;
}

static void complete_get(struct rcmd *c, const redisReply *rep)
{
    struct sg_redis_inst *r = c->r;
    if (rep->type == REDIS_REPLY_NIL) {
        deliver(c, SG_DECLINED, NULL);
        return;
    }
    if (rep->type != REDIS_REPLY_STRING) {
        r->errors++;
        deliver(c, SG_ERR, NULL);
        return;
    }
    const char *why = NULL;
    struct sg_cache_entry *e = sg_cache_codec_decode(rep->str, rep->len, &why);
    if (!e) {
        /* A miss: the fetch that follows overwrites the bad value. */
        r->errors++;
        if (!r->warned_corrupt)
            sg_log_warn(LOG_MOD, "unreadable entry under %s%s (%s): treated as a miss",
                        SG_REDIS_TASK_PREFIX, c->key, why);
        else
            sg_log_debug(LOG_MOD, "unreadable entry under %s%s (%s)", SG_REDIS_TASK_PREFIX, c->key,
                         why);
        r->warned_corrupt = true;
        deliver(c, SG_DECLINED, NULL);
        return;
    }
    deliver(c, sg_wall_ms() < e->expires_at_ms ? SG_OK : SG_DECLINED, e);
}

static void complete(struct rcmd *c, const redisReply *rep)
{
    struct sg_redis_inst *r = c->r;
    if (!rep) {
        /* The connection went away; the link counts that once toward the circuit. */
        r->errors++;
        deliver(c, SG_ERR, NULL);
        return;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        r->errors++;
        sg_log_debug(LOG_MOD, "command on %s refused: %s", c->key, rep->str);
        sg_redis_note_failure(r);
        deliver(c, SG_ERR, NULL);
        return;
    }
    if (c->ac == r->cmd.ac)
        r->failures = 0;
    switch (c->kind) {
    case CMD_GET:
        complete_get(c, rep);
        break;
    case CMD_LEASE:
        if (rep->type == REDIS_REPLY_STATUS && !strcmp(rep->str, "OK")) {
            lease_remember(r, c->key, c->lease_ttl_ms);
            deliver(c, SG_OK, NULL);
        } else if (rep->type == REDIS_REPLY_NIL) {
            deliver(c, SG_DENIED, NULL);
        } else {
            r->errors++;
            deliver(c, SG_ERR, NULL);
        }
        break;
    case CMD_WRITE:
        break;
    case CMD_RAW:
        if (c->raw_fn)
            c->raw_fn(r, rep, c->arg);
        break;
    }
}

static void on_cmd_reply(redisAsyncContext *ac, void *reply, void *arg)
{
    (void)ac;
    struct rcmd *c = arg;
    c->in_hiredis = false;
    if (!c->done) {
        c->done = true;
        evtimer_del(c->timer);
        complete(c, reply);
    }
    event_free(c->timer);
    free(c);
}

static void on_cmd_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rcmd *c = arg;
    struct sg_redis_inst *r = c->r;
    c->done = true;
    r->errors++;
    /* Dropped before the caller hears of it, so what it does next fails fast;
     * dropping counts the failure toward the circuit (once per connection).
     * The record stays until hiredis hands it back (with NULL) from on_reap. */
    sg_redis_link_kill(&r->cmd, c->ac, "a command got no answer within redis.timeout");
    deliver(c, SG_ERR, NULL);
}

struct cmd_args {
    enum cmd_kind kind;
    const char *key;
    int argc;
    const char **argv;
    const size_t *lens;
};

/* Sends a command; NULL when it must fail fast (nothing sent, no callback). */
static struct rcmd *cmd_send(struct sg_redis_inst *r, const struct cmd_args *a)
{
    struct sg_redis_link *l = &r->cmd;
    if (r->closing || !l->ready || r->circuit_open)
        return NULL;
    size_t klen = strlen(a->key);
    struct rcmd *c = sg_xcalloc(1, sizeof(*c) + klen + 1);
    memcpy(c->key, a->key, klen + 1);
    c->r = r;
    c->ac = l->ac;
    c->kind = a->kind;
    if (redisAsyncCommandArgv(l->ac, on_cmd_reply, c, a->argc, a->argv, a->lens) != REDIS_OK) {
        /* hiredis is tearing the connection down already. */
        free(c);
        r->errors++;
        sg_redis_link_kill(l, l->ac, "connection refuses commands");
        return NULL;
    }
    c->in_hiredis = true;
    c->timer = evtimer_new(r->base, on_cmd_timeout, c);
    struct timeval tv = sg_timeval_ms(r->timeout_ms);
    evtimer_add(c->timer, &tv);
    return c;
}

int sg_redis_send(struct sg_redis_inst *r, const char *key, int argc, const char **argv,
                  const size_t *lens, sg_redis_reply_fn fn, void *arg)
{
    const struct cmd_args a = {CMD_RAW, key, argc, argv, lens};
    struct rcmd *c = cmd_send(r, &a);
    if (!c)
        return SG_ERR;
    c->raw_fn = fn;
    c->arg = arg;
    return SG_AGAIN;
}

/* Fire-and-forget: the outcome only shows in the counters. */
static int write_cmd(struct sg_redis_inst *r, const char *key, int argc, const char **argv,
                     const size_t *lens)
{
    const struct cmd_args a = {CMD_WRITE, key, argc, argv, lens};
    return cmd_send(r, &a) ? SG_OK : SG_ERR;
}

static int redis_get(void *inst, const char *key, struct sg_cache_entry **out, sg_cache_get_cb cb,
                     void *arg)
{
    struct sg_redis_inst *r = inst;
    *out = NULL;
    char *k = sg_xasprintf(SG_REDIS_TASK_PREFIX "%s", key);
    const char *argv[] = {"GET", k};
    const size_t lens[] = {3, strlen(k)};
    const struct cmd_args a = {CMD_GET, key, 2, argv, lens};
    struct rcmd *c = cmd_send(r, &a);
    free(k);
    if (!c)
        return SG_ERR;
    c->get_cb = cb;
    c->arg = arg;
    return SG_AGAIN;
}

static int redis_put(void *inst, const char *key, struct sg_cache_entry *e, uint64_t fresh_ms,
                     uint64_t keep_ms)
{
    (void)fresh_ms; /* freshness travels in the entry: e->expires_at_ms */
    struct sg_redis_inst *r = inst;
    if (keep_ms == 0)
        return SG_OK;
    size_t vlen;
    char *v = sg_cache_codec_encode(e, &vlen);
    char *k = sg_xasprintf(SG_REDIS_TASK_PREFIX "%s", key);
    char *px = sg_xasprintf("%llu", (unsigned long long)keep_ms);
    const char *argv[] = {"SET", k, v, "PX", px};
    const size_t lens[] = {3, strlen(k), vlen, 2, strlen(px)};
    int rc = write_cmd(r, key, 5, argv, lens);
    free(px);
    free(k);
    free(v);
    return rc;
}

static int redis_del(void *inst, const char *key)
{
    char *k = sg_xasprintf(SG_REDIS_TASK_PREFIX "%s", key);
    const char *argv[] = {"DEL", k};
    const size_t lens[] = {3, strlen(k)};
    int rc = write_cmd(inst, key, 2, argv, lens);
    free(k);
    return rc;
}

static int redis_lease(void *inst, const char *key, uint64_t ttl_ms, sg_cache_lease_cb cb,
                       void *arg)
{
    struct sg_redis_inst *r = inst;
    if (ttl_ms == 0)
        return SG_ERR;
    char *k = sg_xasprintf(SG_REDIS_LEASE_PREFIX "%s", key);
    char *px = sg_xasprintf("%llu", (unsigned long long)ttl_ms);
    const char *argv[] = {"SET", k, r->token, "NX", "PX", px};
    const size_t lens[] = {3, strlen(k), strlen(r->token), 2, 2, strlen(px)};
    const struct cmd_args a = {CMD_LEASE, key, 6, argv, lens};
    struct rcmd *c = cmd_send(r, &a);
    free(px);
    free(k);
    if (!c)
        return SG_ERR;
    c->lease_cb = cb;
    c->arg = arg;
    c->lease_ttl_ms = ttl_ms;
    return SG_AGAIN;
}

static void redis_release(void *inst, const char *key)
{
    struct sg_redis_inst *r = inst;
    uint64_t *until = sg_strmap_del(&r->leases, key);
    if (!until)
        return;
    bool live = sg_wall_ms() < *until;
    free(until);
    if (!live)
        return; /* expired on its own: maybe another replica's by now */
    char *k = sg_xasprintf(SG_REDIS_LEASE_PREFIX "%s", key);
    const char *argv[] = {"EVAL", release_script, "1", k, r->token};
    const size_t lens[] = {4, sizeof(release_script) - 1, 1, strlen(k), strlen(r->token)};
    /* When it cannot be sent, the lease simply runs out its TTL. */
    write_cmd(r, key, 5, argv, lens);
    free(k);
}

static int redis_purge(void *inst, const char *key)
{
    struct sg_redis_inst *r = inst;
    if (redis_del(r, key) != SG_OK)
        return SG_ERR;
    const char *argv[] = {"PUBLISH", SG_REDIS_PURGE_CHANNEL, key};
    const size_t lens[] = {7, strlen(SG_REDIS_PURGE_CHANNEL), strlen(key)};
    return write_cmd(r, key, 3, argv, lens);
}

static void redis_on_purge(void *inst, sg_cache_purge_fn fn, void *ctx)
{
    struct sg_redis_inst *r = inst;
    r->purge_fn = fn;
    r->purge_ctx = ctx;
}

static void redis_stats(void *inst, struct sg_cache_stats *out)
{
    const struct sg_redis_inst *r = inst;
    out->errors = r->errors;
    out->reconnects = r->reconnects;
    out->connected = r->cmd.ready;
    out->circuit_open = r->circuit_open;
}

static void free_lease(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    free(value);
}

void sg_redis_leases_clear(struct sg_redis_inst *r)
{
    sg_strmap_each(&r->leases, free_lease, NULL);
    sg_strmap_destroy(&r->leases);
}

const struct sg_cache_ops sg_redis_ops = {
    .get = redis_get,
    .put = redis_put,
    .del = redis_del,
    .lease = redis_lease,
    .release = redis_release,
    .purge = redis_purge,
    .on_purge = redis_on_purge,
    .stats = redis_stats,
    .kv_get = sg_redis_kv_get,
    .kv_set = sg_redis_kv_set,
    .kv_del = sg_redis_kv_del,
};
