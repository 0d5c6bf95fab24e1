/* The vim25 dialect (SOAP at POST /sdk): the operations the module table in
 * vim25_module.c points at, and the module's own XML helpers (libxml2). */
#ifndef SG_DIALECT_VIM25_H
#define SG_DIALECT_VIM25_H

#include <stddef.h>

#include <libxml/tree.h>

#include "snapgate/dialect.h"

/* The well-known MoRefs of a vCenter's ServiceContent: the same on every
 * vCenter (and in the simulator), so no RetrieveServiceContent round trip. */
#define SG_VIM25_SESSION_MANAGER "SessionManager"
#define SG_VIM25_PROPERTY_COLLECTOR "propertyCollector"
#define SG_VIM25_SOAP_ACTION "\"urn:vim25/8.0.3.0\""
#define SG_VIM25_COOKIE "vmware_soap_session"

/* RetrievePropertiesEx of Task.info for the MoRef value task_id (e.g.
 * "task-68"), XML-escaped. SG_ERR for an empty id or one holding control
 * characters XML cannot carry. */
int sg_vim25_build_task(void *priv, const struct sg_conf_backend *b, const char *task_id,
                        struct sg_http_req *out);
/* Login on SessionManager with the service account; SG_ERR without one or
 * when a credential holds characters XML cannot carry. */
int sg_vim25_build_login(void *priv, const struct sg_conf_backend *b, struct sg_http_req *out);
/* A 200's Set-Cookie vmware_soap_session value is the session (quotes kept,
 * as the cookie value is sent back verbatim). SG_DENIED for 401/403 or an
 * InvalidLogin / NotAuthenticated / NoPermission fault; SG_ERR otherwise. */
int sg_vim25_parse_login(void *priv, int http_status, sg_header_lookup hdr, void *hdr_ctx,
                         const char *body, size_t len, char **session, char *reason,
                         size_t reason_cap);
/* Adds "Cookie: vmware_soap_session=<session>". */
void sg_vim25_apply_session(void *priv, const char *session, struct sg_http_req *req);
/* 200: the TaskInfo in propSet/val through sg_taskinfo_to_info, or the
 * missingSet fault (NotAuthenticated: SG_OUT_UNAUTHENTICATED, so the client
 * logs in again); 500: the SOAP fault (ManagedObjectNotFound: NOT_FOUND). */
void sg_vim25_normalize(void *priv, const char *task_id, int http_status, const char *body,
                        size_t len, struct sg_normalized *out);

/* ---- XML helpers (vim25_xml.c) ---------------------------------------------- */

/* Parses body without network access, DTDs or entity expansion (a document
 * with a DOCTYPE is refused), without printing anything. Returns the document
 * (xmlFreeDoc) or NULL with reason. Safe from any worker thread. */
xmlDoc *sg_vim25_parse(const char *body, size_t len, char *reason, size_t cap);
/* The first element inside soapenv:Envelope/soapenv:Body (namespaces checked
 * by URI), or NULL when doc is not a SOAP envelope. Borrowed from doc. */
xmlNode *sg_vim25_body_child(xmlDoc *doc);
/* The first element child of parent with local name `local` (any namespace),
 * or NULL. local NULL: the first element child. */
xmlNode *sg_vim25_child(xmlNode *parent, const char *local);
/* The local part of n's xsi:type, the attribute found by the namespace URI
 * http://www.w3.org/2001/XMLSchema-instance whatever its prefix. malloc'd,
 * NULL when absent. */
char *sg_vim25_xsi_type(xmlNode *n);
/* The fault type of a soapenv:Fault element: detail's first element, by its
 * xsi:type, else by its name without the "Fault" suffix. malloc'd or NULL. */
char *sg_vim25_fault_type(xmlNode *fault);
/* n's text content, malloc'd ("" when empty). */
char *sg_vim25_text(xmlNode *n);

/* ---- TaskInfo XML to the VI/JSON shape (vim25_convert.c) -------------------- */

/* Converts the <val xsi:type="TaskInfo"> element to the json-c TaskInfo shape
 * include/snapgate/taskinfo.h takes: progress/eventChainId as integers, cancelable/
 * cancelled as booleans, MoRefs (an element with a plain `type` attribute) as
 * {"_typeName", "type", "value"}, xsd-typed any values boxed as {"_typeName",
 * "_value"}, ArrayOf* as boxed arrays, repeated elements as arrays. Returns a
 * new reference, or NULL with reason (never quoting values). */
struct json_object *sg_vim25_taskinfo_json(xmlNode *val, char *reason, size_t cap);

#endif
