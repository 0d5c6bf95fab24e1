/* Upstream dialects: how to ask a backend for a task and for a session, and how
 * to turn its answer into exact snapservice Info or a classified outcome. */
#ifndef SG_DIALECT_H
#define SG_DIALECT_H

#include <stddef.h>

#include "snapgate/task.h"

struct sg_conf_backend;

#define SG_HTTP_REQ_MAX_HEADERS 8

/* A request a dialect asks the upstream client to send. All strings malloc'd
 * and freed by sg_http_req_clear. The client adds Host, Content-Length and
 * Connection itself; the path is relative to the backend URL's base path. */
struct sg_http_req {
    const char *method; /* static string: "GET", "POST" */
    char *path;         /* starts with '/', already percent-encoded */
    char *body;
    size_t body_len;
    size_t nheaders;
    char *header_names[SG_HTTP_REQ_MAX_HEADERS];
    char *header_values[SG_HTTP_REQ_MAX_HEADERS];
};

void sg_http_req_add_header(struct sg_http_req *r, const char *name, const char *value);
void sg_http_req_clear(struct sg_http_req *r);
/* raw as ONE percent-encoded path segment: RFC 3986 unreserved characters and
 * the pchar extras ":@!$&'()*+,=" stay, every other byte becomes %XX
 * (uppercase), including '/', '%', '?', '#', ';' and non-ASCII. Returns a
 * malloc'd string the caller frees. */
char *sg_http_path_segment_encode(const char *raw);

/* Lookup of a response header by name (case-insensitive); NULL when absent. */
typedef const char *(*sg_header_lookup)(void *ctx, const char *name);

struct sg_dialect_ops {
    /* The task request for task_id (raw, not encoded). */
    int (*build_task)(void *priv, const struct sg_conf_backend *b, const char *task_id,
                      struct sg_http_req *out);
    /* The service-account login request (credentials from b). */
    int (*build_login)(void *priv, const struct sg_conf_backend *b, struct sg_http_req *out);
    /* Take the session token out of a login answer: SG_OK and *session
     * (malloc'd), SG_DENIED when the backend rejected the credentials, SG_ERR on
     * anything else (reason filled). */
    int (*parse_login)(void *priv, int http_status, sg_header_lookup hdr, void *hdr_ctx,
                       const char *body, size_t len, char **session, char *reason,
                       size_t reason_cap);
    /* Present a session on a request (a header or a cookie). */
    void (*apply_session)(void *priv, const char *session, struct sg_http_req *req);
    /* Normalize one answer to the task request. Never fails: anything it cannot
     * make sense of is SG_OUT_ERROR with a reason. */
    void (*normalize)(void *priv, const char *task_id, int http_status, const char *body,
                      size_t len, struct sg_normalized *out);
};

#endif
