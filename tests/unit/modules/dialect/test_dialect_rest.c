/* The rest dialect (legacy /rest API), driven by every rest-* fixture in the
 * shared api fixtures and in tests/fixtures/rest (a new fixture file is a new
 * check), plus tables for the params rewrite, the status classification, the
 * request builders and the legacy login answer. */
#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
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
    const struct sg_module *m = sg_module_find(SG_MOD_DIALECT, "rest");
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->name, "rest");
    ck_assert_ptr_null(m->worker_init);
    ck_assert_ptr_null(m->conf);
    return m->ops;
}

/* ---- fixtures ------------------------------------------------------------- */

static struct sg_fixture_set fx;
static size_t nshared, nown;

START_TEST(fixture)
{
    sg_fixture_check(ops(), fx.cases[_i], ".upstream.json");
}
END_TEST

START_TEST(fixtures_found)
{
    /* a wrong directory must not pass as "no cases" */
    ck_assert_uint_ge(nshared, 3);
    ck_assert_uint_ge(nown, 30);
}
END_TEST

/* ---- the params rewrite, one message at a time ---------------------------- */

/* A legacy RUNNING Info whose progress message has the given params JSON. */
static char *info_with_params(const char *params)
{
    return sg_xasprintf(
        "{\"value\":{\"description\":{\"id\":\"d\",\"default_message\":\"m\",\"args\":[]},"
        "\"service\":\"s\",\"operation\":\"o\",\"status\":\"RUNNING\",\"cancelable\":false,"
        "\"start_time\":\"2024-07-01T10:00:00Z\",\"progress\":{\"total\":10,\"completed\":1,"
        "\"message\":{\"id\":\"p\",\"default_message\":\"m\",\"args\":[],\"params\":%s}}}}",
        params);
}

static const struct {
    const char *params;
    const char *want;   /* the params object served; NULL: rejected */
    const char *reason; /* in the reason when rejected */
} params_cases[] = {
    {"[]", "{}", NULL},
    {"[{\"key\":\"a\",\"value\":{\"s\":\"x\"}}]", "{\"a\":{\"s\":\"x\"}}", NULL},
    {"[{\"value\":{\"i\":1},\"key\":\"b\"},{\"key\":\"a\",\"value\":{\"s\":\"x\"}}]",
     "{\"b\":{\"i\":1},\"a\":{\"s\":\"x\"}}", NULL},
    {"{\"a\":{\"s\":\"x\"}}", "{\"a\":{\"s\":\"x\"}}", NULL},
    {"[{\"key\":\"a\",\"value\":{\"l\":{\"id\":\"n\",\"params\":[{\"key\":\"b\",\"value\":"
     "{\"l\":{\"id\":\"n2\",\"params\":[{\"key\":\"c\",\"value\":{\"d\":1.5,\"precision\":1}}]}}}"
     "]}}}]",
     "{\"a\":{\"l\":{\"id\":\"n\",\"params\":{\"b\":{\"l\":{\"id\":\"n2\",\"params\":{\"c\":"
     "{\"d\":1.5,\"precision\":1}}}}}}}}",
     NULL},
    {"[{\"key\":\"a\",\"value\":{\"dt\":\"2024-07-01T12:00:00.123456+02:00\"}}]",
     "{\"a\":{\"dt\":\"2024-07-01T10:00:00.123Z\"}}", NULL},
    {"null", "", NULL}, /* "": no params member at all */
    {"[{\"key\":\"a\",\"value\":{\"s\":\"x\"}},{\"key\":\"a\",\"value\":{\"s\":\"x\"}}]", NULL,
     "progress.message.params[1]: params key \"a\" given twice"},
    {"[{\"key\":\"a\",\"value\":{\"l\":{\"id\":\"n\",\"params\":[{\"key\":\"b\",\"value\":"
     "{\"i\":1}},{\"key\":\"b\",\"value\":{\"i\":2}}]}}}]",
     NULL, "progress.message.params.a.l.params[1]: params key \"b\" given twice"},
    {"[{\"key\":\"a\"}]", NULL, "params[0]: a params entry must be exactly"},
    {"[{\"key\":\"a\",\"value\":{},\"x\":1}]", NULL, "params[0]: a params entry must be exactly"},
    {"[[\"a\",{\"s\":\"x\"}]]", NULL, "params[0]: a params entry must be exactly"},
    {"[{\"key\":\"\",\"value\":{\"s\":\"x\"}}]", NULL, "non-empty string"},
    {"[{\"key\":null,\"value\":{\"s\":\"x\"}}]", NULL, "non-empty string"},
    {"\"a=x\"", NULL, "params"},
    {"[{\"key\":\"a\",\"value\":\"x\"}]", NULL, "progress.message.params"},
    /* the validator's rule for a param: an object, null is not one */
    {"[{\"key\":\"a\",\"value\":null}]", NULL, "params.a: must be a LocalizationParam"},
};

