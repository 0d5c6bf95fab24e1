/* A client connection's bytes read without asking the kernel how many wait. */
#ifndef SG_HTTP_READ_NOW_H
#define SG_HTTP_READ_NOW_H

#include <event2/bufferevent.h>

/* Makes bev (a plain socket bufferevent, as evhtp gives each accepted
 * connection) read with one recv-sized readv per readable event instead of
 * libevent's ioctl(FIONREAD) followed by readv. Everything else stays as
 * libevent does it: at most 4096 bytes per event, the read callback run the
 * same way (deferred when the bufferevent defers), EOF, errors and the read
 * timeout reported to the event callback, and a read high-water mark (which
 * nothing here sets) handled by libevent's own read callback. */
void sg_read_now_install(struct bufferevent *bev);

#endif
