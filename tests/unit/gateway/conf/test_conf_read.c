/* The config's building blocks: durations, host:port, backend URLs, the typed
 * readers, and the YAML tree (lines, duplicates, syntax errors, aliases). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_internal.h"
#include "snapgate/common.h"

/* ---- durations ---- */

static const struct {
    const char *s;
    int rc;
    uint64_t ms;
} durations[] = {
    {"250ms", SG_OK, 250},
    {"5s", SG_OK, 5000},
    {"10m", SG_OK, 600000},
    {"24h", SG_OK, 86400000},
    {"0s", SG_OK, 0},
    {"007s", SG_OK, 7000},
    {"9223372036854775807ms", SG_OK, 9223372036854775807ULL},
    {"9223372036854775808ms", SG_ERR, 0},
    {"2562047788015216h", SG_ERR, 0},
    {"99999999999999999999999s", SG_ERR, 0},
    {"5", SG_ERR, 0},
    {"s", SG_ERR, 0},
    {"", SG_ERR, 0},
    {"5x", SG_ERR, 0},
    {"5 s", SG_ERR, 0},
    {" 5s", SG_ERR, 0},
    {"5s ", SG_ERR, 0},
    {"-5s", SG_ERR, 0},
    {"+5s", SG_ERR, 0},
    {"1.5s", SG_ERR, 0},
    {"5S", SG_ERR, 0},
    {"5sec", SG_ERR, 0},
    {"5d", SG_ERR, 0},
    {"5us", SG_ERR, 0},
};

START_TEST(test_duration_table)
{
    uint64_t ms = 12345;
    int rc = sg_parse_duration_ms(durations[_i].s, &ms);
    ck_assert_msg(rc == durations[_i].rc, "\"%s\": rc %d", durations[_i].s, rc);
    if (rc == SG_OK)
        ck_assert_uint_eq(ms, durations[_i].ms);
}
END_TEST

/* ---- host:port ---- */

static const struct {
    const char *s;
    const char *host;
    unsigned port;
} hostports[] = {
    {"127.0.0.1:8080", "127.0.0.1", 8080},
    {"localhost:1", "localhost", 1},
    {"0.0.0.0:65535", "0.0.0.0", 65535},
    {"[::1]:9901", "::1", 9901},
    {"[2001:db8::5]:443", "2001:db8::5", 443},
    {"gw-1.example.com:80", "gw-1.example.com", 80},
    {"127.0.0.1:0", NULL, 0},
    {"127.0.0.1:65536", NULL, 0},
    {"127.0.0.1:99999999999999999999", NULL, 0},
    {"127.0.0.1:", NULL, 0},
    {":8080", NULL, 0},
    {"127.0.0.1", NULL, 0},
    {"8080", NULL, 0},
    {"::1:8080", NULL, 0},
    {"[::1]", NULL, 0},
    {"[::1]8080", NULL, 0},
    {"[nothex]:80", NULL, 0},
    {"host name:80", NULL, 0},
    {"127.0.0.1:+80", NULL, 0},
    {"127.0.0.1:80 ", NULL, 0},
    {"", NULL, 0},
};

START_TEST(test_hostport_table)
{
    char *host = NULL;
    uint16_t port = 0;
    int rc = sg_parse_hostport(hostports[_i].s, &host, &port);
    if (!hostports[_i].host) {
        ck_assert_msg(rc == SG_ERR, "\"%s\" accepted", hostports[_i].s);
        ck_assert_ptr_null(host);
        return;
    }
    ck_assert_msg(rc == SG_OK, "\"%s\" rejected", hostports[_i].s);
    ck_assert_str_eq(host, hostports[_i].host);
    ck_assert_uint_eq(port, hostports[_i].port);
    free(host);
}
END_TEST

/* ---- URLs ---- */

