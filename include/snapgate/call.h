/* The call helper: one plain HTTP request to a configured backend, outside
 * the task API (auth/vcenter exchanges and ends callers' sessions with it).
 * It rides the backend's pooled connections on the calling worker, so it is
 * used only from that worker's loop thread. */
#ifndef SG_CALL_H
#define SG_CALL_H

#include <stddef.h>

#include "snapgate/dialect.h"

/* A backend's client on one worker: sg_worker_backend (snapgate/module.h)
 * hands it out; opaque to modules. */
struct sg_backend_worker;
struct sg_call;

/* The answer, borrowed for the callback only. */
struct sg_call_result {
    int status;       /* HTTP status, 0 when no answer */
    const char *body; /* NUL-terminated, NULL when no answer */
    size_t len;
    char reason[160]; /* why there was no answer */
};
typedef void (*sg_call_cb)(const struct sg_call_result *res, void *arg);

/* Sends req (its contents are taken over) on bw's pool; cb runs exactly once
 * from the loop, never from inside this call, bounded by the backend's request
 * timeout. Never NULL. */
struct sg_call *sg_call_start(struct sg_backend_worker *bw, struct sg_http_req *req, sg_call_cb cb,
                              void *arg);
/* Abandons c: its callback will not run. Valid until the callback begins. */
void sg_call_cancel(struct sg_call *c);

#endif
