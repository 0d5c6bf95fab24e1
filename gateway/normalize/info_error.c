/* The vAPI standard error value: its error_type enumeration and its shape. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "normalize/info_int.h"
#include "snapgate/json_string.h"
#include "snapgate/common.h"
#include "snapgate/info.h"

static const char *const error_types[] = {
    "ERROR",
    "ALREADY_EXISTS",
    "ALREADY_IN_DESIRED_STATE",
    "CANCELED",
    "CONCURRENT_CHANGE",
    "FEATURE_IN_USE",
    "INTERNAL_SERVER_ERROR",
    "INVALID_ARGUMENT",
    "INVALID_ELEMENT_CONFIGURATION",
    "INVALID_ELEMENT_TYPE",
    "INVALID_REQUEST",
    "NOT_ALLOWED_IN_CURRENT_STATE",
    "NOT_FOUND",
    "OPERATION_NOT_FOUND",
    "RESOURCE_BUSY",
    "RESOURCE_IN_USE",
    "RESOURCE_INACCESSIBLE",
    "SERVICE_UNAVAILABLE",
    "TIMED_OUT",
    "UNABLE_TO_ALLOCATE_RESOURCE",
    "UNAUTHENTICATED",
    "UNAUTHORIZED",
    "UNEXPECTED_INPUT",
    "UNSUPPORTED",
    "UNVERIFIED_PEER",
};

int sg_std_error_type_valid(const char *s)
{
    if (!s)
        return 0;
    for (size_t i = 0; i < SG_ARRAY_LEN(error_types); i++) {
        if (strcmp(s, error_types[i]) == 0)
            return 1;
    }
    return 0;
}

int sg_std_error_canonicalize(struct json_object *err, char *reason, size_t cap)
{
    static const char *const keys[] = {"error_type", "messages", "data", NULL};
    struct json_object *v;
    char sub[64];

    if (!json_object_is_type(err, json_type_object))
        return sg_info_fail(reason, cap, "error", "must be a standard error object");
    sg_info_drop_nulls(err);
    if (sg_info_only_keys(err, "error", keys, reason, cap) != SG_OK ||
        sg_info_string_member(err, "error_type", "error", true, true, reason, cap) != SG_OK)
        return SG_ERR;
    json_object_object_get_ex(err, "error_type", &v);
    if (sg_json_string_has_nul(v))
        return sg_info_fail(reason, cap, "error", "error_type holds a NUL byte");
    if (!sg_std_error_type_valid(json_object_get_string(v)))
        return sg_info_fail(reason, cap, "error", "error_type \"%.40s\" is not a standard one",
                            json_object_get_string(v));
    if (!json_object_object_get_ex(err, "messages", &v))
        return sg_info_fail(reason, cap, "error", "messages missing");
    if (!json_object_is_type(v, json_type_array))
        return sg_info_fail(reason, cap, "error", "messages must be an array");
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        snprintf(sub, sizeof sub, "error.messages[%zu]", i);
        if (sg_info_message(json_object_array_get_idx(v, i), sub, reason, cap) != SG_OK)
            return SG_ERR;
    }
    /* data is a DynamicStructure: always an object when present. */
    if (json_object_object_get_ex(err, "data", &v) && !json_object_is_type(v, json_type_object))
        return sg_info_fail(reason, cap, "error", "data must be an object");
    return SG_OK;
}
