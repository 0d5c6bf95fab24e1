/* One check on JSON strings every parser of untrusted JSON here needs. */
#ifndef SG_JSON_STRING_H
#define SG_JSON_STRING_H

#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

/* Whether v is a JSON string holding a NUL byte (a \u0000 escape): used as a
 * C string it would be cut short there ("RUNNING\u0000junk" read as RUNNING). */
static inline bool sg_json_string_has_nul(struct json_object *v)
{
    return json_object_is_type(v, json_type_string) &&
           strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v);
}

#endif
