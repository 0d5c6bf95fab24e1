/* Requests to a VI/JSON backend: the TaskInfo GET, the SessionManager login,
 * and the session header both directions use. */
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/common.h"
#include "snapgate/info.h"
#include "vijson.h"

#define SESSION_HEADER "vmware-api-session-id"
/* Session ids are opaque; bound them so a hostile backend cannot make us
 * carry (and send back) something absurd. */
#define VIJSON_SESSION_MAX 4096

static int segment_ok(const char *s)
{
    /* "." and ".." would be dot-segments the server resolves against the path. */
    return s && *s && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* "/sdk/vim25/{release}/" + rest; NULL without a usable release. */
static char *api_path(const struct sg_vijson_conf *vc, const char *rest)
{
    if (!vc || !segment_ok(vc->release))
        return NULL;
    char *rel = sg_http_path_segment_encode(vc->release);
    char *path = sg_xasprintf("/sdk/vim25/%s/%s", rel, rest);
    free(rel);
    return path;
}

int sg_vijson_build_task(void *priv, const struct sg_conf_backend *b, const char *task_id,
                         struct sg_http_req *out)
{
    (void)b;
    if (!segment_ok(task_id))
        return SG_ERR;
    char *seg = sg_http_path_segment_encode(task_id);
    char *rest = sg_xasprintf("Task/%s/info", seg);
    free(seg);
    out->path = api_path(priv, rest);
    free(rest);
    if (!out->path)
        return SG_ERR;
    out->method = "GET";
    sg_http_req_add_header(out, "Accept", "application/json");
    return SG_OK;
}

int sg_vijson_build_login(void *priv, const struct sg_conf_backend *b, struct sg_http_req *out)
{
    if (!b || !b->username || !b->password)
        return SG_ERR;
    char *path = api_path(priv, "SessionManager/SessionManager/Login");
    if (!path)
        return SG_ERR;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "userName", json_object_new_string(b->username));
    json_object_object_add(o, "password", json_object_new_string(b->password));
    size_t len;
    const char *text = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    out->method = "POST";
    out->path = path;
    out->body = sg_xstrndup(text, len);
    out->body_len = len;
    /* The credentials must not linger in freed heap memory: json-c keeps the
     * rendered text and the password string until the put. */
    OPENSSL_cleanse((char *)text, len);
    struct json_object *pw;
    json_object_object_get_ex(o, "password", &pw);
    OPENSSL_cleanse((char *)json_object_get_string(pw), (size_t)json_object_get_string_len(pw));
    json_object_put(o);
    sg_http_req_add_header(out, "Content-Type", "application/json");
    sg_http_req_add_header(out, "Accept", "application/json");
    return SG_OK;
}

/* Only visible ASCII: the id goes back verbatim into a request header. */
static int session_ok(const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len > VIJSON_SESSION_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e)
            return 0;
    }
    return 1;
}

/* The _typeName of a fault body, copied into type (empty when none). */
static void fault_type(const char *body, size_t len, char *type, size_t cap)
{
    char why[80];
    struct json_object *v = sg_info_parse_json(body, len, why, sizeof why), *t;
    type[0] = '\0';
    if (v && json_object_is_type(v, json_type_object) &&
        json_object_object_get_ex(v, "_typeName", &t) && json_object_is_type(t, json_type_string))
        snprintf(type, cap, "%s", json_object_get_string(t));
    json_object_put(v);
}

int sg_vijson_parse_login(void *priv, int http_status, sg_header_lookup hdr, void *hdr_ctx,
                          const char *body, size_t len, char **session, char *reason,
                          size_t reason_cap)
{
    (void)priv;
    char type[64];
    /* Reasons never quote the body or the header: they carry the session id
     * on success and may echo credentials on failure. */
    if (http_status == 200 || http_status == 201) {
        const char *id = hdr ? hdr(hdr_ctx, SESSION_HEADER) : NULL;
        if (!id) {
            snprintf(reason, reason_cap, "login answer has no %s header", SESSION_HEADER);
            return SG_ERR;
        }
        if (!session_ok(id)) {
            snprintf(reason, reason_cap, "login answer's %s is not a usable session id",
                     SESSION_HEADER);
            return SG_ERR;
        }
        *session = sg_xstrdup(id);
        return SG_OK;
    }
    if (http_status == 401 || http_status == 403) {
        snprintf(reason, reason_cap, "login rejected by the backend (HTTP %d)", http_status);
        return SG_DENIED;
    }
    fault_type(body, len, type, sizeof type);
    if (strcmp(type, "InvalidLogin") == 0 || strcmp(type, "NotAuthenticated") == 0 ||
        strcmp(type, "NoPermission") == 0) {
        snprintf(reason, reason_cap, "login rejected by the backend (HTTP %d %s)", http_status,
                 type);
        return SG_DENIED;
    }
    snprintf(reason, reason_cap, "login answered HTTP %d", http_status);
    return SG_ERR;
}

void sg_vijson_apply_session(void *priv, const char *session, struct sg_http_req *req)
{
    (void)priv;
    sg_http_req_add_header(req, SESSION_HEADER, session);
}