START_TEST(params_rewrite)
{
    char *body = info_with_params(params_cases[_i].params);
    struct sg_normalized out = {0};
    ops()->normalize(NULL, "t", 200, body, strlen(body), &out);
    if (!params_cases[_i].want) {
        ck_assert_int_eq(out.outcome, SG_OUT_ERROR);
        ck_assert_ptr_null(out.info);
        ck_assert_msg(strstr(out.reason, params_cases[_i].reason) != NULL, "case %d: reason \"%s\"",
                      _i, out.reason);
        free(body);
        return;
    }
    ck_assert_msg(out.outcome == SG_OUT_INFO, "case %d: %s", _i, out.reason);
    struct json_object *prog, *msg, *params;
    ck_assert(json_object_object_get_ex(out.info, "progress", &prog));
    ck_assert(json_object_object_get_ex(prog, "message", &msg));
    if (!*params_cases[_i].want) {
        ck_assert(!json_object_object_get_ex(msg, "params", NULL));
    } else {
        ck_assert(json_object_object_get_ex(msg, "params", &params));
        struct json_object *want = json_tokener_parse(params_cases[_i].want);
        ck_assert_ptr_nonnull(want);
        ck_assert_msg(json_object_equal(params, want), "case %d: got %s", _i,
                      json_object_to_json_string(params));
        json_object_put(want);
    }
    sg_normalized_clear(&out);
    free(body);
}
END_TEST

/* ---- normalize: status table ---------------------------------------------- */

#define MSGS "\"messages\":[{\"id\":\"a\",\"default_message\":\"m\",\"args\":[]}]"
#define LEGACY(type, value) "{\"type\":\"com.vmware.vapi.std.errors." type "\",\"value\":" value "}"

