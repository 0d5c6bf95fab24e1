/* How long an answer stays fresh: by task status, and in the local tier never
 * longer than cache.local.max_ttl unless the task is terminal. */
#ifndef SG_TTL_H
#define SG_TTL_H

#include <stdint.h>

#include "snapgate/conf.h"
#include "snapgate/task.h"

/* TTL of a 200 answer for a task in status s (cache.ttl.*). */
uint64_t sg_ttl_for_status(const struct sg_conf *c, enum sg_task_status s);
/* TTL of a negative (404) answer. */
uint64_t sg_ttl_not_found(const struct sg_conf *c);
/* TTL in the per-worker local tier: terminal tasks keep their full TTL, others
 * are bounded by local.max_ttl (0 = the local tier keeps nothing). */
uint64_t sg_ttl_local(const struct sg_conf *c, int http_status, int task_status, uint64_t ttl);

#endif
