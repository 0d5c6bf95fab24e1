/* Verifying one compact JWS and reading its claims. The order matters: the
 * header is read only to pick a key, the payload only for its iss before the
 * signature is checked (to tell whose token it is, nothing more), every claim
 * is judged only after the signature, and the algorithm is the key's, never
 * the token's choice (the header's alg must merely agree with it).
 *
 * Several jwt providers may share a chain (two issuers, old and new keys in
 * two files), so a token that is not this provider's is DECLINED, not
 * DENIED: its iss is not the configured issuer, no key has its alg and kid,
 * or its key was chosen by alg alone (no kid on the key or in the token) and
 * none verifies it, which only the signature could tell apart from another
 * provider's key. A token that names one of our keys by kid and fails, or
 * whose signature verifies and whose claims fail, is DENIED. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "snapgate/auth_token.h"
#include "snapgate/json_string.h"
#include "jwt.h"
#include "snapgate/common.h"

#define ES256_SIG_LEN 64
#define HS256_SIG_LEN 32

void sg_jwt_claims_clear(struct sg_jwt_claims *c)
{
    for (size_t i = 0; i < c->ngroups; i++)
        free(c->groups[i]);
    free(c->groups);
    memset(c, 0, sizeof(*c));
}

/* A JSON object from exactly buf[0..len), or NULL. STRICT refuses text after
 * the value (whitespace aside) and bad UTF-8; the depth is bounded. */
static json_object *parse_object(const unsigned char *buf, size_t len)
{
    if (len > SG_AUTH_TOKEN_MAX)
        return NULL;
    json_tokener *tok = json_tokener_new_ex(SG_JWT_JSON_DEPTH);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, (const char *)buf, (int)len);
    /* json-c takes a NUL byte for the end of the input, so "{...}\0junk"
     * parses: the whole buffer must have been read (found by fuzz_jwt). */
    bool ok = o && json_tokener_get_error(tok) == json_tokener_success &&
              json_tokener_get_parse_end(tok) == len && json_object_is_type(o, json_type_object);
    json_tokener_free(tok);
    if (!ok) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

static bool string_is(json_object *v, const char *want);

/* ---- signatures ------------------------------------------------------------- */

static bool verify_pkey(EVP_PKEY *pkey, const unsigned char *sig, size_t sl,
                        const unsigned char *data, size_t dl)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, pkey, NULL) == 1 &&
              EVP_DigestVerify(ctx, sig, sl, data, dl) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* JWS carries ECDSA as r || s, 32 bytes each; OpenSSL wants DER. */
static bool verify_es256(EVP_PKEY *pkey, const unsigned char *sig, size_t sl,
                         const unsigned char *data, size_t dl)
{
    if (sl != ES256_SIG_LEN)
        return false;
    unsigned char *der = NULL;
    bool ok = false;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, ES256_SIG_LEN / 2, NULL);
    BIGNUM *s = BN_bin2bn(sig + ES256_SIG_LEN / 2, ES256_SIG_LEN / 2, NULL);
    if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1)
        goto fail;
    r = s = NULL; /* owned by es now */
    int derl = i2d_ECDSA_SIG(es, &der);
    ok = derl > 0 && verify_pkey(pkey, der, (size_t)derl, data, dl);

fail:
    OPENSSL_free(der);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return ok;
}

static bool verify_hs256(const struct sg_jwt_key *k, const unsigned char *sig, size_t sl,
                         const unsigned char *data, size_t dl)
{
    unsigned char mac[HS256_SIG_LEN];
    size_t ml = 0;
    if (sl != HS256_SIG_LEN)
        return false;
    bool ok = EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, k->secret, k->secret_len, data, dl, mac,
                        sizeof(mac), &ml) != NULL &&
              ml == HS256_SIG_LEN && CRYPTO_memcmp(mac, sig, HS256_SIG_LEN) == 0;
    OPENSSL_cleanse(mac, sizeof(mac));
    return ok;
}

static bool verify_with(const struct sg_jwt_key *k, const unsigned char *sig, size_t sl,
                        const unsigned char *data, size_t dl)
{
    switch (k->alg) {
    case SG_JWT_RS256:
        return sl == (size_t)EVP_PKEY_get_size(k->pkey) && verify_pkey(k->pkey, sig, sl, data, dl);
    case SG_JWT_ES256:
        return verify_es256(k->pkey, sig, sl, data, dl);
    case SG_JWT_HS256:
        return verify_hs256(k, sig, sl, data, dl);
    case SG_JWT_NONE:
        break;
    }
    return false;
}

/* Tries the keys the header points at: SG_OK when one verifies; SG_DECLINED
 * when none could be the token's (see the top); else SG_DENIED. */
