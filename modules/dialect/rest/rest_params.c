/* The legacy /rest API writes every map as a list of {"key", "value"} pairs;
 * Info's LocalizableMessage params is such a map, also inside nested `l`
 * messages. These rewrite the lists into the objects Info carries. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "rest.h"
#include "snapgate/common.h"

#define WHERE_MAX 160

static int fail(char *reason, size_t cap, const char *where, const char *why)
{
    snprintf(reason, cap, "%s: %s", where, why);
    return SG_ERR;
}

/* One list entry into obj; obj takes its own reference to the value. */
static int add_pair(struct json_object *obj, struct json_object *pair, const char *where,
                    char *reason, size_t cap)
{
    struct json_object *key, *value;
    char why[80];

    if (!json_object_is_type(pair, json_type_object) ||
        !json_object_object_get_ex(pair, "key", &key) ||
        !json_object_object_get_ex(pair, "value", &value) || json_object_object_length(pair) != 2)
        return fail(reason, cap, where, "a params entry must be exactly {\"key\", \"value\"}");
    if (!json_object_is_type(key, json_type_string) || json_object_get_string_len(key) == 0)
        return fail(reason, cap, where, "a params key must be a non-empty string");
    if (json_object_object_get_ex(obj, json_object_get_string(key), NULL)) {
        snprintf(why, sizeof why, "params key \"%.40s\" given twice", json_object_get_string(key));
        return fail(reason, cap, where, why);
    }
    json_object_object_add(obj, json_object_get_string(key), json_object_get(value));
    return SG_OK;
}

static int list_to_object(struct json_object *msg, struct json_object *list, const char *where,
                          char *reason, size_t cap)
{
    struct json_object *obj = json_object_new_object();
    char at[WHERE_MAX];

    for (size_t i = 0; i < json_object_array_length(list); i++) {
        snprintf(at, sizeof at, "%s.params[%zu]", where, i);
        if (add_pair(obj, json_object_array_get_idx(list, i), at, reason, cap) != SG_OK) {
            json_object_put(obj);
            return SG_ERR;
        }
    }
    json_object_object_add(msg, "params", obj); /* releases the list */
    return SG_OK;
}

int sg_rest_message_params(struct json_object *msg, const char *where, char *reason, size_t cap)
{
    struct json_object *params, *nested;
    char at[WHERE_MAX];

    if (!json_object_is_type(msg, json_type_object) ||
        !json_object_object_get_ex(msg, "params", &params))
        return SG_OK;
    if (json_object_is_type(params, json_type_array)) {
        if (list_to_object(msg, params, where, reason, cap) != SG_OK)
            return SG_ERR;
        json_object_object_get_ex(msg, "params", &params);
    }
    if (!json_object_is_type(params, json_type_object))
        return SG_OK;
    json_object_object_foreach(params, name, param)
    {
        if (!json_object_is_type(param, json_type_object) ||
            !json_object_object_get_ex(param, "l", &nested))
            continue;
        snprintf(at, sizeof at, "%s.params.%.40s.l", where, name);
        if (sg_rest_message_params(nested, at, reason, cap) != SG_OK)
            return SG_ERR;
    }
    return SG_OK;
}

int sg_rest_error_params(struct json_object *err, const char *where, char *reason, size_t cap)
{
    struct json_object *msgs;
    char at[WHERE_MAX];

    if (!json_object_is_type(err, json_type_object) ||
        !json_object_object_get_ex(err, "messages", &msgs) ||
        !json_object_is_type(msgs, json_type_array))
        return SG_OK;
    for (size_t i = 0; i < json_object_array_length(msgs); i++) {
        snprintf(at, sizeof at, "%s.messages[%zu]", where, i);
        if (sg_rest_message_params(json_object_array_get_idx(msgs, i), at, reason, cap) != SG_OK)
            return SG_ERR;
    }
    return SG_OK;
}

int sg_rest_info_params(struct json_object *info, char *reason, size_t cap)
{
    struct json_object *v, *msg;

    if (json_object_object_get_ex(info, "description", &v) &&
        sg_rest_message_params(v, "description", reason, cap) != SG_OK)
        return SG_ERR;
    if (json_object_object_get_ex(info, "progress", &v) &&
        json_object_is_type(v, json_type_object) && json_object_object_get_ex(v, "message", &msg) &&
        sg_rest_message_params(msg, "progress.message", reason, cap) != SG_OK)
        return SG_ERR;
    if (json_object_object_get_ex(info, "error", &v))
        return sg_rest_error_params(v, "error", reason, cap);
    return SG_OK;
}
