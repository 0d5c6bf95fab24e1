/* The `saml` auth provider. A request's way, all on the worker's loop (a
 * verification costs well under a millisecond, less than a trip to the
 * offload pool would):
 *   header parse (DECLINED for other schemes, DENIED for a malformed or
 *   holder-of-key SIGN) -> cache lookup by HMAC of the header (OK)
 *   -> miss: base64, bounded gunzip, safe parse, shape, validity window,
 *      audience, subject, signature against the STS certificates only -> OK
 *      (remembered until min(NotOnOrAfter + skew, now + 60 s)) or DENIED.
 * A raw assertion from a JSON-RPC body (authenticate_assertion) takes the
 * same way minus base64 and gunzip: at most 256 KiB, no NUL byte, then
 *   without a proof (saml_bearer_token): its own cache by HMAC of the XML,
 *      then the same bearer verification;
 *   with a proof (saml_hok_token): the proof's timestamp window, then the
 *      holder-of-key cache by HMAC of the XML (principal and confirmation
 *      key), on a miss the same verification wanting a holder-of-key
 *      confirmation and its RSA certificate, then the proof's signature with
 *      that key, on every request, hit or miss (saml_hok.c).
 * Each kind has its own cache under its own HMAC key, so a header, a bearer
 * and a holder-of-key assertion can never hit each other's entries. Always
 * synchronous: SG_OK or SG_DENIED, never SG_AGAIN.
 * Failures are not remembered. Why a token was denied is logged at debug
 * level as a fixed phrase; the token and the assertion are never logged. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "snapgate/cred_cache.h"
#include "saml.h"
#include "saml_hok.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/log.h"

#define AUDIENCE_MAX 1024

/* What the conf hook builds: shared read-only by every worker's instance. */
struct saml_conf {
    char *certs_file;
    char *audience; /* NULL: no audience check */
    struct sg_saml_certs *certs;
};

/* One per worker; touched only on that worker's loop thread. */
struct saml_inst {
    const struct saml_conf *conf;
    struct sg_saml_keys *keys;
    struct sg_cred_cache *cache;         /* SIGN headers */
    struct sg_cred_cache *raw_cache;     /* raw bearer assertions */
    struct sg_saml_hok_cache *hok_cache; /* raw holder-of-key assertions */
    uint64_t (*now_ms)(void);
};

/* ---- conf ------------------------------------------------------------------ */

static void saml_conf_free(struct saml_conf *sc)
{
    if (!sc)
        return;
    free(sc->certs_file);
    free(sc->audience);
    sg_saml_certs_free(sc->certs);
    free(sc);
}

