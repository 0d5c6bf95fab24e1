/* Session operations once the caller is authenticated, on both protocols:
 *
 *   create  POST /api/snapservice/sessions -> 201 "<id>"
 *           com.vmware.cis.session.create  -> {"SECRET":"<id>"}
 *   get     GET  /api/snapservice/sessions -> 200 {"user","created_time","last_accessed_time"}
 *           com.vmware.cis.session.get     -> com.vmware.cis.session.info
 *   delete  DELETE /api/snapservice/sessions -> 204
 *           com.vmware.cis.session.delete  -> output null
 *
 * A session is snapgate's own (gateway/auth/session.h), except for a caller
 * delegated to a vCenter: its session is the vCenter's, opened there with the
 * credential the chain checked and ended there (the provider's open_session
 * and close_session), so the backend vouches for every later request. get and
 * delete act on the session the request presented; get of a vCenter's
 * session answers its user, with the time of the check for both times
 * (snapgate keeps none of a backend session's times). */
#include <event2/buffer.h>
#include <evhtp/evhtp.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth_set.h"
#include "http/jsonrpc_request.h"
#include "http/request_int.h"
#include "worker/wstate.h"
#include "snapgate/common.h"
#include "snapgate/info.h"
#include "snapgate/log.h"

enum session_verb { VERB_CREATE, VERB_GET, VERB_DELETE };

static enum session_verb verb_of(const struct sg_request *r)
{
    if (r->rpc)
        return r->rpc->op == SG_RPC_SESSION_CREATE ? VERB_CREATE
               : r->rpc->op == SG_RPC_SESSION_GET  ? VERB_GET
                                                   : VERB_DELETE;
    return strcmp(r->method, "POST") == 0  ? VERB_CREATE
           : strcmp(r->method, "GET") == 0 ? VERB_GET
                                           : VERB_DELETE;
}

static void reply_json(struct sg_request *r, int status, const char *body, size_t len)
{
    if (r->ev) {
        req_stage_common(r);
        evhtp_headers_add_header(r->ev->headers_out,
                                 evhtp_header_new("Content-Type", "application/json", 0, 0));
        evhtp_headers_add_header(r->ev->headers_out,
                                 evhtp_header_new("Cache-Control", "no-store", 0, 0));
        if (len)
            evbuffer_add(r->ev->buffer_out, body, len);
    }
    req_send(r, status);
}

static void answer_created(struct sg_request *r, const char *id)
{
    char buf[SG_RPC_SESSION_ID_MAX + 64];
    if (r->rpc) {
        int n = snprintf(buf, sizeof(buf), "{\"SECRET\":\"%s\"}", id);
        req_rpc_reply_output(r, buf, (size_t)n);
    } else {
        int n = snprintf(buf, sizeof(buf), "\"%s\"", id);
        reply_json(r, 201, buf, (size_t)n);
    }
}

static void answer_info(struct sg_request *r, const char *user, uint64_t created, uint64_t accessed)
{
    char c[32] = "", a[32] = "";
    /* Times of this century: always in the range the formatter takes. */
    sg_time_format_utc_ms((int64_t)created, c);
    sg_time_format_utc_ms((int64_t)accessed, a);
    struct json_object *name = json_object_new_string(user);
    const char *quoted = json_object_to_json_string_ext(name, JSON_C_TO_STRING_NOSLASHESCAPE);
    char *body = r->rpc ? sg_xasprintf("{\"STRUCTURE\":{\"com.vmware.cis.session.info\":{"
                                       "\"user\":%s,\"created_time\":\"%s\","
                                       "\"last_accessed_time\":\"%s\"}}}",
                                       quoted, c, a)
                        : sg_xasprintf("{\"user\":%s,\"created_time\":\"%s\","
                                       "\"last_accessed_time\":\"%s\"}",
                                       quoted, c, a);
    json_object_put(name);
    if (r->rpc)
        req_rpc_reply_output(r, body, strlen(body));
    else
        reply_json(r, 200, body, strlen(body));
    free(body);
}

static void answer_deleted(struct sg_request *r)
{
    if (r->rpc)
        req_rpc_reply_output(r, "null", 4);
    else
        reply_json(r, 204, "", 0);
}

