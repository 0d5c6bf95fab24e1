/* The saml provider with assertions built and signed at test time: keys and
 * self-signed certificates from OpenSSL, signatures from the xmlsec API (the
 * same library the provider verifies with, but driven as a signer), gzip and
 * base64 done here. The provider's clock is the test's, so validity windows
 * and cache lifetimes are exact. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <xmlsec/crypto.h>
#include <xmlsec/keysmngr.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>
#include <zlib.h>

#include "modules/auth/saml/saml.h"
#include "modules/auth/saml/saml_hok.h"
#include "modules/auth/saml/saml_xml.h"
#include "snapgate/cred_cache.h"
#include "sg_test_util.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/log.h"

#define NS_DECLS                                                                                   \
    "xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\" "                                       \
    "xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "                                               \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
#define ALG_RSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define ALG_RSA_SHA512 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
#define ALG_RSA_SHA1 "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
#define ALG_ECDSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
#define ALG_SHA256 "http://www.w3.org/2001/04/xmlenc#sha256"
#define ALG_SHA1 "http://www.w3.org/2000/09/xmldsig#sha1"
#define ALG_C14N_INCL "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
#define CM_BEARER "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#define CM_HOK "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
#define AUDIENCE "https://snapgate.example/sts"
#define KEYINFO_X509 "<ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>"
#define KEYINFO_VALUE "<ds:KeyInfo><ds:KeyValue/></ds:KeyInfo>"

/* ---- keys and certificates, made once in main() ----------------------------------- */

/* Outside a test Check cannot report: setup failures abort the run. */
#define NEED(cond)                                                                                 \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: setup failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct signer {
    char *key_pem;
    char *cert_pem;
};

/* HOLDER*: holder-of-key subjects, whose certificates assertions carry. */
enum { STS = 0, OTHER, EC_STS, HOLDER, EC_HOLDER, SMALL_HOLDER, NSIGNERS, UNSIGNED = -1 };
static struct signer signers[NSIGNERS];
static char *certs_path; /* STS and EC_STS: the trusted ones */

static char *bio_string(BIO *b)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *s = sg_xstrndup(data, (size_t)n);
    BIO_free(b);
    return s;
}

static void make_signer(struct signer *s, EVP_PKEY *pk, const char *cn)
{
    X509 *x = X509_new();
    NEED(pk && x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, pk);
    NEED(X509_sign(x, pk, EVP_sha256()) > 0);
    BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL);
    PEM_write_bio_X509(cb, x);
    s->key_pem = bio_string(kb);
    s->cert_pem = bio_string(cb);
    X509_free(x);
    EVP_PKEY_free(pk);
}

static void make_signers(void)
{
    make_signer(&signers[STS], EVP_RSA_gen(2048), "vCenter STS");
    make_signer(&signers[OTHER], EVP_RSA_gen(2048), "Impostor STS");
    make_signer(&signers[EC_STS], EVP_EC_gen("P-256"), "vCenter STS (EC)");
    make_signer(&signers[HOLDER], EVP_RSA_gen(2048), "hok-user");
    make_signer(&signers[EC_HOLDER], EVP_EC_gen("P-256"), "hok-user (EC)");
    make_signer(&signers[SMALL_HOLDER], EVP_RSA_gen(1024), "hok-user (RSA-1024)");
    char *both = sg_xasprintf("%s%s", signers[STS].cert_pem, signers[EC_STS].cert_pem);
    certs_path = sg_test_write_temp(both);
    NEED(certs_path);
    free(both);
}

/* ---- building assertions -------------------------------------------------------------- */

static uint64_t fake_now_ms;

static uint64_t fake_clock(void)
{
    return fake_now_ms;
}

/* now + off seconds as an xs:dateTime. */
static char *when(long off)
{
    time_t t = (time_t)(fake_now_ms / 1000) + off;
    struct tm tm;
    char buf[40];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    return sg_xstrdup(buf);
}

struct spec {
    const char *id;
    const char *ref_id;   /* the Reference URI's target; NULL: id */
    const char *name;     /* NameID */
    long not_before;      /* seconds from now */
    long not_on_or_after; /* seconds from now */
    const char *audience; /* NULL: no AudienceRestriction */
    const char *method;   /* SubjectConfirmation Method */
    const char *sign_alg, *digest_alg, *c14n_alg;
    const char *keyinfo;           /* KeyInfo template, "" for none */
    const char *advice;            /* raw XML after Conditions, "" for none */
    const char *signature;         /* raw Signature element instead of the template, or NULL */
    const char *confirmation_data; /* raw XML inside SubjectConfirmationData, or NULL */
    int signer;
};

static struct spec valid_spec(void)
{
    return (struct spec){.id = "_a7c9e1f0-5b1d-4c1e-9f0a-123456789abc",
                         .name = "alice@vsphere.local",
                         .not_before = -60,
                         .not_on_or_after = 1800,
                         .audience = AUDIENCE,
                         .method = CM_BEARER,
                         .sign_alg = ALG_RSA_SHA256,
                         .digest_alg = ALG_SHA256,
                         .c14n_alg = "http://www.w3.org/2001/10/xml-exc-c14n#",
                         .keyinfo = KEYINFO_X509,
                         .advice = "",
                         .signer = STS};
}

static char *signature_template(const struct spec *s)
{
    return sg_xasprintf(
        "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>"
        "<ds:CanonicalizationMethod Algorithm=\"%s\"/>"
        "<ds:SignatureMethod Algorithm=\"%s\"/><ds:Reference URI=\"#%s\"><ds:Transforms>"
        "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>"
        "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\">"
        "<ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" "
        "PrefixList=\"xs xsi\"/></ds:Transform></ds:Transforms>"
        "<ds:DigestMethod Algorithm=\"%s\"/><ds:DigestValue></ds:DigestValue></ds:Reference>"
        "</ds:SignedInfo><ds:SignatureValue></ds:SignatureValue>%s</ds:Signature>",
        s->c14n_alg, s->sign_alg, s->ref_id ? s->ref_id : s->id, s->digest_alg, s->keyinfo);
}

static char *assertion_xml(const struct spec *s)
{
    char *nb = when(s->not_before), *noa = when(s->not_on_or_after), *issued = when(-5);
    char *sig = s->signature            ? sg_xstrdup(s->signature)
                : s->signer == UNSIGNED ? sg_xstrdup("")
                                        : signature_template(s);
    char *aud = s->audience ? sg_xasprintf("<saml2:AudienceRestriction><saml2:Audience>%s"
                                           "</saml2:Audience></saml2:AudienceRestriction>",
                                           s->audience)
                            : sg_xstrdup("");
    char *xml = sg_xasprintf(
        "<saml2:Assertion " NS_DECLS " ID=\"%s\" IssueInstant=\"%s\" Version=\"2.0\">"
        "<saml2:Issuer>https://vc1.example/websso/SAML2/Metadata/vsphere.local</saml2:Issuer>"
        "%s<saml2:Subject><saml2:NameID Format=\"http://schemas.xmlsoap.org/claims/UPN\">%s"
        "</saml2:NameID><saml2:SubjectConfirmation Method=\"%s\"><saml2:SubjectConfirmationData "
        "NotOnOrAfter=\"%s\">%s</saml2:SubjectConfirmationData></saml2:SubjectConfirmation>"
        "</saml2:Subject>"
        "<saml2:Conditions NotBefore=\"%s\" NotOnOrAfter=\"%s\">%s</saml2:Conditions>%s"
        "<saml2:AuthnStatement AuthnInstant=\"%s\"><saml2:AuthnContext><saml2:AuthnContextClassRef>"
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
        "</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>"
        "<saml2:AttributeStatement><saml2:Attribute FriendlyName=\"Groups\" "
        "Name=\"http://rsa.com/schemas/attr-names/2009/01/GroupIdentity\" "
        "NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\">"
        "<saml2:AttributeValue xsi:type=\"xs:string\">vsphere.local\\Users</saml2:AttributeValue>"
        "<saml2:AttributeValue xsi:type=\"xs:string\">vsphere.local\\Administrators"
        "</saml2:AttributeValue></saml2:Attribute></saml2:AttributeStatement>"
        "</saml2:Assertion>",
        s->id, issued, sig, s->name, s->method, noa,
        s->confirmation_data ? s->confirmation_data : "", nb, noa, aud, s->advice, issued);
    free(nb);
    free(noa);
    free(issued);
    free(sig);
    free(aud);
    return xml;
}

/* Registers the element whose ID is ref_id and signs the document's first
 * Signature template, as an STS would; returns the document re-serialized. */
