/* The request side of vAPI JSON-RPC (POST /api, issue 13): one body parsed
 * into what the gateway acts on, or the JSON-RPC protocol error to answer.
 * Pure: no I/O, no logging, no authentication (the security context is only
 * read here; checking it is the provider chain's job).
 *
 * What a request must look like (api/JSONRPC.md sections 1, 2, 6):
 *
 *   {"jsonrpc":"2.0","method":"invoke","id":<string or number>,
 *    "params":{"serviceId":S,"operationId":O,
 *              "input":{"STRUCTURE":{"operation-input":{...}}},
 *              "ctx":{"appCtx":{"opId":...},"securityCtx":{...}}}}
 *
 * Decisions, each refused rather than guessed at:
 * - The body is strict JSON (http/json_strict.h): duplicate names, a NUL,
 *   trailing bytes, "1.", integers past int64 are -32700, answered with id null.
 * - No id, or id null, is -32600 with id null. JSON-RPC calls a request
 *   without an id a notification, which gets no answer; snapgate serves none:
 *   every operation here exists for its answer (a tasks.get nobody reads is
 *   pure load on the backend, a session.create nobody learns the id of is a
 *   live credential), HTTP answers every request anyway, and the SDK always
 *   sends a string id. A null id is discouraged by JSON-RPC itself, and the
 *   envelope (normalize/datavalue.h) echoes only strings and numbers.
 * - A batch (a top-level array) is -32600 with id null: the SDK never sends one.
 * - method: not a string is -32600; a string other than "invoke" is -32601
 *   (JSON-RPC 2.0 section 5.1: "the method does not exist").
 * - Members nobody defined are refused at every level the SDK fills in (the
 *   envelope -32600; params, input, ctx, security contexts -32602); appCtx
 *   may carry any string members (vAPI's ApplicationContext is a string map).
 *   So the only number an accepted request can hold is its id.
 * - appCtx.opId is for logs: kept when it is 1..79 bytes of printable ASCII
 *   without space, quote or backslash (the rule of X-Request-Id), else left
 *   empty.
 *   The request is not refused for it.
 */
#ifndef SG_JSONRPC_REQUEST_H
#define SG_JSONRPC_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "snapgate/task.h"

struct json_object;

/* Bodies are at most this long (the HTTP front refuses longer ones, 413). */
#define SG_RPC_BODY_MAX 65536
/* The longest id echoed, in bytes of JSON text ("0" is 3 bytes). */
#define SG_RPC_ID_MAX 256
#define SG_RPC_OPID_MAX 79
#define SG_RPC_SCHEME_ID_MAX 127
/* session_id: longer ids are no id snapgate or vCenter issues. */
#define SG_RPC_SESSION_ID_MAX 256
/* saml_hok_token: base64 of an RSA signature of up to 8192 bits. */
#define SG_RPC_SIGNATURE_MAX 1368

/* The outcome: OK, or the JSON-RPC 2.0 error code to answer with. */
enum sg_rpc_code {
    SG_RPC_OK = 0,
    SG_RPC_PARSE_ERROR = -32700,
    SG_RPC_INVALID_REQUEST = -32600,
    SG_RPC_METHOD_NOT_FOUND = -32601,
    SG_RPC_INVALID_PARAMS = -32602,
};

/* The accepted operations (serviceId / operationId). */
enum sg_rpc_op {
    SG_RPC_TASK_GET = 0,   /* com.vmware.snapservice.tasks / get */
    SG_RPC_SESSION_CREATE, /* com.vmware.cis.session / create */
    SG_RPC_SESSION_GET,    /* com.vmware.cis.session / get */
    SG_RPC_SESSION_DELETE, /* com.vmware.cis.session / delete */
};

enum sg_rpc_scheme {
    SG_RPC_SCHEME_NONE = 0,    /* no securityCtx */
    SG_RPC_SCHEME_SESSION_ID,  /* com.vmware.vapi.std.security.session_id */
    SG_RPC_SCHEME_USER_PASS,   /* com.vmware.vapi.std.security.user_pass */
    SG_RPC_SCHEME_SAML_BEARER, /* com.vmware.vapi.std.security.saml_bearer_token */
    SG_RPC_SCHEME_SAML_HOK,    /* com.vmware.vapi.std.security.saml_hok_token */
    SG_RPC_SCHEME_UNKNOWN,     /* any other schemeId: the request parses, auth refuses it */
};

enum sg_rpc_sig_alg {
    SG_RPC_RS256 = 0,
    SG_RPC_RS384,
    SG_RPC_RS512,
};

/* The security context. The strings point into the request's tree: valid
 * until sg_rpc_request_clear, NUL-free, and never to be logged (session_id,
 * password and saml_token are credentials; clear wipes them). */
