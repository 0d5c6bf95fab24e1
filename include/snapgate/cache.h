/* Cache tiers hold rendered answers: bytes, status and ETag, so a hit renders no JSON. */
#ifndef SG_CACHE_H
#define SG_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* An immutable, refcounted answer. Refcounts are per worker (share-nothing):
 * an entry never crosses threads. */
struct sg_cache_entry {
    int refs;
    int http_status;        /* 200, or 404 for a negative entry */
    int task_status;        /* enum sg_task_status, -1 for a negative entry */
    uint64_t fetched_at_ms; /* wall clock, when the backend answered */
    uint64_t expires_at_ms; /* wall clock, end of freshness */
    char etag[32];          /* strong ETag with its quotes: "\"...\"" */
    size_t len;
    char body[];
};

/* body is copied; etag is computed from it. */
struct sg_cache_entry *sg_cache_entry_new(int http_status, int task_status, const char *body,
                                          size_t len, uint64_t fetched_at_ms,
                                          uint64_t expires_at_ms);
struct sg_cache_entry *sg_cache_entry_get(struct sg_cache_entry *e);
void sg_cache_entry_put(struct sg_cache_entry *e);

/* e is a new reference for the callee, or NULL on a miss (rc SG_DECLINED) or
 * error (rc SG_ERR). Called exactly once, from the loop. */
typedef void (*sg_cache_get_cb)(int rc, struct sg_cache_entry *e, void *arg);

struct sg_cache_ops {
    /* SG_OK with *out a new reference (hit), SG_DECLINED (miss), SG_ERR, or
     * SG_AGAIN (cb later). Expired entries are misses unless the caller asks
     * for them through get_stale. */
    int (*get)(void *inst, const char *key, struct sg_cache_entry **out, sg_cache_get_cb cb,
               void *arg);
    /* Store e (the cache takes its own reference) for ttl_ms. */
    int (*put)(void *inst, const char *key, struct sg_cache_entry *e, uint64_t ttl_ms);
    int (*del)(void *inst, const char *key);
};

#endif