static int check_signature(const struct sg_jwt_keys *keys, enum sg_jwt_alg alg, const char *kid,
                           const char *tok, size_t input_len, const unsigned char *sig, size_t sl,
                           const char **why)
{
    size_t candidates = 0;
    bool named = false; /* the token's kid is one of our keys' */
    for (size_t i = 0; i < keys->n; i++) {
        const struct sg_jwt_key *k = &keys->v[i];
        /* A key without a kid answers to any kid; a key with one only to its own. */
        if (kid && k->kid && strcmp(kid, k->kid) != 0)
            continue;
        if (k->alg != alg)
            continue;
        candidates++;
        named = named || (kid && k->kid);
        if (verify_with(k, sig, sl, (const unsigned char *)tok, input_len)) {
            ERR_clear_error();
            return SG_OK;
        }
    }
    ERR_clear_error();
    if (candidates == 0) {
        *why = "no key of this provider has the token's alg and kid";
        return SG_DECLINED;
    }
    if (!named) {
        *why = "no key of the token's alg verifies the signature (maybe another provider's)";
        return SG_DECLINED;
    }
    *why = "the key the token's kid names does not verify the signature";
    return SG_DENIED;
}

/* The header's alg and kid (borrowed from hdr): SG_OK, or SG_DENIED for a
 * header no jwt provider could accept. */
static int read_header(json_object *hdr, enum sg_jwt_alg *alg, const char **kid, const char **why)
{
    json_object *v;
    *kid = NULL;
    if (!json_object_object_get_ex(hdr, "alg", &v) || !json_object_is_type(v, json_type_string)) {
        *why = "the header has no alg";
        return SG_DENIED;
    }
    /* alg and kid are compared as C strings: one holding a NUL ("HS256\u0000x")
     * would pass for its head, so it is refused, as string_is refuses it. */
    *alg = sg_json_string_has_nul(v) ? SG_JWT_NONE : sg_jwt_alg_parse(json_object_get_string(v));
    if (*alg == SG_JWT_NONE) {
        *why = "alg is not RS256, ES256 or HS256";
        return SG_DENIED;
    }
    /* We implement no header extension, so any critical one is not understood. */
    if (json_object_object_get_ex(hdr, "crit", NULL)) {
        *why = "the header has crit";
        return SG_DENIED;
    }
    if (json_object_object_get_ex(hdr, "kid", &v)) {
        if (!json_object_is_type(v, json_type_string) || sg_json_string_has_nul(v)) {
            *why = "kid is not a string (without NUL)";
            return SG_DENIED;
        }
        *kid = json_object_get_string(v);
    }
    return SG_OK;
}

/* With an issuer configured, a token from any other (or none) is not ours. */
static bool issuer_is_ours(const struct sg_jwt_policy *p, json_object *pl)
{
    json_object *v;
    return !p->issuer || (json_object_object_get_ex(pl, "iss", &v) && string_is(v, p->issuer));
}

/* ---- claims ------------------------------------------------------------------ */

/* A NumericDate claim: absent (SG_DECLINED), a number (SG_OK, rounded the
 * strict way: exp down, nbf up), or anything else (SG_ERR). */
static int claim_time(json_object *pl, const char *name, bool round_up, int64_t *out)
{
    json_object *v;
    if (!json_object_object_get_ex(pl, name, &v))
        return SG_DECLINED;
    if (json_object_is_type(v, json_type_int)) {
        *out = json_object_get_int64(v); /* saturates at the int64 range */
        return SG_OK;
    }
    if (!json_object_is_type(v, json_type_double))
        return SG_ERR;
    double d = json_object_get_double(v);
    if (!isfinite(d))
        return SG_ERR;
    d = round_up ? ceil(d) : floor(d);
    *out = d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : (int64_t)d;
    return SG_OK;
}

