/* Backend health: passive ejection (threshold, n-fold time out, never the
 * last usable backend, return after the time out), active rise/fall, and
 * what routing and /readyz make of them. Time is passed in, never read. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/backend_route.h"
#include "upstream/health.h"
#include "snapgate/common.h"

static struct sg_conf conf;
static struct sg_conf_backend backends[3];
static struct sg_health *h;

static void setup(void)
{
    static char *names[] = {"vc1", "vc2", "vc3"};
    for (size_t i = 0; i < 3; i++) {
        backends[i] = (struct sg_conf_backend){.name = names[i],
                                               .health_enabled = true,
                                               .health_rise = 2,
                                               .health_fall = 3,
                                               .outlier_failures = 5,
                                               .outlier_ejection_ms = 30000};
    }
    conf = (struct sg_conf){.backends = backends, .backends_n = 3};
    h = sg_health_new(&conf);
}

static void teardown(void)
{
    sg_health_free(h);
}

static void fail_n(size_t i, unsigned n, uint64_t now)
{
    for (unsigned k = 0; k < n; k++)
        sg_health_report(h, i, false, now);
}

START_TEST(test_unknown_is_usable_but_not_ready)
{
    ck_assert(sg_health_usable(h, 0, 1000));
    ck_assert(!sg_health_ready(h, 1000));
    backends[1].health_enabled = false;
    sg_health_free(h);
    h = sg_health_new(&conf);
    /* Nothing will ever probe it: it is taken as up. */
    ck_assert(sg_health_ready(h, 1000));
}
END_TEST

START_TEST(test_five_failures_eject_for_thirty_seconds)
{
    fail_n(0, 4, 1000);
    ck_assert(sg_health_usable(h, 0, 1000));
    ck_assert(sg_health_report(h, 0, false, 1000));
    ck_assert(!sg_health_usable(h, 0, 1000));
    ck_assert(!sg_health_usable(h, 0, 30999));
    ck_assert(sg_health_usable(h, 0, 31000));
    ck_assert_uint_eq(atomic_load(&h->v[0].ejections_total), 1);
}
END_TEST

START_TEST(test_a_success_resets_the_count)
{
    fail_n(0, 4, 1000);
    sg_health_report(h, 0, true, 1000);
    fail_n(0, 4, 1000);
    ck_assert(sg_health_usable(h, 0, 1000));
}
END_TEST

START_TEST(test_ejections_in_a_row_grow)
{
    fail_n(0, 5, 0);
    ck_assert(!sg_health_usable(h, 0, 29999));
    /* Back at 30 s, fails again at once: out for 2 x 30 s. */
    fail_n(0, 5, 30000);
    ck_assert(!sg_health_usable(h, 0, 89999));
    ck_assert(sg_health_usable(h, 0, 90000));
    /* A success after it came back: the next ejection is 30 s again. */
    sg_health_report(h, 0, true, 90000);
    fail_n(0, 5, 90000);
    ck_assert(sg_health_usable(h, 0, 120000));
    /* The factor stops at SG_HEALTH_MAX_EJECTION_FACTOR. */
    uint64_t t = 120000;
    for (int k = 0; k < 15; k++) {
        fail_n(0, 5, t);
        t += 30000 * SG_HEALTH_MAX_EJECTION_FACTOR;
        ck_assert(sg_health_usable(h, 0, t));
    }
    ck_assert_uint_eq(atomic_load(&h->v[0].ejections_in_row), SG_HEALTH_MAX_EJECTION_FACTOR);
}
END_TEST

START_TEST(test_never_the_last_usable_backend)
{
    fail_n(0, 5, 0);
    fail_n(1, 5, 0);
    ck_assert(!sg_health_usable(h, 0, 1));
    ck_assert(!sg_health_usable(h, 1, 1));
    /* vc3 is the last one: failures do not take it out. */
    fail_n(2, 50, 0);
    ck_assert(sg_health_usable(h, 2, 1));
    ck_assert_uint_eq(atomic_load(&h->v[2].ejections_total), 0);
    /* A backend down by its health checks does not count as usable either. */
    sg_health_free(h);
    h = sg_health_new(&conf);
    sg_health_probe_result(h, 2, false);
    fail_n(1, 5, 0);
    fail_n(0, 5, 0);
    ck_assert(!sg_health_usable(h, 1, 1));
    ck_assert(sg_health_usable(h, 0, 1));
}
END_TEST

