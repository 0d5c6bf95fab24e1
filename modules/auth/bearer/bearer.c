/* The `bearer` provider: `Authorization: Bearer <opaque token>`. The SHA-256
 * of the presented token is looked up among the tokens file's digests (every
 * one compared in constant time); one digest is cheap, so the check runs on
 * the loop and needs no cache.
 *
 * In the chain: a token this file does not know is DENIED, unless it has the
 * shape of a JWT: then it is DECLINED so that a `jwt` provider later in the
 * chain may verify it. The jwt provider declines every token that is not
 * JWT-shaped in turn, so both orders give the same answers, and a chain
 * that ends without an OK answers 401 either way. (One corner: with jwt
 * before bearer, an opaque token that itself looks like a JWT is judged by
 * jwt and denied; put bearer first or issue tokens without two dots.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "snapgate/auth_token.h"
#include "bearer.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/log.h"

struct bearer_conf {
    char *tokens_file;
    struct sg_bearer_tokens *tokens;
};

/* ---- conf ------------------------------------------------------------------ */

static void bearer_conf_free(struct bearer_conf *bc)
{
    if (!bc)
        return;
    free(bc->tokens_file);
    sg_bearer_tokens_free(bc->tokens);
    free(bc);
}

/* The core has checked the key names (gateway/conf/conf_auth.c): only values here. */
static int on_conf(const struct sg_conf_node *node, const char *path, const struct sg_conf *conf,
                   struct sg_conf_errs *errs, void **priv)
{
    (void)conf;
    struct bearer_conf *bc = sg_xcalloc(1, sizeof(*bc));
    char *tf_path = sg_xasprintf("%s.tokens_file", path);
    char err[512];
    int rc = SG_ERR;
    *priv = NULL;

    if (node->type != SG_NODE_MAP) {
        sg_conf_errs_add(errs, node->line, path, "expected a map");
        goto fail;
    }
    const struct sg_conf_node *tf = sg_conf_node_get(node, "tokens_file");
    if (!tf) {
        sg_conf_errs_add(errs, node->line, tf_path, "required key is missing");
        goto fail;
    }
    if (sg_conf_read_string(tf, tf_path, errs, &bc->tokens_file) != SG_OK)
        goto fail;
    if (sg_bearer_tokens_load(bc->tokens_file, &bc->tokens, err, sizeof(err)) != SG_OK) {
        sg_conf_errs_add(errs, tf->line, tf_path, "%s", err);
        goto fail;
    }
    /* Who can read the file learns which names have tokens; who can change
     * it can add their own. */
    sg_conf_check_secret_mode(errs, tf->line, tf_path, bc->tokens_file);
    *priv = bc;
    bc = NULL;
    rc = SG_OK;

fail:
    free(tf_path);
    bearer_conf_free(bc);
    return rc;
}

static void on_free_conf(void *priv)
{
    bearer_conf_free(priv);
}

/* The instance is the shared conf itself: nothing per worker to keep. */
static void *on_worker_init(void *priv, struct sg_worker *w)
{
    (void)w;
    return priv;
}

/* ---- the check ------------------------------------------------------------- */

static int on_authenticate(void *vinst, const char *authorization, size_t len,
                           struct sg_principal *out, sg_auth_cb cb, void *arg)
{
    (void)cb;
    (void)arg;
    const struct bearer_conf *bc = vinst;
    unsigned char digest[SG_BEARER_DIGEST_LEN];
    unsigned int dl = 0;
    const char *tok;
    size_t tl;
    int rc = sg_auth_bearer_token(authorization, len, &tok, &tl);
    if (rc != SG_OK)
        return rc;
    if (!EVP_Digest(tok, tl, digest, &dl, EVP_sha256(), NULL) || dl != sizeof(digest)) {
        sg_log_warn("auth.bearer", "OpenSSL could not compute a SHA-256");
        return SG_ERR;
    }
    const char *name = sg_bearer_tokens_match(bc->tokens, digest);
    OPENSSL_cleanse(digest, sizeof(digest));
    if (name) {
        snprintf(out->name, sizeof(out->name), "%s", name);
        return SG_OK;
    }
    return sg_auth_token_is_jws(tok, tl) ? SG_DECLINED : SG_DENIED;
}

/* Nothing is remembered between requests. */
static void on_forget(void *vinst)
{
    (void)vinst;
}

static const struct sg_auth_ops bearer_ops = {
    .scheme = "Bearer",
    .authenticate = on_authenticate,
    .forget = on_forget,
};

const struct sg_module sg_module_auth_bearer = {
    .name = "bearer",
    .kind = SG_MOD_AUTH,
    .conf = on_conf,
    .free_conf = on_free_conf,
    .worker_init = on_worker_init,
    .worker_fini = NULL,
    .ops = &bearer_ops,
};
