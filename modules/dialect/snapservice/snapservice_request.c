/* Requests to a snapservice backend: the task GET, and the vCenter session
 * login of the appliance's API (POST /api/session, as cis). */
#include "snapgate/dialect_util.h"
#include "snapservice.h"

int sg_snapservice_build_task(void *priv, const struct sg_conf_backend *b, const char *task_id,
                              struct sg_http_req *out)
{
    (void)priv;
    (void)b;
    return sg_dialect_task_request("/api/snapservice/tasks/", task_id, out);
}

int sg_snapservice_build_login(void *priv, const struct sg_conf_backend *b, struct sg_http_req *out)
{
    (void)priv;
    return sg_dialect_basic_login(b, "/api/session", out);
}

int sg_snapservice_parse_login(void *priv, int http_status, sg_header_lookup hdr, void *hdr_ctx,
                               const char *body, size_t len, char **session, char *reason,
                               size_t reason_cap)
{
    (void)priv;
    (void)hdr;
    (void)hdr_ctx;
    return sg_dialect_parse_session(http_status, body, len, NULL, session, reason, reason_cap);
}

void sg_snapservice_apply_session(void *priv, const char *session, struct sg_http_req *req)
{
    (void)priv;
    sg_http_req_add_header(req, "vmware-api-session-id", session);
}
