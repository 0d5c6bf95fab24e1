/* The vim25 (SOAP) dialect, driven by every vim25-* fixture in the shared api
 * fixtures and in tests/fixtures/vim25 (a new fixture file is a new check),
 * plus the SOAP request bodies (parsed back with libxml2), the cookie login,
 * and the answer classification table. */
#include <check.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "sg_fixture_cases.h"
#include "sg_test_util.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/dialect.h"
#include "snapgate/module.h"

static struct sg_fixture_set set;
static size_t nshared, nown;

static const struct sg_dialect_ops *ops(void)
{
    const struct sg_module *m = sg_module_find(SG_MOD_DIALECT, "vim25");
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->name, "vim25");
    ck_assert_ptr_null(m->conf);
    return m->ops;
}

START_TEST(fixture)
{
    sg_fixture_check(ops(), set.cases[_i], ".upstream.xml");
}
END_TEST

START_TEST(fixtures_found)
{
    ck_assert_uint_ge(nshared, 7);
    ck_assert_uint_ge(nown, 8);
}
END_TEST

/* ---- normalize: statuses and SOAP shapes ------------------------------------ */

#define ENV_HEAD                                                                                   \
    "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "               \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>"
#define ENV_TAIL "</soapenv:Body></soapenv:Envelope>"
#define FAULT(type)                                                                                \
    ENV_HEAD "<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>x</faultstring>"   \
             "<detail><" type "Fault xmlns=\"urn:vim25\"/></detail></soapenv:Fault>" ENV_TAIL
#define RESPONSE(inner)                                                                            \
    ENV_HEAD "<RetrievePropertiesExResponse xmlns=\"urn:vim25\">" inner                            \
             "</RetrievePropertiesExResponse>" ENV_TAIL

static const struct {
    int http;
    const char *body;
    enum sg_outcome outcome;
    const char *reason;
} statuses[] = {
    {401, "", SG_OUT_UNAUTHENTICATED, "401"},
    {403, "", SG_OUT_UNAUTHORIZED, "403"},
    {404, FAULT("ManagedObjectNotFound"), SG_OUT_ERROR, "unexpected upstream HTTP 404"},
    {429, "", SG_OUT_UNAVAILABLE, "429"},
    {502, "", SG_OUT_UNAVAILABLE, "502"},
    {503, "", SG_OUT_UNAVAILABLE, "503"},
    {504, "", SG_OUT_UNAVAILABLE, "504"},
    /* the detail's type comes from its element name when it has no xsi:type */
    {500, FAULT("ManagedObjectNotFound"), SG_OUT_NOT_FOUND, "fault ManagedObjectNotFound"},
    {500, FAULT("NotAuthenticated"), SG_OUT_UNAUTHENTICATED, "fault NotAuthenticated"},
    {500, FAULT("NoPermission"), SG_OUT_UNAUTHORIZED, "fault NoPermission"},
    {500, FAULT("InvalidRequest"), SG_OUT_ERROR, "fault InvalidRequest"},
    {500, ENV_HEAD "<soapenv:Fault><faultcode>x</faultcode></soapenv:Fault>" ENV_TAIL, SG_OUT_ERROR,
     "fault (untyped)"},
    {500, "<html>oops</html>", SG_OUT_ERROR, "not a SOAP envelope"},
    {500, "", SG_OUT_ERROR, "empty body"},
    {200, "<a><b></a>", SG_OUT_ERROR, "not well-formed"},
    {200, "<Envelope><Body/></Envelope>", SG_OUT_ERROR, "not a SOAP envelope"},
    {200, RESPONSE(""), SG_OUT_ERROR, "without the task object"},
    {200, RESPONSE("<returnval><objects><obj type=\"Task\">t</obj></objects></returnval>"),
     SG_OUT_ERROR, "without Task.info"},
    {200, ENV_HEAD "<LoginResponse xmlns=\"urn:vim25\"/>" ENV_TAIL, SG_OUT_ERROR,
     "unexpected SOAP answer"},
    {200,
     RESPONSE("<returnval><objects><propSet><name>info</name><val xsi:type=\"Task\"/></propSet>"
              "</objects></returnval>"),
     SG_OUT_ERROR, "not a TaskInfo"},
    {200,
     RESPONSE("<returnval><objects><propSet><name>info</name><val xsi:type=\"TaskInfo\">"
              "<state>running</state><progress>4x</progress></val></propSet>"
              "</objects></returnval>"),
     SG_OUT_ERROR, "TaskInfo.progress is not a number"},
    {200,
     RESPONSE("<returnval><objects><propSet><name>info</name><val xsi:type=\"TaskInfo\">"
              "<state>running</state><cancelable>maybe</cancelable></val></propSet>"
              "</objects></returnval>"),
     SG_OUT_ERROR, "TaskInfo.cancelable is not a boolean"},
    {200,
     "<?xml version=\"1.0\"?><!DOCTYPE lol [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
     "\"&a;&a;&a;&a;&a;&a;&a;&a;\">]>" ENV_HEAD "<x>&b;</x>" ENV_TAIL,
     SG_OUT_ERROR, "DTD"},
    {200, ENV_HEAD "<x><!DOCTYPE y></x>" ENV_TAIL, SG_OUT_ERROR, "DTD"},
    {201, "", SG_OUT_ERROR, "unexpected upstream HTTP 201"},
    {0, "", SG_OUT_ERROR, "unexpected upstream HTTP 0"},
};

