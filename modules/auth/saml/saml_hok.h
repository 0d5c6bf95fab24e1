/* Holder-of-key for the saml provider (vAPI JSON-RPC saml_hok_token,
 * api/JSONRPC.md 1.5): the assertion names its subject's key, an RSA
 * certificate in SubjectConfirmationData, and each request proves possession
 * of that key by a signature over its canonical JSON. The assertion is checked
 * as a bearer one is (STS signature, conditions, audience, subject) but must
 * be holder-of-key; the proof is checked on every request, its timestamp
 * first. Kept apart from saml.h because these pieces trade OpenSSL keys. */
#ifndef SG_AUTH_SAML_HOK_H
#define SG_AUTH_SAML_HOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "saml.h"
#include "snapgate/auth.h"
#include "snapgate/cred_cache.h"

/* The confirmation key's accepted RSA modulus sizes, in bits: below 2048 is
 * breakable (NIST has disallowed it since 2013), above 16384 only costs us. */
#define SG_SAML_HOK_RSA_MIN_BITS 2048
#define SG_SAML_HOK_RSA_MAX_BITS 16384
/* Longest base64 accepted for the X509Certificate (whitespace removed) and
 * for the proof's signature (an RSA-16384 signature is 2732 characters). */
#define SG_SAML_HOK_CERT_B64_MAX (32u * 1024u)
#define SG_SAML_HOK_SIG_B64_MAX 4096u

/* ---- the assertion (saml_assert.c) ------------------------------------------ */

/* sg_saml_verify for a holder-of-key assertion: the same checks, except that
 * the subject has exactly one SubjectConfirmation, its Method
 * urn:oasis:names:tc:SAML:2.0:cm:holder-of-key (a bearer assertion is denied),
 * with one SubjectConfirmationData holding exactly one
 * ds:KeyInfo/ds:X509Data/ds:X509Certificate (sg_saml_hok_key's rules). SG_OK
 * with out, *expires_ms and *key (the certificate's RSA public key; the caller
 * frees it with EVP_PKEY_free) filled, or SG_DENIED with *why set. */
int sg_saml_verify_hok(const struct sg_saml_keys *keys, const char *audience, uint64_t now_ms,
                       const unsigned char *xml, size_t len, struct sg_principal *out,
                       uint64_t *expires_ms, EVP_PKEY **key, sg_saml_reason *why);

/* ---- the proof (saml_hok.c) ---------------------------------------------------- */

/* The timestamp: created <= expires, expires - created at most
 * SG_SAML_HOK_WINDOW_MAX_MS, now_ms >= created - SG_SAML_SKEW_MS and
 * now_ms < expires + SG_SAML_SKEW_MS. SG_OK or SG_DENIED with *why. */
int sg_saml_proof_time_ok(const struct sg_auth_proof *proof, uint64_t now_ms, sg_saml_reason *why);
/* The signature: proof->signature is strict base64 of an RSA PKCS#1 v1.5
 * signature over signing_input with the digest proof->algorithm names,
 * verifying with key. SG_OK or SG_DENIED with *why (OpenSSL's error queue
 * is left empty). */
int sg_saml_proof_verify(EVP_PKEY *key, const struct sg_auth_proof *proof, sg_saml_reason *why);

/* ---- the confirmation key's certificate (saml_hok_key.c) ----------------------------- */

/* The RSA public key of base64 DER (b64[0..len), XML whitespace between the
 * characters allowed, as in any ds:CryptoBinary): one whole X.509
 * certificate, nothing after it, with an RSA key of SG_SAML_HOK_RSA_MIN_BITS
 * to SG_SAML_HOK_RSA_MAX_BITS bits. Its dates and issuer are not checked: the
 * STS vouched for the key by signing the assertion. SG_OK with *key (caller
 * frees), or SG_DENIED with *why. */
int sg_saml_hok_cert_key(const char *b64, size_t len, EVP_PKEY **key, sg_saml_reason *why);

/* ---- verified assertions (saml_hok_cache.c) ------------------------------------- */

/* Per worker, touched only on its loop: at most max_entries verified
 * holder-of-key assertions, each with its principal, its confirmation key and
 * a deadline, keyed by HMAC-SHA256 (under a key of the cache's own) of the
 * assertion's XML. What it saves is the XML parse and the STS signature
 * check; the request's proof is never remembered. */
struct sg_saml_hok_cache *sg_saml_hok_cache_new(size_t max_entries);
void sg_saml_hok_cache_free(struct sg_saml_hok_cache *c);
/* key = HMAC(xml[0..len)); SG_OK or SG_ERR (then the caller skips the cache). */
int sg_saml_hok_cache_key(struct sg_saml_hok_cache *c, const void *xml, size_t len,
                          unsigned char key[SG_CRED_KEY_LEN]);
/* True on a live entry: *out gets a copy of its principal (name and groups;
 * caller clears) and *pk a new reference to its key (caller frees). False,
 * with out and pk untouched, otherwise; an expired entry is dropped. */
bool sg_saml_hok_cache_get(struct sg_saml_hok_cache *c, const unsigned char key[SG_CRED_KEY_LEN],
                           uint64_t now_ms, struct sg_principal *out, EVP_PKEY **pk);
/* Remembers a copy of p's name and groups and a reference to pk until
 * until_ms, replacing what key held; when full, an entry expired at now_ms or
 * else the least recently used goes. */
void sg_saml_hok_cache_put(struct sg_saml_hok_cache *c, const unsigned char key[SG_CRED_KEY_LEN],
                           const struct sg_principal *p, EVP_PKEY *pk, uint64_t now_ms,
                           uint64_t until_ms);
void sg_saml_hok_cache_clear(struct sg_saml_hok_cache *c);
size_t sg_saml_hok_cache_count(const struct sg_saml_hok_cache *c);

#endif
