/* The JSON-RPC request parser (gateway/http/jsonrpc_request.c, _secctx.c):
 * every verbatim request of JSONRPC.md sections 1 and 2
 * (tests/fixtures/jsonrpc/requests) to its fields, each protocol error class
 * with the id it is answered with, strictness on a real request, the
 * vapi-service / vapi-operation cross-check, and credentials wiped. */
#include <check.h>
#include <stdbool.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/jsonrpc_request.h"
#include "sg_test_util.h"

static char *fixture(const char *name, size_t *len)
{
    return sg_test_read_own_fixture(len, "jsonrpc/requests/%s.json", name);
}

struct verbatim {
    const char *file;
    enum sg_rpc_op op;
    const char *task, *op_id;
    enum sg_rpc_scheme scheme;
    const char *secret; /* session id, password or the token's start */
    const char *user;
};

static const struct verbatim verbatims[] = {
    {"none", SG_RPC_TASK_GET, "task-1", "cbee7946-0bb7-4994-9456-5ec3e3d3bdc2", SG_RPC_SCHEME_NONE,
     NULL, NULL},
    {"session-id", SG_RPC_TASK_GET, "task-1", "c742f076-9278-4cea-8c51-883d32783af4",
     SG_RPC_SCHEME_SESSION_ID, "b5ac1e5e8a0c4f4e9d3f0a1b2c3d4e5f", NULL},
    {"user-pass", SG_RPC_TASK_GET, "task-1", "0fc0fa36-baa8-4846-b7e8-56db903e011e",
     SG_RPC_SCHEME_USER_PASS, "alice-pw", "alice@vsphere.local"},
    {"saml-bearer", SG_RPC_TASK_GET, "task-1", "17bc1026-55da-444c-b1e8-db967b693411",
     SG_RPC_SCHEME_SAML_BEARER,
     "<saml2:Assertion xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_a1\"", NULL},
    {"saml-hok", SG_RPC_TASK_GET, "task-1", "e3cacc22-17a1-4fa2-afc0-fc48f2c00136",
     SG_RPC_SCHEME_SAML_HOK,
     "<saml2:Assertion xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\" "
     "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" ID=\"_h1\"",
     NULL},
    {"session-create", SG_RPC_SESSION_CREATE, "", "4c4e2a31-812f-4a9c-8930-9171e273295c",
     SG_RPC_SCHEME_USER_PASS, "alice-pw", "alice@vsphere.local"},
    {"session-id-after-create", SG_RPC_TASK_GET, "task-1", "80cb14a7-0769-4000-9e4e-a8d921599c63",
     SG_RPC_SCHEME_SESSION_ID, "5f0e3c1a9d2b4c6e8f7a1b2c3d4e5f60", NULL},
};

START_TEST(test_verbatim)
{
    const struct verbatim *v = &verbatims[_i];
    size_t len;
    char *body = fixture(v->file, &len);
    struct sg_rpc_request r;
    char reason[200] = "";
    ck_assert_msg(sg_rpc_request_parse(body, len, &r, reason, sizeof reason) == SG_RPC_OK, "%s: %s",
                  v->file, reason);
    ck_assert_str_eq(r.id, "\"0\"");
    ck_assert_uint_eq(r.id_len, 3);
    ck_assert_int_eq(r.op, v->op);
    ck_assert_str_eq(r.task, v->task);
    ck_assert_str_eq(r.op_id, v->op_id);
    ck_assert_int_eq(r.sec.scheme, v->scheme);
    /* The SDK's own shapes take the fast path (no tree); SAML ones the tree. */
    bool fast = v->scheme == SG_RPC_SCHEME_NONE || v->scheme == SG_RPC_SCHEME_SESSION_ID ||
                v->scheme == SG_RPC_SCHEME_USER_PASS;
    ck_assert(fast ? r.tree == NULL && (r.own != NULL) == (v->scheme != SG_RPC_SCHEME_NONE)
                   : r.tree != NULL);
    const char *service =
        v->op == SG_RPC_TASK_GET ? "com.vmware.snapservice.tasks" : "com.vmware.cis.session";
    ck_assert_str_eq(r.service, service);
    ck_assert_str_eq(r.operation, v->op == SG_RPC_TASK_GET ? "get" : "create");
    /* The headers the SDK sent with it (JSONRPC.md) agree with the body. */
    ck_assert_int_eq(sg_rpc_headers_check(&r, service, r.operation, NULL, 0), SG_RPC_OK);
    switch (v->scheme) {
    case SG_RPC_SCHEME_SESSION_ID:
        ck_assert_str_eq(r.sec.session_id, v->secret);
        break;
    case SG_RPC_SCHEME_USER_PASS:
        ck_assert_str_eq(r.sec.user_name, v->user);
        ck_assert_str_eq(r.sec.password, v->secret);
        break;
    case SG_RPC_SCHEME_SAML_BEARER:
        ck_assert_int_eq(strncmp(r.sec.saml_token, v->secret, strlen(v->secret)), 0);
        ck_assert_ptr_nonnull(strstr(r.sec.saml_token, "</saml2:Assertion>"));
        break;
    case SG_RPC_SCHEME_SAML_HOK:
        ck_assert_int_eq(strncmp(r.sec.saml_token, v->secret, strlen(v->secret)), 0);
        ck_assert_ptr_nonnull(strstr(r.sec.saml_token, "<ds:X509Certificate>MIIDBzCC"));
        ck_assert_int_eq(strncmp(r.sec.signature, "fHlrqKVAXT/e4hoht0pg", 20), 0);
        ck_assert_uint_eq(strlen(r.sec.signature), 344);
        ck_assert_int_eq(r.sec.algorithm, SG_RPC_RS256);
        ck_assert_str_eq(r.sec.created, "2026-12-06T04:24:54.465Z");
        ck_assert_str_eq(r.sec.expires, "2026-12-06T04:44:54.465Z");
        break;
    default:
        ck_assert_ptr_null(r.sec.session_id);
        ck_assert_ptr_null(r.sec.password);
        ck_assert_ptr_null(r.sec.saml_token);
    }
    sg_rpc_request_clear(&r);
    ck_assert_ptr_null(r.tree);
    sg_rpc_request_clear(&r);
    free(body);
}
END_TEST

