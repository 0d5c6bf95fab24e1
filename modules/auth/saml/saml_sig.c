/* The assertion's XML signature. Two layers, because XML signature wrapping
 * attacks live in the gap between "a signature verified" and "the thing we
 * read is what it covered":
 *   1. the shape, checked here by hand: exactly one ds:Signature, a direct
 *      child of the assertion; SignedInfo with exc-c14n, an allowed signature
 *      method and exactly one Reference whose URI is "#" + the assertion's ID;
 *      that Reference's transforms exactly enveloped-signature then exc-c14n,
 *      its digest SHA-256; no Object (nothing else in the signature can carry
 *      an ID). The ID was registered by the caller, so "#ID" resolves to the
 *      assertion itself.
 *   2. the cryptography, by xmlsec, with the key set by us before verifying:
 *      xmlSecDSigCtx reads KeyInfo only when signKey is NULL and it has a keys
 *      manager, and it gets neither, so a certificate or KeyValue the token
 *      carries is never even parsed. Each trusted key is tried in turn. The
 *      same algorithm lists are also given to xmlsec as its enabled
 *      transforms, so the two layers cannot drift apart silently.
 * SHA-1 digests and RSA-SHA1 signatures are refused: vCenter's STS signs with
 * RSA-SHA256 and SHA-256 digests, and SHA-1 collisions are practical. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <xmlsec/crypto.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>

#include "saml_xml.h"
#include "snapgate/common.h"

#define ALG_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define ALG_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define ALG_SHA256 "http://www.w3.org/2001/04/xmlenc#sha256"
#define ALG_RSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define ALG_RSA_SHA512 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
#define ALG_ECDSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"

static const char *const sign_algs[] = {ALG_RSA_SHA256, ALG_RSA_SHA512, ALG_ECDSA_SHA256};

/* n's Algorithm attribute is alg. */
static bool alg_is(const xmlNode *n, const char *alg)
{
    xmlChar *a = xmlGetNoNsProp(n, BAD_CAST "Algorithm");
    bool ok = a && strcmp((const char *)a, alg) == 0;
    xmlFree(a);
    return ok;
}

/* The next element sibling at or after n (NULL at the end). */
static xmlNode *element_at(xmlNode *n)
{
    while (n && n->type != XML_ELEMENT_NODE)
        n = n->next;
    return n;
}

/* An exc-c14n method: the Algorithm, and at most an InclusiveNamespaces child. */
static bool is_exc_c14n(const xmlNode *n)
{
    if (!alg_is(n, ALG_EXC_C14N))
        return false;
    size_t incl = 0;
    sg_saml_xml_child(n, ALG_EXC_C14N, "InclusiveNamespaces", &incl);
    return sg_saml_xml_nchildren(n) == incl && incl <= 1;
}

/* Transforms: enveloped-signature, then exc-c14n; nothing else. */
static bool transforms_ok(xmlNode *transforms)
{
    xmlNode *t1 = element_at(transforms->children);
    xmlNode *t2 = t1 ? element_at(t1->next) : NULL;
    if (!sg_saml_xml_is(t1, SG_SAML_NS_DSIG, "Transform") ||
        !sg_saml_xml_is(t2, SG_SAML_NS_DSIG, "Transform") || element_at(t2->next))
        return false;
    return alg_is(t1, ALG_ENVELOPED) && sg_saml_xml_nchildren(t1) == 0 && is_exc_c14n(t2);
}

static bool reference_ok(xmlNode *ref, const char *id)
{
    xmlChar *uri = xmlGetNoNsProp(ref, BAD_CAST "URI");
    bool ok = uri && uri[0] == '#' && strcmp((const char *)uri + 1, id) == 0;
    xmlFree(uri);
    if (!ok)
        return false;
    xmlNode *transforms = element_at(ref->children);
    xmlNode *digest = transforms ? element_at(transforms->next) : NULL;
    xmlNode *value = digest ? element_at(digest->next) : NULL;
    return sg_saml_xml_is(transforms, SG_SAML_NS_DSIG, "Transforms") &&
           sg_saml_xml_is(digest, SG_SAML_NS_DSIG, "DigestMethod") &&
           sg_saml_xml_is(value, SG_SAML_NS_DSIG, "DigestValue") && !element_at(value->next) &&
           transforms_ok(transforms) && alg_is(digest, ALG_SHA256) &&
           sg_saml_xml_nchildren(digest) == 0;
}

