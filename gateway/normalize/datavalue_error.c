/* vAPI standard errors as ERROR DataValues (api/JSONRPC.md 3.4): what the
 * JSON-RPC endpoint answers, inside an HTTP 200, where the REST path answers
 * with an error status and the same standard error body. */
#include <json-c/json.h>
#include <string.h>

#include "normalize/datavalue.h"
#include "normalize/datavalue_int.h"
#include "normalize/info_int.h"
#include "snapgate/common.h"
#include "snapgate/info.h"

static int canon_error(struct json_object *copy, char *reason, size_t cap)
{
    return sg_std_error_canonicalize(copy, reason, cap);
}

char *sg_dv_std_error(struct json_object *err, const char *challenge, size_t *len, char *reason,
                      size_t cap)
{
    struct json_object *type;
    if (sg_dv_check(err, "standard error", canon_error, reason, cap) != SG_OK)
        return NULL;
    /* Only Unauthenticated has the field; on another class it would be an
     * extra field the SDK ignores, so asking for one is a caller's mistake. */
    json_object_object_get_ex(err, "error_type", &type);
    if (challenge && strcmp(json_object_get_string(type), "UNAUTHENTICATED") != 0) {
        sg_info_fail(reason, cap, NULL, "a challenge on a %s error", json_object_get_string(type));
        return NULL;
    }
    return sg_dv_render(sg_dv_error_value(err, challenge), len);
}

char *sg_dv_error_reply(enum sg_error e, const char *challenge, size_t *len)
{
    if ((unsigned)e >= SG_E__COUNT)
        return NULL;
    /* reply.c's bodies are static standard errors: one source for the ids
     * and default messages of both paths. */
    const struct sg_error_reply *r = sg_error_reply(e);
    struct json_object *err = json_tokener_parse(r->body);
    char *out = sg_dv_std_error(err, challenge, len, NULL, 0);
    json_object_put(err);
    return out;
}
