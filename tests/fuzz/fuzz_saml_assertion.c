/* fuzz_saml_assertion: feeds assertions (the XML a SIGN token decodes to) to
 * sg_saml_verify (modules/auth/saml/saml_assert.c, saml_sig.c, saml_xml.c):
 * safe parse, shape, validity window, audience, subject, then the XML
 * signature with xmlsec against the keys of a certificate file loaded once
 * through sg_saml_certs_load, at a fixed clock (2024-05-01T10:30:00Z) and
 * audience. The file holds two certificates: a fixed RSA one (below), whose
 * test-only key signed the template and the RAW seeds and was then
 * discarded (no private key is committed: the template's signature values
 * are constants below), and the certificate of an EC key generated at start
 * for RESIGN.
 * The first byte picks a mode:
 *   % 3 == 0  RAW: the whole input (first byte included, so a file starting
 *             with '<' is a RAW seed) is the assertion.
 *   1         EDIT: the rest is an edit script on the template assertion
 *             (signed with the fixed RSA key): inserts, deletes, overwrites at
 *             any offset, fuzz bytes substituted for a field (NameID, ID,
 *             Audience, times, algorithms...), and "benign" rewrites that
 *             change the serialization but not what is signed (quote style,
 *             char references, CDATA, comments and PIs outside the signed
 *             content, unused namespace declarations, KeyInfo content...).
 *   2         RESIGN: the rest gives the fields (NameID, groups, audience, ID,
 *             bearer or holder-of-key, window offsets), the harness builds the
 *             assertion with them, signs it with the generated EC key, then
 *             verifies.
 * Properties (abort() on violation):
 *   - every call returns SG_OK or SG_DENIED; a denial gives a reason, and no
 *     principal; a success gives a non-empty, printable name;
 *   - RAW and EDIT: of what the RSA key signed, only the template may verify
 *     (the other RAW seeds it signed are attacks, each denied), so a success
 *     must be the template's signed content: the exclusive c14n of the assertion
 *     without its Signature (PrefixList "xs xsi") and of the SignedInfo,
 *     computed here with libxml2 over the same node sets, equal the template's
 *     (a changed signed byte never verifies), and the principal, groups and
 *     expiry are the template's (nothing is read from outside what was signed);
 *   - EDIT with only benign rewrites (checked one by one at start, too) must
 *     verify;
 *   - RESIGN: the outcome is the documented contract of the fields: success
 *     exactly when the NameID is 1..255 bytes without control characters, the
 *     audience matches (or none is configured), the confirmation is bearer,
 *     the ID is an ASCII NCName of at most 256 bytes, NotBefore - 60 s <= now
 *     < NotOnOrAfter + 60 s with NotBefore < NotOnOrAfter, and now <
 *     SubjectConfirmationData NotOnOrAfter + 60 s; a success carries that
 *     name, the printable group values in order, and the earliest end + 60 s;
 *   - libxml2's error handlers: the harness installs its own, counting; after
 *     each sg_saml_verify they are installed again and were never called (the
 *     module silences its own parse, sg_saml_quiet_*);
 *   - no leaks per execution (LeakSanitizer): documents, xmlsec contexts,
 *     principals.
 * SG_FUZZ_SAML_TEMPLATE=FILE in the environment writes the signed template
 * (a RAW seed) to FILE at start.
 * SG_FUZZ_DICT: xml.dict */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlerror.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include "fuzz_buf.h"
#include "fuzz_file.h"
#include "modules/auth/saml/saml.h"
#include "modules/auth/saml/saml_xml.h"
#include "snapgate/auth.h"
#include "snapgate/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The certificate of the test-only RSA key that signed the template (and
 * the RAW seeds), made for this harness with `openssl req -x509 -newkey`; the
 * key itself was discarded once they were signed. */
