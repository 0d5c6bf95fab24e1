/* How long an answer stays fresh: by task status, and in the local tier never
 * longer than cache.local.max_ttl unless the task is terminal. */
#ifndef SG_TTL_H
#define SG_TTL_H

#include <stdbool.h>
#include <stdint.h>

#include "snapgate/conf.h"
#include "snapgate/task.h"

/* TTL of a 200 answer for a task in status s (cache.ttl.*). */
uint64_t sg_ttl_for_status(const struct sg_conf *c, enum sg_task_status s);
/* TTL of a negative (404) answer. */
uint64_t sg_ttl_not_found(const struct sg_conf *c);
/* TTL in the per-worker local tier. Alone (no shared tier) it is the cache and
 * keeps the full TTL. In front of a shared tier, terminal tasks keep their full
 * TTL and the rest is bounded by local.max_ttl (0 = the local tier keeps
 * nothing), which bounds how far replicas can disagree. */
uint64_t sg_ttl_local(const struct sg_conf *c, bool shared_tier, int http_status, int task_status,
                      uint64_t ttl);

#endif
