/* The cache's one way in: look a key up in the worker's own tier, then in the
 * shared tier, counting every lookup (hit, miss, error) and keeping what the
 * shared tier holds in the worker's tier too. */
#ifndef SG_CACHE_LOOKUP_H
#define SG_CACHE_LOOKUP_H

#include <stdbool.h>

#include "snapgate/cache.h"

struct sg_wstate;

enum sg_lookup {
    SG_LOOKUP_HIT,     /* a fresh entry */
    SG_LOOKUP_MISS,    /* none fresh; maybe an expired one kept for stale_if_error */
    SG_LOOKUP_FAILED,  /* the shared tier failed (the caller applies redis.on_error) */
    SG_LOOKUP_PENDING, /* the shared tier was asked: the callback has the result */
};

/* what is HIT, MISS or FAILED; e a new reference (or NULL): the fresh entry of
 * a HIT, else an expired one the shared tier still keeps. */
typedef void (*sg_lookup_cb)(enum sg_lookup what, struct sg_cache_entry *e, void *arg);

/* Looks key up. A fresh entry in the worker's tier answers at once (HIT, *e);
 * an expired one there is handed out in *stale_local (a new reference, or
 * NULL) whatever the result. Without a shared tier that is a MISS; with one,
 * PENDING, and cb runs later with its result, never inside this call (a tier
 * that answers synchronously gives that result here instead, with *e). */
enum sg_lookup sg_cache_lookup(struct sg_wstate *ws, const char *key, struct sg_cache_entry **e,
                               struct sg_cache_entry **stale_local, sg_lookup_cb cb, void *arg);

/* Drops every key task may be cached under from the worker's tier; with
 * tell_shared also from the shared tier, which announces it to every replica
 * (one worker of a process tells it). */
void sg_cache_purge(struct sg_wstate *ws, const char *task, bool tell_shared);
/* A purge the shared tier announced (any replica's): drops key here. */
void sg_cache_drop_local(struct sg_wstate *ws, const char *key);

#endif