/* The store's answer to create or delete. */
static void store_done(struct sg_request *r, int rc)
{
    if (rc == SG_ERR) {
        r->why = "the session store failed";
        req_finish_error(r, SG_E_SESSIONS_UNAVAILABLE);
    } else if (verb_of(r) == VERB_CREATE) {
        answer_created(r, r->new_session);
    } else if (rc == SG_OK) {
        answer_deleted(r);
    } else {
        /* Deleted meanwhile (by another request or replica): it is gone,
         * and this caller's credential with it. */
        req_finish_error(r, SG_E_UNAUTHENTICATED);
    }
}

static void on_store_done(int rc, void *arg)
{
    struct sg_request *r = arg;
    ASSERT_NOT_INSIDE_CALL(r);
    if (!r->finished)
        store_done(r, rc);
    req_put(r);
}

static void store_call(struct sg_request *r, enum session_verb verb)
{
    int rc;
    r->refs++; /* on_store_done's */
    CALL_BEGIN(r);
    if (verb == VERB_CREATE)
        rc = sg_session_create(r->ws, &r->principal, r->new_session, on_store_done, r);
    else
        rc = sg_session_delete(r->ws, r->cred_session, r->cred_session_len, on_store_done, r);
    CALL_END(r);
    if (!req_call_settled(r, rc))
        return;
    store_done(r, rc);
}

/* The backend's answer for a delegated caller's own session (open or close). */
static void on_backend_session(int rc, char *session, void *arg)
{
    struct sg_request *r = arg;
    ASSERT_NOT_INSIDE_CALL(r);
    if (!r->finished) {
        if (rc == SG_ERR) {
            r->why = "the backend could not open or end the caller's session";
            req_finish_error(r, SG_E_UNAVAILABLE);
        } else if (rc != SG_OK) {
            req_finish_error(r, SG_E_UNAUTHENTICATED);
        } else if (session) {
            answer_created(r, session);
        } else {
            answer_deleted(r);
        }
    }
    sg_wipe_free(session);
    req_put(r);
}

/* A delegated caller's session is the backend's: opened with the credential
 * the chain checked, ended there, never kept here (auth.h open_session). */
static void backend_session(struct sg_request *r, enum session_verb verb)
{
    const struct sg_auth_inst *a = r->auth_by;
    int rc = SG_ERR;
    r->refs++; /* on_backend_session's */
    CALL_BEGIN(r);
    if (verb == VERB_CREATE && a && a->ops->open_session)
        rc = a->ops->open_session(a->inst, r->cred_header, on_backend_session, r);
    else if (verb == VERB_DELETE && a && a->ops->close_session)
        rc = a->ops->close_session(a->inst, r->cred_session, on_backend_session, r);
    CALL_END(r);
    if (!req_call_settled(r, rc))
        return;
    r->why = "the provider that vouched for the caller cannot open or end its sessions";
    req_finish_error(r, SG_E_UNAVAILABLE);
}

void req_session_op(struct sg_request *r)
{
    enum session_verb verb = verb_of(r);
    bool delegated = r->principal.upstream_session != NULL;
    if (verb == VERB_CREATE) {
        if (!delegated)
            store_call(r, VERB_CREATE);
        else if (r->cred_header)
            backend_session(r, VERB_CREATE);
        else
            /* Vouched for by a session it presented: that is its session. */
            answer_created(r, r->cred_session);
        return;
    }
    /* get and delete act on the session presented: credentials alone name none. */
    if (!r->cred_session) {
        req_finish_error(r, SG_E_UNAUTHENTICATED);
        return;
    }
    if (r->by_session) {
        if (verb == VERB_GET)
            answer_info(r, r->session_info.user, r->session_info.created_ms,
                        r->session_info.last_accessed_ms);
        else
            store_call(r, VERB_DELETE);
        return;
    }
    if (verb == VERB_DELETE) {
        backend_session(r, VERB_DELETE);
        return;
    }
    /* A vCenter's session, vouched for by the backend just now: snapgate keeps
     * none of its times, so both are the time of this check. */
    uint64_t now = sg_wall_ms();
    answer_info(r, r->principal.name, now, now);
}

void req_dispatch(struct sg_request *r)
{
    bool session_op = r->kind == SG_REQ_SESSIONS || (r->rpc && r->rpc->op != SG_RPC_TASK_GET);
    if (!session_op) {
        req_authenticated(r);
        return;
    }
    r->authenticated = true;
    if (!sg_auth_set_allows(r->auth, &r->principal)) {
        req_finish_error(r, SG_E_UNAUTHORIZED);
        return;
    }
    req_session_op(r);
}
