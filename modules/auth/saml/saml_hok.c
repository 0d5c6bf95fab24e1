/* The proof of possession of a holder-of-key request: its timestamp window,
 * then its RSA signature over the request's canonical JSON with the key the
 * assertion confirms. Both run on every request, cached assertion or not:
 * the timestamp is what keeps a captured request from being replayed for
 * long, and an RSA public-key verification costs tens of microseconds. The
 * signature is only RSA PKCS#1 v1.5 with SHA-256/384/512 (vAPI RS256/384/512,
 * what the SDK's JSONSSOSigner makes), never a digest the caller could pick
 * weaker. */
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "saml_hok.h"
#include "snapgate/common.h"

int sg_saml_proof_time_ok(const struct sg_auth_proof *proof, uint64_t now_ms, sg_saml_reason *why)
{
    if (proof->created_ms > proof->expires_ms) {
        *why = "the request's timestamp expires before it is created";
        return SG_DENIED;
    }
    if (proof->expires_ms - proof->created_ms > SG_SAML_HOK_WINDOW_MAX_MS) {
        *why = "the request's timestamp window is longer than an hour";
        return SG_DENIED;
    }
    /* now >= created - skew, written so that nothing can wrap around. */
    if (now_ms + SG_SAML_SKEW_MS < proof->created_ms) {
        *why = "the request's timestamp is created in the future";
        return SG_DENIED;
    }
    if (proof->expires_ms > UINT64_MAX - SG_SAML_SKEW_MS ||
        now_ms >= proof->expires_ms + SG_SAML_SKEW_MS) {
        *why = "the request's timestamp has expired";
        return SG_DENIED;
    }
    return SG_OK;
}

static const EVP_MD *digest_of(enum sg_auth_sig_alg alg)
{
    switch (alg) {
    case SG_AUTH_RS256:
        return EVP_sha256();
    case SG_AUTH_RS384:
        return EVP_sha384();
    case SG_AUTH_RS512:
        return EVP_sha512();
    }
    return NULL;
}

/* EVP_DigestVerify with PKCS#1 v1.5 padding: 1 when sig verifies. */
static int rsa_verify(EVP_PKEY *key, const EVP_MD *md, const unsigned char *sig, size_t sig_len,
                      const unsigned char *data, size_t len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = ctx && EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

int sg_saml_proof_verify(EVP_PKEY *key, const struct sg_auth_proof *proof, sg_saml_reason *why)
{
    const EVP_MD *md = digest_of(proof->algorithm);
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        *why = "the confirmation key is not an RSA key";
        return SG_DENIED;
    }
    if (!md) {
        *why = "the request's signature algorithm is not RS256, RS384 or RS512";
        return SG_DENIED;
    }
    if (!proof->signing_input || !proof->signature ||
        sg_saml_b64_decode(proof->signature, proof->signature_len, SG_SAML_HOK_SIG_B64_MAX, &sig,
                           &sig_len) != SG_OK) {
        *why = "the request's signature is not strict base64 of at most 4096 characters";
        return SG_DENIED;
    }
    int ok = rsa_verify(key, md, sig, sig_len, (const unsigned char *)proof->signing_input,
                        proof->signing_input_len);
    free(sig);
    if (!ok) {
        /* Leave OpenSSL's per-thread error queue empty for the next user. */
        ERR_clear_error();
        *why = "the request's signature does not verify with the confirmation key";
        return SG_DENIED;
    }
    return SG_OK;
}
