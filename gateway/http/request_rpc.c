/* A vAPI JSON-RPC request (POST /api, POST /snapservice) up to the provider
 * chain: the body is parsed once (http/jsonrpc_request.h) and wiped in the
 * connection's buffer at once, a protocol error is answered here, and a valid
 * request goes on like the REST one: the same chain, the same cache, the same
 * flights; only its answers differ (request_rpc_reply.c). */
#include <event2/buffer.h>
#include <evhtp/evhtp.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/auth_set.h"
#include "http/jsonrpc_request.h"
#include "http/request_int.h"
#include "worker/wstate.h"
#include "snapgate/common.h"
#include "snapgate/log.h"

/* The body as one block, then zeroed: it may hold a password or an assertion
 * (the parsed tree keeps its own copies, wiped when the request ends). */
static enum sg_rpc_code parse_body(struct sg_request *r, char *reason, size_t cap)
{
    struct evbuffer *in = r->ev->buffer_in;
    size_t len = evbuffer_get_length(in);
    unsigned char *body = len ? evbuffer_pullup(in, -1) : (unsigned char *)"";
    enum sg_rpc_code code = sg_rpc_request_parse((const char *)body, len, r->rpc, reason, cap);
    if (len) {
        OPENSSL_cleanse(body, len);
        evbuffer_drain(in, len);
    }
    return code;
}

void req_rpc_begin(struct sg_request *r)
{
    char reason[200] = "";
    r->rpc = &r->rpc_storage;
    r->rpc_error = -1;
    enum sg_rpc_code code = parse_body(r, reason, sizeof(reason));
    if (code == SG_RPC_OK)
        code = sg_rpc_headers_check(r->rpc, evhtp_header_find(r->ev->headers_in, "vapi-service"),
                                    evhtp_header_find(r->ev->headers_in, "vapi-operation"), reason,
                                    sizeof(reason));
    if (code != SG_RPC_OK) {
        /* The caller's mistake, not ours: worth a line only when debugging. */
        if (sg_log_get_level() >= SG_LOG_DEBUG)
            sg_log_req(SG_LOG_DEBUG, "jsonrpc", r->id, "answered %d: %s", (int)code, reason);
        req_rpc_reply_protocol(r, (int)code);
        return;
    }
    if (r->rpc->task_invalid) {
        /* As the REST route does: before authentication, a bad id is 400. */
        if (sg_log_get_level() >= SG_LOG_DEBUG)
            sg_log_req(SG_LOG_DEBUG, "request", r->id, "malformed task id: %s",
                       r->rpc->task_invalid);
        req_finish_error(r, SG_E_INVALID_ARGUMENT);
        return;
    }
    if (r->rpc->op == SG_RPC_TASK_GET)
        snprintf(r->task, sizeof(r->task), "%s", r->rpc->task);
    r->auth = sg_auth_set_get(r->ws->auth);
    req_cred_choose(r);
    req_auth_start(r);
}