static const struct {
    const char *url;
    const char *scheme, *host;
    unsigned port;
    const char *base_path;
    bool echo; /* for the bad ones: may the URL be shown */
} urls[] = {
    {"https://vc1.example.com", "https", "vc1.example.com", 443, "", true},
    {"http://vc1.example.com", "http", "vc1.example.com", 80, "", true},
    {"HTTPS://vc1.example.com:8443/", "https", "vc1.example.com", 8443, "", true},
    {"https://10.0.0.5:443/sdk/", "https", "10.0.0.5", 443, "/sdk", true},
    {"https://[::1]/a/b//", "https", "::1", 443, "/a/b", true},
    {"http://[fe80::1]:8080/x", "http", "fe80::1", 8080, "/x", true},
    {"ftp://vc1.example.com", NULL, NULL, 0, NULL, true},
    {"vc1.example.com", NULL, NULL, 0, NULL, true},
    {"https://", NULL, NULL, 0, NULL, true},
    {"https:///path", NULL, NULL, 0, NULL, true},
    {"https://vc1:0", NULL, NULL, 0, NULL, true},
    {"https://vc1:70000", NULL, NULL, 0, NULL, true},
    {"https://vc1:", NULL, NULL, 0, NULL, true},
    {"https://vc1/?x=1", NULL, NULL, 0, NULL, true},
    {"https://vc1/#frag", NULL, NULL, 0, NULL, true},
    {"https://vc1/a b", NULL, NULL, 0, NULL, true},
    {"https://[::1", NULL, NULL, 0, NULL, true},
    {"https://admin:s3cret@vc1.example.com", NULL, NULL, 0, NULL, false},
};

START_TEST(test_url_table)
{
    struct sg_conf_url u = {0};
    const char *why = NULL;
    bool echo = true;
    int rc = sg_conf_url_parse(urls[_i].url, &u, &why, &echo);
    if (!urls[_i].scheme) {
        ck_assert_msg(rc == SG_ERR, "\"%s\" accepted", urls[_i].url);
        ck_assert_ptr_nonnull(why);
        ck_assert(echo == urls[_i].echo);
        return;
    }
    ck_assert_msg(rc == SG_OK, "\"%s\" rejected: %s", urls[_i].url, why);
    ck_assert_str_eq(u.scheme, urls[_i].scheme);
    ck_assert_str_eq(u.host, urls[_i].host);
    ck_assert_uint_eq(u.port, urls[_i].port);
    ck_assert_str_eq(u.base_path, urls[_i].base_path);
    sg_conf_url_clear(&u);
}
END_TEST

/* ---- the tree ---- */

static struct sg_conf_errs errs;

static void errs_setup(void)
{
    memset(&errs, 0, sizeof(errs));
    errs.file = "t.yaml";
}

static void errs_teardown(void)
{
    sg_conf_errs_clear(&errs);
}

START_TEST(test_tree_lines_and_order)
{
    struct sg_conf_node *root = sg_conf_tree_parse_string("# top\n"
                                                          "b: 1\n"
                                                          "a:\n"
                                                          "  x: 'quoted'\n"
                                                          "  y: [1, 2]\n"
                                                          "c: ~\n"
                                                          "d: \"\"\n",
                                                          &errs);
    ck_assert_ptr_nonnull(root);
    ck_assert_uint_eq(errs.n, 0);
    ck_assert_int_eq(root->type, SG_NODE_MAP);
    ck_assert_uint_eq(root->n, 4);
    ck_assert_str_eq(root->keys[0], "b");
    ck_assert_str_eq(root->keys[1], "a");
    ck_assert_int_eq(root->key_lines[0], 2);
    ck_assert_int_eq(root->key_lines[1], 3);
    const struct sg_conf_node *a = sg_conf_node_get(root, "a");
    ck_assert_int_eq(a->type, SG_NODE_MAP);
    ck_assert_int_eq(a->line, 4);
    const struct sg_conf_node *x = sg_conf_node_get(a, "x");
    ck_assert_str_eq(x->scalar, "quoted");
    ck_assert(x->quoted);
    ck_assert_ptr_null(x->env);
    const struct sg_conf_node *y = sg_conf_node_get(a, "y");
    ck_assert_int_eq(y->type, SG_NODE_SEQ);
    ck_assert_uint_eq(y->n, 2);
    ck_assert_str_eq(y->items[1]->scalar, "2");
    ck_assert(!y->items[1]->quoted);
    ck_assert(sg_conf_node_is_null(sg_conf_node_get(root, "c")));
    ck_assert(!sg_conf_node_is_null(sg_conf_node_get(root, "d")));
    ck_assert_ptr_null(sg_conf_node_get(root, "zz"));
    ck_assert_ptr_null(sg_conf_node_get(x, "anything"));
    sg_conf_tree_free(root);
}
END_TEST

