/* The saml module's libxml2/xmlsec side: shared by its files and its unit
 * test, kept out of saml.h so that the rest sees no third-party types. */
#ifndef SG_AUTH_SAML_XML_H
#define SG_AUTH_SAML_XML_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>
#include <xmlsec/keys.h>

#include "saml.h"

#define SG_SAML_NS "urn:oasis:names:tc:SAML:2.0:assertion"
#define SG_SAML_NS_DSIG "http://www.w3.org/2000/09/xmldsig#"

/* Whether n is an element named name in namespace ns. */
bool sg_saml_xml_is(const xmlNode *n, const char *ns, const char *name);
/* The first element child of parent named ns:name (NULL when none); *count
 * (when non-NULL) gets how many such children there are. */
xmlNode *sg_saml_xml_child(const xmlNode *parent, const char *ns, const char *name, size_t *count);
/* The element children of parent, counted. */
size_t sg_saml_xml_nchildren(const xmlNode *parent);
/* The text of an element that holds only text (no child elements): a new
 * string the caller frees with xmlFree, or NULL. */
xmlChar *sg_saml_xml_text(const xmlNode *n);

/* Parses xml (len bytes) without network access, DTDs or entity expansion,
 * and without writing errors anywhere. A document with a DOCTYPE is refused
 * before parsing. Returns the document (free with xmlFreeDoc) or NULL. */
xmlDoc *sg_saml_xml_parse(const unsigned char *xml, size_t len);

/* Runs on every parse and verification: libxml2's error handlers are
 * per-thread, so each call silences its own thread and restores it after. */
struct sg_saml_quiet {
    void *generic_ctx;
    xmlGenericErrorFunc generic;
    void *structured_ctx;
    xmlStructuredErrorFunc structured;
};
void sg_saml_quiet_begin(struct sg_saml_quiet *q);
void sg_saml_quiet_end(const struct sg_saml_quiet *q);

/* The worker's keys (saml_certs.c). */
size_t sg_saml_keys_count(const struct sg_saml_keys *k);
xmlSecKeyPtr sg_saml_keys_get(const struct sg_saml_keys *k, size_t i);

/* The signature of assertion (the document element, its ID already checked
 * and registered): see sg_saml_verify. SG_OK or SG_DENIED with *why. */
int sg_saml_sig_verify(xmlNode *assertion, const char *id, const struct sg_saml_keys *keys,
                       sg_saml_reason *why);

#endif
