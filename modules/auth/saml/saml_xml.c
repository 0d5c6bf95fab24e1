/* libxml2 and xmlsec for the saml provider: the one-time process setup, a
 * parse that can neither reach the network nor expand entities, and small DOM
 * helpers. Nothing here may write token content anywhere, so both libraries'
 * error output is silenced: xmlsec's process-wide (its callback is global),
 * libxml2's per call (its handlers are per thread). */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/xmlsec.h>

#include "saml_xml.h"
#include "snapgate/common.h"
#include "snapgate/log.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

/* xmlsec's messages name nodes, URIs and attribute values of the token. */
static void on_xmlsec_error(const char *file, int line, const char *func, const char *obj,
                            const char *subj, int reason, const char *msg)
{
    (void)file;
    (void)line;
    (void)func;
    (void)obj;
    (void)subj;
    (void)reason;
    (void)msg;
}

static void on_global_init(void)
{
    xmlInitParser();
    /* xmlsec.c's documented order: the core, then the crypto backend's app
     * layer, then the backend. The OpenSSL backend is linked in directly. */
    if (xmlSecInit() < 0 || xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(NULL) < 0 ||
        xmlSecCryptoInit() < 0) {
        sg_log_error("auth.saml", "xmlsec (OpenSSL backend) failed to initialize");
        abort();
    }
    xmlSecErrorsSetCallback(on_xmlsec_error);
}

void sg_saml_global_init(void)
{
    pthread_once(&global_once, on_global_init);
}

static void on_generic_quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static void on_structured_quiet(void *ctx, xmlErrorPtr err)
{
    (void)ctx;
    (void)err;
}

void sg_saml_quiet_begin(struct sg_saml_quiet *q)
{
    q->generic = xmlGenericError;
    q->generic_ctx = xmlGenericErrorContext;
    q->structured = xmlStructuredError;
    q->structured_ctx = xmlStructuredErrorContext;
    xmlSetGenericErrorFunc(NULL, on_generic_quiet);
    xmlSetStructuredErrorFunc(NULL, on_structured_quiet);
}

void sg_saml_quiet_end(const struct sg_saml_quiet *q)
{
    xmlSetGenericErrorFunc(q->generic_ctx, q->generic);
    xmlSetStructuredErrorFunc(q->structured_ctx, q->structured);
}

xmlDoc *sg_saml_xml_parse(const unsigned char *xml, size_t len)
{
    if (len == 0 || len > SG_SAML_XML_MAX || len > INT_MAX)
        return NULL;
    /* An assertion has no use for a DTD, and an internal subset is where
     * entity bombs live: refuse it before the parser sees it. The parse is
     * forced to UTF-8 below, so no other encoding can hide the keyword. */
    if (memmem(xml, len, "<!DOCTYPE", 9))
        return NULL;
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return NULL;
    /* No XML_PARSE_NOENT (entity substitution), DTDLOAD, DTDATTR, XINCLUDE or
     * HUGE (which would lift the depth and size limits); no NOBLANKS either:
     * whitespace is part of what was signed. */
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, (const char *)xml, (int)len, NULL, "UTF-8",
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                        XML_PARSE_IGNORE_ENC);
    bool ok = doc && ctxt->wellFormed && !doc->intSubset && !doc->extSubset;
    xmlFreeParserCtxt(ctxt);
    if (!ok) {
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

bool sg_saml_xml_is(const xmlNode *n, const char *ns, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

xmlNode *sg_saml_xml_child(const xmlNode *parent, const char *ns, const char *name, size_t *count)
{
    xmlNode *first = NULL;
    size_t n = 0;
    for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next) {
        if (sg_saml_xml_is(c, ns, name)) {
            if (!first)
                first = c;
            n++;
        }
    }
    if (count)
        *count = n;
    return first;
}

size_t sg_saml_xml_nchildren(const xmlNode *parent)
{
    size_t n = 0;
    for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
        n += c->type == XML_ELEMENT_NODE;
    return n;
}

xmlChar *sg_saml_xml_text(const xmlNode *n)
{
    if (!n)
        return NULL;
    /* Only text: a comment inside a signed value is dropped by exclusive
     * c14n, and readers that stop at it see a different value than was signed. */
    for (xmlNode *c = n->children; c; c = c->next)
        if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
            return NULL;
    return xmlNodeGetContent(n);
}
