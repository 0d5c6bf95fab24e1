/* Where answers go: cache keys, the per-worker copy, both tiers by status. */
#ifndef SG_CACHE_STORE_H
#define SG_CACHE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "normalize/reply.h"
#include "snapgate/cache.h"
#include "snapgate/conf.h"
#include "snapgate/dialect.h"
#include "snapgate/task.h"

struct sg_wstate;

/* The cache key of task for a request bound to backend (-1: not bound): the
 * task id, or for a request bound to one backend (header routing, or a
 * delegated caller) the task id, a 0x1E byte and the backend's name: the same
 * id on two backends is two tasks, and what a backend said to its delegated
 * callers is never read by callers it does not know. Writes at most cap bytes
 * to out and returns out. */
#define SG_CACHE_KEY_MAX (SG_TASK_ID_MAX + 2 + SG_CACHE_OWNER_MAX)
char *sg_cache_key(const struct sg_conf *c, const char *task, int backend, char *out, size_t cap);
/* Calls fn with every cache key task may be stored under (purges). */
void sg_cache_keys(const struct sg_conf *c, const char *task,
                   void (*fn)(const char *key, void *arg), void *arg);
/* Keeps a copy of e (from a fetch or the shared tier) in the worker's tier,
 * fresh for what is left of it, at most cache.local.max_ttl before a shared
 * tier (terminal tasks excepted). */
void sg_cache_store_local(struct sg_wstate *ws, const char *key, struct sg_cache_entry *e);
/* Renders what a backend said (owner: its name, "" when the answer is no single
 * backend's) with progress.completed floored at completed_floor (-1 none), and
 * stores it in both tiers by status when shared; returns the entry to answer
 * with (a new reference), or NULL with *err set for an answer never cached
 * (401, 403, 5xx, garbage). */
struct sg_cache_entry *sg_cache_store_answer(struct sg_wstate *ws, const char *key,
                                             const char *owner, struct sg_normalized *n,
                                             int64_t completed_floor, bool shared,
                                             enum sg_error *err);

#endif
