/* The snapservice dialect (another snapservice endpoint), driven by every
 * snapservice-* fixture in the shared api fixtures and in
 * tests/fixtures/snapservice, plus the status table, the request builders
 * and the login answer. */
#include <check.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "sg_fixture_cases.h"
#include "sg_test_util.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/dialect.h"
#include "snapgate/module.h"

static const struct sg_dialect_ops *ops(void)
{
    const struct sg_module *m = sg_module_find(SG_MOD_DIALECT, "snapservice");
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->name, "snapservice");
    ck_assert_ptr_null(m->worker_init);
    ck_assert_ptr_null(m->conf);
    return m->ops;
}

static struct sg_fixture_set fx;
static size_t nshared, nown;

START_TEST(fixture)
{
    sg_fixture_check(ops(), fx.cases[_i], ".upstream.json");
}
END_TEST

START_TEST(fixtures_found)
{
    ck_assert_uint_ge(nshared, 3);
    ck_assert_uint_ge(nown, 20);
}
END_TEST

/* A valid Info is passed on member for member: nothing added (no repair), and
 * the double's text is the upstream's own. */
START_TEST(pass_through_is_exact)
{
    const char *body =
        "{\"description\":{\"id\":\"a\",\"default_message\":\"m\",\"args\":[]},\"service\":\"s\","
        "\"operation\":\"o\",\"status\":\"FAILED\",\"cancelable\":false,\"vc_task\":\"task-9\","
        "\"start_time\":\"2024-07-01T12:00:00.000Z\",\"end_time\":\"2024-07-01T12:00:01.000Z\","
        "\"progress\":{\"total\":4,\"completed\":2,\"message\":{\"id\":\"p\",\"default_message\":"
        "\"{pct}\",\"args\":[],\"params\":{\"pct\":{\"d\":0.50,\"precision\":2}}}},"
        "\"result\":{\"x\":null,\"n\":1.0e2}}";
    struct sg_normalized out = {0};
    ops()->normalize(NULL, "t", 200, body, strlen(body), &out);
    ck_assert_msg(out.outcome == SG_OUT_INFO, "%s", out.reason);
    ck_assert_int_eq(out.status, SG_TASK_FAILED);
    const char *text = json_object_to_json_string_ext(out.info, JSON_C_TO_STRING_PLAIN |
                                                                    JSON_C_TO_STRING_NOSLASHESCAPE);
    ck_assert_ptr_nonnull(strstr(text, "\"vc_task\":\"task-9\""));
    ck_assert_ptr_nonnull(strstr(text, "\"d\":0.50"));
    /* result is opaque: its null and number text stay */
    ck_assert_ptr_nonnull(strstr(text, "\"result\":{\"x\":null,\"n\":1.0e2}"));
    /* FAILED without error: the shared validator's generic message, nothing else */
    struct json_object *err;
    ck_assert(json_object_object_get_ex(out.info, "error", &err));
    sg_normalized_clear(&out);
}
END_TEST

static const struct {
    int http;
    const char *body;
    enum sg_outcome outcome;
    const char *reason;
} statuses[] = {
    {401, "", SG_OUT_UNAUTHENTICATED, "401"},
    {403, "", SG_OUT_UNAUTHORIZED, "403"},
    {404, "", SG_OUT_NOT_FOUND, "404"},
    {429, "", SG_OUT_UNAVAILABLE, "429"},
    {502, "", SG_OUT_UNAVAILABLE, "502"},
    {503, "", SG_OUT_UNAVAILABLE, "503"},
    {504, "", SG_OUT_UNAVAILABLE, "504"},
    {500,
     "{\"error_type\":\"RESOURCE_INACCESSIBLE\",\"messages\":[{\"id\":\"a\",\"default_message\":"
     "\"m\",\"args\":[]}]}",
     SG_OUT_INACCESSIBLE, "RESOURCE_INACCESSIBLE"},
    {500, "{\"type\":\"com.vmware.vapi.std.errors.resource_inaccessible\",\"value\":{}}",
     SG_OUT_ERROR, "not a standard error"},
    {500, "", SG_OUT_ERROR, "empty body"},
    {200, "", SG_OUT_ERROR, "empty body"},
    {200, "null", SG_OUT_ERROR, "JSON null"},
    {200, "[]", SG_OUT_ERROR, "not a JSON object"},
    {200, "{}", SG_OUT_ERROR, "upstream Info rejected"},
    {200, "{\"value\":{}}", SG_OUT_ERROR, "unknown member"},
    {204, "", SG_OUT_ERROR, "unexpected upstream HTTP 204"},
};

