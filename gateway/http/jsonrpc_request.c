/* The JSON-RPC envelope and the vAPI invoke params (http/jsonrpc_request.h):
 * checked from the outside in, so the error answered is the outermost thing
 * wrong, and the id is known (and echoed) for every error after its own. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "http/json_strict.h"
#include "http/jsonrpc_int.h"
#include "http/jsonrpc_request.h"
#include "http/router.h"
#include "normalize/datavalue.h"
#include "normalize/info_int.h"

static const struct {
    enum sg_rpc_op op;
    const char *service, *operation;
} ops[] = {
    {SG_RPC_TASK_GET, "com.vmware.snapservice.tasks", "get"},
    {SG_RPC_SESSION_CREATE, "com.vmware.cis.session", "create"},
    {SG_RPC_SESSION_GET, "com.vmware.cis.session", "get"},
    {SG_RPC_SESSION_DELETE, "com.vmware.cis.session", "delete"},
};

const char *sg_rpc_code_message(enum sg_rpc_code code)
{
    switch (code) {
    case SG_RPC_PARSE_ERROR:
        return "Parse error";
    case SG_RPC_INVALID_REQUEST:
        return "Invalid Request";
    case SG_RPC_METHOD_NOT_FOUND:
        return "Method not found";
    case SG_RPC_INVALID_PARAMS:
        return "Invalid params";
    case SG_RPC_OK:
        break;
    }
    return "";
}

bool sg_rpc_loggable(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\')
            return false;
    }
    return true;
}

bool sg_rpc_string(struct json_object *obj, const char *key, struct json_object **v)
{
    return json_object_object_get_ex(obj, key, v) && json_object_is_type(*v, json_type_string);
}

static enum sg_rpc_code fail(enum sg_rpc_code code, char *reason, size_t cap, const char *why)
{
    sg_info_fail(reason, cap, NULL, "%s", why);
    return code;
}

/* The id: present, a string or a number, short enough to echo. Its raw text
 * is taken from the body, so "\u0030" is answered as "\u0030", not "0". */
static enum sg_rpc_code read_id(const char *body, const struct sg_json_capture *c,
                                struct json_object *top, struct sg_rpc_request *r, char *reason,
                                size_t cap)
{
    struct json_object *id;
    if (!c->found || !json_object_object_get_ex(top, "id", &id))
        return fail(SG_RPC_INVALID_REQUEST, reason, cap, "no id: notifications are not served");
    json_type t = json_object_get_type(id);
    if (t != json_type_string && t != json_type_int && t != json_type_double)
        return fail(SG_RPC_INVALID_REQUEST, reason, cap, "id is not a string or a number");
    if (c->len > SG_RPC_ID_MAX)
        return fail(SG_RPC_INVALID_REQUEST, reason, cap, "id is longer than 256 bytes");
    /* The parser took it, so this holds; the envelope relies on it. */
    if (!sg_dv_id_valid(body + c->off, c->len))
        return fail(SG_RPC_INVALID_REQUEST, reason, cap, "id is no JSON string or number token");
    memcpy(r->id, body + c->off, c->len);
    r->id[c->len] = '\0';
    r->id_len = c->len;
    return SG_RPC_OK;
}

static enum sg_rpc_code read_envelope(struct json_object *top, char *reason, size_t cap)
{
    static const char *const members[] = {"jsonrpc", "method", "params", "id", NULL};
    struct json_object *v;
    if (sg_info_only_keys(top, "request", members, reason, cap) != 0)
        return SG_RPC_INVALID_REQUEST;
    if (!sg_rpc_string(top, "jsonrpc", &v) || strcmp(json_object_get_string(v), "2.0") != 0)
        return fail(SG_RPC_INVALID_REQUEST, reason, cap, "jsonrpc is not \"2.0\"");
    if (!sg_rpc_string(top, "method", &v))
        return fail(SG_RPC_INVALID_REQUEST, reason, cap, "method is not a string");
    if (strcmp(json_object_get_string(v), "invoke") != 0)
        return fail(SG_RPC_METHOD_NOT_FOUND, reason, cap, "method is not \"invoke\"");
    if (!json_object_object_get_ex(top, "params", &v) || !json_object_is_type(v, json_type_object))
        return fail(SG_RPC_INVALID_REQUEST, reason, cap, "params is not an object");
    return SG_RPC_OK;
}

