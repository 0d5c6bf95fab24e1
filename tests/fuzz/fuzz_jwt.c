/* fuzz_jwt: feeds compact JWS tokens to sg_jwt_verify (modules/auth/jwt/
 * verify.c) over a fixed key set (fuzz_jwt_fixture.h: rsa1 RS256, ec1 ES256,
 * hs1 HS256, hs0 HS256 without kid; one JWKS read once by sg_jwt_keys_load),
 * at a fixed clock, and the same bytes to sg_jwt_b64url_decode.
 * The first input byte is a control byte: bit 0 picks the mode, bits 1-3 the
 * policy (no issuer; no audience; groups claim "roles" instead of "groups"),
 * bit 4 the HMAC key of mode b (hs0, else hs1), bit 5 spoils the mode b MAC.
 * a. the rest of the input is the token, as is (a buffer of exactly its size);
 * b. the rest is "HEADER-JSON\nPAYLOAD-JSON": both base64url-encoded by the
 *    reference (OpenSSL's EVP_EncodeBlock, alphabet translated) and signed
 *    HS256 by the reference (OpenSSL's HMAC), so the token gets past the
 *    signature and its header and claims are what is exercised.
 * Properties, in both modes, against a model written from jwt.h (base64url by
 * OpenSSL's EVP_DecodeBlock plus a canonical re-encoding; each JSON part an
 * object with nothing but whitespace after it; names compared with their
 * length; signatures checked by OpenSSL against the fixed keys directly):
 * - the return is exactly the model's: SG_OK only when a key of the set whose
 *   alg and kid fit the header verifies the signature (random bytes never
 *   verify) and the claims meet the policy (exp and nbf against the fixed
 *   clock with the allowed skew, iss, aud, a printable sub, the groups claim);
 *   SG_DECLINED exactly for another issuer, no key of the token's alg and kid,
 *   or keys picked by alg alone none of which verifies; SG_DENIED otherwise;
 * - SG_OK: sub, groups (in order) and exp are the model's;
 * - otherwise: a non-empty reason and empty claims;
 * - sg_jwt_b64url_decode of the bytes after the control byte: accepted exactly
 *   when the reference decodes them canonically, to the same bytes, NUL-ended;
 * - no leaks (LeakSanitizer).
 * SG_FUZZ_DICT: jwt.dict */
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/ec.h>
#include <openssl/hmac.h>

#include "fuzz_jwt_fixture.h"
#include "modules/auth/jwt/jwt.h"
#include "snapgate/auth_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sg_jwt_keys *keys;

/* The fixed keys as the model sees them, in the JWKS's order. */
struct ref_key {
    const char *kid;
    enum sg_jwt_alg alg;
    EVP_PKEY *pkey;
    const unsigned char *secret;
};
static struct ref_key ref_keys[4];

static void init(void)
{
    EVP_PKEY *rsa = fj_pkey(fj_rsa_pem), *ec = fj_pkey(fj_ec_pem);
    char *jwks = fj_jwks(rsa, ec);
    struct sg_fuzz_file f;
    char err[512];
    sg_fuzz_file_open(&f, "sg-fuzz");
    sg_fuzz_file_set(&f, jwks, strlen(jwks));
    if (sg_jwt_keys_load(f.path, &keys, err, sizeof(err)) != SG_OK || keys->n != 4) {
        fprintf(stderr, "fuzz_jwt: the fixed JWKS does not load: %s\n", err);
        abort();
    }
    close(f.fd);
    free(jwks);
    ref_keys[0] = (struct ref_key){"rsa1", SG_JWT_RS256, rsa, NULL};
    ref_keys[1] = (struct ref_key){"ec1", SG_JWT_ES256, ec, NULL};
    ref_keys[2] = (struct ref_key){"hs1", SG_JWT_HS256, NULL, fj_hs1};
    ref_keys[3] = (struct ref_key){NULL, SG_JWT_HS256, NULL, fj_hs0};
}

/* ---- reference base64url ---------------------------------------------------- */

static bool is_b64url(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Strict unpadded base64url by OpenSSL: the alphabet translated, padded with
 * '=', decoded by EVP_DecodeBlock, and accepted only when re-encoding gives
 * the same text (one encoding per byte string). *out malloc'd (+1 byte). */
static bool ref_b64url(const uint8_t *in, size_t n, unsigned char **out, size_t *outl)
{
    *out = NULL;
    *outl = 0;
    if (n % 4 == 1)
        return false;
    size_t pad = (4 - n % 4) % 4, pn = n + pad;
    unsigned char *std = malloc(pn + 1), *dec = malloc(pn / 4 * 3 + 1);
    char *again = malloc(pn + 1);
    if (!std || !dec || !again)
        abort();
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        ok = is_b64url(in[i]);
        std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    }
    memset(std + n, '=', pad);
    int r = ok ? EVP_DecodeBlock(dec, std, (int)pn) : -1;
    if (r >= 0 && (size_t)r == pn / 4 * 3) {
        size_t len = (size_t)r - pad;
        int w = EVP_EncodeBlock((unsigned char *)again, dec, (int)len);
        if ((size_t)w == pn && memcmp(again, std, pn) == 0) {
            *out = dec;
            *outl = len;
            dec = NULL;
        }
    }
    free(std);
    free(dec);
    free(again);
    return *out != NULL;
}

