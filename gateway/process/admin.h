/* The admin listener (never the client port): /healthz /readyz /metrics and
 * DELETE /cache/tasks/{task}. Runs on the main thread's loop. */
#ifndef SG_ADMIN_H
#define SG_ADMIN_H

#include <stdbool.h>

#include "snapgate/conf.h"

struct sg_admin;
struct event_base;

/* DELETE /cache/tasks/{task}: drops task from every cache of the process;
 * done(done_arg) runs on the admin's loop once it has. Given by the owner of
 * the workers (the server), with its ctx. */
typedef void (*sg_admin_purge_fn)(void *ctx, const char *task, void (*done)(void *),
                                  void *done_arg);

/* Binds admin_listen; NULL when it cannot. */
struct sg_admin *sg_admin_create(struct event_base *base, const struct sg_conf *conf,
                                 sg_admin_purge_fn purge, void *purge_ctx);
void sg_admin_destroy(struct sg_admin *a);
void sg_admin_set_ready(struct sg_admin *a);
void sg_admin_set_draining(struct sg_admin *a);
void sg_admin_set_conf(struct sg_admin *a, const struct sg_conf *conf);
void sg_admin_count_reload(struct sg_admin *a, bool ok);
/* /readyz is 503 while no backend of h is known healthy (gateway/upstream/health.h),
 * and /metrics shows h's per-backend state. */
struct sg_health;
void sg_admin_set_health(struct sg_admin *a, const struct sg_health *h);

#endif