static const char RSA_CERT_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDMzCCAhugAwIBAgIUOEIZ47NC3SbhTy4G+DX3QCgHxQgwDQYJKoZIhvcNAQEL\n"
    "BQAwKDEmMCQGA1UEAwwdc25hcGdhdGUgZnV6eiBTVFMgKHRlc3Qgb25seSkwIBcN\n"
    "MjYxMjA3MTUxNjU0WhgPMjEyNjExMTMxNTE2NTRaMCgxJjAkBgNVBAMMHXNuYXBn\n"
    "YXRlIGZ1enogU1RTICh0ZXN0IG9ubHkpMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n"
    "MIIBCgKCAQEAptAM2nz/SrfPdWSYyazDntIee2GwYpvf3SRYuwnoh+a+oL/X49gs\n"
    "1MBxwIn1ILEN39BlfMUfyyHUWkSUaSvyI4syXgwozQt4cRNQ7FGic6z2UHSBEmg8\n"
    "e6LbtzbvDYjwtTUm6PKJ30rP0mvkK10mL7u1Uvq7oNyIYOyqf6SVc14rQQMnWwkL\n"
    "n3yAn7yoIbm4xe4CAnygU/6dex0J48e992MDYOi7zt6ngxgCEXtaxuk4nmygaJOf\n"
    "nGsZvXRsrhLRv88ZnDH0nZff7V1LsVLcXPRtggCNL5/D9pGgAAjRBVfmDi4E/foI\n"
    "dVykmLUljtGLs+GwWUQU29VCU7/zt2ErNQIDAQABo1MwUTAdBgNVHQ4EFgQURZJo\n"
    "Cubd8VV2M0kbFQ+kqJ8aVY4wHwYDVR0jBBgwFoAURZJoCubd8VV2M0kbFQ+kqJ8a\n"
    "VY4wDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAF1up2Ej/udR1\n"
    "byUZ/Y+acNrrbWiqNBuF2/3ZZ84G8lIORcOETo9kR/621LjgRL39MnyOGfp6Oefj\n"
    "/2AORkVMaDXjumCHf5Awxc9kAtuEeJWyN2syDT01UdEZZ42okT356E6zYX4lnLJC\n"
    "Np2BBYykt7beU1+qiK2R+skdPEo4GveGiBXCn6psCyPpMgMp2OBrKZIUC4vCYlkY\n"
    "AOmXWfo46uU5hUZ73X652zAt36YD5HFKAyx3X99f9WD0VCeM61EeiFLyCkeDiH5S\n"
    "Ey4iZQiGUexNXBbkcqBZtd3k+7KBub0ZOWyT6mVdljZXouWB9y0c8GZuPObptrVB\n"
    "h2oTdinm9Q==\n"
    "-----END CERTIFICATE-----\n";
/* The template's signature, made once with that key: DigestValue and
 * SignatureValue as xmlsec wrote them. */
#define TPL_DIGEST "NlUC4N3XJiBmTwdwpBpFGvClMR4goJzJywbzSv+KBK4="
#define TPL_SIGNATURE                                                                              \
    "oUGo5VQo74u7ph33M7JmkKUZQjqIK3Yk9VciK9q8H9Znycd+B36FcCZ0A8susjuF\n"                           \
    "Apu+3pwyxwHS0gYad3Po38le2QimcZsvN/yFpMXx/eaCztGhCco7wtc/DC1jY5eP\n"                           \
    "BYhIkfaLiUxDeWfWB31Lgx65rvFzyP85Edp56JNrAhZbH4hjCqGR4mnji285qMNZ\n"                           \
    "Aj/wLCqCqnssdYQ2k7fS5V82pxuaS34zgDWbT7W3YpR4j/zcapbdTM7+ZyXkNyab\n"                           \
    "Pwrxtw2nSNDsWzEnCSpVgRBiID2IVeZHGnzOOX8ohxcRr/T5XFG5ku6bBZhts0Cy\n"                           \
    "HK7hIzUpp6x5l2GfgRTjYA=="

#define NOW_S 1714559400L /* 2024-05-01T10:30:00Z */
#define NOW_MS ((uint64_t)NOW_S * 1000u)
#define AUDIENCE "https://snapgate.example/sts"
#define TPL_ID "_a7c9e1f0-5b1d-4c1e-9f0a-123456789abc"
#define TPL_NAME "alice@vsphere.local"
#define TPL_GROUP1 "vsphere.local\\Users"
#define TPL_GROUP2 "vsphere.local\\Administrators"
#define CM_BEARER "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#define CM_HOK "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
#define ALG_RSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define ALG_ECDSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
#define NS_DECLS                                                                                   \
    "xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\" "                                       \
    "xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "                                               \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
#define MAX_OPS 16

/* ---- a growable byte string (fuzz_buf.h) ------------------------------------------- */

/* s[0..n) as XML character data or attribute value: markup characters and
 * the whitespace a parser would normalize away are written as references;
 * other control characters stay raw (the document is then not well-formed). */
static void buf_esc(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            buf_str(b, "&amp;");
            break;
        case '<':
            buf_str(b, "&lt;");
            break;
        case '>':
            buf_str(b, "&gt;");
            break;
        case '"':
            buf_str(b, "&quot;");
            break;
        case '\'':
            buf_str(b, "&apos;");
            break;
        case '\t':
            buf_str(b, "&#9;");
            break;
        case '\n':
            buf_str(b, "&#10;");
            break;
        case '\r':
            buf_str(b, "&#13;");
            break;
        default:
            buf_add(b, s + i, 1);
        }
    }
}

/* Replaces b[at..at+n) with s[0..sn). */
static void buf_splice(struct buf *b, size_t at, size_t n, const char *s, size_t sn)
{
    struct buf out = {0};
    buf_add(&out, b->p, at);
    buf_add(&out, s, sn);
    buf_add(&out, b->p + at + n, b->n - at - n);
    buf_free(b);
    *b = out;
}

