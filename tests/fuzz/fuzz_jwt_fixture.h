/* Shared by fuzz_jwt and fuzz_jwt_keys: a fixed key set (the public halves of
 * throwaway TEST keys made once with openssl for these harnesses, whose private
 * halves were discarded: nothing here can sign RS256 or ES256), fixed RS256 and
 * ES256 tokens signed once with those private halves, HMAC test secrets, a
 * fixed clock and policy, and (fuzz_file.h) a file whose bytes change per
 * execution.
 * Fixed keys, not keys made at start, so that the committed seeds (JWKS, PEM
 * and tokens made from these keys) verify in every run. HS256 tokens are minted
 * at run time with tests/unit/support/sg_test_jwt.h (OpenSSL only, independent
 * of the code under test). */
#ifndef SG_FUZZ_JWT_FIXTURE_H
#define SG_FUZZ_JWT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fuzz_file.h"
#include "snapgate/common.h"
#include "tests/unit/support/sg_test_jwt.h"

#define FJ_NOW 1700000000LL
#define FJ_ISSUER "https://idp.example"
#define FJ_AUDIENCE "snapgate"

/* rsa1: RSA 2048, kid "rsa1" in the JWKS. TEST KEY, public half only: never
 * use it anywhere else. */
static const char fj_rsa_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuSX0cm0bBtwoRYQPuezp\n"
    "OQIAWxXHuclZn6H3nZXRS9rMPk/RgZZocNEOUIF1+tk/iIilFnxh5Xyn4PV42vDT\n"
    "lfMXaniIQdUdcYXXITE9aC9FEjbtDPO+1MPfaV7xuP3PuGv4RDaMB6ltP3AwoNaZ\n"
    "YSqiqE1JBzkwt7AChLNUInsGOFPdANPFpTr/Pig+mEZGmvQEMcPfES4yFT9cm5ZN\n"
    "2OYhQXRY+uqd/GT2gyiF18rjaVwDiW6Lqydf5ZkrXz7yy1P7uOg9gSUaY2dd+44c\n"
    "UYKXpAfhzgqXgnQxia2hdXWWWHRSa5LJnYE0K0tBzhgzh9r4AKkfGgYlAQYy4bbj\n"
    "aQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

/* ec1: EC P-256, kid "ec1". TEST KEY, public half only. */
static const char fj_ec_pem[] = "-----BEGIN PUBLIC KEY-----\n"
                                "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEHhykg43hk2anBnz4PVqRvWOCBQWn\n"
                                "W2KhoJ3d1O09oExn8kb3JZmuWyXexhAUw4APwZTaEN5aGKXWwFWhfCAR+g==\n"
                                "-----END PUBLIC KEY-----\n";

/* The RS256 and ES256 tokens of fuzz_jwt_keys, claims
 * {"sub":"fuzz","exp":1800000000}: signed once, when the private keys were
 * dropped from this file, with the (discarded) private key of rsa1 / ec1
 * above, so they verify with those public keys and no one can mint more. */
/* {"alg":"RS256","kid":"rsa1"} */
static const char fj_rs256_kid[] =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYTEifQ."
    "eyJzdWIiOiJmdXp6IiwiZXhwIjoxODAwMDAwMDAwfQ."
    "dorH4vkqZFoaPh2OrNg22uMtCE2yhbyoPDRvI_pDzHH1wiwLleFvsXIOVuDMpsvX"
    "DZbnyCrtUdxxfGFP_dJz0bj8hvpbiRINQW-qQ7E2umEC8oXRS-HpCpkhk2I79zEu"
    "iR5v557QTJ_dVHSKyhqAjaYLNDyIk1rGRuqZ-iuSFOj8ivE_EZhgN5IkppT2P7r4"
    "gyip_xrMW9E_BTvxyY1vsNkB2qC1Xa9euh5zTIoyqmilJjXEoWsEKXAhgeMzHcYB"
    "tUEQZNxvvGH1wYsp3xG5dWNx3YWhHm4JV48W7fxhgo6qWc8xa2vPWja9wuu33Rgu"
    "8f4Z7oNIT26oyRFIPoWGBg";