START_TEST(test_tree_empty_document_is_empty_map)
{
    struct sg_conf_node *root = sg_conf_tree_parse_string("# nothing\n", &errs);
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(root->type, SG_NODE_MAP);
    ck_assert_uint_eq(root->n, 0);
    sg_conf_tree_free(root);
}
END_TEST

START_TEST(test_tree_duplicate_keys)
{
    struct sg_conf_node *root = sg_conf_tree_parse_string("a: 1\n"
                                                          "b:\n"
                                                          "  c: 1\n"
                                                          "  c: 2\n"
                                                          "a: 3\n",
                                                          &errs);
    /* Reported, both of them, and the first value kept. */
    ck_assert_ptr_nonnull(root);
    ck_assert_uint_eq(errs.n, 2);
    ck_assert_str_eq(errs.msgs[0], "t.yaml:4: b.c: duplicate key (first at line 3)");
    ck_assert_str_eq(errs.msgs[1], "t.yaml:5: a: duplicate key (first at line 1)");
    ck_assert_str_eq(sg_conf_node_get(root, "a")->scalar, "1");
    sg_conf_tree_free(root);
}
END_TEST

START_TEST(test_tree_syntax_error_line)
{
    struct sg_conf_node *root = sg_conf_tree_parse_string("a: 1\n"
                                                          "b:\n"
                                                          "  c: [1, 2\n"
                                                          "d: 4\n",
                                                          &errs);
    ck_assert_ptr_null(root);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_msg(strstr(errs.msgs[0], "t.yaml:4: (yaml): syntax error: ") == errs.msgs[0], "%s",
                  errs.msgs[0]);
}
END_TEST

START_TEST(test_tree_syntax_error_bad_indent)
{
    struct sg_conf_node *root = sg_conf_tree_parse_string("a:\n"
                                                          "  b: 1\n"
                                                          " c: 2\n",
                                                          &errs);
    ck_assert_ptr_null(root);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_msg(strncmp(errs.msgs[0], "t.yaml:3: (yaml): syntax error: ", 32) == 0, "%s",
                  errs.msgs[0]);
}
END_TEST

START_TEST(test_tree_rejects_anchor_and_alias)
{
    struct sg_conf_node *root = sg_conf_tree_parse_string("a: &x 5s\nb: *x\n", &errs);
    ck_assert_ptr_null(root);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0],
                     "t.yaml:1: a: YAML anchors (&name) are not supported; write the value out");
    sg_conf_errs_clear(&errs);
    root = sg_conf_tree_parse_string("a: 5s\nb: *x\n", &errs);
    ck_assert_ptr_null(root);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_msg(strstr(errs.msgs[0], "t.yaml:2:") == errs.msgs[0], "%s", errs.msgs[0]);
}
END_TEST

START_TEST(test_tree_rejects_second_document_and_complex_keys)
{
    ck_assert_ptr_null(sg_conf_tree_parse_string("a: 1\n---\nb: 2\n", &errs));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0],
                     "t.yaml:2: (yaml): a second YAML document; the config is one document");
    sg_conf_errs_clear(&errs);
    ck_assert_ptr_null(sg_conf_tree_parse_string("? [a]\n: 1\n", &errs));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_msg(strstr(errs.msgs[0], "a map key must be a plain string"), "%s", errs.msgs[0]);
}
END_TEST

START_TEST(test_tree_depth_bounded)
{
    char buf[1024] = "";
    for (int i = 0; i < 100; i++)
        strcat(buf, "[");
    ck_assert_ptr_null(sg_conf_tree_parse_string(buf, &errs));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_msg(strstr(errs.msgs[0], "nested deeper than 64 levels"), "%s", errs.msgs[0]);
}
END_TEST

START_TEST(test_tree_missing_file)
{
    ck_assert_ptr_null(sg_conf_tree_parse_file("/nonexistent/snapgate.yaml", &errs));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], "/nonexistent/snapgate.yaml:0: (file): cannot open: No such "
                                   "file or directory");
}
END_TEST

