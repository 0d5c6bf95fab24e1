/* Active health checks: every backend with health_check.enabled is probed
 * from the main thread's loop with an unauthenticated GET of
 * health_check.path every health_check.interval. Any HTTP answer below 500
 * within health_check.timeout is a good probe (a 401 or 404 still proves the
 * server is serving); no answer, a timeout or a 5xx is a bad one. The first
 * probes go out at once, so health is known before traffic arrives. */
#ifndef SG_HEALTH_CHECK_H
#define SG_HEALTH_CHECK_H

#include "upstream/health.h"

struct event_base;
struct sg_health_checker;

/* Starts probing on base every backend of h that has checks enabled. */
struct sg_health_checker *sg_health_checker_start(struct event_base *base, struct sg_health *h);
/* Stops every probe (no callback runs afterwards) and frees everything. NULL is fine. */
void sg_health_checker_stop(struct sg_health_checker *c);

#endif
