/* fuzz_datavalue: arbitrary bytes as an Info body through sg_info_parse_json
 * and sg_info_canonicalize, then sg_dv_info (gateway/normalize/datavalue*.c),
 * the DataValue the JSON-RPC endpoint serves for the Info the REST path
 * serves. The same bytes are also tried as a JSON-RPC request id.
 * Properties:
 * - every Info the canonicalizer accepts is encoded (never refused), and the
 *   Info is not changed by it;
 * - the text is strict JSON (nesting up to 1024), compact and exactly what
 *   json-c renders for the parsed text;
 * - a reference decoder (below: STRUCTURE names, OPTIONAL wrappers, map-entry
 *   lists, ERROR names, opaque structures; each struct with exactly its fields
 *   in the documented order, all 9 optional Info fields present) gives the
 *   canonical Info back: same members, same strings, same integers, doubles
 *   with the same text, except that an integral `d` param comes back as a
 *   double "<integer>.0" (DOUBLE);
 * - the error inside, when there, is exactly what sg_dv_std_error makes of
 *   the Info's error;
 * - a rejected Info is refused by the encoder too, with a reason;
 * - every number in it is spelled as RFC 8259 says;
 * - as a request id: sg_dv_id_valid accepts exactly the bytes a reference
 *   accepts (numbers: RFC 8259's grammar as a POSIX regex; strings: json-c's
 *   strict reading, with no control byte and no whitespace around), and then
 *   the envelope parses and its id is the bytes' own JSON value.
 * SG_FUZZ_DICT: json.dict */
#include <json-c/json.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize/datavalue.h"
#include "snapgate/common.h"
#include "snapgate/info.h"
#include "snapgate/task.h"
#include "tests/unit/support/sg_test_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ERRORS "com.vmware.vapi.std.errors."

/* Strict parse of len bytes (NULL unless the whole text is one value). */
static struct json_object *parse(const char *text, size_t len, bool utf8)
{
    struct json_tokener *tok = json_tokener_new_ex(1024);
    if (!tok)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | (utf8 ? JSON_TOKENER_VALIDATE_UTF8 : 0));
    struct json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    if (!o && json_tokener_get_error(tok) == json_tokener_continue)
        o = json_tokener_parse_ex(tok, "", 1); /* a bare number ends at the end */
    else if (o && json_tokener_get_parse_end(tok) != len) {
        json_object_put(o);
        o = NULL;
    }
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

/* ---- the reference decoder: any surprise is a failed property ------------- */

static struct json_object *only(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!json_object_is_type(o, json_type_object) || json_object_object_length(o) != 1 ||
        !json_object_object_get_ex(o, key, &v))
        abort();
    return v;
}

/* f is an object with exactly these members, in this order. */
static struct json_object *exact(struct json_object *f, const char *const *keys)
{
    if (!json_object_is_type(f, json_type_object))
        abort();
    size_t i = 0;
    json_object_object_foreach(f, key, val)
    {
        (void)val;
        if (!keys[i] || strcmp(key, keys[i]) != 0)
            abort();
        i++;
    }
    if (keys[i])
        abort();
    return f;
}

/* The fields of {"STRUCTURE":{name:{...}}}, exactly keys, in order. */
static struct json_object *unstruct(struct json_object *v, const char *name,
                                    const char *const *keys)
{
    return exact(only(only(v, "STRUCTURE"), name), keys);
}

static struct json_object *unopt(struct json_object *v)
{
    return only(v, "OPTIONAL");
}

static struct json_object *field(struct json_object *f, const char *key)
{
    return json_object_object_get(f, key);
}

/* A new reference to a leaf of the given type. */
static struct json_object *leaf(struct json_object *v, enum json_type t)
{
    if (!json_object_is_type(v, t))
        abort();
    return json_object_get(v);
}

static struct json_object *decode_opaque(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return NULL;
    case json_type_array: {
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(v); i++)
            json_object_array_add(a, decode_opaque(json_object_array_get_idx(v, i)));
        return a;
    }
    case json_type_object: {
        struct json_object *s = only(only(v, "STRUCTURE"), SG_DV_OPAQUE_STRUCT);
        if (!json_object_is_type(s, json_type_object))
            abort();
        struct json_object *o = json_object_new_object();
        json_object_object_foreach(s, key, val)
        {
            json_object_object_add(o, key, decode_opaque(val));
        }
        return o;
    }
    default:
        return json_object_get(v);
    }
}

