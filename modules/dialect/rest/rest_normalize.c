/* Upstream answers to /rest/cis/tasks/{task}: a 200 carries {"value": Info}
 * in the legacy encoding, every other status is classified by its code like
 * cis, a 500 by the standard error inside the {"type", "value"} form. */
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "rest.h"
#include "snapgate/common.h"
#include "snapgate/dialect_util.h"
#include "snapgate/info.h"

#define STD_ERROR_PREFIX "com.vmware.vapi.std.errors."

/* {"type": "com.vmware.vapi.std.errors.x_y", "value": {standard error}}: the
 * value is returned (borrowed from body), with params lists rewritten. Older
 * vCenters leave error_type out of the value: the type names it then (x_y ->
 * X_Y); when both are given they must agree, or we cannot tell which class the
 * error is. */
static struct json_object *unwrap_error(struct json_object *body, char *why, size_t cap)
{
    struct json_object *type, *value, *etype;
    char from_type[64];

    if (!json_object_is_type(body, json_type_object) ||
        !json_object_object_get_ex(body, "type", &type) ||
        !json_object_object_get_ex(body, "value", &value) || json_object_object_length(body) != 2) {
        snprintf(why, cap, "not a {\"type\", \"value\"} error");
        return NULL;
    }
    if (!json_object_is_type(type, json_type_string)) {
        snprintf(why, cap, "type is not a standard error type");
        return NULL;
    }
    const char *t = json_object_get_string(type);
    size_t n = strlen(STD_ERROR_PREFIX), m = strlen(t);
    /* A NUL inside the JSON string would end the name early: "…not_found\u0000x"
     * is no error type at all. */
    if ((size_t)json_object_get_string_len(type) != m || strncmp(t, STD_ERROR_PREFIX, n) != 0 ||
        m - n >= sizeof from_type) {
        snprintf(why, cap, "type is not a standard error type");
        return NULL;
    }
    /* The wire name is the lowercase form of the enumeration value. */
    int lower = 1;
    for (size_t i = 0; i <= m - n; i++) { /* with the NUL */
        lower &= !isupper((unsigned char)t[n + i]);
        from_type[i] = (char)toupper((unsigned char)t[n + i]);
    }
    if (!lower || !sg_std_error_type_valid(from_type)) {
        snprintf(why, cap, "type is not a standard error type");
        return NULL;
    }
    if (!json_object_is_type(value, json_type_object)) {
        snprintf(why, cap, "value is not an object");
        return NULL;
    }
    if (json_object_object_get_ex(value, "error_type", &etype) && etype != NULL) {
        if (!json_object_is_type(etype, json_type_string) ||
            strcmp(json_object_get_string(etype), from_type) != 0) {
            snprintf(why, cap, "type and value.error_type disagree");
            return NULL;
        }
    } else {
        json_object_object_add(value, "error_type", json_object_new_string(from_type));
    }
    if (sg_rest_error_params(value, "value", why, cap) != SG_OK)
        return NULL;
    return value;
}

static void normalize_info(const char *body, size_t len, struct sg_normalized *out)
{
    struct json_object *doc = sg_dialect_parse_object(body, len, out);
    struct json_object *info, *vc_task;
    char why[160];

    if (!doc)
        return;
    if (!json_object_object_get_ex(doc, "value", &info) || json_object_object_length(doc) != 1) {
        snprintf(out->reason, sizeof out->reason,
                 "upstream HTTP 200; body is not a {\"value\": Info} wrapper");
        goto fail;
    }
    if (!json_object_is_type(info, json_type_object)) {
        snprintf(out->reason, sizeof out->reason, "upstream HTTP 200; value is not a JSON object");
        goto fail;
    }
    /* As for cis: the cis Info behind /rest has no vc_task, so one is an
     * unknown member we cannot vouch for. */
    if (json_object_object_get_ex(info, "vc_task", &vc_task) && vc_task != NULL) {
        snprintf(out->reason, sizeof out->reason,
                 "upstream HTTP 200; unknown member \"vc_task\" (rest Info has none)");
        goto fail;
    }
    if (sg_rest_info_params(info, why, sizeof why) != SG_OK) {
        snprintf(out->reason, sizeof out->reason, "upstream Info rejected: %s", why);
        goto fail;
    }
    json_object_get(info);
    json_object_put(doc);
    sg_dialect_accept_info(info, out);
    return;
fail:
    json_object_put(doc);
    out->outcome = SG_OUT_ERROR;
}

void sg_rest_normalize(void *priv, const char *task_id, int http_status, const char *body,
                       size_t len, struct sg_normalized *out)
{
    (void)priv;
    (void)task_id;
    sg_dialect_normalized_init(out);
    if (http_status == 200)
        normalize_info(body, len, out);
    else
        sg_dialect_classify_failure(http_status, body, len, unwrap_error, out);
}
