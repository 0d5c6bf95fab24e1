/* Authentication providers: each looks at the Authorization header and says OK
 * (with a principal), DECLINED (not my scheme), DENIED, or AGAIN (callback later). */
#ifndef SG_AUTH_H
#define SG_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SG_PRINCIPAL_NAME_MAX 256

struct sg_principal {
    char name[SG_PRINCIPAL_NAME_MAX];
    char **groups; /* owned; freed by sg_principal_clear */
    size_t ngroups;
    /* Delegated principals only (the backend vouched for the caller): the
     * caller's own backend session, which task fetches for this caller carry
     * instead of the service account's. A secret: owned, wiped on clear. */
    char *upstream_session;
    /* With upstream_session: the backend (by name) the session belongs to;
     * this caller's fetches go there only. Owned, freed on clear. */
    char *upstream_backend;
};

void sg_principal_clear(struct sg_principal *p);

/* Called exactly once, from the loop, never from inside authenticate().
 * rc is SG_OK (principal filled), SG_DENIED, SG_DECLINED, or SG_ERR when the
 * provider could not decide (its backend unreachable, overload): the request
 * then fails closed with 503, never as a 401. */
typedef void (*sg_auth_cb)(int rc, struct sg_principal *p, void *arg);

/* What open_session / close_session report, exactly once, from the loop:
 * rc SG_OK (open: session is the new id, malloc'd, the callee's to wipe and
 * free), SG_DENIED (the backend refused the credential / did not know the
 * session), SG_ERR (the backend could not be asked). */
typedef void (*sg_auth_session_cb)(int rc, char *session, void *arg);

/* The signature algorithms of a holder-of-key request (vAPI signatureAlgorithm). */
enum sg_auth_sig_alg {
    SG_AUTH_RS256 = 0, /* RSA PKCS#1 v1.5 with SHA-256 */
    SG_AUTH_RS384,
    SG_AUTH_RS512,
};

/* The proof of possession a SAML holder-of-key request carries (vAPI
 * JSON-RPC saml_hok_token, api/JSONRPC.md 1.5): the caller signed
 * signing_input with the private key of the certificate in the assertion's
 * SubjectConfirmationData. Borrowed for the call only. */
struct sg_auth_proof {
    /* The canonical JSON of the whole request without its signature member
     * (gateway/http/jsonrpc_canonical.h): what the signature covers, the
     * timestamp and the operation's input included. */
    const char *signing_input;
    size_t signing_input_len;
    /* signature.value: strict padded base64 of the RSA signature. */
    const char *signature;
    size_t signature_len;
    enum sg_auth_sig_alg algorithm;
    /* timestamp.created / expires, Unix epoch ms (signed, inside signing_input). */
    uint64_t created_ms;
    uint64_t expires_ms;
};

struct sg_auth_ops {
    /* The scheme named in WWW-Authenticate, e.g. "Basic"; the core adds realm. */
    const char *scheme;
    /* authorization: the header value, NULL when absent; len its length.
     * Returns SG_OK (out filled), SG_DECLINED, SG_DENIED, or SG_AGAIN (then cb
     * is called later with out filled on success; out stays valid until then). */
    int (*authenticate)(void *inst, const char *authorization, size_t len, struct sg_principal *out,
                        sg_auth_cb cb, void *arg);
    /* Drop everything remembered (verified credentials): called on reload. */
    void (*forget)(void *inst);
    /* Optional: a caller that presents a vCenter session id
     * (`vmware-api-session-id`) instead of an Authorization header. Same
     * contract as authenticate. */
    int (*authenticate_session)(void *inst, const char *session_id, struct sg_principal *out,
                                sg_auth_cb cb, void *arg);
    /* Optional: a raw SAML assertion from a request body (the JSON-RPC
     * security contexts saml_bearer_token and saml_hok_token): xml[0..len),
     * the assertion's XML itself, neither base64 nor gzip, not NUL-terminated.
     * proof NULL: a bearer token; a holder-of-key assertion is DENIED.
     * proof set: a holder-of-key token, accepted only when the assertion is
     * holder-of-key, proof's signature verifies with the assertion's
     * confirmation key, and now lies within [created - skew, expires + skew].
     * Same contract as authenticate; providers without it are skipped
     * (DECLINED) for such a request. */
    int (*authenticate_assertion)(void *inst, const char *xml, size_t len,
                                  const struct sg_auth_proof *proof, struct sg_principal *out,
                                  sg_auth_cb cb, void *arg);
    /* Optional, for delegating providers: a session of the caller's own on
     * the backend (com.vmware.cis.session.create, POST
     * /api/snapservice/sessions for a delegated caller): the backend exchanges
     * authorization (the value the chain checked) for a new session, handed
     * to the caller and never remembered or ended by the provider, so later
     * requests presenting it are checked by the backend itself. Returns
     * SG_AGAIN (cb later) or SG_ERR (nothing started, no cb). */
    int (*open_session)(void *inst, const char *authorization, sg_auth_session_cb cb, void *arg);
    /* Optional, with open_session: ends the caller's session on the backend
     * (com.vmware.cis.session.delete); cb's session is NULL. Same returns. */
    int (*close_session)(void *inst, const char *session, sg_auth_session_cb cb, void *arg);
    /* Optional: the backend no longer accepts p's upstream session (it
     * answered 401): forget whatever vouched for it. */
    void (*reject)(void *inst, const struct sg_principal *p);
};

#endif