bool sg_rpc_op_find(const char *service, size_t service_len, const char *operation,
                    size_t operation_len, struct sg_rpc_request *r)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strlen(ops[i].service) == service_len &&
            memcmp(service, ops[i].service, service_len) == 0 &&
            strlen(ops[i].operation) == operation_len &&
            memcmp(operation, ops[i].operation, operation_len) == 0) {
            r->op = ops[i].op;
            r->service = ops[i].service;
            r->operation = ops[i].operation;
            return true;
        }
    }
    return false;
}

static enum sg_rpc_code read_operation(struct json_object *params, struct sg_rpc_request *r,
                                       char *reason, size_t cap)
{
    struct json_object *s, *o;
    if (!sg_rpc_string(params, "serviceId", &s) || !sg_rpc_string(params, "operationId", &o))
        return fail(SG_RPC_INVALID_PARAMS, reason, cap,
                    "params.serviceId or params.operationId is not a string");
    if (sg_rpc_op_find(json_object_get_string(s), (size_t)json_object_get_string_len(s),
                       json_object_get_string(o), (size_t)json_object_get_string_len(o), r))
        return SG_RPC_OK;
    return fail(SG_RPC_METHOD_NOT_FOUND, reason, cap, "no such serviceId/operationId");
}

/* obj[key] as an object holding only the members named (NULL-terminated). */
static bool object_with(struct json_object *obj, const char *key, const char *const *members,
                        struct json_object **v, char *reason, size_t cap)
{
    if (!json_object_object_get_ex(obj, key, v) || !json_object_is_type(*v, json_type_object)) {
        sg_info_fail(reason, cap, NULL, "%s is not an object", key);
        return false;
    }
    return sg_info_only_keys(*v, key, members, reason, cap) == 0;
}

/* input = {"STRUCTURE":{"operation-input":{...}}}: {"task": id} for
 * tasks.get, {} for the session operations. */
static enum sg_rpc_code read_input(struct json_object *params, struct sg_rpc_request *r,
                                   char *reason, size_t cap)
{
    static const char *const structure[] = {"STRUCTURE", NULL};
    static const char *const operation_input[] = {"operation-input", NULL};
    static const char *const task_only[] = {"task", NULL};
    static const char *const nothing[] = {NULL};
    struct json_object *input, *st, *oi, *task;
    if (!object_with(params, "input", structure, &input, reason, cap) ||
        !object_with(input, "STRUCTURE", operation_input, &st, reason, cap) ||
        !object_with(st, "operation-input", r->op == SG_RPC_TASK_GET ? task_only : nothing, &oi,
                     reason, cap))
        return SG_RPC_INVALID_PARAMS;
    if (r->op != SG_RPC_TASK_GET)
        return SG_RPC_OK;
    if (!sg_rpc_string(oi, "task", &task))
        return fail(SG_RPC_INVALID_PARAMS, reason, cap, "operation-input.task is not a string");
    const char *why = NULL;
    size_t n = (size_t)json_object_get_string_len(task);
    if (sg_task_id_check(json_object_get_string(task), n, &why) != 0) {
        r->task_invalid = why;
        return SG_RPC_OK;
    }
    memcpy(r->task, json_object_get_string(task), n + 1);
    return SG_RPC_OK;
}

/* ctx = {"appCtx":{string members}, "securityCtx":{...}}, both optional. */
static enum sg_rpc_code read_ctx(struct json_object *params, struct sg_rpc_request *r, char *reason,
                                 size_t cap)
{
    static const char *const members[] = {"appCtx", "securityCtx", NULL};
    struct json_object *ctx, *app, *sec = NULL;
    if (!json_object_object_get_ex(params, "ctx", NULL))
        return sg_rpc_security_parse(NULL, &r->sec, reason, cap);
    if (!object_with(params, "ctx", members, &ctx, reason, cap))
        return SG_RPC_INVALID_PARAMS;
    if (json_object_object_get_ex(ctx, "appCtx", &app)) {
        if (!json_object_is_type(app, json_type_object))
            return fail(SG_RPC_INVALID_PARAMS, reason, cap, "ctx.appCtx is not an object");
        json_object_object_foreach(app, key, val)
        {
            if (!json_object_is_type(val, json_type_string))
                return fail(SG_RPC_INVALID_PARAMS, reason, cap,
                            "ctx.appCtx holds a value that is not a string");
            size_t n = (size_t)json_object_get_string_len(val);
            if (strcmp(key, "opId") == 0 &&
                sg_rpc_loggable(json_object_get_string(val), n, SG_RPC_OPID_MAX))
                memcpy(r->op_id, json_object_get_string(val), n + 1);
        }
    }
    json_object_object_get_ex(ctx, "securityCtx", &sec);
    if (sec == NULL && json_object_object_get_ex(ctx, "securityCtx", NULL))
        return fail(SG_RPC_INVALID_PARAMS, reason, cap, "ctx.securityCtx is null");
    return sg_rpc_security_parse(sec, &r->sec, reason, cap);
}