static char *sign_xml(const char *xml, const char *ref_id, int signer)
{
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(doc);
    /* Find the element carrying ID="ref_id" and register it. */
    xmlNode *target = NULL;
    xmlNode *stack[64];
    size_t sp = 0;
    stack[sp++] = xmlDocGetRootElement(doc);
    while (sp && !target) {
        xmlNode *n = stack[--sp];
        xmlChar *v = xmlGetNoNsProp(n, BAD_CAST "ID");
        if (v && strcmp((const char *)v, ref_id) == 0)
            target = n;
        xmlFree(v);
        for (xmlNode *c = n->children; c && sp < SG_ARRAY_LEN(stack); c = c->next)
            if (c->type == XML_ELEMENT_NODE)
                stack[sp++] = c;
    }
    ck_assert_ptr_nonnull(target);
    ck_assert_ptr_nonnull(xmlAddID(NULL, doc, BAD_CAST ref_id, xmlHasProp(target, BAD_CAST "ID")));
    xmlNode *sig = xmlSecFindNode(xmlDocGetRootElement(doc), xmlSecNodeSignature, xmlSecDSigNs);
    ck_assert_ptr_nonnull(sig);

    const struct signer *s = &signers[signer];
    xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
    ctx->signKey =
        xmlSecCryptoAppKeyLoadMemory((const xmlSecByte *)s->key_pem, (xmlSecSize)strlen(s->key_pem),
                                     xmlSecKeyDataFormatPem, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(ctx->signKey);
    ck_assert_int_eq(xmlSecCryptoAppKeyCertLoadMemory(ctx->signKey, (const xmlSecByte *)s->cert_pem,
                                                      (xmlSecSize)strlen(s->cert_pem),
                                                      xmlSecKeyDataFormatPem),
                     0);
    ck_assert_int_eq(xmlSecDSigCtxSign(ctx, sig), 0);
    xmlSecDSigCtxDestroy(ctx);

    xmlChar *out = NULL;
    int n = 0;
    xmlDocDumpMemory(doc, &out, &n);
    char *res = sg_xstrndup((const char *)out, (size_t)n);
    xmlFree(out);
    xmlFreeDoc(doc);
    return res;
}

static char *signed_assertion(const struct spec *s)
{
    char *xml = assertion_xml(s);
    if (s->signer == UNSIGNED || s->signature)
        return xml;
    char *signed_xml = sign_xml(xml, s->ref_id ? s->ref_id : s->id, s->signer);
    free(xml);
    return signed_xml;
}

static char *gzip_bytes(const void *data, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, (uLong)len);
    char *out = sg_xmalloc(cap);
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

static char *b64(const void *data, size_t len)
{
    char *out = sg_xcalloc(1, 4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

/* base64(gzip(xml)) */
static char *token_of(const char *xml)
{
    size_t gl = 0;
    char *gz = gzip_bytes(xml, strlen(xml), &gl);
    char *t = b64(gz, gl);
    free(gz);
    return t;
}

static char *header_of(const char *xml)
{
    char *t = token_of(xml);
    char *h = sg_xasprintf("SIGN token=\"%s\"", t);
    free(t);
    return h;
}

static char *header_for(const struct spec *s)
{
    char *xml = signed_assertion(s);
    char *h = header_of(xml);
    free(xml);
    return h;
}

/* A string with the first occurrence of from replaced by to. */
static char *replace(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    ck_assert_ptr_nonnull(p);
    return sg_xasprintf("%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
}

/* The text from the first start up to and including the first end after it. */
static char *cut(const char *s, const char *start, const char *end)
{
    const char *a = strstr(s, start);
    ck_assert_ptr_nonnull(a);
    const char *b = strstr(a, end);
    ck_assert_ptr_nonnull(b);
    return sg_xstrndup(a, (size_t)(b - a) + strlen(end));
}

/* ---- conf nodes built by hand ---------------------------------------------------------- */

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
    m->keys = sg_xcalloc(m->n ? m->n : 1, sizeof(*m->keys));
    m->key_lines = sg_xcalloc(m->n ? m->n : 1, sizeof(*m->key_lines));
    m->items = sg_xcalloc(m->n ? m->n : 1, sizeof(*m->items));
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
        free(n->keys[i]);
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
    int rc = sg_module_auth_saml.conf(m, "auth.providers[1]", NULL, errs, out);
    node_free(m);
    return rc;
}

/* ---- the provider under test -------------------------------------------------------------- */

static const struct sg_auth_ops *ops;
static void *priv, *inst;

static void provider_up(const char *audience)
{
    struct sg_conf_errs errs = {.file = "test.yaml"};
    const char *with[] = {"type", "saml", "sts_certs_file", certs_path, "audience", audience, NULL};
    const char *without[] = {"type", "saml", "sts_certs_file", certs_path, NULL};
    ck_assert_int_eq(run_conf(audience ? with : without, &errs, &priv), SG_OK);
    ck_assert_int_eq(errs.n, 0);
    ops = sg_module_auth_saml.ops;
    inst = sg_module_auth_saml.worker_init(priv, NULL);
    sg_saml_set_clock(inst, fake_clock);
}

static void provider_down(void)
{
    sg_module_auth_saml.worker_fini(inst);
    sg_module_auth_saml.free_conf(priv);
    inst = priv = NULL;
}

static void setup(void)
{
    fake_now_ms = sg_wall_ms();
    provider_up(NULL);
}

static void setup_audience(void)
{
    fake_now_ms = sg_wall_ms();
    provider_up(AUDIENCE);
}

static int calls;

static void on_auth(int rc, struct sg_principal *p, void *arg)
{
    (void)rc;
    (void)p;
    (void)arg;
    calls++;
}

/* Authenticates hdr; the saml provider always answers synchronously. */
static int auth(const char *hdr, struct sg_principal *out)
{
    memset(out, 0, sizeof(*out));
    calls = 0;
    int rc = ops->authenticate(inst, hdr, hdr ? strlen(hdr) : 0, out, on_auth, NULL);
    ck_assert_int_ne(rc, SG_AGAIN);
    ck_assert_int_eq(calls, 0);
    if (rc != SG_OK) {
        ck_assert_str_eq(out->name, ""); /* nothing filled on failure */
        ck_assert_ptr_null(out->groups);
    }
    return rc;
}

static int auth_spec(const struct spec *s)
{
    char *h = header_for(s);
    struct sg_principal p;
    int rc = auth(h, &p);
    sg_principal_clear(&p);
    free(h);
    return rc;
}

/* A header for s, verified once: the token is in the verified-token cache. */
static char *header_cached(const struct spec *s)
{
    char *h = header_for(s);
    struct sg_principal p;
    ck_assert_int_eq(auth(h, &p), SG_OK);
    sg_principal_clear(&p);
    return h;
}

/* ---- valid tokens ------------------------------------------------------------------------------
 */

START_TEST(test_valid_quoted_gives_principal_and_groups)
{
    struct spec s = valid_spec();
    char *h = header_for(&s);
    struct sg_principal p;
    ck_assert_int_eq(auth(h, &p), SG_OK);
    ck_assert_str_eq(p.name, "alice@vsphere.local");
    ck_assert_uint_eq(p.ngroups, 2);
    ck_assert_str_eq(p.groups[0], "vsphere.local\\Users");
    ck_assert_str_eq(p.groups[1], "vsphere.local\\Administrators");
    sg_principal_clear(&p);
    free(h);
}
END_TEST

START_TEST(test_valid_unquoted_and_any_scheme_case)
{
    struct spec s = valid_spec();
    char *xml = signed_assertion(&s);
    char *t = token_of(xml);
    const char *forms[][2] = {{"SIGN token=", ""},
                              {"sign token=\"", "\""},
                              {"SiGn   token = \"", "\" "},
                              {"SIGN TOKEN=", ""}};
    for (size_t i = 0; i < SG_ARRAY_LEN(forms); i++) {
        char *h = sg_xasprintf("%s%s%s", forms[i][0], t, forms[i][1]);
        struct sg_principal p;
        ck_assert_msg(auth(h, &p) == SG_OK, "form %zu", i);
        ck_assert_str_eq(p.name, "alice@vsphere.local");
        sg_principal_clear(&p);
        free(h);
    }
    free(t);
    free(xml);
}
END_TEST

START_TEST(test_other_algorithms_and_second_certificate)
{
    struct spec s = valid_spec();
    s.sign_alg = ALG_RSA_SHA512;
    ck_assert_int_eq(auth_spec(&s), SG_OK);
    /* The EC certificate is the second in the file: each trusted key is tried. */
    s.sign_alg = ALG_ECDSA_SHA256;
    s.signer = EC_STS;
    ck_assert_int_eq(auth_spec(&s), SG_OK);
    /* No KeyInfo at all is fine: the key comes from the configuration. */
    s = valid_spec();
    s.keyinfo = "";
    ck_assert_int_eq(auth_spec(&s), SG_OK);
}
END_TEST

START_TEST(test_skew_tolerated)
{
    struct spec s = valid_spec();
    s.not_on_or_after = -30; /* ended 30 s ago: within the 60 s skew */
    s.not_before = -600;
    ck_assert_int_eq(auth_spec(&s), SG_OK);
    s = valid_spec();
    s.not_before = 30; /* starts in 30 s */
    ck_assert_int_eq(auth_spec(&s), SG_OK);
}
END_TEST

/* ---- signatures that must fail
 * ------------------------------------------------------------------- */

START_TEST(test_altered_after_signing_denied)
{
    struct spec s = valid_spec();
    char *xml = signed_assertion(&s);
    const char *edits[][2] = {
        {"alice@vsphere.local", "mallory@vsphere.local"},
        {"vsphere.local\\Users", "vsphere.local\\Administrators"},
        {AUDIENCE, "https://snapgate.example/other"},
    };
    for (size_t i = 0; i < SG_ARRAY_LEN(edits); i++) {
        char *bad = replace(xml, edits[i][0], edits[i][1]);
        char *h = header_of(bad);
        struct sg_principal p;
        ck_assert_msg(auth(h, &p) == SG_DENIED, "edit %zu", i);
        free(h);
        free(bad);
    }
    /* The untouched one still passes: the edits, not the fixture, are denied. */
    char *h = header_of(xml);
    struct sg_principal p;
    ck_assert_int_eq(auth(h, &p), SG_OK);
    sg_principal_clear(&p);
    free(h);
    free(xml);
}
END_TEST

START_TEST(test_signed_by_another_certificate_denied)
{
    struct spec s = valid_spec();
    s.signer = OTHER;
    s.keyinfo = "";
    ck_assert_int_eq(auth_spec(&s), SG_DENIED);
}
END_TEST

START_TEST(test_unknown_key_in_keyinfo_denied)
{
    /* The token brings its own certificate / public key: xmlsec would accept
     * either if KeyInfo were read. */
    struct spec s = valid_spec();
    s.signer = OTHER;
    s.keyinfo = KEYINFO_X509;
    ck_assert_int_eq(auth_spec(&s), SG_DENIED);
    s.keyinfo = KEYINFO_VALUE;
    ck_assert_int_eq(auth_spec(&s), SG_DENIED);
    /* A trusted signature whose KeyInfo names the impostor is still judged by
     * the configured keys alone. */
    s = valid_spec();
    char *xml = signed_assertion(&s);
    const char *start = "<ds:X509Certificate>";
    char *old = cut(xml, start, "</ds:X509Certificate>");
    char *pem = sg_xstrdup(signers[OTHER].cert_pem);
    char *b = strstr(pem, "-----END");
    *b = '\0';
    char *body = pem + strlen("-----BEGIN CERTIFICATE-----\n");
    char *swapped_ki = sg_xasprintf("%s%s</ds:X509Certificate>", start, body);
    char *swapped = replace(xml, old, swapped_ki);
    char *h = header_of(swapped);
    struct sg_principal p;
    ck_assert_int_eq(auth(h, &p), SG_OK);
    ck_assert_str_eq(p.name, "alice@vsphere.local");
    sg_principal_clear(&p);
    free(h);
    free(swapped);
    free(swapped_ki);
    free(pem);
    free(old);
    free(xml);
}
END_TEST

/* The attack above is real: xmlsec with an ordinary keys manager takes the
 * token's KeyValue as the verification key. */
START_TEST(test_a_naive_verifier_would_trust_the_token_key)
{
    struct spec s = valid_spec();
    s.signer = OTHER;
    s.keyinfo = KEYINFO_VALUE;
    char *xml = signed_assertion(&s);
    xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(doc);
    xmlNode *root = xmlDocGetRootElement(doc);
    ck_assert_ptr_nonnull(xmlAddID(NULL, doc, BAD_CAST s.id, xmlHasProp(root, BAD_CAST "ID")));
    xmlSecKeysMngrPtr mngr = xmlSecKeysMngrCreate();
    ck_assert_int_eq(xmlSecCryptoAppDefaultKeysMngrInit(mngr), 0);
    xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(mngr);
    xmlNode *sig = xmlSecFindChild(root, xmlSecNodeSignature, xmlSecDSigNs);
    ck_assert_int_eq(xmlSecDSigCtxVerify(ctx, sig), 0);
    ck_assert_int_eq(ctx->status, xmlSecDSigStatusSucceeded);
    xmlSecDSigCtxDestroy(ctx);
    xmlSecKeysMngrDestroy(mngr);
    xmlFreeDoc(doc);

    char *h = header_of(xml);
    struct sg_principal p;
    ck_assert_int_eq(auth(h, &p), SG_DENIED);
    free(h);
    free(xml);
}
END_TEST

START_TEST(test_unsigned_denied)
{
    struct spec s = valid_spec();
    s.signer = UNSIGNED;
    ck_assert_int_eq(auth_spec(&s), SG_DENIED);
}
END_TEST

START_TEST(test_weak_or_unexpected_algorithms_denied)
{
    struct spec s = valid_spec();
    s.digest_alg = ALG_SHA1;
    ck_assert_int_eq(auth_spec(&s), SG_DENIED);
    s = valid_spec();
    s.sign_alg = ALG_RSA_SHA1;
    ck_assert_int_eq(auth_spec(&s), SG_DENIED);
    s = valid_spec();
    s.c14n_alg = ALG_C14N_INCL;
    ck_assert_int_eq(auth_spec(&s), SG_DENIED);
}
END_TEST

/* Signature wrapping: a genuinely signed assertion for alice is carried inside
 * one the attacker wrote for mallory. */
START_TEST(test_signature_over_another_element_denied)
{
    struct spec inner = valid_spec();
    inner.id = "_inner";
    char *inner_xml = signed_assertion(&inner);
    char *inner_el = cut(inner_xml, "<saml2:Assertion", "</saml2:Assertion>");
    char *inner_sig = cut(inner_xml, "<ds:Signature", "</ds:Signature>");
    char *advice = sg_xasprintf("<saml2:Advice>%s</saml2:Advice>", inner_el);

    /* (a) the outer assertion is unsigned, the signed one sits in Advice. */
    struct spec outer = valid_spec();
    outer.id = "_outer";
    outer.name = "mallory@vsphere.local";
    outer.signer = UNSIGNED;
    outer.advice = advice;
    ck_assert_int_eq(auth_spec(&outer), SG_DENIED);

    /* (b) the inner signature copied up: it references "#_inner", not the outer ID. */
    outer.signature = inner_sig;
    ck_assert_int_eq(auth_spec(&outer), SG_DENIED);

    /* (c) the outer assertion takes the inner's ID too: "#_inner" resolves to
     * the outer one (the only registered ID) and the digest no longer matches. */
    outer.id = "_inner";
    ck_assert_int_eq(auth_spec(&outer), SG_DENIED);

    /* (d) the outer assertion signed properly, and a second signature beside it. */
    struct spec two = valid_spec();
    char *signed_two = signed_assertion(&two);
    char *sig = cut(signed_two, "<ds:Signature", "</ds:Signature>");
    char *doubled_sig = sg_xasprintf("%s%s", sig, sig);
    char *doubled = replace(signed_two, sig, doubled_sig);
    char *h = header_of(doubled);
    struct sg_principal p;
    ck_assert_int_eq(auth(h, &p), SG_DENIED);
    free(h);

    /* (e) the signature inside Advice of a signed outer assertion does not
     * matter to it, but an XPointer-breaking ID is refused before xmlsec sees it. */
    struct spec inj = valid_spec();
    inj.id = "x&apos;)|id(&apos;y";
    inj.ref_id = "x&apos;)|id(&apos;y";
    inj.signer = UNSIGNED;
    inj.signature = "";
    ck_assert_int_eq(auth_spec(&inj), SG_DENIED);

    free(doubled);
    free(doubled_sig);
    free(sig);
    free(signed_two);
    free(advice);
    free(inner_sig);
    free(inner_el);
    free(inner_xml);
}
END_TEST

START_TEST(test_reference_to_a_part_of_the_assertion_denied)
{
    /* The one Reference covers only the Subject (it has an ID of its own):
     * the signature is cryptographically fine, but not over the assertion. */
    struct spec s = valid_spec();
    s.ref_id = "_subject";
    char *xml = assertion_xml(&s);
    char *with_id = replace(xml, "<saml2:Subject>", "<saml2:Subject ID=\"_subject\">");
    char *signed_xml = sign_xml(with_id, "_subject", STS);
    char *h = header_of(signed_xml);
    struct sg_principal p;
    ck_assert_int_eq(auth(h, &p), SG_DENIED);
    free(h);
    free(signed_xml);
    free(with_id);
    free(xml);
}
END_TEST

/* ---- the validity window, the audience, the subject ---------------------------------------- */

START_TEST(test_expired_and_not_yet_valid_denied)
{
    struct spec s = valid_spec();
    s.not_before = -3600;
    s.not_on_or_after = -120;
    ck_assert_int_eq(auth_spec(&s), SG_DENIED);
    s = valid_spec();
    s.not_before = 120;
    s.not_on_or_after = 1800;
    ck_assert_int_eq(auth_spec(&s), SG_DENIED);
}
END_TEST

START_TEST(test_holder_of_key_confirmation_denied)
{
    struct spec s = valid_spec();
    s.method = CM_HOK;
    ck_assert_int_eq(auth_spec(&s), SG_DENIED);
}
END_TEST

START_TEST(test_bad_name_ids_denied)
{
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    const char *names[] = {"", longname, "alice&#10;@vsphere.local", "alice<!-- -->@vsphere.local"};
    for (size_t i = 0; i < SG_ARRAY_LEN(names); i++) {
        struct spec s = valid_spec();
        s.name = names[i];
        ck_assert_msg(auth_spec(&s) == SG_DENIED, "name %zu", i);
    }
}
END_TEST

START_TEST(test_audience_checked_when_configured)
{
    struct spec s = valid_spec();
    ck_assert_int_eq(auth_spec(&s), SG_OK);
    s.audience = "https://somewhere.else.example";
    ck_assert_int_eq(auth_spec(&s), SG_DENIED);
    s.audience = NULL;
    ck_assert_int_eq(auth_spec(&s), SG_DENIED);
}
END_TEST

START_TEST(test_audience_ignored_when_not_configured)
{
    struct spec s = valid_spec();
    s.audience = "https://somewhere.else.example";
    ck_assert_int_eq(auth_spec(&s), SG_OK);
    s.audience = NULL;
    ck_assert_int_eq(auth_spec(&s), SG_OK);
}
END_TEST

/* ---- what is not a token at all
 * ------------------------------------------------------------------ */

static const char *const declined[] = {
    NULL,
    "",
    "Basic YWxpY2U6eA==",
    "Bearer abc.def",
    "SIGNATURE token=\"x\"",
    "SIG token=x",
    "SIGN\ttoken=x",
    "Negotiate YII=",
};

START_TEST(test_other_schemes_declined)
{
    struct sg_principal p;
    ck_assert_int_eq(auth(declined[_i], &p), SG_DECLINED);
}
END_TEST

static const char *const malformed[] = {
    "SIGN",
    "SIGN ",
    "SIGN token=",
    "SIGN token=\"\"",
    "SIGN token=\"QUJD",
    "SIGN token=\"QU\\JD\"",
    "SIGN foo=bar",
    "SIGN token=QUJD, token=QUJD",
    "SIGN token=QUJD,",
    "SIGN token=QUJD junk",
    "SIGN =QUJD",
    ("SIGN token=\"QUJD\", nonce=\"1\", bodyhash=\"x\", signature_alg=\"RSA-SHA256\", "
     "signature=\"c2ln\""),    /* one value, split for the line length */
    "SIGN token=\"@@@@\"",     /* not base64 */
    "SIGN token=\"QUJDRA\"",   /* missing padding */
    "SIGN token=\"QUJDRB==\"", /* non-canonical trailing bits */
    "SIGN token=\"QUJDRA==\"", /* base64, but not gzip */
};

START_TEST(test_malformed_headers_denied)
{
    struct sg_principal p;
    ck_assert_int_eq(auth(malformed[_i], &p), SG_DENIED);
}
END_TEST

START_TEST(test_holder_of_key_header_denied_even_with_a_valid_token)
{
    struct spec s = valid_spec();
    char *xml = signed_assertion(&s);
    char *t = token_of(xml);
    char *h = sg_xasprintf("SIGN token=\"%s\", nonce=\"1714550400:abc\", bodyhash=\"x\", "
                           "signature_alg=\"RSA-SHA256\", signature=\"c2ln\"",
                           t);
    struct sg_principal p;
    ck_assert_int_eq(auth(h, &p), SG_DENIED);
    free(h);
    free(t);
    free(xml);
}
END_TEST

START_TEST(test_not_gzip_denied)
{
    struct spec s = valid_spec();
    char *xml = signed_assertion(&s);
    char *t = b64(xml, strlen(xml)); /* base64 of the plain XML */
    char *h = sg_xasprintf("SIGN token=\"%s\"", t);
    struct sg_principal p;
    ck_assert_int_eq(auth(h, &p), SG_DENIED);
    free(h);
    free(t);
    /* gzip with something after the stream */
    size_t gl = 0;
    char *gz = gzip_bytes(xml, strlen(xml), &gl);
    gz = sg_xrealloc(gz, gl + 4);
    memcpy(gz + gl, "junk", 4);
    t = b64(gz, gl + 4);
    h = sg_xasprintf("SIGN token=\"%s\"", t);
    ck_assert_int_eq(auth(h, &p), SG_DENIED);
    free(h);
    free(t);
    /* a truncated gzip stream */
    t = b64(gz, gl / 2);
    h = sg_xasprintf("SIGN token=\"%s\"", t);
    ck_assert_int_eq(auth(h, &p), SG_DENIED);
    free(h);
    free(t);
    free(gz);
    free(xml);
}
END_TEST

START_TEST(test_gzip_bomb_fails_fast)
{
    /* 20 MiB of '<' compress to ~20 KiB: the header still fits, the output
     * bound stops inflate after 256 KiB. */
    size_t n = 20u << 20;
    char *big = sg_xmalloc(n);
    memset(big, '<', n);
    size_t gl = 0;
    char *gz = gzip_bytes(big, n, &gl);
    free(big);
    char *t = b64(gz, gl);
    char *h = sg_xasprintf("SIGN token=\"%s\"", t);
    ck_assert_uint_lt(strlen(h), SG_SAML_HEADER_MAX);
    uint64_t t0 = sg_now_ms();
    struct sg_principal p;
    ck_assert_int_eq(auth(h, &p), SG_DENIED);
    ck_assert_uint_lt(sg_now_ms() - t0, 500);
    free(h);
    free(t);
    free(gz);
}
END_TEST

START_TEST(test_dtd_and_entities_denied)
{
    /* A billion-laughs DTD before an otherwise valid signed assertion. */
    struct spec s = valid_spec();
    char *xml = signed_assertion(&s);
    const char *decl_end = strstr(xml, "?>");
    ck_assert_ptr_nonnull(decl_end);
    char *with_dtd = sg_xasprintf(
        "%.*s<!DOCTYPE saml2:Assertion [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;"
        "&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>%s",
        (int)(decl_end + 2 - xml), xml, decl_end + 2);
    char *h = header_of(with_dtd);
    struct sg_principal p;
    ck_assert_int_eq(auth(h, &p), SG_DENIED);
    free(h);
    /* An external entity (no network, no file is read either). */
    char *xxe = sg_xasprintf("<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM "
                             "\"file:///etc/passwd\">]><saml2:Assertion " NS_DECLS
                             " ID=\"_x\" Version=\"2.0\">&x;</saml2:Assertion>");
    h = header_of(xxe);
    ck_assert_int_eq(auth(h, &p), SG_DENIED);
    free(h);
    free(xxe);
    free(with_dtd);
    free(xml);
}
END_TEST

START_TEST(test_not_an_assertion_denied)
{
    const char *docs[] = {
        "not xml at all",
        "<saml2:Response xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_r\"/>",
        "<Assertion ID=\"_a\" Version=\"2.0\"/>", /* no namespace */
        "<saml2:Assertion " NS_DECLS " ID=\"_a\" Version=\"2.0\"><unclosed></saml2:Assertion>",
    };
    for (size_t i = 0; i < SG_ARRAY_LEN(docs); i++) {
        char *h = header_of(docs[i]);
        struct sg_principal p;
        ck_assert_msg(auth(h, &p) == SG_DENIED, "doc %zu", i);
        free(h);
    }
}
END_TEST

/* ---- the verified-token cache
 * ---------------------------------------------------------------------- */

START_TEST(test_cache_hit_until_forget)
{
    struct spec s = valid_spec();
    char *h = header_cached(&s);
    struct sg_principal p;
    ck_assert_int_eq(auth(h, &p), SG_OK);
    ck_assert_str_eq(p.name, "alice@vsphere.local");
    ck_assert_uint_eq(p.ngroups, 2); /* a hit carries the groups too */
    sg_principal_clear(&p);
    ops->forget(inst);
    ck_assert_int_eq(auth(h, &p), SG_OK);
    sg_principal_clear(&p);
    free(h);
}
END_TEST

START_TEST(test_cache_never_outlives_the_token)
{
    struct spec s = valid_spec();
    s.not_on_or_after = -30; /* still accepted for 30 s (the skew) */
    s.not_before = -600;
    char *h = header_cached(&s);
    struct sg_principal p;
    fake_now_ms += 29 * 1000;
    ck_assert_int_eq(auth(h, &p), SG_OK); /* a hit */
    sg_principal_clear(&p);
    fake_now_ms += 2 * 1000; /* past NotOnOrAfter + skew, well within the cache TTL */
    ck_assert_int_eq(auth(h, &p), SG_DENIED);
    free(h);
}
END_TEST

START_TEST(test_cache_ttl_is_60s_for_long_tokens)
{
    struct spec s = valid_spec();
    s.not_on_or_after = 1800;
    char *h = header_for(&s);
    struct sg_cred_cache *c = sg_saml_inst_cache(inst);
    unsigned char key[SG_CRED_KEY_LEN];
    ck_assert_int_eq(sg_cred_cache_key(c, h, strlen(h), key), SG_OK);
    struct sg_principal p;
    ck_assert_int_eq(auth(h, &p), SG_OK);
    sg_principal_clear(&p);
    ck_assert(sg_cred_cache_get(c, key, fake_now_ms + 59 * 1000, &p));
    sg_principal_clear(&p);
    ck_assert(!sg_cred_cache_get(c, key, fake_now_ms + 60 * 1000, &p));
    free(h);
}
END_TEST

/* ---- raw assertions from JSON-RPC bodies (authenticate_assertion) ------------------------ */

#define DSIG_NS "http://www.w3.org/2000/09/xmldsig#"
/* What the vAPI SDK signs: the request's canonical JSON without its signature. */
#define SIGNING_INPUT                                                                              \
    "{\"id\":\"0\",\"jsonrpc\":\"2.0\",\"method\":\"invoke\",\"params\":{\"ctx\":{\"appCtx\":"     \
    "{\"opId\":\"1\"},\"securityCtx\":{\"schemeId\":\"com.vmware.vapi.std.security.saml_hok_"      \
    "token\",\"signatureAlgorithm\":\"RS256\"}},\"input\":{\"STRUCTURE\":{\"operation-input\":"    \
    "{\"task\":\"task-1\"}}},\"operationId\":\"get\",\"serviceId\":\"com.vmware.snapservice."      \
    "tasks\"}}"

/* The DER of signers[who]'s certificate and its length (OPENSSL_free it). */
static unsigned char *cert_der(int who, int *len)
{
    BIO *in = BIO_new_mem_buf(signers[who].cert_pem, -1);
    X509 *x = PEM_read_bio_X509(in, NULL, NULL, NULL);
    NEED(x);
    unsigned char *der = NULL;
    *len = i2d_X509(x, &der);
    NEED(*len > 0);
    X509_free(x);
    BIO_free(in);
    return der;
}

/* The DER of signers[who]'s certificate, base64 on one line (the SDK's form). */
static char *cert_b64(int who)
{
    int len;
    unsigned char *der = cert_der(who, &len);
    char *out = b64(der, (size_t)len);
    OPENSSL_free(der);
    return out;
}

/* SubjectConfirmationData content naming certificate text(s). */
static char *keyinfo_with(const char *x509data_inner)
{
    return sg_xasprintf("<ds:KeyInfo xmlns:ds=\"" DSIG_NS "\"><ds:X509Data>%s</ds:X509Data>"
                        "</ds:KeyInfo>",
                        x509data_inner);
}

static char *keyinfo_of(int who)
{
    char *c = cert_b64(who);
    char *inner = sg_xasprintf("<ds:X509Certificate>%s</ds:X509Certificate>", c);
    char *ki = keyinfo_with(inner);
    free(inner);
    free(c);
    return ki;
}

/* A holder-of-key assertion for HOLDER, signed by the STS (caller frees). */
static char *hok_assertion_with(const char *confirmation_data)
{
    struct spec s = valid_spec();
    s.method = CM_HOK;
    s.confirmation_data = confirmation_data;
    return signed_assertion(&s);
}

static char *hok_assertion(void)
{
    char *ki = keyinfo_of(HOLDER);
    char *xml = hok_assertion_with(ki);
    free(ki);
    return xml;
}

/* A request's proof: the signing input signed by who with md, its timestamp
 * created off_ms from now and valid for window_ms. */
struct proof {
    struct sg_auth_proof p;
    char *input;
    char *sig;
};

static void proof_sign(struct proof *pr, int who, const EVP_MD *md)
{
    BIO *kb = BIO_new_mem_buf(signers[who].key_pem, -1);
    EVP_PKEY *pk = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
    NEED(pk);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t n = 0;
    NEED(EVP_DigestSignInit(ctx, NULL, md, NULL, pk) == 1);
    NEED(EVP_DigestSign(ctx, NULL, &n, (const unsigned char *)pr->input, strlen(pr->input)) == 1);
    unsigned char *sig = sg_xmalloc(n);
    NEED(EVP_DigestSign(ctx, sig, &n, (const unsigned char *)pr->input, strlen(pr->input)) == 1);
    free(pr->sig);
    pr->sig = b64(sig, n);
    pr->p.signature = pr->sig;
    pr->p.signature_len = strlen(pr->sig);
    free(sig);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    BIO_free(kb);
}

static struct proof proof_make(int who, const EVP_MD *md, enum sg_auth_sig_alg alg, int64_t off_ms,
                               uint64_t window_ms)
{
    struct proof pr = {.input = sg_xstrdup(SIGNING_INPUT)};
    pr.p.signing_input = pr.input;
    pr.p.signing_input_len = strlen(pr.input);
    pr.p.algorithm = alg;
    pr.p.created_ms = (uint64_t)((int64_t)fake_now_ms + off_ms);
    pr.p.expires_ms = pr.p.created_ms + window_ms;
    proof_sign(&pr, who, md);
    return pr;
}

/* What the SDK sends: RS256, created a second ago, valid for 20 minutes. */
static struct proof proof_good(void)
{
    return proof_make(HOLDER, EVP_sha256(), SG_AUTH_RS256, -1000, 20 * 60 * 1000);
}

static void proof_free(struct proof *pr)
{
    free(pr->input);
    free(pr->sig);
}

/* authenticate_assertion on xml[0..len): synchronous, nothing filled on a
 * denial, and OpenSSL's error queue left empty either way. */
static int auth_raw_len(const char *xml, size_t len, const struct sg_auth_proof *proof,
                        struct sg_principal *out)
{
    memset(out, 0, sizeof(*out));
    calls = 0;
    ERR_clear_error();
    int rc = ops->authenticate_assertion(inst, xml, len, proof, out, on_auth, NULL);
    ck_assert_int_ne(rc, SG_AGAIN);
    ck_assert_int_eq(calls, 0);
    ck_assert_uint_eq(ERR_peek_error(), 0);
    if (rc != SG_OK) {
        ck_assert_int_eq(rc, SG_DENIED);
        ck_assert_str_eq(out->name, "");
        ck_assert_ptr_null(out->groups);
    }
    return rc;
}

/* The same, and the principal cleared (only the answer matters). */
static int auth_raw(const char *xml, const struct sg_auth_proof *proof)
{
    struct sg_principal p;
    int rc = auth_raw_len(xml, strlen(xml), proof, &p);
    sg_principal_clear(&p);
    return rc;
}

START_TEST(test_raw_bearer_accepted)
{
    ck_assert_ptr_nonnull(ops->authenticate_assertion);
    struct spec s = valid_spec();
    char *xml = signed_assertion(&s);
    /* Not NUL-terminated: what follows the length is not the assertion's. */
    char *buf = sg_xasprintf("%s<junk/>", xml);
    struct sg_principal p;
    ck_assert_int_eq(auth_raw_len(buf, strlen(xml), NULL, &p), SG_OK);
    ck_assert_str_eq(p.name, "alice@vsphere.local");
    ck_assert_uint_eq(p.ngroups, 2);
    ck_assert_str_eq(p.groups[0], "vsphere.local\\Users");
    ck_assert_str_eq(p.groups[1], "vsphere.local\\Administrators");
    sg_principal_clear(&p);
    ck_assert_uint_eq(sg_cred_cache_count(sg_saml_inst_raw_cache(inst)), 1);
    ck_assert_uint_eq(sg_cred_cache_count(sg_saml_inst_cache(inst)), 0);
    free(buf);
    free(xml);
}
END_TEST

START_TEST(test_raw_bearer_altered_or_foreign_denied)
{
    struct spec s = valid_spec();
    char *xml = signed_assertion(&s);
    const char *edits[][2] = {
        {"alice@vsphere.local", "mallory@vsphere.local"},
        {"vsphere.local\\Users", "vsphere.local\\Administrators"},
    };
    for (size_t i = 0; i < SG_ARRAY_LEN(edits); i++) {
        char *bad = replace(xml, edits[i][0], edits[i][1]);
        ck_assert_msg(auth_raw(bad, NULL) == SG_DENIED, "edit %zu", i);
        free(bad);
    }
    ck_assert_int_eq(auth_raw(xml, NULL), SG_OK);
    free(xml);
    /* Signed by a key not in sts_certs_file. */
    s.signer = OTHER;
    xml = signed_assertion(&s);
    ck_assert_int_eq(auth_raw(xml, NULL), SG_DENIED);
    free(xml);
    /* The header's form (base64 of gzip) is not a raw assertion. */
    s = valid_spec();
    xml = signed_assertion(&s);
    char *tok = token_of(xml);
    ck_assert_int_eq(auth_raw(tok, NULL), SG_DENIED);
    free(tok);
    free(xml);
    /* Failures are not remembered. */
    ck_assert_uint_eq(sg_cred_cache_count(sg_saml_inst_raw_cache(inst)), 1);
}
END_TEST

START_TEST(test_raw_bearer_bounds)
{
    struct spec s = valid_spec();
    char *xml = signed_assertion(&s);
    size_t n = strlen(xml);
    struct sg_principal p;
    /* Trailing whitespace is still XML: up to exactly 256 KiB passes. */
    char *big = sg_xmalloc(SG_SAML_XML_MAX + 2);
    memcpy(big, xml, n);
    memset(big + n, ' ', SG_SAML_XML_MAX + 1 - n);
    big[SG_SAML_XML_MAX + 1] = '\0';
    ck_assert_int_eq(auth_raw_len(big, SG_SAML_XML_MAX, NULL, &p), SG_OK);
    sg_principal_clear(&p);
    ck_assert_int_eq(auth_raw_len(big, SG_SAML_XML_MAX + 1, NULL, &p), SG_DENIED);
    /* A NUL byte anywhere, even after the document element. */
    big[n] = '\0';
    ck_assert_int_eq(auth_raw_len(big, n + 1, NULL, &p), SG_DENIED);
    ck_assert_int_eq(auth_raw_len(big, n, NULL, &p), SG_OK);
    sg_principal_clear(&p);
    ck_assert_int_eq(auth_raw_len(xml, 0, NULL, &p), SG_DENIED);
    ck_assert_int_eq(auth_raw_len(NULL, 0, NULL, &p), SG_DENIED);
    free(big);
    free(xml);
}
END_TEST

START_TEST(test_raw_confirmation_kinds_do_not_mix)
{
    char *hok = hok_assertion();
    struct proof pr = proof_good();
    /* A holder-of-key assertion without its proof is not a bearer token. */
    ck_assert_int_eq(auth_raw(hok, NULL), SG_DENIED);
    /* A bearer assertion (accepted, and cached, as one) with a proof is
     * denied: it names no key the proof could be checked with. */
    struct spec s = valid_spec();
    char *bearer = signed_assertion(&s);
    ck_assert_int_eq(auth_raw(bearer, NULL), SG_OK);
    ck_assert_int_eq(auth_raw(bearer, &pr.p), SG_DENIED);
    /* An assertion with a bearer and a holder-of-key confirmation is neither. */
    char *ki = keyinfo_of(HOLDER);
    s.confirmation_data = ki;
    char *unsigned_xml = assertion_xml(&s);
    char *conf = cut(unsigned_xml, "<saml2:SubjectConfirmation ", "</saml2:SubjectConfirmation>");
    char *hok_conf = replace(conf, CM_BEARER, CM_HOK);
    char *both_conf = sg_xasprintf("%s%s", conf, hok_conf);
    char *both = replace(unsigned_xml, conf, both_conf);
    char *both_signed = sign_xml(both, s.id, STS);
    ck_assert_int_eq(auth_raw(both_signed, NULL), SG_DENIED);
    ck_assert_int_eq(auth_raw(both_signed, &pr.p), SG_DENIED);
    /* Two holder-of-key confirmations: which key would the proof need? */
    char *two_conf = sg_xasprintf("%s%s", hok_conf, hok_conf);
    char *two = replace(unsigned_xml, conf, two_conf);
    char *two_signed = sign_xml(two, s.id, STS);
    ck_assert_int_eq(auth_raw(two_signed, &pr.p), SG_DENIED);
    /* The untouched holder-of-key assertion with its proof passes. */
    ck_assert_int_eq(auth_raw(hok, &pr.p), SG_OK);
    free(two_signed);
    free(two);
    free(two_conf);
    free(both_signed);
    free(both);
    free(both_conf);
    free(hok_conf);
    free(conf);
    free(unsigned_xml);
    free(ki);
    free(bearer);
    proof_free(&pr);
    free(hok);
}
END_TEST

START_TEST(test_hok_accepted)
{
    char *xml = hok_assertion();
    struct proof pr = proof_good();
    struct sg_principal p;
    ck_assert_int_eq(auth_raw_len(xml, strlen(xml), &pr.p, &p), SG_OK);
    ck_assert_str_eq(p.name, "alice@vsphere.local");
    ck_assert_uint_eq(p.ngroups, 2);
    ck_assert_str_eq(p.groups[1], "vsphere.local\\Administrators");
    sg_principal_clear(&p);
    proof_free(&pr);
    /* The other two digests, each as claimed. */
    pr = proof_make(HOLDER, EVP_sha384(), SG_AUTH_RS384, -1000, 20 * 60 * 1000);
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_OK);
    proof_free(&pr);
    pr = proof_make(HOLDER, EVP_sha512(), SG_AUTH_RS512, -1000, 20 * 60 * 1000);
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_OK);
    proof_free(&pr);
    free(xml);
    /* The certificate as PEM's 64-column lines: base64Binary allows the
     * whitespace, and the STS signed it as it stands. */
    const char *pem = signers[HOLDER].cert_pem;
    const char *body = strchr(pem, '\n') + 1;
    char *lines = sg_xstrndup(body, (size_t)(strstr(body, "-----END") - body));
    char *inner = sg_xasprintf("<ds:X509Certificate>\n%s</ds:X509Certificate>", lines);
    char *ki = keyinfo_with(inner);
    xml = hok_assertion_with(ki);
    pr = proof_good();
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_OK);
    proof_free(&pr);
    free(xml);
    free(ki);
    free(inner);
    free(lines);
}
END_TEST

