/* Replies: every vAPI standard error snapgate answers with, its HTTP status
 * code and its body (static strings: no JSON rendering), and which error a
 * normalized upstream outcome becomes (sg_error_for_outcome). */
#ifndef SG_REPLY_H
#define SG_REPLY_H

#include <stddef.h>

#include "snapgate/task.h"

enum sg_error {
    SG_E_INVALID_ARGUMENT = 0, /* 400: malformed task id or request */
    SG_E_UNAUTHENTICATED,      /* 401 */
    SG_E_UNAUTHORIZED,         /* 403 */
    SG_E_NOT_FOUND,            /* 404: unknown task */
    SG_E_NO_ROUTE,             /* 404: any other path */
    SG_E_BAD_METHOD,           /* 405, with Allow */
    SG_E_HEAD_TIMEOUT,         /* 408: request head not received in time */
    SG_E_BODY_TOO_LARGE,       /* 413 */
    SG_E_URI_TOO_LONG,         /* 414 */
    SG_E_HEADERS_TOO_LARGE,    /* 431 */
    SG_E_ERROR,                /* 500 ERROR: garbage from the backend, internal failure */
    SG_E_INACCESSIBLE,         /* 500 RESOURCE_INACCESSIBLE */
    SG_E_UNAVAILABLE,          /* 503: no backend answered */
    SG_E_BAD_BACKEND,          /* 400: X-Snapgate-Backend missing or naming no backend */
    SG_E_SESSIONS_UNAVAILABLE, /* 503: the session store failed */
    SG_E__COUNT
};

struct sg_error_reply {
    int status;
    const char *reason; /* HTTP reason phrase */
    const char *body;   /* the vAPI standard error, rendered */
    size_t len;
    const char *error_type; /* its error_type, e.g. "NOT_FOUND" */
};

const struct sg_error_reply *sg_error_reply(enum sg_error e);

/* The error a failed upstream outcome becomes. */
enum sg_error sg_error_for_outcome(enum sg_outcome o);

/* A whole HTTP/1.1 error response with Connection: close, for paths that answer
 * outside evhtp's request handling (limits). Returns a malloc'd buffer. */
char *sg_error_reply_raw(enum sg_error e, const char *request_id, size_t *len);

/* Does an If-None-Match value match etag (weak comparison, lists and "*")? */
int sg_etag_matches(const char *if_none_match, const char *etag);

#endif
