/* The assertion: from decoded bytes to a principal. Order of work: parse and
 * shape (cheap), validity window, audience and subject (cheap, and all read
 * only from the assertion's own direct children), then the signature (the
 * expensive part); nothing read is used unless the signature covers the
 * whole assertion it was read from. One code path for both kinds of subject
 * confirmation: bearer (sg_saml_verify) and holder-of-key (sg_saml_verify_hok,
 * which also hands out the confirmation key); only subject_ok tells them apart. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/valid.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "saml_hok.h"
#include "saml_xml.h"
#include "snapgate/common.h"

#define CM_BEARER "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#define CM_HOK "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
/* vCenter SSO names its group attribute by this URI with FriendlyName "Groups". */
#define ATTR_GROUP_IDENTITY "http://rsa.com/schemas/attr-names/2009/01/GroupIdentity"
#define ID_MAX 256

/* ---- xs:dateTime ---------------------------------------------------------------- */

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

int sg_saml_parse_time(const char *s, uint64_t *out_ms)
{
    int y, mo, d, h, mi, sec, ms = 0;
    if (!s || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':')
        return SG_ERR;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
        return SG_ERR;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        sec > 59)
        return SG_ERR;
    const char *p = s + 19;
    if (*p == '.') {
        size_t n = 0;
        p++;
        while (p[n] >= '0' && p[n] <= '9') {
            if (n < 3)
                ms = ms * 10 + (p[n] - '0');
            n++;
        }
        if (n == 0 || n > 9)
            return SG_ERR;
        for (size_t k = n; k < 3; k++)
            ms *= 10;
        p += n;
    }
    /* SAML times are UTC (SAML core 1.3.3); "+00:00" is the same instant. */
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0 && strcmp(p, "-00:00") != 0)
        return SG_ERR;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    if (t < 0)
        return SG_ERR;
    *out_ms = (uint64_t)t * 1000u + (uint64_t)ms;
    return SG_OK;
}

/* ---- small readers ---------------------------------------------------------------- */

/* An attribute parsed as a time; SG_OK, SG_DECLINED when absent, SG_ERR when bad. */
static int time_attr(const xmlNode *n, const char *name, uint64_t *out)
{
    xmlChar *v = xmlGetNoNsProp(n, BAD_CAST name);
    if (!v)
        return SG_DECLINED;
    int rc = sg_saml_parse_time((const char *)v, out);
    xmlFree(v);
    return rc;
}

static bool attr_is(const xmlNode *n, const char *name, const char *want)
{
    xmlChar *v = xmlGetNoNsProp(n, BAD_CAST name);
    bool ok = v && strcmp((const char *)v, want) == 0;
    xmlFree(v);
    return ok;
}

/* A name fit for a principal or group: 1..255 bytes, no control characters
 * (libxml2 has already checked the UTF-8). */
