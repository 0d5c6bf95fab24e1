/* The `jwt` provider. A request's way, all on the loop (an RSA verification
 * costs tens of microseconds, and repeated polls hit the cache):
 *   Bearer token not shaped like a JWT -> DECLINED (an opaque token is the
 *   bearer provider's) -> cache lookup by HMAC of the token (OK)
 *   -> verify signature and claims -> remember the success until
 *   min(exp + skew, now + 60 s) -> OK(sub, groups); DECLINED when the token
 *   is another provider's (verify.c says how that is told), so several jwt
 *   providers can share a chain; else DENIED.
 * Failures are not cached. No token, claim value or key reaches a log line;
 * a rejection is logged at debug level with its reason only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/auth_token.h"
#include "snapgate/cred_cache.h"
#include "jwt.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/log.h"

/* What the conf hook builds: shared read-only by every worker's instance. */
struct jwt_conf {
    char *keys_file;
    char *issuer;       /* NULL: iss not checked */
    char *audience;     /* NULL: aud not checked */
    char *groups_claim; /* default "groups" */
    struct sg_jwt_keys *keys;
    struct sg_jwt_policy policy; /* points into the fields above */
};

/* One per worker; touched only on that worker's loop thread. */
struct jwt_inst {
    const struct jwt_conf *conf;
    struct sg_cred_cache *cache;
    int64_t clock_s; /* test hook; 0: the real wall clock */
};

/* ---- conf ------------------------------------------------------------------ */

static void jwt_conf_free(struct jwt_conf *jc)
{
    if (!jc)
        return;
    free(jc->keys_file);
    free(jc->issuer);
    free(jc->audience);
    free(jc->groups_claim);
    sg_jwt_keys_free(jc->keys);
    free(jc);
}

/* An optional string key into *out (left NULL when absent); SG_ERR when bad. */
static int read_optional(const struct sg_conf_node *node, const char *path, const char *key,
                         struct sg_conf_errs *errs, char **out)
{
    const struct sg_conf_node *n = sg_conf_node_get(node, key);
    if (!n)
        return SG_OK;
    char *kp = sg_xasprintf("%s.%s", path, key);
    int rc = sg_conf_read_string(n, kp, errs, out);
    free(kp);
    return rc;
}

/* The core has checked the key names (gateway/conf/conf_auth.c): only values here.
 * issuer and audience are optional: without them iss and aud are not checked
 * (fine for an HS256 secret only snapgate shares; with an identity provider's
 * keys, set both). */
static int on_conf(const struct sg_conf_node *node, const char *path, const struct sg_conf *conf,
                   struct sg_conf_errs *errs, void **priv)
{
    (void)conf;
    struct jwt_conf *jc = sg_xcalloc(1, sizeof(*jc));
    char *kf_path = sg_xasprintf("%s.keys_file", path);
    char err[512];
    int rc = SG_OK;
    *priv = NULL;

    if (node->type != SG_NODE_MAP) {
        sg_conf_errs_add(errs, node->line, path, "expected a map");
        rc = SG_ERR;
        goto fail;
    }
    if (read_optional(node, path, "issuer", errs, &jc->issuer) != SG_OK ||
        read_optional(node, path, "audience", errs, &jc->audience) != SG_OK ||
        read_optional(node, path, "groups_claim", errs, &jc->groups_claim) != SG_OK)
        rc = SG_ERR;
    const struct sg_conf_node *kf = sg_conf_node_get(node, "keys_file");
    if (!kf) {
        sg_conf_errs_add(errs, node->line, kf_path, "required key is missing");
        rc = SG_ERR;
        goto fail;
    }
    if (sg_conf_read_string(kf, kf_path, errs, &jc->keys_file) != SG_OK) {
        rc = SG_ERR;
        goto fail;
    }
    if (sg_jwt_keys_load(jc->keys_file, &jc->keys, err, sizeof(err)) != SG_OK) {
        sg_conf_errs_add(errs, kf->line, kf_path, "%s", err);
        rc = SG_ERR;
        goto fail;
    }
    if (rc != SG_OK)
        goto fail;
    if (!jc->groups_claim)
        jc->groups_claim = sg_xstrdup("groups");
    jc->policy = (struct sg_jwt_policy){
        .keys = jc->keys,
        .issuer = jc->issuer,
        .audience = jc->audience,
        .groups_claim = jc->groups_claim,
    };
    free(kf_path);
    *priv = jc;
    return SG_OK;

fail:
    free(kf_path);
    jwt_conf_free(jc);
    return rc;
}

