/* The jwt provider with keys generated at test time (RSA 2048, EC P-256, an
 * HMAC secret), written as a JWKS and as PEM files, and tokens minted here
 * with OpenSSL (sg_test_jwt.h), good ones and every kind of bad one. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "modules/auth/jwt/jwt.h"
#include "snapgate/auth_token.h"
#include "sg_test_jwt.h"
#include "sg_test_util.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"

#define NOW 1700000000LL

/* Made once per test case in the parent process (unchecked fixture). */
static EVP_PKEY *rsa, *rsa_other, *ec, *ec_other;
static unsigned char secret[32], secret_other[32];
static char *jwks_text;    /* rsa1 (RSA), ec1 (EC, alg ES256), hs1 (oct) */
static char *rsa_pem_text; /* rsa's public key as PEM */
static unsigned char *rsa_der;
static int rsa_der_len;

/* Per test. */
static const struct sg_auth_ops *ops;
static void *priv, *inst;

/* ---- conf nodes built by hand ------------------------------------------------ */

static struct sg_conf_node *scalar(const char *v, int line)
{
    struct sg_conf_node *n = sg_xcalloc(1, sizeof(*n));
    n->type = SG_NODE_SCALAR;
    n->line = line;
    n->scalar = sg_xstrdup(v);
    return n;
}

static struct sg_conf_node *map_of(const char *const *kv)
{
    struct sg_conf_node *m = sg_xcalloc(1, sizeof(*m));
    m->type = SG_NODE_MAP;
    m->line = 10;
    while (kv[2 * m->n])
        m->n++;
    m->keys = sg_xcalloc(m->n, sizeof(*m->keys));
    m->key_lines = sg_xcalloc(m->n, sizeof(*m->key_lines));
    m->items = sg_xcalloc(m->n, sizeof(*m->items));
    for (size_t i = 0; i < m->n; i++) {
        m->keys[i] = sg_xstrdup(kv[2 * i]);
        m->key_lines[i] = 11 + (int)i;
        m->items[i] = scalar(kv[2 * i + 1], 11 + (int)i);
    }
    return m;
}

static void node_free(struct sg_conf_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        free(n->keys ? n->keys[i] : NULL);
        node_free(n->items[i]);
    }
    free(n->keys);
    free(n->key_lines);
    free(n->items);
    free(n->scalar);
    free(n);
}

static int run_conf(const char *const *kv, struct sg_conf_errs *errs, void **out)
{
    struct sg_conf_node *m = map_of(kv);
    int rc = sg_module_auth_jwt.conf(m, "auth.providers[1]", NULL, errs, out);
    node_free(m);
    return rc;
}

/* ---- keys -------------------------------------------------------------------- */

static char *bn_param_b64(EVP_PKEY *k, const char *name, int pad)
{
    BIGNUM *bn = NULL;
    ck_assert(EVP_PKEY_get_bn_param(k, name, &bn));
    int n = pad ? pad : BN_num_bytes(bn);
    unsigned char *buf = sg_xmalloc((size_t)n);
    ck_assert_int_eq(BN_bn2binpad(bn, buf, n), n);
    char *out = tj_b64url(buf, (size_t)n);
    free(buf);
    BN_free(bn);
    return out;
}

static char *rsa_jwk(EVP_PKEY *k, const char *extra)
{
    char *n = bn_param_b64(k, OSSL_PKEY_PARAM_RSA_N, 0), *e = bn_param_b64(k, "e", 0);
    char *j = sg_xasprintf("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s}", n, e, extra);
    free(n);
    free(e);
    return j;
}

static char *ec_jwk(EVP_PKEY *k, const char *extra)
{
    char *x = bn_param_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, 32);
    char *y = bn_param_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
    char *j =
        sg_xasprintf("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"%s}", x, y, extra);
    free(x);
    free(y);
    return j;
}

static char *pem_of(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    ck_assert(PEM_write_bio_PUBKEY(b, k));
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *out = sg_xstrndup(data, (size_t)n);
    BIO_free(b);
    return out;
}

static void make_keys(void)
{
    rsa = EVP_RSA_gen(2048);
    rsa_other = EVP_RSA_gen(2048);
    ec = EVP_EC_gen("P-256");
    ec_other = EVP_EC_gen("P-256");
    ck_assert(rsa && rsa_other && ec && ec_other);
    ck_assert_int_eq(RAND_bytes(secret, sizeof(secret)), 1);
    ck_assert_int_eq(RAND_bytes(secret_other, sizeof(secret_other)), 1);
    char *r = rsa_jwk(rsa, ",\"kid\":\"rsa1\",\"use\":\"sig\"");
    char *e = ec_jwk(ec, ",\"kid\":\"ec1\",\"alg\":\"ES256\"");
    char *k = tj_b64url(secret, sizeof(secret));
    jwks_text = sg_xasprintf("{\"keys\":[%s,%s,{\"kty\":\"oct\",\"kid\":\"hs1\",\"k\":\"%s\"},"
                             "{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}\n",
                             r, e, k);
    free(r);
    free(e);
    free(k);
    rsa_pem_text = pem_of(rsa);
    rsa_der = NULL;
    rsa_der_len = i2d_PUBKEY(rsa, &rsa_der);
    ck_assert_int_gt(rsa_der_len, 0);
}

static void free_keys(void)
{
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa_other);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ec_other);
    free(jwks_text);
    free(rsa_pem_text);
    OPENSSL_free(rsa_der);
}

/* ---- provider fixture --------------------------------------------------------- */

/* A provider over keys text, with extra conf pairs (NULL-terminated), into
 * *p (its conf) and *in (one worker's instance). */
static void make_provider(const char *keys, const char *const *extra, void **p, void **in)
{
    char *path = sg_test_write_temp(keys);
    const char *kv[16] = {"type", "jwt", "keys_file", path};
    size_t n = 4;
    for (size_t i = 0; extra && extra[i]; i++)
        kv[n++] = extra[i];
    kv[n] = NULL;
    struct sg_conf_errs errs = {.file = "test.yaml"};
    int rc = run_conf(kv, &errs, p);
    unlink(path);
    free(path);
    ck_assert_msg(rc == SG_OK, "conf: %s", errs.n ? errs.msgs[0] : "?");
    *in = sg_module_auth_jwt.worker_init(*p, NULL);
    sg_jwt_set_clock(*in, NOW);
}

static void start_with(const char *keys, const char *const *extra)
{
    make_provider(keys, extra, &priv, &inst);
    ops = sg_module_auth_jwt.ops;
}