START_TEST(normalize_statuses)
{
    struct sg_normalized out;
    memset(&out, 0x5a, sizeof out);
    out.info = NULL;
    ops()->normalize(NULL, "t", statuses[_i].http, statuses[_i].body, strlen(statuses[_i].body),
                     &out);
    ck_assert_msg(out.outcome == statuses[_i].outcome, "case %d: outcome %d (%s)", _i, out.outcome,
                  out.reason);
    ck_assert_ptr_null(out.info);
    ck_assert_msg(strstr(out.reason, statuses[_i].reason) != NULL, "case %d: reason \"%s\"", _i,
                  out.reason);
}
END_TEST

START_TEST(build_task)
{
    struct sg_http_req r = {0};
    ck_assert_int_eq(ops()->build_task(NULL, NULL, "8c1f0e2d-4b6a/x y", &r), SG_OK);
    ck_assert_str_eq(r.method, "GET");
    ck_assert_str_eq(r.path, "/api/snapservice/tasks/8c1f0e2d-4b6a%2Fx%20y");
    ck_assert_uint_eq(r.nheaders, 1);
    ck_assert_str_eq(r.header_names[0], "Accept");
    sg_http_req_clear(&r);
    ck_assert_int_eq(ops()->build_task(NULL, NULL, "..", &r), SG_ERR);
    ck_assert_int_eq(ops()->build_task(NULL, NULL, "", &r), SG_ERR);
    ck_assert_ptr_null(r.path);
}
END_TEST

START_TEST(login)
{
    struct sg_conf_backend b = {.username = "svc", .password = "secret"};
    struct sg_http_req r = {0};
    ck_assert_int_eq(ops()->build_login(NULL, &b, &r), SG_OK);
    ck_assert_str_eq(r.method, "POST");
    ck_assert_str_eq(r.path, "/api/session");
    ck_assert_str_eq(r.header_names[0], "Authorization");
    ck_assert_str_eq(r.header_values[0], "Basic c3ZjOnNlY3JldA==");
    sg_http_req_clear(&r);

    char reason[200], *session = NULL;
    const char *ok = "\"b7a1c9d2e3f4\"";
    ck_assert_int_eq(
        ops()->parse_login(NULL, 201, NULL, NULL, ok, strlen(ok), &session, reason, sizeof reason),
        SG_OK);
    ck_assert_str_eq(session, "b7a1c9d2e3f4");
    free(session);
    session = NULL;
    const char *legacy = "{\"value\":\"b7a1c9d2e3f4\"}";
    ck_assert_int_eq(ops()->parse_login(NULL, 200, NULL, NULL, legacy, strlen(legacy), &session,
                                        reason, sizeof reason),
                     SG_ERR);
    ck_assert_int_eq(
        ops()->parse_login(NULL, 401, NULL, NULL, "", 0, &session, reason, sizeof reason),
        SG_DENIED);
    ck_assert_ptr_null(session);

    ck_assert_int_eq(ops()->build_task(NULL, NULL, "t", &r), SG_OK);
    ops()->apply_session(NULL, "b7a1c9d2e3f4", &r);
    ck_assert_str_eq(r.header_names[1], "vmware-api-session-id");
    ck_assert_str_eq(r.header_values[1], "b7a1c9d2e3f4");
    sg_http_req_clear(&r);
}
END_TEST

static Suite *snapservice_suite(void)
{
    Suite *s = suite_create("dialect_snapservice");
    TCase *tc = tcase_create("fixtures");
    tcase_add_test(tc, fixtures_found);
    tcase_add_loop_test(tc, fixture, 0, (int)fx.n);
    suite_add_tcase(s, tc);
    tc = tcase_create("normalize");
    tcase_add_test(tc, pass_through_is_exact);
    tcase_add_loop_test(tc, normalize_statuses, 0, (int)SG_ARRAY_LEN(statuses));
    suite_add_tcase(s, tc);
    tc = tcase_create("requests");
    tcase_add_test(tc, build_task);
    tcase_add_test(tc, login);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    char *shared = sg_test_fixture_path(".");
    char *own = sg_test_own_fixture_path("snapservice");
    nshared = sg_fixture_collect(&fx, shared, "snapservice-");
    nown = sg_fixture_collect(&fx, own, "snapservice-");
    free(shared);
    free(own);

    SRunner *sr = srunner_create(snapservice_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    sg_fixture_free(&fx);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