/* {"alg":"RS256"} */
static const char fj_rs256_nokid[] =
    "eyJhbGciOiJSUzI1NiJ9."
    "eyJzdWIiOiJmdXp6IiwiZXhwIjoxODAwMDAwMDAwfQ."
    "jbZcyMtU1Moske4D1nvtacXopxSNVTjXjOKzliqMSHsn5fuzUn1m-BiHy7lNGceN"
    "GEbrtaF2F6NGwyQSQpnMFeKbfLyxM8uQPzz4xAew2mCF4ozbMaN1kuOECqxtwKNz"
    "ii_3YW-LDanFfw2q_FksHnwtsaBInICL4_P3U02Tb11aNeewlD2CWVy8KLdlZmQ7"
    "-f7FiSohPtYguQi3CxNn8AoILBFcb7Ni1vz_hbon4Ke_m1GJ7WIce2AYgdNo7rwx"
    "-94WQqYMZDfjtBKjEyhJSJJRA1PUOpgj7g9aMDaDK98DeshmEIRx_flFWzyLqx10"
    "h_NMBW5EV3ozIofGn84i7g";
/* {"alg":"ES256","kid":"ec1"} */
static const char fj_es256_kid[] =
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjMSJ9."
    "eyJzdWIiOiJmdXp6IiwiZXhwIjoxODAwMDAwMDAwfQ."
    "Hu3wyD5pjeQYnwpWCr_ajktHFtmxnnj40o-Rb8Sl0K2eqxDnQVUkXURfWPIbzIGE"
    "StQu1ihIjwKKD6rlkv-vwA";
/* {"alg":"ES256"} */
static const char fj_es256_nokid[] =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJzdWIiOiJmdXp6IiwiZXhwIjoxODAwMDAwMDAwfQ."
    "x2R0BDVzvw1L896UU0CTTdatuwB2KKOfHvsu3BJtYkNNiZtKdJZjQnNfgk0_4YLW"
    "eiWtltwodvAxaakjFeq5MA";

/* HMAC secrets (32 bytes each, the NUL not included): hs1 has kid "hs1", hs0
 * none, so hs0 is a candidate for every HS256 token whatever its kid. TEST
 * ONLY: symmetric test values (the harness must sign HS256 itself), not
 * private keys; never use them anywhere else. */
#define FJ_HS_LEN 32
static const unsigned char fj_hs1[FJ_HS_LEN + 1] = "fuzz-hs1-secret-0123456789abcdef";
static const unsigned char fj_hs0[FJ_HS_LEN + 1] = "fuzz-hs0-secret-0123456789ABCDEF";

/* The public key of a PEM above (verifying only: the harnesses sign nothing
 * but HS256). */
static inline EVP_PKEY *fj_pkey(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!k)
        abort();
    return k;
}

/* The unpadded base64url of a big-number parameter of k, left-padded with
 * zeros to pad bytes when pad > 0; malloc'd. */
static inline char *fj_bn_b64(EVP_PKEY *k, const char *name, int pad)
{
    BIGNUM *bn = NULL;
    if (!EVP_PKEY_get_bn_param(k, name, &bn))
        abort();
    int n = pad ? pad : BN_num_bytes(bn);
    unsigned char *buf = sg_xmalloc((size_t)n);
    if (BN_bn2binpad(bn, buf, n) != n)
        abort();
    char *out = tj_b64url(buf, (size_t)n);
    free(buf);
    BN_free(bn);
    return out;
}

/* The JWKS of the fixed keys, in this order: rsa1 (RSA, "use": "sig"), ec1
 * (EC, "alg": "ES256"), hs1 (oct), hs0 (oct, no kid), and an encryption key
 * the loader skips. malloc'd. */
static inline char *fj_jwks(EVP_PKEY *rsa, EVP_PKEY *ec)
{
    char *n = fj_bn_b64(rsa, OSSL_PKEY_PARAM_RSA_N, 0),
         *e = fj_bn_b64(rsa, OSSL_PKEY_PARAM_RSA_E, 0);
    char *x = fj_bn_b64(ec, OSSL_PKEY_PARAM_EC_PUB_X, 32);
    char *y = fj_bn_b64(ec, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
    char *k1 = tj_b64url(fj_hs1, FJ_HS_LEN), *k0 = tj_b64url(fj_hs0, FJ_HS_LEN);
    char *j = sg_xasprintf(
        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"rsa1\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"},"
        "{\"kty\":\"EC\",\"kid\":\"ec1\",\"alg\":\"ES256\",\"crv\":\"P-256\",\"x\":\"%s\","
        "\"y\":\"%s\"},{\"kty\":\"oct\",\"kid\":\"hs1\",\"k\":\"%s\"},{\"kty\":\"oct\",\"k\":\"%"
        "s\"},"
        "{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}\n",
        n, e, x, y, k1, k0);
    free(n);
    free(e);
    free(x);
    free(y);
    free(k1);
    free(k0);
    return j;
}

#endif