static struct json_object *decode_nested(struct json_object *v);

static struct json_object *decode_map(struct json_object *list)
{
    static const char *const entry_keys[] = {"key", "value", NULL};
    static const char *const param_keys[] = {"s", "dt", "i", "d", "l", "format", "precision", NULL};
    if (!json_object_is_type(list, json_type_array))
        abort();
    struct json_object *out = json_object_new_object();
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *e =
            unstruct(json_object_array_get_idx(list, i), "map-entry", entry_keys);
        struct json_object *key = field(e, "key");
        if (!json_object_is_type(key, json_type_string) ||
            json_object_object_get_ex(out, json_object_get_string(key), NULL))
            abort();
        struct json_object *pf =
            unstruct(field(e, "value"), "com.vmware.vapi.std.localization_param", param_keys);
        struct json_object *p = json_object_new_object();
        for (const char *const *k = param_keys; *k; k++) {
            struct json_object *v = unopt(field(pf, *k));
            if (!v)
                continue;
            json_object_object_add(p, *k,
                                   strcmp(*k, "l") == 0 ? decode_nested(v) : json_object_get(v));
        }
        json_object_object_add(out, json_object_get_string(key), p);
    }
    return out;
}

static struct json_object *decode_nested(struct json_object *v)
{
    static const char *const keys[] = {"id", "params", NULL};
    struct json_object *f = unstruct(v, "com.vmware.vapi.std.nested_localizable_message", keys);
    struct json_object *out = json_object_new_object(), *params;
    json_object_object_add(out, "id", leaf(field(f, "id"), json_type_string));
    if ((params = unopt(field(f, "params"))))
        json_object_object_add(out, "params", decode_map(params));
    return out;
}

static struct json_object *decode_message(struct json_object *v)
{
    static const char *const keys[] = {"id",     "default_message", "args",
                                       "params", "localized",       NULL};
    struct json_object *f = unstruct(v, "com.vmware.vapi.std.localizable_message", keys);
    struct json_object *out = json_object_new_object(), *x;
    json_object_object_add(out, "id", leaf(field(f, "id"), json_type_string));
    json_object_object_add(out, "default_message",
                           leaf(field(f, "default_message"), json_type_string));
    json_object_object_add(out, "args", leaf(field(f, "args"), json_type_array));
    if ((x = unopt(field(f, "params"))))
        json_object_object_add(out, "params", decode_map(x));
    if ((x = unopt(field(f, "localized"))))
        json_object_object_add(out, "localized", leaf(x, json_type_string));
    return out;
}

static struct json_object *decode_error(struct json_object *v)
{
    static const char *const keys[] = {"messages", "data", "error_type", NULL};
    struct json_object *named = only(v, "ERROR");
    if (!json_object_is_type(named, json_type_object) || json_object_object_length(named) != 1)
        abort();
    struct json_object_iterator it = json_object_iter_begin(named);
    const char *name = json_object_iter_peek_name(&it);
    struct json_object *f = exact(json_object_iter_peek_value(&it), keys);
    struct json_object *type = unopt(field(f, "error_type"));
    if (!json_object_is_type(type, json_type_string))
        abort();
    char want[96];
    int n = snprintf(want, sizeof want, ERRORS "%s", json_object_get_string(type));
    for (int c = (int)strlen(ERRORS); c < n && want[c]; c++)
        want[c] = (char)(want[c] >= 'A' && want[c] <= 'Z' ? want[c] - 'A' + 'a' : want[c]);
    if (strcmp(name, want) != 0)
        abort();

    struct json_object *out = json_object_new_object(), *msgs = field(f, "messages"), *data;
    json_object_object_add(out, "error_type", json_object_get(type));
    if (!json_object_is_type(msgs, json_type_array))
        abort();
    struct json_object *list = json_object_new_array();
    for (size_t m = 0; m < json_object_array_length(msgs); m++)
        json_object_array_add(list, decode_message(json_object_array_get_idx(msgs, m)));
    json_object_object_add(out, "messages", list);
    if ((data = unopt(field(f, "data"))))
        json_object_object_add(out, "data", decode_opaque(data));
    return out;
}