START_TEST(test_hok_altered_proof_denied)
{
    char *xml = hok_assertion();
    /* The request changed after signing (another task id). */
    struct proof pr = proof_good();
    char *changed = replace(pr.input, "task-1", "task-2");
    free(pr.input);
    pr.input = changed;
    pr.p.signing_input = changed;
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_DENIED);
    proof_free(&pr);
    /* Signed with a key other than the one the assertion confirms. */
    pr = proof_make(OTHER, EVP_sha256(), SG_AUTH_RS256, -1000, 20 * 60 * 1000);
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_DENIED);
    proof_free(&pr);
    /* Signed with SHA-256, claimed RS512 (and RS384). */
    pr = proof_good();
    pr.p.algorithm = SG_AUTH_RS512;
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_DENIED);
    pr.p.algorithm = SG_AUTH_RS384;
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_DENIED);
    pr.p.algorithm = (enum sg_auth_sig_alg)7;
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_DENIED);
    pr.p.algorithm = SG_AUTH_RS256;
    /* Signature bytes: a flipped bit, lax base64, none at all. */
    char *sig = pr.sig;
    sig[10] = sig[10] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_DENIED);
    proof_free(&pr);
    pr = proof_good();
    size_t n = strlen(pr.sig);
    ck_assert(pr.sig[n - 1] == '=');
    pr.p.signature_len = n - 1; /* padding missing */
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_DENIED);
    pr.p.signature_len = 0;
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_DENIED);
    pr.p.signature_len = n;
    pr.p.signing_input = NULL;
    pr.p.signing_input_len = 0;
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_DENIED);
    pr.p.signing_input = pr.input;
    pr.p.signing_input_len = strlen(pr.input);
    /* The proof untouched passes: the edits, not the fixture, were denied. */
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_OK);
    proof_free(&pr);
    free(xml);
}
END_TEST

