/* The vijson dialect (VI/JSON, vCenter 8.0U1+, /sdk/vim25/{release}/...): the
 * operations and config hook the module table in vijson_module.c points at. */
#ifndef SG_DIALECT_VIJSON_H
#define SG_DIALECT_VIJSON_H

#include <stdbool.h>
#include <stddef.h>

#include "snapgate/conf.h"
#include "snapgate/dialect.h"

/* What the conf hook keeps of a backend entry: the dialect ops' priv. */
struct sg_vijson_conf {
    char *release; /* the API release every path names, e.g. "8.0.3.0" */
};

/* The backend's `release` (e.g. "8.0.3.0"): required, a non-empty string of
 * only letters, digits, '.', '_' and '-', since it becomes a path segment.
 * SG_OK with *priv a struct sg_vijson_conf (freed by sg_vijson_free_conf), or
 * SG_ERR with the problem added to errs and *priv NULL. */
int sg_vijson_conf(const struct sg_conf_node *node, const char *path, const struct sg_conf *conf,
                   struct sg_conf_errs *errs, void **priv);
void sg_vijson_free_conf(void *priv);
/* Whether two struct sg_vijson_conf (or NULLs) hold the same release. */
bool sg_vijson_conf_equal(const void *a, const void *b);

/* GET /sdk/vim25/{release}/Task/{moId}/info (priv: struct sg_vijson_conf).
 * SG_ERR without a release or for an empty, "." or ".." id. */
int sg_vijson_build_task(void *priv, const struct sg_conf_backend *b, const char *task_id,
                         struct sg_http_req *out);
/* POST .../SessionManager/SessionManager/Login with {"userName", "password"}
 * (priv: struct sg_vijson_conf); SG_ERR without a release or a service account. */
int sg_vijson_build_login(void *priv, const struct sg_conf_backend *b, struct sg_http_req *out);
/* The token is the vmware-api-session-id response header of a 200/201.
 * SG_DENIED for 401/403 or an InvalidLogin / NotAuthenticated / NoPermission
 * fault body. */
int sg_vijson_parse_login(void *priv, int http_status, sg_header_lookup hdr, void *hdr_ctx,
                          const char *body, size_t len, char **session, char *reason,
                          size_t reason_cap);
/* Adds the vmware-api-session-id request header. */
void sg_vijson_apply_session(void *priv, const char *session, struct sg_http_req *req);
/* 200: TaskInfo through sg_taskinfo_to_info. Otherwise by status, then by the
 * fault body's _typeName (sg_vim_fault_outcome). */
void sg_vijson_normalize(void *priv, const char *task_id, int http_status, const char *body,
                         size_t len, struct sg_normalized *out);

#endif
