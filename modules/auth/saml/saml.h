/* The `saml` auth provider: `Authorization: SIGN token="<base64(gzip(assertion))>"`
 * with a vCenter SSO SAML 2.0 bearer assertion, and the raw assertion XML of a
 * JSON-RPC body (authenticate_assertion: bearer, or holder-of-key with the
 * request's proof of possession, saml_hok.h); either way its XML signature is
 * checked against the certificates of sts_certs_file only. This header joins
 * the module's files and gives the unit tests the pieces they drive directly. */
#ifndef SG_AUTH_SAML_H
#define SG_AUTH_SAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapgate/auth.h"
#include "snapgate/module.h"

extern const struct sg_module sg_module_auth_saml;

/* Longer Authorization values are denied without decoding (the server caps a
 * request's headers at 32 KiB anyway). */
#define SG_SAML_HEADER_MAX (32u * 1024u)
/* The assertion's bytes after gunzip: a bigger one (or a zip bomb) is denied
 * as soon as inflate passes this bound. */
#define SG_SAML_XML_MAX (256u * 1024u)
/* Clock skew allowed on NotBefore / NotOnOrAfter. */
#define SG_SAML_SKEW_MS 60000u
/* A verified token is remembered at most this long (and never past its
 * NotOnOrAfter plus the skew). */
#define SG_SAML_CACHE_TTL_MS 60000u
#define SG_SAML_CACHE_MAX 1024u
/* Holder-of-key: the longest timestamp window (expires - created) a request
 * may claim. The SDK signs for 20 minutes; anything longer than an hour is a
 * replay window nobody needs. */
#define SG_SAML_HOK_WINDOW_MAX_MS (60u * 60u * 1000u)
/* Verified holder-of-key assertions remembered per worker (with their keys). */
#define SG_SAML_HOK_CACHE_MAX 256u
/* Certificates in sts_certs_file, and its size; groups taken from one
 * assertion. */
#define SG_SAML_CERTS_MAX 32u
#define SG_SAML_CERTS_FILE_MAX (1024u * 1024u)
#define SG_SAML_GROUPS_MAX 256u

/* ---- the Authorization header (saml_header.c) ----------------------------- */

/* Finds the token of "SIGN token=\"...\"" or "SIGN token=...". The scheme is
 * case-insensitive, the parameter list is `name=value` pairs separated by
 * commas with optional whitespace; values are tokens or quoted-strings.
 * Returns SG_DECLINED (absent, or another scheme), SG_DENIED (too long, no
 * token, a duplicate or unknown parameter, the holder-of-key parameters
 * nonce/bodyhash/signature_alg/signature, a malformed list), or SG_OK with
 * *tok and *tok_len pointing into hdr (borrowed). */
int sg_saml_header_parse(const char *hdr, size_t len, const char **tok, size_t *tok_len);

/* ---- token bytes (saml_decode.c) ------------------------------------------ */

/* Strict base64 (standard alphabet, padding required, no whitespace, zero
 * unused bits) then gunzip (one gzip member, nothing after it) into at most
 * SG_SAML_XML_MAX bytes. SG_OK with *xml (malloc'd, NUL-terminated, caller
 * frees) and *xml_len, or SG_DENIED. */
int sg_saml_token_decode(const char *tok, size_t len, unsigned char **xml, size_t *xml_len);
/* The strict base64 alone (also the holder-of-key certificate's and proof
 * signature's): s[0..len), len a positive multiple of 4 and at most max.
 * SG_OK with *out (malloc'd, caller frees) and *n, or SG_DENIED. */
int sg_saml_b64_decode(const char *s, size_t len, size_t max, unsigned char **out, size_t *n);

/* ---- trusted certificates (saml_certs.c) ----------------------------------- */

/* The certificates of sts_certs_file as DER, shared read-only by the workers. */
struct sg_saml_certs;
/* Per worker: one xmlsec key per certificate. */
struct sg_saml_keys;

/* Reads a PEM file of one or more CERTIFICATE blocks (nothing else) whose
 * public keys are RSA or EC, of at most SG_SAML_CERTS_FILE_MAX bytes and
 * without a NUL byte. SG_OK with *out (free with sg_saml_certs_free),
 * or SG_ERR with a reason in err (capacity cap). Needs sg_saml_global_init. */
int sg_saml_certs_load(const char *path, struct sg_saml_certs **out, char *err, size_t cap);
void sg_saml_certs_free(struct sg_saml_certs *c);
size_t sg_saml_certs_count(const struct sg_saml_certs *c);
/* Builds a worker's keys from the certificates; aborts if xmlsec cannot load a
 * certificate the conf hook already loaded (nothing sane to do). */
struct sg_saml_keys *sg_saml_keys_new(const struct sg_saml_certs *c);
void sg_saml_keys_free(struct sg_saml_keys *k);

/* ---- the assertion (saml_assert.c) ----------------------------------------- */

/* Process-wide libxml2 + xmlsec initialization, run once (pthread_once); also
 * silences their error output, which could quote token content. */
void sg_saml_global_init(void);

/* Why a token was denied: a fixed string safe to log (never token content). */
typedef const char *sg_saml_reason;

/* Verifies an assertion (xml, len bytes, as sg_saml_token_decode gave it) at
 * now_ms (Unix epoch ms): safe parse, document element saml2:Assertion with an
 * ID, exactly one ds:Signature as its direct child whose single Reference is
 * "#ID" with enveloped-signature + exc-c14n transforms and SHA-256 digest,
 * signed with RSA-SHA256, RSA-SHA512 or ECDSA-SHA256 by one of keys (never a
 * key from the token's KeyInfo); Conditions with NotBefore/NotOnOrAfter
 * (SG_SAML_SKEW_MS) and, when audience is non-NULL, an Audience equal to it in
 * every AudienceRestriction; every SubjectConfirmation bearer (at least one);
 * Subject/NameID printable, 1..255 bytes. Returns SG_OK with out->name and
 * out->groups (the "Groups" attribute values, when present; owned by out)
 * filled and *expires_ms = NotOnOrAfter + skew; or SG_DENIED with *why set.
 * OpenSSL's error queue is left empty. Holder-of-key: sg_saml_verify_hok
 * (saml_hok.h), the same checks with another subject confirmation. */
int sg_saml_verify(const struct sg_saml_keys *keys, const char *audience, uint64_t now_ms,
                   const unsigned char *xml, size_t len, struct sg_principal *out,
                   uint64_t *expires_ms, sg_saml_reason *why);

/* Parses an xs:dateTime in UTC ("2024-05-01T10:00:00Z", optional fraction,
 * "Z" or "+00:00") into Unix epoch ms; SG_OK or SG_ERR. */
int sg_saml_parse_time(const char *s, uint64_t *out_ms);

/* ---- the provider (saml_module.c) ------------------------------------------- */

/* Test hook: the wall clock (epoch ms) a worker instance reads; default sg_wall_ms. */
void sg_saml_set_clock(void *inst, uint64_t (*now_ms)(void));
struct sg_cred_cache;
/* Test hook: a worker instance's verified-token cache of SIGN headers (borrowed). */
struct sg_cred_cache *sg_saml_inst_cache(void *inst);
/* Test hook: its cache of raw bearer assertions (authenticate_assertion
 * without a proof): a cache of its own, so its keys never meet the headers'. */
struct sg_cred_cache *sg_saml_inst_raw_cache(void *inst);
struct sg_saml_hok_cache;
/* Test hook: its cache of verified holder-of-key assertions (saml_hok.h). */
struct sg_saml_hok_cache *sg_saml_inst_hok_cache(void *inst);

#endif
