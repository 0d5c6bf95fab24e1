/* Cache tiers hold rendered answers: bytes, status and ETag, so a hit renders no JSON. */
#ifndef SG_CACHE_H
#define SG_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* Longest backend name (conf_backend.c enforces it). */
#define SG_CACHE_OWNER_MAX 64

/* An immutable, refcounted answer. Refcounts are per worker (share-nothing):
 * an entry never crosses threads. */
struct sg_cache_entry {
    int refs;
    int http_status;        /* 200, or 404 for a negative entry */
    int task_status;        /* enum sg_task_status, -1 for a negative entry */
    uint64_t fetched_at_ms; /* wall clock, when the backend answered */
    uint64_t expires_at_ms; /* wall clock, end of freshness */
    char etag[32];          /* strong ETag with its quotes: "\"...\"" */
    /* The backend that answered ("" unknown): a later miss for the task asks
     * only this one (routing.strategy fanout). */
    char owner[SG_CACHE_OWNER_MAX + 1];
    /* progress.completed as served (-1 none): a later fetch never serves less. */
    int64_t completed;
    /* A 200 entry's answer on the JSON-RPC path (POST /api): what follows the
     * request's id in the envelope, the Info as a vAPI DataValue
     * (normalize/datavalue.h), made once when the entry is stored and kept
     * with it in both tiers, so a hit splices the id in and renders nothing.
     * NULL for other entries (their answer is a fixed error). Owned. */
    char *rpc;
    size_t rpc_len;
    size_t len;
    char body[];
};

/* body is copied; etag is computed from it; owner starts "", completed -1
 * and rpc NULL (set them before the entry is shared). */
struct sg_cache_entry *sg_cache_entry_new(int http_status, int task_status, const char *body,
                                          size_t len, uint64_t fetched_at_ms,
                                          uint64_t expires_at_ms);
struct sg_cache_entry *sg_cache_entry_get(struct sg_cache_entry *e);
void sg_cache_entry_put(struct sg_cache_entry *e);

/* What a shared tier reports for /metrics. */
struct sg_cache_stats {
    uint64_t errors;     /* commands that failed or timed out */
    uint64_t reconnects; /* connections (re)established after the first */
    int connected;       /* 1 while the connection is up */
    int circuit_open;    /* 1 while calls fail fast after repeated failures */
};

/* Called exactly once, from the loop, never from inside the starting call.
 * rc and e as for sg_cache_ops.get; e is a new reference for the callee. */
typedef void (*sg_cache_get_cb)(int rc, struct sg_cache_entry *e, void *arg);
/* rc: SG_OK the lease is ours, SG_DENIED another process holds it, SG_ERR. */
typedef void (*sg_cache_lease_cb)(int rc, void *arg);
/* A purge announced by any replica (including this one). */
typedef void (*sg_cache_purge_fn)(void *ctx, const char *key);
/* kv_get: rc SG_OK with the value (val[0..len), valid only during the call,
 * not NUL-terminated), SG_DECLINED no such key (val NULL), SG_ERR. */
typedef void (*sg_cache_kv_get_cb)(int rc, const char *val, size_t len, void *arg);
/* kv_set and kv_del: rc SG_OK done, SG_DENIED the condition did not hold
 * (kv_set: see enum sg_cache_kv_when; kv_del: there was no such key), SG_ERR. */
typedef void (*sg_cache_kv_cb)(int rc, void *arg);

/* When kv_set writes. */
enum sg_cache_kv_when {
    SG_KV_ALWAYS = 0,
    SG_KV_IF_ABSENT,  /* only a new key (SET NX) */
    SG_KV_IF_PRESENT, /* only over a live key (SET XX): a refresh never brings back a
                         key another replica deleted in the meantime */
};

struct sg_cache_ops {
    /* Look key up. Returns (or calls back with, after SG_AGAIN):
     *   SG_OK       *out a fresh entry (new reference);
     *   SG_DECLINED a miss; *out is NULL, or an entry past its freshness that
     *               the tier still keeps for stale_if_error (new reference);
     *   SG_ERR      the tier failed (the cache fails open: treat as a miss).
     * A synchronous tier never returns SG_AGAIN. */
    int (*get)(void *inst, const char *key, struct sg_cache_entry **out, sg_cache_get_cb cb,
               void *arg);
    /* Store e (the tier takes its own reference): served as fresh for fresh_ms
     * by this tier (a shared tier uses e->expires_at_ms instead), kept for
     * keep_ms >= fresh_ms in all. fresh_ms 0 stores nothing in a local tier. */
    int (*put)(void *inst, const char *key, struct sg_cache_entry *e, uint64_t fresh_ms,
               uint64_t keep_ms);
    int (*del)(void *inst, const char *key);

    /* Shared tiers only; NULL in a process-local tier. */
    /* A short lease so one replica fetches a cold task while the others wait. */
    int (*lease)(void *inst, const char *key, uint64_t ttl_ms, sg_cache_lease_cb cb, void *arg);
    /* Gives the lease back if this worker still holds it. */
    void (*release)(void *inst, const char *key);
    /* Deletes key from the shared tier and announces it to every replica. */
    int (*purge)(void *inst, const char *key);
    /* Registers the handler of announced purges (to drop local copies). */
    void (*on_purge)(void *inst, sg_cache_purge_fn fn, void *ctx);
    /* Counters for /metrics (single writer: the worker). */
    void (*stats)(void *inst, struct sg_cache_stats *out);

    /* Optional (NULL in a process-local tier): raw values shared by every
     * replica, in a key space of their own apart from the entries above (the
     * session store, gateway/auth/session.h). key is the caller's, printable
     * and NUL-terminated. Each returns SG_AGAIN and calls cb exactly once
     * later, from the loop, or SG_ERR at once without calling cb (the tier is
     * down, its circuit open, the worker stopping). Every command is bounded
     * by the tier's timeout; a failure or timeout is SG_ERR, never a miss.
     * kv_set and kv_del take a NULL cb: sent the same, outcome not reported. */
    int (*kv_get)(void *inst, const char *key, sg_cache_kv_get_cb cb, void *arg);
    /* The tier forgets the value after ttl_ms (> 0, else SG_ERR). */
    int (*kv_set)(void *inst, const char *key, const void *val, size_t len, uint64_t ttl_ms,
                  enum sg_cache_kv_when when, sg_cache_kv_cb cb, void *arg);
    int (*kv_del)(void *inst, const char *key, sg_cache_kv_cb cb, void *arg);
};

#endif
