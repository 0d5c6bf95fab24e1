/* The provider chain of one worker under one config. Refcounted: a reload
 * swaps in a new set while requests in the middle of a check keep the set
 * they started with, so no check is cut short or judged by another config. */
#ifndef SG_AUTH_SET_H
#define SG_AUTH_SET_H

#include <stddef.h>

#include "snapgate/auth.h"
#include "snapgate/conf.h"

struct sg_worker;

struct sg_auth_inst {
    const struct sg_module *module;
    const struct sg_auth_ops *ops;
    void *inst;
};

struct sg_auth_set {
    int refs;
    const struct sg_conf *conf; /* realm and auth.allow come from here */
    struct sg_auth_inst *v;
    size_t n;
    char *challenge; /* WWW-Authenticate: every configured scheme once */
    /* The JSON-RPC answer's suffix (normalize/datavalue.h) for an
     * unauthenticated caller, naming the same schemes: made once per set. */
    char *rpc_unauthenticated;
    size_t rpc_unauthenticated_len;
};

/* Instantiates every provider of conf on worker w. */
struct sg_auth_set *sg_auth_set_create(const struct sg_conf *conf, struct sg_worker *w);
struct sg_auth_set *sg_auth_set_get(struct sg_auth_set *s);
/* The last reference finalizes the provider instances. */
void sg_auth_set_put(struct sg_auth_set *s);
/* Is an authenticated principal allowed by auth.allow? */
int sg_auth_set_allows(const struct sg_auth_set *s, const struct sg_principal *p);

#endif
