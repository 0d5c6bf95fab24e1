/* The pieces of a DataValue (api/JSONRPC.md 3.2): STRUCTURE and OPTIONAL
 * wrappers, LocalizableMessage with its params map, the ERROR value, opaque
 * values; and the checks and rendering every encoder shares. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize/datavalue.h"
#include "normalize/datavalue_int.h"
#include "normalize/info_int.h"
#include "snapgate/common.h"
#include "snapgate/info.h"

#define MSG_STRUCT "com.vmware.vapi.std.localizable_message"
#define PARAM_STRUCT "com.vmware.vapi.std.localization_param"
#define NESTED_STRUCT "com.vmware.vapi.std.nested_localizable_message"
#define ERROR_PREFIX "com.vmware.vapi.std.errors."

struct json_object *sg_dv_member(struct json_object *obj, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(obj, key, &v) ? json_object_get(v) : NULL;
}

struct json_object *sg_dv_structure(const char *name, struct json_object *fields)
{
    struct json_object *named = json_object_new_object();
    json_object_object_add(named, name, fields);
    struct json_object *s = json_object_new_object();
    json_object_object_add(s, "STRUCTURE", named);
    return s;
}

struct json_object *sg_dv_optional(struct json_object *v)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "OPTIONAL", v);
    return o;
}

struct json_object *sg_dv_opaque(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return NULL;
    case json_type_object: {
        struct json_object *f = json_object_new_object();
        json_object_object_foreach(v, key, val)
        {
            json_object_object_add(f, key, sg_dv_opaque(val));
        }
        return sg_dv_structure(SG_DV_OPAQUE_STRUCT, f);
    }
    case json_type_array: {
        size_t n = json_object_array_length(v);
        struct json_object *a = json_object_new_array_ext((int)n);
        for (size_t i = 0; i < n; i++)
            json_object_array_add(a, sg_dv_opaque(json_object_array_get_idx(v, i)));
        return a;
    }
    default:
        return json_object_get(v);
    }
}

/* A `d` param is DOUBLE: the runtime reads a number without a fraction or an
 * exponent as INTEGER and refuses it there, so an integral one gets ".0". */
static struct json_object *param_double(struct json_object *d)
{
    const char *text = json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN);
    if (strpbrk(text, ".eE"))
        return json_object_get(d);
    char *dotted = sg_xasprintf("%s.0", text);
    struct json_object *o = json_object_new_double_s(json_object_get_double(d), dotted);
    free(dotted);
    return o;
}

static struct json_object *params_map(struct json_object *params);

static struct json_object *nested(struct json_object *l)
{
    struct json_object *f = json_object_new_object(), *params;
    json_object_object_add(f, "id", sg_dv_member(l, "id"));
    json_object_object_add(f, "params",
                           sg_dv_optional(json_object_object_get_ex(l, "params", &params)
                                              ? params_map(params)
                                              : NULL));
    return sg_dv_structure(NESTED_STRUCT, f);
}

/* LocalizationParam: all 7 fields OPTIONAL, in the order of JSONRPC.md 3.3. */
static struct json_object *param(struct json_object *p)
{
    struct json_object *f = json_object_new_object(), *v;
    json_object_object_add(f, "s", sg_dv_optional(sg_dv_member(p, "s")));
    json_object_object_add(f, "dt", sg_dv_optional(sg_dv_member(p, "dt")));
    json_object_object_add(f, "i", sg_dv_optional(sg_dv_member(p, "i")));
    json_object_object_add(
        f, "d", sg_dv_optional(json_object_object_get_ex(p, "d", &v) ? param_double(v) : NULL));
    json_object_object_add(
        f, "l", sg_dv_optional(json_object_object_get_ex(p, "l", &v) ? nested(v) : NULL));
    json_object_object_add(f, "format", sg_dv_optional(sg_dv_member(p, "format")));
    json_object_object_add(f, "precision", sg_dv_optional(sg_dv_member(p, "precision")));
    return sg_dv_structure(PARAM_STRUCT, f);
}

/* A MAP is a LIST of map-entry structures; the params object's key order is
 * kept, so the text is as deterministic as the Info. */
static struct json_object *params_map(struct json_object *params)
{
    struct json_object *list = json_object_new_array();
    json_object_object_foreach(params, name, p)
    {
        struct json_object *entry = json_object_new_object();
        json_object_object_add(entry, "key", json_object_new_string(name));
        json_object_object_add(entry, "value", param(p));
        json_object_array_add(list, sg_dv_structure("map-entry", entry));
    }
    return list;
}

