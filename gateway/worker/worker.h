/* A worker: one thread, one event base, and everything it owns (share-nothing). */
#ifndef SG_WORKER_H
#define SG_WORKER_H

#include "snapgate/module.h"

struct event_base;
struct sg_wstate;

struct sg_worker {
    unsigned id;
    struct event_base *base;
    void *server; /* the gateway's per-worker state (struct sg_worker_state), opaque here */
};

/* A worker around an existing base, for the server and for tests. */
struct sg_worker *sg_worker_new(unsigned id, struct event_base *base);
void sg_worker_free(struct sg_worker *w);

/* Drain, on the worker's own thread. sg_worker_drain stops accepting and ends
 * the loop (after a short grace for the last replies) once no paused request
 * is left; sg_worker_request_finished is called as each paused request ends
 * and, while draining, lets the last one end the loop. */
void sg_worker_drain(struct sg_wstate *ws);
void sg_worker_request_finished(struct sg_wstate *ws);

#endif
