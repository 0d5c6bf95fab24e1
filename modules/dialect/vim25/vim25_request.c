/* Requests to a SOAP vim25 backend: Login on the SessionManager, the
 * RetrievePropertiesEx of Task.info, and the vmware_soap_session cookie that
 * carries the session from the first to the second. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "vim25.h"

/* Session ids are opaque; bound them so a hostile backend cannot make us
 * carry (and send back) something absurd. */
#define VIM25_SESSION_MAX 4096

#define ENVELOPE_HEAD                                                                              \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"                                                   \
    "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "               \
    "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "                                              \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>"
#define ENVELOPE_TAIL "</soapenv:Body></soapenv:Envelope>"

/* s escaped for XML character data and attribute values; NULL when s holds a
 * control character XML 1.0 cannot carry. Caller frees (and cleanses when s
 * was a secret). */
static char *xml_escape(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            return NULL;
        n += *p == '&' || *p == '<' || *p == '>' || *p == '"' || *p == '\'' || *p == '\r' ? 6 : 1;
    }
    char *out = sg_xmalloc(n + 1), *o = out;
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        case '\r':
            /* A literal CR would be folded into LF by the receiving parser. */
            rep = "&#13;";
            break;
        default:
            *o++ = *p;
            continue;
        }
        size_t len = strlen(rep);
        memcpy(o, rep, len);
        o += len;
    }
    *o = '\0';
    return out;
}

static void soap_request(struct sg_http_req *out, char *body)
{
    out->method = "POST";
    out->path = sg_xstrdup("/sdk");
    out->body = body;
    out->body_len = strlen(body);
    sg_http_req_add_header(out, "Content-Type", "text/xml; charset=utf-8");
    sg_http_req_add_header(out, "SOAPAction", SG_VIM25_SOAP_ACTION);
}

int sg_vim25_build_task(void *priv, const struct sg_conf_backend *b, const char *task_id,
                        struct sg_http_req *out)
{
    (void)priv;
    (void)b;
    char *id = task_id && *task_id ? xml_escape(task_id) : NULL;
    if (!id)
        return SG_ERR;
    soap_request(out, sg_xasprintf(ENVELOPE_HEAD
                                   "<RetrievePropertiesEx xmlns=\"urn:vim25\">"
                                   "<_this type=\"PropertyCollector\">%s</_this>"
                                   "<specSet><propSet><type>Task</type><pathSet>info</pathSet>"
                                   "</propSet><objectSet><obj type=\"Task\">%s</obj></objectSet>"
                                   "</specSet><options/></RetrievePropertiesEx>" ENVELOPE_TAIL,
                                   SG_VIM25_PROPERTY_COLLECTOR, id));
    free(id);
    return SG_OK;
}

int sg_vim25_build_login(void *priv, const struct sg_conf_backend *b, struct sg_http_req *out)
{
    (void)priv;
    if (!b || !b->username || !b->password)
        return SG_ERR;
    int rc = SG_ERR;
    char *user = xml_escape(b->username);
    char *pass = xml_escape(b->password);
    if (!user || !pass)
        goto fail;
    soap_request(out, sg_xasprintf(ENVELOPE_HEAD "<Login xmlns=\"urn:vim25\">"
                                                 "<_this type=\"SessionManager\">%s</_this>"
                                                 "<userName>%s</userName><password>%s</password>"
                                                 "</Login>" ENVELOPE_TAIL,
                                   SG_VIM25_SESSION_MANAGER, user, pass));
    rc = SG_OK;
fail:
    /* The credentials must not linger in freed heap memory. */
    sg_wipe_free(user);
    sg_wipe_free(pass);
    return rc;
}

/* The vmware_soap_session value of a Set-Cookie header: malloc'd, or NULL when
 * the header sets another cookie or the value could not go back in a Cookie
 * header as it is. */
static char *cookie_value(const char *set_cookie)
{
    static const char name[] = SG_VIM25_COOKIE "=";
    const char *p = set_cookie + strspn(set_cookie, " \t");
    if (strncmp(p, name, sizeof name - 1) != 0)
        return NULL;
    p += sizeof name - 1;
    size_t n = strcspn(p, ";");
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0 || n > VIM25_SESSION_MAX)
        return NULL;
    /* RFC 6265 cookie-octets, plus the DQUOTEs of a quoted value. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x21 || c > 0x7e || c == ',' || c == '\\')
            return NULL;
    }
    return sg_xstrndup(p, n);
}

/* The fault type of a SOAP fault answer, malloc'd or NULL. */
static char *answer_fault(const char *body, size_t len)
{
    char why[80];
    char *type = NULL;
    xmlDoc *doc = sg_vim25_parse(body, len, why, sizeof why);
    if (!doc)
        return NULL;
    xmlNode *first = sg_vim25_body_child(doc);
    if (first && strcmp((const char *)first->name, "Fault") == 0)
        type = sg_vim25_fault_type(first);
    xmlFreeDoc(doc);
    return type;
}

int sg_vim25_parse_login(void *priv, int http_status, sg_header_lookup hdr, void *hdr_ctx,
                         const char *body, size_t len, char **session, char *reason,
                         size_t reason_cap)
{
    (void)priv;
    /* Reasons never quote the body or the cookie: they carry the session on
     * success and may echo credentials on failure. */
    if (http_status == 200) {
        const char *sc = hdr ? hdr(hdr_ctx, "Set-Cookie") : NULL;
        char *v = sc ? cookie_value(sc) : NULL;
        if (!v) {
            snprintf(reason, reason_cap, "login answer sets no usable %s cookie", SG_VIM25_COOKIE);
            return SG_ERR;
        }
        *session = v;
        return SG_OK;
    }
    if (http_status == 401 || http_status == 403) {
        snprintf(reason, reason_cap, "login rejected by the backend (HTTP %d)", http_status);
        return SG_DENIED;
    }
    char *type = answer_fault(body, len);
    int rc = SG_ERR;
    if (type && (!strcmp(type, "InvalidLogin") || !strcmp(type, "NotAuthenticated") ||
                 !strcmp(type, "NoPermission"))) {
        snprintf(reason, reason_cap, "login rejected by the backend (HTTP %d %s)", http_status,
                 type);
        rc = SG_DENIED;
    } else if (type) {
        snprintf(reason, reason_cap, "login answered HTTP %d fault %.60s", http_status, type);
    } else {
        snprintf(reason, reason_cap, "login answered HTTP %d", http_status);
    }
    free(type);
    return rc;
}

void sg_vim25_apply_session(void *priv, const char *session, struct sg_http_req *req)
{
    (void)priv;
    char *cookie = sg_xasprintf(SG_VIM25_COOKIE "=%s", session);
    sg_http_req_add_header(req, "Cookie", cookie);
    sg_wipe_free(cookie);
}