/* A name for a principal or a group: 1..255 bytes, no NUL, no control chars. */
static bool good_name(json_object *v)
{
    if (!json_object_is_type(v, json_type_string))
        return false;
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (n == 0 || n >= SG_PRINCIPAL_NAME_MAX || strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static bool string_is(json_object *v, const char *want)
{
    return json_object_is_type(v, json_type_string) &&
           (size_t)json_object_get_string_len(v) == strlen(want) &&
           strcmp(json_object_get_string(v), want) == 0;
}

static bool audience_ok(json_object *pl, const char *want)
{
    json_object *v;
    if (!json_object_object_get_ex(pl, "aud", &v))
        return false;
    if (!json_object_is_type(v, json_type_array))
        return string_is(v, want);
    for (size_t i = 0; i < json_object_array_length(v); i++)
        if (string_is(json_object_array_get_idx(v, i), want))
            return true;
    return false;
}

static void add_group(struct sg_jwt_claims *c, json_object *v)
{
    c->groups = sg_xrealloc(c->groups, (c->ngroups + 1) * sizeof(*c->groups));
    c->groups[c->ngroups++] = sg_xstrdup(json_object_get_string(v));
}

/* Absent or null: no groups; a string: one; an array of strings: each. */
static int read_groups(json_object *pl, const char *claim, struct sg_jwt_claims *c)
{
    json_object *v;
    if (!json_object_object_get_ex(pl, claim, &v) || v == NULL)
        return SG_OK;
    if (!json_object_is_type(v, json_type_array)) {
        if (!good_name(v))
            return SG_ERR;
        add_group(c, v);
        return SG_OK;
    }
    size_t n = json_object_array_length(v);
    if (n > SG_JWT_GROUPS_MAX)
        return SG_ERR;
    for (size_t i = 0; i < n; i++) {
        json_object *g = json_object_array_get_idx(v, i);
        if (!good_name(g))
            return SG_ERR;
        add_group(c, g);
    }
    return SG_OK;
}

static int check_claims(const struct sg_jwt_policy *p, json_object *pl, int64_t now_s,
                        struct sg_jwt_claims *c, const char **why)
{
    json_object *v;
    int64_t nbf;
    int r = claim_time(pl, "exp", false, &c->exp);
    if (r != SG_OK) {
        *why = r == SG_DECLINED ? "no exp" : "exp is not a number";
        return SG_DENIED;
    }
    if (now_s - SG_JWT_SKEW_S >= c->exp) {
        *why = "expired";
        return SG_DENIED;
    }
    r = claim_time(pl, "nbf", true, &nbf);
    if (r == SG_ERR) {
        *why = "nbf is not a number";
        return SG_DENIED;
    }
    if (r == SG_OK && nbf > now_s + SG_JWT_SKEW_S) {
        *why = "not valid yet (nbf)";
        return SG_DENIED;
    }
    if (p->audience && !audience_ok(pl, p->audience)) {
        *why = "wrong or missing aud";
        return SG_DENIED;
    }
    if (!json_object_object_get_ex(pl, "sub", &v) || !good_name(v)) {
        *why = "sub is missing, empty, too long or not printable";
        return SG_DENIED;
    }
    memcpy(c->sub, json_object_get_string(v), (size_t)json_object_get_string_len(v) + 1);
    if (read_groups(pl, p->groups_claim, c) != SG_OK) {
        *why = "the groups claim is not a name or a list of at most 1024 names";
        return SG_DENIED;
    }
    return SG_OK;
}

/* ---- the whole token ---------------------------------------------------------- */

int sg_jwt_verify(const struct sg_jwt_policy *p, const char *tok, size_t tl, int64_t now_s,
                  struct sg_jwt_claims *c, const char **why)
{
    unsigned char *hdr_raw = NULL, *pl_raw = NULL, *sig = NULL;
    size_t hl = 0, pll = 0, sl = 0;
    json_object *hdr = NULL, *pl = NULL;
    int rc = SG_DENIED;
    memset(c, 0, sizeof(*c));
    if (tl > SG_AUTH_TOKEN_MAX || !sg_auth_token_is_jws(tok, tl)) {
        *why = "not a JWS compact serialization of at most 8 KiB";
        goto fail;
    }
    const char *d1 = memchr(tok, '.', tl);
    const char *d2 = memchr(d1 + 1, '.', tl - (size_t)(d1 + 1 - tok));
    const char *end = tok + tl;
    if (sg_jwt_b64url_decode(tok, (size_t)(d1 - tok), &hdr_raw, &hl) != SG_OK ||
        sg_jwt_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &pl_raw, &pll) != SG_OK ||
        sg_jwt_b64url_decode(d2 + 1, (size_t)(end - d2 - 1), &sig, &sl) != SG_OK) {
        *why = "a part is not strict base64url";
        goto fail;
    }
    hdr = parse_object(hdr_raw, hl);
    if (!hdr) {
        *why = "the header is not a JSON object";
        goto fail;
    }
    enum sg_jwt_alg alg = SG_JWT_NONE;
    const char *kid = NULL;
    if (read_header(hdr, &alg, &kid, why) != SG_OK)
        goto fail;
    pl = parse_object(pl_raw, pll);
    if (!pl) {
        *why = "the payload is not a JSON object";
        goto fail;
    }
    if (!issuer_is_ours(p, pl)) {
        *why = "iss is not this provider's issuer";
        rc = SG_DECLINED;
        goto fail;
    }
    rc = check_signature(p->keys, alg, kid, tok, (size_t)(d2 - tok), sig, sl, why);
    if (rc != SG_OK)
        goto fail;
    rc = check_claims(p, pl, now_s, c, why);

fail:
    if (rc != SG_OK)
        sg_jwt_claims_clear(c);
    json_object_put(hdr);
    json_object_put(pl);
    free(hdr_raw);
    free(pl_raw);
    free(sig);
    return rc;
}
