/* Metrics: per-worker blocks summed on render, the request histogram, the
 * connection gauges, and the shape of the text format. Each test runs in its
 * own process (Check forks), so the static worker blocks start at zero. */
#include <check.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/metrics.h"
#include "worker/wstate.h"

static struct sg_wstate ws[2];

static void setup(void)
{
    memset(ws, 0, sizeof(ws));
    ws[0].metrics = sg_metrics_register(0);
    ws[1].metrics = sg_metrics_register(1);
}

/* The rendered exposition as a NUL-terminated string (caller frees). */
static char *render(void)
{
    struct evbuffer *b = evbuffer_new();
    sg_metrics_render(b);
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    evbuffer_free(b);
    return s;
}

/* Asserts that the exposition holds this exact line. */
static void has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return;
    ck_abort_msg("no line \"%s\" in:\n%s", line, text);
}

START_TEST(test_requests_by_code_are_summed_across_workers)
{
    sg_metrics_request(&ws[0], 200, 10);
    sg_metrics_request(&ws[0], 200, 10);
    sg_metrics_request(&ws[1], 200, 10);
    sg_metrics_request(&ws[1], 404, 10);
    sg_metrics_request(&ws[1], 418, 10); /* not in the table: "other" */
    sg_metrics_request_as(&ws[1], SG_METRICS_JSONRPC, 200, 10);
    char *s = render();
    has_line(s, "snapgate_requests_total{protocol=\"rest\",code=\"200\"} 3");
    has_line(s, "snapgate_requests_total{protocol=\"rest\",code=\"404\"} 1");
    has_line(s, "snapgate_requests_total{protocol=\"rest\",code=\"503\"} 0");
    has_line(s, "snapgate_requests_total{protocol=\"jsonrpc\",code=\"200\"} 1");
    has_line(s, "snapgate_requests_total{protocol=\"rest\",code=\"other\"} 1");
    free(s);
}
END_TEST

/* 100 us, 300 ms and 20 s: the first, a middle and beyond the last bound. */
static const uint64_t observations_us[] = {100, 300000, 20000000};

START_TEST(test_latency_histogram_is_cumulative)
{
    for (size_t i = 0; i < sizeof(observations_us) / sizeof(observations_us[0]); i++)
        sg_metrics_request(&ws[i % 2], 200, observations_us[i]);
    char *s = render();
    has_line(s, "snapgate_request_duration_seconds_bucket{le=\"0.0005\"} 1");
    has_line(s, "snapgate_request_duration_seconds_bucket{le=\"0.25\"} 1");
    has_line(s, "snapgate_request_duration_seconds_bucket{le=\"0.5\"} 2");
    has_line(s, "snapgate_request_duration_seconds_bucket{le=\"10\"} 2");
    has_line(s, "snapgate_request_duration_seconds_bucket{le=\"+Inf\"} 3");
    has_line(s, "snapgate_request_duration_seconds_count 3");
    has_line(s, "snapgate_request_duration_seconds_sum 20.300100");
    free(s);
}
END_TEST

START_TEST(test_connection_gauge_and_counter)
{
    for (int i = 0; i < 3; i++)
        sg_metrics_conn_open(&ws[0]);
    sg_metrics_conn_close(&ws[0]);
    sg_metrics_conn_open(&ws[1]);
    sg_metrics_conn_open(&ws[1]);
    sg_metrics_conn_close(&ws[1]);
    sg_metrics_conn_close(&ws[1]);
    char *s = render();
    has_line(s, "snapgate_connections_open 2");
    has_line(s, "snapgate_connections_accepted_total 5");
    has_line(s, "# TYPE snapgate_connections_open gauge");
    has_line(s, "# TYPE snapgate_connections_accepted_total counter");
    free(s);
}
END_TEST

START_TEST(test_cache_upstream_and_coalesced_counters)
{
    sg_metrics_cache(&ws[0], "hit");
    sg_metrics_cache(&ws[1], "hit");
    sg_metrics_cache(&ws[1], "miss");
    sg_metrics_cache(&ws[1], "nonsense"); /* ignored, never a new series */
    sg_metrics_upstream(&ws[0], SG_OUT_INFO, 5);
    sg_metrics_upstream(&ws[1], SG_OUT_UNAVAILABLE, 5);
    sg_metrics_coalesced(&ws[1]);
    char *s = render();
    has_line(s, "snapgate_cache_lookups_total{result=\"hit\"} 2");
    has_line(s, "snapgate_cache_lookups_total{result=\"miss\"} 1");
    ck_assert_ptr_null(strstr(s, "nonsense"));
    has_line(s, "snapgate_upstream_fetches_total{outcome=\"info\"} 1");
    has_line(s, "snapgate_upstream_fetches_total{outcome=\"unavailable\"} 1");
    has_line(s, "snapgate_coalesced_waiters_total 1");
    free(s);
}
END_TEST

/* Each family: HELP then TYPE, once, before its samples; the text ends in a newline. */
START_TEST(test_every_family_has_help_then_type_once)
{
    char *s = render();
    size_t n = strlen(s);
    ck_assert(n > 0 && s[n - 1] == '\n');
    char *save = NULL;
    char prev_help[128] = "";
    for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "# HELP ", 7) == 0) {
            ck_assert_msg(strncmp(line + 7, "snapgate_", 9) == 0, "%s", line);
            sscanf(line + 7, "%127s", prev_help);
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            char name[128];
            sscanf(line + 7, "%127s", name);
            ck_assert_str_eq(name, prev_help);
            prev_help[0] = '\0'; /* a second TYPE would find no HELP before it */
        } else {
            ck_assert_msg(strncmp(line, "snapgate_", 9) == 0, "%s", line);
        }
    }
    free(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_requests_by_code_are_summed_across_workers);
    tcase_add_test(tc, test_latency_histogram_is_cumulative);
    tcase_add_test(tc, test_connection_gauge_and_counter);
    tcase_add_test(tc, test_cache_upstream_and_coalesced_counters);
    tcase_add_test(tc, test_every_family_has_help_then_type_once);
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
