/* Which credentials a request's provider chain checks, chosen once:
 *
 *   REST      Authorization; without it, vmware-api-session-id
 *   JSON-RPC  params.ctx.securityCtx when the body has one:
 *               user_pass          -> the Basic value it stands for, so the
 *                                     basic and vcenter providers check it
 *                                     exactly as they check the header
 *               session_id         -> a session id, as vmware-api-session-id
 *               saml_bearer_token  -> the raw assertion
 *               saml_hok_token     -> the raw assertion with its proof: the
 *                                     request's signing input, signature,
 *                                     algorithm and timestamp
 *               any other scheme   -> nothing: unauthenticated
 *             without one, the headers as on REST.
 * One way through the chain for every protocol: no provider has a second
 * implementation for JSON-RPC. */
#include <evhtp/evhtp.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http/jsonrpc_canonical.h"
#include "http/jsonrpc_request.h"
#include "http/request_int.h"
#include "snapgate/basic_header.h"
#include "snapgate/common.h"
#include "snapgate/info.h"
#include "snapgate/log.h"

/* "Basic " + base64(user ":" password); the parser bounded both so the value
 * fits SG_BASIC_HEADER_MAX. */
static char *basic_value(const char *user, const char *password)
{
    size_t ul = strlen(user), pl = strlen(password);
    size_t n = ul + 1 + pl;
    unsigned char *plain = sg_xmalloc(n + 1);
    memcpy(plain, user, ul);
    plain[ul] = ':';
    memcpy(plain + ul + 1, password, pl);
    size_t cap = 6 + 4 * ((n + 2) / 3) + 1;
    char *out = sg_xmalloc(cap);
    memcpy(out, "Basic ", 6);
    EVP_EncodeBlock((unsigned char *)out + 6, plain, (int)n);
    OPENSSL_cleanse(plain, n);
    free(plain);
    return out;
}

/* The timestamp the parser rewrote to "YYYY-MM-DDTHH:MM:SS.mmmZ", as Unix
 * epoch ms; 0 before 1970 (long expired). */
static uint64_t utc_ms(const char *t)
{
    int64_t ms = 0;
    return sg_time_to_epoch_ms(t, &ms) == SG_OK && ms > 0 ? (uint64_t)ms : 0;
}

static bool choose_rpc(struct sg_request *r)
{
    const struct sg_rpc_security *sec = &r->rpc->sec;
    switch (sec->scheme) {
    case SG_RPC_SCHEME_NONE:
        return false; /* the headers decide */
    case SG_RPC_SCHEME_USER_PASS:
        r->cred_basic = basic_value(sec->user_name, sec->password);
        r->cred_header = r->cred_basic;
        break;
    case SG_RPC_SCHEME_SESSION_ID:
        r->cred_session = sec->session_id;
        r->cred_session_len = strlen(sec->session_id);
        break;
    case SG_RPC_SCHEME_SAML_HOK:
        r->cred_signing_input = sg_rpc_signing_input(r->rpc, &r->cred_proof.signing_input_len);
        if (!r->cred_signing_input) {
            /* The parser accepted what the canonical form refuses (a number
             * the runtime would print otherwise): no signature can match. */
            sg_log_req(SG_LOG_DEBUG, "jsonrpc", r->id, "no signing input for the request");
            break;
        }
        r->cred_has_proof = true;
        r->cred_proof.signing_input = r->cred_signing_input;
        r->cred_proof.signature = sec->signature;
        r->cred_proof.signature_len = strlen(sec->signature);
        r->cred_proof.algorithm = sec->algorithm == SG_RPC_RS512   ? SG_AUTH_RS512
                                  : sec->algorithm == SG_RPC_RS384 ? SG_AUTH_RS384
                                                                   : SG_AUTH_RS256;
        r->cred_proof.created_ms = utc_ms(sec->created);
        r->cred_proof.expires_ms = utc_ms(sec->expires);
        r->cred_saml = sec->saml_token;
        r->cred_saml_len = strlen(sec->saml_token);
        break;
    case SG_RPC_SCHEME_SAML_BEARER:
        r->cred_saml = sec->saml_token;
        r->cred_saml_len = strlen(sec->saml_token);
        break;
    case SG_RPC_SCHEME_UNKNOWN:
        if (sg_log_get_level() >= SG_LOG_DEBUG)
            sg_log_req(SG_LOG_DEBUG, "jsonrpc", r->id, "security scheme %s is not served",
                       sec->scheme_id[0] ? sec->scheme_id : "(unprintable)");
        break;
    }
    return true;
}

void req_cred_choose(struct sg_request *r)
{
    if (!(r->rpc && choose_rpc(r)) && r->ev) {
        r->cred_header = evhtp_header_find(r->ev->headers_in, "Authorization");
        const char *sid =
            r->cred_header ? NULL : evhtp_header_find(r->ev->headers_in, "vmware-api-session-id");
        if (sid) {
            r->cred_session = sid;
            r->cred_session_len = strlen(sid);
        }
    }
    r->cred_presented = r->cred_header || r->cred_session || r->cred_saml ||
                        (r->rpc && r->rpc->sec.scheme != SG_RPC_SCHEME_NONE);
}

void req_cred_clear(struct sg_request *r)
{
    if (r->cred_basic) {
        OPENSSL_cleanse(r->cred_basic, strlen(r->cred_basic));
        free(r->cred_basic);
    }
    free(r->cred_signing_input);
    r->cred_basic = r->cred_signing_input = NULL;
    r->cred_header = r->cred_session = r->cred_saml = NULL;
}
