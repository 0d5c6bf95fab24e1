/* Small typed checks the Info validators are built from. Each names the
 * offending path in the reason, since that reason is what an operator sees
 * in the log when a backend answer is rejected. */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "normalize/info_int.h"
#include "snapgate/common.h"
#include "snapgate/info.h"

int sg_info_fail(char *reason, size_t cap, const char *where, const char *fmt, ...)
{
    if (!reason || cap == 0)
        return SG_ERR;
    size_t n = 0;
    if (where && *where) {
        int w = snprintf(reason, cap, "%s: ", where);
        n = w < 0 ? 0 : (size_t)w;
    }
    if (n < cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason + n, cap - n, fmt, ap);
        va_end(ap);
    }
    return SG_ERR;
}

void sg_info_join(char *dst, size_t cap, const char *where, const char *key)
{
    /* Paths only decorate log reasons: a truncated one is still useful. */
    int n = snprintf(dst, cap, "%s%s%s", where ? where : "", where && *where ? "." : "", key);
    (void)n;
}

void sg_info_drop_nulls(struct json_object *obj)
{
    /* json-c's foreach keeps the next entry before the body runs, so the
     * current member may be deleted. */
    json_object_object_foreach(obj, key, val)
    {
        if (val == NULL)
            json_object_object_del(obj, key);
    }
}

int sg_info_only_keys(struct json_object *obj, const char *where, const char *const *allowed,
                      char *reason, size_t cap)
{
    json_object_object_foreach(obj, key, val)
    {
        (void)val;
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strcmp(*a, key) == 0;
        if (!known)
            return sg_info_fail(reason, cap, where, "unknown member \"%.40s\"", key);
    }
    return SG_OK;
}

int sg_info_string_member(struct json_object *obj, const char *key, const char *where,
                          bool required, bool nonempty, char *reason, size_t cap)
{
    struct json_object *v;
    if (!json_object_object_get_ex(obj, key, &v))
        return required ? sg_info_fail(reason, cap, where, "%s missing", key) : SG_OK;
    if (!json_object_is_type(v, json_type_string))
        return sg_info_fail(reason, cap, where, "%s must be a string", key);
    if (nonempty && json_object_get_string_len(v) == 0)
        return sg_info_fail(reason, cap, where, "%s must not be empty", key);
    return SG_OK;
}

int sg_info_int64(struct json_object *v, const char *where, char *reason, size_t cap)
{
    if (!json_object_is_type(v, json_type_int))
        return sg_info_fail(reason, cap, where, "must be an integer");
    /* json-c keeps values above INT64_MAX as uint64 and clamps get_int64. */
    if (json_object_get_int64(v) == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
        return sg_info_fail(reason, cap, where, "out of int64 range");
    return SG_OK;
}

int sg_info_time(struct json_object *v, const char *where, char *reason, size_t cap)
{
    char out[32];
    if (!json_object_is_type(v, json_type_string))
        return sg_info_fail(reason, cap, where, "must be a date-time string");
    const char *s = json_object_get_string(v);
    /* An embedded NUL would let a valid prefix hide trailing junk. */
    if (strlen(s) != (size_t)json_object_get_string_len(v) || sg_time_to_utc_ms(s, out) != SG_OK)
        return sg_info_fail(reason, cap, where, "not an RFC 3339 date-time");
    if (strcmp(s, out) != 0)
        json_object_set_string(v, out);
    return SG_OK;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool sg_info_number_text_valid(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0') {
        i++;
    } else if (i < n && is_digit(s[i])) {
        while (i < n && is_digit(s[i]))
            i++;
    } else {
        return false;
    }
    if (i < n && s[i] == '.') {
        if (++i >= n || !is_digit(s[i]))
            return false;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            return false;
        while (i < n && is_digit(s[i]))
            i++;
    }
    return i == n;
}

int sg_info_numbers_valid(struct json_object *v, char *reason, size_t cap)
{
    switch (json_object_get_type(v)) {
    case json_type_double: {
        /* A parsed double renders as its source text, and json-c's strict
         * tokener still takes NaN, Infinity, "1.", "1.e5" and "-.5": served
         * as they are, they would make the answer invalid JSON. */
        const char *t = json_object_to_json_string(v);
        if (!sg_info_number_text_valid(t, strlen(t)))
            return sg_info_fail(reason, cap, NULL, "a number is not valid JSON: %.24s", t);
        return SG_OK;
    }
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            if (sg_info_numbers_valid(json_object_array_get_idx(v, i), reason, cap) != SG_OK)
                return SG_ERR;
        }
        return SG_OK;
    case json_type_object: {
        json_object_object_foreach(v, key, val)
        {
            (void)key;
            if (sg_info_numbers_valid(val, reason, cap) != SG_OK)
                return SG_ERR;
        }
        return SG_OK;
    }
    default:
        return SG_OK;
    }
}
