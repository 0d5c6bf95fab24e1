/* The keys file: a JWKS or one PEM public key, read whole at conf time (so a
 * reload re-reads it) and immutable afterwards, shared by every worker. Each
 * key verifies exactly one algorithm, fixed here: its "alg" when given (and
 * then it must fit the key type), else the key type's (RSA -> RS256,
 * EC P-256 -> ES256, oct -> HS256). That binding is what keeps a token from
 * choosing how its signature is checked (RFC 8725 section 3.1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "snapgate/json_string.h"
#include "jwt.h"
#include "snapgate/common.h"

#define P256_COORD_LEN 32

enum sg_jwt_alg sg_jwt_alg_parse(const char *s)
{
    if (!strcmp(s, "RS256"))
        return SG_JWT_RS256;
    if (!strcmp(s, "ES256"))
        return SG_JWT_ES256;
    if (!strcmp(s, "HS256"))
        return SG_JWT_HS256;
    return SG_JWT_NONE;
}

const char *sg_jwt_alg_name(enum sg_jwt_alg alg)
{
    switch (alg) {
    case SG_JWT_RS256:
        return "RS256";
    case SG_JWT_ES256:
        return "ES256";
    case SG_JWT_HS256:
        return "HS256";
    case SG_JWT_NONE:
        break;
    }
    return "none";
}

/* Whole file into a NUL-terminated buffer (caller frees); NULL with err set. */
static char *read_whole(const char *path, size_t *len, char *err, size_t cap)
{
    char ebuf[128];
    char *buf = NULL;
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (!f) {
        sg_errf(err, cap, "%s: %s", path, strerror_r(errno, ebuf, sizeof(ebuf)));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0) {
        sg_errf(err, cap, "%s: %s", path, strerror_r(errno, ebuf, sizeof(ebuf)));
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > SG_JWT_KEYS_FILE_MAX) {
        sg_errf(err, cap, "%s: not a regular file of at most %d bytes", path, SG_JWT_KEYS_FILE_MAX);
        goto fail;
    }
    buf = sg_xmalloc((size_t)st.st_size + 1);
    *len = fread(buf, 1, (size_t)st.st_size, f);
    if (ferror(f)) {
        sg_errf(err, cap, "%s: %s", path, strerror_r(errno, ebuf, sizeof(ebuf)));
        free(buf);
        buf = NULL;
        goto fail;
    }
    buf[*len] = '\0';

fail:
    fclose(f);
    return buf;
}

static void key_clear(struct sg_jwt_key *k)
{
    free(k->kid);
    EVP_PKEY_free(k->pkey);
    if (k->secret) {
        OPENSSL_cleanse(k->secret, k->secret_len);
        free(k->secret);
    }
    memset(k, 0, sizeof(*k));
}

void sg_jwt_keys_free(struct sg_jwt_keys *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n; i++)
        key_clear(&k->v[i]);
    free(k->v);
    free(k);
}

static void keys_add(struct sg_jwt_keys *ks, struct sg_jwt_key *k)
{
    ks->v = sg_xrealloc(ks->v, (ks->n + 1) * sizeof(*ks->v));
    ks->v[ks->n++] = *k;
    memset(k, 0, sizeof(*k));
}

/* ---- checks shared by PEM and JWKS keys ------------------------------------ */

/* OpenSSL's own public-key checks (an EC point on the curve, a sane RSA
 * modulus and exponent). */
static bool public_check(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    bool ok = ctx && EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* The algorithm an OpenSSL public key verifies, or SG_JWT_NONE with why set. */
static enum sg_jwt_alg pkey_alg(EVP_PKEY *pkey, const char **why)
{
    char group[64] = "";
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        if (EVP_PKEY_get_bits(pkey) < SG_JWT_RSA_MIN_BITS) {
            *why = "RSA key shorter than 2048 bits";
            return SG_JWT_NONE;
        }
        if (!public_check(pkey)) {
            *why = "not a valid RSA public key";
            return SG_JWT_NONE;
        }
        return SG_JWT_RS256;
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                            NULL) ||
            strcmp(group, "prime256v1") != 0) {
            *why = "EC key not on curve P-256";
            return SG_JWT_NONE;
        }
        if (!public_check(pkey)) {
            *why = "not a valid P-256 public key";
            return SG_JWT_NONE;
        }
        return SG_JWT_ES256;
    }
    *why = "unsupported key type (want RSA or EC P-256)";
    return SG_JWT_NONE;
}

/* ---- PEM -------------------------------------------------------------------- */

static int load_pem(const char *path, const char *buf, size_t len, struct sg_jwt_keys *ks,
                    char *err, size_t cap)
{
    struct sg_jwt_key k = {0};
    const char *why = NULL;
    int rc = SG_ERR;
    const char *first = strstr(buf, "-----BEGIN ");
    if (first && strstr(first + 11, "-----BEGIN ")) {
        sg_errf(err, cap, "%s: more than one PEM block (want one public key)", path);
        return SG_ERR;
    }
    BIO *bio = BIO_new_mem_buf(buf, (int)len);
    k.pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!k.pkey) {
        sg_errf(err, cap, "%s: no PEM \"PUBLIC KEY\" block could be read", path);
        goto fail;
    }
    k.alg = pkey_alg(k.pkey, &why);
    if (k.alg == SG_JWT_NONE) {
        sg_errf(err, cap, "%s: %s", path, why);
        goto fail;
    }
    keys_add(ks, &k);
    rc = SG_OK;