START_TEST(normalize_statuses)
{
    struct sg_normalized out;
    memset(&out, 0x5a, sizeof out);
    out.info = NULL;
    ops()->normalize(NULL, "task-1", statuses[_i].http, statuses[_i].body,
                     strlen(statuses[_i].body), &out);
    ck_assert_msg(out.outcome == statuses[_i].outcome, "case %d: outcome %d (%s)", _i, out.outcome,
                  out.reason);
    ck_assert_ptr_null(out.info);
    ck_assert_msg(strstr(out.reason, statuses[_i].reason) != NULL, "case %d: reason \"%s\"", _i,
                  out.reason);
}
END_TEST

/* A body of many small chunks, as evhttp reassembles a chunked answer: the
 * parser sees one buffer, here with a NUL-free but long padding between tags. */
START_TEST(normalize_long_body)
{
    char *fix = sg_test_fixture_path("vim25-running.upstream.xml");
    size_t len;
    char *xml = sg_test_read_file(fix, &len);
    ck_assert_ptr_nonnull(xml);
    const char *cut = strstr(xml, "<soapenv:Body>");
    ck_assert_ptr_nonnull(cut);
    size_t pad = 200000, head = (size_t)(cut - xml);
    char *big = sg_xmalloc(len + pad + 1);
    memcpy(big, xml, head);
    memset(big + head, ' ', pad);
    memcpy(big + head + pad, cut, len - head + 1);
    struct sg_normalized out = {0};
    ops()->normalize(NULL, "task-2102", 200, big, len + pad, &out);
    ck_assert_int_eq(out.outcome, SG_OUT_INFO);
    ck_assert_int_eq(out.status, SG_TASK_RUNNING);
    sg_normalized_clear(&out);
    free(big);
    free(xml);
    free(fix);
}
END_TEST

/* ---- requests ---------------------------------------------------------------- */

static xmlDoc *parse_req(const struct sg_http_req *r)
{
    ck_assert_str_eq(r->method, "POST");
    ck_assert_str_eq(r->path, "/sdk");
    ck_assert_uint_eq(r->body_len, strlen(r->body));
    ck_assert_uint_ge(r->nheaders, 2);
    ck_assert_str_eq(r->header_names[0], "Content-Type");
    ck_assert_str_eq(r->header_values[0], "text/xml; charset=utf-8");
    ck_assert_str_eq(r->header_names[1], "SOAPAction");
    ck_assert_str_eq(r->header_values[1], "\"urn:vim25/8.0.3.0\"");
    xmlDoc *doc = xmlReadMemory(r->body, (int)r->body_len, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    ck_assert_msg(doc != NULL, "request body is not XML: %s", r->body);
    return doc;
}

/* The text of the first element named name anywhere under n (depth first). */
static char *find_text(xmlNode *n, const char *name, char **type_attr)
{
    for (; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0) {
            if (type_attr)
                *type_attr = (char *)xmlGetProp(n, (const xmlChar *)"type");
            return (char *)xmlNodeGetContent(n);
        }
        char *t = find_text(n->children, name, type_attr);
        if (t)
            return t;
    }
    return NULL;
}