static struct json_object *decode_info(struct json_object *dv)
{
    static const char *const keys[] = {"progress", "result",     "vc_task", "description",
                                       "service",  "operation",  "parent",  "target",
                                       "status",   "cancelable", "error",   "start_time",
                                       "end_time", "user",       NULL};
    static const char *const progress_keys[] = {"total", "completed", "message", NULL};
    static const char *const target_keys[] = {"type", "id", NULL};
    static const char *const strings[] = {"vc_task", "parent", "start_time", "end_time", "user"};
    struct json_object *f = unstruct(dv, "com.vmware.snapservice.tasks.info", keys);
    struct json_object *out = json_object_new_object(), *v;

    json_object_object_add(out, "description", decode_message(field(f, "description")));
    json_object_object_add(out, "service", leaf(field(f, "service"), json_type_string));
    json_object_object_add(out, "operation", leaf(field(f, "operation"), json_type_string));
    json_object_object_add(out, "status", leaf(field(f, "status"), json_type_string));
    json_object_object_add(out, "cancelable", leaf(field(f, "cancelable"), json_type_boolean));
    for (size_t i = 0; i < SG_ARRAY_LEN(strings); i++) {
        if ((v = unopt(field(f, strings[i]))))
            json_object_object_add(out, strings[i], leaf(v, json_type_string));
    }
    if ((v = unopt(field(f, "progress")))) {
        struct json_object *p = unstruct(v, "com.vmware.snapservice.tasks.progress", progress_keys);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "total", leaf(field(p, "total"), json_type_int));
        json_object_object_add(o, "completed", leaf(field(p, "completed"), json_type_int));
        json_object_object_add(o, "message", decode_message(field(p, "message")));
        json_object_object_add(out, "progress", o);
    }
    if ((v = unopt(field(f, "target")))) {
        struct json_object *t = unstruct(v, "com.vmware.vapi.std.dynamic_ID", target_keys);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "type", leaf(field(t, "type"), json_type_string));
        json_object_object_add(o, "id", leaf(field(t, "id"), json_type_string));
        json_object_object_add(out, "target", o);
    }
    if ((v = unopt(field(f, "result")))) {
        struct json_object *r = decode_opaque(v);
        if (!r) /* a set result is never JSON null */
            abort();
        json_object_object_add(out, "result", r);
    }
    if ((v = unopt(field(f, "error"))))
        json_object_object_add(out, "error", decode_error(v));
    return out;
}

/* ---- comparing the decoded Info with the canonical one -------------------- */

static void dotted_d_params(struct json_object *params);

static void dotted_d_message(struct json_object *msg)
{
    struct json_object *params;
    if (json_object_object_get_ex(msg, "params", &params))
        dotted_d_params(params);
}

/* What the encoder promises for `d`: an integer becomes "<integer>.0". */
static void dotted_d_params(struct json_object *params)
{
    json_object_object_foreach(params, name, p)
    {
        (void)name;
        struct json_object *d, *l;
        if (json_object_object_get_ex(p, "d", &d) && json_object_is_type(d, json_type_int)) {
            char *text = sg_xasprintf("%s.0", sg_test_json_plain(d));
            json_object_object_add(p, "d",
                                   json_object_new_double_s(json_object_get_double(d), text));
            free(text);
        }
        if (json_object_object_get_ex(p, "l", &l))
            dotted_d_message(l);
    }
}

static void dotted_d(struct json_object *info)
{
    struct json_object *v, *msgs;
    dotted_d_message(json_object_object_get(info, "description"));
    if (json_object_object_get_ex(info, "progress", &v))
        dotted_d_message(json_object_object_get(v, "message"));
    if (json_object_object_get_ex(info, "error", &v) &&
        json_object_object_get_ex(v, "messages", &msgs)) {
        for (size_t i = 0; i < json_object_array_length(msgs); i++)
            dotted_d_message(json_object_array_get_idx(msgs, i));
    }
}

/* ---- the properties -------------------------------------------------------- */

static void check_numbers(struct json_object *v);