START_TEST(test_hok_timestamp_window)
{
    char *xml = hok_assertion();
    const int64_t min = 60 * 1000;
    const struct {
        int64_t created; /* ms from now */
        uint64_t window; /* ms */
        int rc;
    } cases[] = {
        {-30 * min, 30 * min - 61000, SG_DENIED}, /* expired 61 s ago: past the skew */
        {-30 * min, 30 * min - 59000, SG_OK},     /* expired 59 s ago: within it */
        {61000, 20 * min, SG_DENIED},             /* created 61 s ahead */
        {59000, 20 * min, SG_OK},                 /* created 59 s ahead */
        {-1000, 60 * min, SG_OK},                 /* the longest window allowed */
        {-1000, 60 * min + 1, SG_DENIED},         /* a millisecond longer */
        {-1000, 0, SG_OK},                        /* an empty window, within the skew */
    };
    for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
        struct proof pr =
            proof_make(HOLDER, EVP_sha256(), SG_AUTH_RS256, cases[i].created, cases[i].window);
        ck_assert_msg(auth_raw(xml, &pr.p) == cases[i].rc, "case %zu", i);
        proof_free(&pr);
    }
    /* Expiring before it is created (the signature does not cover these
     * fields here, the check comes before it anyway). */
    struct proof pr = proof_good();
    pr.p.created_ms = fake_now_ms;
    pr.p.expires_ms = fake_now_ms - 1;
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_DENIED);
    /* No wrap-around at the top of the range. */
    pr.p.created_ms = UINT64_MAX - 1000;
    pr.p.expires_ms = UINT64_MAX;
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_DENIED);
    proof_free(&pr);
    free(xml);
}
END_TEST