/* Replaces the first from in b by to; false when from is not there. */
static bool buf_replace(struct buf *b, const char *from, const char *to)
{
    char *p = memmem(b->p, b->n, from, strlen(from));
    if (!p)
        return false;
    buf_splice(b, (size_t)(p - b->p), strlen(from), to, strlen(to));
    return true;
}

/* ---- libxml2's error handlers: the harness's own, counting ------------------------- */

static unsigned long outer_calls;

static void outer_generic(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
    outer_calls++;
}

static void outer_structured(void *ctx, xmlErrorPtr err)
{
    (void)ctx;
    (void)err;
    outer_calls++;
}

/* ---- assertions ------------------------------------------------------------------------ */

struct fields {
    const char *id, *name, *audience, *method, *sign_alg;
    size_t id_len, name_len, audience_len;
    const char *groups[3];
    size_t group_len[3], ngroups;
    long nb, noa, scd; /* seconds from NOW_S */
};

static struct fields template_fields(void)
{
    return (struct fields){.id = TPL_ID,
                           .id_len = strlen(TPL_ID),
                           .name = TPL_NAME,
                           .name_len = strlen(TPL_NAME),
                           .audience = AUDIENCE,
                           .audience_len = strlen(AUDIENCE),
                           .method = CM_BEARER,
                           .sign_alg = ALG_RSA_SHA256,
                           .groups = {TPL_GROUP1, TPL_GROUP2},
                           .group_len = {strlen(TPL_GROUP1), strlen(TPL_GROUP2)},
                           .ngroups = 2,
                           .nb = -60,
                           .noa = 1800,
                           .scd = 1800};
}

static void put_time(struct buf *b, long off)
{
    time_t t = (time_t)(NOW_S + off);
    struct tm tm;
    char s[40];
    gmtime_r(&t, &tm);
    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
    buf_str(b, s);
}

/* The assertion of f with an unsigned Signature template, as an STS writes it. */
static void build_assertion(const struct fields *f, struct buf *b)
{
    buf_str(b, "<saml2:Assertion " NS_DECLS " ID=\"");
    buf_esc(b, f->id, f->id_len);
    buf_str(b, "\" IssueInstant=\"");
    put_time(b, -5);
    buf_str(b, "\" Version=\"2.0\">"
               "<saml2:Issuer>https://vc1.example/websso/SAML2/Metadata/vsphere.local"
               "</saml2:Issuer>"
               "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>"
               "<ds:CanonicalizationMethod "
               "Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
               "<ds:SignatureMethod Algorithm=\"");
    buf_str(b, f->sign_alg);
    buf_str(b, "\"/><ds:Reference URI=\"#");
    buf_esc(b, f->id, f->id_len);
    buf_str(b, "\"><ds:Transforms><ds:Transform "
               "Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>"
               "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\">"
               "<ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" "
               "PrefixList=\"xs xsi\"/></ds:Transform></ds:Transforms>"
               "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>"
               "<ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>"
               "<ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data>"
               "<ds:X509Certificate/></ds:X509Data></ds:KeyInfo></ds:Signature>"
               "<saml2:Subject><saml2:NameID Format=\"http://schemas.xmlsoap.org/claims/UPN\">");
    buf_esc(b, f->name, f->name_len);
    buf_str(b, "</saml2:NameID><saml2:SubjectConfirmation Method=\"");
    buf_str(b, f->method);
    buf_str(b, "\"><saml2:SubjectConfirmationData NotOnOrAfter=\"");
    put_time(b, f->scd);
    buf_str(b, "\"/></saml2:SubjectConfirmation></saml2:Subject><saml2:Conditions NotBefore=\"");
    put_time(b, f->nb);
    buf_str(b, "\" NotOnOrAfter=\"");
    put_time(b, f->noa);
    buf_str(b, "\"><saml2:AudienceRestriction><saml2:Audience>");
    buf_esc(b, f->audience, f->audience_len);
    buf_str(b, "</saml2:Audience></saml2:AudienceRestriction></saml2:Conditions>"
               "<saml2:AuthnStatement AuthnInstant=\"");
    put_time(b, -5);
    buf_str(b, "\"><saml2:AuthnContext><saml2:AuthnContextClassRef>"
               "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
               "</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>"
               "<saml2:AttributeStatement><saml2:Attribute FriendlyName=\"Groups\" "
               "Name=\"http://rsa.com/schemas/attr-names/2009/01/GroupIdentity\" "
               "NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\">");
    for (size_t i = 0; i < f->ngroups; i++) {
        buf_str(b, "<saml2:AttributeValue xsi:type=\"xs:string\">");
        buf_esc(b, f->groups[i], f->group_len[i]);
        buf_str(b, "</saml2:AttributeValue>");
    }
    buf_str(b, "</saml2:Attribute></saml2:AttributeStatement></saml2:Assertion>");
}