static void stop(void)
{
    if (inst)
        sg_module_auth_jwt.worker_fini(inst);
    if (priv)
        sg_module_auth_jwt.free_conf(priv);
    inst = priv = NULL;
}

static void setup(void)
{
    const char *extra[] = {"issuer", "https://idp.example", "audience", "snapgate", NULL};
    start_with(jwks_text, extra);
}

/* ---- minting ------------------------------------------------------------------ */

enum signer { S_RSA, S_RSA_OTHER, S_EC, S_EC_OTHER, S_HS, S_HS_OTHER };

static char *mint(enum signer s, const char *header, const char *payload)
{
    switch (s) {
    case S_RSA:
        return tj_rs256(header, payload, rsa);
    case S_RSA_OTHER:
        return tj_rs256(header, payload, rsa_other);
    case S_EC:
        return tj_es256(header, payload, ec);
    case S_EC_OTHER:
        return tj_es256(header, payload, ec_other);
    case S_HS:
        return tj_hs256(header, payload, secret, sizeof(secret));
    case S_HS_OTHER:
        return tj_hs256(header, payload, secret_other, sizeof(secret_other));
    }
    return NULL;
}

/* A payload with the usual good claims; extra is spliced in (",\"k\":v"). */
static char *claims(const char *extra)
{
    return sg_xasprintf("{\"sub\":\"alice\",\"iss\":\"https://idp.example\",\"aud\":\"snapgate\","
                        "\"exp\":%lld,\"groups\":[\"ops\",\"dev\"]%s}",
                        NOW + 300, extra ? extra : "");
}

struct outcome {
    int rc;
    struct sg_principal p;
};

static struct outcome auth_header(const char *hdr)
{
    struct outcome o;
    memset(&o, 0, sizeof(o));
    o.rc = ops->authenticate(inst, hdr, hdr ? strlen(hdr) : 0, &o.p, NULL, NULL);
    ck_assert_int_ne(o.rc, SG_AGAIN); /* always synchronous */
    if (o.rc != SG_OK)
        ck_assert_int_eq(o.p.ngroups, 0);
    return o;
}

/* Authenticates "Bearer tok" and frees tok. */
static struct outcome auth_token(char *tok)
{
    char *hdr = sg_xasprintf("Bearer %s", tok);
    struct outcome o = auth_header(hdr);
    free(hdr);
    free(tok);
    return o;
}

static int rc_of(char *tok)
{
    struct outcome o = auth_token(tok);
    sg_principal_clear(&o.p);
    return o.rc;
}

/* ---- good tokens ------------------------------------------------------------- */

struct good_case {
    enum signer s;
    const char *header;
};

static const struct good_case good[] = {
    {S_RSA, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"JWT\"}"},
    {S_RSA, "{\"alg\":\"RS256\"}"}, /* no kid: every RS256 key is tried */
    {S_EC, "{\"alg\":\"ES256\",\"kid\":\"ec1\"}"},
    {S_EC, "{\"alg\":\"ES256\"}"},
    {S_HS, "{\"alg\":\"HS256\",\"kid\":\"hs1\"}"},
    {S_HS, "{\"typ\":\"JWT\",\"alg\":\"HS256\"}"},
};

START_TEST(test_valid_tokens_accepted_with_principal_and_groups)
{
    char *pl = claims(NULL);
    struct outcome o = auth_token(mint(good[_i].s, good[_i].header, pl));
    ck_assert_int_eq(o.rc, SG_OK);
    ck_assert_str_eq(o.p.name, "alice");
    ck_assert_int_eq(o.p.ngroups, 2);
    ck_assert_str_eq(o.p.groups[0], "ops");
    ck_assert_str_eq(o.p.groups[1], "dev");
    sg_principal_clear(&o.p);
    free(pl);
}
END_TEST

START_TEST(test_groups_single_string_absent_and_null)
{
    const char *h = "{\"alg\":\"HS256\"}";
    char *pl = sg_xasprintf("{\"sub\":\"bob\",\"iss\":\"https://idp.example\",\"aud\":\"snapgate\","
                            "\"exp\":%lld,\"groups\":\"ops\"}",
                            NOW + 60);
    struct outcome o = auth_token(mint(S_HS, h, pl));
    ck_assert_int_eq(o.rc, SG_OK);
    ck_assert_int_eq(o.p.ngroups, 1);
    ck_assert_str_eq(o.p.groups[0], "ops");
    sg_principal_clear(&o.p);
    free(pl);
    const char *variants[] = {"", ",\"groups\":null", ",\"groups\":[]"};
    for (size_t i = 0; i < SG_ARRAY_LEN(variants); i++) {
        pl = sg_xasprintf("{\"sub\":\"bob\",\"iss\":\"https://idp.example\",\"aud\":\"snapgate\","
                          "\"exp\":%lld%s}",
                          NOW + 60, variants[i]);
        o = auth_token(mint(S_HS, h, pl));
        ck_assert_int_eq(o.rc, SG_OK);
        ck_assert_str_eq(o.p.name, "bob");
        ck_assert_int_eq(o.p.ngroups, 0);
        sg_principal_clear(&o.p);
        free(pl);
    }
}
END_TEST

START_TEST(test_aud_array_and_skew_edges)
{
    const char *h = "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}";
    const char *ok_extras[] = {
        ",\"aud\":[\"other\",\"snapgate\"]",
        ",\"exp\":1699999941", /* expired 59 s ago: within the skew */
        ",\"nbf\":1700000059", /* valid in 59 s: within the skew */
        ",\"nbf\":1699990000,\"iat\":1699990000",
        ",\"exp\":1.7000003e9",             /* a NumericDate may be fractional */
        ",\"exp\":99999999999999999999999", /* far future (json-c saturates) */
    };
    for (size_t i = 0; i < SG_ARRAY_LEN(ok_extras); i++) {
        char *pl = claims(ok_extras[i]);
        ck_assert_msg(rc_of(mint(S_RSA, h, pl)) == SG_OK, "case %zu", i);
        free(pl);
    }
}
END_TEST

/* ---- bad tokens -------------------------------------------------------------- */

struct bad_case {
    const char *what;
    enum signer s;
    const char *header;
    const char *extra; /* spliced into the good claims (later keys win in json-c) */
};

