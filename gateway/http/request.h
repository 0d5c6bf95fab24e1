/* A client request on the task route, from routing to its one reply. */
#ifndef SG_REQUEST_H
#define SG_REQUEST_H

struct evhtp_request;

/* evhtp's general callback for the client listener: routes, authenticates,
 * answers from the cache or joins/leads an upstream fetch. */
void sg_request_on_http(struct evhtp_request *ev, void *arg);

#endif