static xmlDoc *parse(const char *xml, size_t len)
{
    return xmlReadMemory(xml, (int)len, NULL, "UTF-8",
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                             XML_PARSE_IGNORE_ENC);
}

/* Signs the Signature template of xml with key, as an STS would (the root's ID
 * registered, the key's certificate in KeyInfo); the signed document
 * re-serialized into out, or false when xml cannot be parsed or signed. */
static bool sign_assertion(const struct buf *xml, xmlSecKeyPtr key, struct buf *out)
{
    struct sg_saml_quiet q;
    bool ok = false;
    sg_saml_quiet_begin(&q);
    xmlDoc *doc = parse(xml->p, xml->n);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlAttr *attr = root ? xmlHasProp(root, BAD_CAST "ID") : NULL;
    xmlChar *id = attr ? xmlNodeListGetString(doc, attr->children, 1) : NULL;
    xmlNode *sig = root ? xmlSecFindNode(root, xmlSecNodeSignature, xmlSecDSigNs) : NULL;
    if (id && sig && xmlAddID(NULL, doc, id, attr)) {
        xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
        if (!ctx)
            abort();
        ctx->signKey = xmlSecKeyDuplicate(key);
        if (xmlSecDSigCtxSign(ctx, sig) == 0) {
            xmlChar *mem = NULL;
            int n = 0;
            xmlDocDumpMemory(doc, &mem, &n);
            if (mem && n > 0) {
                buf_add(out, mem, (size_t)n);
                ok = true;
            }
            xmlFree(mem);
        }
        xmlSecDSigCtxDestroy(ctx);
    }
    xmlFree(id);
    xmlFreeDoc(doc);
    sg_saml_quiet_end(&q);
    return ok;
}

/* ---- the c14n oracle ----------------------------------------------------------------- */

/* A node set as a reference sees it: the subtree of root without the subtree
 * of skip (the enveloped signature). */
struct node_set {
    const xmlNode *root, *skip;
};

static bool in_set(const xmlNode *n, const struct node_set *s)
{
    for (; n; n = n->parent) {
        if (n == s->skip)
            return false;
        if (n == s->root)
            return true;
    }
    return false;
}

static int is_visible(void *ud, xmlNodePtr node, xmlNodePtr parent)
{
    /* A namespace node is an xmlNs, whose owner libxml2 passes as parent. */
    if (node->type == XML_NAMESPACE_DECL)
        return in_set(parent, ud);
    return in_set(node, ud);
}

/* Exclusive c14n without comments of the node set, into out. */
static bool c14n(xmlDoc *doc, const xmlNode *root, const xmlNode *skip, const char *const *prefixes,
                 struct buf *out)
{
    struct node_set set = {root, skip};
    xmlOutputBufferPtr ob = xmlAllocOutputBuffer(NULL);
    if (!ob)
        abort();
    int rc = xmlC14NExecute(doc, is_visible, &set, XML_C14N_EXCLUSIVE_1_0,
                            (xmlChar **)(uintptr_t)prefixes, 0, ob);
    bool ok = rc >= 0;
    if (ok)
        buf_add(out, xmlOutputBufferGetContent(ob), xmlOutputBufferGetSize(ob));
    xmlOutputBufferClose(ob);
    return ok;
}

static xmlNode *first_child(const xmlNode *parent, const char *ns, const char *name)
{
    for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
        if (sg_saml_xml_is(c, ns, name))
            return c;
    return NULL;
}

/* What a signature over xml covers: the assertion (the document element)
 * without its Signature, and the SignedInfo, each canonicalized as the
 * template's Reference and CanonicalizationMethod say. */
static bool signed_content(const char *xml, size_t len, struct buf *assertion,
                           struct buf *signed_info)
{
    static const char *const prefixes[] = {"xs", "xsi", NULL};
    struct sg_saml_quiet q;
    sg_saml_quiet_begin(&q);
    xmlDoc *doc = parse(xml, len);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlNode *sig = first_child(root, SG_SAML_NS_DSIG, "Signature");
    xmlNode *si = first_child(sig, SG_SAML_NS_DSIG, "SignedInfo");
    bool ok =
        si && c14n(doc, root, sig, prefixes, assertion) && c14n(doc, si, NULL, NULL, signed_info);
    xmlFreeDoc(doc);
    sg_saml_quiet_end(&q);
    return ok;
}

/* ---- state made once -------------------------------------------------------------------- */

static struct sg_saml_keys *keys;
static xmlSecKeyPtr ec_key;                /* RESIGN's, made at start */
static struct buf tpl;                     /* the signed template */
static struct buf tpl_assertion, tpl_info; /* what its signature covers */
static uint64_t tpl_expires;

/* x as PEM, appended to out. */
static void put_pem_cert(struct buf *out, X509 *x)
{
    BIO *mem = BIO_new(BIO_s_mem());
    char *p = NULL;
    if (!mem || !PEM_write_bio_X509(mem, x))
        abort();
    long n = BIO_get_mem_data(mem, &p);
    buf_add(out, p, (size_t)n);
    BIO_free(mem);
}