static void check_b64url(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1);
    if (!in)
        abort();
    memcpy(in, data, size);
    unsigned char *got = (unsigned char *)in, *want;
    size_t gl = 99, wl;
    int rc = sg_jwt_b64url_decode(in, size, &got, &gl);
    bool ok = ref_b64url(data, size, &want, &wl);
    if (ok != (rc == SG_OK))
        abort();
    if (ok && (gl != wl || memcmp(got, want, wl) != 0 || got[gl] != '\0'))
        abort();
    if (!ok && (got != NULL || gl != 0))
        abort();
    free(got);
    free(want);
    free(in);
}

/* ---- reference verification ------------------------------------------------- */

/* A JSON object from exactly buf[0..len): json-c with the strictness jwt.h
 * documents, and nothing but whitespace after the value. */
static json_object *ref_object(const unsigned char *buf, size_t len)
{
    json_tokener *t = json_tokener_new_ex(SG_JWT_JSON_DEPTH);
    json_tokener_set_flags(t, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(t, (const char *)buf, (int)len);
    bool ok = o && json_tokener_get_error(t) == json_tokener_success &&
              json_object_get_type(o) == json_type_object;
    for (size_t i = json_tokener_get_parse_end(t); ok && i < len; i++)
        ok = buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n';
    json_tokener_free(t);
    if (!ok) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

/* v is a string of exactly the bytes of want (no NUL hiding a tail). */
static bool str_is(json_object *v, const char *want)
{
    size_t n = strlen(want);
    return json_object_get_type(v) == json_type_string &&
           (size_t)json_object_get_string_len(v) == n &&
           memcmp(json_object_get_string(v), want, n) == 0;
}

static bool printable_name(json_object *v)
{
    if (json_object_get_type(v) != json_type_string)
        return false;
    const unsigned char *s = (const unsigned char *)json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static bool ref_signature_ok(const struct ref_key *k, const unsigned char *sig, size_t sl,
                             const char *input, size_t il)
{
    if (k->alg == SG_JWT_HS256) {
        unsigned char mac[32];
        unsigned int ml = 0;
        if (!HMAC(EVP_sha256(), k->secret, FJ_HS_LEN, (const unsigned char *)input, il, mac, &ml))
            abort();
        return sl == 32 && ml == 32 && memcmp(mac, sig, 32) == 0;
    }
    unsigned char *der = NULL;
    const unsigned char *s = sig;
    size_t dl = sl;
    if (k->alg == SG_JWT_RS256 && sl != 256) /* RFC 7518 3.3: exactly the modulus size */
        return false;
    if (k->alg == SG_JWT_ES256) {
        if (sl != 64) /* RFC 7518 3.4: r || s, 32 bytes each */
            return false;
        ECDSA_SIG *es = ECDSA_SIG_new();
        if (!es || !ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL)))
            abort();
        int n = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        if (n <= 0)
            abort();
        s = der;
        dl = (size_t)n;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) != 1)
        abort();
    bool ok = EVP_DigestVerify(ctx, s, dl, (const unsigned char *)input, il) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return ok;
}

/* A NumericDate: 0 absent, 1 a finite number in *d, -1 anything else. */
static int ref_time(json_object *pl, const char *name, double *d, int64_t *i, bool *is_int)
{
    json_object *v;
    if (!json_object_object_get_ex(pl, name, &v))
        return 0;
    *is_int = json_object_get_type(v) == json_type_int;
    if (*is_int) {
        *i = json_object_get_int64(v);
        return 1;
    }
    if (json_object_get_type(v) != json_type_double || !isfinite(json_object_get_double(v)))
        return -1;
    *d = json_object_get_double(v);
    return 1;
}

struct model {
    int rc;
    const char *why;
    json_object *payload; /* SG_OK: the payload, for sub and groups */
};

