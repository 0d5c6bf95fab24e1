/* A worker: one thread, one event base, and everything it owns (share-nothing). */
#ifndef SG_WORKER_H
#define SG_WORKER_H

#include "snapgate/module.h"

struct event_base;

struct sg_worker {
    unsigned id;
    struct event_base *base;
    void *server; /* the gateway's per-worker state (struct sg_worker_state), opaque here */
};

/* A worker around an existing base, for the server and for tests. */
struct sg_worker *sg_worker_new(unsigned id, struct event_base *base);
void sg_worker_free(struct sg_worker *w);

#endif
