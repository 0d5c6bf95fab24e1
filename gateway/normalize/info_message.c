/* LocalizableMessage and its LocalizationParam map: shape checks, nulls
 * dropped, `dt` params rewritten to UTC milliseconds (recursively through
 * nested `l` messages). */
#include <json-c/json.h>
#include <string.h>

#include "normalize/info_int.h"
#include "snapgate/json_string.h"
#include "snapgate/common.h"
#include "snapgate/info.h"

static const char *const dt_formats[] = {
    "SHORT_DATE",     "MED_DATE",       "LONG_DATE", "FULL_DATE",       "SHORT_TIME",
    "MED_TIME",       "LONG_TIME",      "FULL_TIME", "SHORT_DATE_TIME", "MED_DATE_TIME",
    "LONG_DATE_TIME", "FULL_DATE_TIME", NULL,
};

static int check_params(struct json_object *params, const char *where, char *reason, size_t cap);

static int check_nested(struct json_object *l, const char *where, char *reason, size_t cap)
{
    static const char *const keys[] = {"id", "params", NULL};
    struct json_object *params;
    char sub[160];

    if (!json_object_is_type(l, json_type_object))
        return sg_info_fail(reason, cap, where, "must be a nested message object");
    sg_info_drop_nulls(l);
    if (sg_info_only_keys(l, where, keys, reason, cap) != SG_OK ||
        sg_info_string_member(l, "id", where, true, true, reason, cap) != SG_OK)
        return SG_ERR;
    if (json_object_object_get_ex(l, "params", &params)) {
        sg_info_join(sub, sizeof sub, where, "params");
        return check_params(params, sub, reason, cap);
    }
    return SG_OK;
}

static int check_format(struct json_object *f, const char *where, char *reason, size_t cap)
{
    if (json_object_is_type(f, json_type_string) && !sg_json_string_has_nul(f)) {
        for (const char *const *k = dt_formats; *k; k++) {
            if (strcmp(*k, json_object_get_string(f)) == 0)
                return SG_OK;
        }
    }
    return sg_info_fail(reason, cap, where, "format is not a date-time format name");
}

/* One LocalizationParam: exactly one of s, dt, i, d, l; format only with dt,
 * precision only with d. */
static int check_param(struct json_object *p, const char *where, char *reason, size_t cap)
{
    static const char *const keys[] = {"s", "dt", "i", "d", "l", "format", "precision", NULL};
    struct json_object *v;
    char sub[160];
    int kinds = 0;

    if (!json_object_is_type(p, json_type_object))
        return sg_info_fail(reason, cap, where, "must be a LocalizationParam object");
    sg_info_drop_nulls(p);
    if (sg_info_only_keys(p, where, keys, reason, cap) != SG_OK)
        return SG_ERR;
    for (int i = 0; i < 5; i++)
        kinds += json_object_object_get_ex(p, keys[i], NULL);
    if (kinds != 1)
        return sg_info_fail(reason, cap, where, "exactly one of s, dt, i, d, l must be set");
    if (sg_info_string_member(p, "s", where, false, false, reason, cap) != SG_OK)
        return SG_ERR;
    if (json_object_object_get_ex(p, "dt", &v)) {
        sg_info_join(sub, sizeof sub, where, "dt");
        if (sg_info_time(v, sub, reason, cap) != SG_OK)
            return SG_ERR;
    }
    if (json_object_object_get_ex(p, "i", &v)) {
        sg_info_join(sub, sizeof sub, where, "i");
        if (sg_info_int64(v, sub, reason, cap) != SG_OK)
            return SG_ERR;
    }
    if (json_object_object_get_ex(p, "d", &v) && !json_object_is_type(v, json_type_double) &&
        !json_object_is_type(v, json_type_int))
        return sg_info_fail(reason, cap, where, "d must be a number");
    if (json_object_object_get_ex(p, "l", &v)) {
        sg_info_join(sub, sizeof sub, where, "l");
        if (check_nested(v, sub, reason, cap) != SG_OK)
            return SG_ERR;
    }
    if (json_object_object_get_ex(p, "format", &v)) {
        if (!json_object_object_get_ex(p, "dt", NULL))
            return sg_info_fail(reason, cap, where, "format without dt");
        if (check_format(v, where, reason, cap) != SG_OK)
            return SG_ERR;
    }
    if (json_object_object_get_ex(p, "precision", &v)) {
        if (!json_object_object_get_ex(p, "d", NULL))
            return sg_info_fail(reason, cap, where, "precision without d");
        sg_info_join(sub, sizeof sub, where, "precision");
        if (sg_info_int64(v, sub, reason, cap) != SG_OK)
            return SG_ERR;
    }
    return SG_OK;
}

/* params is a map from name to LocalizationParam; a null value there is not
 * an unset optional member but a broken entry, so it is an error. */
static int check_params(struct json_object *params, const char *where, char *reason, size_t cap)
{
    char sub[160];
    if (!json_object_is_type(params, json_type_object))
        return sg_info_fail(reason, cap, where, "must be an object of LocalizationParam");
    json_object_object_foreach(params, name, p)
    {
        sg_info_join(sub, sizeof sub, where, name);
        if (check_param(p, sub, reason, cap) != SG_OK)
            return SG_ERR;
    }
    return SG_OK;
}

int sg_info_message(struct json_object *msg, const char *where, char *reason, size_t cap)
{
    static const char *const keys[] = {"id",     "default_message", "args",
                                       "params", "localized",       NULL};
    struct json_object *v;
    char sub[160];

    if (!json_object_is_type(msg, json_type_object))
        return sg_info_fail(reason, cap, where, "must be a LocalizableMessage object");
    sg_info_drop_nulls(msg);
    if (sg_info_only_keys(msg, where, keys, reason, cap) != SG_OK ||
        sg_info_string_member(msg, "id", where, true, true, reason, cap) != SG_OK ||
        sg_info_string_member(msg, "default_message", where, true, false, reason, cap) != SG_OK ||
        sg_info_string_member(msg, "localized", where, false, false, reason, cap) != SG_OK)
        return SG_ERR;
    if (!json_object_object_get_ex(msg, "args", &v))
        return sg_info_fail(reason, cap, where, "args missing");
    if (!json_object_is_type(v, json_type_array))
        return sg_info_fail(reason, cap, where, "args must be an array of strings");
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
            return sg_info_fail(reason, cap, where, "args[%zu] must be a string", i);
    }
    if (json_object_object_get_ex(msg, "params", &v)) {
        sg_info_join(sub, sizeof sub, where, "params");
        return check_params(v, sub, reason, cap);
    }
    return SG_OK;
}
