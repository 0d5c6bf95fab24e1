/* Provisional copy of the upstream client API (the implementation lands from its own branch). */
#ifndef SG_UPSTREAM_H
#define SG_UPSTREAM_H

#include <stdint.h>

#include "snapgate/conf.h"
#include "snapgate/task.h"

struct event_base;
struct sg_backend_worker;
struct sg_fetch;

struct sg_fetch_result {
    struct sg_normalized norm;
    int upstream_status;
    uint64_t upstream_ms;
};
typedef void (*sg_fetch_cb)(struct sg_fetch_result *res, void *arg);

struct sg_backend_worker *sg_backend_worker_create(struct event_base *base,
                                                   const struct sg_conf_backend *b,
                                                   unsigned worker_id);
void sg_backend_worker_destroy(struct sg_backend_worker *bw);
struct sg_fetch *sg_fetch_start(struct sg_backend_worker *bw, const char *task_id,
                                uint64_t timeout_ms, sg_fetch_cb cb, void *arg);
void sg_fetch_cancel(struct sg_fetch *f);

#endif
