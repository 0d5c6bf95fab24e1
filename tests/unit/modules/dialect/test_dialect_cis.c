/* The cis dialect, driven by every cis-* fixture in the shared api fixtures
 * and in tests/fixtures/cis (a new fixture file is a new check), plus the
 * request builders, login parsing and answer classification tables. */
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
    const struct sg_module *m = sg_module_find(SG_MOD_DIALECT, "cis");
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->name, "cis");
    ck_assert_ptr_null(m->worker_init);
    return m->ops;
}

/* ---- fixtures (the runner is shared with the other dialect suites) -------- */

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
    ck_assert_uint_ge(nshared, 10);
    ck_assert_uint_ge(nown, 20);
}
END_TEST

/* ---- normalize: status table ---------------------------------------------- */

#define INACCESSIBLE                                                                               \
    "{\"error_type\":\"RESOURCE_INACCESSIBLE\",\"messages\":[{\"id\":\"a\",\"default_message\":"   \
    "\"m\",\"args\":[]}]}"

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
    {500, INACCESSIBLE, SG_OUT_INACCESSIBLE, "RESOURCE_INACCESSIBLE"},
    {500, "{\"error_type\":\"RESOURCE_INACCESSIBLE\"}", SG_OUT_ERROR, "messages missing"},
    {500, "{\"error_type\":\"NOT_FOUND\",\"messages\":[]}", SG_OUT_ERROR, "500 NOT_FOUND"},
    {500, "", SG_OUT_ERROR, "empty body"},
    {500, "<html>", SG_OUT_ERROR, "not JSON"},
    {200, "", SG_OUT_ERROR, "empty body"},
    {200, "[]", SG_OUT_ERROR, "not a JSON object"},
    {200, "\"RUNNING\"", SG_OUT_ERROR, "not a JSON object"},
    {200, INACCESSIBLE, SG_OUT_ERROR, "unknown member"},
    {201, "{}", SG_OUT_ERROR, "unexpected upstream HTTP 201"},
    {204, "", SG_OUT_ERROR, "unexpected upstream HTTP 204"},
    {301, "", SG_OUT_ERROR, "unexpected upstream HTTP 301"},
    {400, "", SG_OUT_ERROR, "unexpected upstream HTTP 400"},
    {0, "", SG_OUT_ERROR, "unexpected upstream HTTP 0"},
};

START_TEST(normalize_statuses)
{
    struct sg_normalized out;
    memset(&out, 0x5a, sizeof out); /* the dialect must set every field it reports */
    out.info = NULL;
    ops()->normalize(NULL, "t", statuses[_i].http, statuses[_i].body, strlen(statuses[_i].body),
                     &out);
    ck_assert_int_eq(out.outcome, statuses[_i].outcome);
    ck_assert_ptr_null(out.info);
    ck_assert_msg(strstr(out.reason, statuses[_i].reason) != NULL, "case %d: reason \"%s\"", _i,
                  out.reason);
    ck_assert_uint_lt(strlen(out.reason), sizeof out.reason);
}
END_TEST

START_TEST(normalize_keeps_double_text)
{
    const char *body =
        "{\"description\":{\"id\":\"a\",\"default_message\":\"m\",\"args\":[]},\"service\":\"s\","
        "\"operation\":\"o\",\"status\":\"RUNNING\",\"cancelable\":true,\"start_time\":"
        "\"2024-07-01T12:00:00.5+02:00\",\"progress\":{\"total\":100,\"completed\":75,\"message\":"
        "{\"id\":\"p\",\"default_message\":\"{pct}\",\"args\":[],\"params\":{\"pct\":{\"d\":0.75,"
        "\"precision\":2}}}},\"result\":{\"size\":1.5e3,\"path\":\"/a/b\"}}";
    struct sg_normalized out = {0};
    ops()->normalize(NULL, "t", 200, body, strlen(body), &out);
    ck_assert_int_eq(out.outcome, SG_OUT_INFO);
    ck_assert_int_eq(out.status, SG_TASK_RUNNING);
    const char *text = json_object_to_json_string_ext(out.info, JSON_C_TO_STRING_PLAIN |
                                                                    JSON_C_TO_STRING_NOSLASHESCAPE);
    ck_assert_ptr_nonnull(strstr(text, "\"d\":0.75"));
    ck_assert_ptr_nonnull(strstr(text, "\"size\":1.5e3"));
    ck_assert_ptr_nonnull(strstr(text, "\"path\":\"/a/b\""));
    ck_assert_ptr_nonnull(strstr(text, "\"start_time\":\"2024-07-01T10:00:00.500Z\""));
    sg_normalized_clear(&out);
    ck_assert_ptr_null(out.info);
}
END_TEST

/* ---- build_task ------------------------------------------------------------ */