static const struct {
    const char *id;
    bool ok;
} tasks[] = {
    {"task-68", true}, {"a<b>&\"c'd", true}, {"task\r\n-1\t", true}, {"\xc3\xa9t\xc3\xa9-1", true},
    {"", false},       {"task\x01", false},
};

START_TEST(build_task)
{
    struct sg_http_req r = {0};
    int rc = ops()->build_task(NULL, NULL, tasks[_i].id, &r);
    if (!tasks[_i].ok) {
        ck_assert_int_eq(rc, SG_ERR);
        ck_assert_ptr_null(r.path);
        ck_assert_uint_eq(r.nheaders, 0);
        return;
    }
    ck_assert_int_eq(rc, SG_OK);
    ck_assert_uint_eq(r.nheaders, 2);
    xmlDoc *doc = parse_req(&r);
    xmlNode *root = xmlDocGetRootElement(doc);
    char *type = NULL;
    char *obj = find_text(root, "obj", &type);
    ck_assert_str_eq(obj, tasks[_i].id); /* the id survives escaping exactly */
    ck_assert_str_eq(type, "Task");
    char *pc = find_text(root, "_this", NULL);
    ck_assert_str_eq(pc, "propertyCollector");
    char *path = find_text(root, "pathSet", NULL);
    ck_assert_str_eq(path, "info");
    xmlFree(obj);
    xmlFree(type);
    xmlFree(pc);
    xmlFree(path);
    xmlFreeDoc(doc);
    sg_http_req_clear(&r);
}
END_TEST

START_TEST(build_login)
{
    struct sg_conf_backend b = {.username = "svc@vsphere.local", .password = "p<&>\"'w\r\xc3\xb6"};
    struct sg_http_req r = {0};
    ck_assert_int_eq(ops()->build_login(NULL, &b, &r), SG_OK);
    ck_assert_uint_eq(r.nheaders, 2);
    xmlDoc *doc = parse_req(&r);
    xmlNode *root = xmlDocGetRootElement(doc);
    char *type = NULL;
    char *sm = find_text(root, "_this", &type);
    ck_assert_str_eq(sm, "SessionManager");
    ck_assert_str_eq(type, "SessionManager");
    char *user = find_text(root, "userName", NULL);
    char *pass = find_text(root, "password", NULL);
    ck_assert_str_eq(user, "svc@vsphere.local");
    ck_assert_str_eq(pass, "p<&>\"'w\r\xc3\xb6");
    xmlFree(sm);
    xmlFree(type);
    xmlFree(user);
    xmlFree(pass);
    xmlFreeDoc(doc);
    sg_http_req_clear(&r);

    struct sg_conf_backend none = {0}, nopw = {.username = "a"},
                           ctl = {.username = "a", .password = "p\x1b"};
    ck_assert_int_eq(ops()->build_login(NULL, &none, &r), SG_ERR);
    ck_assert_int_eq(ops()->build_login(NULL, &nopw, &r), SG_ERR);
    ck_assert_int_eq(ops()->build_login(NULL, &ctl, &r), SG_ERR);
    ck_assert_ptr_null(r.path);
    ck_assert_uint_eq(r.nheaders, 0);
}
END_TEST

static const char *lookup(void *ctx, const char *name)
{
    const char *const *kv = ctx;
    for (; kv[0]; kv += 2) {
        if (strcasecmp(kv[0], name) == 0)
            return kv[1];
    }
    return NULL;
}

static const char *const sim_cookie[] = {
    "Set-Cookie", "vmware_soap_session=8d781c3d-356f-439e-90b2-97e3546dc34b; HttpOnly", NULL};
static const char *const vc_cookie[] = {
    "set-cookie", "vmware_soap_session=\"52b0c1d2e3f4\"; Path=/; HttpOnly; Secure;", NULL};
