/* The `sessions` section (the contract's keys, README config reference): its
 * defaults, good values, and each way a value is refused, with FILE:LINE:
 * key: reason. Also the duration range reader and the text form of a
 * duration it reports with. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf_internal.h"
#include "sg_test_util.h"
#include "snapgate/common.h"

static struct sg_conf_errs errs;

static void setup(void)
{
    memset(&errs, 0, sizeof(errs));
    unsetenv("SNAPGATE_REDIS_URL");
    unsetenv("SNAPGATE_BACKEND_URL");
}

static void teardown(void)
{
    sg_conf_errs_clear(&errs);
}

/* Loads yaml from a temp file; *file gets its name (the caller frees). */
static struct sg_conf *load(const char *yaml, char **file)
{
    char *path = sg_test_write_temp(yaml);
    ck_assert_ptr_nonnull(path);
    struct sg_conf *c = sg_conf_load(path, &errs);
    unlink(path);
    *file = path;
    return c;
}

/* yaml loads with exactly the one error FILE:want. */
static void refused(const char *yaml, const char *want)
{
    sg_conf_errs_clear(&errs);
    char *file;
    struct sg_conf *c = load(yaml, &file);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "  got: %s\n", errs.msgs[i]);
    ck_assert_ptr_null(c);
    ck_assert_uint_eq(errs.n, 1);
    char *full = sg_xasprintf("%s:%s", file, want);
    ck_assert_str_eq(errs.msgs[0], full);
    free(full);
    free(file);
}

START_TEST(test_defaults)
{
    struct sg_conf *c = sg_conf_load(NULL, &errs);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->session_idle_ms, 30ULL * 60 * 1000);
    ck_assert_uint_eq(c->session_max_lifetime_ms, 12ULL * 60 * 60 * 1000);
    sg_conf_free(c);
}
END_TEST

START_TEST(test_values)
{
    char *file;
    struct sg_conf *c = load("sessions:\n  idle_timeout: 90s\n  max_lifetime: 720h\n", &file);
    ck_assert_uint_eq(errs.n, 0);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->session_idle_ms, 90ULL * 1000);
    ck_assert_uint_eq(c->session_max_lifetime_ms, 720ULL * 60 * 60 * 1000);
    sg_conf_free(c);
    free(file);
    /* Equal is fine; an empty section keeps the defaults. */
    c = load("sessions:\n  idle_timeout: 2h\n  max_lifetime: 120m\n", &file);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->session_idle_ms, c->session_max_lifetime_ms);
    sg_conf_free(c);
    free(file);
    c = load("sessions:\n", &file);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->session_idle_ms, 30ULL * 60 * 1000);
    sg_conf_free(c);
    free(file);
}
END_TEST

START_TEST(test_bad_values)
{
    refused("sessions:\n  idle_timeout: 0s\n",
            "2: sessions.idle_timeout: duration \"0s\" must be greater than zero");
    refused("sessions:\n  max_lifetime: 12\n",
            "2: sessions.max_lifetime: invalid duration \"12\" (want an integer and one of ms, "
            "s, m, h)");
    refused("sessions:\n  max_lifetime: 721h\n",
            "2: sessions.max_lifetime: duration \"721h\" is longer than the maximum 720h");
    refused("sessions:\n  max_lifetime: 2592000001ms\n",
            "2: sessions.max_lifetime: duration \"2592000001ms\" is longer than the maximum 720h");
    refused("sessions:\n  idle_timeout: [1s]\n",
            "2: sessions.idle_timeout: want a duration, got a sequence");
    refused("sessions:\n  idle: 1s\n", "2: sessions.idle: unknown key");
    refused("sessions: 30m\n", "1: sessions: want a map, got a scalar");
}
END_TEST

START_TEST(test_idle_longer_than_lifetime)
{
    refused("sessions:\n  max_lifetime: 1h\n  idle_timeout: 2h\n",
            "3: sessions.idle_timeout: 2h is longer than sessions.max_lifetime (1h): a session "
            "ends at its max_lifetime however it is used");
    refused("sessions:\n  idle_timeout: 13h\n",
            "2: sessions.idle_timeout: 13h is longer than sessions.max_lifetime (12h, the "
            "default): a session ends at its max_lifetime however it is used");
    refused("\nsessions:\n  max_lifetime: 10m\n",
            "3: sessions.max_lifetime: 10m is shorter than sessions.idle_timeout (30m, the "
            "default): set idle_timeout to at most max_lifetime");
    /* A value that did not read has its own error, not a second one. */
    refused("sessions:\n  idle_timeout: soon\n  max_lifetime: 10m\n",
            "2: sessions.idle_timeout: invalid duration \"soon\" (want an integer and one of ms, "
            "s, m, h)");
}
END_TEST

START_TEST(test_duration_text)
{
    char buf[32];
    ck_assert_str_eq(sg_conf_duration_text(720ULL * 3600 * 1000, buf), "720h");
    ck_assert_str_eq(sg_conf_duration_text(90 * 1000, buf), "90s");
    ck_assert_str_eq(sg_conf_duration_text(30 * 60 * 1000, buf), "30m");
    ck_assert_str_eq(sg_conf_duration_text(1500, buf), "1500ms");
    ck_assert_str_eq(sg_conf_duration_text(0, buf), "0ms");
}
END_TEST

START_TEST(test_range_reader)
{
    struct sg_conf_node *n = sg_conf_tree_parse_string("a: 5s\n", &errs);
    const struct sg_conf_node *a = sg_conf_node_get(n, "a");
    uint64_t v = 0;
    ck_assert_int_eq(sg_conf_read_duration_range(a, "a", &errs, 1, 5000, &v), SG_OK);
    ck_assert_uint_eq(v, 5000);
    ck_assert_int_eq(sg_conf_read_duration_range(a, "a", &errs, 1, 0, &v), SG_OK);
    v = 7;
    ck_assert_int_eq(sg_conf_read_duration_range(a, "a", &errs, 1, 4999, &v), SG_ERR);
    ck_assert_uint_eq(v, 7);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_ptr_nonnull(strstr(errs.msgs[0], "a: duration \"5s\" is longer than the maximum "
                                               "4999ms"));
    sg_conf_tree_free(n);
}
END_TEST

static Suite *conf_sessions_suite(void)
{
    Suite *s = suite_create("conf_sessions");
    TCase *tc = tcase_create("sessions");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_values);
    tcase_add_test(tc, test_bad_values);
    tcase_add_test(tc, test_idle_longer_than_lifetime);
    tcase_add_test(tc, test_duration_text);
    tcase_add_test(tc, test_range_reader);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conf_sessions_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
