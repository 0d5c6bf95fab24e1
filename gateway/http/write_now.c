/* See write_now.h. libevent arms a bufferevent's write event when bytes are
 * queued and disarms it once they are written: on epoll that is two
 * epoll_ctl calls around every answer, a fifth of the kernel time of a cache
 * hit on loopback (issue 14). A hit is answered inside evhtp's read callback
 * and the socket is almost always writable then, so the answer is written at
 * once; the arm, still only in libevent's change list, is withdrawn with the
 * same event_del libevent's write callback makes on an empty buffer, and no
 * epoll_ctl is made at all.
 *
 * This reaches into struct bufferevent (event2/bufferevent_struct.h, which
 * libevent installs for this) for ev_write: there is no call that disarms
 * the write event yet keeps writing enabled. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>

#include "http/write_now.h"

void sg_write_now(evhtp_request_t *req)
{
    evhtp_connection_t *c = evhtp_request_get_connection(req);
    struct bufferevent *bev = c ? c->bev : NULL;
    if (!bev || !(bufferevent_get_enabled(bev) & EV_WRITE))
        return;
    struct evbuffer *out = bufferevent_get_output(bev);
    if (evbuffer_get_length(out) == 0)
        return;
    /* A bufferevent keeps its output's front frozen against its user; its own
     * write callback thaws it around the write, as here. */
    evbuffer_unfreeze(out, 1);
    int n = evbuffer_write(out, bufferevent_getfd(bev));
    evbuffer_freeze(out, 1);
    if (n < 0 || evbuffer_get_length(out) > 0)
        return; /* libevent goes on as usual */
    event_del(&bev->ev_write);
    /* Deferred: evhtp frees the request in it, and we are inside its parser. */
    bufferevent_trigger(bev, EV_WRITE, BEV_TRIG_DEFER_CALLBACKS);
}

void sg_write_now_resumed(evhtp_request_t *req)
{
    evhtp_connection_t *c = evhtp_request_get_connection(req);
    /* Bytes already read behind the request: evhtp's resume callback must
     * see the answer still queued, so that it parses them only after its
     * write callback has ended this request (its WAITING path). */
    if (!c || !c->bev || evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
        return;
    sg_write_now(req);
}
