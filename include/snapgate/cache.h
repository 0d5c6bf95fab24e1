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
    size_t len;
    char body[];
};

/* body is copied; etag is computed from it; owner starts "" and completed -1
 * (set them before the entry is shared). */
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
};

#endif
