/* The strict JSON parser of client bodies (gateway/http/json_strict.c): what
 * RFC 8259 refuses, what json-c would have taken or read another way
 * (duplicate names, NULs, "1.", int64 overflow), the raw capture of a
 * top-level member, and the wipe. */
#include <check.h>
#include <json-c/json.h>
#include <string.h>

#include "http/json_strict.h"

struct strict_case {
    const char *text;
    size_t len; /* 0: strlen(text) */
    bool ok;
};

#define NUL_CASE(s, ok)                                                                            \
    {                                                                                              \
        s, sizeof(s) - 1, ok                                                                       \
    }

static const struct strict_case cases[] = {
    {"{}", 0, true},
    {" \t\r\n{\"a\":[1,-2,3.5,true,false,null,\"x\"]} \n", 0, true},
    {"\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\\"\\\\\"", 0, true},
    {"\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", 0, true},
    {"-9223372036854775808", 0, true},
    {"9223372036854775807", 0, true},
    {"0", 0, true},
    {"-0", 0, true},
    {"1e400", 0, true},
    {"null", 0, true},
    /* RFC 8259 says no */
    {"", 0, false},
    {"   ", 0, false},
    {"{", 0, false},
    {"{\"a\"}", 0, false},
    {"{\"a\":1,}", 0, false},
    {"[1,]", 0, false},
    {"{a:1}", 0, false},
    {"{'a':1}", 0, false},
    {"1.", 0, false},
    {"-.5", 0, false},
    {".5", 0, false},
    {"01", 0, false},
    {"1e", 0, false},
    {"+1", 0, false},
    {"NaN", 0, false},
    {"Infinity", 0, false},
    {"-Infinity", 0, false},
    {"tru", 0, false},
    {"nul", 0, false},
    {"truex", 0, false},
    {"\"a\tb\"", 0, false},
    {"\"\\x41\"", 0, false},
    {"\"\\u12\"", 0, false},
    {"\"abc", 0, false},
    {"\xef\xbb\xbf{}", 0, false},
    {"{}x", 0, false},
    {"{} {}", 0, false},
    {"{}}", 0, false},
    {"[1] 2", 0, false},
    {"/* c */ {}", 0, false},
    /* UTF-8 that is not */
    {"\"\xc3\"", 0, false},
    {"\"\xc0\xaf\"", 0, false},
    {"\"\xe0\x80\xaf\"", 0, false},
    {"\"\xed\xa0\x80\"", 0, false},
    {"\"\xf4\x90\x80\x80\"", 0, false},
    {"\"\xff\"", 0, false},
    {"\"\x80\"", 0, false},
    /* beyond RFC 8259: read two ways, or not text */
    {"{\"a\":1,\"a\":1}", 0, false},
    {"{\"a\":{\"b\":1,\"b\":2}}", 0, false},
    {"{\"a\":1,\"\\u0061\":2}", 0, false},
    {"\"a\\u0000b\"", 0, false},
    {"\"\\ud800\"", 0, false},
    {"\"\\udc00\"", 0, false},
    {"\"\\ud800\\u0041\"", 0, false},
    {"\"\\ud800x\"", 0, false},
    {"9223372036854775808", 0, false},
    {"-9223372036854775809", 0, false},
    NUL_CASE("\"a\0b\"", false),
    NUL_CASE("{}\0", false),
    NUL_CASE("{\"a\":1\0}", false),
    NUL_CASE("\0{}", false),
};

START_TEST(test_strict_table)
{
    const struct strict_case *c = &cases[_i];
    size_t len = c->len ? c->len : strlen(c->text);
    struct json_object *o = (struct json_object *)1;
    char why[128] = "";
    bool ok = sg_json_strict_parse(c->text, len, NULL, &o, why, sizeof why);
    ck_assert_msg(ok == c->ok, "case %d: got %d (%s)", _i, ok, why);
    if (ok) {
        ck_assert_str_eq(why, "");
    } else {
        ck_assert_ptr_null(o);
        ck_assert_msg(strncmp(why, "not JSON: ", 10) == 0 && strstr(why, " at offset "), "%s", why);
    }
    json_object_put(o);
}
END_TEST

START_TEST(test_depth_limit)
{
    char buf[200];
    for (int depth = SG_JSON_STRICT_DEPTH; depth <= SG_JSON_STRICT_DEPTH + 1; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++)
            buf[n++] = '[';
        for (int i = 0; i < depth; i++)
            buf[n++] = ']';
        struct json_object *o = NULL;
        char why[128] = "";
        bool ok = sg_json_strict_parse(buf, n, NULL, &o, why, sizeof why);
        ck_assert_int_eq(ok, depth <= SG_JSON_STRICT_DEPTH);
        if (!ok)
            ck_assert_ptr_nonnull(strstr(why, "nested too deep"));
        json_object_put(o);
    }
}
END_TEST

