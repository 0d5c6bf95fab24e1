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
};

void sg_principal_clear(struct sg_principal *p);

/* Called exactly once, from the loop, never from inside authenticate().
 * rc is SG_OK (principal filled), SG_DENIED or SG_DECLINED. */
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
};

#endif