static void on_free_conf(void *priv)
{
    jwt_conf_free(priv);
}

/* ---- per worker ------------------------------------------------------------ */

/* The instance borrows priv: the core frees the conf only after worker_fini of
 * every instance built from it. */
static void *on_worker_init(void *priv, struct sg_worker *w)
{
    (void)w;
    struct jwt_inst *inst = sg_xcalloc(1, sizeof(*inst));
    inst->conf = priv;
    inst->cache = sg_cred_cache_new(SG_JWT_CACHE_MAX);
    return inst;
}

static void on_worker_fini(void *vinst)
{
    struct jwt_inst *inst = vinst;
    if (!inst)
        return;
    sg_cred_cache_free(inst->cache);
    free(inst);
}

void sg_jwt_set_clock(void *vinst, int64_t now_s)
{
    struct jwt_inst *inst = vinst;
    inst->clock_s = now_s;
}

/* ---- the check ------------------------------------------------------------- */

static void fill_principal(struct sg_principal *out, const struct sg_jwt_claims *c)
{
    snprintf(out->name, sizeof(out->name), "%s", c->sub);
    out->ngroups = c->ngroups;
    out->groups = c->ngroups ? sg_xcalloc(c->ngroups, sizeof(*out->groups)) : NULL;
    for (size_t i = 0; i < c->ngroups; i++)
        out->groups[i] = sg_xstrdup(c->groups[i]);
}

/* How long a verified token may be taken on trust: until it would be
 * rejected (exp + skew), and never past the cache TTL. */
static uint64_t trust_ms(int64_t exp, int64_t now_s)
{
    int64_t left_s =
        exp > INT64_MAX - SG_JWT_SKEW_S ? INT64_MAX - now_s : exp + SG_JWT_SKEW_S - now_s;
    if (left_s <= 0)
        return 0;
    if ((uint64_t)left_s >= SG_JWT_CACHE_TTL_MS / 1000)
        return SG_JWT_CACHE_TTL_MS;
    return (uint64_t)left_s * 1000;
}

static int on_authenticate(void *vinst, const char *authorization, size_t len,
                           struct sg_principal *out, sg_auth_cb cb, void *arg)
{
    (void)cb;
    (void)arg;
    struct jwt_inst *inst = vinst;
    unsigned char mac[SG_CRED_KEY_LEN];
    struct sg_jwt_claims claims;
    const char *tok, *why = NULL;
    size_t tl;
    int rc = sg_auth_bearer_token(authorization, len, &tok, &tl);
    if (rc != SG_OK)
        return rc;
    if (!sg_auth_token_is_jws(tok, tl))
        return SG_DECLINED;

    bool cacheable = sg_cred_cache_key(inst->cache, tok, tl, mac) == SG_OK;
    uint64_t now_ms = sg_now_ms();
    if (cacheable && sg_cred_cache_get(inst->cache, mac, now_ms, out))
        return SG_OK;

    int64_t now_s = inst->clock_s ? inst->clock_s : (int64_t)(sg_wall_ms() / 1000);
    int vrc = sg_jwt_verify(&inst->conf->policy, tok, tl, now_s, &claims, &why);
    if (vrc == SG_DECLINED) {
        sg_log_debug("auth.jwt", "token passed on: %s", why);
        return SG_DECLINED;
    }
    if (vrc != SG_OK) {
        sg_log_debug("auth.jwt", "token rejected: %s", why);
        return SG_DENIED;
    }
    uint64_t ttl = trust_ms(claims.exp, now_s);
    fill_principal(out, &claims);
    if (cacheable && ttl > 0)
        sg_cred_cache_put(inst->cache, mac, out, now_ms + ttl);
    sg_jwt_claims_clear(&claims);
    return SG_OK;
}

static void on_forget(void *vinst)
{
    struct jwt_inst *inst = vinst;
    sg_cred_cache_clear(inst->cache);
}

static const struct sg_auth_ops jwt_ops = {
    .scheme = "Bearer",
    .authenticate = on_authenticate,
    .forget = on_forget,
};

const struct sg_module sg_module_auth_jwt = {
    .name = "jwt",
    .kind = SG_MOD_AUTH,
    .conf = on_conf,
    .free_conf = on_free_conf,
    .worker_init = on_worker_init,
    .worker_fini = on_worker_fini,
    .ops = &jwt_ops,
};