static const struct bad_case bad[] = {
    {"alg none", S_HS, "{\"alg\":\"none\"}", NULL},
    {"alg None", S_HS, "{\"alg\":\"None\"}", NULL},
    {"alg HS512", S_HS, "{\"alg\":\"HS512\"}", NULL},
    {"alg RS384", S_RSA, "{\"alg\":\"RS384\"}", NULL},
    {"no alg", S_HS, "{\"typ\":\"JWT\"}", NULL},
    {"alg not a string", S_HS, "{\"alg\":256}", NULL},
    {"crit", S_HS, "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", NULL},
    {"kid not a string", S_HS, "{\"alg\":\"HS256\",\"kid\":1}", NULL},
    /* Names holding a NUL are not their head: neither HS256 nor hs1. */
    {"alg with a NUL", S_HS, "{\"alg\":\"HS256\\u0000x\",\"kid\":\"hs1\"}", NULL},
    {"kid with a NUL", S_HS, "{\"alg\":\"HS256\",\"kid\":\"hs1\\u0000x\"}", NULL},
    {"header an array", S_HS, "[\"HS256\"]", NULL},
    {"header not JSON", S_HS, "alg=HS256", NULL},
    {"header with trailing junk", S_HS, "{\"alg\":\"HS256\"}x", NULL},
    {"wrong RSA key", S_RSA_OTHER, "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", NULL},
    {"wrong EC key, its kid", S_EC_OTHER, "{\"alg\":\"ES256\",\"kid\":\"ec1\"}", NULL},
    {"wrong HMAC secret, its kid", S_HS_OTHER, "{\"alg\":\"HS256\",\"kid\":\"hs1\"}", NULL},
    {"ours by iss and kid, expired", S_RSA, "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
     ",\"exp\":1699999940"},
    {"expired past the skew", S_HS, "{\"alg\":\"HS256\"}", ",\"exp\":1699999940"},
    {"nbf past the skew", S_HS, "{\"alg\":\"HS256\"}", ",\"nbf\":1700000061"},
    {"exp a string", S_HS, "{\"alg\":\"HS256\"}", ",\"exp\":\"1800000000\""},
    {"exp null", S_HS, "{\"alg\":\"HS256\"}", ",\"exp\":null"},
    {"nbf a bool", S_HS, "{\"alg\":\"HS256\"}", ",\"nbf\":true"},
    {"wrong aud", S_HS, "{\"alg\":\"HS256\"}", ",\"aud\":\"snapgate2\""},
    {"aud array without ours", S_HS, "{\"alg\":\"HS256\"}", ",\"aud\":[\"a\",\"b\"]"},
    {"aud with a NUL", S_HS, "{\"alg\":\"HS256\"}", ",\"aud\":\"snapgate\\u0000x\""},
    {"sub empty", S_HS, "{\"alg\":\"HS256\"}", ",\"sub\":\"\""},
    {"sub a number", S_HS, "{\"alg\":\"HS256\"}", ",\"sub\":42"},
    {"sub with a control char", S_HS, "{\"alg\":\"HS256\"}", ",\"sub\":\"al\\nice\""},
    {"groups with a number", S_HS, "{\"alg\":\"HS256\"}", ",\"groups\":[\"ops\",7]"},
    {"groups an object", S_HS, "{\"alg\":\"HS256\"}", ",\"groups\":{\"ops\":true}"},
    {"groups with an empty name", S_HS, "{\"alg\":\"HS256\"}", ",\"groups\":[\"\"]"},
};

START_TEST(test_bad_tokens_denied)
{
    const struct bad_case *b = &bad[_i];
    char *pl = claims(b->extra);
    ck_assert_msg(rc_of(mint(b->s, b->header, pl)) == SG_DENIED, "%s", b->what);
    free(pl);
}
END_TEST

/* Tokens that are not this provider's: another issuer, no key of their alg
 * and kid, or keys chosen by alg alone that do not verify them. They pass on
 * (another jwt provider may hold their key) and are never accepted here. */
static const struct bad_case not_ours[] = {
    {"RS256 by the kid of the EC key", S_RSA, "{\"alg\":\"RS256\",\"kid\":\"ec1\"}", NULL},
    {"ES256 by the kid of the RSA key", S_EC, "{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", NULL},
    {"HS256 by the kid of the RSA key", S_HS, "{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", NULL},
    {"RS256 header, HMAC signature", S_HS, "{\"alg\":\"RS256\"}", NULL},
    {"ES256 header, RSA signature", S_RSA, "{\"alg\":\"ES256\"}", NULL},
    {"unknown kid", S_HS, "{\"alg\":\"HS256\",\"kid\":\"nope\"}", NULL},
    {"wrong RSA key, no kid", S_RSA_OTHER, "{\"alg\":\"RS256\"}", NULL},
    {"wrong EC key", S_EC_OTHER, "{\"alg\":\"ES256\"}", NULL},
    {"wrong HMAC secret", S_HS_OTHER, "{\"alg\":\"HS256\"}", NULL},
    {"wrong iss", S_HS, "{\"alg\":\"HS256\"}", ",\"iss\":\"https://evil.example\""},
    {"iss an array", S_HS, "{\"alg\":\"HS256\"}", ",\"iss\":[\"https://idp.example\"]"},
    {"no iss", S_HS, "{\"alg\":\"HS256\"}", ",\"iss\":null"},
};

START_TEST(test_tokens_of_others_declined)
{
    const struct bad_case *b = &not_ours[_i];
    char *pl = claims(b->extra);
    ck_assert_msg(rc_of(mint(b->s, b->header, pl)) == SG_DECLINED, "%s", b->what);
    free(pl);
}
END_TEST

static const char *const bad_payloads[] = {
    "{\"iss\":\"https://idp.example\",\"aud\":\"snapgate\",\"exp\":1700000300}", /* no sub */
    "{\"sub\":\"alice\",\"iss\":\"https://idp.example\",\"aud\":\"snapgate\"}",  /* no exp */
    "{\"sub\":\"alice\",\"iss\":\"https://idp.example\",\"exp\":1700000300}",    /* no aud */
    "[\"sub\",\"alice\"]",                                                       /* not an object */
    "{\"sub\":\"alice\"",                                                        /* cut JSON */
    "{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}",                         /* too deep */
};

START_TEST(test_bad_payloads_denied)
{
    ck_assert_int_eq(rc_of(mint(S_HS, "{\"alg\":\"HS256\"}", bad_payloads[_i])), SG_DENIED);
}
END_TEST

