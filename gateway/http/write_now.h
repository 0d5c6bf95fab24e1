/* An answer written to the socket inside the callback that made it. */
#ifndef SG_HTTP_WRITE_NOW_H
#define SG_HTTP_WRITE_NOW_H

#include <evhtp/evhtp.h>

/* Writes what req's connection has queued straight to its socket. When all
 * of it went out, the write event libevent armed for it is dropped before it
 * reaches epoll, and evhtp's write callback (which ends the request) is run
 * from the loop, as libevent runs it after its own write. Anything left (a
 * slow reader, an error) stays with libevent as before. Only for an answer
 * with nothing pipelined behind it, made inside evhtp's read callback (or
 * see sg_write_now_resumed). */
void sg_write_now(evhtp_request_t *req);

/* The same for the answer to a paused request, right after
 * evhtp_request_resume (whose callback, already queued, runs before the
 * deferred write callback: both sit in the loop's one active queue, in
 * order). Skipped when the connection's input holds bytes: evhtp must then
 * take its own path. Paused with sg_conn_pause, a connection reads nothing
 * until the answer is out, so that is rare. */
void sg_write_now_resumed(evhtp_request_t *req);

#endif