/* RESIGN signs at run time, so its key is made here, never committed: a
 * P-256 key and a self-signed certificate for it, its PEM appended to
 * cert_pem for the STS certificates file. Each run has another key; the
 * outcome does not depend on it (ECDSA signatures differ at each signing
 * anyway). */
static xmlSecKeyPtr make_ec_key(struct buf *cert_pem)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    if (!pk || !x || !name || !X509_set_version(x, X509_VERSION_3) ||
        !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)"snapgate fuzz STS EC (generated)", -1,
                                    -1, 0) ||
        !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 3600) || !X509_set_pubkey(x, pk) ||
        !X509_sign(x, pk, EVP_sha256()))
        abort();
    put_pem_cert(cert_pem, x);

    /* xmlsec takes the key as DER, the certificate as PEM. */
    unsigned char *der = NULL;
    int der_len = i2d_PrivateKey(pk, &der);
    struct buf one = {0};
    put_pem_cert(&one, x);
    xmlSecKeyPtr k = der_len > 0
                         ? xmlSecCryptoAppKeyLoadMemory(der, (xmlSecSize)der_len,
                                                        xmlSecKeyDataFormatDer, NULL, NULL, NULL)
                         : NULL;
    if (!k || xmlSecCryptoAppKeyCertLoadMemory(k, (const xmlSecByte *)one.p, one.n,
                                               xmlSecKeyDataFormatPem) < 0)
        abort();
    OPENSSL_clear_free(der, (size_t)der_len);
    buf_free(&one);
    X509_NAME_free(name);
    X509_free(x);
    EVP_PKEY_free(pk);
    return k;
}

/* The trusted certificates, the fixed RSA one and RESIGN's, go through the
 * real loader, from a memfd. */
static struct sg_saml_keys *load_trusted(const struct buf *pem)
{
    struct sg_fuzz_file f;
    char err[512] = "";
    sg_fuzz_file_open(&f, "sts_certs");
    sg_fuzz_file_set(&f, pem->p, pem->n);
    struct sg_saml_certs *certs = NULL;
    if (sg_saml_certs_load(f.path, &certs, err, sizeof(err)) != SG_OK ||
        sg_saml_certs_count(certs) != 2) {
        fprintf(stderr, "fuzz_saml_assertion: certificates: %s\n", err);
        abort();
    }
    struct sg_saml_keys *k = sg_saml_keys_new(certs);
    sg_saml_certs_free(certs);
    close(f.fd);
    return k;
}

/* The signed template: the template assertion with the committed signature
 * values and the RSA certificate in KeyInfo, serialized as xmlsec's signing
 * left it (an XML declaration, base64 in lines of 64). */