/* A tasks.get request with one part replaced, to try each rule alone. */
#define REQ(id, top, params, input, ctx)                                                           \
    "{\"jsonrpc\":\"2.0\",\"method\":\"invoke\"" top ",\"params\":{\"serviceId\":"                 \
    "\"com.vmware.snapservice.tasks\",\"operationId\":\"get\"" params ",\"input\":" input          \
    ",\"ctx\":" ctx "}" id "}"
#define ID ",\"id\":\"7\""
#define INPUT "{\"STRUCTURE\":{\"operation-input\":{\"task\":\"task-1\"}}}"
#define TASK(t) "{\"STRUCTURE\":{\"operation-input\":{\"task\":" t "}}}"
#define CTX "{\"appCtx\":{\"opId\":\"op-1\"}}"
#define SEC(s) "{\"appCtx\":{\"opId\":\"op-1\"},\"securityCtx\":{" s "}}"
#define SCHEME(name) "\"schemeId\":\"com.vmware.vapi.std.security." name "\""
#define OK_REQ REQ(ID, "", "", INPUT, CTX)
#define TS                                                                                         \
    "\"timestamp\":{\"created\":\"2026-12-06T04:24:54.465Z\",\"expires\":\"2026-12-06T04:44:"      \
    "54Z\"}"
#define HOK(sig, alg, ts)                                                                          \
    SEC(SCHEME("saml_hok_token") ",\"signature\":{" sig "},\"signatureAlgorithm\":" alg "," ts)
#define SIG "\"samlToken\":\"<a/>\",\"value\":\"AAAA\""

struct error_case {
    const char *body;
    enum sg_rpc_code want;
    const char *want_id; /* NULL: answered with id null */
};