START_TEST(test_sub_length_limit)
{
    char name[SG_PRINCIPAL_NAME_MAX + 1];
    memset(name, 'n', sizeof(name));
    name[SG_PRINCIPAL_NAME_MAX - 1] = '\0'; /* 255 bytes: the longest allowed */
    char *extra = sg_xasprintf(",\"sub\":\"%s\"", name);
    char *pl = claims(extra);
    struct outcome o = auth_token(mint(S_HS, "{\"alg\":\"HS256\"}", pl));
    ck_assert_int_eq(o.rc, SG_OK);
    ck_assert_str_eq(o.p.name, name);
    sg_principal_clear(&o.p);
    free(pl);
    free(extra);
    name[SG_PRINCIPAL_NAME_MAX - 1] = 'n';
    name[SG_PRINCIPAL_NAME_MAX] = '\0'; /* 256 bytes */
    extra = sg_xasprintf(",\"sub\":\"%s\"", name);
    pl = claims(extra);
    ck_assert_int_eq(rc_of(mint(S_HS, "{\"alg\":\"HS256\"}", pl)), SG_DENIED);
    free(pl);
    free(extra);
}
END_TEST

/* An HS256 token (the hs1 secret) over raw header and payload bytes, NULs included. */
static char *mint_hs_raw(const char *h, size_t hl, const char *p, size_t pl)
{
    char *h64 = tj_b64url(h, hl), *p64 = tj_b64url(p, pl);
    char *in = sg_xasprintf("%s.%s", h64, p64);
    unsigned char mac[32];
    size_t ml = 0;
    ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, sizeof(secret),
                                    (unsigned char *)in, strlen(in), mac, sizeof(mac), &ml));
    free(h64);
    free(p64);
    return tj_finish(in, mac, ml);
}

/* json-c stops at a NUL byte as if the text ended there: a part holding
 * "{...}\0anything" must still be refused (found by fuzz_jwt). */
START_TEST(test_json_part_with_a_nul_byte_denied)
{
    static const char h[] = "{\"alg\":\"HS256\"}";
    static const char h_nul[] = "{\"alg\":\"HS256\"}\0junk";
    char *pl = claims(NULL);
    size_t n = strlen(pl);
    char *pl_nul = sg_xmalloc(n + 3);
    memcpy(pl_nul, pl, n);
    memcpy(pl_nul + n, "\0{}", 3);
    ck_assert_int_eq(rc_of(mint_hs_raw(h, sizeof(h) - 1, pl, n)), SG_OK);
    ck_assert_int_eq(rc_of(mint_hs_raw(h_nul, sizeof(h_nul) - 1, pl, n)), SG_DENIED);
    ck_assert_int_eq(rc_of(mint_hs_raw(h, sizeof(h) - 1, pl_nul, n + 3)), SG_DENIED);
    ck_assert_int_eq(rc_of(mint_hs_raw(h, sizeof(h) - 1, pl_nul, n + 1)), SG_DENIED);
    free(pl_nul);
    free(pl);
}
END_TEST

/* The classic confusion: the RSA public key (as PEM text or DER bytes) used as
 * an HMAC secret. Rejected whether the keys come as a JWKS or as that PEM. */
START_TEST(test_hs256_with_the_rsa_public_key_as_secret)
{
    char *pl = claims(NULL);
    const char *headers[] = {"{\"alg\":\"HS256\"}", "{\"alg\":\"HS256\",\"kid\":\"rsa1\"}"};
    for (int pem_file = 0; pem_file < 2; pem_file++) {
        if (pem_file) {
            stop();
            const char *extra[] = {"issuer", "https://idp.example", "audience", "snapgate", NULL};
            start_with(rsa_pem_text, extra);
            ck_assert_int_eq(rc_of(mint(S_RSA, "{\"alg\":\"RS256\"}", pl)), SG_OK);
        }
        /* Never accepted; passed on, as no HS256 key here is named by it. */
        for (size_t h = 0; h < SG_ARRAY_LEN(headers); h++) {
            ck_assert_int_eq(rc_of(tj_hs256(headers[h], pl, rsa_pem_text, strlen(rsa_pem_text))),
                             SG_DECLINED);
            ck_assert_int_eq(rc_of(tj_hs256(headers[h], pl, rsa_der, (size_t)rsa_der_len)),
                             SG_DECLINED);
        }
    }
    free(pl);
}
END_TEST

START_TEST(test_ec_pem_keys_file)
{
    stop();
    char *pem = pem_of(ec);
    start_with(pem, NULL); /* no issuer, no audience: neither is checked */
    free(pem);
    const char *pl = "{\"sub\":\"carol\",\"exp\":1700000100,\"aud\":\"anyone\",\"iss\":\"x\"}";
    ck_assert_int_eq(rc_of(tj_es256("{\"alg\":\"ES256\",\"kid\":\"whatever\"}", pl, ec)), SG_OK);
    /* A PEM key has no kid: another key's token is told apart by its signature only. */
    ck_assert_int_eq(rc_of(tj_es256("{\"alg\":\"ES256\"}", pl, ec_other)), SG_DECLINED);
    ck_assert_int_eq(rc_of(tj_rs256("{\"alg\":\"RS256\"}", pl, rsa)), SG_DECLINED);
    /* Its signature verifies, its claims do not: ours, DENIED. */
    ck_assert_int_eq(rc_of(tj_es256("{\"alg\":\"ES256\"}", "{\"sub\":\"carol\",\"exp\":1}", ec)),
                     SG_DENIED);
}
END_TEST

START_TEST(test_custom_groups_claim)
{
    stop();
    const char *extra[] = {"groups_claim", "roles", NULL};
    start_with(jwks_text, extra);
    const char *pl = "{\"sub\":\"dan\",\"exp\":1700000100,\"groups\":[\"g\"],\"roles\":[\"r1\"]}";
    struct outcome o = auth_token(tj_hs256("{\"alg\":\"HS256\"}", pl, secret, sizeof(secret)));
    ck_assert_int_eq(o.rc, SG_OK);
    ck_assert_int_eq(o.p.ngroups, 1);
    ck_assert_str_eq(o.p.groups[0], "r1");
    sg_principal_clear(&o.p);
}
END_TEST

/* Tampering with a good token's parts. Never accepted: DENIED when the
 * token's kid names the key (it is this provider's token), passed on when
 * the key was chosen by alg alone (it may be another provider's). */