START_TEST(test_tree_edit_helpers)
{
    struct sg_conf_node *m = sg_conf_node_new(SG_NODE_MAP, 0);
    sg_conf_node_set(m, "a", sg_conf_node_new_scalar("1", 0, "SNAPGATE_A"));
    sg_conf_node_set(m, "b", sg_conf_node_new_scalar("2", 7, NULL));
    sg_conf_node_set(m, "a", sg_conf_node_new_scalar("3", 0, "SNAPGATE_A"));
    ck_assert_uint_eq(m->n, 2);
    ck_assert_str_eq(sg_conf_node_get(m, "a")->scalar, "3");
    int line = 0;
    struct sg_conf_node *b = sg_conf_node_take(m, "b", &line);
    ck_assert_int_eq(line, 7);
    ck_assert_str_eq(b->scalar, "2");
    ck_assert_uint_eq(m->n, 1);
    ck_assert_ptr_null(sg_conf_node_take(m, "b", NULL));
    sg_conf_tree_free(b);
    sg_conf_tree_free(m);
}
END_TEST

/* ---- typed readers and their messages ---- */

static struct sg_conf_node *scalar(const char *v, const char *env)
{
    struct sg_conf_node *n = sg_conf_node_new_scalar(v, env ? 0 : 9, env);
    n->quoted = false;
    return n;
}

START_TEST(test_read_duration_messages)
{
    uint64_t ms = 0;
    struct sg_conf_node *n = scalar("5x", NULL);
    ck_assert_int_eq(sg_conf_read_duration_ms(n, "cache.ttl.running", &errs, &ms), SG_ERR);
    ck_assert_str_eq(errs.msgs[0], "t.yaml:9: cache.ttl.running: invalid duration \"5x\" (want "
                                   "an integer and one of ms, s, m, h)");
    sg_conf_tree_free(n);
    n = scalar("0s", NULL);
    ck_assert_int_eq(sg_conf_read_duration_ms(n, "a.b", &errs, &ms), SG_ERR);
    ck_assert_str_eq(errs.msgs[1], "t.yaml:9: a.b: duration \"0s\" must be greater than zero");
    ck_assert_int_eq(sg_conf_read_duration_min(n, "a.b", &errs, 0, &ms), SG_OK);
    ck_assert_uint_eq(ms, 0);
    sg_conf_tree_free(n);
    n = scalar("99999999999999h", NULL);
    ck_assert_int_eq(sg_conf_read_duration_ms(n, "a.b", &errs, &ms), SG_ERR);
    ck_assert_str_eq(errs.msgs[2], "t.yaml:9: a.b: duration \"99999999999999h\" is too large");
    sg_conf_tree_free(n);
    n = scalar("90s", NULL);
    ck_assert_int_eq(sg_conf_read_duration_ms(n, "a.b", &errs, &ms), SG_OK);
    ck_assert_uint_eq(ms, 90000);
    ck_assert_uint_eq(errs.n, 3);
    sg_conf_tree_free(n);
}
END_TEST

