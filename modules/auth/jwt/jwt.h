/* The `jwt` auth provider: `Authorization: Bearer <JWT>` verified locally
 * with RS256, ES256 or HS256 against the keys of a JWKS or PEM file, then
 * exp/nbf/iss/aud checked; principal from `sub`, groups from a configurable
 * claim. This header joins the module's files and gives the unit tests the
 * pieces they drive directly.
 *
 * Why not libjwt: Debian 12's libjwt 1.10 reads no JWKS and checks no claims,
 * so the keys, the algorithm policy and every claim would be ours anyway;
 * json-c parses the two small JSON parts and OpenSSL 3 does all the crypto
 * (EVP_DigestVerify, EVP_Q_mac, EVP_PKEY_fromdata), leaving no library in
 * between to second-guess. */
#ifndef SG_AUTH_JWT_H
#define SG_AUTH_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapgate/auth.h"
#include "snapgate/module.h"

extern const struct sg_module sg_module_auth_jwt;

/* Clock skew allowed on exp and nbf, seconds. */
#define SG_JWT_SKEW_S 60
/* Nesting depth allowed in the JWT's JSON parts and in a JWKS. */
#define SG_JWT_JSON_DEPTH 16
/* At most this many groups are taken from a token (more: DENIED). */
#define SG_JWT_GROUPS_MAX 1024
/* A keys file larger than this is refused. */
#define SG_JWT_KEYS_FILE_MAX (1024 * 1024)
#define SG_JWT_RSA_MIN_BITS 2048
#define SG_JWT_HMAC_MIN_BYTES 32
#define SG_JWT_CACHE_MAX 4096
#define SG_JWT_CACHE_TTL_MS 60000u

enum sg_jwt_alg { SG_JWT_NONE = 0, SG_JWT_RS256, SG_JWT_ES256, SG_JWT_HS256 };

/* "RS256" -> SG_JWT_RS256 ...; SG_JWT_NONE for anything else (also "none"). */
enum sg_jwt_alg sg_jwt_alg_parse(const char *s);
const char *sg_jwt_alg_name(enum sg_jwt_alg alg);

/* ---- base64url (b64url.c) -------------------------------------------------- */

/* Decodes unpadded base64url strictly: only A-Z a-z 0-9 - _, no '=', a length
 * that is not 1 mod 4, and zero bits past the last whole byte (so each byte
 * string has exactly one encoding). Returns SG_OK with *out a malloc'd buffer
 * of *outl bytes plus a NUL (caller frees), or SG_ERR. */
int sg_jwt_b64url_decode(const char *in, size_t inl, unsigned char **out, size_t *outl);

/* ---- keys (keys.c) --------------------------------------------------------- */

struct sg_jwt_key {
    char *kid;                /* NULL when the key has none */
    enum sg_jwt_alg alg;      /* the one algorithm this key verifies */
    struct evp_pkey_st *pkey; /* RS256 / ES256 */
    unsigned char *secret;    /* HS256, cleansed on free */
    size_t secret_len;
};

struct sg_jwt_keys {
    struct sg_jwt_key *v;
    size_t n;
};

/* Reads keys_file: a PEM file holding one public key ("PUBLIC KEY": RSA of at
 * least 2048 bits -> RS256, EC P-256 -> ES256), or a JWKS {"keys": [...]} of
 * RSA (n, e), EC P-256 (crv, x, y) and oct (k, at least 32 bytes) keys, each
 * with optional kid and alg (which must fit the key type). Keys marked
 * "use": "enc" are skipped; any other unusable key is an error. Returns SG_OK
 * with *out owned by the caller (free with sg_jwt_keys_free), or SG_ERR with
 * "PATH: reason" or "PATH: key N: reason" (N counts from 0) in err. No key
 * material ever appears in err. */
int sg_jwt_keys_load(const char *path, struct sg_jwt_keys **out, char *err, size_t cap);
void sg_jwt_keys_free(struct sg_jwt_keys *k);

/* ---- verification (verify.c) ---------------------------------------------- */

struct sg_jwt_policy {
    const struct sg_jwt_keys *keys;
    const char *issuer;       /* NULL: iss not checked */
    const char *audience;     /* NULL: aud not checked */
    const char *groups_claim; /* never NULL */
};

struct sg_jwt_claims {
    char sub[SG_PRINCIPAL_NAME_MAX];
    char **groups; /* malloc'd, each malloc'd */
    size_t ngroups;
    int64_t exp; /* seconds since the epoch */
};

/* Verifies the compact JWS tok[0..tl) at wall-clock time now_s (seconds since
 * the epoch): iss must be the policy's issuer (when set); the header's alg
 * must be RS256, ES256 or HS256 and the one allowed by the key that verifies
 * the signature (chosen by kid when the header has one: keys with that kid,
 * and keys without any kid; else every key of that alg); then exp (required),
 * nbf, aud, sub and the groups claim. Returns SG_OK with *c filled (caller
 * frees with sg_jwt_claims_clear); SG_DECLINED when the token is not this
 * policy's (another iss; no key of its alg and kid; or keys chosen by alg
 * alone, none of which verifies it), so another provider may judge it; or
 * SG_DENIED (malformed, or ours and failing). Not SG_OK: *c empty and *why a
 * static reason fit for a debug log (it never quotes the token). */
int sg_jwt_verify(const struct sg_jwt_policy *p, const char *tok, size_t tl, int64_t now_s,
                  struct sg_jwt_claims *c, const char **why);
void sg_jwt_claims_clear(struct sg_jwt_claims *c);

/* ---- the provider (jwt.c) -------------------------------------------------- */

/* Test hook: the wall clock (seconds since the epoch) a worker instance
 * judges exp and nbf by; 0 returns to the real clock. */
void sg_jwt_set_clock(void *inst, int64_t now_s);

#endif