START_TEST(test_tampered_tokens_denied)
{
    char *pl = claims(NULL);
    const enum signer signers[] = {S_RSA, S_EC, S_HS, S_RSA, S_EC, S_HS};
    const char *headers[] = {"{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                             "{\"alg\":\"ES256\",\"kid\":\"ec1\"}",
                             "{\"alg\":\"HS256\",\"kid\":\"hs1\"}",
                             "{\"alg\":\"RS256\"}",
                             "{\"alg\":\"ES256\"}",
                             "{\"alg\":\"HS256\"}"};
    for (size_t i = 0; i < SG_ARRAY_LEN(signers); i++) {
        int want = i < 3 ? SG_DENIED : SG_DECLINED;
        char *tok = mint(signers[i], headers[i], pl);
        char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');

        /* Another payload (sub: admin) under the original signature. */
        char *evil_pl = sg_xasprintf("{\"sub\":\"admin\",\"iss\":\"https://idp.example\","
                                     "\"aud\":\"snapgate\",\"exp\":%lld}",
                                     NOW + 300);
        char *evil = tj_b64url(evil_pl, strlen(evil_pl));
        char *t1 = sg_xasprintf("%.*s.%s%s", (int)(d1 - tok), tok, evil, d2);
        ck_assert_int_eq(rc_of(t1), want);

        /* One signature byte flipped (a middle character keeps the encoding canonical). */
        char *t2 = sg_xstrdup(tok);
        char *c = t2 + (d2 - tok) + 10;
        *c = *c == 'A' ? 'B' : 'A';
        ck_assert_int_eq(rc_of(t2), want);

        /* Signature cut short, and dropped. */
        /* A cut signature may no longer be canonical base64url: then it is
         * malformed for every provider (DENIED). */
        char *t3 = sg_xstrndup(tok, strlen(tok) - 4);
        int r3 = rc_of(t3);
        ck_assert(r3 == want || r3 == SG_DENIED);
        char *t4 = sg_xstrndup(tok, (size_t)(d2 - tok) + 1);
        ck_assert_int_eq(rc_of(t4), want);

        /* The untouched token still passes. */
        ck_assert_int_eq(rc_of(tok), SG_OK);
        free(evil);
        free(evil_pl);
    }
    free(pl);
}
END_TEST

/* ES256 signatures must be exactly r || s (64 bytes): DER is not accepted. */
START_TEST(test_es256_der_signature_denied)
{
    char *pl = claims(NULL);
    /* Named by kid: this provider's key, so DENIED rather than passed on. */
    char *in = tj_input("{\"alg\":\"ES256\",\"kid\":\"ec1\"}", pl);
    size_t sl = 0;
    unsigned char *der = tj_sign_raw(ec, in, &sl);
    ck_assert_int_eq(rc_of(tj_finish(in, der, sl)), SG_DENIED);
    free(der);
    free(pl);
}
END_TEST

/* Header values that never reach verification. */
static const struct {
    const char *hdr;
    int want;
} shapes[] = {
    {NULL, SG_DECLINED},
    {"", SG_DECLINED},
    {"Basic YWxpY2U6eA==", SG_DECLINED},
    {"Bearerx a.b.c", SG_DECLINED},
    {"Bearer opaque-token-123", SG_DECLINED}, /* the bearer provider's */
    {"Bearer a.b", SG_DECLINED},
    {"Bearer a.b.c.d", SG_DECLINED},
    {"Bearer eyJh.eyJh.c2ln==", SG_DECLINED}, /* padding: not base64url */
    {"Bearer eyJh+.eyJh.c2ln", SG_DECLINED},
    {"Bearer .eyJh.c2ln", SG_DECLINED},
    {"Bearer", SG_DENIED},
    {"Bearer    ", SG_DENIED},
    {"Bearer a b", SG_DENIED},
    {"Bearer e30.e30.@", SG_DENIED},
    {"Bearer e.e30.c2ln", SG_DENIED},   /* a length of 1 mod 4 */
    {"Bearer e31.e30.c2ln", SG_DENIED}, /* non-canonical: unused bits set */
    {"Bearer e30.e30.c2ln", SG_DENIED}, /* {} as header: no alg */
};

START_TEST(test_header_shapes)
{
    struct outcome o = auth_header(shapes[_i].hdr);
    ck_assert_msg(o.rc == shapes[_i].want, "%s: got %d", shapes[_i].hdr ? shapes[_i].hdr : "NULL",
                  o.rc);
}
END_TEST

START_TEST(test_oversize_token_denied)
{
    /* A well-formed, correctly signed token that is just too long. */
    size_t n = SG_AUTH_TOKEN_MAX;
    char *pad = sg_xmalloc(n + 1);
    memset(pad, 'x', n);
    pad[n] = '\0';
    char *extra = sg_xasprintf(",\"pad\":\"%s\"", pad);
    char *pl = claims(extra);
    char *tok = mint(S_HS, "{\"alg\":\"HS256\"}", pl);
    ck_assert_uint_gt(strlen(tok), SG_AUTH_TOKEN_MAX);
    ck_assert_int_eq(rc_of(tok), SG_DENIED);
    free(pl);
    free(extra);
    free(pad);
}
END_TEST

/* ---- the cache ------------------------------------------------------------------ */

START_TEST(test_verified_tokens_are_cached_until_forget)
{
    char *pl = claims(NULL);
    char *tok = mint(S_RSA, "{\"alg\":\"RS256\"}", pl);
    ck_assert_int_eq(rc_of(sg_xstrdup(tok)), SG_OK);
    /* Judged by claims alone it is now expired; the cache still vouches for it. */
    sg_jwt_set_clock(inst, NOW + 100000);
    struct outcome o = auth_token(sg_xstrdup(tok));
    ck_assert_int_eq(o.rc, SG_OK);
    ck_assert_int_eq(o.p.ngroups, 2); /* groups come from the cache too */
    ck_assert_str_eq(o.p.groups[1], "dev");
    sg_principal_clear(&o.p);
    ops->forget(inst);
    ck_assert_int_eq(rc_of(tok), SG_DENIED);
    free(pl);
}
END_TEST

START_TEST(test_cache_entry_ends_with_the_token)
{
    /* exp + skew is 1 s away: the entry may live 1 s, not 60. */
    char *pl = claims(",\"exp\":1699999941");
    char *tok = mint(S_HS, "{\"alg\":\"HS256\"}", pl);
    ck_assert_int_eq(rc_of(sg_xstrdup(tok)), SG_OK);
    sg_jwt_set_clock(inst, NOW + 100);
    ck_assert_int_eq(rc_of(sg_xstrdup(tok)), SG_OK); /* cached */
    usleep(1100 * 1000);
    ck_assert_int_eq(rc_of(tok), SG_DENIED);
    free(pl);
}
END_TEST

START_TEST(test_failures_are_not_cached)
{
    char *pl = claims(",\"nbf\":1700000100");
    char *tok = mint(S_HS, "{\"alg\":\"HS256\"}", pl);
    ck_assert_int_eq(rc_of(sg_xstrdup(tok)), SG_DENIED);
    sg_jwt_set_clock(inst, NOW + 100);
    ck_assert_int_eq(rc_of(tok), SG_OK);
    free(pl);
}
END_TEST

/* ---- several jwt providers in one chain --------------------------------------- */

/* The core's walk over a chain: the first answer that is not DECLINED; on
 * SG_OK the principal must be want_sub. */
static int chain_rc(void *const *insts, size_t n, const char *tok, const char *want_sub)
{
    char *hdr = sg_xasprintf("Bearer %s", tok);
    int rc = SG_DECLINED;
    for (size_t i = 0; i < n && rc == SG_DECLINED; i++) {
        struct sg_principal p;
        memset(&p, 0, sizeof(p));
        rc = ops->authenticate(insts[i], hdr, strlen(hdr), &p, NULL, NULL);
        if (rc == SG_OK)
            ck_assert_str_eq(p.name, want_sub);
        sg_principal_clear(&p);
    }
    free(hdr);
    return rc;
}

/* Both orders of the chain answer want for tok. */
static void assert_both_orders(void *a, void *b, const char *tok, int want, const char *sub,
                               const char *what)
{
    void *ab[] = {a, b}, *ba[] = {b, a};
    ck_assert_msg(chain_rc(ab, 2, tok, sub) == want, "%s, order a b", what);
    ck_assert_msg(chain_rc(ba, 2, tok, sub) == want, "%s, order b a", what);
}

/* tok with another payload (sub: admin, the second issuer's) under its signature. */
static char *tampered(const char *tok)
{
    const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
    char *evil_pl = sg_xasprintf(
        "{\"sub\":\"admin\",\"iss\":\"https://idp2.example\",\"exp\":%lld}", NOW + 300);
    char *evil = tj_b64url(evil_pl, strlen(evil_pl));
    char *t = sg_xasprintf("%.*s.%s%s", (int)(d1 - tok), tok, evil, d2);
    free(evil);
    free(evil_pl);
    return t;
}

static char *payload(const char *sub, const char *iss, long long exp)
{
    if (!iss)
        return sg_xasprintf("{\"sub\":\"%s\",\"exp\":%lld}", sub, exp);
    return sg_xasprintf("{\"sub\":\"%s\",\"iss\":\"%s\",\"aud\":\"snapgate\",\"exp\":%lld}", sub,
                        iss, exp);
}

/* Two issuers, each with its own JWKS (kids): each token is accepted
 * whichever provider comes first; the other provider passes it on. */
START_TEST(test_two_issuers_in_one_chain)
{
    char *rsa2 = rsa_jwk(rsa_other, ",\"kid\":\"rsa2\"");
    char *jwks2 = sg_xasprintf("{\"keys\":[%s]}", rsa2);
    const char *extra2[] = {"issuer", "https://idp2.example", NULL};
    void *priv2, *inst2;
    make_provider(jwks2, extra2, &priv2, &inst2);

    char *pl1 = payload("first", "https://idp.example", NOW + 300);
    char *pl2 = payload("second", "https://idp2.example", NOW + 300);
    char *pl2_old = payload("second", "https://idp2.example", 1);
    char *pl3 = payload("third", "https://idp3.example", NOW + 300);
    char *t1 = tj_rs256("{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", pl1, rsa);
    char *t2 = tj_rs256("{\"alg\":\"RS256\",\"kid\":\"rsa2\"}", pl2, rsa_other);
    char *t2_expired = tj_rs256("{\"alg\":\"RS256\",\"kid\":\"rsa2\"}", pl2_old, rsa_other);
    char *t2_tampered = tampered(t2);
    char *t3 = tj_rs256("{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", pl3, rsa);

    /* Alone, each provider passes the other's token on. */
    void *only1[] = {inst}, *only2[] = {inst2};
    ck_assert_int_eq(chain_rc(only1, 1, t2, NULL), SG_DECLINED);
    ck_assert_int_eq(chain_rc(only2, 1, t1, NULL), SG_DECLINED);
    ck_assert_int_eq(chain_rc(only2, 1, t2_tampered, NULL), SG_DENIED);

    assert_both_orders(inst, inst2, t1, SG_OK, "first", "token of the first issuer");
    assert_both_orders(inst, inst2, t2, SG_OK, "second", "token of the second issuer");
    assert_both_orders(inst, inst2, t2_tampered, SG_DENIED, NULL, "tampered, second issuer");
    assert_both_orders(inst, inst2, t2_expired, SG_DENIED, NULL, "expired, second issuer");
    assert_both_orders(inst, inst2, t3, SG_DECLINED, NULL, "token of neither (a 401)");

    sg_module_auth_jwt.worker_fini(inst2);
    sg_module_auth_jwt.free_conf(priv2);
    char *all[] = {t1, t2, t2_expired, t2_tampered, t3, pl1, pl2, pl2_old, pl3, jwks2, rsa2};
    for (size_t i = 0; i < SG_ARRAY_LEN(all); i++)
        free(all[i]);
}
END_TEST

/* Old and new keys in two PEM files (no kid, no issuer): only the signature
 * tells whose a token is, so a key that does not verify it passes it on. */
START_TEST(test_old_and_new_pem_keys_in_one_chain)
{
    stop();
    char *pem_old = pem_of(rsa), *pem_new = pem_of(rsa_other);
    void *priv_new, *inst_new;
    start_with(pem_old, NULL);
    make_provider(pem_new, NULL, &priv_new, &inst_new);
    char *pl_old = payload("old", NULL, NOW + 300);
    char *pl_new = payload("new", NULL, NOW + 300);
    char *t_old = tj_rs256("{\"alg\":\"RS256\"}", pl_old, rsa);
    char *t_new = tj_rs256("{\"alg\":\"RS256\",\"kid\":\"2024\"}", pl_new, rsa_other);
    char *t_neither = tj_es256("{\"alg\":\"ES256\"}", pl_old, ec);
    char *t_new_bad = tampered(t_new);

    assert_both_orders(inst, inst_new, t_old, SG_OK, "old", "token of the old key");
    assert_both_orders(inst, inst_new, t_new, SG_OK, "new", "token of the new key");
    assert_both_orders(inst, inst_new, t_neither, SG_DECLINED, NULL, "token of neither");
    /* No key names it: no provider can claim it, and none accepts it (a 401). */
    assert_both_orders(inst, inst_new, t_new_bad, SG_DECLINED, NULL, "tampered");

    sg_module_auth_jwt.worker_fini(inst_new);
    sg_module_auth_jwt.free_conf(priv_new);
    char *all[] = {t_old, t_new, t_neither, t_new_bad, pl_old, pl_new, pem_old, pem_new};
    for (size_t i = 0; i < SG_ARRAY_LEN(all); i++)
        free(all[i]);
}
END_TEST

/* ---- base64url ------------------------------------------------------------------- */

START_TEST(test_b64url_strict)
{
    static const struct {
        const char *in;
        const char *out; /* NULL: rejected */
    } cases[] = {
        {"", ""},       {"QQ", "A"},    {"QUI", "AB"},   {"QUJD", "ABC"}, {"-_-_", "\xfb\xff\xbf"},
        {"QR", NULL},   {"QUJ", NULL},  {"Q", NULL},     {"QQ==", NULL},  {"QU+D", NULL},
        {"QU/D", NULL}, {"QU D", NULL}, {"QUJDR", NULL},
    };
    for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
        unsigned char *out = NULL;
        size_t n = 0;
        int rc = sg_jwt_b64url_decode(cases[i].in, strlen(cases[i].in), &out, &n);
        if (!cases[i].out) {
            ck_assert_msg(rc == SG_ERR, "%s accepted", cases[i].in);
            ck_assert_ptr_null(out);
        } else {
            ck_assert_msg(rc == SG_OK, "%s rejected", cases[i].in);
            ck_assert_uint_eq(n, strlen(cases[i].out));
            ck_assert(memcmp(out, cases[i].out, n) == 0);
        }
        free(out);
    }
}
END_TEST