static const struct error_case errors[] = {
    {OK_REQ, SG_RPC_OK, "\"7\""},
    /* -32700: not (strict) JSON, whatever id it may hold */
    {"", SG_RPC_PARSE_ERROR, NULL},
    {"{\"jsonrpc\":\"2.0\",\"id\":\"7\"", SG_RPC_PARSE_ERROR, NULL},
    {OK_REQ "x", SG_RPC_PARSE_ERROR, NULL},
    {REQ(",\"id\":\"7\",\"id\":\"8\"", "", "", INPUT, CTX), SG_RPC_PARSE_ERROR, NULL},
    {REQ(",\"id\":01", "", "", INPUT, CTX), SG_RPC_PARSE_ERROR, NULL},
    {REQ(",\"id\":1.", "", "", INPUT, CTX), SG_RPC_PARSE_ERROR, NULL},
    {REQ(ID, "", "", TASK("\"task-1\\u0000x\""), CTX), SG_RPC_PARSE_ERROR, NULL},
    {REQ(ID, "", "", INPUT,
         SEC(SCHEME("user_pass") ",\"userName\":\"a\",\"password\":\"x\","
                                 "\"password\":\"y\"")),
     SG_RPC_PARSE_ERROR, NULL},
    /* -32600, id null: no request object, or no usable id */
    {"[" OK_REQ "]", SG_RPC_INVALID_REQUEST, NULL},
    {"\"x\"", SG_RPC_INVALID_REQUEST, NULL},
    {"null", SG_RPC_INVALID_REQUEST, NULL},
    {"7", SG_RPC_INVALID_REQUEST, NULL},
    {REQ("", "", "", INPUT, CTX), SG_RPC_INVALID_REQUEST, NULL},
    {REQ(",\"id\":null", "", "", INPUT, CTX), SG_RPC_INVALID_REQUEST, NULL},
    {REQ(",\"id\":true", "", "", INPUT, CTX), SG_RPC_INVALID_REQUEST, NULL},
    {REQ(",\"id\":{}", "", "", INPUT, CTX), SG_RPC_INVALID_REQUEST, NULL},
    {REQ(",\"id\":[\"7\"]", "", "", INPUT, CTX), SG_RPC_INVALID_REQUEST, NULL},
    /* -32600 with the id echoed: the envelope */
    {REQ(ID, ",\"x\":1", "", INPUT, CTX), SG_RPC_INVALID_REQUEST, "\"7\""},
    {"{\"jsonrpc\":\"1.0\",\"method\":\"invoke\",\"params\":{},\"id\":7}", SG_RPC_INVALID_REQUEST,
     "7"},
    {"{\"jsonrpc\":2.0,\"method\":\"invoke\",\"params\":{},\"id\":7}", SG_RPC_INVALID_REQUEST, "7"},
    {"{\"method\":\"invoke\",\"params\":{},\"id\":7}", SG_RPC_INVALID_REQUEST, "7"},
    {"{\"jsonrpc\":\"2.0\",\"params\":{},\"id\":7}", SG_RPC_INVALID_REQUEST, "7"},
    {"{\"jsonrpc\":\"2.0\",\"method\":5,\"params\":{},\"id\":7}", SG_RPC_INVALID_REQUEST, "7"},
    {"{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"id\":7}", SG_RPC_INVALID_REQUEST, "7"},
    {"{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":[],\"id\":7}", SG_RPC_INVALID_REQUEST,
     "7"},
    {"{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":null,\"id\":7}", SG_RPC_INVALID_REQUEST,
     "7"},
    /* -32601: no such method or operation */
    {"{\"jsonrpc\":\"2.0\",\"method\":\"call\",\"params\":{},\"id\":7}", SG_RPC_METHOD_NOT_FOUND,
     "7"},
    {"{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":{\"serviceId\":\"com.vmware."
     "snapservice.tasks\",\"operationId\":\"list\"},\"id\":\"a\"}",
     SG_RPC_METHOD_NOT_FOUND, "\"a\""},
    {"{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":{\"serviceId\":\"com.vmware.cis."
     "tasks\",\"operationId\":\"get\"},\"id\":\"a\"}",
     SG_RPC_METHOD_NOT_FOUND, "\"a\""},
    {"{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":{\"serviceId\":\"com.vmware.cis."
     "session\",\"operationId\":\"get\\u0000\"},\"id\":\"a\"}",
     SG_RPC_PARSE_ERROR, NULL},
    /* -32602: the params of a known operation */
    {"{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":{\"serviceId\":5,\"operationId\":"
     "\"get\"},\"id\":\"a\"}",
     SG_RPC_INVALID_PARAMS, "\"a\""},
    {"{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":{\"serviceId\":\"com.vmware."
     "snapservice.tasks\"},\"id\":\"a\"}",
     SG_RPC_INVALID_PARAMS, "\"a\""},
    {REQ(ID, "", ",\"extra\":1", INPUT, CTX), SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", "null", CTX), SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", "{\"STRUCTURE\":{}}", CTX), SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", "{\"STRUCTURE\":{\"operation-input\":{}},\"x\":1}", CTX),
     SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", "{\"STRUCTURE\":{\"operation-input\":{}}}", CTX), SG_RPC_INVALID_PARAMS,
     "\"7\""},
    {REQ(ID, "", "", "{\"STRUCTURE\":{\"operation-input\":{\"task\":\"t\",\"x\":1}}}", CTX),
     SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", TASK("5"), CTX), SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", TASK("null"), CTX), SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, "[]"), SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, "{\"x\":{}}"), SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, "{\"appCtx\":[]}"), SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, "{\"appCtx\":{\"opId\":5}}"), SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, "{\"securityCtx\":null}"), SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, SEC("")), SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, SEC("\"schemeId\":5")), SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, SEC(SCHEME("session_id"))), SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, SEC(SCHEME("session_id") ",\"sessionId\":\"\"")), SG_RPC_INVALID_PARAMS,
     "\"7\""},
    {REQ(ID, "", "", INPUT, SEC(SCHEME("session_id") ",\"sessionId\":\"s\",\"x\":1")),
     SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, SEC(SCHEME("user_pass") ",\"userName\":\"a:b\",\"password\":\"p\"")),
     SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, SEC(SCHEME("user_pass") ",\"userName\":\"\",\"password\":\"p\"")),
     SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, SEC(SCHEME("user_pass") ",\"userName\":\"a\"")), SG_RPC_INVALID_PARAMS,
     "\"7\""},
    {REQ(ID, "", "", INPUT, SEC(SCHEME("user_pass") ",\"userName\":\"a\",\"password\":7")),
     SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, SEC(SCHEME("saml_bearer_token") ",\"samlToken\":\"\"")),
     SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, SEC(SCHEME("saml_bearer_token") ",\"token\":\"<a/>\"")),
     SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, HOK(SIG, "\"RS256\"", TS)), SG_RPC_OK, "\"7\""},
    {REQ(ID, "", "", INPUT, HOK(SIG, "\"HS256\"", TS)), SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, HOK(SIG, "\"RS256\\u0000\"", TS)), SG_RPC_PARSE_ERROR, NULL},
    {REQ(ID, "", "", INPUT, HOK(SIG, "\"RS256\"", "\"x\":1")), SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT,
         HOK(SIG, "\"RS256\"", "\"timestamp\":{\"created\":\"yesterday\",\"expires\":\"now\"}")),
     SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT,
         HOK(SIG, "\"RS256\"", "\"timestamp\":{\"created\":\"2026-12-06T04:24:54Z\"}")),
     SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, HOK("\"samlToken\":\"<a/>\",\"value\":\"AAA\"", "\"RS256\"", TS)),
     SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, HOK("\"samlToken\":\"<a/>\",\"value\":\"AA=A\"", "\"RS256\"", TS)),
     SG_RPC_INVALID_PARAMS, "\"7\""},
    {REQ(ID, "", "", INPUT, HOK("\"samlToken\":\"<a/>\",\"value\":\"AA==\"", "\"RS512\"", TS)),
     SG_RPC_OK, "\"7\""},
    {REQ(ID, "", "", INPUT, HOK("\"value\":\"AAAA\"", "\"RS256\"", TS)), SG_RPC_INVALID_PARAMS,
     "\"7\""},
    {REQ(ID, "", "", INPUT, HOK(SIG ",\"x\":1", "\"RS256\"", TS)), SG_RPC_INVALID_PARAMS, "\"7\""},
    /* accepted: other id forms, echoed as sent */
    {REQ(",\"id\":7", "", "", INPUT, CTX), SG_RPC_OK, "7"},
    {REQ(",\"id\":-1.5e3", "", "", INPUT, CTX), SG_RPC_OK, "-1.5e3"},
    {REQ(",\"id\" : \"\\u0030\" ", "", "", INPUT, CTX), SG_RPC_OK, "\"\\u0030\""},
    {REQ(",\"id\":\"\"", "", "", INPUT, CTX), SG_RPC_OK, "\"\""},
    {REQ(ID, "", "", INPUT, "{}"), SG_RPC_OK, "\"7\""},
    {"{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":{\"serviceId\":\"com.vmware."
     "snapservice.tasks\",\"operationId\":\"get\",\"input\":" INPUT "},\"id\":\"7\"}",
     SG_RPC_OK, "\"7\""},
};

