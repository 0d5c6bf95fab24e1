/* Strict parsing of upstream JSON bodies, shared by the JSON dialects. */
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>

#include "normalize/info_int.h"
#include "snapgate/common.h"
#include "snapgate/info.h"

struct json_object *sg_info_parse_json(const char *body, size_t len, char *reason, size_t cap)
{
    struct json_tokener *tok;
    struct json_object *obj = NULL;
    enum json_tokener_error err;
    size_t off;

    if (!body || len == 0) {
        sg_info_fail(reason, cap, NULL, "empty body");
        return NULL;
    }
    if (len > INT_MAX) {
        sg_info_fail(reason, cap, NULL, "body too large");
        return NULL;
    }
    tok = json_tokener_new_ex(SG_INFO_MAX_DEPTH);
    if (!tok)
        abort();
    /* Strict: trailing data after the value is an error, not ignored. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, body, (int)len);
    err = json_tokener_get_error(tok);
    off = json_tokener_get_parse_end(tok);
    if (!obj && err == json_tokener_continue) {
        /* A bare number only ends at a terminator; an open object never does. */
        obj = json_tokener_parse_ex(tok, "", 1);
        err = json_tokener_get_error(tok);
    } else if (obj && json_tokener_get_parse_end(tok) != len) {
        /* The tokener stops at an embedded NUL without complaint. */
        json_object_put(obj);
        obj = NULL;
        err = json_tokener_error_parse_unexpected;
    }
    if (!obj && err == json_tokener_success) {
        sg_info_fail(reason, cap, NULL, "body is JSON null");
        goto fail;
    }
    if (!obj) {
        sg_info_fail(reason, cap, NULL, "body is not JSON: %s near offset %zu",
                     json_tokener_error_desc(err), off);
        goto fail;
    }
    json_tokener_free(tok);
    return obj;
fail:
    json_tokener_free(tok);
    return NULL;
}