static bool printable(const xmlChar *s)
{
    size_t n = s ? strlen((const char *)s) : 0;
    if (n == 0 || n >= SG_PRINCIPAL_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* xs:ID is an NCName; we take its ASCII subset. It matters beyond tidiness:
 * xmlsec turns "#ID" into the XPointer xpointer(id('ID')), so a quote or
 * bracket in an ID could rewrite the expression and point the reference at
 * another node set. */
static bool id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > ID_MAX)
        return false;
    if (!((id[0] >= 'A' && id[0] <= 'Z') || (id[0] >= 'a' && id[0] <= 'z') || id[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = id[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* ---- the parts ---------------------------------------------------------------------- */

struct facts {
    char *id;
    uint64_t expires; /* the earliest end among the windows seen, plus the skew */
    xmlChar *name;
    char **groups;
    size_t ngroups;
    bool hok;                /* the confirmation wanted: holder-of-key, else bearer */
    const xmlNode *hok_data; /* holder-of-key: its SubjectConfirmationData */
    EVP_PKEY *key;           /* holder-of-key: the confirmation key */
};

static void facts_clear(struct facts *f)
{
    free(f->id);
    xmlFree(f->name);
    for (size_t i = 0; i < f->ngroups; i++)
        free(f->groups[i]);
    free(f->groups);
    EVP_PKEY_free(f->key);
    memset(f, 0, sizeof(*f));
}

/* The ID attribute, checked and registered as an ID so "#ID" finds this
 * element and only it. */
static int register_id(xmlDoc *doc, xmlNode *assertion, struct facts *f, sg_saml_reason *why)
{
    xmlAttr *attr = xmlHasNsProp(assertion, BAD_CAST "ID", NULL);
    xmlChar *v = attr ? xmlNodeListGetString(doc, attr->children, 1) : NULL;
    int rc = SG_DENIED;
    if (!v || !id_ok((const char *)v)) {
        *why = "the assertion has no usable ID";
        goto fail;
    }
    /* Fails when the value is already an ID (an xml:id elsewhere). */
    if (!xmlAddID(NULL, doc, v, attr)) {
        *why = "the assertion's ID is not unique";
        goto fail;
    }
    xmlAttr *found = xmlGetID(doc, v);
    if (!found || found->parent != assertion) {
        *why = "the assertion's ID is not unique";
        goto fail;
    }
    f->id = sg_xstrdup((const char *)v);
    rc = SG_OK;

fail:
    xmlFree(v);
    return rc;
}

/* The window [start - skew, end + skew) must hold now; end is remembered. */
static int window_ok(const xmlNode *n, bool required, uint64_t now, struct facts *f,
                     sg_saml_reason *why)
{
    uint64_t start = 0, end = 0;
    int rs = time_attr(n, "NotBefore", &start);
    int re = time_attr(n, "NotOnOrAfter", &end);
    if (rs == SG_ERR || re == SG_ERR || (required && (rs != SG_OK || re != SG_OK))) {
        *why = "a validity window is missing or not a UTC time";
        return SG_DENIED;
    }
    if (rs == SG_OK && re == SG_OK && start >= end) {
        *why = "a validity window ends before it starts";
        return SG_DENIED;
    }
    if (rs == SG_OK && now + SG_SAML_SKEW_MS < start) {
        *why = "the assertion is not valid yet";
        return SG_DENIED;
    }
    if (re == SG_OK) {
        if (now >= end + SG_SAML_SKEW_MS) {
            *why = "the assertion has expired";
            return SG_DENIED;
        }
        if (end + SG_SAML_SKEW_MS < f->expires)
            f->expires = end + SG_SAML_SKEW_MS;
    }
    return SG_OK;
}

/* Every AudienceRestriction must name the audience (SAML core 2.5.1.4). */
static int audience_ok(const xmlNode *conditions, const char *audience, sg_saml_reason *why)
{
    size_t restrictions = 0;
    bool all = true;
    for (xmlNode *r = conditions->children; r; r = r->next) {
        if (!sg_saml_xml_is(r, SG_SAML_NS, "AudienceRestriction"))
            continue;
        restrictions++;
        bool found = false;
        for (xmlNode *a = r->children; a && !found; a = a->next) {
            if (!sg_saml_xml_is(a, SG_SAML_NS, "Audience"))
                continue;
            xmlChar *v = sg_saml_xml_text(a);
            found = v && strcmp((const char *)v, audience) == 0;
            xmlFree(v);
        }
        all = all && found;
    }
    if (restrictions == 0 || !all) {
        *why = "the assertion is not for this audience";
        return SG_DENIED;
    }
    return SG_OK;
}

static int conditions_ok(const xmlNode *assertion, const char *audience, uint64_t now,
                         struct facts *f, sg_saml_reason *why)
{
    size_t n = 0;
    xmlNode *c = sg_saml_xml_child(assertion, SG_SAML_NS, "Conditions", &n);
    if (n != 1) {
        *why = "the assertion needs exactly one Conditions";
        return SG_DENIED;
    }
    if (window_ok(c, true, now, f, why) != SG_OK)
        return SG_DENIED;
    return audience ? audience_ok(c, audience, why) : SG_OK;
}

/* Holder-of-key: the one SubjectConfirmationData names the key in exactly
 * one KeyInfo/X509Data/X509Certificate (other KeyInfo content is ignored:
 * the STS signed it, and it names no key we would use). Read only once the
 * signature has verified: no certificate parser sees unsigned input. */
static int hok_key(const xmlNode *data, struct facts *f, sg_saml_reason *why)
{
    size_t nki = 0, nxd = 0, nxc = 0;
    xmlNode *ki = sg_saml_xml_child(data, SG_SAML_NS_DSIG, "KeyInfo", &nki);
    xmlNode *xd = nki == 1 ? sg_saml_xml_child(ki, SG_SAML_NS_DSIG, "X509Data", &nxd) : NULL;
    xmlNode *xc = nxd == 1 ? sg_saml_xml_child(xd, SG_SAML_NS_DSIG, "X509Certificate", &nxc) : NULL;
    if (nki != 1 || nxd != 1 || nxc != 1) {
        *why = "the holder-of-key confirmation needs exactly one KeyInfo/X509Data/X509Certificate";
        return SG_DENIED;
    }
    xmlChar *b64 = sg_saml_xml_text(xc);
    int rc =
        sg_saml_hok_cert_key((const char *)b64, b64 ? strlen((const char *)b64) : 0, &f->key, why);
    xmlFree(b64);
    return rc;
}

/* Every SubjectConfirmation has the method asked for, so a holder-of-key
 * assertion presented without its proof of possession never passes as a
 * bearer one, nor a bearer one as holder-of-key. Holder-of-key also wants
 * exactly one confirmation (one key to check the proof with) with its data. */
static int subject_ok(const xmlNode *assertion, uint64_t now, struct facts *f, sg_saml_reason *why)
{
    size_t n = 0, nid = 0, nconf = 0, nd = 0;
    xmlNode *subject = sg_saml_xml_child(assertion, SG_SAML_NS, "Subject", &n);
    xmlNode *name = subject ? sg_saml_xml_child(subject, SG_SAML_NS, "NameID", &nid) : NULL;
    xmlNode *data = NULL;
    if (n != 1 || nid != 1) {
        *why = "the assertion needs exactly one Subject with one NameID";
        return SG_DENIED;
    }
    for (xmlNode *c = subject->children; c; c = c->next) {
        if (!sg_saml_xml_is(c, SG_SAML_NS, "SubjectConfirmation"))
            continue;
        nconf++;
        if (!attr_is(c, "Method", f->hok ? CM_HOK : CM_BEARER)) {
            *why = f->hok ? "the subject confirmation is not holder-of-key"
                          : "the subject confirmation is not bearer";
            return SG_DENIED;
        }
        data = sg_saml_xml_child(c, SG_SAML_NS, "SubjectConfirmationData", &nd);
        if (nd > 1 || (data && window_ok(data, false, now, f, why) != SG_OK)) {
            if (nd > 1)
                *why = "a subject confirmation has more than one SubjectConfirmationData";
            return SG_DENIED;
        }
    }
    if (nconf == 0) {
        *why = f->hok ? "the subject has no holder-of-key confirmation"
                      : "the subject has no bearer confirmation";
        return SG_DENIED;
    }
    if (f->hok && (nconf != 1 || !data)) {
        *why = "the subject needs exactly one holder-of-key confirmation with its data";
        return SG_DENIED;
    }
    f->hok_data = data;
    f->name = sg_saml_xml_text(name);
    if (!printable(f->name)) {
        *why = "the NameID is empty, too long or not printable";
        return SG_DENIED;
    }
    return SG_OK;
}

static bool is_groups_attribute(const xmlNode *a)
{
    return attr_is(a, "Name", "Groups") || attr_is(a, "FriendlyName", "Groups") ||
           attr_is(a, "Name", ATTR_GROUP_IDENTITY);
}

/* Groups are optional and only ever narrow nothing: an unusable value is
 * skipped, past SG_SAML_GROUPS_MAX the rest are ignored. */
static void collect_groups(const xmlNode *assertion, struct facts *f)
{
    for (xmlNode *st = assertion->children; st; st = st->next) {
        if (!sg_saml_xml_is(st, SG_SAML_NS, "AttributeStatement"))
            continue;
        for (xmlNode *a = st->children; a; a = a->next) {
            if (!sg_saml_xml_is(a, SG_SAML_NS, "Attribute") || !is_groups_attribute(a))
                continue;
            for (xmlNode *v = a->children; v; v = v->next) {
                if (!sg_saml_xml_is(v, SG_SAML_NS, "AttributeValue"))
                    continue;
                if (f->ngroups == SG_SAML_GROUPS_MAX)
                    return;
                xmlChar *g = sg_saml_xml_text(v);
                if (printable(g)) {
                    if (!f->groups)
                        f->groups = sg_xcalloc(SG_SAML_GROUPS_MAX, sizeof(*f->groups));
                    f->groups[f->ngroups++] = sg_xstrdup((const char *)g);
                }
                xmlFree(g);
            }
        }
    }
}

/* Both kinds: key NULL for bearer; holder-of-key hands out the key in *key. */
static int verify(const struct sg_saml_keys *keys, const char *audience, uint64_t now_ms,
                  const unsigned char *xml, size_t len, struct sg_principal *out,
                  uint64_t *expires_ms, EVP_PKEY **key, sg_saml_reason *why)
{
    struct sg_saml_quiet quiet;
    struct facts f = {.expires = UINT64_MAX, .hok = key != NULL};
    int rc = SG_DENIED;
    xmlDoc *doc = NULL;

    *why = "denied";
    sg_saml_quiet_begin(&quiet);
    doc = sg_saml_xml_parse(xml, len);
    if (!doc) {
        *why = "the token is not well-formed XML without a DTD";
        goto fail;
    }
    xmlNode *assertion = xmlDocGetRootElement(doc);
    if (!sg_saml_xml_is(assertion, SG_SAML_NS, "Assertion") ||
        !attr_is(assertion, "Version", "2.0")) {
        *why = "the document is not a SAML 2.0 Assertion";
        goto fail;
    }
    if (register_id(doc, assertion, &f, why) != SG_OK ||
        conditions_ok(assertion, audience, now_ms, &f, why) != SG_OK ||
        subject_ok(assertion, now_ms, &f, why) != SG_OK ||
        sg_saml_sig_verify(assertion, f.id, keys, why) != SG_OK ||
        (f.hok && hok_key(f.hok_data, &f, why) != SG_OK))
        goto fail;
    collect_groups(assertion, &f);

    snprintf(out->name, sizeof(out->name), "%s", (const char *)f.name);
    out->groups = f.groups;
    out->ngroups = f.ngroups;
    f.groups = NULL;
    f.ngroups = 0;
    *expires_ms = f.expires;
    if (key) {
        *key = f.key;
        f.key = NULL;
    }
    rc = SG_OK;

fail:
    xmlFreeDoc(doc);
    sg_saml_quiet_end(&quiet);
    facts_clear(&f);
    /* xmlsec leaves OpenSSL's per-thread error queue holding the failures
     * of every key that did not verify (on success too, when a later key
     * did): the next OpenSSL user on this loop thread, TLS included, must not
     * read them as its own. */
    ERR_clear_error();
    return rc;
}

int sg_saml_verify(const struct sg_saml_keys *keys, const char *audience, uint64_t now_ms,
                   const unsigned char *xml, size_t len, struct sg_principal *out,
                   uint64_t *expires_ms, sg_saml_reason *why)
{
    return verify(keys, audience, now_ms, xml, len, out, expires_ms, NULL, why);
}

int sg_saml_verify_hok(const struct sg_saml_keys *keys, const char *audience, uint64_t now_ms,
                       const unsigned char *xml, size_t len, struct sg_principal *out,
                       uint64_t *expires_ms, EVP_PKEY **key, sg_saml_reason *why)
{
    *key = NULL;
    return verify(keys, audience, now_ms, xml, len, out, expires_ms, key, why);
}