static bool audience_printable(const char *s)
{
    size_t n = strlen(s);
    if (n > AUDIENCE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static int on_conf(const struct sg_conf_node *node, const char *path, const struct sg_conf *conf,
                   struct sg_conf_errs *errs, void **priv)
{
    (void)conf;
    struct saml_conf *sc = sg_xcalloc(1, sizeof(*sc));
    char *cf_path = sg_xasprintf("%s.sts_certs_file", path);
    char *aud_path = sg_xasprintf("%s.audience", path);
    char err[512];
    int rc = SG_ERR;
    *priv = NULL;

    if (node->type != SG_NODE_MAP) {
        sg_conf_errs_add(errs, node->line, path, "expected a map");
        goto fail;
    }
    const struct sg_conf_node *cf = sg_conf_node_get(node, "sts_certs_file");
    const struct sg_conf_node *aud = sg_conf_node_get(node, "audience");
    bool bad = false;
    if (aud && sg_conf_read_string(aud, aud_path, errs, &sc->audience) != SG_OK)
        bad = true;
    if (sc->audience && !audience_printable(sc->audience)) {
        sg_conf_errs_add(errs, aud->line, aud_path,
                         "must be at most %d bytes without control characters", AUDIENCE_MAX);
        bad = true;
    }
    if (!cf) {
        sg_conf_errs_add(errs, node->line, cf_path, "required key is missing");
        goto fail;
    }
    if (sg_conf_read_string(cf, cf_path, errs, &sc->certs_file) != SG_OK)
        goto fail;
    if (sg_saml_certs_load(sc->certs_file, &sc->certs, err, sizeof(err)) != SG_OK) {
        sg_conf_errs_add(errs, cf->line, cf_path, "%s", err);
        goto fail;
    }
    if (bad)
        goto fail;
    *priv = sc;
    sc = NULL;
    rc = SG_OK;

fail:
    free(cf_path);
    free(aud_path);
    saml_conf_free(sc);
    return rc;
}

static void on_free_conf(void *priv)
{
    saml_conf_free(priv);
}

/* ---- per worker ----------------------------------------------------------- */

/* The instance borrows priv: the core frees the conf only after worker_fini of
 * every instance built from it. Keys are the worker's own: xmlsec objects are
 * never shared between threads. */
static void *on_worker_init(void *priv, struct sg_worker *w)
{
    (void)w;
    struct saml_inst *inst = sg_xcalloc(1, sizeof(*inst));
    inst->conf = priv;
    inst->keys = sg_saml_keys_new(inst->conf->certs);
    inst->cache = sg_cred_cache_new(SG_SAML_CACHE_MAX);
    inst->raw_cache = sg_cred_cache_new(SG_SAML_CACHE_MAX);
    inst->hok_cache = sg_saml_hok_cache_new(SG_SAML_HOK_CACHE_MAX);
    inst->now_ms = sg_wall_ms;
    return inst;
}

static void on_worker_fini(void *vinst)
{
    struct saml_inst *inst = vinst;
    if (!inst)
        return;
    sg_saml_keys_free(inst->keys);
    sg_cred_cache_free(inst->cache);
    sg_cred_cache_free(inst->raw_cache);
    sg_saml_hok_cache_free(inst->hok_cache);
    free(inst);
}

void sg_saml_set_clock(void *vinst, uint64_t (*now_ms)(void))
{
    struct saml_inst *inst = vinst;
    inst->now_ms = now_ms;
}

struct sg_cred_cache *sg_saml_inst_cache(void *vinst)
{
    struct saml_inst *inst = vinst;
    return inst->cache;
}

struct sg_cred_cache *sg_saml_inst_raw_cache(void *vinst)
{
    struct saml_inst *inst = vinst;
    return inst->raw_cache;
}

struct sg_saml_hok_cache *sg_saml_inst_hok_cache(void *vinst)
{
    struct saml_inst *inst = vinst;
    return inst->hok_cache;
}

/* How long a verified assertion is remembered: never past its own end. */
static uint64_t remember_until(uint64_t now, uint64_t expires)
{
    uint64_t until = now + SG_SAML_CACHE_TTL_MS;
    return expires < until ? expires : until;
}

/* ---- the check ------------------------------------------------------------ */

static int on_authenticate(void *vinst, const char *authorization, size_t len,
                           struct sg_principal *out, sg_auth_cb cb, void *arg)
{
    (void)cb;
    (void)arg;
    struct saml_inst *inst = vinst;
    const char *tok = NULL;
    size_t tok_len = 0;
    unsigned char key[SG_CRED_KEY_LEN];
    unsigned char *xml = NULL;
    size_t xml_len = 0;
    uint64_t expires = 0;
    sg_saml_reason why = "the token is not base64 of a gzip stream of at most 256 KiB";

    int rc = sg_saml_header_parse(authorization, len, &tok, &tok_len);
    if (rc == SG_DENIED)
        sg_log_debug("auth.saml", "denied: the SIGN header is malformed or holder-of-key");
    if (rc != SG_OK)
        return rc;

    uint64_t now = inst->now_ms();
    bool cacheable = sg_cred_cache_key(inst->cache, authorization, len, key) == SG_OK;
    if (cacheable && sg_cred_cache_get(inst->cache, key, now, out))
        return SG_OK;

    rc = sg_saml_token_decode(tok, tok_len, &xml, &xml_len);
    if (rc == SG_OK)
        rc = sg_saml_verify(inst->keys, inst->conf->audience, now, xml, xml_len, out, &expires,
                            &why);
    free(xml);
    if (rc != SG_OK) {
        sg_log_debug("auth.saml", "denied: %s", why);
        return SG_DENIED;
    }
    if (cacheable)
        sg_cred_cache_put(inst->cache, key, out, remember_until(now, expires));
    return SG_OK;
}

/* A raw bearer assertion: the header path's verification on the XML itself. */
static int raw_bearer(struct saml_inst *inst, const unsigned char *xml, size_t len, uint64_t now,
                      struct sg_principal *out, sg_saml_reason *why)
{
    unsigned char key[SG_CRED_KEY_LEN];
    uint64_t expires = 0;
    bool cacheable = sg_cred_cache_key(inst->raw_cache, xml, len, key) == SG_OK;
    if (cacheable && sg_cred_cache_get(inst->raw_cache, key, now, out))
        return SG_OK;
    if (sg_saml_verify(inst->keys, inst->conf->audience, now, xml, len, out, &expires, why) !=
        SG_OK)
        return SG_DENIED;
    if (cacheable)
        sg_cred_cache_put(inst->raw_cache, key, out, remember_until(now, expires));
    return SG_OK;
}

/* A raw holder-of-key assertion and its request's proof. The principal is
 * built aside and given to out only once the proof has verified, so a
 * denial leaves out untouched. Only a fully accepted request is remembered. */
static int raw_hok(struct saml_inst *inst, const unsigned char *xml, size_t len,
                   const struct sg_auth_proof *proof, uint64_t now, struct sg_principal *out,
                   sg_saml_reason *why)
{
    unsigned char key[SG_CRED_KEY_LEN];
    struct sg_principal p;
    EVP_PKEY *pk = NULL;
    uint64_t expires = 0;
    memset(&p, 0, sizeof(p));
    /* The cheapest refusal first: a stale or far-future request. */
    if (sg_saml_proof_time_ok(proof, now, why) != SG_OK)
        return SG_DENIED;
    bool cacheable = sg_saml_hok_cache_key(inst->hok_cache, xml, len, key) == SG_OK;
    bool hit = cacheable && sg_saml_hok_cache_get(inst->hok_cache, key, now, &p, &pk);
    if (!hit && sg_saml_verify_hok(inst->keys, inst->conf->audience, now, xml, len, &p, &expires,
                                   &pk, why) != SG_OK)
        return SG_DENIED;
    if (sg_saml_proof_verify(pk, proof, why) != SG_OK) {
        sg_principal_clear(&p);
        EVP_PKEY_free(pk);
        return SG_DENIED;
    }
    if (!hit && cacheable)
        sg_saml_hok_cache_put(inst->hok_cache, key, &p, pk, now, remember_until(now, expires));
    EVP_PKEY_free(pk);
    *out = p;
    return SG_OK;
}

static int on_authenticate_assertion(void *vinst, const char *xml, size_t len,
                                     const struct sg_auth_proof *proof, struct sg_principal *out,
                                     sg_auth_cb cb, void *arg)
{
    (void)cb;
    (void)arg;
    struct saml_inst *inst = vinst;
    sg_saml_reason why = "the assertion is empty, over 256 KiB or holds a NUL byte";
    int rc = SG_DENIED;
    /* A NUL would end the XML early for some reader and not for another. */
    if (xml && len > 0 && len <= SG_SAML_XML_MAX && !memchr(xml, '\0', len)) {
        uint64_t now = inst->now_ms();
        const unsigned char *x = (const unsigned char *)xml;
        rc = proof ? raw_hok(inst, x, len, proof, now, out, &why)
                   : raw_bearer(inst, x, len, now, out, &why);
    }
    if (rc != SG_OK) {
        sg_log_debug("auth.saml", "denied a %s assertion: %s", proof ? "holder-of-key" : "bearer",
                     why);
        return SG_DENIED;
    }
    return SG_OK;
}

static void on_forget(void *vinst)
{
    struct saml_inst *inst = vinst;
    sg_cred_cache_clear(inst->cache);
    sg_cred_cache_clear(inst->raw_cache);
    sg_saml_hok_cache_clear(inst->hok_cache);
}

static const struct sg_auth_ops saml_ops = {
    .scheme = "SIGN",
    .authenticate = on_authenticate,
    .forget = on_forget,
    .authenticate_assertion = on_authenticate_assertion,
};

const struct sg_module sg_module_auth_saml = {
    .name = "saml",
    .kind = SG_MOD_AUTH,
    .conf = on_conf,
    .free_conf = on_free_conf,
    .worker_init = on_worker_init,
    .worker_fini = on_worker_fini,
    .ops = &saml_ops,
};
