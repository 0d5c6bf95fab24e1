/* The holder-of-key confirmation key: the X509Certificate text of the
 * assertion's SubjectConfirmationData, as the vAPI SDK's signer puts it there
 * and the runtime's own JSONSSOVerifier reads it (api/JSONRPC.md 1.5). Only
 * its public key matters: the STS bound it to the subject by signing the
 * assertion, so no chain, dates or issuer are checked. RSA only, because the
 * vAPI signature algorithms (RS256/384/512) are RSA only. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "saml_hok.h"
#include "snapgate/common.h"

/* XML whitespace (XML 1.0 production S): base64Binary allows it anywhere. */
static bool xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* b64 with its whitespace removed, when that fits in max characters: a new
 * string (caller frees) and its length, or NULL. */
static char *compact(const char *b64, size_t len, size_t max, size_t *out_len)
{
    char *s = sg_xmalloc(max + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (xml_space(b64[i]))
            continue;
        if (n == max) {
            free(s);
            return NULL;
        }
        s[n++] = b64[i];
    }
    s[n] = '\0';
    *out_len = n;
    return s;
}

/* One whole DER certificate (no trailing bytes) and its RSA key. */
static int der_key(const unsigned char *der, size_t len, EVP_PKEY **key, sg_saml_reason *why)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    int rc = SG_DENIED;
    if (!x || p != der + len) {
        *why = "the confirmation certificate is not one DER X.509 certificate";
        goto done;
    }
    EVP_PKEY *pk = X509_get_pubkey(x);
    if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
        *why = "the confirmation key is not an RSA key";
        EVP_PKEY_free(pk);
        goto done;
    }
    int bits = EVP_PKEY_get_bits(pk);
    if (bits < SG_SAML_HOK_RSA_MIN_BITS || bits > SG_SAML_HOK_RSA_MAX_BITS) {
        *why = "the confirmation key's RSA size is outside 2048..16384 bits";
        EVP_PKEY_free(pk);
        goto done;
    }
    *key = pk;
    rc = SG_OK;

done:
    X509_free(x);
    /* A refused certificate leaves OpenSSL's queue as it found it: the next
     * user of this thread must not read our failure as its own. */
    ERR_clear_error();
    return rc;
}

int sg_saml_hok_cert_key(const char *b64, size_t len, EVP_PKEY **key, sg_saml_reason *why)
{
    size_t n = 0, der_len = 0;
    unsigned char *der = NULL;
    *key = NULL;
    char *s =
        b64 && len <= SG_SAML_XML_MAX ? compact(b64, len, SG_SAML_HOK_CERT_B64_MAX, &n) : NULL;
    if (!s || sg_saml_b64_decode(s, n, SG_SAML_HOK_CERT_B64_MAX, &der, &der_len) != SG_OK) {
        free(s);
        *why = "the confirmation certificate is not strict base64 of at most 32 KiB";
        return SG_DENIED;
    }
    free(s);
    int rc = der_key(der, der_len, key, why);
    free(der);
    return rc;
}