START_TEST(test_hok_certificate_shapes_denied)
{
    char *c = cert_b64(HOLDER);
    char *one = sg_xasprintf("<ds:X509Certificate>%s</ds:X509Certificate>", c);
    char *two = sg_xasprintf("%s%s", one, one);
    char *ki_one = keyinfo_with(one);
    char *ki_two_certs = keyinfo_with(two);
    char *two_keyinfos = sg_xasprintf("%s%s", ki_one, ki_one);
    char *two_data = sg_xasprintf("<ds:KeyInfo xmlns:ds=\"" DSIG_NS "\"><ds:X509Data>%s"
                                  "</ds:X509Data><ds:X509Data>%s</ds:X509Data></ds:KeyInfo>",
                                  one, one);
    char *key_name = sg_xasprintf("<ds:KeyInfo xmlns:ds=\"" DSIG_NS "\"><ds:KeyName>hok-user"
                                  "</ds:KeyName></ds:KeyInfo>");
    char *ki_ec = keyinfo_of(EC_HOLDER);
    char *ki_small = keyinfo_of(SMALL_HOLDER);
    char *not_b64 = keyinfo_with("<ds:X509Certificate>@@@@</ds:X509Certificate>");
    char *not_der = keyinfo_with("<ds:X509Certificate>QUJDRA==</ds:X509Certificate>");
    const struct {
        const char *data; /* SubjectConfirmationData content */
        int signer;       /* who signs the request */
    } shapes[] = {
        {"", HOLDER},             /* no certificate */
        {key_name, HOLDER},       /* a KeyInfo without one */
        {ki_two_certs, HOLDER},   /* two in one X509Data */
        {two_keyinfos, HOLDER},   /* two KeyInfo */
        {two_data, HOLDER},       /* two X509Data */
        {ki_ec, EC_HOLDER},       /* an EC key, signing for itself */
        {ki_small, SMALL_HOLDER}, /* RSA-1024, signing for itself */
        {not_b64, HOLDER},        /* not base64 */
        {not_der, HOLDER},        /* not a certificate */
    };
    for (size_t i = 0; i < SG_ARRAY_LEN(shapes); i++) {
        char *xml = hok_assertion_with(shapes[i].data);
        struct proof pr =
            proof_make(shapes[i].signer, EVP_sha256(), SG_AUTH_RS256, -1000, 20 * 60000);
        ck_assert_msg(auth_raw(xml, &pr.p) == SG_DENIED, "shape %zu", i);
        proof_free(&pr);
        free(xml);
    }
    ck_assert_uint_eq(sg_saml_hok_cache_count(sg_saml_inst_hok_cache(inst)), 0);
    /* The same certificate alone passes. */
    char *xml = hok_assertion_with(ki_one);
    struct proof pr = proof_good();
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_OK);
    proof_free(&pr);
    free(xml);
    free(not_der);
    free(not_b64);
    free(ki_small);
    free(ki_ec);
    free(key_name);
    free(two_data);
    free(two_keyinfos);
    free(ki_two_certs);
    free(ki_one);
    free(two);
    free(one);
    free(c);
}
END_TEST

