/* The vijson dialect, driven by every vijson-* fixture in the shared api
 * fixtures and in tests/fixtures/vijson (a new fixture file is a new check),
 * plus the request builders, the header login, the status and fault tables,
 * and the `release` config rule. */
#include <check.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sg_fixture_cases.h"
#include "sg_test_util.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/dialect.h"
#include "snapgate/module.h"

static struct sg_fixture_set set;
static size_t nshared, nown;

static const struct sg_module *module(void)
{
    const struct sg_module *m = sg_module_find(SG_MOD_DIALECT, "vijson");
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->name, "vijson");
    ck_assert_ptr_null(m->worker_init);
    return m;
}

static const struct sg_dialect_ops *ops(void)
{
    return module()->ops;
}

/* The dialect's priv for a backend entry holding release, built by the
 * module's own conf hook as the loader does; NULL release: no priv. Free with
 * free_conf. */
static void *conf_with(const char *release)
{
    if (!release)
        return NULL;
    char *yaml = sg_xasprintf("release: \"%s\"\n", release);
    struct sg_conf_errs errs = {0};
    struct sg_conf_node *n = sg_conf_tree_parse_string(yaml, &errs);
    ck_assert_ptr_nonnull(n);
    void *priv = NULL;
    ck_assert_int_eq(module()->conf(n, "backends[0]", NULL, &errs, &priv), SG_OK);
    ck_assert_uint_eq(errs.n, 0);
    ck_assert_ptr_nonnull(priv);
    sg_conf_tree_free(n);
    free(yaml);
    return priv;
}

START_TEST(fixture)
{
    sg_fixture_check(ops(), set.cases[_i], ".upstream.json");
}
END_TEST

START_TEST(fixtures_found)
{
    /* a wrong directory must not pass as "no cases" */
    ck_assert_uint_ge(nshared, 7);
    ck_assert_uint_ge(nown, 8);
}
END_TEST

/* ---- normalize: status and fault table -------------------------------------- */

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
    {500, "{\"_typeName\":\"ManagedObjectNotFound\"}", SG_OUT_NOT_FOUND, "ManagedObjectNotFound"},
    {500, "{\"_typeName\":\"NotAuthenticated\"}", SG_OUT_UNAUTHENTICATED, "NotAuthenticated"},
    {500, "{\"_typeName\":\"NoPermission\"}", SG_OUT_UNAUTHORIZED, "NoPermission"},
    {400, "{\"_typeName\":\"InvalidArgument\"}", SG_OUT_ERROR, "InvalidArgument"},
    {500, "{\"_typeName\":\"SystemError\"}", SG_OUT_ERROR, "SystemError"},
    {500, "{\"_typeName\":7}", SG_OUT_ERROR, "without a fault body"},
    {500, "<html>", SG_OUT_ERROR, "without a fault body"},
    {500, "", SG_OUT_ERROR, "without a fault body"},
    {200, "", SG_OUT_ERROR, "empty body"},
    {200, "[]", SG_OUT_ERROR, "not an object"},
    {200, "{\"_typeName\":\"TaskInfo\"}", SG_OUT_ERROR, "state is missing"},
    {201, "{}", SG_OUT_ERROR, "unexpected upstream HTTP 201"},
    {301, "", SG_OUT_ERROR, "unexpected upstream HTTP 301"},
    {0, "", SG_OUT_ERROR, "unexpected upstream HTTP 0"},
};

START_TEST(normalize_statuses)
{
    struct sg_normalized out;
    memset(&out, 0x5a, sizeof out);
    out.info = NULL;
    ops()->normalize(NULL, "task-1", statuses[_i].http, statuses[_i].body,
                     strlen(statuses[_i].body), &out);
    ck_assert_int_eq(out.outcome, statuses[_i].outcome);
    ck_assert_ptr_null(out.info);
    ck_assert_msg(strstr(out.reason, statuses[_i].reason) != NULL, "case %d: reason \"%s\"", _i,
                  out.reason);
}
END_TEST

/* ---- requests ---------------------------------------------------------------- */

static const struct {
    const char *id;
    const char *path; /* NULL: refused */
} tasks[] = {
    {"task-68", "/sdk/vim25/8.0.3.0/Task/task-68/info"},
    {"a/b", "/sdk/vim25/8.0.3.0/Task/a%2Fb/info"},
    {"a?b#c", "/sdk/vim25/8.0.3.0/Task/a%3Fb%23c/info"},
    {"50%", "/sdk/vim25/8.0.3.0/Task/50%25/info"},
    {"..", NULL},
    {".", NULL},
    {"", NULL},
};

