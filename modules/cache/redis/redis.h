/* cache/redis: the shared tier. This header joins the module's files and gives
 * the unit tests the pieces they drive directly.
 *
 * Key layout (version 1; a new layout takes a new prefix, never reuses this):
 *   snapgate:v3:task:<key>   string: an entry as snapgate/cache_codec.h writes
 *                            it, with a Redis TTL of keep_ms (PX)
 *   snapgate:v3:lease:<key>  string: the holder's random per-worker token, PX
 *                            the lease TTL; set with NX
 *   snapgate:v3:purge        pub/sub channel; a message is the raw <key>
 * <key> is the core's cache key (the task id), byte for byte.
 *   snapgate:kv:<key>        string: a raw value of the kv ops (the session
 *                            store's, gateway/auth/session.h), always with a
 *                            TTL (PX). The module never reads these values,
 *                            so their prefix carries no layout version: the
 *                            core versions <key> and the values itself, and a
 *                            new cache entry layout leaves sessions alone.
 *
 * Per worker: two async connections on the worker's event base, one for
 * commands and one subscribed to the purge channel. */
#ifndef SG_CACHE_REDIS_H
#define SG_CACHE_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapgate/cache.h"
#include "snapgate/conf.h"
#include "snapgate/module.h"
#include "snapgate/strmap.h"

extern const struct sg_module sg_module_cache_redis;

#define SG_REDIS_TASK_PREFIX "snapgate:v3:task:"
#define SG_REDIS_LEASE_PREFIX "snapgate:v3:lease:"
#define SG_REDIS_PURGE_CHANNEL "snapgate:v3:purge"

#define SG_REDIS_KV_PREFIX "snapgate:kv:"

#define SG_REDIS_DEFAULT_PORT 6379
#define SG_REDIS_DEFAULT_TIMEOUT_MS 250
/* Consecutive failures that open the circuit. */
#define SG_REDIS_CIRCUIT_FAILURES 5
/* Reconnect backoff: a uniform draw in [0, min(cap, base * 2^attempt)]. */
#define SG_REDIS_BACKOFF_BASE_MS 50
#define SG_REDIS_BACKOFF_CAP_MS 2000

/* ---- redis.url (redis_url.c) ----------------------------------------------- */

/* A parsed redis.url: exactly one of host and path is set. */
struct sg_redis_url {
    char *host;     /* TCP: a host name or address as written, without brackets */
    uint16_t port;  /* TCP: 6379 unless given */
    char *path;     /* unix: the socket path */
    char *password; /* percent-decoded; NULL when none */
    int db;         /* SELECT index, 0 unless given */
};

/* Parses "redis://[:password@]host[:port][/db]" (host a name, an IPv4 address or
 * [IPv6]) or "unix:///path/to.sock[?db=N]". Returns SG_OK with *out filled (the
 * caller clears it with sg_redis_url_clear), or SG_ERR with a reason in err
 * (cap bytes, NUL-terminated) that never contains the password. */
int sg_redis_url_parse(const char *url, struct sg_redis_url *out, char *err, size_t cap);
/* Frees what out holds (the password is wiped first) and zeroes it. */
void sg_redis_url_clear(struct sg_redis_url *u);

/* ---- parsed config (redis_conf.c) ------------------------------------------ */

struct sg_redis_conf {
    struct sg_redis_url url;
    char *addr; /* TCP: the numeric address url.host resolved to at config time */
    uint64_t timeout_ms;
};

/* The module's conf hook: node is the `redis` map, path its key path ("redis").
 * On SG_OK *priv is a struct sg_redis_conf (free with sg_redis_free_conf); the
 * timeout is redis.timeout (SG_REDIS_DEFAULT_TIMEOUT_MS when absent). */
int sg_redis_conf_hook(const struct sg_conf_node *node, const char *path,
                       const struct sg_conf *conf, struct sg_conf_errs *errs, void **priv);
/* Two configs of the hook give the same connections (a reload must restart
 * for anything else). */
bool sg_redis_conf_equal(const void *a, const void *b);
void sg_redis_free_conf(void *priv);

/* ---- per-worker instance (made by redis_module.c) -------------------------- */

struct sg_redis_inst;
struct redisAsyncContext;
struct event;
struct event_base;