START_TEST(test_read_uint_bool_string)
{
    uint64_t v = 0;
    bool b = false;
    char *s = NULL;
    struct sg_conf_node *n = scalar("abc", "SNAPGATE_WORKERS");
    ck_assert_int_eq(sg_conf_read_uint(n, "workers", &errs, 1, 64, &v), SG_ERR);
    ck_assert_str_eq(errs.msgs[0], "env:0: workers: SNAPGATE_WORKERS=\"abc\" is not an integer");
    sg_conf_tree_free(n);
    n = scalar("65", NULL);
    ck_assert_int_eq(sg_conf_read_uint(n, "workers", &errs, 1, 64, &v), SG_ERR);
    ck_assert_str_eq(errs.msgs[1], "t.yaml:9: workers: \"65\" is out of range (want 1..64)");
    sg_conf_tree_free(n);
    n = scalar("-1", NULL);
    ck_assert_int_eq(sg_conf_read_uint(n, "w", &errs, 1, 64, &v), SG_ERR);
    sg_conf_tree_free(n);
    n = scalar("64", NULL);
    ck_assert_int_eq(sg_conf_read_uint(n, "w", &errs, 1, 64, &v), SG_OK);
    ck_assert_uint_eq(v, 64);
    sg_conf_tree_free(n);

    n = scalar("yes", NULL);
    ck_assert_int_eq(sg_conf_read_bool(n, "tls.verify", &errs, &b), SG_ERR);
    ck_assert_str_eq(errs.msgs[3],
                     "t.yaml:9: tls.verify: \"yes\" is not a boolean (want true or false)");
    sg_conf_tree_free(n);
    n = scalar("false", NULL);
    b = true;
    ck_assert_int_eq(sg_conf_read_bool(n, "v", &errs, &b), SG_OK);
    ck_assert(!b);
    sg_conf_tree_free(n);
    n = scalar("True", NULL);
    ck_assert_int_eq(sg_conf_read_bool(n, "v", &errs, &b), SG_OK);
    ck_assert(b);
    sg_conf_tree_free(n);

    n = sg_conf_node_new_scalar("", 4, NULL);
    ck_assert_int_eq(sg_conf_read_string(n, "auth.realm", &errs, &s), SG_ERR);
    ck_assert_str_eq(errs.msgs[4], "t.yaml:4: auth.realm: must not be empty");
    sg_conf_tree_free(n);
    n = scalar("", NULL);
    ck_assert_int_eq(sg_conf_read_string(n, "x", &errs, &s), SG_ERR);
    ck_assert_str_eq(errs.msgs[5], "t.yaml:9: x: missing value (want a string)");
    sg_conf_tree_free(n);
    n = sg_conf_node_new(SG_NODE_SEQ, 3);
    ck_assert_int_eq(sg_conf_read_string(n, "x", &errs, &s), SG_ERR);
    ck_assert_str_eq(errs.msgs[6], "t.yaml:3: x: want a string, got a sequence");
    sg_conf_tree_free(n);
    n = scalar("ok", NULL);
    ck_assert_int_eq(sg_conf_read_string(n, "x", &errs, &s), SG_OK);
    ck_assert_str_eq(s, "ok");
    free(s);
    sg_conf_tree_free(n);
    ck_assert_uint_eq(errs.n, 7);
}
END_TEST

START_TEST(test_quote_escapes_and_cuts)
{
    char q[SG_CONF_QUOTE_MAX];
    struct sg_conf_node *n = scalar("a\"b\\c\nd", NULL);
    ck_assert_str_eq(sg_conf_node_quote(n, q), "\"a\\\"b\\\\c\\x0ad\"");
    sg_conf_tree_free(n);
    char long_value[300];
    memset(long_value, 'z', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    n = scalar(long_value, "SNAPGATE_A_VERY_LONG_VARIABLE_NAME_INDEED_TOO_LONG");
    sg_conf_node_quote(n, q);
    ck_assert_uint_lt(strlen(q), SG_CONF_QUOTE_MAX);
    ck_assert_msg(strstr(q, "zzz...\""), "%s", q);
    sg_conf_tree_free(n);
}
END_TEST

static Suite *conf_read_suite(void)
{
    Suite *s = suite_create("conf_read");
    TCase *tc = tcase_create("parsers");
    tcase_add_loop_test(tc, test_duration_table, 0, SG_ARRAY_LEN(durations));
    tcase_add_loop_test(tc, test_hostport_table, 0, SG_ARRAY_LEN(hostports));
    tcase_add_loop_test(tc, test_url_table, 0, SG_ARRAY_LEN(urls));
    suite_add_tcase(s, tc);

    tc = tcase_create("tree");
    tcase_add_checked_fixture(tc, errs_setup, errs_teardown);
    tcase_add_test(tc, test_tree_lines_and_order);
    tcase_add_test(tc, test_tree_empty_document_is_empty_map);
    tcase_add_test(tc, test_tree_duplicate_keys);
    tcase_add_test(tc, test_tree_syntax_error_line);
    tcase_add_test(tc, test_tree_syntax_error_bad_indent);
    tcase_add_test(tc, test_tree_rejects_anchor_and_alias);
    tcase_add_test(tc, test_tree_rejects_second_document_and_complex_keys);
    tcase_add_test(tc, test_tree_depth_bounded);
    tcase_add_test(tc, test_tree_missing_file);
    tcase_add_test(tc, test_tree_edit_helpers);
    suite_add_tcase(s, tc);

    tc = tcase_create("readers");
    tcase_add_checked_fixture(tc, errs_setup, errs_teardown);
    tcase_add_test(tc, test_read_duration_messages);
    tcase_add_test(tc, test_read_uint_bool_string);
    tcase_add_test(tc, test_quote_escapes_and_cuts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conf_read_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
