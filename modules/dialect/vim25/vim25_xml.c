/* libxml2 for SOAP answers: a parse that never reaches the network, loads no
 * DTD and expands no entity, and lookups that resolve xsi:type by namespace
 * URI, since simulators and vCenter versions each pick their own prefix. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "snapgate/common.h"
#include "vim25.h"

#define NS_SOAP_ENV "http://schemas.xmlsoap.org/soap/envelope/"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

/* libxml2's lazy global set-up is not thread-safe: do it once, up front. */
static void on_first_parse(void)
{
    xmlInitParser();
}

xmlDoc *sg_vim25_parse(const char *body, size_t len, char *reason, size_t cap)
{
    pthread_once(&xml_once, on_first_parse);
    if (!body || len == 0) {
        snprintf(reason, cap, "empty body");
        return NULL;
    }
    if (len > INT_MAX) {
        snprintf(reason, cap, "body too large");
        return NULL;
    }
    /* SOAP forbids a DTD; refusing one outright also rules out entity tricks. */
    if (memmem(body, len, "<!DOCTYPE", 9)) {
        snprintf(reason, cap, "body declares a DTD");
        return NULL;
    }
    xmlDoc *doc = xmlReadMemory(body, (int)len, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        snprintf(reason, cap, "body is not well-formed XML");
        return NULL;
    }
    if (doc->intSubset || doc->extSubset) {
        xmlFreeDoc(doc);
        snprintf(reason, cap, "body declares a DTD");
        return NULL;
    }
    return doc;
}

static int in_ns(const xmlNode *n, const char *uri)
{
    return n->ns && n->ns->href && strcmp((const char *)n->ns->href, uri) == 0;
}

xmlNode *sg_vim25_child(xmlNode *parent, const char *local)
{
    for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && (!local || strcmp((const char *)c->name, local) == 0))
            return c;
    }
    return NULL;
}

xmlNode *sg_vim25_body_child(xmlDoc *doc)
{
    xmlNode *env = xmlDocGetRootElement(doc);
    if (!env || strcmp((const char *)env->name, "Envelope") != 0 || !in_ns(env, NS_SOAP_ENV))
        return NULL;
    xmlNode *body = sg_vim25_child(env, "Body");
    if (!body || !in_ns(body, NS_SOAP_ENV))
        return NULL;
    return sg_vim25_child(body, NULL);
}

static char *local_part(const xmlChar *qname)
{
    const char *s = (const char *)qname;
    const char *colon = strrchr(s, ':');
    return sg_xstrdup(colon ? colon + 1 : s);
}

char *sg_vim25_xsi_type(xmlNode *n)
{
    xmlChar *v = xmlGetNsProp(n, (const xmlChar *)"type", (const xmlChar *)NS_XSI);
    if (!v)
        return NULL;
    char *type = local_part(v);
    xmlFree(v);
    if (!*type) {
        free(type);
        return NULL;
    }
    return type;
}

char *sg_vim25_fault_type(xmlNode *fault)
{
    xmlNode *detail = sg_vim25_child(fault, "detail");
    xmlNode *d = sg_vim25_child(detail, NULL);
    if (!d)
        return NULL;
    char *type = sg_vim25_xsi_type(d);
    if (type)
        return type;
    /* vim25 names the detail element <TypeFault>. */
    size_t n = strlen((const char *)d->name);
    if (n > 5 && strcmp((const char *)d->name + n - 5, "Fault") == 0)
        return sg_xstrndup((const char *)d->name, n - 5);
    return NULL;
}

char *sg_vim25_text(xmlNode *n)
{
    xmlChar *v = xmlNodeGetContent(n);
    char *s = sg_xstrdup(v ? (const char *)v : "");
    xmlFree(v);
    return s;
}
