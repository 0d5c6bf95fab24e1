/* Requests to a cis backend: the task GET, the session login, and presenting
 * the session on later requests. */
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cis.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/info.h"

/* Session ids are opaque; bound them so a hostile backend cannot make us
 * carry (and send back) something absurd. */
#define CIS_SESSION_MAX 4096

int sg_cis_build_task(void *priv, const struct sg_conf_backend *b, const char *task_id,
                      struct sg_http_req *out)
{
    (void)priv;
    (void)b;
    /* "." and ".." would be dot-segments the server resolves against the path. */
    if (!task_id || !*task_id || strcmp(task_id, ".") == 0 || strcmp(task_id, "..") == 0)
        return SG_ERR;
    char *seg = sg_http_path_segment_encode(task_id);
    out->method = "GET";
    out->path = sg_xasprintf("/api/cis/tasks/%s", seg);
    free(seg);
    sg_http_req_add_header(out, "Accept", "application/json");
    return SG_OK;
}

int sg_cis_build_login(void *priv, const struct sg_conf_backend *b, struct sg_http_req *out)
{
    (void)priv;
    /* Without a service account there is nothing to log in with; a ':' in the
     * user name cannot be expressed in Basic (RFC 7617). */
    if (!b || !b->username || !b->password || strchr(b->username, ':'))
        return SG_ERR;
    char *plain = sg_xasprintf("%s:%s", b->username, b->password);
    size_t n = strlen(plain);
    char *b64 = sg_xmalloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain, (int)n);
    char *auth = sg_xasprintf("Basic %s", b64);
    out->method = "POST";
    out->path = sg_xstrdup("/api/session");
    sg_http_req_add_header(out, "Authorization", auth);
    sg_http_req_add_header(out, "Accept", "application/json");
    /* The credentials must not linger in freed heap memory. */
    OPENSSL_cleanse(plain, n);
    OPENSSL_cleanse(b64, strlen(b64));
    OPENSSL_cleanse(auth, strlen(auth));
    free(plain);
    free(b64);
    free(auth);
    return SG_OK;
}

/* Only visible ASCII: the id goes back verbatim into a request header. */
static int session_ok(const char *s, size_t len)
{
    if (len == 0 || len > CIS_SESSION_MAX || strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e)
            return 0;
    }
    return 1;
}

int sg_cis_parse_login(void *priv, int http_status, sg_header_lookup hdr, void *hdr_ctx,
                       const char *body, size_t len, char **session, char *reason,
                       size_t reason_cap)
{
    (void)priv;
    (void)hdr;
    (void)hdr_ctx;
    char why[120];
    int rc = SG_ERR;
    struct json_object *v = NULL;

    /* Reasons never quote the body: it carries the session id on success and
     * may echo credentials on failure. */
    if (http_status == 401 || http_status == 403) {
        snprintf(reason, reason_cap, "login rejected by the backend (HTTP %d)", http_status);
        return SG_DENIED;
    }
    if (http_status != 200 && http_status != 201) {
        snprintf(reason, reason_cap, "login answered HTTP %d", http_status);
        return SG_ERR;
    }
    v = sg_info_parse_json(body, len, why, sizeof why);
    if (!v) {
        snprintf(reason, reason_cap, "login answer: %s", why);
        goto fail;
    }
    if (!json_object_is_type(v, json_type_string)) {
        snprintf(reason, reason_cap, "login answer is not a JSON string");
        goto fail;
    }
    if (!session_ok(json_object_get_string(v), (size_t)json_object_get_string_len(v))) {
        snprintf(reason, reason_cap, "login answer is not a usable session id");
        goto fail;
    }
    *session = sg_xstrdup(json_object_get_string(v));
    rc = SG_OK;
fail:
    json_object_put(v);
    return rc;
}

void sg_cis_apply_session(void *priv, const char *session, struct sg_http_req *req)
{
    (void)priv;
    sg_http_req_add_header(req, "vmware-api-session-id", session);
}
