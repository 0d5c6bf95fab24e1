/* Routing and task id validation, table-driven. */
#include <check.h>
#include <string.h>

#include "http/router.h"

struct route_case {
    const char *method;
    const char *path;
    enum sg_route want;
    const char *want_id;
};

static const struct route_case route_cases[] = {
    {"GET", "/api/snapservice/tasks/abc", SG_ROUTE_TASK, "abc"},
    {"HEAD", "/api/snapservice/tasks/abc", SG_ROUTE_TASK, "abc"},
    {"GET", "/api/snapservice/tasks/52a0c7f3-1b9e:com.vmware.esx", SG_ROUTE_TASK,
     "52a0c7f3-1b9e:com.vmware.esx"},
    /* The Go runtime encodes a '/' inside the id: one segment, decoded. */
    {"GET", "/api/snapservice/tasks/a%2Fb", SG_ROUTE_TASK, "a/b"},
    {"GET", "/api/snapservice/tasks/a%3ab", SG_ROUTE_TASK, "a:b"},
    {"GET", "/api/snapservice/tasks/", SG_ROUTE_NOT_FOUND, NULL},
    {"GET", "/api/snapservice/tasks", SG_ROUTE_NOT_FOUND, NULL},
    {"GET", "/api/snapservice/tasks/a/b", SG_ROUTE_NOT_FOUND, NULL},
    {"GET", "/api/other", SG_ROUTE_NOT_FOUND, NULL},
    {"GET", "/", SG_ROUTE_NOT_FOUND, NULL},
    {"DELETE", "/api/other", SG_ROUTE_NOT_FOUND, NULL},
    {"POST", "/api/snapservice/tasks/abc", SG_ROUTE_BAD_METHOD, NULL},
    {"PUT", "/api/snapservice/tasks/abc", SG_ROUTE_BAD_METHOD, NULL},
    {"DELETE", "/api/snapservice/tasks/abc", SG_ROUTE_BAD_METHOD, NULL},
    {"GET", "/api/snapservice/tasks/a%20b", SG_ROUTE_BAD_ID, NULL},
    {"GET", "/api/snapservice/tasks/a%00b", SG_ROUTE_BAD_ID, NULL},
    {"GET", "/api/snapservice/tasks/a%0Ab", SG_ROUTE_BAD_ID, NULL},
    {"GET", "/api/snapservice/tasks/a%7Fb", SG_ROUTE_BAD_ID, NULL},
    {"GET", "/api/snapservice/tasks/caf%C3%A9", SG_ROUTE_BAD_ID, NULL},
    {"GET", "/api/snapservice/tasks/a%2", SG_ROUTE_BAD_ID, NULL},
    {"GET", "/api/snapservice/tasks/a%zz", SG_ROUTE_BAD_ID, NULL},
    {"GET", "/api/snapservice/tasks/%", SG_ROUTE_BAD_ID, NULL},
    /* dot-segments, plain or encoded: normalized away upstream */
    {"GET", "/api/snapservice/tasks/.", SG_ROUTE_BAD_ID, NULL},
    {"GET", "/api/snapservice/tasks/..", SG_ROUTE_BAD_ID, NULL},
    {"GET", "/api/snapservice/tasks/%2E", SG_ROUTE_BAD_ID, NULL},
    {"GET", "/api/snapservice/tasks/%2e%2E", SG_ROUTE_BAD_ID, NULL},
    {"GET", "/api/snapservice/tasks/...", SG_ROUTE_TASK, "..."},
    {"GET", "/api/snapservice/tasks/.a", SG_ROUTE_TASK, ".a"},
    /* vAPI JSON-RPC: exactly /api and /snapservice, POST only */
    {"POST", "/api", SG_ROUTE_RPC, NULL},
    {"POST", "/snapservice", SG_ROUTE_RPC, NULL},
    {"GET", "/api", SG_ROUTE_BAD_METHOD, NULL},
    {"PUT", "/snapservice", SG_ROUTE_BAD_METHOD, NULL},
    {"POST", "/api/", SG_ROUTE_NOT_FOUND, NULL},
    {"POST", "/API", SG_ROUTE_NOT_FOUND, NULL},
    {"POST", "/snapservice/", SG_ROUTE_NOT_FOUND, NULL},
    {"POST", "/api/cis/session", SG_ROUTE_NOT_FOUND, NULL},
    /* sessions */
    {"POST", "/api/snapservice/sessions", SG_ROUTE_SESSIONS, NULL},
    {"GET", "/api/snapservice/sessions", SG_ROUTE_SESSIONS, NULL},
    {"DELETE", "/api/snapservice/sessions", SG_ROUTE_SESSIONS, NULL},
    {"HEAD", "/api/snapservice/sessions", SG_ROUTE_BAD_METHOD, NULL},
    {"PATCH", "/api/snapservice/sessions", SG_ROUTE_BAD_METHOD, NULL},
    {"GET", "/api/snapservice/sessions/x", SG_ROUTE_NOT_FOUND, NULL},
};