START_TEST(test_rise_and_fall)
{
    /* The first probe settles UNKNOWN either way. */
    ck_assert_int_eq(sg_health_probe_result(h, 0, true), SG_HEALTH_UP);
    ck_assert(sg_health_ready(h, 0));
    ck_assert_int_eq(sg_health_probe_result(h, 0, false), SG_HEALTH_UP);
    ck_assert_int_eq(sg_health_probe_result(h, 0, false), SG_HEALTH_UP);
    ck_assert_int_eq(sg_health_probe_result(h, 0, false), SG_HEALTH_DOWN);
    ck_assert(!sg_health_usable(h, 0, 0));
    ck_assert(!sg_health_ready(h, 0));
    ck_assert_int_eq(sg_health_probe_result(h, 0, true), SG_HEALTH_DOWN);
    ck_assert_int_eq(sg_health_probe_result(h, 0, false), SG_HEALTH_DOWN);
    ck_assert_int_eq(sg_health_probe_result(h, 0, true), SG_HEALTH_DOWN);
    ck_assert_int_eq(sg_health_probe_result(h, 0, true), SG_HEALTH_UP);
    ck_assert_int_eq(sg_health_probe_result(h, 1, false), SG_HEALTH_DOWN);
}
END_TEST

START_TEST(test_ready_needs_an_up_backend_not_ejected)
{
    sg_health_probe_result(h, 0, true);
    sg_health_probe_result(h, 1, true);
    fail_n(0, 5, 0);
    ck_assert(sg_health_ready(h, 1));
    fail_n(1, 5, 0);
    /* vc3 (unknown) is usable, so vc2 could be ejected; nothing known is up. */
    ck_assert(!sg_health_ready(h, 1));
    ck_assert(sg_health_ready(h, 30000));
}
END_TEST

START_TEST(test_candidates)
{
    size_t out[3];
    ck_assert_uint_eq(sg_backend_candidates(h, -1, 0, out), 3);
    sg_health_probe_result(h, 1, false);
    ck_assert_uint_eq(sg_backend_candidates(h, -1, 0, out), 2);
    ck_assert_uint_eq(out[0], 0);
    ck_assert_uint_eq(out[1], 2);
    /* The owner alone; an owner that is out is not asked while others are usable. */
    ck_assert_uint_eq(sg_backend_candidates(h, 2, 0, out), 1);
    ck_assert_uint_eq(out[0], 2);
    ck_assert_uint_eq(sg_backend_candidates(h, 1, 0, out), 0);
    ck_assert_uint_eq(sg_backend_candidates(h, 7, 0, out), 0);
    /* Nothing usable at all: health is ignored rather than answering 503 for sure. */
    sg_health_probe_result(h, 0, false);
    sg_health_probe_result(h, 2, false);
    ck_assert_uint_eq(sg_backend_candidates(h, -1, 0, out), 3);
    ck_assert_uint_eq(sg_backend_candidates(h, 1, 0, out), 1);
    ck_assert_int_eq(sg_backend_index(&conf, "vc3"), 2);
    ck_assert_int_eq(sg_backend_index(&conf, "vc9"), -1);
}
END_TEST

static bool same_name(const struct sg_conf_backend *a, const struct sg_conf_backend *b)
{
    return strcmp(a->name, b->name) == 0;
}

START_TEST(test_reload_carries_over_what_is_known)
{
    sg_health_probe_result(h, 0, true);
    fail_n(1, 5, 0);
    /* The new set: vc2 and a new vc4 (vc1 and vc3 gone). */
    static char *names[] = {"vc2", "vc4"};
    struct sg_conf_backend nb[2];
    for (size_t i = 0; i < 2; i++) {
        nb[i] = backends[0];
        nb[i].name = names[i];
    }
    struct sg_conf nc = {.backends = nb, .backends_n = 2};
    struct sg_health *h2 = sg_health_new(&nc);
    sg_health_carry_over(h2, h, same_name);
    ck_assert(!sg_health_usable(h2, 0, 1)); /* vc2 is still ejected */
    ck_assert_uint_eq(atomic_load(&h2->v[0].ejections_total), 1);
    ck_assert_int_eq(atomic_load(&h2->v[1].state), SG_HEALTH_UNKNOWN); /* vc4 is new */
    sg_health_free(h2);
}
END_TEST

static const struct {
    enum sg_outcome in[3];
    size_t n;
    enum sg_outcome want;
} verdicts[] = {
    {{SG_OUT_NOT_FOUND, SG_OUT_NOT_FOUND, SG_OUT_NOT_FOUND}, 3, SG_OUT_NOT_FOUND},
    {{SG_OUT_NOT_FOUND, SG_OUT_UNAVAILABLE, SG_OUT_NOT_FOUND}, 3, SG_OUT_UNAVAILABLE},
    {{SG_OUT_ERROR, SG_OUT_UNAVAILABLE, SG_OUT_NOT_FOUND}, 3, SG_OUT_UNAVAILABLE},
    {{SG_OUT_NOT_FOUND, SG_OUT_ERROR, SG_OUT_NOT_FOUND}, 3, SG_OUT_ERROR},
    {{SG_OUT_NOT_FOUND, SG_OUT_UNAUTHORIZED, SG_OUT_ERROR}, 3, SG_OUT_UNAUTHORIZED},
    {{SG_OUT_NOT_FOUND, SG_OUT_INFO, SG_OUT_UNAVAILABLE}, 3, SG_OUT_INFO},
    {{SG_OUT_NOT_FOUND}, 1, SG_OUT_NOT_FOUND},
    {{SG_OUT_NOT_FOUND}, 0, SG_OUT_UNAVAILABLE},
};

