/* Shared by fuzz_jwt and fuzz_jwt_keys: a fixed key set (throwaway TEST keys,
 * generated once with openssl for these harnesses and used nowhere else), a
 * fixed clock and policy, and a file whose bytes change per execution.
 * Fixed keys, not keys made at start, so that the committed seeds (JWKS, PEM
 * and tokens made from these keys) verify in every run. Tokens are minted with
 * tests/unit/support/sg_test_jwt.h (OpenSSL only, independent of the code
 * under test). */
#ifndef SG_FUZZ_JWT_FIXTURE_H
#define SG_FUZZ_JWT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "snapgate/common.h"
#include "tests/unit/support/sg_test_jwt.h"

#define FJ_NOW 1700000000LL
#define FJ_ISSUER "https://idp.example"
#define FJ_AUDIENCE "snapgate"

/* RSA 2048 (kid "rsa1" in the JWKS). TEST KEY: never use it anywhere else. */
static const char fj_rsa_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC5JfRybRsG3ChF\n"
    "hA+57Ok5AgBbFce5yVmfofedldFL2sw+T9GBlmhw0Q5QgXX62T+IiKUWfGHlfKfg\n"
    "9Xja8NOV8xdqeIhB1R1xhdchMT1oL0USNu0M877Uw99pXvG4/c+4a/hENowHqW0/\n"
    "cDCg1plhKqKoTUkHOTC3sAKEs1QiewY4U90A08WlOv8+KD6YRkaa9AQxw98RLjIV\n"
    "P1yblk3Y5iFBdFj66p38ZPaDKIXXyuNpXAOJbourJ1/lmStfPvLLU/u46D2BJRpj\n"
    "Z137jhxRgpekB+HOCpeCdDGJraF1dZZYdFJrksmdgTQrS0HOGDOH2vgAqR8aBiUB\n"
    "BjLhtuNpAgMBAAECggEAHv3FbynoLjvH2esDHuITH+G/4X9B0U1s3RWldxFO2V2k\n"
    "doGx1fkxPkEgHkWtU/HtepM03xCu6lT1XOh59Fv/bsgkEURfunVL2mbG3d16I+hV\n"
    "rXjYMSTTupWW3fJwj8CcdohMJE7lHZs0mDvVR/bj8anLVFSrdrQR/Y1Ovput559b\n"
    "RVq0u5feQ/wiRUfMc1cphXW9+10Z5ctMWtmd0ZUQ1bNwG4bV+AHsZer9VjWzbHZ9\n"
    "8RKYb9ClXK3aQaP389h7Z1XxHLou/v28I81i4iF0ZqT2MyPELTZxY+9eMYXv5IEt\n"
    "Fs/PQjHgprRmUrVU5tGWUDMvdF12D7yNzGqFObLDiQKBgQDcVZG/ULXDtJTUuJtG\n"
    "tiC7cIN/Mid2J2i5getycKkLIWH2IcUd6lWj0fl3mHfmTeLrhCtz3pEJWc1fdH3M\n"
    "rvbyhhV9I+DHBxXfyV0D9hzwkLk2ct5pCyqaCSVkHbqEMWF/hKfhj+X6GuEMFiu6\n"
    "s6fbkNLcF48uFuafowEFVHFvhwKBgQDXHlAvjn+yacFqwc21rMMXN1ahEdWxy4vT\n"
    "oWxy8AFR9gE1jlLUmTIRdYfX8LuxdQud6540+QRQNP4sswzdOQWyVM0pn0RUnJSL\n"
    "6pvQiN1Yjn0A22zKLqyuxljJkt8m6rjOiBMOGTW6imU7SSvbw5260qN9m2qg8MQx\n"
    "eUUI3KlxjwKBgFHS7UdRH89H9qVw0SlXZZx2Uj8gTwtP41JQ7zEWqZBam1iefed4\n"
    "KMmnpq9FTfGXJxgzgzeKhe4lDWHPjxA+QbMbHEvW0RjYhsUOsJ5R/blQ5ZdU3UfB\n"
    "P9boYpxldei1tfF3QClCGTPiW4TzjtXM9h9SDxxxG1kQZCEQlcZ275FtAoGBAKwt\n"
    "mBKoZK8BlI0FN8gs0i233j+nTboz5+PotSu9y+C1HTyngManI3rz7lm5VhFwVG7+\n"
    "0q8ljP1BnRtb6HT8mgGlfFzPHFr4xLDEhBhCI6Ao1AammgmtmAt/uDsGslOs1WSB\n"
    "Z3cGWInJEcOFCnSouot44uC7T3onm3DZ1paEP58jAoGAYjIAcXqg8y8uGUpFzjtE\n"
    "7UJGhXYfmtjQ6T1N/i61P5UCCgf21/du6httT4SkzH2zx+ceyDKl7c1HUaYr3+RJ\n"
    "/0ZPBt27VXFxBnGPEvTDuqIlsIIyDTipFoE1rNoXXL9VyXAnDnAUHB9AKqpSEPB+\n"
    "32/HY6HXH1151YFM3Vwe1/Y=\n"
    "-----END PRIVATE KEY-----\n";

/* EC P-256 (kid "ec1"). TEST KEY. */
static const char fj_ec_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                                "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgBHxWzx8ipMlLt1KP\n"
                                "05GbYE3TvemnopIli6keh1Xvg6+hRANCAAQeHKSDjeGTZqcGfPg9WpG9Y4IFBadb\n"
                                "YqGgnd3U7T2gTGfyRvclma5bJd7GEBTDgA/BlNoQ3loYpdbAVaF8IBH6\n"
                                "-----END PRIVATE KEY-----\n";

/* HMAC secrets (32 bytes each, the NUL not included): hs1 has kid "hs1", hs0
 * none, so hs0 is a candidate for every HS256 token whatever its kid. */
#define FJ_HS_LEN 32
static const unsigned char fj_hs1[FJ_HS_LEN + 1] = "fuzz-hs1-secret-0123456789abcdef";
static const unsigned char fj_hs0[FJ_HS_LEN + 1] = "fuzz-hs0-secret-0123456789ABCDEF";

static inline EVP_PKEY *fj_pkey(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
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

/* A file the harness rewrites per execution: a memfd (no disk, nothing left
 * behind) the code under test opens by its /proc/self/fd path. */
struct fj_file {
    int fd;
    char path[64];
};

static inline void fj_file_init(struct fj_file *f)
{
    f->fd = memfd_create("sg-fuzz", 0);
    if (f->fd < 0)
        abort();
    snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
}

static inline void fj_file_set(struct fj_file *f, const void *data, size_t n)
{
    if (ftruncate(f->fd, 0) != 0 || (n && pwrite(f->fd, data, n, 0) != (ssize_t)n))
        abort();
}

#endif