fail:
    key_clear(&k);
    ERR_clear_error();
    return rc;
}

/* ---- JWKS ------------------------------------------------------------------- */

/* 0: absent; 1: *out is the member's string; -1: present but not a string,
 * or one holding a NUL (a \u0000 escape), which every use here (strcmp, the
 * base64url length, the kid's copy) would cut short. */
static int member_str(json_object *o, const char *name, const char **out)
{
    json_object *v;
    *out = NULL;
    if (!json_object_object_get_ex(o, name, &v))
        return 0;
    if (!json_object_is_type(v, json_type_string) || sg_json_string_has_nul(v))
        return -1;
    *out = json_object_get_string(v);
    return 1;
}

/* A required base64url member decoded into *out (caller frees); why on error. */
static int member_b64(json_object *o, const char *name, unsigned char **out, size_t *outl,
                      const char **why)
{
    const char *s;
    int r = member_str(o, name, &s);
    if (r <= 0) {
        *why = r == 0 ? "a required member is missing" : "a member is not a string (without NUL)";
        return SG_ERR;
    }
    if (sg_jwt_b64url_decode(s, strlen(s), out, outl) != SG_OK) {
        *why = "a member is not unpadded base64url";
        return SG_ERR;
    }
    if (*outl == 0) {
        free(*out);
        *out = NULL;
        *why = "a member is empty";
        return SG_ERR;
    }
    return SG_OK;
}

static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static int jwk_rsa(json_object *o, struct sg_jwt_key *k, const char **why)
{
    unsigned char *n = NULL, *e = NULL;
    size_t nl = 0, el = 0;
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    int rc = SG_ERR;
    if (member_b64(o, "n", &n, &nl, why) != SG_OK || member_b64(o, "e", &e, &el, why) != SG_OK)
        goto fail;
    bn = BN_bin2bn(n, (int)nl, NULL);
    be = BN_bin2bn(e, (int)el, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (!bn || !be || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
        !(k->pkey = pkey_fromdata("RSA", bld))) {
        *why = "not a valid RSA public key";
        goto fail;
    }
    rc = SG_OK;

fail:
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    free(n);
    free(e);
    return rc;
}

static int jwk_ec(json_object *o, struct sg_jwt_key *k, const char **why)
{
    unsigned char *x = NULL, *y = NULL;
    size_t xl = 0, yl = 0;
    unsigned char point[1 + 2 * P256_COORD_LEN];
    OSSL_PARAM_BLD *bld = NULL;
    const char *crv;
    int rc = SG_ERR;
    if (member_str(o, "crv", &crv) != 1 || strcmp(crv, "P-256") != 0) {
        *why = "EC key not on curve P-256 (crv)";
        goto fail;
    }
    if (member_b64(o, "x", &x, &xl, why) != SG_OK || member_b64(o, "y", &y, &yl, why) != SG_OK)
        goto fail;
    if (xl != P256_COORD_LEN || yl != P256_COORD_LEN) {
        *why = "x and y must be 32 bytes each";
        goto fail;
    }
    /* An uncompressed SEC1 point: 0x04 || x || y. */
    point[0] = 0x04;
    memcpy(point + 1, x, P256_COORD_LEN);
    memcpy(point + 1 + P256_COORD_LEN, y, P256_COORD_LEN);
    bld = OSSL_PARAM_BLD_new();
    if (!bld ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) ||
        !(k->pkey = pkey_fromdata("EC", bld))) {
        *why = "not a valid P-256 public key";
        goto fail;
    }
    rc = SG_OK;

fail:
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    return rc;
}

static int jwk_oct(json_object *o, struct sg_jwt_key *k, const char **why)
{
    if (member_b64(o, "k", &k->secret, &k->secret_len, why) != SG_OK)
        return SG_ERR;
    if (k->secret_len < SG_JWT_HMAC_MIN_BYTES) {
        *why = "oct key shorter than 32 bytes";
        return SG_ERR;
    }
    return SG_OK;
}

