/* The admin listener (never the client port): /healthz /readyz /metrics and
 * DELETE /cache/tasks/{task}. Runs on the main thread's loop. */
#ifndef SG_ADMIN_H
#define SG_ADMIN_H

#include <stdbool.h>

#include "snapgate/conf.h"

struct sg_admin;
struct sg_server;
struct event_base;

/* Binds admin_listen; NULL when it cannot. */
struct sg_admin *sg_admin_create(struct sg_server *s, struct event_base *base,
                                 const struct sg_conf *conf);
void sg_admin_destroy(struct sg_admin *a);
void sg_admin_set_ready(struct sg_admin *a);
void sg_admin_set_draining(struct sg_admin *a);
void sg_admin_set_conf(struct sg_admin *a, const struct sg_conf *conf);
void sg_admin_count_reload(struct sg_admin *a, bool ok);
/* /readyz is 503 while no backend of h is known healthy (gateway/health.h),
 * and /metrics shows h's per-backend state. */
struct sg_health;
void sg_admin_set_health(struct sg_admin *a, const struct sg_health *h);

#endif