static const char *const bare_cookie[] = {"Set-Cookie", "vmware_soap_session=abc", NULL};
static const char *const other_cookie[] = {"Set-Cookie", "JSESSIONID=abc; Path=/", NULL};
static const char *const empty_cookie[] = {"Set-Cookie", "vmware_soap_session=; Path=/", NULL};
static const char *const bad_cookie[] = {"Set-Cookie", "vmware_soap_session=a b; Path=/", NULL};
static const char *const no_cookie[] = {"Content-Type", "text/xml", NULL};

#define LOGIN_FAULT(type)                                                                          \
    ENV_HEAD "<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Login failure"     \
             "</faultstring><detail><" type "Fault xmlns=\"urn:vim25\" xsi:type=\"" type           \
             "\"></" type "Fault></detail></soapenv:Fault>" ENV_TAIL

static const struct {
    int http;
    const char *const *hdrs;
    const char *body;
    int rc;
    const char *session;
} logins[] = {
    {200, sim_cookie, "", SG_OK, "8d781c3d-356f-439e-90b2-97e3546dc34b"},
    {200, vc_cookie, "", SG_OK, "\"52b0c1d2e3f4\""},
    {200, bare_cookie, "", SG_OK, "abc"},
    {200, other_cookie, "", SG_ERR, NULL},
    {200, empty_cookie, "", SG_ERR, NULL},
    {200, bad_cookie, "", SG_ERR, NULL},
    {200, no_cookie, "", SG_ERR, NULL},
    {500, no_cookie, LOGIN_FAULT("InvalidLogin"), SG_DENIED, NULL},
    {500, sim_cookie, LOGIN_FAULT("NoPermission"), SG_DENIED, NULL},
    {500, no_cookie, LOGIN_FAULT("SystemError"), SG_ERR, NULL},
    {500, no_cookie, "<html/>", SG_ERR, NULL},
    {401, no_cookie, "", SG_DENIED, NULL},
    {403, no_cookie, "", SG_DENIED, NULL},
    {503, sim_cookie, "", SG_ERR, NULL},
};

START_TEST(parse_login)
{
    char reason[200] = "";
    char *session = NULL;
    int rc =
        ops()->parse_login(NULL, logins[_i].http, lookup, (void *)logins[_i].hdrs, logins[_i].body,
                           strlen(logins[_i].body), &session, reason, sizeof reason);
    ck_assert_msg(rc == logins[_i].rc, "case %d: rc %d (%s)", _i, rc, reason);
    if (rc == SG_OK) {
        ck_assert_str_eq(session, logins[_i].session);
        free(session);
        return;
    }
    ck_assert_ptr_null(session);
    ck_assert_msg(reason[0] != '\0', "case %d: no reason", _i);
    ck_assert_msg(strstr(reason, "8d781c3d") == NULL, "case %d: reason leaks: %s", _i, reason);
}
END_TEST

START_TEST(apply_session)
{
    struct sg_http_req r = {0};
    ck_assert_int_eq(ops()->build_task(NULL, NULL, "task-1", &r), SG_OK);
    ops()->apply_session(NULL, "\"52b0c1d2e3f4\"", &r);
    ck_assert_uint_eq(r.nheaders, 3);
    ck_assert_str_eq(r.header_names[2], "Cookie");
    ck_assert_str_eq(r.header_values[2], "vmware_soap_session=\"52b0c1d2e3f4\"");
    sg_http_req_clear(&r);
}
END_TEST

static Suite *vim25_suite(void)
{
    Suite *s = suite_create("dialect_vim25");
    TCase *tc = tcase_create("fixtures");
    tcase_add_test(tc, fixtures_found);
    tcase_add_loop_test(tc, fixture, 0, (int)set.n);
    suite_add_tcase(s, tc);
    tc = tcase_create("normalize");
    tcase_add_loop_test(tc, normalize_statuses, 0, (int)SG_ARRAY_LEN(statuses));
    tcase_add_test(tc, normalize_long_body);
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
    char *own = sg_test_own_fixture_path("vim25");
    nshared = sg_fixture_collect(&set, shared, "vim25-");
    nown = sg_fixture_collect(&set, own, "vim25-");
    free(shared);
    free(own);

    SRunner *sr = srunner_create(vim25_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    sg_fixture_free(&set);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
