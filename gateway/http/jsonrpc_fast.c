/* The fast reader of a JSON-RPC body (http/jsonrpc_request.h): the bytes the
 * VMware SDK writes for a poll, matched as they are, no tree built.
 *
 * Why: a poll's answer is a cache hit that costs a few microseconds; reading
 * its body into a json-c tree (an object and a 16-bucket hash table per JSON
 * object, freed and wiped again) cost more than the rest of the request.
 * The SDK's bodies have one shape (api/JSONRPC.md 1.1 to 1.3, members always
 * in this order, compact), so that shape is matched byte for byte:
 *
 *   {"jsonrpc":"2.0","method":"invoke","params":{"serviceId":S,"operationId":O,
 *    "input":{"STRUCTURE":{"operation-input":{"task":T}}}      (tasks.get)
 *                                            {}                (cis.session)
 *    ,"ctx":{"appCtx":{"opId":X}[,"securityCtx":{"schemeId":
 *      "com.vmware.vapi.std.security.session_id","sessionId":I} |
 *      "com.vmware.vapi.std.security.user_pass","userName":U,"password":P}]}},
 *    "id":N}
 *
 * where every string is printable ASCII without '"' or '\' (no escapes to
 * decode, nothing outside ASCII to check) and N is a string. Anything else
 * (other member orders, whitespace, escapes, a number id, SAML contexts, a
 * value the tree reader would refuse) is left to the tree reader, which
 * decides as always. */
#include <stdlib.h>
#include <string.h>

#include "http/jsonrpc_int.h"
#include "http/jsonrpc_request.h"
#include "http/router.h"
#include "snapgate/auth.h"
#include "snapgate/common.h"

#define SCHEME_PREFIX "com.vmware.vapi.std.security."

struct cursor {
    const char *p;
    const char *end;
};

/* The literal s, next. */
static bool lit(struct cursor *c, const char *s, size_t n)
{
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}
#define LIT(c, s) lit((c), (s), sizeof(s) - 1)

/* A string's text up to its closing quote (consumed), when it needs no
 * decoding: bytes 0x20..0x7e but '"' and '\'. *at is its offset in the body. */
static bool text(struct cursor *c, const char *body, size_t *at, size_t *n)
{
    const char *q = c->p;
    while (q < c->end && *q != '"') {
        if (*q < 0x20 || *q > 0x7e || *q == '\\')
            return false;
        q++;
    }
    if (q == c->end)
        return false;
    *at = (size_t)(c->p - body);
    *n = (size_t)(q - c->p);
    c->p = q + 1;
    return true;
}

struct spans {
    size_t at[4], n[4]; /* 0 task or session id or user name, 1 password, 2 opId, 3 id */
};

/* The security context, after ctx.appCtx; *scheme set. */
static bool security(struct cursor *c, const char *body, enum sg_rpc_scheme *scheme,
                     struct spans *s)
{
    size_t at, n;
    *scheme = SG_RPC_SCHEME_NONE;
    if (!LIT(c, ",\"securityCtx\":{\"schemeId\":\""))
        return true;
    if (LIT(c, SCHEME_PREFIX "session_id\",\"sessionId\":\"")) {
        if (!text(c, body, &at, &n) || n < 1 || n > SG_RPC_SESSION_ID_MAX)
            return false;
        *scheme = SG_RPC_SCHEME_SESSION_ID;
        s->at[0] = at;
        s->n[0] = n;
    } else if (LIT(c, SCHEME_PREFIX "user_pass\",\"userName\":\"")) {
        if (!text(c, body, &s->at[0], &s->n[0]) || s->n[0] < 1 ||
            s->n[0] > SG_PRINCIPAL_NAME_MAX - 1 || memchr(body + s->at[0], ':', s->n[0]) ||
            !LIT(c, ",\"password\":\"") || !text(c, body, &s->at[1], &s->n[1]) ||
            s->n[0] + 1 + s->n[1] > SG_RPC_USER_PASS_MAX)
            return false;
        *scheme = SG_RPC_SCHEME_USER_PASS;
    } else {
        return false;
    }
    return LIT(c, "}");
}

/* The whole shape; the spans of the strings r hands out. */
static bool match(const char *body, size_t len, struct sg_rpc_request *r, struct spans *s)
{
    struct cursor c = {body, body + len};
    size_t sv_at, sv_n, op_at, op_n;
    const char *why;
    if (!LIT(&c, "{\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":{\"serviceId\":\"") ||
        !text(&c, body, &sv_at, &sv_n) || !LIT(&c, ",\"operationId\":\"") ||
        !text(&c, body, &op_at, &op_n) ||
        !sg_rpc_op_find(body + sv_at, sv_n, body + op_at, op_n, r) ||
        !LIT(&c, ",\"input\":{\"STRUCTURE\":{\"operation-input\":{"))
        return false;
    if (r->op == SG_RPC_TASK_GET) {
        size_t at, n;
        if (!LIT(&c, "\"task\":\"") || !text(&c, body, &at, &n) ||
            sg_task_id_check(body + at, n, &why) != 0)
            return false;
        memcpy(r->task, body + at, n);
        r->task[n] = '\0';
    }
    if (!LIT(&c, "}}},\"ctx\":{\"appCtx\":{\"opId\":\"") || !text(&c, body, &s->at[2], &s->n[2]) ||
        !LIT(&c, "}") || !security(&c, body, &r->sec.scheme, s) || !LIT(&c, "}},\"id\":\"") ||
        !text(&c, body, &s->at[3], &s->n[3]) || !LIT(&c, "}"))
        return false;
    /* The id echoed with its quotes, within the tree reader's bound. */
    return c.p == c.end && s->n[3] + 2 <= SG_RPC_ID_MAX;
}

bool sg_rpc_request_parse_fast(const char *body, size_t len, struct sg_rpc_request *r)
{
    struct spans s = {{0}, {0}};
    memset(r, 0, sizeof *r);
    if (len > SG_RPC_BODY_MAX || !match(body, len, r, &s)) {
        memset(r, 0, sizeof *r);
        return false;
    }
    r->id_len = s.n[3] + 2;
    memcpy(r->id, body + s.at[3] - 1, r->id_len);
    r->id[r->id_len] = '\0';
    if (sg_rpc_loggable(body + s.at[2], s.n[2], SG_RPC_OPID_MAX)) {
        memcpy(r->op_id, body + s.at[2], s.n[2]);
        r->op_id[s.n[2]] = '\0';
    }
    if (r->sec.scheme == SG_RPC_SCHEME_NONE)
        return true;
    /* The credentials live in a copy of the body (the caller wipes its own),
     * each string ended at its closing quote. */
    r->own = sg_xmalloc(len);
    r->own_len = len;
    memcpy(r->own, body, len);
    r->own[s.at[0] + s.n[0]] = '\0';
    if (r->sec.scheme == SG_RPC_SCHEME_SESSION_ID) {
        r->sec.session_id = r->own + s.at[0];
    } else {
        r->own[s.at[1] + s.n[1]] = '\0';
        r->sec.user_name = r->own + s.at[0];
        r->sec.password = r->own + s.at[1];
    }
    return true;
}
