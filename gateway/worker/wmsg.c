#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

#include "snapgate/common.h"
#include "worker/wmsg.h"

struct wmsg {
    struct wmsg *next;
    void (*fn)(void *);
    void *arg;
};

struct sg_wmsg_queue {
    pthread_mutex_t mu;
    struct wmsg *head, *tail;
    struct event *ev;
};

static void on_messages(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_wmsg_queue *q = arg;
    pthread_mutex_lock(&q->mu);
    struct wmsg *m = q->head;
    q->head = q->tail = NULL;
    pthread_mutex_unlock(&q->mu);
    while (m) {
        struct wmsg *next = m->next;
        m->fn(m->arg);
        free(m);
        m = next;
    }
}

struct sg_wmsg_queue *sg_wmsg_queue_new(struct event_base *base)
{
    struct sg_wmsg_queue *q = sg_xcalloc(1, sizeof(*q));
    pthread_mutex_init(&q->mu, NULL);
    q->ev = event_new(base, -1, 0, on_messages, q);
    return q;
}

void sg_wmsg_queue_free(struct sg_wmsg_queue *q)
{
    if (!q)
        return;
    event_free(q->ev);
    for (struct wmsg *m = q->head; m;) {
        struct wmsg *next = m->next;
        free(m);
        m = next;
    }
    pthread_mutex_destroy(&q->mu);
    free(q);
}

void sg_wmsg_post(struct sg_wmsg_queue *q, void (*fn)(void *), void *arg)
{
    struct wmsg *m = sg_xcalloc(1, sizeof(*m));
    m->fn = fn;
    m->arg = arg;
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    pthread_mutex_unlock(&q->mu);
    event_active(q->ev, 0, 0);
}