static void check_info(struct json_object *info)
{
    char reason[200] = "";
    size_t len = 0;
    char *before = strdup(sg_test_json_plain(info));
    char *dv = sg_dv_info(info, &len, reason, sizeof reason);
    if (!dv || !before || strlen(dv) != len || strcmp(sg_test_json_plain(info), before) != 0)
        abort();

    struct json_object *parsed = parse(dv, len, true);
    if (!parsed || strcmp(sg_test_json_plain(parsed), dv) != 0)
        abort();
    check_numbers(parsed);

    struct json_object *want = NULL;
    if (json_object_deep_copy(info, &want, NULL) != 0)
        abort();
    dotted_d(want);
    struct json_object *back = decode_info(parsed);
    /* members in any order, doubles by their text (the encoder must keep it) */
    if (!sg_test_json_same(back, want, SG_JSON_SAME_TEXT))
        abort();

    struct json_object *err;
    if (json_object_object_get_ex(info, "error", &err)) {
        char *edv = sg_dv_std_error(err, NULL, NULL, reason, sizeof reason);
        if (!edv)
            abort();
        char *inside = sg_xasprintf("\"error\":{\"OPTIONAL\":%s}", edv);
        if (!strstr(dv, inside))
            abort();
        free(inside);
        free(edv);
    }
    json_object_put(back);
    json_object_put(want);
    json_object_put(parsed);
    free(before);
    free(dv);
}

/* The reference for numbers: RFC 8259's grammar as a POSIX regex, not the
 * hand-written scanner the core uses. */
static bool rfc_number(const char *s, size_t n)
{
    static regex_t re;
    static bool ready;
    if (!ready) {
        if (regcomp(&re, "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$",
                    REG_EXTENDED | REG_NOSUB) != 0)
            abort();
        ready = true;
    }
    if (memchr(s, '\0', n))
        return false;
    char *z = sg_xstrndup(s, n);
    bool ok = regexec(&re, z, 0, NULL, 0) == 0;
    free(z);
    return ok;
}

/* The reference for strings: json-c's strict reading, minus what it lets
 * through and RFC 8259 does not (a control byte inside, whitespace around). */
static bool rfc_string(const char *s, size_t n, struct json_object *parsed)
{
    if (!json_object_is_type(parsed, json_type_string) || n < 2 || s[0] != '"' || s[n - 1] != '"')
        return false;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20)
            return false;
    }
    return true;
}

/* Every number in the DataValue is spelled as RFC 8259 says (json-c's strict
 * tokener would read "1." back without complaint). */
static void check_numbers(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_object: {
        json_object_object_foreach(v, key, val)
        {
            (void)key;
            check_numbers(val);
        }
        break;
    }
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++)
            check_numbers(json_object_array_get_idx(v, i));
        break;
    case json_type_int:
    case json_type_double: {
        const char *t = sg_test_json_plain(v);
        if (!rfc_number(t, strlen(t)))
            abort();
        break;
    }
    default:
        break;
    }
}

static void check_id(const char *bytes, size_t size)
{
    bool valid = sg_dv_id_valid(bytes, size);
    struct json_object *alone = parse(bytes, size, false);
    bool want =
        size > 0 && bytes[0] == '"' ? rfc_string(bytes, size, alone) : rfc_number(bytes, size);
    if (valid != want)
        abort();
    if (valid) {
        size_t len;
        char *env = sg_dv_envelope(bytes, size, "}", 1, &len);
        struct json_object *o = env ? parse(env, len, false) : NULL;
        struct json_object *id;
        if (!o || !json_object_object_get_ex(o, "id", &id) || !alone ||
            !json_object_equal(id, alone))
            abort();
        json_object_put(o);
        free(env);
    }
    json_object_put(alone);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exactly its size, no NUL: the parser must honour len */
    char *body = malloc(size ? size : 1);
    if (!body)
        abort();
    memcpy(body, data, size);

    char reason[200];
    struct json_object *info = sg_info_parse_json(body, size, reason, sizeof reason);
    if (info) {
        enum sg_task_status st;
        if (sg_info_canonicalize(info, &st, reason, sizeof reason) == SG_OK) {
            check_info(info);
        } else {
            /* refused by the check, so refused by the encoder, with a reason */
            reason[0] = '\0';
            if (sg_dv_info(info, NULL, reason, sizeof reason) != NULL || reason[0] == '\0')
                abort();
        }
    }
    json_object_put(info);
    check_id(body, size);
    free(body);
    return 0;
}