START_TEST(test_values)
{
    const char *text = "{\"s\":\"a\\u00e9\\ud83d\\ude00\",\"i\":-42,\"d\":2.50E-3,\"b\":true,"
                       "\"n\":null,\"a\":[1,\"x\"]}";
    struct json_object *o = NULL, *v;
    ck_assert(sg_json_strict_parse(text, strlen(text), NULL, &o, NULL, 0));
    ck_assert(json_object_object_get_ex(o, "s", &v));
    ck_assert_str_eq(json_object_get_string(v), "a\xc3\xa9\xf0\x9f\x98\x80");
    ck_assert(json_object_object_get_ex(o, "i", &v));
    ck_assert(json_object_is_type(v, json_type_int));
    ck_assert_int_eq(json_object_get_int64(v), -42);
    ck_assert(json_object_object_get_ex(o, "d", &v));
    ck_assert(json_object_is_type(v, json_type_double));
    /* The source text stays: the canonical form is made from it. */
    ck_assert_str_eq(json_object_to_json_string(v), "2.50E-3");
    ck_assert(json_object_object_get_ex(o, "n", &v));
    ck_assert_ptr_null(v);
    ck_assert(json_object_object_get_ex(o, "a", &v));
    ck_assert_uint_eq(json_object_array_length(v), 2);
    json_object_put(o);
}
END_TEST

START_TEST(test_capture)
{
    const char *text = "{\"params\":{\"id\":1}, \"id\" :  \"\\u0030\" , \"x\":[{\"id\":2}]}";
    struct sg_json_capture c = {.key = "id"};
    struct json_object *o = NULL;
    ck_assert(sg_json_strict_parse(text, strlen(text), &c, &o, NULL, 0));
    ck_assert(c.found);
    /* Only the top-level member, exactly its text. */
    ck_assert_uint_eq(c.len, 8);
    ck_assert_int_eq(memcmp(text + c.off, "\"\\u0030\"", 8), 0);
    json_object_put(o);

    const char *nested = "{\"params\":{\"id\":1}}";
    ck_assert(sg_json_strict_parse(nested, strlen(nested), &c, &o, NULL, 0));
    ck_assert(!c.found);
    json_object_put(o);

    const char *array = "[{\"id\":1}]";
    ck_assert(sg_json_strict_parse(array, strlen(array), &c, &o, NULL, 0));
    ck_assert(!c.found);
    json_object_put(o);

    const char *bad = "{\"id\":\"0\",}";
    ck_assert(!sg_json_strict_parse(bad, strlen(bad), &c, &o, NULL, 0));
    ck_assert(!c.found);
}
END_TEST

START_TEST(test_reason_names_no_bytes)
{
    /* A reason says where, never what: the body may be a password. */
    const char *text = "{\"password\":\"hunter2\x01\"}";
    struct json_object *o = NULL;
    char why[128];
    ck_assert(!sg_json_strict_parse(text, strlen(text), NULL, &o, why, sizeof why));
    ck_assert_ptr_null(strstr(why, "hunter2"));
    ck_assert_ptr_null(strstr(why, "password"));
    ck_assert_str_eq(why, "not JSON: a control byte in a string at offset 20");
    /* A reason cut to its buffer is still a C string. */
    char small[8];
    ck_assert(!sg_json_strict_parse(text, strlen(text), NULL, &o, small, sizeof small));
    ck_assert_uint_eq(strlen(small), 7);
}
END_TEST

START_TEST(test_put_wiped)
{
    const char *text = "{\"a\":[\"secret-one\",{\"b\":\"secret-two\"}],\"c\":\"secret-three\"}";
    struct json_object *o = NULL, *a, *c;
    ck_assert(sg_json_strict_parse(text, strlen(text), NULL, &o, NULL, 0));
    ck_assert(json_object_object_get_ex(o, "a", &a));
    ck_assert(json_object_object_get_ex(o, "c", &c));
    const char *one = json_object_get_string(json_object_array_get_idx(a, 0));
    const char *three = json_object_get_string(c);
    /* Held once more, the tree outlives the put and its strings can be read. */
    json_object_get(o);
    sg_json_put_wiped(o);
    for (size_t i = 0; i < strlen("secret-one"); i++)
        ck_assert_int_eq(one[i], 0);
    for (size_t i = 0; i < strlen("secret-three"); i++)
        ck_assert_int_eq(three[i], 0);
    json_object_put(o);
    sg_json_put_wiped(NULL);
}
END_TEST

static Suite *strict_suite(void)
{
    Suite *s = suite_create("json_strict");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_strict_table, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_depth_limit);
    tcase_add_test(tc, test_values);
    tcase_add_test(tc, test_capture);
    tcase_add_test(tc, test_reason_names_no_bytes);
    tcase_add_test(tc, test_put_wiped);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(strict_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