START_TEST(test_errors)
{
    const struct error_case *c = &errors[_i];
    struct sg_rpc_request r;
    char reason[200] = "";
    enum sg_rpc_code got =
        sg_rpc_request_parse(c->body, strlen(c->body), &r, reason, sizeof reason);
    ck_assert_msg(got == c->want, "case %d: %d, want %d (%s)\n%s", _i, got, c->want, reason,
                  c->body);
    if (c->want_id) {
        ck_assert_str_eq(r.id, c->want_id);
        ck_assert_uint_eq(r.id_len, strlen(c->want_id));
    } else {
        ck_assert_uint_eq(r.id_len, 0);
    }
    if (got != SG_RPC_OK) {
        ck_assert_msg(reason[0] != '\0', "case %d: no reason", _i);
        ck_assert_ptr_null(r.tree);
        ck_assert_int_eq(r.sec.scheme, SG_RPC_SCHEME_NONE);
    }
    ck_assert_int_eq(sg_rpc_code_message(got)[0] != '\0', got != SG_RPC_OK);
    sg_rpc_request_clear(&r);
}
END_TEST

START_TEST(test_limits)
{
    struct sg_rpc_request r;
    char reason[200];
    /* 256 bytes of id are echoed, 257 are not. */
    char body[2048], id[300];
    memset(id, 'i', sizeof id);
    for (int n = 256; n <= 257; n++) {
        snprintf(body, sizeof body, REQ(",\"id\":\"%.*s\"", "", "", INPUT, CTX), n - 2, id);
        enum sg_rpc_code rc = sg_rpc_request_parse(body, strlen(body), &r, reason, sizeof reason);
        ck_assert_int_eq(rc, n == 256 ? SG_RPC_OK : SG_RPC_INVALID_REQUEST);
        ck_assert_uint_eq(r.id_len, n == 256 ? 256 : 0);
        sg_rpc_request_clear(&r);
    }
    /* A task id of 256 bytes, not 257 (the REST rule). */
    for (int n = 256; n <= 257; n++) {
        snprintf(body, sizeof body, REQ(ID, "", "", TASK("\"%.*s\""), CTX), n, id);
        enum sg_rpc_code rc = sg_rpc_request_parse(body, strlen(body), &r, reason, sizeof reason);
        ck_assert_int_eq(rc, SG_RPC_OK);
        ck_assert_uint_eq(strlen(r.task), n == 256 ? 256 : 0);
        ck_assert(n == 256 ? r.task_invalid == NULL : r.task_invalid != NULL);
        sg_rpc_request_clear(&r);
    }
    /* user:password as long as a Basic header of 4096 bytes holds (3066),
     * not one more. */
    char *pw = malloc(3100);
    memset(pw, 'p', 3100);
    for (int n = 3064; n <= 3065; n++) {
        char *b = malloc(4096);
        snprintf(b, 4096,
                 REQ(ID, "", "", INPUT,
                     SEC(SCHEME("user_pass") ",\"userName\":\"u\",\"password\":\"%.*s\"")),
                 n, pw);
        enum sg_rpc_code rc = sg_rpc_request_parse(b, strlen(b), &r, reason, sizeof reason);
        ck_assert_int_eq(rc, n == 3064 ? SG_RPC_OK : SG_RPC_INVALID_PARAMS);
        sg_rpc_request_clear(&r);
        free(b);
    }
    free(pw);
    /* Over 64 KiB is refused before it is read. */
    size_t big = SG_RPC_BODY_MAX + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    memcpy(huge, OK_REQ, strlen(OK_REQ));
    ck_assert_int_eq(sg_rpc_request_parse(huge, big, &r, reason, sizeof reason),
                     SG_RPC_INVALID_REQUEST);
    ck_assert_int_eq(sg_rpc_request_parse(huge, big - 1, &r, reason, sizeof reason), SG_RPC_OK);
    sg_rpc_request_clear(&r);
    free(huge);
}
END_TEST