static int model_claims(const struct sg_jwt_policy *p, json_object *pl, struct model *m)
{
    double d = 0;
    int64_t i = 0;
    bool is_int = false;
    json_object *v;
    int r = ref_time(pl, "exp", &d, &i, &is_int);
    if (r != 1)
        return m->why = "exp", SG_DENIED;
    /* Expired when now - skew >= exp, exp rounded down. */
    if (is_int ? FJ_NOW - SG_JWT_SKEW_S >= i : (double)(FJ_NOW - SG_JWT_SKEW_S) >= floor(d))
        return m->why = "expired", SG_DENIED;
    r = ref_time(pl, "nbf", &d, &i, &is_int);
    if (r < 0)
        return m->why = "nbf type", SG_DENIED;
    /* Not yet valid when nbf, rounded up, > now + skew. */
    if (r == 1 &&
        (is_int ? i > FJ_NOW + SG_JWT_SKEW_S : ceil(d) > (double)(FJ_NOW + SG_JWT_SKEW_S)))
        return m->why = "nbf", SG_DENIED;
    if (p->audience) {
        bool ok = false;
        if (!json_object_object_get_ex(pl, "aud", &v))
            ok = false;
        else if (json_object_get_type(v) == json_type_array) {
            for (size_t k = 0; k < json_object_array_length(v) && !ok; k++)
                ok = str_is(json_object_array_get_idx(v, k), p->audience);
        } else
            ok = str_is(v, p->audience);
        if (!ok)
            return m->why = "aud", SG_DENIED;
    }
    if (!json_object_object_get_ex(pl, "sub", &v) || !printable_name(v))
        return m->why = "sub", SG_DENIED;
    if (json_object_object_get_ex(pl, p->groups_claim, &v) &&
        json_object_get_type(v) != json_type_null) {
        if (json_object_get_type(v) != json_type_array) {
            if (!printable_name(v))
                return m->why = "group", SG_DENIED;
        } else {
            size_t n = json_object_array_length(v);
            if (n > SG_JWT_GROUPS_MAX)
                return m->why = "groups", SG_DENIED;
            for (size_t k = 0; k < n; k++)
                if (!printable_name(json_object_array_get_idx(v, k)))
                    return m->why = "group", SG_DENIED;
        }
    }
    return SG_OK;
}

static void model_verify(const struct sg_jwt_policy *p, const char *tok, size_t tl, struct model *m)
{
    const unsigned char *u = (const unsigned char *)tok;
    size_t dots[2], nd = 0;
    unsigned char *part[3] = {NULL, NULL, NULL};
    size_t pl[3];
    json_object *hdr = NULL, *pay = NULL, *v;
    memset(m, 0, sizeof(*m));
    m->rc = SG_DENIED;
    m->why = "shape";
    for (size_t i = 0; i < tl && nd <= 2; i++) {
        if (u[i] == '.') {
            if (nd < 2)
                dots[nd] = i;
            nd++;
        } else if (!is_b64url(u[i])) {
            nd = 3;
        }
    }
    if (tl > SG_AUTH_TOKEN_MAX || nd != 2 || dots[0] == 0 || dots[1] == dots[0] + 1)
        goto done;
    m->why = "base64url";
    if (!ref_b64url(u, dots[0], &part[0], &pl[0]) ||
        !ref_b64url(u + dots[0] + 1, dots[1] - dots[0] - 1, &part[1], &pl[1]) ||
        !ref_b64url(u + dots[1] + 1, tl - dots[1] - 1, &part[2], &pl[2]))
        goto done;
    m->why = "header";
    hdr = ref_object(part[0], pl[0]);
    if (!hdr || !json_object_object_get_ex(hdr, "alg", &v))
        goto done;
    enum sg_jwt_alg alg = str_is(v, "RS256")   ? SG_JWT_RS256
                          : str_is(v, "ES256") ? SG_JWT_ES256
                          : str_is(v, "HS256") ? SG_JWT_HS256
                                               : SG_JWT_NONE;
    if (alg == SG_JWT_NONE || json_object_object_get_ex(hdr, "crit", NULL))
        goto done;
    /* A kid holding a NUL names no key of any provider: refused outright. */
    json_object *kid = NULL;
    if (json_object_object_get_ex(hdr, "kid", &kid) &&
        (json_object_get_type(kid) != json_type_string ||
         memchr(json_object_get_string(kid), '\0', (size_t)json_object_get_string_len(kid))))
        goto done;
    m->why = "payload";
    pay = ref_object(part[1], pl[1]);
    if (!pay)
        goto done;
    if (p->issuer && !(json_object_object_get_ex(pay, "iss", &v) && str_is(v, p->issuer))) {
        m->why = "issuer";
        m->rc = SG_DECLINED;
        goto done;
    }
    size_t candidates = 0;
    bool named = false, verified = false;
    for (size_t i = 0; i < SG_ARRAY_LEN(ref_keys) && !verified; i++) {
        const struct ref_key *k = &ref_keys[i];
        if ((kid && k->kid && !str_is(kid, k->kid)) || k->alg != alg)
            continue;
        candidates++;
        named = named || (kid && k->kid);
        verified = ref_signature_ok(k, part[2], pl[2], tok, dots[1]);
    }
    if (!verified) {
        m->why = "signature";
        m->rc = candidates == 0 || !named ? SG_DECLINED : SG_DENIED;
        goto done;
    }
    m->rc = model_claims(p, pay, m);
    if (m->rc == SG_OK) {
        m->payload = pay;
        pay = NULL;
    }

done:
    json_object_put(hdr);
    json_object_put(pay);
    for (int i = 0; i < 3; i++)
        free(part[i]);
}

