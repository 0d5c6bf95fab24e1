/* The snapservice task model: statuses, vAPI error types, and the outcome of
 * normalizing one upstream answer. */
#ifndef SG_TASK_H
#define SG_TASK_H

#include <stdbool.h>

struct json_object;

/* The longest task id, in bytes, once percent-decoded. */
#define SG_TASK_ID_MAX 256

enum sg_task_status {
    SG_TASK_PENDING = 0,
    SG_TASK_RUNNING,
    SG_TASK_BLOCKED,
    SG_TASK_SUCCEEDED,
    SG_TASK_FAILED,
};

const char *sg_task_status_name(enum sg_task_status s);
/* SG_OK and *out, or SG_ERR for anything that is not exactly one of the names. */
int sg_task_status_parse(const char *s, enum sg_task_status *out);
static inline bool sg_task_status_terminal(enum sg_task_status s)
{
    return s == SG_TASK_SUCCEEDED || s == SG_TASK_FAILED;
}

/* What one upstream answer means, decided by the dialect. */
enum sg_outcome {
    SG_OUT_INFO = 0,        /* a valid Info: 200, cacheable by status */
    SG_OUT_NOT_FOUND,       /* the task does not exist: 404, cacheable as negative */
    SG_OUT_UNAUTHENTICATED, /* upstream rejected the session/credentials (401) */
    SG_OUT_UNAUTHORIZED,    /* upstream: not allowed (403) */
    SG_OUT_UNAVAILABLE,     /* upstream unreachable / overloaded (502, 503, 504, timeouts) */
    SG_OUT_ERROR,           /* garbage, union violation, unexpected answer: 500 ERROR */
    SG_OUT_INACCESSIBLE,    /* the task's state cannot be read: 500 RESOURCE_INACCESSIBLE */
};

struct sg_normalized {
    enum sg_outcome outcome;
    enum sg_task_status status; /* SG_OUT_INFO only */
    struct json_object *info;   /* SG_OUT_INFO only: owned by the receiver (json_object_put) */
    char reason[200];           /* for logs: why this outcome (never a credential) */
};

void sg_normalized_clear(struct sg_normalized *n);

#endif
