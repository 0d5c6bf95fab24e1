/* JSON comparison shared by the DataValue suite and fuzz_datavalue: json-c's
 * plain rendering, and deep equality that can be stricter than
 * json_object_equal (member order, doubles by their text). Header-only and
 * json-c alone (no Check), so a fuzz harness can include it as well. */
#ifndef SG_TEST_JSON_H
#define SG_TEST_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Object members in the same order, not only the same set: an encoding's
 * field order can be part of what it promises. */
#define SG_JSON_SAME_ORDER 1u
/* Doubles by the text json-c renders for them (a parsed double keeps its
 * source text), not by value: the text is what an encoder must keep. */
#define SG_JSON_SAME_TEXT 2u

/* o rendered compactly, '/' unescaped; the text lives as long as o. */
static inline const char *sg_test_json_plain(struct json_object *o)
{
    return json_object_to_json_string_ext(o,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Deep equality of a and b; how is 0 or SG_JSON_SAME_* flags. */
static inline bool sg_test_json_same(struct json_object *a, struct json_object *b, unsigned how)
{
    if (json_object_get_type(a) != json_object_get_type(b))
        return false;
    switch (json_object_get_type(a)) {
    case json_type_null:
        return true;
    case json_type_object:
        if (json_object_object_length(a) != json_object_object_length(b))
            return false;
        if (how & SG_JSON_SAME_ORDER) {
            struct json_object_iterator ia = json_object_iter_begin(a);
            struct json_object_iterator ea = json_object_iter_end(a);
            struct json_object_iterator ib = json_object_iter_begin(b);
            for (; !json_object_iter_equal(&ia, &ea);
                 json_object_iter_next(&ia), json_object_iter_next(&ib)) {
                if (strcmp(json_object_iter_peek_name(&ia), json_object_iter_peek_name(&ib)) != 0 ||
                    !sg_test_json_same(json_object_iter_peek_value(&ia),
                                       json_object_iter_peek_value(&ib), how))
                    return false;
            }
            return true;
        }
        json_object_object_foreach(a, key, val)
        {
            struct json_object *other;
            if (!json_object_object_get_ex(b, key, &other) || !sg_test_json_same(val, other, how))
                return false;
        }
        return true;
    case json_type_array:
        if (json_object_array_length(a) != json_object_array_length(b))
            return false;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
            if (!sg_test_json_same(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i),
                                   how))
                return false;
        }
        return true;
    case json_type_double:
        if (how & SG_JSON_SAME_TEXT) {
            /* Both texts at once: copy one before rendering the other. */
            char *ta = strdup(sg_test_json_plain(a));
            bool same = ta && strcmp(ta, sg_test_json_plain(b)) == 0;
            free(ta);
            return same;
        }
        return json_object_equal(a, b);
    default:
        return json_object_equal(a, b);
    }
}

#endif
