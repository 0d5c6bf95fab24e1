/* Authentication providers: each looks at the Authorization header and says OK
 * (with a principal), DECLINED (not my scheme), DENIED, or AGAIN (callback later). */
#ifndef SG_AUTH_H
#define SG_AUTH_H

#include <stdbool.h>
#include <stddef.h>

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
    /* Optional: the backend no longer accepts p's upstream session (it
     * answered 401): forget whatever vouched for it. */
    void (*reject)(void *inst, const struct sg_principal *p);
};

#endif