START_TEST(test_allow_names_each_routes_methods)
{
    ck_assert_str_eq(sg_route_allow("/api"), "POST");
    ck_assert_str_eq(sg_route_allow("/snapservice"), "POST");
    ck_assert_str_eq(sg_route_allow("/api/snapservice/sessions"), "POST, GET, DELETE");
    ck_assert_str_eq(sg_route_allow("/api/snapservice/tasks/x"), "GET, HEAD");
}
END_TEST

START_TEST(test_route_table)
{
    const struct route_case *c = &route_cases[_i];
    char id[SG_TASK_ID_MAX + 1] = "";
    const char *why = NULL;
    enum sg_route got = sg_route_request(c->method, c->path, id, &why);
    ck_assert_msg(got == c->want, "%s %s: route %d, want %d", c->method, c->path, got, c->want);
    if (c->want_id)
        ck_assert_str_eq(id, c->want_id);
    if (c->want == SG_ROUTE_BAD_ID)
        ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(test_id_length_limit)
{
    char path[600], id[SG_TASK_ID_MAX + 1];
    const char *why = NULL;
    strcpy(path, SG_TASK_PREFIX);
    size_t n = strlen(path);
    memset(path + n, 'x', 256);
    path[n + 256] = '\0';
    ck_assert_int_eq(sg_route_request("GET", path, id, &why), SG_ROUTE_TASK);
    ck_assert_uint_eq(strlen(id), 256);
    path[n + 256] = 'x';
    path[n + 257] = '\0';
    ck_assert_int_eq(sg_route_request("GET", path, id, &why), SG_ROUTE_BAD_ID);
    ck_assert_ptr_nonnull(strstr(why, "256"));
}
END_TEST

START_TEST(test_encoded_length_counts_decoded_bytes)
{
    /* 256 encoded bytes of %41 decode to 256 'A's: valid even though the raw
     * segment is three times longer. */
    char path[1000], id[SG_TASK_ID_MAX + 1];
    const char *why = NULL;
    strcpy(path, SG_TASK_PREFIX);
    for (int i = 0; i < 256; i++)
        strcat(path, "%41");
    ck_assert_int_eq(sg_route_request("GET", path, id, &why), SG_ROUTE_TASK);
    ck_assert_uint_eq(strlen(id), 256);
    ck_assert_int_eq(id[0], 'A');
}
END_TEST

START_TEST(test_id_check_decodes_nothing)
{
    /* The JSON-RPC path's ids arrive decoded: '%' is a byte like any other,
     * and the REST rules hold with the REST reasons. */
    char id[300];
    const char *why = NULL;
    ck_assert_int_eq(sg_task_id_check("a%2Fb", 5, &why), 0);
    ck_assert_int_eq(sg_task_id_check("a/b:c", 5, &why), 0);
    ck_assert_int_eq(sg_task_id_check("", 0, &why), -1);
    ck_assert_str_eq(why, "the task id is empty");
    ck_assert_int_eq(sg_task_id_check("a b", 3, &why), -1);
    ck_assert_ptr_nonnull(strstr(why, "whitespace"));
    ck_assert_int_eq(sg_task_id_check("a\0b", 3, &why), -1);
    ck_assert_int_eq(sg_task_id_check("caf\xc3\xa9", 5, &why), -1);
    ck_assert_int_eq(sg_task_id_check("..", 2, &why), -1);
    ck_assert_ptr_nonnull(strstr(why, "dot-segment"));
    memset(id, 'x', sizeof id);
    ck_assert_int_eq(sg_task_id_check(id, 256, &why), 0);
    ck_assert_int_eq(sg_task_id_check(id, 257, &why), -1);
    ck_assert_ptr_nonnull(strstr(why, "256"));
}
END_TEST

static Suite *router_suite(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_route_table, 0,
                        (int)(sizeof(route_cases) / sizeof(route_cases[0])));
    tcase_add_test(tc, test_id_length_limit);
    tcase_add_test(tc, test_allow_names_each_routes_methods);
    tcase_add_test(tc, test_encoded_length_counts_decoded_bytes);
    tcase_add_test(tc, test_id_check_decodes_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(router_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