START_TEST(build_task)
{
    struct sg_conf_backend b = {0};
    void *priv = conf_with("8.0.3.0");
    struct sg_http_req r = {0};
    int rc = ops()->build_task(priv, &b, tasks[_i].id, &r);
    module()->free_conf(priv);
    if (!tasks[_i].path) {
        ck_assert_int_eq(rc, SG_ERR);
        ck_assert_ptr_null(r.path);
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

START_TEST(build_task_needs_release)
{
    struct sg_conf_backend b = {0};
    void *dot = conf_with("..");
    struct sg_http_req r = {0};
    ck_assert_int_eq(ops()->build_task(NULL, &b, "task-1", &r), SG_ERR);
    ck_assert_int_eq(ops()->build_task(dot, &b, "task-1", &r), SG_ERR);
    module()->free_conf(dot);
    ck_assert_ptr_null(r.path);
    ck_assert_uint_eq(r.nheaders, 0);
}
END_TEST

START_TEST(build_login)
{
    struct sg_conf_backend b = {.username = "svc@vsphere.local",
                                .password = "p\"a\\ss/w\xc3\xb6rd"};
    void *priv = conf_with("8.0.3.0");
    struct sg_http_req r = {0};
    ck_assert_int_eq(ops()->build_login(priv, &b, &r), SG_OK);
    ck_assert_str_eq(r.method, "POST");
    ck_assert_str_eq(r.path, "/sdk/vim25/8.0.3.0/SessionManager/SessionManager/Login");
    ck_assert_uint_eq(r.body_len, strlen(r.body));
    struct json_object *o = json_tokener_parse(r.body), *v;
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(json_object_object_length(o), 2);
    ck_assert(json_object_object_get_ex(o, "userName", &v));
    ck_assert_str_eq(json_object_get_string(v), "svc@vsphere.local");
    ck_assert(json_object_object_get_ex(o, "password", &v));
    ck_assert_str_eq(json_object_get_string(v), "p\"a\\ss/w\xc3\xb6rd");
    json_object_put(o);
    ck_assert_uint_eq(r.nheaders, 2);
    ck_assert_str_eq(r.header_names[0], "Content-Type");
    ck_assert_str_eq(r.header_values[0], "application/json");
    sg_http_req_clear(&r);

    struct sg_conf_backend nocred = {0}, norel = {.username = "a", .password = "b"};
    ck_assert_int_eq(ops()->build_login(priv, &nocred, &r), SG_ERR);
    ck_assert_int_eq(ops()->build_login(NULL, &norel, &r), SG_ERR);
    ck_assert_ptr_null(r.path);
    module()->free_conf(priv);
}
END_TEST

/* A header lookup over a NULL-terminated name/value list. */
static const char *lookup(void *ctx, const char *name)
{
    const char *const *kv = ctx;
    for (; kv[0]; kv += 2) {
        if (strcasecmp(kv[0], name) == 0)
            return kv[1];
    }
    return NULL;
}

static const char *const good_hdr[] = {"Vmware-Api-Session-Id", "secret-5f1d8e", NULL};
static const char *const bad_hdr[] = {"vmware-api-session-id", "secret 5f1d", NULL};
static const char *const no_hdr[] = {"Content-Type", "application/json", NULL};

static const struct {
    int http;
    const char *const *hdrs;
    const char *body;
    int rc;
    const char *session;
} logins[] = {
    {200, good_hdr, "{\"_typeName\":\"UserSession\"}", SG_OK, "secret-5f1d8e"},
    {201, good_hdr, "", SG_OK, "secret-5f1d8e"},
    {200, bad_hdr, "", SG_ERR, NULL},
    {200, no_hdr, "\"secret-5f1d8e\"", SG_ERR, NULL},
    {401, good_hdr, "", SG_DENIED, NULL},
    {403, no_hdr, "", SG_DENIED, NULL},
    {400, no_hdr, "{\"_typeName\":\"InvalidLogin\"}", SG_DENIED, NULL},
    {500, no_hdr, "{\"_typeName\":\"InvalidLogin\"}", SG_DENIED, NULL},
    {500, no_hdr, "{\"_typeName\":\"SystemError\"}", SG_ERR, NULL},
    {500, good_hdr, "", SG_ERR, NULL},
    {204, no_hdr, "", SG_ERR, NULL},
};

START_TEST(parse_login)
{
    char reason[200] = "";
    char *session = NULL;
    int rc =
        ops()->parse_login(NULL, logins[_i].http, lookup, (void *)logins[_i].hdrs, logins[_i].body,
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
    struct sg_conf_backend b = {0};
    void *priv = conf_with("8.0.3.0");
    struct sg_http_req r = {0};
    ck_assert_int_eq(ops()->build_task(priv, &b, "task-1", &r), SG_OK);
    module()->free_conf(priv);
    ops()->apply_session(NULL, "5f1d8e", &r);
    ck_assert_uint_eq(r.nheaders, 2);
    ck_assert_str_eq(r.header_names[1], "vmware-api-session-id");
    ck_assert_str_eq(r.header_values[1], "5f1d8e");
    sg_http_req_clear(&r);
}
END_TEST

/* ---- the release rule, through the whole config loader ------------------------ */

static const struct {
    const char *backend; /* YAML lines of the backend entry after `dialect` */
    const char *release; /* what the backend gets when valid */
    const char *error;   /* substring of the one error, NULL: valid */
} confs[] = {
    {"    release: \"8.0.3.0\"\n", "8.0.3.0", NULL},
    {"    release: \"8.0.2.00300\"\n", "8.0.2.00300", NULL},
    {"", NULL, "backends[0].release: required key is missing"},
    {"    release: \"8.0/../x\"\n", NULL, "backends[0].release: not a release"},
    {"    release: \"8 0\"\n", NULL, "backends[0].release: not a release"},
    {"    release: \"\"\n", NULL, "backends[0].release: must not be empty"},
    {"    release: [8]\n", NULL, "backends[0].release: want a string"},
};

START_TEST(conf_release)
{
    char *pw = sg_test_write_temp("pw\n");
    char *yaml = sg_xasprintf("backends:\n  - name: vc1\n    url: \"https://vc1.example\"\n"
                              "    dialect: vijson\n%s    credentials:\n      username: svc\n"
                              "      password_file: %s\n",
                              confs[_i].backend, pw);
    char *path = sg_test_write_temp(yaml);
    struct sg_conf_errs errs = {0};
    struct sg_conf *c = sg_conf_load(path, &errs);
    if (!confs[_i].error) {
        ck_assert_msg(c != NULL, "case %d: %s", _i, errs.n ? errs.msgs[0] : "?");
        /* The release the hook kept is the one every path names. */
        struct sg_http_req r = {0};
        ck_assert_int_eq(
            ops()->build_task(c->backends[0].dialect_priv, &c->backends[0], "task-1", &r), SG_OK);
        char *want = sg_xasprintf("/sdk/vim25/%s/Task/task-1/info", confs[_i].release);
        ck_assert_str_eq(r.path, want);
        free(want);
        sg_http_req_clear(&r);
        ck_assert_ptr_eq(c->backends[0].dialect, module());
        sg_conf_free(c);
    } else {
        ck_assert_ptr_null(c);
        ck_assert_uint_eq(errs.n, 1);
        ck_assert_msg(strstr(errs.msgs[0], confs[_i].error) != NULL, "case %d: %s", _i,
                      errs.msgs[0]);
    }
    sg_conf_errs_clear(&errs);
    unlink(path);
    unlink(pw);
    free(path);
    free(pw);
    free(yaml);
}
END_TEST

/* A reload keeps a vijson backend's clients only when its release stays. */
START_TEST(conf_equal)
{
    void *a = conf_with("8.0.3.0"), *b = conf_with("8.0.3.0"), *c = conf_with("8.0.2.0");
    ck_assert(module()->conf_equal(a, b));
    ck_assert(!module()->conf_equal(a, c));
    ck_assert(!module()->conf_equal(a, NULL));
    ck_assert(module()->conf_equal(NULL, NULL));
    module()->free_conf(a);
    module()->free_conf(b);
    module()->free_conf(c);
}
END_TEST

static Suite *vijson_suite(void)
{
    Suite *s = suite_create("dialect_vijson");
    TCase *tc = tcase_create("fixtures");
    tcase_add_test(tc, fixtures_found);
    tcase_add_loop_test(tc, fixture, 0, (int)set.n);
    suite_add_tcase(s, tc);
    tc = tcase_create("normalize");
    tcase_add_loop_test(tc, normalize_statuses, 0, (int)SG_ARRAY_LEN(statuses));
    suite_add_tcase(s, tc);
    tc = tcase_create("requests");
    tcase_add_loop_test(tc, build_task, 0, (int)SG_ARRAY_LEN(tasks));
    tcase_add_test(tc, build_task_needs_release);
    tcase_add_test(tc, build_login);
    tcase_add_loop_test(tc, parse_login, 0, (int)SG_ARRAY_LEN(logins));
    tcase_add_test(tc, apply_session);
    suite_add_tcase(s, tc);
    tc = tcase_create("conf");
    tcase_add_loop_test(tc, conf_release, 0, (int)SG_ARRAY_LEN(confs));
    tcase_add_test(tc, conf_equal);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    char *shared = sg_test_fixture_path(".");
    char *own = sg_test_own_fixture_path("vijson");
    nshared = sg_fixture_collect(&set, shared, "vijson-");
    nown = sg_fixture_collect(&set, own, "vijson-");
    free(shared);
    free(own);

    SRunner *sr = srunner_create(vijson_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    sg_fixture_free(&set);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