START_TEST(test_hok_cert_key_pieces)
{
    EVP_PKEY *pk = NULL;
    sg_saml_reason why = NULL;
    char *c = cert_b64(HOLDER);
    ck_assert_int_eq(sg_saml_hok_cert_key(c, strlen(c), &pk, &why), SG_OK);
    ck_assert_ptr_nonnull(pk);
    EVP_PKEY_free(pk);
    pk = NULL;
    /* DER with bytes after the certificate. */
    BIO *in = BIO_new_mem_buf(signers[HOLDER].cert_pem, -1);
    X509 *x = PEM_read_bio_X509(in, NULL, NULL, NULL);
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    unsigned char *longer = sg_xmalloc((size_t)len + 3);
    memcpy(longer, der, (size_t)len);
    memcpy(longer + len, "\0\0\0", 3);
    char *lb = b64(longer, (size_t)len + 3);
    ck_assert_int_eq(sg_saml_hok_cert_key(lb, strlen(lb), &pk, &why), SG_DENIED);
    ck_assert_ptr_null(pk);
    ck_assert_uint_eq(ERR_peek_error(), 0);
    ck_assert_int_eq(sg_saml_hok_cert_key("", 0, &pk, &why), SG_DENIED);
    ck_assert_int_eq(sg_saml_hok_cert_key(NULL, 0, &pk, &why), SG_DENIED);
    free(lb);
    free(longer);
    OPENSSL_free(der);
    X509_free(x);
    BIO_free(in);
    free(c);
}
END_TEST

START_TEST(test_hok_cache_still_checks_every_proof)
{
    char *xml = hok_assertion();
    struct sg_saml_hok_cache *hc = sg_saml_inst_hok_cache(inst);
    struct proof pr = proof_good();
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_OK);
    ck_assert_uint_eq(sg_saml_hok_cache_count(hc), 1);
    /* Cached, and still: a bad signature, a stale timestamp, the wrong key. */
    pr.p.algorithm = SG_AUTH_RS512;
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_DENIED);
    pr.p.algorithm = SG_AUTH_RS256;
    struct proof stale = proof_make(HOLDER, EVP_sha256(), SG_AUTH_RS256, -30 * 60000, 20 * 60000);
    ck_assert_int_eq(auth_raw(xml, &stale.p), SG_DENIED);
    proof_free(&stale);
    struct proof other = proof_make(OTHER, EVP_sha256(), SG_AUTH_RS256, -1000, 20 * 60000);
    ck_assert_int_eq(auth_raw(xml, &other.p), SG_DENIED);
    proof_free(&other);
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_OK);
    ck_assert_uint_eq(sg_saml_hok_cache_count(hc), 1);

    /* That the checks above ran on a hit: an entry put by hand for bytes that
     * are no assertion at all answers with its principal when the proof
     * verifies with its key, and is denied when it does not. */
    const char *fake = "not an assertion";
    unsigned char key[SG_CRED_KEY_LEN];
    ck_assert_int_eq(sg_saml_hok_cache_key(hc, fake, strlen(fake), key), SG_OK);
    EVP_PKEY *pk = NULL;
    sg_saml_reason why = NULL;
    char *c = cert_b64(HOLDER);
    ck_assert_int_eq(sg_saml_hok_cert_key(c, strlen(c), &pk, &why), SG_OK);
    struct sg_principal cached = {.name = "cached@vsphere.local"};
    sg_saml_hok_cache_put(hc, key, &cached, pk, fake_now_ms, fake_now_ms + 30000);
    EVP_PKEY_free(pk);
    struct sg_principal p;
    ck_assert_int_eq(auth_raw_len(fake, strlen(fake), &pr.p, &p), SG_OK);
    ck_assert_str_eq(p.name, "cached@vsphere.local");
    ck_assert_uint_eq(p.ngroups, 0);
    sg_principal_clear(&p);
    pr.p.algorithm = SG_AUTH_RS384;
    ck_assert_int_eq(auth_raw(fake, &pr.p), SG_DENIED);
    pr.p.algorithm = SG_AUTH_RS256;
    /* The entry is the holder-of-key cache's only: without a proof the
     * same bytes are a (bad) bearer assertion. */
    ck_assert_int_eq(auth_raw(fake, NULL), SG_DENIED);
    /* Its deadline holds. */
    fake_now_ms += 30000;
    proof_free(&pr);
    pr = proof_good();
    ck_assert_int_eq(auth_raw(fake, &pr.p), SG_DENIED);
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_OK);
    /* forget drops both raw caches. */
    ck_assert_uint_gt(sg_saml_hok_cache_count(hc), 0);
    ops->forget(inst);
    ck_assert_uint_eq(sg_saml_hok_cache_count(hc), 0);
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_OK);
    proof_free(&pr);
    free(c);
    free(xml);
}
END_TEST

