/* An answer written to the socket inside the callback that made it. */
#ifndef SG_HTTP_WRITE_NOW_H
#define SG_HTTP_WRITE_NOW_H

#include <evhtp/evhtp.h>

/* Writes what req's connection has queued straight to its socket. When all
 * of it went out, the write event libevent armed for it is dropped before it
 * reaches epoll, and evhtp's write callback (which ends the request) is run
 * from the loop, as libevent runs it after its own write. Anything left (a
 * slow reader, an error) stays with libevent as before. Only for an answer
 * with nothing pipelined behind it, made inside evhtp's read callback. */
void sg_write_now(evhtp_request_t *req);

#endif