static bool signed_info_ok(xmlNode *si, const char *id)
{
    xmlNode *c14n = element_at(si->children);
    xmlNode *method = c14n ? element_at(c14n->next) : NULL;
    xmlNode *ref = method ? element_at(method->next) : NULL;
    if (!sg_saml_xml_is(c14n, SG_SAML_NS_DSIG, "CanonicalizationMethod") ||
        !sg_saml_xml_is(method, SG_SAML_NS_DSIG, "SignatureMethod") ||
        !sg_saml_xml_is(ref, SG_SAML_NS_DSIG, "Reference") || element_at(ref->next))
        return false;
    bool alg_ok = false;
    for (size_t i = 0; i < SG_ARRAY_LEN(sign_algs); i++)
        alg_ok = alg_ok || alg_is(method, sign_algs[i]);
    return is_exc_c14n(c14n) && alg_ok && sg_saml_xml_nchildren(method) == 0 &&
           reference_ok(ref, id);
}

/* The single ds:Signature of the assertion, when its shape is acceptable. */
static xmlNode *find_signature(xmlNode *assertion, const char *id, sg_saml_reason *why)
{
    size_t n = 0;
    xmlNode *sig = sg_saml_xml_child(assertion, SG_SAML_NS_DSIG, "Signature", &n);
    if (n != 1) {
        *why = n == 0 ? "the assertion is not signed" : "the assertion has more than one signature";
        return NULL;
    }
    xmlNode *si = element_at(sig->children);
    xmlNode *sv = si ? element_at(si->next) : NULL;
    xmlNode *rest = sv ? element_at(sv->next) : NULL;
    if (sg_saml_xml_is(rest, SG_SAML_NS_DSIG, "KeyInfo"))
        rest = element_at(rest->next);
    if (!sg_saml_xml_is(si, SG_SAML_NS_DSIG, "SignedInfo") ||
        !sg_saml_xml_is(sv, SG_SAML_NS_DSIG, "SignatureValue") || rest) {
        *why = "the signature is not SignedInfo, SignatureValue and KeyInfo";
        return NULL;
    }
    if (!signed_info_ok(si, id)) {
        *why = "the signature does not reference the assertion with the allowed algorithms";
        return NULL;
    }
    return sig;
}

/* A verification context for one key: same-document references only, the
 * allowed transforms only, and the key preset so that KeyInfo is ignored. */
static xmlSecDSigCtxPtr dsig_ctx_new(xmlSecKeyPtr key)
{
    xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
    if (!ctx)
        return NULL;
    ctx->flags |= XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
    ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
    if (xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformEnvelopedId) < 0 ||
        xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
        xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformSha256Id) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformRsaSha256Id) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformRsaSha512Id) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformEcdsaSha256Id) < 0)
        goto fail;
    ctx->signKey = xmlSecKeyDuplicate(key);
    if (!ctx->signKey)
        goto fail;
    return ctx;

fail:
    xmlSecDSigCtxDestroy(ctx);
    return NULL;
}

/* xmlsec's own account agrees: one reference, to "#id", verified. */
static bool references_ok(xmlSecDSigCtxPtr ctx, const char *id)
{
    if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1)
        return false;
    xmlSecDSigReferenceCtxPtr ref = xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0);
    return ref && ref->status == xmlSecDSigStatusSucceeded && ref->uri && ref->uri[0] == '#' &&
           strcmp((const char *)ref->uri + 1, id) == 0;
}

int sg_saml_sig_verify(xmlNode *assertion, const char *id, const struct sg_saml_keys *keys,
                       sg_saml_reason *why)
{
    xmlNode *sig = find_signature(assertion, id, why);
    if (!sig)
        return SG_DENIED;
    for (size_t i = 0; i < sg_saml_keys_count(keys); i++) {
        xmlSecDSigCtxPtr ctx = dsig_ctx_new(sg_saml_keys_get(keys, i));
        if (!ctx)
            continue;
        bool ok = xmlSecDSigCtxVerify(ctx, sig) == 0 && ctx->status == xmlSecDSigStatusSucceeded &&
                  references_ok(ctx, id);
        xmlSecDSigCtxDestroy(ctx);
        if (ok)
            return SG_OK;
    }
    *why = "the signature does not verify with any of the STS certificates";
    return SG_DENIED;
}
