/* A client connection's bytes read without asking the kernel how many wait. */
#ifndef SG_HTTP_READ_NOW_H
#define SG_HTTP_READ_NOW_H

#include <event2/bufferevent.h>
#include <stdbool.h>

/* Whether the owner of bev holds its reading back right now. */
typedef bool (*sg_read_now_held_fn)(struct bufferevent *bev);

/* Makes bev (a plain socket bufferevent, as evhtp gives each accepted
 * connection) read with one read per readable event instead of libevent's
 * ioctl(FIONREAD) followed by readv. Everything else stays as libevent does
 * it: at most 4096 bytes per event, the read callback run the same way
 * (deferred when the bufferevent defers), EOF, errors and the read timeout
 * reported to the event callback, and a read high-water mark (which nothing
 * here sets) handled by libevent's own read callback.
 *
 * held (the same function for every bufferevent; NULL for none) lets the
 * owner stop reading without disabling it: while held(bev) is true, a
 * readable socket is not read but disabled then, with one epoll_ctl, instead
 * of two (remove now, add back after) for every hold. A client rarely sends
 * while its request is being answered. */
void sg_read_now_install(struct bufferevent *bev, sg_read_now_held_fn held);

/* Whether sg_read_now_install took over bev's reads. */
bool sg_read_now_installed(struct bufferevent *bev);

#endif