START_TEST(test_hok_cache_never_outlives_the_assertion)
{
    struct spec s = valid_spec();
    s.method = CM_HOK;
    s.not_before = -600;
    s.not_on_or_after = -30; /* still accepted for 30 s (the skew) */
    char *ki = keyinfo_of(HOLDER);
    s.confirmation_data = ki;
    char *xml = signed_assertion(&s);
    struct proof pr = proof_good();
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_OK);
    proof_free(&pr);
    fake_now_ms += 29 * 1000;
    pr = proof_good();
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_OK); /* a hit */
    proof_free(&pr);
    fake_now_ms += 2 * 1000; /* past NotOnOrAfter + skew, well within the cache TTL */
    pr = proof_good();
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_DENIED);
    proof_free(&pr);
    free(xml);
    free(ki);
}
END_TEST

START_TEST(test_raw_and_header_caches_apart)
{
    /* A verified SIGN header's bytes given as a raw assertion: the header
     * cache holds them, the raw path must not find them. */
    struct spec s = valid_spec();
    char *h = header_cached(&s);
    struct sg_principal p;
    ck_assert_int_eq(auth_raw(h, NULL), SG_DENIED);
    /* And the other way: a raw entry put by hand under a header's bytes. */
    const char *hdr = "SIGN token=\"QUJDRA==\"";
    unsigned char key[SG_CRED_KEY_LEN];
    struct sg_cred_cache *raw = sg_saml_inst_raw_cache(inst);
    ck_assert_int_eq(sg_cred_cache_key(raw, hdr, strlen(hdr), key), SG_OK);
    struct sg_principal cached = {.name = "cached@vsphere.local"};
    sg_cred_cache_put(raw, key, &cached, fake_now_ms + 30000);
    ck_assert_int_eq(auth_raw(hdr, NULL), SG_OK); /* the raw path reads it */
    ck_assert_int_eq(auth(hdr, &p), SG_DENIED);   /* the header path does not */
    free(h);
}
END_TEST

START_TEST(test_proof_time_pieces)
{
    sg_saml_reason why = NULL;
    struct sg_auth_proof p = {.created_ms = 1000000, .expires_ms = 1000000 + 20 * 60000};
    ck_assert_int_eq(sg_saml_proof_time_ok(&p, 1000000 - SG_SAML_SKEW_MS, &why), SG_OK);
    ck_assert_int_eq(sg_saml_proof_time_ok(&p, 1000000 - SG_SAML_SKEW_MS - 1, &why), SG_DENIED);
    ck_assert_int_eq(sg_saml_proof_time_ok(&p, p.expires_ms + SG_SAML_SKEW_MS - 1, &why), SG_OK);
    ck_assert_int_eq(sg_saml_proof_time_ok(&p, p.expires_ms + SG_SAML_SKEW_MS, &why), SG_DENIED);
    p.created_ms = 0;
    p.expires_ms = 10;
    ck_assert_int_eq(sg_saml_proof_time_ok(&p, 0, &why), SG_OK);
}
END_TEST

START_TEST(test_hok_audience_checked_when_configured)
{
    /* The holder-of-key path runs the same audience check. */
    char *ki = keyinfo_of(HOLDER);
    struct spec s = valid_spec();
    s.method = CM_HOK;
    s.confirmation_data = ki;
    struct proof pr = proof_good();
    char *xml = signed_assertion(&s);
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_OK);
    free(xml);
    s.audience = "https://somewhere.else.example";
    xml = signed_assertion(&s);
    ck_assert_int_eq(auth_raw(xml, &pr.p), SG_DENIED);
    free(xml);
    s = valid_spec();
    s.audience = "https://somewhere.else.example";
    xml = signed_assertion(&s);
    ck_assert_int_eq(auth_raw(xml, NULL), SG_DENIED);
    free(xml);
    proof_free(&pr);
    free(ki);
}
END_TEST