/* A task that is a string but no task id is a well-formed request: answered
 * invalid_argument by the gateway, as REST answers the id 400. */
START_TEST(test_bad_task_is_no_protocol_error)
{
    static const char *const bodies[] = {
        REQ(ID, "", "", TASK("\"\""), CTX),          REQ(ID, "", "", TASK("\"a b\""), CTX),
        REQ(ID, "", "", TASK("\"a\\tb\""), CTX),     REQ(ID, "", "", TASK("\"caf\\u00e9\""), CTX),
        REQ(ID, "", "", TASK("\"a\\u007fb\""), CTX), REQ(ID, "", "", TASK("\"..\""), CTX),
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct sg_rpc_request r;
        ck_assert_int_eq(sg_rpc_request_parse(bodies[i], strlen(bodies[i]), &r, NULL, 0),
                         SG_RPC_OK);
        ck_assert_msg(r.task_invalid != NULL, "%zu", i);
        ck_assert_str_eq(r.task, "");
        ck_assert_str_eq(r.id, "\"7\"");
        sg_rpc_request_clear(&r);
    }
}
END_TEST

START_TEST(test_task_is_taken_as_sent)
{
    /* No percent-decoding here: the SDK sends the id as a plain string. */
    struct sg_rpc_request r;
    const char *body = REQ(ID, "", "", TASK("\"a%2Fb\\/c:d\""), CTX);
    ck_assert_int_eq(sg_rpc_request_parse(body, strlen(body), &r, NULL, 0), SG_RPC_OK);
    ck_assert_str_eq(r.task, "a%2Fb/c:d");
    sg_rpc_request_clear(&r);
}
END_TEST

START_TEST(test_op_id_for_logs)
{
    static const struct {
        const char *ctx, *want;
    } cases[] = {
        {"{\"appCtx\":{\"opId\":\"abc-123\",\"$userAgent\":\"x y\"}}", "abc-123"},
        {"{\"appCtx\":{\"opId\":\"a b\"}}", ""},
        {"{\"appCtx\":{\"opId\":\"a\\\"b\"}}", ""},
        {"{\"appCtx\":{\"opId\":\"a\\nb\"}}", ""},
        {"{\"appCtx\":{\"opId\":\"\"}}", ""},
        {"{\"appCtx\":{\"opId\":\"caf\\u00e9\"}}", ""},
        {"{\"appCtx\":{\"opId\":\"0123456789012345678901234567890123456789012345678901234567890"
         "123456789012345678\"}}",
         "0123456789012345678901234567890123456789012345678901234567890123456789012345678"},
        {"{\"appCtx\":{\"opId\":\"0123456789012345678901234567890123456789012345678901234567890"
         "1234567890123456789\"}}",
         ""},
        {"{\"appCtx\":{}}", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body, REQ(ID, "", "", INPUT, "%s"), cases[i].ctx);
        struct sg_rpc_request r;
        char reason[200] = "";
        ck_assert_msg(sg_rpc_request_parse(body, strlen(body), &r, reason, sizeof reason) ==
                          SG_RPC_OK,
                      "%zu: %s", i, reason);
        ck_assert_str_eq(r.op_id, cases[i].want);
        sg_rpc_request_clear(&r);
    }
}
END_TEST

