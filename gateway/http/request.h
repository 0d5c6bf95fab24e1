/* A client request on the task route, from routing to its one reply. */
#ifndef SG_REQUEST_H
#define SG_REQUEST_H

struct evhtp_request;

/* evhtp's general callback for the client listener: routes, authenticates,
 * answers from the cache or joins/leads an upstream fetch. */
void sg_request_on_http(struct evhtp_request *ev, void *arg);

/* The connection is being taken over (evhtp_connection_take_ownership, to
 * answer a limit or a parser error): evhtp will free ev without running its
 * hooks, so what ev's request-fini hook does for a request already routed
 * (an answered one whose connection goes on to garbage) runs now. Does
 * nothing for an ev that is not ours or NULL. */
void sg_request_conn_taken(struct evhtp_request *ev);

#endif
