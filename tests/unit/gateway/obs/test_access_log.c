/* The access line, both formats, field by field: written by hand (no stdio),
 * it must say exactly what the format promises (README "Logs"). stdout is a
 * pipe here; the time, which changes, is checked by shape. */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "obs/access_log.h"
#include "snapgate/log.h"

/* The lines sg_access_log wrote for rec, read back from a pipe on stdout. */
static char *logged(const struct sg_access_rec *rec)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    int saved = dup(STDOUT_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    sg_access_log(rec);
    sg_access_log_flush();
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(fds[1]);
    static char buf[8192];
    ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    return buf;
}

static void assert_time_then(const char *line, const char *rest, size_t time_at)
{
    regex_t re;
    ck_assert_int_eq(regcomp(&re,
                             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z",
                             REG_EXTENDED),
                     0);
    ck_assert_msg(regexec(&re, line + time_at, 0, NULL, 0) == 0, "no time in %s", line);
    regfree(&re);
    ck_assert_str_eq(line + time_at + 24, rest);
}

static const struct sg_access_rec rec = {
    .request_id = "rid-1",
    .method = "GET",
    .path = "/api/snapservice/tasks/a\"b\\c\x01",
    .status = 200,
    .cache = "HIT",
    .backend = "vc1",
    .user = "alice",
    .upstream_status = 0,
    .duration_us = 1234567,
    .upstream_ms = 42,
    .protocol = "jsonrpc",
    .outcome = "NOT_FOUND",
};

START_TEST(test_json_line)
{
    sg_log_setup(SG_LOG_INFO, SG_LOG_JSON);
    const char *l = logged(&rec);
    ck_assert(strncmp(l, "{\"time\":\"", 9) == 0);
    assert_time_then(l,
                     "\",\"type\":\"access\",\"request_id\":\"rid-1\",\"method\":\"GET\","
                     "\"path\":\"/api/snapservice/tasks/a\\\"b\\\\c\\u0001\",\"status\":200,"
                     "\"cache\":\"HIT\",\"backend\":\"vc1\",\"user\":\"alice\","
                     "\"upstream_status\":0,\"duration_ms\":1234.567,\"upstream_ms\":42,"
                     "\"protocol\":\"jsonrpc\",\"outcome\":\"NOT_FOUND\"}\n",
                     9);
}
END_TEST

START_TEST(test_text_line)
{
    sg_log_setup(SG_LOG_INFO, SG_LOG_TEXT);
    struct sg_access_rec r = rec;
    r.user = NULL;
    r.protocol = NULL;
    r.outcome = NULL;
    r.status = 503;
    r.upstream_status = -1;
    r.duration_us = 7;
    const char *l = logged(&r);
    assert_time_then(
        l,
        " access id=rid-1 method=GET path=\"/api/snapservice/tasks/a\\\"b\\\\c\\u0001\" "
        "status=503 cache=HIT backend=vc1 user=- upstream_status=-1 "
        "duration_ms=0.007 upstream_ms=42 protocol=rest outcome=-\n",
        0);
}
END_TEST

/* A value longer than a line holds: cut, and the line still ends the line. */
START_TEST(test_long_values_are_cut_whole_lines)
{
    sg_log_setup(SG_LOG_INFO, SG_LOG_JSON);
    static char big[5000];
    memset(big, 'p', sizeof(big) - 1);
    struct sg_access_rec r = rec;
    r.path = big;
    r.user = big;
    r.backend = big;
    r.cache = big;
    const char *l = logged(&r);
    size_t n = strlen(l);
    ck_assert_uint_le(n, 2047);
    ck_assert_int_eq(l[n - 1], '\n');
    ck_assert_ptr_eq(strchr(l, '\n'), l + n - 1);
    /* each value is cut at what the escape bound lets through (593 bytes) */
    ck_assert_ptr_nonnull(strstr(l, "\"path\":\""));
    const char *p = strstr(l, "\"path\":\"") + 8;
    ck_assert_uint_eq(strspn(p, "p"), 593);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("access_log");
    TCase *tc = tcase_create("lines");
    tcase_add_test(tc, test_json_line);
    tcase_add_test(tc, test_text_line);
    tcase_add_test(tc, test_long_values_are_cut_whole_lines);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
