/* The snapservice dialect (another snapservice endpoint, /api/snapservice/tasks):
 * the operations the module table in snapservice_module.c points at. */
#ifndef SG_DIALECT_SNAPSERVICE_H
#define SG_DIALECT_SNAPSERVICE_H

#include <stddef.h>

#include "snapgate/dialect.h"

int sg_snapservice_build_task(void *priv, const struct sg_conf_backend *b, const char *task_id,
                              struct sg_http_req *out);
int sg_snapservice_build_login(void *priv, const struct sg_conf_backend *b,
                               struct sg_http_req *out);
int sg_snapservice_parse_login(void *priv, int http_status, sg_header_lookup hdr, void *hdr_ctx,
                               const char *body, size_t len, char **session, char *reason,
                               size_t reason_cap);
void sg_snapservice_apply_session(void *priv, const char *session, struct sg_http_req *req);
void sg_snapservice_normalize(void *priv, const char *task_id, int http_status, const char *body,
                              size_t len, struct sg_normalized *out);

#endif
