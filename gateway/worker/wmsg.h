/* Cross-thread messages: the only way one thread asks another to act on the
 * state it owns. A message runs on the receiving base's loop thread. */
#ifndef SG_WMSG_H
#define SG_WMSG_H

struct event_base;
struct sg_wmsg_queue;

/* Requires evthread_use_pthreads() before the base was created. */
struct sg_wmsg_queue *sg_wmsg_queue_new(struct event_base *base);
/* Frees the queue; messages not yet run are dropped (their fn never runs). */
void sg_wmsg_queue_free(struct sg_wmsg_queue *q);
/* Thread-safe: fn(arg) runs later on q's loop thread. */
void sg_wmsg_post(struct sg_wmsg_queue *q, void (*fn)(void *arg), void *arg);

#endif