static enum sg_rpc_code read_params(struct json_object *params, struct sg_rpc_request *r,
                                    char *reason, size_t cap)
{
    static const char *const members[] = {"serviceId", "operationId", "input", "ctx", NULL};
    enum sg_rpc_code rc = read_operation(params, r, reason, cap);
    if (rc != SG_RPC_OK)
        return rc;
    if (sg_info_only_keys(params, "params", members, reason, cap) != 0)
        return SG_RPC_INVALID_PARAMS;
    rc = read_input(params, r, reason, cap);
    return rc != SG_RPC_OK ? rc : read_ctx(params, r, reason, cap);
}

enum sg_rpc_code sg_rpc_request_parse(const char *body, size_t len, struct sg_rpc_request *r,
                                      char *reason, size_t cap)
{
    if (cap)
        reason[0] = '\0';
    if (sg_rpc_request_parse_fast(body, len, r))
        return SG_RPC_OK;
    return sg_rpc_request_parse_tree(body, len, r, reason, cap);
}

enum sg_rpc_code sg_rpc_request_parse_tree(const char *body, size_t len, struct sg_rpc_request *r,
                                           char *reason, size_t cap)
{
    memset(r, 0, sizeof *r);
    if (cap)
        reason[0] = '\0';
    if (len > SG_RPC_BODY_MAX)
        return fail(SG_RPC_INVALID_REQUEST, reason, cap, "the body is over 64 KiB");
    struct sg_json_capture id = {.key = "id"};
    if (!sg_json_strict_parse(body, len, &id, &r->tree, reason, cap))
        return SG_RPC_PARSE_ERROR;
    /* A batch (an array) too: the SDK never sends one. */
    enum sg_rpc_code rc =
        json_object_is_type(r->tree, json_type_object)
            ? read_id(body, &id, r->tree, r, reason, cap)
            : fail(SG_RPC_INVALID_REQUEST, reason, cap, "the request is not an object");
    if (rc == SG_RPC_OK)
        rc = read_envelope(r->tree, reason, cap);
    if (rc == SG_RPC_OK) {
        struct json_object *params;
        json_object_object_get_ex(r->tree, "params", &params);
        rc = read_params(params, r, reason, cap);
    }
    if (rc != SG_RPC_OK) {
        /* Nothing but the id is meant to be used after an error. */
        struct sg_rpc_request keep = {.id_len = r->id_len};
        memcpy(keep.id, r->id, r->id_len + 1);
        sg_rpc_request_clear(r);
        *r = keep;
    }
    return rc;
}

enum sg_rpc_code sg_rpc_headers_check(const struct sg_rpc_request *r, const char *service,
                                      const char *operation, char *reason, size_t cap)
{
    if ((service && (!r->service || strcmp(service, r->service) != 0)) ||
        (operation && (!r->operation || strcmp(operation, r->operation) != 0)))
        return fail(SG_RPC_INVALID_REQUEST, reason, cap,
                    "vapi-service/vapi-operation name another operation than the body");
    return SG_RPC_OK;
}

void sg_rpc_request_wipe(struct sg_rpc_request *r)
{
    if (r->own)
        OPENSSL_cleanse(r->own, r->own_len);
    if (!r->tree)
        return;
    /* sg_json_put_wiped wipes, then puts: hold one more reference so the
     * tree outlives the wipe. */
    json_object_get(r->tree);
    sg_json_put_wiped(r->tree);
}

void sg_rpc_request_clear(struct sg_rpc_request *r)
{
    if (r->own) {
        OPENSSL_cleanse(r->own, r->own_len);
        free(r->own);
    }
    sg_json_put_wiped(r->tree);
    memset(r, 0, sizeof *r);
}
