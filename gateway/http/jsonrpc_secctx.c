/* params.ctx.securityCtx: which scheme, and its fields (JSONRPC.md 1.2 to 1.5).
 * Shapes only: whether the credentials are good is the provider chain's
 * question. A known scheme takes exactly the members the SDK sends, so what
 * the provider checks is all there is; an unknown scheme parses (the caller
 * answers it as unauthenticated, naming the schemes it takes). */
#include <json-c/json.h>
#include <string.h>

#include "http/jsonrpc_int.h"
#include "normalize/info_int.h"
#include "snapgate/auth.h"
#include "snapgate/basic_header.h"
#include "snapgate/info.h"

#define SCHEME_PREFIX "com.vmware.vapi.std.security."
#define USER_PASS_MAX SG_RPC_USER_PASS_MAX

static enum sg_rpc_code bad(char *reason, size_t cap, const char *what)
{
    sg_info_fail(reason, cap, "ctx.securityCtx", "%s", what);
    return SG_RPC_INVALID_PARAMS;
}

static bool only(struct json_object *obj, const char *where, const char *const *members,
                 char *reason, size_t cap)
{
    return sg_info_only_keys(obj, where, members, reason, cap) == 0;
}

/* obj[key] as a string of min..max bytes, *s its text. */
static bool text(struct json_object *obj, const char *key, size_t min, size_t max, const char **s)
{
    struct json_object *v;
    if (!sg_rpc_string(obj, key, &v))
        return false;
    size_t n = (size_t)json_object_get_string_len(v);
    *s = json_object_get_string(v);
    return n >= min && n <= max;
}

static bool object(struct json_object *obj, const char *key, struct json_object **v)
{
    return json_object_object_get_ex(obj, key, v) && json_object_is_type(*v, json_type_object);
}

/* One reader per known scheme, each after the list of the scheme's members:
 * sg_rpc_security_parse holds securityCtx to that list before the reader runs. */

static const char *const session_id_members[] = {"schemeId", "sessionId", NULL};

static enum sg_rpc_code session_id(struct json_object *sec, struct sg_rpc_security *out,
                                   char *reason, size_t cap)
{
    if (!text(sec, "sessionId", 1, SG_RPC_SESSION_ID_MAX, &out->session_id))
        return bad(reason, cap, "sessionId is not a string of 1..256 bytes");
    return SG_RPC_OK;
}

static const char *const user_pass_members[] = {"schemeId", "userName", "password", NULL};

static enum sg_rpc_code user_pass(struct json_object *sec, struct sg_rpc_security *out,
                                  char *reason, size_t cap)
{
    /* As a Basic credential would have it (RFC 7617): the first ':' ends the
     * user name, and user:password fits a Basic header. */
    if (!text(sec, "userName", 1, SG_PRINCIPAL_NAME_MAX - 1, &out->user_name) ||
        strchr(out->user_name, ':'))
        return bad(reason, cap, "userName is not a string of 1..255 bytes without ':'");
    if (!text(sec, "password", 0, USER_PASS_MAX, &out->password))
        return bad(reason, cap, "password is not a string");
    if (strlen(out->user_name) + 1 + strlen(out->password) > USER_PASS_MAX)
        return bad(reason, cap, "userName and password are too long");
    return SG_RPC_OK;
}

static const char *const saml_bearer_members[] = {"schemeId", "samlToken", NULL};

static enum sg_rpc_code saml_bearer(struct json_object *sec, struct sg_rpc_security *out,
                                    char *reason, size_t cap)
{
    if (!text(sec, "samlToken", 1, SG_RPC_BODY_MAX, &out->saml_token))
        return bad(reason, cap, "samlToken is not a non-empty string");
    return SG_RPC_OK;
}

/* Standard base64 with its padding, as the SDK's b64encode writes it. */
static bool base64(const char *s)
{
    size_t n = strlen(s), pad = 0;
    while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
        pad++;
    if (n == 0 || n % 4 != 0)
        return false;
    for (size_t i = 0; i < n - pad; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return false;
    }
    return true;
}

static bool utc_time(struct json_object *ts, const char *key, char out[32])
{
    const char *t;
    /* A longer fraction than this is no timestamp a signer writes. */
    return text(ts, key, 1, 64, &t) && sg_time_to_utc_ms(t, out) == 0;
}