struct sg_rpc_security {
    enum sg_rpc_scheme scheme;
    /* SG_RPC_SCHEME_UNKNOWN: the schemeId when it is 1..127 bytes of printable
     * ASCII without quote or backslash (safe to log), else "". */
    char scheme_id[SG_RPC_SCHEME_ID_MAX + 1];
    const char *session_id; /* SESSION_ID: 1..256 bytes */
    /* USER_PASS: userName (1..255 bytes, no ':', as Basic has it) and password;
     * "Basic " + base64(user:password) fits SG_BASIC_HEADER_MAX (user:password
     * at most 3066 bytes), so it can go through the provider chain as the
     * Authorization header it stands for. */
    const char *user_name;
    const char *password;
    /* SAML_BEARER: samlToken; SAML_HOK: signature.samlToken. The raw assertion
     * XML, not base64 (JSONRPC.md 1.4). */
    const char *saml_token;
    /* SAML_HOK only. */
    const char *signature;         /* signature.value: strict padded base64, 4..1368 bytes */
    enum sg_rpc_sig_alg algorithm; /* signatureAlgorithm */
    /* timestamp.created / expires, rewritten by sg_time_to_utc_ms to
     * "YYYY-MM-DDTHH:MM:SS.mmmZ"; the signed text is the request's own. */
    char created[32];
    char expires[32];
};

struct sg_rpc_request {
    /* The id's JSON text exactly as sent (a string keeps its quotes and
     * escapes): what the answer echoes. id_len 0: answer with id null. Set on
     * errors too, as soon as the id is known valid. */
    char id[SG_RPC_ID_MAX + 1];
    size_t id_len;
    enum sg_rpc_op op;
    const char *service;   /* the accepted serviceId (a static string) */
    const char *operation; /* the accepted operationId (a static string) */
    /* SG_RPC_TASK_GET: params.input.STRUCTURE["operation-input"].task, held
     * to the REST path's task id rules (sg_task_id_check). "" otherwise. */
    char task[SG_TASK_ID_MAX + 1];
    /* SG_RPC_TASK_GET with a task that is a string but breaks the task id
     * rules: why (a static string), and task is "". Not a protocol error: the
     * request is well formed and answered invalid_argument, as the REST path
     * answers the same id 400 INVALID_ARGUMENT (the SDK raises InvalidArgument
     * for both). NULL otherwise. */
    const char *task_invalid;
    char op_id[SG_RPC_OPID_MAX + 1]; /* ctx.appCtx.opId, "" when absent or unfit for logs */
    struct sg_rpc_security sec;
    /* The whole body as parsed, for the holder-of-key signing input
     * (http/jsonrpc_canonical.h). Owned; its strings hold the credentials.
     * NULL when the fast path read the request (then own holds the strings). */
    struct json_object *tree;
    char *own; /* the fast path's copy of the body, its strings NUL-ended; wiped */
    size_t own_len;
};

/* "Parse error", "Invalid Request", "Method not found", "Invalid params"
 * (JSON-RPC 2.0 section 5.1), "" for SG_RPC_OK. */
const char *sg_rpc_code_message(enum sg_rpc_code code);

/* Parses body[0..len) into *r (which need not be initialised). On SG_RPC_OK
 * every field above is set. On an error, r->id/id_len tell which id to answer
 * with and reason says why (for logs: names members, never their values).
 * Either way the caller ends with sg_rpc_request_clear(r). The body itself is
 * the caller's: it held the credentials too. */
enum sg_rpc_code sg_rpc_request_parse(const char *body, size_t len, struct sg_rpc_request *r,
                                      char *reason, size_t cap);

/* The two readers behind sg_rpc_request_parse, which tries the fast one
 * first. The fast one (jsonrpc_fast.c) takes only a body byte for byte in the
 * shape the VMware SDK writes for tasks.get and the cis.session operations
 * with no, a session_id or a user_pass context (members in the SDK's order,
 * no whitespace, a string id, strings of printable ASCII without escapes),
 * builds no tree and fills r exactly as the tree reader would; it returns
 * false (r zeroed) for anything else, and the tree reader decides. The tree
 * reader takes any body. tests/fuzz/fuzz_jsonrpc_request.c checks that both
 * agree whenever the fast one accepts. */
bool sg_rpc_request_parse_fast(const char *body, size_t len, struct sg_rpc_request *r);
enum sg_rpc_code sg_rpc_request_parse_tree(const char *body, size_t len, struct sg_rpc_request *r,
                                           char *reason, size_t cap);

/* The vapi-service and vapi-operation headers the SDK sends beside the body
 * (NULL: the header is absent; present ones must match exactly). A mismatch
 * is SG_RPC_INVALID_REQUEST: the HTTP request names two operations and is
 * no valid request. (The vAPI runtime's own server answers -31001, a code
 * outside JSON-RPC's; the SDK raises the same JsonRpc20Error for either.)
 * Only meaningful after sg_rpc_request_parse returned SG_RPC_OK. */
enum sg_rpc_code sg_rpc_headers_check(const struct sg_rpc_request *r, const char *service,
                                      const char *operation, char *reason, size_t cap);

/* Overwrites every string of the request's tree with zeros (so every
 * credential sg_rpc_security points at), leaving the struct allocated: what
 * clear does first. */
void sg_rpc_request_wipe(struct sg_rpc_request *r);

/* Wipes, frees the tree, and zeroes *r. Safe after any outcome, and twice. */
void sg_rpc_request_clear(struct sg_rpc_request *r);

#endif
