/* An idle connection holds no request parser (issue 14: 10,000 idle
 * keep-alive connections in 40 MB). evhtp gives every connection an htparser
 * of over 8 KiB for its life; snapgate takes it away while the connection
 * waits for a request and gives one back when bytes arrive. */
#ifndef SG_HTTP_CONN_PARSER_H
#define SG_HTTP_CONN_PARSER_H

#include <evhtp/evhtp.h>

struct sg_wstate;

/* Gives c a freshly initialised parser when it has none. Called before evhtp
 * reads any byte of the connection. */
void sg_conn_parser_acquire(struct sg_wstate *ws, evhtp_connection_t *c);

/* Takes c's parser when c is between requests: no request, nothing unread
 * in its input, no held line (held_bytes), not paused. */
void sg_conn_parser_release(struct sg_wstate *ws, evhtp_connection_t *c, size_t held_bytes);

/* Frees the worker's spare parsers (at worker end). */
void sg_conn_parsers_free(struct sg_wstate *ws);

#endif
