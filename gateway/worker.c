#include <stdlib.h>

#include "worker.h"

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