/* One connection with its own lifecycle: connect, handshake (AUTH, SELECT,
 * then PING or SUBSCRIBE), ready, and on failure kill + backoff + reconnect. */
struct sg_redis_link {
    struct sg_redis_inst *r;
    bool is_sub;                    /* the purge subscription */
    struct redisAsyncContext *ac;   /* live: connecting or ready; NULL when down */
    struct redisAsyncContext *zomb; /* killed, awaiting on_reap (never freed in its callbacks) */
    bool ready;                     /* handshake done: commands may go */
    bool ever_ready;
    unsigned attempt; /* failed attempts since the last ready: drives backoff */
    struct event *handshake_timer, *retry_timer, *reap_ev;
};

struct sg_redis_inst {
    struct event_base *base;
    /* Copies of the config: a reload frees the old config before workers stop. */
    char *addr, *path, *password;
    uint16_t port;
    int db;
    uint64_t timeout_ms;

    struct sg_redis_link cmd, sub;
    char token[33];          /* this worker's lease token: 32 hex digits */
    struct sg_strmap leases; /* keys whose lease we took: value a heap uint64 wall-ms expiry */
    sg_cache_purge_fn purge_fn;
    void *purge_ctx;

    uint64_t errors, reconnects;
    unsigned failures; /* consecutive: commands, lost links, failed connects */
    bool circuit_open;
    bool closing; /* worker_fini runs: every call fails fast, nothing reconnects */
    bool warned_corrupt;
    uint64_t rng;
};

/* ---- links and the circuit (redis_link.c: calls nothing above it) ---------- */

/* Starts the link's first connection attempt (non-blocking). */
void sg_redis_link_start(struct sg_redis_link *l);
/* Drops the live connection of l if it is still ac: pending commands fail (from
 * the loop, not from inside this call) and a reconnect follows the backoff.
 * Safe from any callback, hiredis ones included. */
void sg_redis_link_kill(struct sg_redis_link *l, struct redisAsyncContext *ac, const char *why);
/* Frees both connections at once (pending callbacks run with SG_ERR before
 * this returns) and the link's events. Never from a hiredis callback. */
void sg_redis_link_stop(struct sg_redis_link *l);

/* Counts one failure toward the circuit; opening it drops the command link,
 * whose reconnect handshake (PING) is the probe that closes it again. */
void sg_redis_note_failure(struct sg_redis_inst *r);
/* A uniform draw in [0, n]. */
uint64_t sg_redis_rand(struct sg_redis_inst *r, uint64_t n);

/* ---- the cache ops (redis_cmd.c: sends on the command link) ---------------- */

extern const struct sg_cache_ops sg_redis_ops;

struct redisReply;
/* A command whose reply its sender reads: fn runs exactly once, from the loop,
 * with the reply (an error reply already counted and fed to the circuit), or
 * with NULL when the command failed (timeout, lost connection, teardown;
 * counted too). The reply is hiredis's: it is freed when fn returns. */
typedef void (*sg_redis_reply_fn)(struct sg_redis_inst *r, const struct redisReply *rep, void *arg);
/* Sends on the command link under redis.timeout: SG_AGAIN, or SG_ERR at once
 * (fn is never called) while the link is not ready, the circuit is open or
 * the worker stops. key names the command in debug logs. fn may be NULL. */
int sg_redis_send(struct sg_redis_inst *r, const char *key, int argc, const char **argv,
                  const size_t *lens, sg_redis_reply_fn fn, void *arg);

/* ---- the kv ops (redis_kv.c: sends through sg_redis_send) ------------------ */

int sg_redis_kv_get(void *inst, const char *key, sg_cache_kv_get_cb cb, void *arg);
int sg_redis_kv_set(void *inst, const char *key, const void *val, size_t len, uint64_t ttl_ms,
                    enum sg_cache_kv_when when, sg_cache_kv_cb cb, void *arg);
int sg_redis_kv_del(void *inst, const char *key, sg_cache_kv_cb cb, void *arg);
/* Frees the remembered leases (worker_fini). */
void sg_redis_leases_clear(struct sg_redis_inst *r);

/* redis_events.c: drives an async context from the worker's loop (in place of
 * hiredis's libevent adapter, with fewer epoll calls). */
struct redisAsyncContext;
struct event_base;
void sg_redis_events_attach(struct redisAsyncContext *ac, struct event_base *base);

#endif