struct json_object *sg_dv_message(struct json_object *msg)
{
    struct json_object *f = json_object_new_object(), *params;
    json_object_object_add(f, "id", sg_dv_member(msg, "id"));
    json_object_object_add(f, "default_message", sg_dv_member(msg, "default_message"));
    json_object_object_add(f, "args", sg_dv_member(msg, "args"));
    json_object_object_add(f, "params",
                           sg_dv_optional(json_object_object_get_ex(msg, "params", &params)
                                              ? params_map(params)
                                              : NULL));
    json_object_object_add(f, "localized", sg_dv_optional(sg_dv_member(msg, "localized")));
    return sg_dv_structure(MSG_STRUCT, f);
}

struct json_object *sg_dv_error_value(struct json_object *err, const char *challenge)
{
    struct json_object *type, *msgs, *data;
    json_object_object_get_ex(err, "error_type", &type);
    json_object_object_get_ex(err, "messages", &msgs);

    /* The class name is the error_type in lower case (NOT_FOUND: not_found),
     * for every name of the enumeration. */
    char name[96];
    int n = snprintf(name, sizeof name, ERROR_PREFIX "%s", json_object_get_string(type));
    for (int i = (int)strlen(ERROR_PREFIX); i < n && name[i]; i++) {
        if (name[i] >= 'A' && name[i] <= 'Z')
            name[i] = (char)(name[i] - 'A' + 'a');
    }

    struct json_object *list = json_object_new_array();
    for (size_t i = 0; i < json_object_array_length(msgs); i++)
        json_object_array_add(list, sg_dv_message(json_object_array_get_idx(msgs, i)));
    struct json_object *f = json_object_new_object();
    json_object_object_add(f, "messages", list);
    json_object_object_add(
        f, "data",
        sg_dv_optional(json_object_object_get_ex(err, "data", &data) ? sg_dv_opaque(data) : NULL));
    json_object_object_add(f, "error_type", sg_dv_optional(json_object_get(type)));
    if (challenge)
        json_object_object_add(f, "challenge", sg_dv_optional(json_object_new_string(challenge)));
    struct json_object *named = json_object_new_object();
    json_object_object_add(named, name, f);
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, "ERROR", named);
    return e;
}

/* Whether v nests at most `left` containers deep (bounded recursion, so
 * a hostile tree cannot exhaust the stack before it is refused). */
static bool depth_ok(struct json_object *v, int left)
{
    switch (json_object_get_type(v)) {
    case json_type_object: {
        if (left <= 0)
            return false;
        json_object_object_foreach(v, key, val)
        {
            (void)key;
            if (!depth_ok(val, left - 1))
                return false;
        }
        return true;
    }
    case json_type_array:
        if (left <= 0)
            return false;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            if (!depth_ok(json_object_array_get_idx(v, i), left - 1))
                return false;
        }
        return true;
    default:
        return true;
    }
}

/* Whether canon, run on a copy of v, accepts v unchanged. */
static int fixed_point(struct json_object *v, const char *what,
                       int (*canon)(struct json_object *copy, char *reason, size_t cap),
                       char *reason, size_t cap)
{
    /* The canonicalizer is the one definition of "canonical": run it on a
     * copy, and the input is canonical when it accepts the copy unchanged. */
    struct json_object *copy = NULL;
    char why[160] = "";
    int rc;
    if (json_object_deep_copy(v, &copy, NULL) != 0)
        rc = sg_info_fail(reason, cap, NULL, "the %s cannot be copied", what);
    else if (canon(copy, why, sizeof why) != SG_OK)
        rc = sg_info_fail(reason, cap, NULL, "not a canonical %s: %s", what, why);
    else if (!json_object_equal(copy, v))
        rc = sg_info_fail(reason, cap, NULL, "not a canonical %s: the check rewrites it", what);
    else
        rc = SG_OK;
    json_object_put(copy);
    return rc;
}

int sg_dv_check(struct json_object *v, const char *what,
                int (*canon)(struct json_object *copy, char *reason, size_t cap), char *reason,
                size_t cap)
{
    if (!json_object_is_type(v, json_type_object))
        return sg_info_fail(reason, cap, NULL, "the %s is not a JSON object", what);
    if (!depth_ok(v, SG_INFO_MAX_DEPTH))
        return sg_info_fail(reason, cap, NULL, "the %s nests deeper than %d", what,
                            SG_INFO_MAX_DEPTH);
    return fixed_point(v, what, canon, reason, cap);
}

char *sg_dv_render(struct json_object *tree, size_t *len)
{
    size_t n = 0;
    const char *text = json_object_to_json_string_length(
        tree, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    if (!text)
        abort(); /* json-c's printbuf failed: out of memory */
    char *out = sg_xmalloc(n + 1);
    memcpy(out, text, n);
    out[n] = '\0';
    json_object_put(tree);
    if (len)
        *len = n;
    return out;
}
