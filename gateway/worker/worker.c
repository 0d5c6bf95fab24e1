#include <event2/event.h>
#include <evhtp/evhtp.h>
#include <stdlib.h>
#include <string.h>

#include "worker/worker.h"
#include "worker/wstate.h"

#define DRAIN_GRACE_MS 100

struct sg_worker *sg_worker_new(unsigned id, struct event_base *base)
{
    struct sg_worker *w = sg_xcalloc(1, sizeof(*w));
    w->id = id;
    w->base = base;
    return w;
}

void sg_worker_free(struct sg_worker *w)
{
    free(w);
}

struct event_base *sg_worker_base(struct sg_worker *w)
{
    return w->base;
}

unsigned sg_worker_id(const struct sg_worker *w)
{
    return w->id;
}

struct sg_backend_worker *sg_worker_backend(struct sg_worker *w, const char *name)
{
    struct sg_wstate *ws = w->server;
    for (size_t i = 0; i < ws->nbackends; i++)
        if (strcmp(ws->conf->backends[i].name, name) == 0)
            return ws->backends[i];
    return NULL;
}

void sg_worker_request_finished(struct sg_wstate *ws)
{
    if (!ws->draining || ws->requests_in_flight > 0)
        return;
    /* A short grace lets the last replies leave the socket buffers. */
    struct timeval tv = {.tv_sec = 0, .tv_usec = DRAIN_GRACE_MS * 1000};
    event_base_loopexit(ws->base, &tv);
}

void sg_worker_drain(struct sg_wstate *ws)
{
    ws->draining = true;
    evhtp_unbind_socket(ws->htp);
    sg_worker_request_finished(ws);
}