/* ---- building mode b tokens ---------------------------------------------------- */

/* b64url(h).b64url(p).b64url(HMAC-SHA256(secret, the first two)); malloc'd. */
static char *hs256_token(const uint8_t *h, size_t hl, const uint8_t *p, size_t plen,
                         const unsigned char *secret, bool spoil, size_t *tl)
{
    char *h64 = tj_b64url(h, hl), *p64 = tj_b64url(p, plen);
    char *input = sg_xasprintf("%s.%s", h64, p64);
    unsigned char mac[32];
    unsigned int ml = 0;
    if (!HMAC(EVP_sha256(), secret, FJ_HS_LEN, (unsigned char *)input, strlen(input), mac, &ml))
        abort();
    if (spoil)
        mac[ml - 1] ^= 1;
    char *s64 = tj_b64url(mac, ml);
    char *tok = sg_xasprintf("%s.%s", input, s64);
    *tl = strlen(tok);
    free(h64);
    free(p64);
    free(input);
    free(s64);
    return tok;
}

static void check_verify(const struct sg_jwt_policy *p, const char *tok, size_t tl)
{
    struct sg_jwt_claims c;
    const char *why = NULL;
    struct model m;
    memset(&c, 0x5a, sizeof(c));
    int rc = sg_jwt_verify(p, tok, tl, FJ_NOW, &c, &why);
    model_verify(p, tok, tl, &m);
    if (getenv("SG_FUZZ_VERBOSE")) /* reproducing by hand: what each input got */
        fprintf(stderr, "fuzz_jwt: %d (%s), model %d (%s)\n", rc, rc == SG_OK ? "ok" : why, m.rc,
                m.rc == SG_OK ? "ok" : m.why);
    if (rc != m.rc) {
        fprintf(stderr, "fuzz_jwt: sg_jwt_verify %d (%s), model %d (%s)\n", rc, why ? why : "-",
                m.rc, m.why);
        abort();
    }
    if (rc == SG_OK) {
        json_object *v;
        if (!json_object_object_get_ex(m.payload, "sub", &v) ||
            strcmp(c.sub, json_object_get_string(v)) != 0)
            abort();
        size_t ng = 0;
        if (json_object_object_get_ex(m.payload, p->groups_claim, &v) && v) {
            bool arr = json_object_get_type(v) == json_type_array;
            ng = arr ? json_object_array_length(v) : 1;
            if (c.ngroups != ng)
                abort();
            for (size_t i = 0; i < ng; i++) {
                json_object *g = arr ? json_object_array_get_idx(v, i) : v;
                if (strcmp(c.groups[i], json_object_get_string(g)) != 0)
                    abort();
            }
        }
        if (c.ngroups != ng || c.exp <= FJ_NOW - SG_JWT_SKEW_S)
            abort();
        json_object *e = NULL;
        json_object_object_get_ex(m.payload, "exp", &e);
        if (json_object_get_type(e) == json_type_int && c.exp != json_object_get_int64(e))
            abort();
        if (json_object_get_type(e) == json_type_double && fabs(json_object_get_double(e)) < 9e18 &&
            c.exp != (int64_t)floor(json_object_get_double(e)))
            abort();
        sg_jwt_claims_clear(&c);
    } else {
        if (!why || !*why || c.sub[0] != '\0' || c.groups || c.ngroups)
            abort();
    }
    json_object_put(m.payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!keys)
        init();
    if (size == 0)
        return 0;
    uint8_t ctl = data[0];
    data++;
    size--;
    check_b64url(data, size);

    const struct sg_jwt_policy policy = {
        .keys = keys,
        .issuer = (ctl & 2) ? NULL : FJ_ISSUER,
        .audience = (ctl & 4) ? NULL : FJ_AUDIENCE,
        .groups_claim = (ctl & 8) ? "roles" : "groups",
    };
    char *tok;
    size_t tl;
    if ((ctl & 1) == 0) {
        tok = malloc(size ? size : 1);
        if (!tok)
            abort();
        memcpy(tok, data, size);
        tl = size;
    } else {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t hl = nl ? (size_t)(nl - data) : size;
        const uint8_t *p = nl ? nl + 1 : data + size;
        tok = hs256_token(data, hl, p, size - hl - (nl ? 1 : 0), (ctl & 16) ? fj_hs0 : fj_hs1,
                          (ctl & 32) != 0, &tl);
    }
    check_verify(&policy, tok, tl);
    free(tok);
    return 0;
}