/* ---- the keys file and the conf hook ---------------------------------------------- */

struct keys_case {
    const char *content; /* %R: an RSA-2048 JWK body, %E: an EC one (without braces) */
    const char *want;    /* after "keys_file: PATH" */
};

static const struct keys_case bad_keys[] = {
    {"", ": neither a JWKS (a JSON object) nor a PEM public key"},
    {"hello", ": neither a JWKS (a JSON object) nor a PEM public key"},
    {"{\"keys\":[", ": not valid JSON"},
    {"{\"keys\":[]} x", ": not valid JSON"},
    {"{\"kty\":\"RSA\"}", ": want a JWKS: an object with a \"keys\" array"},
    {"{\"keys\":{}}", ": want a JWKS: an object with a \"keys\" array"},
    {"{\"keys\":[]}", ": no signature keys"},
    {"{\"keys\":[{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
     ": no signature keys"},
    {"{\"keys\":[{%R},7]}", ": key 1: not a JSON object"},
    {"{\"keys\":[{\"n\":\"AQAB\"}]}", ": key 0: kty is missing or not a string"},
    {"{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AQAB\"}]}",
     ": key 0: unsupported kty (want RSA, EC or oct)"},
    {"{\"keys\":[{%R,\"alg\":\"RS384\"}]}",
     ": key 0: unsupported alg (want RS256, ES256 or HS256)"},
    {"{\"keys\":[{%R,\"alg\":\"HS256\"}]}",
     ": key 0: alg does not fit kty (RS256: RSA, ES256: EC, HS256: oct)"},
    {"{\"keys\":[{%E,\"alg\":\"RS256\"}]}",
     ": key 0: alg does not fit kty (RS256: RSA, ES256: EC, HS256: oct)"},
    {"{\"keys\":[{%R,\"use\":\"wrap\"}]}", ": key 0: use must be \"sig\" (or \"enc\", skipped)"},
    {"{\"keys\":[{%R,\"kid\":5}]}", ": key 0: use, alg and kid must be strings"},
    {"{\"keys\":[{%R,\"kid\":\"a\\u0000b\"}]}", ": key 0: use, alg and kid must be strings"},
    {"{\"keys\":[{\"kty\":\"oct\","
     "\"k\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\\u0000AA\"}]}",
     ": key 0: a member is not a string"},
    {"{\"keys\":[{%R,\"d\":\"AQAB\"}]}",
     ": key 0: holds private key material (d): give public keys only"},
    {"{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\"}]}", ": key 0: a required member is missing"},
    {"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB=\",\"e\":\"AQAB\"}]}",
     ": key 0: a member is not unpadded base64url"},
    {"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
     ": key 0: RSA key shorter than 2048 bits"},
    {"{\"keys\":[{%E},{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AQAB\",\"y\":\"AQAB\"}]}",
     ": key 1: EC key not on curve P-256 (crv)"},
    {"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQAB\",\"y\":\"AQAB\"}]}",
     ": key 0: x and y must be 32 bytes each"},
    {"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
     "\"x\":\"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE\","
     "\"y\":\"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE\"}]}",
     ": key 0: not a valid P-256 public key"},
    {"{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2hvcnQtc2VjcmV0LW9ubHktMjQtYnl0ZXMh\"}]}",
     ": key 0: oct key shorter than 32 bytes"},
    {"{\"keys\":[{\"kty\":\"oct\"}]}", ": key 0: a required member is missing"},
    {"{\"keys\":[{%R,\"kid\":\"a\"},{%E,\"kid\":\"a\"}]}", ": key 1: duplicate kid (also key 0)"},
    {"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
     ": no PEM \"PUBLIC KEY\" block could be read"},
    {"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
     "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
     ": more than one PEM block (want one public key)"},
};