/* One member of "keys" into k; SG_DECLINED for a key to skip ("use": "enc"). */
static int jwk_parse(json_object *o, struct sg_jwt_key *k, const char **why)
{
    const char *kty, *alg, *use, *kid, *d;
    enum sg_jwt_alg by_type;
    if (!json_object_is_type(o, json_type_object)) {
        *why = "not a JSON object";
        return SG_ERR;
    }
    if (member_str(o, "use", &use) < 0 || member_str(o, "alg", &alg) < 0 ||
        member_str(o, "kid", &kid) < 0) {
        *why = "use, alg and kid must be strings (without NUL)";
        return SG_ERR;
    }
    if (use && !strcmp(use, "enc"))
        return SG_DECLINED; /* an encryption key: not ours to verify with */
    if (use && strcmp(use, "sig") != 0) {
        *why = "use must be \"sig\" (or \"enc\", skipped)";
        return SG_ERR;
    }
    if (member_str(o, "kty", &kty) != 1) {
        *why = "kty is missing or not a string (without NUL)";
        return SG_ERR;
    }
    if (!strcmp(kty, "RSA"))
        by_type = SG_JWT_RS256;
    else if (!strcmp(kty, "EC"))
        by_type = SG_JWT_ES256;
    else if (!strcmp(kty, "oct"))
        by_type = SG_JWT_HS256;
    else {
        *why = "unsupported kty (want RSA, EC or oct)";
        return SG_ERR;
    }
    if (alg && sg_jwt_alg_parse(alg) == SG_JWT_NONE) {
        *why = "unsupported alg (want RS256, ES256 or HS256)";
        return SG_ERR;
    }
    if (alg && sg_jwt_alg_parse(alg) != by_type) {
        *why = "alg does not fit kty (RS256: RSA, ES256: EC, HS256: oct)";
        return SG_ERR;
    }
    if (by_type != SG_JWT_HS256 && member_str(o, "d", &d) != 0) {
        *why = "holds private key material (d): give public keys only";
        return SG_ERR;
    }
    k->alg = by_type;
    int rc = by_type == SG_JWT_RS256   ? jwk_rsa(o, k, why)
             : by_type == SG_JWT_ES256 ? jwk_ec(o, k, why)
                                       : jwk_oct(o, k, why);
    if (rc != SG_OK)
        return rc;
    if (k->pkey && pkey_alg(k->pkey, why) != by_type)
        return SG_ERR;
    k->kid = kid ? sg_xstrdup(kid) : NULL;
    return SG_OK;
}

static int load_jwks(const char *path, const char *buf, size_t len, struct sg_jwt_keys *ks,
                     char *err, size_t cap)
{
    json_tokener *tok = json_tokener_new_ex(SG_JWT_JSON_DEPTH);
    json_object *root = NULL, *arr;
    int rc = SG_ERR;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    /* STRICT also refuses text after the value (whitespace aside). */
    root = json_tokener_parse_ex(tok, buf, (int)len);
    if (!root || json_tokener_get_error(tok) != json_tokener_success) {
        sg_errf(err, cap, "%s: not valid JSON", path);
        goto fail;
    }
    if (!json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "keys", &arr) ||
        !json_object_is_type(arr, json_type_array)) {
        sg_errf(err, cap, "%s: want a JWKS: an object with a \"keys\" array", path);
        goto fail;
    }
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        struct sg_jwt_key k = {0};
        const char *why = NULL;
        int r = jwk_parse(json_object_array_get_idx(arr, i), &k, &why);
        if (r == SG_DECLINED)
            continue;
        if (r != SG_OK) {
            key_clear(&k);
            sg_errf(err, cap, "%s: key %zu: %s", path, i, why);
            goto fail;
        }
        keys_add(ks, &k);
    }
    if (ks->n == 0) {
        sg_errf(err, cap, "%s: no signature keys", path);
        goto fail;
    }
    rc = SG_OK;

fail:
    json_object_put(root);
    json_tokener_free(tok);
    ERR_clear_error();
    return rc;
}

/* Two keys with one kid would let the token pick between them. */
static int check_kids(const char *path, const struct sg_jwt_keys *ks, char *err, size_t cap)
{
    for (size_t i = 0; i < ks->n; i++)
        for (size_t j = 0; j < i; j++)
            if (ks->v[i].kid && ks->v[j].kid && !strcmp(ks->v[i].kid, ks->v[j].kid)) {
                sg_errf(err, cap, "%s: key %zu: duplicate kid (also key %zu)", path, i, j);
                return SG_ERR;
            }
    return SG_OK;
}

int sg_jwt_keys_load(const char *path, struct sg_jwt_keys **out, char *err, size_t cap)
{
    struct sg_jwt_keys *ks = sg_xcalloc(1, sizeof(*ks));
    size_t len = 0;
    int rc = SG_ERR;
    *out = NULL;
    char *buf = read_whole(path, &len, err, cap);
    if (!buf)
        goto fail;
    if (strlen(buf) != len) {
        sg_errf(err, cap, "%s: holds a NUL byte", path);
        goto fail;
    }
    const char *p = buf;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p == '{')
        rc = load_jwks(path, buf, len, ks, err, cap);
    else if (strstr(buf, "-----BEGIN "))
        rc = load_pem(path, buf, len, ks, err, cap);
    else
        sg_errf(err, cap, "%s: neither a JWKS (a JSON object) nor a PEM public key", path);
    if (rc == SG_OK)
        rc = check_kids(path, ks, err, cap);

fail:
    if (buf) {
        OPENSSL_cleanse(buf, len); /* a JWKS may hold HMAC secrets */
        free(buf);
    }
    if (rc != SG_OK) {
        sg_jwt_keys_free(ks);
        return SG_ERR;
    }
    *out = ks;
    return SG_OK;
}
