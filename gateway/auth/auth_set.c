#include <stdlib.h>
#include <string.h>

#include "auth/auth_set.h"
#include "normalize/datavalue.h"
#include "snapgate/common.h"
#include "snapgate/module.h"

/* "Basic realm=\"x\", Bearer realm=\"x\"": each scheme once, in provider order. */
static char *build_challenge(const struct sg_conf *conf, const struct sg_auth_inst *v, size_t n)
{
    char *out = sg_xstrdup("");
    for (size_t i = 0; i < n; i++) {
        const char *scheme = v[i].ops->scheme;
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen = seen || strcmp(v[j].ops->scheme, scheme) == 0;
        if (seen)
            continue;
        char *next =
            sg_xasprintf("%s%s%s realm=\"%s\"", out, *out ? ", " : "", scheme, conf->auth_realm);
        free(out);
        out = next;
    }
    if (!*out) {
        /* No provider: every request fails closed; still name a scheme. */
        free(out);
        out = sg_xasprintf("Basic realm=\"%s\"", conf->auth_realm);
    }
    return out;
}

struct sg_auth_set *sg_auth_set_create(const struct sg_conf *conf, struct sg_worker *w)
{
    struct sg_auth_set *s = sg_xcalloc(1, sizeof(*s));
    s->refs = 1;
    s->conf = conf;
    s->n = conf->providers_n;
    s->v = sg_xcalloc(s->n ? s->n : 1, sizeof(*s->v));
    for (size_t i = 0; i < s->n; i++) {
        const struct sg_module *m = conf->providers[i].module;
        s->v[i].module = m;
        s->v[i].ops = m->ops;
        s->v[i].inst = m->worker_init ? m->worker_init(conf->providers[i].priv, w) : NULL;
    }
    s->challenge = build_challenge(conf, s->v, s->n);
    size_t dv_len = 0;
    char *dv = sg_dv_error_reply(SG_E_UNAUTHENTICATED, s->challenge, &dv_len);
    if (!dv)
        abort(); /* only a wrong error kind makes none: a bug */
    s->rpc_unauthenticated =
        sg_dv_envelope_suffix(SG_DV_ERROR, dv, dv_len, &s->rpc_unauthenticated_len);
    free(dv);
    return s;
}

struct sg_auth_set *sg_auth_set_get(struct sg_auth_set *s)
{
    s->refs++;
    return s;
}

void sg_auth_set_put(struct sg_auth_set *s)
{
    if (!s || --s->refs > 0)
        return;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].module->worker_fini)
            s->v[i].module->worker_fini(s->v[i].inst);
    free(s->v);
    free(s->challenge);
    free(s->rpc_unauthenticated);
    free(s);
}

int sg_auth_set_allows(const struct sg_auth_set *s, const struct sg_principal *p)
{
    const struct sg_conf *c = s->conf;
    if (c->auth_allow_n == 0)
        return 1;
    for (size_t i = 0; i < c->auth_allow_n; i++) {
        const char *a = c->auth_allow[i];
        if (strncmp(a, "group:", 6) == 0) {
            for (size_t g = 0; g < p->ngroups; g++)
                if (strcmp(a + 6, p->groups[g]) == 0)
                    return 1;
        } else if (strcmp(a, p->name) == 0) {
            return 1;
        }
    }
    return 0;
}