static void build_template(struct buf *out)
{
    struct fields f = template_fields();
    struct buf xml = {0}, cert = {0};
    build_assertion(&f, &xml);
    /* The certificate's base64 lines, END line excluded. */
    const char *body = strchr(RSA_CERT_PEM, '\n') + 1;
    buf_str(&cert, "<ds:X509Certificate>");
    buf_add(&cert, body, (size_t)(strstr(body, "-----END") - body));
    buf_str(&cert, "</ds:X509Certificate>");
    if (!buf_replace(&xml, "<ds:DigestValue></ds:DigestValue>",
                     "<ds:DigestValue>" TPL_DIGEST "</ds:DigestValue>") ||
        !buf_replace(&xml, "<ds:SignatureValue></ds:SignatureValue>",
                     "<ds:SignatureValue>" TPL_SIGNATURE "</ds:SignatureValue>") ||
        !buf_replace(&xml, "<ds:X509Certificate/>", cert.p))
        abort();
    buf_str(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    buf_add(out, xml.p, xml.n);
    buf_str(out, "\n");
    buf_free(&xml);
    buf_free(&cert);
}

/* ---- one verification ---------------------------------------------------------------------- */

struct outcome {
    int rc;
    struct sg_principal p;
    uint64_t expires;
};

static bool printable(const char *s, size_t n)
{
    if (n == 0 || n >= SG_PRINCIPAL_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '\0')
            return false;
    return true;
}

/* sg_saml_verify on exactly xml[0..len), with the general properties. */
static void verify(const char *xml, size_t len, const char *audience, struct outcome *o)
{
    char *exact = sg_xmalloc(len ? len : 1);
    memcpy(exact, xml, len);
    memset(o, 0, sizeof(*o));
    sg_saml_reason why = NULL;
    unsigned long calls = outer_calls;
    o->rc = sg_saml_verify(keys, audience, NOW_MS, (const unsigned char *)exact, len, &o->p,
                           &o->expires, &why);
    free(exact);
    /* The module's quiet section ended: the harness's handlers are back, and
     * were not called from inside it. */
    if (outer_calls != calls || xmlGenericError != outer_generic ||
        xmlStructuredError != outer_structured)
        abort();
    if (o->rc == SG_OK) {
        if (!printable(o->p.name, strnlen(o->p.name, sizeof(o->p.name))))
            abort();
        for (size_t i = 0; i < o->p.ngroups; i++)
            if (!printable(o->p.groups[i], strlen(o->p.groups[i])))
                abort();
    } else if (o->rc != SG_DENIED || !why || !why[0] || o->p.name[0] || o->p.groups) {
        abort();
    }
}

/* A success of RAW or EDIT: the template's content, the template's principal. */
static void check_template_success(const char *xml, size_t len, const struct outcome *o)
{
    struct buf a = {0}, si = {0};
    if (!signed_content(xml, len, &a, &si))
        abort();
    if (a.n != tpl_assertion.n || memcmp(a.p, tpl_assertion.p, a.n) != 0)
        abort(); /* a signed byte changed, and it verified */
    if (si.n != tpl_info.n || memcmp(si.p, tpl_info.p, si.n) != 0)
        abort();
    if (strcmp(o->p.name, TPL_NAME) != 0 || o->p.ngroups != 2 ||
        strcmp(o->p.groups[0], TPL_GROUP1) != 0 || strcmp(o->p.groups[1], TPL_GROUP2) != 0 ||
        o->expires != tpl_expires)
        abort();
    buf_free(&a);
    buf_free(&si);
}

/* ---- EDIT: rewrites that keep the signed content ------------------------------------------ */

/* Each replaces the first occurrence of from (a no-op when it is not there);
 * their targets are disjoint, so any sequence of them stays benign. */
static const struct {
    const char *from, *to;
} benign[] = {
    /* the XML declaration: outside the assertion */
    {"<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
     "<?xml version='1.0' encoding='utf-8' standalone='yes'?>"},
    /* whitespace inside a start tag */
    {"<saml2:Issuer>", "<saml2:Issuer \t\n>"},
    /* quote style */
    {" Format=\"http://schemas.xmlsoap.org/claims/UPN\"",
     " Format='http://schemas.xmlsoap.org/claims/UPN'"},
    /* an empty element written with an end tag */
    {"\"/></saml2:SubjectConfirmation>",
     "\"></saml2:SubjectConfirmationData></saml2:SubjectConfirmation>"},
    /* a character reference in the NameID, and one in an attribute */
    {">alice@", ">&#97;lice@"},
    {"NameFormat=\"urn:", "NameFormat=\"&#x75;rn:"},
    /* CDATA for the audience */
    {"<saml2:Audience>" AUDIENCE "<", "<saml2:Audience><![CDATA[" AUDIENCE "]]><"},
    /* KeyInfo is never read: anything may be added */
    {"<ds:KeyInfo>", "<ds:KeyInfo><ds:KeyName>not a key anyone reads</ds:KeyName>"},
    /* whitespace inside the base64 of SignatureValue */
    {"<ds:SignatureValue>", "<ds:SignatureValue>\n  "},
    /* an unused namespace declaration: exclusive c14n drops it */
    {"<saml2:Conditions NotBefore", "<saml2:Conditions xmlns:unused=\"urn:unused\" NotBefore"},
    /* a comment between elements */
    {"</saml2:AudienceRestriction>", "<!-- between elements --></saml2:AudienceRestriction>"},
    /* empty elements of SignedInfo with end tags, attributes in another order */
    {"#sha256\"/>", "#sha256\"></ds:DigestMethod>"},
    {" FriendlyName=\"Groups\" Name=\"http://rsa.com/schemas/attr-names/2009/01/GroupIdentity\"",
     " Name=\"http://rsa.com/schemas/attr-names/2009/01/GroupIdentity\" FriendlyName=\"Groups\""},
};
#define NBENIGN (sizeof(benign) / sizeof(benign[0]))

/* Appended after the document element: comments and PIs outside it. */
static const char trailer[] = "\n<!-- after the assertion --><?pi outside?>\n";

/* Template substrings whose bytes EDIT may swap for fuzz bytes. */
static const char *const edit_fields[] = {
    TPL_NAME,
    AUDIENCE,
    TPL_ID,
    "Version=\"2.0\"",
    CM_BEARER,
    "Groups",
    TPL_GROUP1,
    "2024-05-01T10:29:00Z",
    "2024-05-01T11:00:00Z",
    "ds:Signature",
    "saml2:Assertion",
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/10/xml-exc-c14n#",
    ALG_RSA_SHA256,
    "xs xsi",
    "URI=\"#",
    "<saml2:Subject>",
    "</saml2:Conditions>",
    "<ds:DigestValue>",
    "<ds:SignatureValue>",
    "ID=",
};
#define NFIELDS (sizeof(edit_fields) / sizeof(edit_fields[0]))

/* Applies the script in d[0..n) to a copy of the template; *benign_only
 * tells whether every change made was one of the benign rewrites. */
static void edit(const uint8_t *d, size_t n, struct buf *b, bool *benign_only)
{
    size_t i = 0;
    *benign_only = true;
    buf_add(b, tpl.p, tpl.n);
    for (int op = 0; op < MAX_OPS && i < n; op++) {
        uint8_t kind = d[i++] % 6;
        if (kind == 0 || kind == 1 || kind == 2) { /* insert, delete, overwrite */
            if (n - i < 3)
                return;
            size_t at = (size_t)d[i] << 8 | d[i + 1], len = d[i + 2];
            i += 3;
            if (b->n == 0 && kind != 0)
                continue; /* nothing left to delete or overwrite */
            size_t pos = at % (b->n + (kind == 0));
            if (kind == 1) {
                len = len < b->n - pos ? len : b->n - pos;
                if (len)
                    *benign_only = false;
                buf_splice(b, pos, len, "", 0);
                continue;
            }
            len = len < n - i ? len : n - i;
            if (kind == 2 && len > b->n - pos)
                len = b->n - pos;
            if (kind == 0) {
                if (len)
                    *benign_only = false;
                buf_splice(b, pos, 0, (const char *)d + i, len);
            } else {
                if (memcmp(b->p + pos, d + i, len) != 0)
                    *benign_only = false;
                memcpy(b->p + pos, d + i, len);
            }
            i += len;
        } else if (kind == 3) { /* a benign rewrite */
            if (i == n)
                return;
            size_t k = d[i++] % (NBENIGN + 1);
            if (k == NBENIGN)
                buf_str(b, trailer);
            else
                buf_replace(b, benign[k].from, benign[k].to);
        } else if (kind == 4 || kind == 5) { /* fuzz bytes for a field */
            if (n - i < 2)
                return;
            const char *f = edit_fields[d[i] % NFIELDS];
            size_t len = d[i + 1];
            i += 2;
            len = len < n - i ? len : n - i;
            char *at = memmem(b->p, b->n, f, strlen(f));
            if (at) {
                if (len != strlen(f) || memcmp(at, d + i, len) != 0)
                    *benign_only = false;
                buf_splice(b, (size_t)(at - b->p), strlen(f), (const char *)d + i, len);
            }
            i += len;
        }
    }
}

static void run_edit(const uint8_t *d, size_t n)
{
    struct buf b = {0};
    bool benign_only;
    struct outcome o;
    edit(d, n, &b, &benign_only);
    verify(b.p, b.n, AUDIENCE, &o);
    if (o.rc == SG_OK)
        check_template_success(b.p, b.n, &o);
    else if (benign_only)
        abort(); /* a rewrite that kept the signed content was denied */
    sg_principal_clear(&o.p);
    buf_free(&b);
}

static void run_raw(const uint8_t *d, size_t n)
{
    struct outcome o;
    verify((const char *)d, n, AUDIENCE, &o);
    if (o.rc == SG_OK)
        check_template_success((const char *)d, n, &o);
    sg_principal_clear(&o.p);
}

/* ---- RESIGN: the fields' contract ------------------------------------------------------------ */

enum {
    F_AUDIENCE = 1,    /* the Audience from the input */
    F_HOK = 2,         /* holder-of-key confirmation */
    F_ID = 4,          /* the ID from the input */
    F_TIMES = 8,       /* the window offsets from the input */
    F_NO_AUDIENCE = 16 /* no audience configured */
};

/* The next NUL-terminated (or final) string of d[*i..n); false at the end. */
static bool next_string(const uint8_t *d, size_t n, size_t *i, const char **s, size_t *len)
{
    if (*i >= n)
        return false;
    const uint8_t *end = memchr(d + *i, '\0', n - *i);
    *s = (const char *)d + *i;
    *len = end ? (size_t)(end - (d + *i)) : n - *i;
    *i += *len + 1;
    return true;
}

static long offset(const uint8_t *d)
{
    return (long)(int16_t)(uint16_t)((unsigned)d[0] << 8 | d[1]);
}

/* xs:ID as the module takes it: an ASCII NCName of 1..256 bytes. */
static bool ascii_ncname(const char *s, size_t n)
{
    if (n == 0 || n > 256)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        bool more = (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (!alpha && !(i > 0 && more))
            return false;
    }
    return true;
}

static void run_resign(const uint8_t *d, size_t n)
{
    struct fields f = template_fields();
    uint8_t flags = n > 0 ? d[0] : 0;
    size_t i = 1;
    if ((flags & F_TIMES) && n >= 7) {
        f.nb = offset(d + 1);
        f.noa = offset(d + 3);
        f.scd = offset(d + 5);
        i = 7;
    }
    f.method = flags & F_HOK ? CM_HOK : CM_BEARER;
    f.sign_alg = ALG_ECDSA_SHA256;
    next_string(d, n, &i, &f.name, &f.name_len);
    f.ngroups = 0;
    while (f.ngroups < 3 && next_string(d, n, &i, &f.groups[f.ngroups], &f.group_len[f.ngroups]))
        f.ngroups++;
    if (flags & F_AUDIENCE)
        next_string(d, n, &i, &f.audience, &f.audience_len);
    if (flags & F_ID)
        next_string(d, n, &i, &f.id, &f.id_len);
    const char *audience = flags & F_NO_AUDIENCE ? NULL : AUDIENCE;

    struct buf xml = {0}, signed_xml = {0};
    struct outcome o;
    build_assertion(&f, &xml);
    if (!sign_assertion(&xml, ec_key, &signed_xml)) {
        /* Not well-formed, or no ID xmlsec can point at: the unsigned
         * template must be denied. */
        verify(xml.p, xml.n, audience, &o);
        if (o.rc != SG_DENIED)
            abort();
        buf_free(&xml);
        return;
    }
    verify(signed_xml.p, signed_xml.n, audience, &o);

    int64_t now = (int64_t)NOW_MS, skew = SG_SAML_SKEW_MS;
    int64_t nb = now + f.nb * 1000, noa = now + f.noa * 1000, scd = now + f.scd * 1000;
    bool want = printable(f.name, f.name_len) &&
                (!audience || (f.audience_len == strlen(AUDIENCE) &&
                               memcmp(f.audience, AUDIENCE, f.audience_len) == 0)) &&
                !(flags & F_HOK) && ascii_ncname(f.id, f.id_len) && nb < noa && nb <= now + skew &&
                now < noa + skew && now < scd + skew;
    if ((o.rc == SG_OK) != want)
        abort();
    if (o.rc == SG_OK) {
        if (strlen(o.p.name) != f.name_len || memcmp(o.p.name, f.name, f.name_len) != 0)
            abort();
        size_t k = 0;
        for (size_t g = 0; g < f.ngroups; g++) {
            if (!printable(f.groups[g], f.group_len[g]))
                continue;
            if (k >= o.p.ngroups || strlen(o.p.groups[k]) != f.group_len[g] ||
                memcmp(o.p.groups[k], f.groups[g], f.group_len[g]) != 0)
                abort();
            k++;
        }
        if (k != o.p.ngroups || o.expires != (uint64_t)((noa < scd ? noa : scd) + skew))
            abort();
    }
    sg_principal_clear(&o.p);
    buf_free(&xml);
    buf_free(&signed_xml);
}

/* ---- start ------------------------------------------------------------------------------------
 */

static void init(void)
{
    sg_saml_global_init();
    xmlSetGenericErrorFunc(NULL, outer_generic);
    xmlSetStructuredErrorFunc(NULL, outer_structured);
    struct buf pem = {0};
    buf_str(&pem, RSA_CERT_PEM);
    ec_key = make_ec_key(&pem);
    keys = load_trusted(&pem);
    buf_free(&pem);

    build_template(&tpl);
    if (!signed_content(tpl.p, tpl.n, &tpl_assertion, &tpl_info))
        abort();
    tpl_expires = NOW_MS + 1800u * 1000u + SG_SAML_SKEW_MS;

    const char *dump = getenv("SG_FUZZ_SAML_TEMPLATE");
    FILE *out = dump ? fopen(dump, "wb") : NULL;
    if (out) {
        fwrite(tpl.p, 1, tpl.n, out);
        fclose(out);
    }

    for (size_t k = 0; k < NBENIGN; k++)
        if (!memmem(tpl.p, tpl.n, benign[k].from, strlen(benign[k].from)))
            abort(); /* a rewrite that would never apply */

    /* The committed signature still matches the template that
     * template_fields and build_assertion make. */
    struct outcome o;
    verify(tpl.p, tpl.n, AUDIENCE, &o);
    if (o.rc != SG_OK) {
        fprintf(stderr, "fuzz_saml_assertion: the signed template does not verify\n");
        abort();
    }
    check_template_success(tpl.p, tpl.n, &o);
    sg_principal_clear(&o.p);

    /* The template verifies, and so does each benign rewrite alone and all
     * of them at once: otherwise the EDIT property would be about the
     * harness, not the module. */
    uint8_t script[2 * (NBENIGN + 1)];
    for (size_t k = 0; k <= NBENIGN + 1; k++) {
        size_t len = 0;
        for (size_t j = 0; j <= NBENIGN; j++) {
            if (k == NBENIGN + 1 || j == k) {
                script[len++] = 3;
                script[len++] = (uint8_t)j;
            }
        }
        run_edit(script, len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        init();
        ready = true;
    }
    if (size == 0)
        return 0;
    switch (data[0] % 3) {
    case 0:
        run_raw(data, size);
        break;
    case 1:
        run_edit(data + 1, size - 1);
        break;
    default:
        run_resign(data + 1, size - 1);
        break;
    }
    return 0;
}