START_TEST(test_hok_cache_lru)
{
    struct sg_saml_hok_cache *c = sg_saml_hok_cache_new(2);
    EVP_PKEY *pk = NULL, *got = NULL;
    sg_saml_reason why = NULL;
    char *b = cert_b64(HOLDER);
    ck_assert_int_eq(sg_saml_hok_cert_key(b, strlen(b), &pk, &why), SG_OK);
    unsigned char k[3][SG_CRED_KEY_LEN];
    const char *names[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(sg_saml_hok_cache_key(c, names[i], 1, k[i]), SG_OK);
    struct sg_principal pa = {.name = "a"}, pb = {.name = "b"}, pc = {.name = "c"}, out;
    sg_saml_hok_cache_put(c, k[0], &pa, pk, 0, 1000);
    sg_saml_hok_cache_put(c, k[1], &pb, pk, 0, 1000);
    /* a used last: b is the least recently used and goes for c. */
    ck_assert(sg_saml_hok_cache_get(c, k[0], 10, &out, &got));
    ck_assert_str_eq(out.name, "a");
    ck_assert_ptr_eq(got, pk);
    EVP_PKEY_free(got);
    sg_principal_clear(&out);
    sg_saml_hok_cache_put(c, k[2], &pc, pk, 10, 1000);
    ck_assert_uint_eq(sg_saml_hok_cache_count(c), 2);
    ck_assert(!sg_saml_hok_cache_get(c, k[1], 10, &out, &got));
    ck_assert(sg_saml_hok_cache_get(c, k[2], 10, &out, &got));
    EVP_PKEY_free(got);
    sg_principal_clear(&out);
    /* An expired entry goes before a live one, used or not. */
    sg_saml_hok_cache_put(c, k[0], &pa, pk, 10, 20);
    sg_saml_hok_cache_put(c, k[1], &pb, pk, 30, 1000);
    ck_assert(sg_saml_hok_cache_get(c, k[2], 30, &out, &got));
    EVP_PKEY_free(got);
    sg_principal_clear(&out);
    ck_assert(!sg_saml_hok_cache_get(c, k[0], 30, &out, &got));
    ck_assert_uint_eq(sg_saml_hok_cache_count(c), 2);
    sg_saml_hok_cache_free(c); /* the entries' references go with it */
    EVP_PKEY_free(pk);
    free(b);
}
END_TEST

/* ---- pieces
 * ------------------------------------------------------------------------------------------ */

static const struct {
    const char *s;
    int rc;
    uint64_t ms;
} times[] = {
    {"1970-01-01T00:00:00Z", SG_OK, 0},
    {"2024-05-01T10:00:00Z", SG_OK, 1714557600000ull},
    {"2024-05-01T10:00:00.123Z", SG_OK, 1714557600123ull},
    {"2024-05-01T10:00:00.1Z", SG_OK, 1714557600100ull},
    {"2024-05-01T10:00:00.123456Z", SG_OK, 1714557600123ull},
    {"2024-05-01T10:00:00+00:00", SG_OK, 1714557600000ull},
    {"2024-02-29T00:00:00Z", SG_OK, 1709164800000ull},
    {"2023-02-29T00:00:00Z", SG_ERR, 0},
    {"2024-05-01T10:00:00", SG_ERR, 0},
    {"2024-05-01T10:00:00+02:00", SG_ERR, 0},
    {"2024-05-01 10:00:00Z", SG_ERR, 0},
    {"2024-13-01T10:00:00Z", SG_ERR, 0},
    {"2024-05-01T24:00:00Z", SG_ERR, 0},
    {"2024-05-01T10:00:00.Z", SG_ERR, 0},
    {"2024-05-01T10:00:00ZZ", SG_ERR, 0},
    {"1969-12-31T23:59:59Z", SG_ERR, 0},
    {"", SG_ERR, 0},
};

START_TEST(test_parse_time)
{
    uint64_t ms = 0;
    ck_assert_msg(sg_saml_parse_time(times[_i].s, &ms) == times[_i].rc, "%s", times[_i].s);
    if (times[_i].rc == SG_OK)
        ck_assert_uint_eq(ms, times[_i].ms);
}
END_TEST

START_TEST(test_header_parse_finds_the_token)
{
    const char *tok;
    size_t n;
    ck_assert_int_eq(sg_saml_header_parse("SIGN token=\"abc=\"", 17, &tok, &n), SG_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert(strncmp(tok, "abc=", 4) == 0);
    const char *h = "SIGN  Token = abc/+=  ";
    ck_assert_int_eq(sg_saml_header_parse(h, strlen(h), &tok, &n), SG_OK);
    ck_assert_uint_eq(n, 6);
    ck_assert(strncmp(tok, "abc/+=", 6) == 0);
}
END_TEST

/* ---- configuration
 * --------------------------------------------------------------------------------- */

/* The STS certificate with its key algorithm made unknown (rsaEncryption
 * 1.2.840.113549.1.1.1 turned into ...1.1.99): still a well-formed
 * certificate, but one whose public key OpenSSL cannot decode. */
static char *cert_with_unreadable_key(void)
{
    static const unsigned char rsa_oid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                            0xf7, 0x0d, 0x01, 0x01, 0x01};
    int len;
    unsigned char *der = cert_der(STS, &len);
    unsigned char *at = memmem(der, (size_t)len, rsa_oid, sizeof(rsa_oid));
    NEED(at);
    at[sizeof(rsa_oid) - 1] = 99;
    BIO *out = BIO_new(BIO_s_mem());
    NEED(PEM_write_bio(out, "CERTIFICATE", "", der, len) > 0);
    char *pem = bio_string(out);
    OPENSSL_free(der);
    return pem;
}

/* n bytes (NULs allowed) in a new temporary file; its path (caller frees). */
static char *write_temp_bytes(const char *data, size_t n)
{
    char *path = sg_xstrdup("/tmp/sgtestXXXXXX");
    int fd = mkstemp(path);
    NEED(fd >= 0);
    NEED(write(fd, data, n) == (ssize_t)n);
    close(fd);
    return path;
}

/* Both trusted certificates with a NUL in the first END line: OpenSSL's PEM
 * reader ended the line there, skipped the second certificate unseen and the
 * file loaded with one (found by fuzz_saml_certs). */
static char *certs_with_nul(void)
{
    char *both = sg_xasprintf("%s%s", signers[STS].cert_pem, signers[EC_STS].cert_pem);
    size_t n = strlen(both);
    char *end = strstr(both, "-----END ");
    NEED(end);
    end[9] = '\0';
    char *path = write_temp_bytes(both, n);
    free(both);
    return path;
}

/* A file of n bytes: the STS certificate, then blank lines. */
static char *certs_padded(size_t n)
{
    size_t cl = strlen(signers[STS].cert_pem);
    char *big = sg_xmalloc(n);
    memset(big, '\n', n);
    memcpy(big, signers[STS].cert_pem, cl);
    char *path = write_temp_bytes(big, n);
    free(big);
    return path;
}

START_TEST(test_conf_errors)
{
    char *key_only = sg_test_write_temp(signers[OTHER].key_pem);
    char *garbage = sg_test_write_temp("not a certificate\n");
    char *both = sg_xasprintf("%s%s", signers[STS].cert_pem, signers[STS].key_pem);
    char *cert_then_key = sg_test_write_temp(both);
    free(both);
    char *bad_b64 = sg_test_write_temp("-----BEGIN CERTIFICATE-----\n@@@@\n"
                                       "-----END CERTIFICATE-----\n");
    /* A crash before (found by fuzz_saml_certs): a NULL key was dereferenced. */
    char *unreadable = cert_with_unreadable_key();
    char *bad_key = sg_test_write_temp(unreadable);
    free(unreadable);
    char *nul = certs_with_nul();
    char *too_large = certs_padded(SG_SAML_CERTS_FILE_MAX + 1);
    /* A valid certificate under encryption headers: OpenSSL's reader stops
     * there, so the loader must not take it (found by fuzz_saml_certs). */
    const char *body = strchr(signers[STS].cert_pem, '\n') + 1;
    char *enc_text = sg_xasprintf("-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n"
                                  "DEK-Info: AES-128-CBC,00000000000000000000000000000000\n\n%s",
                                  body);
    char *encrypted = sg_test_write_temp(enc_text);
    free(enc_text);
    struct {
        const char *file;
        const char *want;
    } cases[] = {
        {"/nonexistent/sts.pem", "cannot open"},
        {key_only, "not a CERTIFICATE"},
        {garbage, "holds no PEM certificate"},
        {cert_then_key, "not a CERTIFICATE"},
        {bad_b64, "not valid PEM"},
        {bad_key, "its public key cannot be read"},
        {nul, "holds a NUL byte"},
        {too_large, "larger than 1048576 bytes"},
        {encrypted, "a PEM block with headers"},
    };
    for (size_t i = 0; i < SG_ARRAY_LEN(cases); i++) {
        struct sg_conf_errs errs = {.file = "test.yaml"};
        void *p = NULL;
        const char *kv[] = {"type", "saml", "sts_certs_file", cases[i].file, NULL};
        ck_assert_int_eq(run_conf(kv, &errs, &p), SG_ERR);
        ck_assert_ptr_null(p);
        ck_assert_uint_eq(errs.n, 1);
        ck_assert_msg(strstr(errs.msgs[0], "auth.providers[1].sts_certs_file") &&
                          strstr(errs.msgs[0], cases[i].want),
                      "case %zu: %s", i, errs.msgs[0]);
        sg_conf_errs_clear(&errs);
    }
    struct sg_conf_errs errs = {.file = "test.yaml"};
    void *p = NULL;
    const char *missing[] = {"type", "saml", NULL};
    ck_assert_int_eq(run_conf(missing, &errs, &p), SG_ERR);
    ck_assert(strstr(errs.msgs[0], "sts_certs_file: required key is missing"));
    sg_conf_errs_clear(&errs);
    const char *ctl_audience[] = {"type", "saml", "sts_certs_file", certs_path, "audience",
                                  "a\nb", NULL};
    ck_assert_int_eq(run_conf(ctl_audience, &errs, &p), SG_ERR);
    ck_assert(strstr(errs.msgs[0], "audience"));
    sg_conf_errs_clear(&errs);
    const char *ok[] = {"type", "saml", "sts_certs_file", certs_path, NULL};
    ck_assert_int_eq(run_conf(ok, &errs, &p), SG_OK);
    ck_assert_uint_eq(errs.n, 0);
    sg_module_auth_saml.free_conf(p);
    /* The largest file allowed loads. */
    char *at_max = certs_padded(SG_SAML_CERTS_FILE_MAX);
    struct sg_saml_certs *c = NULL;
    char err[256] = "";
    ck_assert_msg(sg_saml_certs_load(at_max, &c, err, sizeof(err)) == SG_OK, "%s", err);
    ck_assert_uint_eq(sg_saml_certs_count(c), 1);
    sg_saml_certs_free(c);
    for (char **f = (char *[]){key_only, garbage, cert_then_key, bad_b64, bad_key, nul, too_large,
                               at_max, encrypted, NULL};
         *f; f++) {
        unlink(*f);
        free(*f);
    }
}
END_TEST

static Suite *saml_suite(void)
{
    Suite *s = suite_create("auth_saml");
    TCase *tc = tcase_create("provider");
    tcase_add_checked_fixture(tc, setup, provider_down);
    tcase_add_test(tc, test_valid_quoted_gives_principal_and_groups);
    tcase_add_test(tc, test_valid_unquoted_and_any_scheme_case);
    tcase_add_test(tc, test_other_algorithms_and_second_certificate);
    tcase_add_test(tc, test_skew_tolerated);
    tcase_add_test(tc, test_altered_after_signing_denied);
    tcase_add_test(tc, test_signed_by_another_certificate_denied);
    tcase_add_test(tc, test_unknown_key_in_keyinfo_denied);
    tcase_add_test(tc, test_a_naive_verifier_would_trust_the_token_key);
    tcase_add_test(tc, test_unsigned_denied);
    tcase_add_test(tc, test_weak_or_unexpected_algorithms_denied);
    tcase_add_test(tc, test_signature_over_another_element_denied);
    tcase_add_test(tc, test_reference_to_a_part_of_the_assertion_denied);
    tcase_add_test(tc, test_expired_and_not_yet_valid_denied);
    tcase_add_test(tc, test_holder_of_key_confirmation_denied);
    tcase_add_test(tc, test_bad_name_ids_denied);
    tcase_add_test(tc, test_audience_ignored_when_not_configured);
    tcase_add_loop_test(tc, test_other_schemes_declined, 0, SG_ARRAY_LEN(declined));
    tcase_add_loop_test(tc, test_malformed_headers_denied, 0, SG_ARRAY_LEN(malformed));
    tcase_add_test(tc, test_holder_of_key_header_denied_even_with_a_valid_token);
    tcase_add_test(tc, test_not_gzip_denied);
    tcase_add_test(tc, test_gzip_bomb_fails_fast);
    tcase_add_test(tc, test_dtd_and_entities_denied);
    tcase_add_test(tc, test_not_an_assertion_denied);
    tcase_add_test(tc, test_cache_hit_until_forget);
    tcase_add_test(tc, test_cache_never_outlives_the_token);
    tcase_add_test(tc, test_cache_ttl_is_60s_for_long_tokens);
    suite_add_tcase(s, tc);

    TCase *tr = tcase_create("raw assertions");
    tcase_add_checked_fixture(tr, setup, provider_down);
    tcase_add_test(tr, test_raw_bearer_accepted);
    tcase_add_test(tr, test_raw_bearer_altered_or_foreign_denied);
    tcase_add_test(tr, test_raw_bearer_bounds);
    tcase_add_test(tr, test_raw_confirmation_kinds_do_not_mix);
    tcase_add_test(tr, test_hok_accepted);
    tcase_add_test(tr, test_hok_altered_proof_denied);
    tcase_add_test(tr, test_hok_timestamp_window);
    tcase_add_test(tr, test_hok_certificate_shapes_denied);
    tcase_add_test(tr, test_hok_cache_still_checks_every_proof);
    tcase_add_test(tr, test_hok_cache_never_outlives_the_assertion);
    tcase_add_test(tr, test_raw_and_header_caches_apart);
    suite_add_tcase(s, tr);

    TCase *ta = tcase_create("audience");
    tcase_add_checked_fixture(ta, setup_audience, provider_down);
    tcase_add_test(ta, test_audience_checked_when_configured);
    tcase_add_test(ta, test_hok_audience_checked_when_configured);
    suite_add_tcase(s, ta);

    TCase *tp = tcase_create("pieces");
    tcase_add_loop_test(tp, test_parse_time, 0, SG_ARRAY_LEN(times));
    tcase_add_test(tp, test_header_parse_finds_the_token);
    tcase_add_test(tp, test_hok_cert_key_pieces);
    tcase_add_test(tp, test_proof_time_pieces);
    tcase_add_test(tp, test_hok_cache_lru);
    tcase_add_test(tp, test_conf_errors);
    suite_add_tcase(s, tp);
    return s;
}

int main(void)
{
    if (getenv("SG_TEST_DEBUG"))
        sg_log_setup(SG_LOG_DEBUG, SG_LOG_TEXT);
    sg_saml_global_init();
    make_signers();
    SRunner *sr = srunner_create(saml_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    unlink(certs_path);
    free(certs_path);
    for (size_t i = 0; i < NSIGNERS; i++) {
        free(signers[i].key_pem);
        free(signers[i].cert_pem);
    }
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