static const struct {
    int http;
    const char *body;
    enum sg_outcome outcome;
    const char *reason;
} statuses[] = {
    {401, "", SG_OUT_UNAUTHENTICATED, "401"},
    {403, "{}", SG_OUT_UNAUTHORIZED, "403"},
    {404, "garbage", SG_OUT_NOT_FOUND, "404"},
    {429, "", SG_OUT_UNAVAILABLE, "429"},
    {502, "", SG_OUT_UNAVAILABLE, "502"},
    {503, "", SG_OUT_UNAVAILABLE, "503"},
    {504, "", SG_OUT_UNAVAILABLE, "504"},
    {500, LEGACY("resource_inaccessible", "{\"error_type\":\"RESOURCE_INACCESSIBLE\"," MSGS "}"),
     SG_OUT_INACCESSIBLE, "500 RESOURCE_INACCESSIBLE"},
    {500, LEGACY("resource_inaccessible", "{" MSGS "}"), SG_OUT_INACCESSIBLE,
     "500 RESOURCE_INACCESSIBLE"},
    {500, LEGACY("resource_inaccessible", "{\"error_type\":null," MSGS "}"), SG_OUT_INACCESSIBLE,
     "500 RESOURCE_INACCESSIBLE"},
    {500, LEGACY("error", "{" MSGS "}"), SG_OUT_ERROR, "500 ERROR"},
    {500, LEGACY("resource_inaccessible", "{\"error_type\":\"ERROR\"," MSGS "}"), SG_OUT_ERROR,
     "disagree"},
    {500, LEGACY("resource_inaccessible", "{\"error_type\":5," MSGS "}"), SG_OUT_ERROR, "disagree"},
    {500, LEGACY("resource_inaccessible", "[]"), SG_OUT_ERROR, "value is not an object"},
    {500, LEGACY("resource_inaccessible", "{}"), SG_OUT_ERROR, "messages missing"},
    {500, LEGACY("no_such_error", "{" MSGS "}"), SG_OUT_ERROR, "not a standard error type"},
    {500, LEGACY("", "{" MSGS "}"), SG_OUT_ERROR, "not a standard error type"},
    /* a NUL inside the name ends no name early */
    {500, LEGACY("resource_inaccessible\\u0000x", "{" MSGS "}"), SG_OUT_ERROR,
     "not a standard error type"},
    {500,
     LEGACY("resource_inaccessible_and_then_some_more_words_to_overflow_the_buffer_of_64",
            "{" MSGS "}"),
     SG_OUT_ERROR, "not a standard error type"},
    {500, "{\"type\":\"vapi.resource_inaccessible\",\"value\":{" MSGS "}}", SG_OUT_ERROR,
     "not a standard error type"},
    {500, "{\"type\":7,\"value\":{" MSGS "}}", SG_OUT_ERROR, "not a standard error type"},
    {500, "{\"error_type\":\"RESOURCE_INACCESSIBLE\"," MSGS "}", SG_OUT_ERROR,
     "not a {\"type\", \"value\"} error"},
    {500, "[1]", SG_OUT_ERROR, "not a {\"type\", \"value\"} error"},
    {500, "", SG_OUT_ERROR, "empty body"},
    {500, "<html>", SG_OUT_ERROR, "not JSON"},
    {200, "", SG_OUT_ERROR, "empty body"},
    {200, "[]", SG_OUT_ERROR, "not a JSON object"},
    {200, "{}", SG_OUT_ERROR, "not a {\"value\": Info} wrapper"},
    {200, "{\"value\":null}", SG_OUT_ERROR, "value is not a JSON object"},
    {200, "{\"value\":[]}", SG_OUT_ERROR, "value is not a JSON object"},
    {200, "{\"value\":{}}", SG_OUT_ERROR, "upstream Info rejected"},
    {201, "{}", SG_OUT_ERROR, "unexpected upstream HTTP 201"},
    {400, "", SG_OUT_ERROR, "unexpected upstream HTTP 400"},
    {0, "", SG_OUT_ERROR, "unexpected upstream HTTP 0"},
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

/* ---- requests ------------------------------------------------------------- */

static const struct {
    const char *id;
    const char *path; /* NULL: refused */
} tasks[] = {
    {"task-1", "/rest/cis/tasks/task-1"},
    {"524f5061-7283-94a5-b6c7-d8e9fa0b1c11:com.vmware.esx.settings.clusters.software",
     "/rest/cis/tasks/"
     "524f5061-7283-94a5-b6c7-d8e9fa0b1c11:com.vmware.esx.settings.clusters.software"},
    {"a/b", "/rest/cis/tasks/a%2Fb"},
    {"a b?c#d", "/rest/cis/tasks/a%20b%3Fc%23d"},
    {"50%", "/rest/cis/tasks/50%25"},
    {"..", NULL},
    {".", NULL},
    {"", NULL},
};

START_TEST(build_task)
{
    struct sg_http_req r = {0};
    int rc = ops()->build_task(NULL, NULL, tasks[_i].id, &r);
    if (!tasks[_i].path) {
        ck_assert_int_eq(rc, SG_ERR);
        ck_assert_ptr_null(r.path);
        ck_assert_uint_eq(r.nheaders, 0);
        return;
    }
    ck_assert_int_eq(rc, SG_OK);
    ck_assert_str_eq(r.method, "GET");
    ck_assert_str_eq(r.path, tasks[_i].path);
    ck_assert_ptr_null(r.body);
    ck_assert_uint_eq(r.nheaders, 1);
    ck_assert_str_eq(r.header_names[0], "Accept");
    ck_assert_str_eq(r.header_values[0], "application/json");
    sg_http_req_clear(&r);
}
END_TEST

START_TEST(build_login)
{
    struct sg_conf_backend b = {.username = "svc-snapgate@vsphere.local",
                                .password = "pa:ss w\xc3\xb6rd"};
    struct sg_http_req r = {0};
    ck_assert_int_eq(ops()->build_login(NULL, &b, &r), SG_OK);
    ck_assert_str_eq(r.method, "POST");
    ck_assert_str_eq(r.path, "/rest/com/vmware/cis/session");
    ck_assert(r.body == NULL || r.body_len == 0);
    ck_assert_uint_eq(r.nheaders, 2);
    ck_assert_str_eq(r.header_names[0], "Authorization");
    ck_assert_str_eq(r.header_values[0],
                     "Basic c3ZjLXNuYXBnYXRlQHZzcGhlcmUubG9jYWw6cGE6c3Mgd8O2cmQ=");
    ck_assert_str_eq(r.header_names[1], "Accept");
    sg_http_req_clear(&r);

    struct sg_conf_backend none = {0}, colon = {.username = "a:b", .password = "p"};
    ck_assert_int_eq(ops()->build_login(NULL, &none, &r), SG_ERR);
    ck_assert_int_eq(ops()->build_login(NULL, &colon, &r), SG_ERR);
    ck_assert_ptr_null(r.path);
    ck_assert_uint_eq(r.nheaders, 0);
}
END_TEST

static const struct {
    int http;
    const char *body;
    int rc;
    const char *session;
} logins[] = {
    {200, "{\"value\":\"secret-b7a1c9d2e3f4\"}", SG_OK, "secret-b7a1c9d2e3f4"},
    {201, " { \"value\" : \"secret-b7a1c9d2e3f4\" }\n", SG_OK, "secret-b7a1c9d2e3f4"},
    {401, LEGACY("unauthenticated", "{" MSGS "}"), SG_DENIED, NULL},
    {403, "", SG_DENIED, NULL},
    {500, "{\"value\":\"secret-b7a1c9d2e3f4\"}", SG_ERR, NULL},
    {200, "\"secret-b7a1c9d2e3f4\"", SG_ERR, NULL},
    {200, "{\"value\":\"secret-b7a1c9d2e3f4\",\"x\":1}", SG_ERR, NULL},
    {200, "{\"session\":\"secret-b7a1c9d2e3f4\"}", SG_ERR, NULL},
    {200, "{\"value\":{\"id\":\"secret-b7a1c9d2e3f4\"}}", SG_ERR, NULL},
    {200, "{\"value\":\"\"}", SG_ERR, NULL},
    {200, "{\"value\":\"secret b7a1\"}", SG_ERR, NULL},
    {200, "{\"value\":\"secret-b7a1\\r\\nX: 1\"}", SG_ERR, NULL},
    {200, "{\"value\":\"secret-b7a1\"} trailing", SG_ERR, NULL},
    {200, "", SG_ERR, NULL},
};

START_TEST(parse_login)
{
    char reason[200] = "";
    char *session = NULL;
    int rc = ops()->parse_login(NULL, logins[_i].http, NULL, NULL, logins[_i].body,
                                strlen(logins[_i].body), &session, reason, sizeof reason);
    ck_assert_int_eq(rc, logins[_i].rc);
    if (rc == SG_OK) {
        ck_assert_str_eq(session, logins[_i].session);
        free(session);
        return;
    }
    ck_assert_ptr_null(session);
    ck_assert_msg(reason[0] != '\0', "case %d: no reason", _i);
    ck_assert_msg(strstr(reason, "secret") == NULL, "case %d: reason leaks: %s", _i, reason);
}
END_TEST

START_TEST(apply_session)
{
    struct sg_http_req r = {0};
    ck_assert_int_eq(ops()->build_task(NULL, NULL, "task-1", &r), SG_OK);
    ops()->apply_session(NULL, "b7a1c9d2e3f4", &r);
    ck_assert_uint_eq(r.nheaders, 2);
    ck_assert_str_eq(r.header_names[1], "vmware-api-session-id");
    ck_assert_str_eq(r.header_values[1], "b7a1c9d2e3f4");
    sg_http_req_clear(&r);
}
END_TEST

static Suite *rest_suite(void)
{
    Suite *s = suite_create("dialect_rest");
    TCase *tc = tcase_create("fixtures");
    tcase_add_test(tc, fixtures_found);
    tcase_add_loop_test(tc, fixture, 0, (int)fx.n);
    suite_add_tcase(s, tc);
    tc = tcase_create("normalize");
    tcase_add_loop_test(tc, params_rewrite, 0, (int)SG_ARRAY_LEN(params_cases));
    tcase_add_loop_test(tc, normalize_statuses, 0, (int)SG_ARRAY_LEN(statuses));
    suite_add_tcase(s, tc);
    tc = tcase_create("requests");
    tcase_add_loop_test(tc, build_task, 0, (int)SG_ARRAY_LEN(tasks));
    tcase_add_test(tc, build_login);
    tcase_add_loop_test(tc, parse_login, 0, (int)SG_ARRAY_LEN(logins));
    tcase_add_test(tc, apply_session);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    char *shared = sg_test_fixture_path(".");
    char *own = sg_test_own_fixture_path("rest");
    nshared = sg_fixture_collect(&fx, shared, "rest-");
    nown = sg_fixture_collect(&fx, own, "rest-");
    free(shared);
    free(own);

    SRunner *sr = srunner_create(rest_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    sg_fixture_free(&fx);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