/* Replaces %R and %E in fmt with the members of good RSA / EC JWKs. */
static char *fill_keys(const char *fmt)
{
    char *r = rsa_jwk(rsa, ""), *e = ec_jwk(ec, "");
    r[strlen(r) - 1] = '\0'; /* drop the braces: the case adds members */
    e[strlen(e) - 1] = '\0';
    char *out = sg_xstrdup("");
    for (const char *p = fmt; *p; p++) {
        char *next;
        if (p[0] == '%' && (p[1] == 'R' || p[1] == 'E'))
            next = sg_xasprintf("%s%s", out, (p[1] == 'R' ? r : e) + 1), p++;
        else
            next = sg_xasprintf("%s%c", out, *p);
        free(out);
        out = next;
    }
    free(r);
    free(e);
    return out;
}

START_TEST(test_bad_keys_files)
{
    char *content = fill_keys(bad_keys[_i].content);
    char *path = sg_test_write_temp(content);
    struct sg_conf_errs errs = {.file = "test.yaml"};
    void *p = NULL;
    const char *kv[] = {"type", "jwt", "keys_file", path, NULL};
    int rc = run_conf(kv, &errs, &p);
    unlink(path);
    ck_assert_int_eq(rc, SG_ERR);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(errs.n, 1);
    char *want =
        sg_xasprintf("test.yaml:12: auth.providers[1].keys_file: %s%s", path, bad_keys[_i].want);
    ck_assert_msg(strstr(errs.msgs[0], want), "got \"%s\", want \"%s\"", errs.msgs[0], want);
    /* No key material in an error. */
    ck_assert_ptr_null(strstr(errs.msgs[0], "AQAB"));
    ck_assert_ptr_null(strstr(errs.msgs[0], "c2hvcnQ"));
    sg_conf_errs_clear(&errs);
    free(want);
    free(path);
    free(content);
}
END_TEST