START_TEST(test_fanout_verdict)
{
    ck_assert_int_eq(sg_fanout_verdict(verdicts[_i].in, verdicts[_i].n), verdicts[_i].want);
}
END_TEST

/* The one backend a request must use: named by the header, or the caller's own. */
START_TEST(test_bind)
{
    int i = 7;
    conf.routing = SG_ROUTE_FANOUT;
    ck_assert_int_eq(sg_backend_bind(&conf, "vc2", NULL, &i), SG_BIND_OK);
    ck_assert_int_eq(i, -1); /* fan-out ignores the header */
    ck_assert_int_eq(sg_backend_bind(&conf, NULL, "vc3", &i), SG_BIND_OK);
    ck_assert_int_eq(i, 2);
    ck_assert_int_eq(sg_backend_bind(&conf, NULL, "gone", &i), SG_BIND_NOT_CALLERS);
    ck_assert_int_eq(i, -1);

    conf.routing = SG_ROUTE_HEADER;
    ck_assert_int_eq(sg_backend_bind(&conf, NULL, NULL, &i), SG_BIND_HEADER_MISSING);
    ck_assert_int_eq(sg_backend_bind(&conf, "nope", NULL, &i), SG_BIND_HEADER_UNKNOWN);
    ck_assert_int_eq(sg_backend_bind(&conf, "vc2", NULL, &i), SG_BIND_OK);
    ck_assert_int_eq(i, 1);
    ck_assert_int_eq(sg_backend_bind(&conf, "vc2", "vc2", &i), SG_BIND_OK);
    ck_assert_int_eq(i, 1);
    /* A delegated caller's session is good on its own backend only. */
    ck_assert_int_eq(sg_backend_bind(&conf, "vc1", "vc2", &i), SG_BIND_NOT_CALLERS);
    ck_assert_int_eq(i, -1);
}
END_TEST

START_TEST(test_backend_for_miss)
{
    ck_assert_int_eq(sg_backend_for_miss(&conf, 1, "vc3"), 1); /* bound beats owner */
    ck_assert_int_eq(sg_backend_for_miss(&conf, -1, "vc3"), 2);
    ck_assert_int_eq(sg_backend_for_miss(&conf, -1, ""), -1);
    ck_assert_int_eq(sg_backend_for_miss(&conf, -1, NULL), -1);
    ck_assert_int_eq(sg_backend_for_miss(&conf, -1, "removed"), -1);
    struct sg_conf one = {.backends = backends, .backends_n = 1};
    ck_assert_int_eq(sg_backend_for_miss(&one, -1, "vc1"), -1); /* one backend: no owner pick */
}
END_TEST

/* A reload between a miss and its fetch moved or removed its backend. */
START_TEST(test_rebase)
{
    struct sg_conf_backend moved[2] = {{.name = "vc3"}, {.name = "vc1"}};
    struct sg_conf now = {.backends = moved, .backends_n = 2};
    int i = 2; /* vc3 */
    ck_assert(sg_backend_rebase(&conf, &conf, &i, false));
    ck_assert_int_eq(i, 2);
    ck_assert(sg_backend_rebase(&conf, &now, &i, false));
    ck_assert_int_eq(i, 0);
    i = 1; /* vc2, gone */
    conf.routing = SG_ROUTE_FANOUT;
    ck_assert(sg_backend_rebase(&conf, &now, &i, false)); /* a fan-out owner: ask all */
    ck_assert_int_eq(i, -1);
    i = 1;
    ck_assert(!sg_backend_rebase(&conf, &now, &i, true)); /* the caller's backend */
    i = 1;
    conf.routing = SG_ROUTE_HEADER;
    ck_assert(!sg_backend_rebase(&conf, &now, &i, false)); /* named by the header */
    i = -1;
    ck_assert(sg_backend_rebase(&conf, &now, &i, false));
    ck_assert_int_eq(i, -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("backend_health");
    TCase *tc = tcase_create("health");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_unknown_is_usable_but_not_ready);
    tcase_add_test(tc, test_five_failures_eject_for_thirty_seconds);
    tcase_add_test(tc, test_a_success_resets_the_count);
    tcase_add_test(tc, test_ejections_in_a_row_grow);
    tcase_add_test(tc, test_never_the_last_usable_backend);
    tcase_add_test(tc, test_rise_and_fall);
    tcase_add_test(tc, test_ready_needs_an_up_backend_not_ejected);
    tcase_add_test(tc, test_candidates);
    tcase_add_test(tc, test_reload_carries_over_what_is_known);
    tcase_add_test(tc, test_bind);
    tcase_add_test(tc, test_backend_for_miss);
    tcase_add_test(tc, test_rebase);
    tcase_add_loop_test(tc, test_fanout_verdict, 0, (int)SG_ARRAY_LEN(verdicts));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
