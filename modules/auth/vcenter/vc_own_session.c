/* A delegated caller's own backend sessions (vc_own_session.h). */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/call.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "session_end.h"
#include "vc_own_session.h"

#define MOD "auth.vcenter"

struct own_op {
    sg_auth_session_cb cb;
    void *arg;
    const char *backend;
};

static struct own_op *op_new(const char *backend, sg_auth_session_cb cb, void *arg)
{
    struct own_op *op = sg_xcalloc(1, sizeof(*op));
    op->cb = cb;
    op->arg = arg;
    op->backend = backend;
    return op;
}

/* 401/403: the backend refused; 2xx: done; anything else: it could not say. */
static int outcome(const struct own_op *op, const struct sg_call_result *res, const char *what)
{
    if (res->status == 401 || res->status == 403)
        return SG_DENIED;
    if (res->status >= 200 && res->status < 300)
        return SG_OK;
    sg_log_warn(MOD, "backend %s: %s failed: %s (HTTP %d)", op->backend, what,
                res->status ? "unexpected answer" : res->reason, res->status);
    return SG_ERR;
}

/* The answer to POST /api/session: 201 and the session id as a JSON string. */
static void on_opened(const struct sg_call_result *res, void *arg)
{
    struct own_op *op = arg;
    int rc = outcome(op, res, "opening a caller's session");
    char *session = NULL;
    if (rc == SG_OK) {
        struct json_object *o = json_tokener_parse(res->body);
        if (o && json_object_is_type(o, json_type_string) && json_object_get_string_len(o) > 0)
            session = sg_xstrdup(json_object_get_string(o));
        json_object_put(o);
        if (!session) {
            sg_log_warn(MOD, "backend %s: its session answer holds no session id", op->backend);
            rc = SG_ERR;
        }
    }
    op->cb(rc, session, op->arg);
    free(op);
}

static void on_closed(const struct sg_call_result *res, void *arg)
{
    struct own_op *op = arg;
    op->cb(outcome(op, res, "ending a caller's session"), NULL, op->arg);
    free(op);
}

int vc_own_session_open(struct sg_backend_worker *bw, const char *backend,
                        const char *authorization, sg_auth_session_cb cb, void *arg)
{
    if (!bw || !authorization)
        return SG_ERR;
    struct sg_http_req req = {.method = "POST", .path = sg_xstrdup("/api/session")};
    sg_http_req_add_header(&req, "Authorization", authorization);
    sg_http_req_add_header(&req, "Accept", "application/json");
    sg_call_start(bw, &req, on_opened, op_new(backend, cb, arg));
    return SG_AGAIN;
}

int vc_own_session_close(struct sg_backend_worker *bw, const char *backend, const char *session,
                         sg_auth_session_cb cb, void *arg)
{
    if (!bw || !session)
        return SG_ERR;
    struct sg_http_req req = {.method = "DELETE", .path = sg_xstrdup("/api/session")};
    sg_http_req_add_header(&req, VC_SESSION_HEADER, session);
    sg_http_req_add_header(&req, "Accept", "application/json");
    sg_call_start(bw, &req, on_closed, op_new(backend, cb, arg));
    return SG_AGAIN;
}
