/* hiredis's async context driven by the worker's libevent loop. hiredis's own
 * adapter (hiredis/adapters/libevent.h) arms a one-shot write event for every
 * batch of commands and disarms it after the write, and re-adds a one-shot
 * read event after every read: three epoll_ctl calls per round trip, more
 * than the round trip's own write and read (perf and strace of a Redis hit,
 * issue 14). Here:
 *   - reading is one persistent event, registered once;
 *   - commands queued while the loop runs are written at the end of the
 *     current pass, from an event activated without a descriptor (no epoll
 *     call at all): all the commands of one pass go out in one write;
 *   - only while connecting, or when a write left bytes behind (the socket
 *     is full), does a real write event wait for the descriptor, as before.
 * hiredis may free the context (and so these events, through cleanup) inside
 * any of its handlers, so no callback here touches its state after calling
 * one. */
#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdlib.h>

#include "redis.h"
#include "snapgate/common.h"

struct redis_events {
    redisAsyncContext *ac;
    struct event *rev;   /* EV_READ|EV_PERSIST on the descriptor */
    struct event *wev;   /* EV_WRITE, one-shot: connecting, or a full socket */
    struct event *flush; /* no descriptor: activated to write queued commands */
};

/* The context whose queued commands are being written by on_flush now (so a
 * write that leaves bytes behind waits for the descriptor), or NULL. Per
 * thread: every worker has its own loop and contexts. */
static _Thread_local const struct redis_events *flushing;

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    redisAsyncHandleRead(((struct redis_events *)arg)->ac);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    redisAsyncHandleWrite(((struct redis_events *)arg)->ac);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct redis_events *e = arg;
    flushing = e;
    redisAsyncHandleWrite(e->ac); /* may free e */
    flushing = NULL;
}

/* event_add of an event already added (no timeout) and event_active of one
 * already active change nothing in libevent: hiredis may ask again freely. */
static void add_read(void *data)
{
    event_add(((struct redis_events *)data)->rev, NULL);
}

static void del_read(void *data)
{
    event_del(((struct redis_events *)data)->rev);
}

static void add_write(void *data)
{
    struct redis_events *e = data;
    /* hiredis clears REDIS_CONNECTED until the connect completes, which only
     * the descriptor turning writable tells. */
    if (!(e->ac->c.flags & REDIS_CONNECTED) || flushing == e)
        event_add(e->wev, NULL);
    else
        event_active(e->flush, EV_WRITE, 0);
}

static void del_write(void *data)
{
    struct redis_events *e = data;
    event_del(e->wev);
    event_del(e->flush);
}

static void cleanup(void *data)
{
    struct redis_events *e = data;
    event_free(e->rev);
    event_free(e->wev);
    event_free(e->flush);
    free(e);
}

void sg_redis_events_attach(redisAsyncContext *ac, struct event_base *base)
{
    struct redis_events *e = sg_xcalloc(1, sizeof(*e));
    e->ac = ac;
    e->rev = event_new(base, ac->c.fd, EV_READ | EV_PERSIST, on_readable, e);
    e->wev = event_new(base, ac->c.fd, EV_WRITE, on_writable, e);
    e->flush = event_new(base, -1, 0, on_flush, e);
    if (!e->rev || !e->wev || !e->flush)
        abort(); /* event_new fails only without memory */
    ac->ev.data = e;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    /* As hiredis's adapter: wait for the connect (writable) and any answer. */
    event_add(e->rev, NULL);
    event_add(e->wev, NULL);
}
