/* Minting JWTs in the unit tests, with OpenSSL, independent of the code under
 * test: base64url, HS256, RS256 and ES256 (DER ECDSA turned into r || s). */
#ifndef SG_TEST_JWT_H
#define SG_TEST_JWT_H

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "snapgate/common.h"

/* Unpadded base64url of p[0..n); malloc'd. */
static inline char *tj_b64url(const void *p, size_t n)
{
    char *out = sg_xmalloc(4 * ((n + 2) / 3) + 1);
    int w = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    while (w > 0 && out[w - 1] == '=')
        w--;
    out[w] = '\0';
    for (char *c = out; *c; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    return out;
}

/* "b64url(header).b64url(payload)"; malloc'd. */
static inline char *tj_input(const char *header, const char *payload)
{
    char *h = tj_b64url(header, strlen(header)), *p = tj_b64url(payload, strlen(payload));
    char *in = sg_xasprintf("%s.%s", h, p);
    free(h);
    free(p);
    return in;
}

/* input + "." + b64url(sig); takes input. */
static inline char *tj_finish(char *input, const unsigned char *sig, size_t sl)
{
    char *s = tj_b64url(sig, sl);
    char *tok = sg_xasprintf("%s.%s", input, s);
    free(s);
    free(input);
    return tok;
}

static inline char *tj_hs256(const char *header, const char *payload, const void *key, size_t kl)
{
    unsigned char mac[32];
    size_t ml = 0;
    char *in = tj_input(header, payload);
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, kl, (unsigned char *)in, strlen(in),
                   mac, sizeof(mac), &ml))
        abort();
    return tj_finish(in, mac, ml);
}

/* The raw signature of data with pkey over SHA-256 (DER for EC); malloc'd. */
static inline unsigned char *tj_sign_raw(EVP_PKEY *pkey, const char *data, size_t *sl)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, pkey, NULL) != 1 ||
        EVP_DigestSign(ctx, NULL, sl, (const unsigned char *)data, strlen(data)) != 1)
        abort();
    unsigned char *sig = sg_xmalloc(*sl);
    if (EVP_DigestSign(ctx, sig, sl, (const unsigned char *)data, strlen(data)) != 1)
        abort();
    EVP_MD_CTX_free(ctx);
    return sig;
}

static inline char *tj_rs256(const char *header, const char *payload, EVP_PKEY *pkey)
{
    size_t sl = 0;
    char *in = tj_input(header, payload);
    unsigned char *sig = tj_sign_raw(pkey, in, &sl);
    char *tok = tj_finish(in, sig, sl);
    free(sig);
    return tok;
}

static inline char *tj_es256(const char *header, const char *payload, EVP_PKEY *pkey)
{
    size_t sl = 0;
    unsigned char rs[64];
    char *in = tj_input(header, payload);
    unsigned char *der = tj_sign_raw(pkey, in, &sl);
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sl);
    if (!es || BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32) != 32)
        abort();
    ECDSA_SIG_free(es);
    free(der);
    return tj_finish(in, rs, sizeof(rs));
}

#endif
