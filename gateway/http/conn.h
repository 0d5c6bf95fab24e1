/* Client connections: limits, deadlines and answers evhtp cannot give itself. */
#ifndef SG_CONN_H
#define SG_CONN_H

#include <evhtp/evhtp.h>
#include <stdbool.h>

struct sg_wstate;

/* evhtp post-accept callback (arg: the worker's struct sg_wstate). */
evhtp_res sg_conn_on_accept(evhtp_connection_t *c, void *arg);
/* Pauses req while snapgate works on it, as evhtp_request_pause does, with
 * the connection's read event left registered (see conn.c). */
void sg_conn_pause(evhtp_request_t *req);
/* A request head arrived whole: its deadline no longer applies. */
void sg_conn_request_started(evhtp_request_t *req);
/* The reply went out: the keep-alive idle limit starts. */
void sg_conn_request_done(evhtp_request_t *req);
/* From inside evhtp's request callback: whether the client has sent bytes
 * past this request (HTTP/1.1 pipelining). May say true when unsure. */
bool sg_conn_has_pipelined(evhtp_request_t *req);
/* Right before evhtp_request_resume: evhtp will parse what waits without a
 * read, so a next request line that is not whole yet is set aside until more
 * arrives (http/line_guard.h). in_callback: called from inside evhtp's
 * request callback, where req's own bytes are still in the input. */
void sg_conn_before_resume(evhtp_request_t *req, bool in_callback);
/* Closes every client connection ws still has (a drain that ran out of time
 * stopped the loop under them): their requests are freed, nothing is sent. */
void sg_conn_close_all(struct sg_wstate *ws);
/* A request id for this worker: unique across workers and processes. */
void sg_request_id_new(struct sg_wstate *ws, char *out, size_t cap);
/* The id an answer carries: the client's X-Request-Id among hdrs (may be
 * NULL, or hold only the part of the head read so far) when it is 1 to cap - 1
 * printable bytes without '"' or '\\', else a new one. */
void sg_request_id_choose(struct sg_wstate *ws, evhtp_headers_t *hdrs, char *out, size_t cap);

#endif
