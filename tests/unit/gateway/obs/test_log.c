/* Error/info lines: the request id as its own field, JSON and text, escaping,
 * the level filter; and the drain timing rule of gateway/process/server_drain.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "process/server.h"
#include "snapgate/log.h"

/* Runs one sg_log_req with stderr sent to a temporary file; returns what it
 * wrote (caller frees). */
static char *capture(enum sg_log_level level, const char *module, const char *rid, const char *msg)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    dup2(fileno(tmp), STDERR_FILENO);
    sg_log_req(level, module, rid, "%s", msg);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    long n = ftell(tmp);
    ck_assert_int_ge(n, 0);
    char *out = calloc(1, (size_t)n + 1);
    rewind(tmp);
    ck_assert_uint_eq(fread(out, 1, (size_t)n, tmp), (size_t)n);
    fclose(tmp);
    return out;
}

static const struct {
    enum sg_log_format format;
    const char *rid;
    const char *module;
    const char *msg;
    const char *want; /* the line after the timestamp */
} lines[] = {
    {SG_LOG_JSON, "rid-1", "request", "answered 503",
     "\",\"level\":\"warn\",\"module\":\"request\",\"request_id\":\"rid-1\",\"msg\":\"answered "
     "503\"}\n"},
    {SG_LOG_JSON, NULL, "config", "reloaded",
     "\",\"level\":\"warn\",\"module\":\"config\",\"msg\":\"reloaded\"}\n"},
    {SG_LOG_JSON, "a\"b\\c", "request", "x\ny",
     "\",\"level\":\"warn\",\"module\":\"request\",\"request_id\":\"a\\\"b\\\\c\",\"msg\":"
     "\"x\\u000ay\"}\n"},
    {SG_LOG_TEXT, "rid-2", "request", "answered 500", " warn [request] id=rid-2 answered 500\n"},
    {SG_LOG_TEXT, NULL, "server", "stopped", " warn [server] stopped\n"},
};

START_TEST(test_line_shapes)
{
    sg_log_setup(SG_LOG_INFO, lines[_i].format);
    char *out = capture(SG_LOG_WARN, lines[_i].module, lines[_i].rid, lines[_i].msg);
    if (lines[_i].format == SG_LOG_JSON)
        ck_assert_msg(strncmp(out, "{\"time\":\"", 9) == 0, "%s", out);
    /* The timestamp is 24 characters: 2026-01-02T03:04:05.678Z */
    const char *rest = lines[_i].format == SG_LOG_JSON ? out + 9 + 24 : out + 24;
    ck_assert_uint_ge(strlen(out), (size_t)(rest - out));
    ck_assert_str_eq(rest, lines[_i].want);
    free(out);
}
END_TEST

START_TEST(test_level_filter_applies_to_request_lines)
{
    sg_log_setup(SG_LOG_WARN, SG_LOG_JSON);
    char *out = capture(SG_LOG_INFO, "request", "rid-3", "quiet");
    ck_assert_str_eq(out, "");
    free(out);
    out = capture(SG_LOG_ERROR, "request", "rid-3", "loud");
    ck_assert_ptr_nonnull(strstr(out, "\"request_id\":\"rid-3\""));
    free(out);
    /* A reload switches the level for every later line. */
    sg_log_setup(SG_LOG_DEBUG, SG_LOG_JSON);
    ck_assert_int_eq(sg_log_get_level(), SG_LOG_DEBUG);
    out = capture(SG_LOG_DEBUG, "request", "rid-4", "now heard");
    ck_assert_ptr_nonnull(strstr(out, "\"level\":\"debug\""));
    free(out);
}
END_TEST

static const struct {
    uint64_t timeout, grace, stop;
} drains[] = {
    {20000, 1000, 19750}, /* the default: 1 s grace, 250 ms to close everything */
    {4000, 1000, 3750},   {2000, 500, 1800}, {1000, 250, 900}, {1, 0, 1},
};

START_TEST(test_drain_timing_rule)
{
    ck_assert_uint_eq(sg_server_listen_grace_ms(drains[_i].timeout), drains[_i].grace);
    ck_assert_uint_eq(sg_server_stop_after_ms(drains[_i].timeout), drains[_i].stop);
    ck_assert_uint_lt(sg_server_listen_grace_ms(drains[_i].timeout),
                      sg_server_stop_after_ms(drains[_i].timeout));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_line_shapes, 0, sizeof(lines) / sizeof(lines[0]));
    tcase_add_test(tc, test_level_filter_applies_to_request_lines);
    tcase_add_loop_test(tc, test_drain_timing_rule, 0, sizeof(drains) / sizeof(drains[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
