/* Routing of the client API: which answer a method + raw path gets, and the
 * task id decoded from its one path segment. Pure functions: no I/O. */
#ifndef SG_ROUTER_H
#define SG_ROUTER_H

#include "snapgate/task.h"

#include <stddef.h>

#define SG_TASK_PREFIX "/api/snapservice/tasks/"
#define SG_SESSIONS_PATH "/api/snapservice/sessions"

enum sg_route {
    SG_ROUTE_TASK = 0,   /* GET/HEAD of a valid task id */
    SG_ROUTE_NOT_FOUND,  /* any other path */
    SG_ROUTE_BAD_METHOD, /* the task path with a method other than GET/HEAD */
    SG_ROUTE_BAD_ID,     /* the task path with an id that fails validation */
    SG_ROUTE_RPC,        /* POST /api or POST /snapservice: vAPI JSON-RPC */
    SG_ROUTE_SESSIONS,   /* POST, GET or DELETE /api/snapservice/sessions */
};

/* The methods a path that routes takes, for the Allow header of a 405. */
const char *sg_route_allow(const char *path);

/* Route method + raw path (as received, still percent-encoded, without the
 * query). On SG_ROUTE_TASK the decoded id is written to id (NUL-terminated,
 * capacity SG_TASK_ID_MAX + 1). On SG_ROUTE_BAD_ID *why says what is wrong. */
enum sg_route sg_route_request(const char *method, const char *path, char *id, const char **why);

/* Decodes exactly one percent-encoded path segment into out (capacity cap, NUL-
 * terminated) and validates it as a task id: 1..256 bytes, printable ASCII, no
 * whitespace or control characters. Returns 0, or -1 with *why set. */
int sg_task_id_decode(const char *seg, size_t len, char *out, size_t cap, const char **why);

/* The same rules for an id that arrives decoded (a JSON string on the JSON-RPC
 * path, where '%' is just a byte): id[0..len) is checked as it is, nothing is
 * decoded. Returns 0, or -1 with *why set. */
int sg_task_id_check(const char *id, size_t len, const char **why);

#endif
