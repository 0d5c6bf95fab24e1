/* Purge fan-out: the admin listener's DELETE /cache/tasks/{task} reaches every
 * worker through its queue; each drops the task's keys from its local tier,
 * one of them tells the shared tier (which tells every replica), and the last
 * to finish posts the admin's answer back to the main loop. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "cache/lookup.h"
#include "process/server_int.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "worker/wmsg.h"
#include "worker/wstate.h"

struct purge {
    struct sg_wstate *ws;
    char *task;
    struct sg_server *s;
    void (*done)(void *arg);
    void *done_arg;
    _Atomic unsigned *left;
    bool shared;
};

static void on_worker_purge(void *arg)
{
    struct purge *p = arg;
    sg_cache_purge(p->ws, p->task, p->shared);
    if (atomic_fetch_sub(p->left, 1) == 1) {
        sg_wmsg_post(p->s->mq, p->done, p->done_arg);
        free(p->left);
    }
    free(p->task);
    free(p);
}

void sg_server_purge(void *ctx, const char *task, void (*done)(void *), void *arg)
{
    struct sg_server *s = ctx;
    _Atomic unsigned *left = sg_xcalloc(1, sizeof(*left));
    atomic_store(left, s->nworkers);
    for (unsigned i = 0; i < s->nworkers; i++) {
        struct purge *p = sg_xcalloc(1, sizeof(*p));
        p->ws = s->workers[i];
        p->task = sg_xstrdup(task);
        p->s = s;
        p->done = done;
        p->done_arg = arg;
        p->left = left;
        p->shared = i == 0;
        sg_wmsg_post(s->workers[i]->mq, on_worker_purge, p);
    }
}