START_TEST(test_unknown_scheme)
{
    struct sg_rpc_request r;
    const char *body = REQ(ID, "", "", INPUT,
                           "{\"securityCtx\":{\"schemeId\":\"com.example.oauth\",\"token\":1}}");
    ck_assert_int_eq(sg_rpc_request_parse(body, strlen(body), &r, NULL, 0), SG_RPC_OK);
    ck_assert_int_eq(r.sec.scheme, SG_RPC_SCHEME_UNKNOWN);
    ck_assert_str_eq(r.sec.scheme_id, "com.example.oauth");
    sg_rpc_request_clear(&r);
    /* Not safe to log: still unknown, its name left out. */
    body = REQ(ID, "", "", INPUT, "{\"securityCtx\":{\"schemeId\":\"a\\nb\"}}");
    ck_assert_int_eq(sg_rpc_request_parse(body, strlen(body), &r, NULL, 0), SG_RPC_OK);
    ck_assert_int_eq(r.sec.scheme, SG_RPC_SCHEME_UNKNOWN);
    ck_assert_str_eq(r.sec.scheme_id, "");
    sg_rpc_request_clear(&r);
}
END_TEST

START_TEST(test_session_operations)
{
    static const char *const ops[] = {"create", "get", "delete"};
    static const enum sg_rpc_op want[] = {SG_RPC_SESSION_CREATE, SG_RPC_SESSION_GET,
                                          SG_RPC_SESSION_DELETE};
    for (size_t i = 0; i < 3; i++) {
        char body[1024];
        snprintf(body, sizeof body,
                 "{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":{"
                 "\"serviceId\":\"com.vmware.cis.session\",\"operationId\":\"%s\","
                 "\"input\":{\"STRUCTURE\":{\"operation-input\":{}}},"
                 "\"ctx\":" SEC(SCHEME("session_id") ",\"sessionId\":\"s1\"") "},\"id\":\"1\"}",
                 ops[i]);
        struct sg_rpc_request r;
        char reason[200] = "";
        ck_assert_msg(sg_rpc_request_parse(body, strlen(body), &r, reason, sizeof reason) ==
                          SG_RPC_OK,
                      "%s", reason);
        ck_assert_int_eq(r.op, want[i]);
        ck_assert_str_eq(r.operation, ops[i]);
        ck_assert_str_eq(r.task, "");
        ck_assert_str_eq(r.sec.session_id, "s1");
        ck_assert_int_eq(sg_rpc_headers_check(&r, "com.vmware.cis.session", NULL, NULL, 0),
                         SG_RPC_OK);
        ck_assert_int_eq(sg_rpc_headers_check(&r, NULL, "get", NULL, 0),
                         i == 1 ? SG_RPC_OK : SG_RPC_INVALID_REQUEST);
        sg_rpc_request_clear(&r);
    }
}
END_TEST

START_TEST(test_headers_check)
{
    struct sg_rpc_request r;
    const char *body = OK_REQ;
    char reason[200] = "";
    ck_assert_int_eq(sg_rpc_request_parse(body, strlen(body), &r, NULL, 0), SG_RPC_OK);
    ck_assert_int_eq(sg_rpc_headers_check(&r, NULL, NULL, NULL, 0), SG_RPC_OK);
    ck_assert_int_eq(sg_rpc_headers_check(&r, "com.vmware.snapservice.tasks", "get", NULL, 0),
                     SG_RPC_OK);
    ck_assert_int_eq(sg_rpc_headers_check(&r, "com.vmware.snapservice.tasks", NULL, NULL, 0),
                     SG_RPC_OK);
    ck_assert_int_eq(sg_rpc_headers_check(&r, NULL, "get", NULL, 0), SG_RPC_OK);
    ck_assert_int_eq(
        sg_rpc_headers_check(&r, "com.vmware.cis.session", "get", reason, sizeof reason),
        SG_RPC_INVALID_REQUEST);
    ck_assert_ptr_nonnull(strstr(reason, "vapi-service"));
    ck_assert_int_eq(sg_rpc_headers_check(&r, NULL, "list", NULL, 0), SG_RPC_INVALID_REQUEST);
    ck_assert_int_eq(sg_rpc_headers_check(&r, "", NULL, NULL, 0), SG_RPC_INVALID_REQUEST);
    ck_assert_int_eq(sg_rpc_headers_check(&r, "COM.VMWARE.SNAPSERVICE.TASKS", NULL, NULL, 0),
                     SG_RPC_INVALID_REQUEST);
    sg_rpc_request_clear(&r);
}
END_TEST

static void assert_zero(const char *p, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(p[i] == 0, "%s: byte %zu not wiped", what, i);
}

START_TEST(test_credentials_wiped)
{
    static const char *const files[] = {"user-pass", "session-id", "saml-bearer", "saml-hok"};
    for (size_t f = 0; f < 4; f++) {
        size_t len;
        char *body = fixture(files[f], &len);
        struct sg_rpc_request r;
        ck_assert_int_eq(sg_rpc_request_parse_tree(body, len, &r, NULL, 0), SG_RPC_OK);
        const char *secret = r.sec.password     ? r.sec.password
                             : r.sec.session_id ? r.sec.session_id
                                                : r.sec.saml_token;
        size_t n = strlen(secret);
        ck_assert_uint_gt(n, 0);
        /* clear must wipe: with one more reference held, the tree survives
         * the clear and shows what it left. */
        struct json_object *tree = json_object_get(r.tree);
        sg_rpc_request_clear(&r);
        assert_zero(secret, n, files[f]);
        ck_assert_ptr_null(r.tree);
        ck_assert_ptr_null(r.sec.password);
        json_object_put(tree);
        free(body);
    }
    /* wipe alone keeps the struct (and its pointers) usable for the check. */
    size_t len;
    char *body = fixture("user-pass", &len);
    struct sg_rpc_request r;
    ck_assert_int_eq(sg_rpc_request_parse_tree(body, len, &r, NULL, 0), SG_RPC_OK);
    sg_rpc_request_wipe(&r);
    assert_zero(r.sec.password, strlen("alice-pw"), "wipe");
    ck_assert_ptr_nonnull(r.tree);
    sg_rpc_request_clear(&r);
    free(body);
}
END_TEST

/* The fast reader's copy of the body holds the credentials: wipe zeroes it. */
START_TEST(test_fast_credentials_wiped)
{
    static const char *const files[] = {"user-pass", "session-id"};
    for (size_t f = 0; f < 2; f++) {
        size_t len;
        char *body = fixture(files[f], &len);
        struct sg_rpc_request r;
        ck_assert(sg_rpc_request_parse_fast(body, len, &r));
        ck_assert_ptr_nonnull(r.own);
        sg_rpc_request_wipe(&r);
        assert_zero(r.own, r.own_len, files[f]);
        sg_rpc_request_clear(&r);
        ck_assert_ptr_null(r.own);
        free(body);
    }
}
END_TEST

static void assert_same(const struct sg_rpc_request *a, const struct sg_rpc_request *b,
                        const char *what)
{
    ck_assert_msg(a->id_len == b->id_len && memcmp(a->id, b->id, a->id_len) == 0, "%s: id", what);
    ck_assert_msg(a->op == b->op && a->service == b->service && a->operation == b->operation,
                  "%s: op", what);
    ck_assert_msg(strcmp(a->task, b->task) == 0, "%s: task", what);
    ck_assert_msg(strcmp(a->op_id, b->op_id) == 0, "%s: op_id", what);
    ck_assert_msg(a->sec.scheme == b->sec.scheme, "%s: scheme", what);
    const char *const fa[] = {a->sec.session_id, a->sec.user_name, a->sec.password};
    const char *const fb[] = {b->sec.session_id, b->sec.user_name, b->sec.password};
    for (size_t i = 0; i < 3; i++)
        ck_assert_msg((!fa[i] && !fb[i]) || (fa[i] && fb[i] && strcmp(fa[i], fb[i]) == 0),
                      "%s: credential %zu", what, i);
}

/* The SDK's own bodies take the fast path, to the tree reader's fields. */
START_TEST(test_fast_path_agrees)
{
    static const char *const fast[] = {"none", "session-id", "user-pass", "session-create",
                                       "session-id-after-create"};
    for (size_t f = 0; f < sizeof fast / sizeof fast[0]; f++) {
        size_t len;
        char *body = fixture(fast[f], &len);
        struct sg_rpc_request a, b;
        ck_assert_msg(sg_rpc_request_parse_fast(body, len, &a), "%s not fast", fast[f]);
        ck_assert_int_eq(sg_rpc_request_parse_tree(body, len, &b, NULL, 0), SG_RPC_OK);
        assert_same(&a, &b, fast[f]);
        sg_rpc_request_clear(&a);
        sg_rpc_request_clear(&b);
        free(body);
    }
    /* Not the SDK's shape: left to the tree reader, which decides. */
    static const char *const slow[] = {"saml-bearer", "saml-hok"};
    for (size_t f = 0; f < 2; f++) {
        size_t len;
        char *body = fixture(slow[f], &len);
        struct sg_rpc_request a;
        ck_assert(!sg_rpc_request_parse_fast(body, len, &a));
        ck_assert_ptr_null(a.own);
        free(body);
    }
    static const char *const variants[] = {
        /* whitespace, an escape, a number id, trailing bytes, a bad task, a
         * user name with ':', another member order */
        "{\"jsonrpc\": \"2.0\",\"method\":\"invoke\",\"params\":{\"serviceId\":\"com.vmware."
        "snapservice.tasks\",\"operationId\":\"get\",\"input\":{\"STRUCTURE\":{\"operation-"
        "input\":{\"task\":\"t\"}}},\"ctx\":{\"appCtx\":{\"opId\":\"x\"}}},\"id\":\"0\"}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":{\"serviceId\":\"com.vmware."
        "snapservice.tasks\",\"operationId\":\"get\",\"input\":{\"STRUCTURE\":{\"operation-"
        "input\":{\"task\":\"t\\u0041\"}}},\"ctx\":{\"appCtx\":{\"opId\":\"x\"}}},\"id\":\"0\"}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":{\"serviceId\":\"com.vmware."
        "snapservice.tasks\",\"operationId\":\"get\",\"input\":{\"STRUCTURE\":{\"operation-"
        "input\":{\"task\":\"t\"}}},\"ctx\":{\"appCtx\":{\"opId\":\"x\"}}},\"id\":0}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":{\"serviceId\":\"com.vmware."
        "snapservice.tasks\",\"operationId\":\"get\",\"input\":{\"STRUCTURE\":{\"operation-"
        "input\":{\"task\":\"t\"}}},\"ctx\":{\"appCtx\":{\"opId\":\"x\"}}},\"id\":\"0\"} ",
        "{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":{\"serviceId\":\"com.vmware."
        "snapservice.tasks\",\"operationId\":\"get\",\"input\":{\"STRUCTURE\":{\"operation-"
        "input\":{\"task\":\"..\"}}},\"ctx\":{\"appCtx\":{\"opId\":\"x\"}}},\"id\":\"0\"}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":{\"serviceId\":\"com.vmware."
        "snapservice.tasks\",\"operationId\":\"get\",\"input\":{\"STRUCTURE\":{\"operation-"
        "input\":{\"task\":\"t\"}}},\"ctx\":{\"appCtx\":{\"opId\":\"x\"},\"securityCtx\":{"
        "\"schemeId\":\"com.vmware.vapi.std.security.user_pass\",\"userName\":\"a:b\","
        "\"password\":\"p\"}}},\"id\":\"0\"}",
        "{\"method\":\"invoke\",\"jsonrpc\":\"2.0\",\"params\":{\"serviceId\":\"com.vmware."
        "snapservice.tasks\",\"operationId\":\"get\",\"input\":{\"STRUCTURE\":{\"operation-"
        "input\":{\"task\":\"t\"}}},\"ctx\":{\"appCtx\":{\"opId\":\"x\"}}},\"id\":\"0\"}",
    };
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        struct sg_rpc_request a;
        ck_assert_msg(!sg_rpc_request_parse_fast(variants[v], strlen(variants[v]), &a),
                      "variant %zu took the fast path", v);
    }
}
END_TEST

START_TEST(test_reasons_hold_no_credentials)
{
    static const char *const bodies[] = {
        REQ(ID, "", "", INPUT,
            SEC(SCHEME("user_pass") ",\"userName\":\"a:hunter2\",\"password\":\"hunter2\"")),
        REQ(ID, "", "", INPUT,
            SEC(SCHEME("user_pass") ",\"userName\":\"u\",\"password\":\"hunter2\",\"x\":1")),
        REQ(ID, "", "", INPUT, SEC(SCHEME("session_id") ",\"sessionId\":\"hunter2\",\"x\":1")),
        ("{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":{\"serviceId\":\"hunter2\","
         "\"operationId\":\"get\"},\"id\":\"a\"}"),
        "{\"password\":\"hunter2\x01\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct sg_rpc_request r;
        char reason[200] = "";
        ck_assert_int_ne(
            sg_rpc_request_parse(bodies[i], strlen(bodies[i]), &r, reason, sizeof reason),
            SG_RPC_OK);
        ck_assert_msg(reason[0] && !strstr(reason, "hunter2"), "%zu: %s", i, reason);
        sg_rpc_request_clear(&r);
    }
}
END_TEST

static Suite *request_suite(void)
{
    Suite *s = suite_create("jsonrpc_request");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_verbatim, 0, (int)(sizeof verbatims / sizeof verbatims[0]));
    tcase_add_loop_test(tc, test_errors, 0, (int)(sizeof errors / sizeof errors[0]));
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_task_is_taken_as_sent);
    tcase_add_test(tc, test_bad_task_is_no_protocol_error);
    tcase_add_test(tc, test_op_id_for_logs);
    tcase_add_test(tc, test_unknown_scheme);
    tcase_add_test(tc, test_session_operations);
    tcase_add_test(tc, test_headers_check);
    tcase_add_test(tc, test_credentials_wiped);
    tcase_add_test(tc, test_fast_credentials_wiped);
    tcase_add_test(tc, test_fast_path_agrees);
    tcase_add_test(tc, test_reasons_hold_no_credentials);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(request_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
