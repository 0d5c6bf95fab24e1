/* Requests the vCenter-family dialects send: the task GET, the Basic-auth
 * session login, and reading the session id out of the login answer. */
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/dialect_util.h"
#include "snapgate/info.h"

int sg_dialect_task_request(const char *prefix, const char *task_id, struct sg_http_req *out)
{
    if (!task_id || !*task_id || strcmp(task_id, ".") == 0 || strcmp(task_id, "..") == 0)
        return SG_ERR;
    char *seg = sg_http_path_segment_encode(task_id);
    out->method = "GET";
    out->path = sg_xasprintf("%s%s", prefix, seg);
    free(seg);
    sg_http_req_add_header(out, "Accept", "application/json");
    return SG_OK;
}

int sg_dialect_basic_login(const struct sg_conf_backend *b, const char *path,
                           struct sg_http_req *out)
{
    if (!b || !b->username || !b->password || strchr(b->username, ':'))
        return SG_ERR;
    char *plain = sg_xasprintf("%s:%s", b->username, b->password);
    size_t n = strlen(plain);
    char *b64 = sg_xmalloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain, (int)n);
    char *auth = sg_xasprintf("Basic %s", b64);
    out->method = "POST";
    out->path = sg_xstrdup(path);
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
    if (len == 0 || len > SG_DIALECT_SESSION_MAX || strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e)
            return 0;
    }
    return 1;
}

int sg_dialect_parse_session(int http_status, const char *body, size_t len, const char *member,
                             char **session, char *reason, size_t reason_cap)
{
    char why[120];
    int rc = SG_ERR;
    struct json_object *v = NULL, *id;

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
    id = v;
    if (member &&
        (!json_object_is_type(v, json_type_object) || !json_object_object_get_ex(v, member, &id) ||
         json_object_object_length(v) != 1)) {
        snprintf(reason, reason_cap, "login answer is not an object with only \"%s\"", member);
        goto fail;
    }
    if (!json_object_is_type(id, json_type_string)) {
        snprintf(reason, reason_cap, "login answer%s%s is not a JSON string", member ? "'s " : "",
                 member ? member : "");
        goto fail;
    }
    if (!session_ok(json_object_get_string(id), (size_t)json_object_get_string_len(id))) {
        snprintf(reason, reason_cap, "login answer is not a usable session id");
        goto fail;
    }
    *session = sg_xstrdup(json_object_get_string(id));
    rc = SG_OK;
fail:
    json_object_put(v);
    return rc;
}