static const struct {
    const char *id;
    const char *path; /* NULL: refused */
} tasks[] = {
    {"task-1", "/api/cis/tasks/task-1"},
    {"52a0c7f3-1b9e-4d25-8f60-7e3a2b1c0d02:com.vmware.esx.settings.clusters.software",
     "/api/cis/tasks/"
     "52a0c7f3-1b9e-4d25-8f60-7e3a2b1c0d02:com.vmware.esx.settings.clusters.software"},
    {"a/b", "/api/cis/tasks/a%2Fb"},
    {"a b", "/api/cis/tasks/a%20b"},
    {"50%", "/api/cis/tasks/50%25"},
    {"%2F", "/api/cis/tasks/%252F"},
    {"a?b#c", "/api/cis/tasks/a%3Fb%23c"},
    {"a;jsessionid=1", "/api/cis/tasks/a%3Bjsessionid=1"},
    {"u@h:1!$&'()*+,=~._-", "/api/cis/tasks/u@h:1!$&'()*+,=~._-"},
    {"\xc3\xa9\t\"<>\\^`{|}", "/api/cis/tasks/%C3%A9%09%22%3C%3E%5C%5E%60%7B%7C%7D"},
    {"...", "/api/cis/tasks/..."},
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

/* ---- login ---------------------------------------------------------------- */

START_TEST(build_login)
{
    struct sg_conf_backend b = {.username = "svc-snapgate@vsphere.local",
                                .password = "pa:ss w\xc3\xb6rd"};
    struct sg_http_req r = {0};
    ck_assert_int_eq(ops()->build_login(NULL, &b, &r), SG_OK);
    ck_assert_str_eq(r.method, "POST");
    ck_assert_str_eq(r.path, "/api/session");
    ck_assert(r.body == NULL || r.body_len == 0);
    ck_assert_uint_eq(r.nheaders, 2);
    ck_assert_str_eq(r.header_names[0], "Authorization");
    ck_assert_str_eq(r.header_values[0],
                     "Basic c3ZjLXNuYXBnYXRlQHZzcGhlcmUubG9jYWw6cGE6c3Mgd8O2cmQ=");
    ck_assert_str_eq(r.header_names[1], "Accept");
    ck_assert_str_eq(r.header_values[1], "application/json");
    sg_http_req_clear(&r);

    struct sg_conf_backend empty_pw = {.username = "a", .password = ""};
    ck_assert_int_eq(ops()->build_login(NULL, &empty_pw, &r), SG_OK);
    ck_assert_str_eq(r.header_values[0], "Basic YTo=");
    sg_http_req_clear(&r);

    /* delegated mode (no service account) and user names Basic cannot carry */
    struct sg_conf_backend none = {0}, nopw = {.username = "a"},
                           colon = {.username = "a:b", .password = "p"};
    ck_assert_int_eq(ops()->build_login(NULL, &none, &r), SG_ERR);
    ck_assert_int_eq(ops()->build_login(NULL, &nopw, &r), SG_ERR);
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
    {201, "\"secret-b7a1c9d2e3f4\"", SG_OK, "secret-b7a1c9d2e3f4"},
    {200, " \"secret-b7a1c9d2e3f4\"\n", SG_OK, "secret-b7a1c9d2e3f4"},
    {401, "{\"error_type\":\"UNAUTHENTICATED\",\"messages\":[]}", SG_DENIED, NULL},
    {403, "", SG_DENIED, NULL},
    {500, "\"secret-b7a1c9d2e3f4\"", SG_ERR, NULL},
    {204, "", SG_ERR, NULL},
    {201, "{\"value\":\"secret-b7a1c9d2e3f4\"}", SG_ERR, NULL},
    {201, "\"secret-b7a1c9d2e3f4\" trailing", SG_ERR, NULL},
    {201, "\"secret-b7a1c9d2e3f4", SG_ERR, NULL},
    {201, "\"\"", SG_ERR, NULL},
    {201, "\"secret-b7a1\\r\\nX-Injected: 1\"", SG_ERR, NULL},
    {201, "\"secret b7a1\"", SG_ERR, NULL},
    {201, "\"secret-b7a1\\u0000x\"", SG_ERR, NULL},
    {201, "", SG_ERR, NULL},
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

START_TEST(long_session_refused)
{
    size_t n = 5000;
    char *body = sg_xmalloc(n + 3);
    body[0] = '"';
    memset(body + 1, 'a', n);
    body[n + 1] = '"';
    body[n + 2] = '\0';
    char reason[200], *session = NULL;
    ck_assert_int_eq(
        ops()->parse_login(NULL, 201, NULL, NULL, body, n + 2, &session, reason, sizeof reason),
        SG_ERR);
    ck_assert_ptr_null(session);
    free(body);
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

static Suite *cis_suite(void)
{
    Suite *s = suite_create("dialect_cis");
    TCase *tc = tcase_create("fixtures");
    tcase_add_test(tc, fixtures_found);
    tcase_add_loop_test(tc, fixture, 0, (int)fx.n);
    suite_add_tcase(s, tc);
    tc = tcase_create("normalize");
    tcase_add_loop_test(tc, normalize_statuses, 0, (int)SG_ARRAY_LEN(statuses));
    tcase_add_test(tc, normalize_keeps_double_text);
    suite_add_tcase(s, tc);
    tc = tcase_create("requests");
    tcase_add_loop_test(tc, build_task, 0, (int)SG_ARRAY_LEN(tasks));
    tcase_add_test(tc, build_login);
    tcase_add_loop_test(tc, parse_login, 0, (int)SG_ARRAY_LEN(logins));
    tcase_add_test(tc, long_session_refused);
    tcase_add_test(tc, apply_session);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    char *shared = sg_test_fixture_path(".");
    char *own = sg_test_own_fixture_path("cis");
    nshared = sg_fixture_collect(&fx, shared, "cis-");
    nown = sg_fixture_collect(&fx, own, "cis-");
    free(shared);
    free(own);

    SRunner *sr = srunner_create(cis_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    sg_fixture_free(&fx);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