START_TEST(test_rsa_1024_pem_rejected)
{
    EVP_PKEY *small = EVP_RSA_gen(1024);
    char *pem = pem_of(small);
    char *path = sg_test_write_temp(pem);
    struct sg_jwt_keys *k = NULL;
    char err[256];
    ck_assert_int_eq(sg_jwt_keys_load(path, &k, err, sizeof(err)), SG_ERR);
    ck_assert_ptr_nonnull(strstr(err, ": RSA key shorter than 2048 bits"));
    unlink(path);
    free(path);
    free(pem);
    EVP_PKEY_free(small);
}
END_TEST

START_TEST(test_jwks_loads_with_algs_and_kids)
{
    char *path = sg_test_write_temp(jwks_text);
    struct sg_jwt_keys *k = NULL;
    char err[256] = "";
    ck_assert_int_eq(sg_jwt_keys_load(path, &k, err, sizeof(err)), SG_OK);
    ck_assert_int_eq(k->n, 3); /* the "use": "enc" key is skipped */
    ck_assert_str_eq(k->v[0].kid, "rsa1");
    ck_assert_int_eq(k->v[0].alg, SG_JWT_RS256);
    ck_assert_int_eq(k->v[1].alg, SG_JWT_ES256);
    ck_assert_int_eq(k->v[2].alg, SG_JWT_HS256);
    ck_assert_int_eq(k->v[2].secret_len, 32);
    ck_assert(memcmp(k->v[2].secret, secret, 32) == 0);
    sg_jwt_keys_free(k);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_conf_values)
{
    struct sg_conf_errs errs = {.file = "test.yaml"};
    void *p = NULL;
    const char *kv[] = {"type", "jwt", NULL};
    ck_assert_int_eq(run_conf(kv, &errs, &p), SG_ERR);
    ck_assert_int_eq(errs.n, 1);
    ck_assert_ptr_nonnull(
        strstr(errs.msgs[0], "auth.providers[1].keys_file: required key is missing"));
    sg_conf_errs_clear(&errs);

    char *path = sg_test_write_temp(jwks_text);
    const char *kv2[] = {"type", "jwt", "keys_file", path, "issuer", "", NULL};
    ck_assert_int_eq(run_conf(kv2, &errs, &p), SG_ERR);
    ck_assert_ptr_null(p);
    ck_assert_int_ge(errs.n, 1);
    ck_assert_ptr_nonnull(strstr(errs.msgs[0], "auth.providers[1].issuer"));
    sg_conf_errs_clear(&errs);

    const char *kv3[] = {"type", "jwt", "keys_file", "/nonexistent/jwks.json", NULL};
    ck_assert_int_eq(run_conf(kv3, &errs, &p), SG_ERR);
    ck_assert_ptr_nonnull(strstr(errs.msgs[0],
                                 "auth.providers[1].keys_file: "
                                 "/nonexistent/jwks.json: No such file or directory"));
    sg_conf_errs_clear(&errs);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_module_identity)
{
    ck_assert_str_eq(sg_module_auth_jwt.name, "jwt");
    ck_assert_int_eq(sg_module_auth_jwt.kind, SG_MOD_AUTH);
    ck_assert_str_eq(ops->scheme, "Bearer");
}
END_TEST

static Suite *auth_jwt_suite(void)
{
    Suite *s = suite_create("auth_jwt");
    TCase *tc = tcase_create("verify");
    tcase_add_unchecked_fixture(tc, make_keys, free_keys);
    tcase_add_checked_fixture(tc, setup, stop);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_valid_tokens_accepted_with_principal_and_groups, 0,
                        SG_ARRAY_LEN(good));
    tcase_add_test(tc, test_groups_single_string_absent_and_null);
    tcase_add_test(tc, test_aud_array_and_skew_edges);
    tcase_add_loop_test(tc, test_bad_tokens_denied, 0, SG_ARRAY_LEN(bad));
    tcase_add_loop_test(tc, test_tokens_of_others_declined, 0, SG_ARRAY_LEN(not_ours));
    tcase_add_loop_test(tc, test_bad_payloads_denied, 0, SG_ARRAY_LEN(bad_payloads));
    tcase_add_test(tc, test_sub_length_limit);
    tcase_add_test(tc, test_json_part_with_a_nul_byte_denied);
    tcase_add_test(tc, test_hs256_with_the_rsa_public_key_as_secret);
    tcase_add_test(tc, test_ec_pem_keys_file);
    tcase_add_test(tc, test_custom_groups_claim);
    tcase_add_test(tc, test_tampered_tokens_denied);
    tcase_add_test(tc, test_es256_der_signature_denied);
    tcase_add_loop_test(tc, test_header_shapes, 0, SG_ARRAY_LEN(shapes));
    tcase_add_test(tc, test_oversize_token_denied);
    tcase_add_test(tc, test_verified_tokens_are_cached_until_forget);
    tcase_add_test(tc, test_cache_entry_ends_with_the_token);
    tcase_add_test(tc, test_failures_are_not_cached);
    tcase_add_test(tc, test_two_issuers_in_one_chain);
    tcase_add_test(tc, test_old_and_new_pem_keys_in_one_chain);
    tcase_add_test(tc, test_b64url_strict);
    tcase_add_loop_test(tc, test_bad_keys_files, 0, SG_ARRAY_LEN(bad_keys));
    tcase_add_test(tc, test_rsa_1024_pem_rejected);
    tcase_add_test(tc, test_jwks_loads_with_algs_and_kids);
    tcase_add_test(tc, test_conf_values);
    tcase_add_test(tc, test_module_identity);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(auth_jwt_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