static const char *const saml_hok_members[] = {"schemeId", "signature", "signatureAlgorithm",
                                               "timestamp", NULL};

static enum sg_rpc_code saml_hok(struct json_object *sec, struct sg_rpc_security *out, char *reason,
                                 size_t cap)
{
    static const char *const sig_members[] = {"samlToken", "value", NULL};
    static const char *const ts_members[] = {"created", "expires", NULL};
    static const char *const algs[] = {"RS256", "RS384", "RS512"};
    struct json_object *sig, *ts;
    const char *alg;
    if (!object(sec, "signature", &sig))
        return bad(reason, cap, "signature is not an object");
    if (!only(sig, "ctx.securityCtx.signature", sig_members, reason, cap))
        return SG_RPC_INVALID_PARAMS;
    if (!text(sig, "samlToken", 1, SG_RPC_BODY_MAX, &out->saml_token))
        return bad(reason, cap, "signature.samlToken is not a non-empty string");
    if (!text(sig, "value", 4, SG_RPC_SIGNATURE_MAX, &out->signature) || !base64(out->signature))
        return bad(reason, cap, "signature.value is not base64 of 4..1368 bytes");
    if (!text(sec, "signatureAlgorithm", 1, 8, &alg))
        return bad(reason, cap, "signatureAlgorithm is not RS256, RS384 or RS512");
    size_t a = 0;
    while (a < 3 && strcmp(alg, algs[a]) != 0)
        a++;
    if (a == 3)
        return bad(reason, cap, "signatureAlgorithm is not RS256, RS384 or RS512");
    out->algorithm = (enum sg_rpc_sig_alg)a;
    if (!object(sec, "timestamp", &ts))
        return bad(reason, cap, "timestamp is not an object");
    if (!only(ts, "ctx.securityCtx.timestamp", ts_members, reason, cap))
        return SG_RPC_INVALID_PARAMS;
    if (!utc_time(ts, "created", out->created) || !utc_time(ts, "expires", out->expires))
        return bad(reason, cap, "timestamp.created/expires is not an RFC 3339 date-time");
    return SG_RPC_OK;
}

enum sg_rpc_code sg_rpc_security_parse(struct json_object *sec, struct sg_rpc_security *out,
                                       char *reason, size_t cap)
{
    static const struct {
        enum sg_rpc_scheme scheme;
        const char *id;
        const char *const *members;
        enum sg_rpc_code (*read)(struct json_object *, struct sg_rpc_security *, char *, size_t);
    } schemes[] = {
        {SG_RPC_SCHEME_SESSION_ID, SCHEME_PREFIX "session_id", session_id_members, session_id},
        {SG_RPC_SCHEME_USER_PASS, SCHEME_PREFIX "user_pass", user_pass_members, user_pass},
        {SG_RPC_SCHEME_SAML_BEARER, SCHEME_PREFIX "saml_bearer_token", saml_bearer_members,
         saml_bearer},
        {SG_RPC_SCHEME_SAML_HOK, SCHEME_PREFIX "saml_hok_token", saml_hok_members, saml_hok},
    };
    struct json_object *id;
    memset(out, 0, sizeof *out);
    if (!sec)
        return SG_RPC_OK;
    if (!json_object_is_type(sec, json_type_object))
        return bad(reason, cap, "not an object");
    if (!sg_rpc_string(sec, "schemeId", &id))
        return bad(reason, cap, "schemeId is not a string");
    const char *name = json_object_get_string(id);
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        if (strcmp(name, schemes[i].id) == 0) {
            out->scheme = schemes[i].scheme;
            enum sg_rpc_code rc = SG_RPC_INVALID_PARAMS;
            if (only(sec, "ctx.securityCtx", schemes[i].members, reason, cap))
                rc = schemes[i].read(sec, out, reason, cap);
            if (rc != SG_RPC_OK)
                memset(out, 0, sizeof *out);
            return rc;
        }
    }
    out->scheme = SG_RPC_SCHEME_UNKNOWN;
    size_t n = (size_t)json_object_get_string_len(id);
    if (sg_rpc_loggable(name, n, SG_RPC_SCHEME_ID_MAX))
        memcpy(out->scheme_id, name, n + 1);
    return SG_RPC_OK;
}
