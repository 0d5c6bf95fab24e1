/* Failed-login delays and the delegated caller x task memory. */
#include <check.h>
#include <unistd.h>

#include "pairs.h"
#include "throttle.h"

START_TEST(test_delay_grows_and_is_bounded)
{
    for (unsigned n = 0; n < SG_THROTTLE_FREE_FAILURES; n++)
        ck_assert_uint_eq(sg_throttle_delay_ms(n), 0);
    ck_assert_uint_eq(sg_throttle_delay_ms(5), 250);
    ck_assert_uint_eq(sg_throttle_delay_ms(6), 500);
    ck_assert_uint_eq(sg_throttle_delay_ms(8), 2000);
    ck_assert_uint_eq(sg_throttle_delay_ms(9), 4000);
    ck_assert_uint_eq(sg_throttle_delay_ms(10), 4000);
    ck_assert_uint_eq(sg_throttle_delay_ms(1000), 4000); /* never a lock-out */
}
END_TEST

START_TEST(test_failures_count_per_key_and_expire)
{
    struct sg_strmap t;
    sg_throttle_init(&t);
    uint64_t now = 1000000;
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(sg_throttle_fail(&t, "ip:a", now), 0);
    ck_assert_uint_eq(sg_throttle_fail(&t, "ip:a", now), 250);
    ck_assert_uint_eq(sg_throttle_fail(&t, "ip:a", now), 500);
    /* Another key has its own count. */
    ck_assert_uint_eq(sg_throttle_fail(&t, "user:bob", now), 0);
    /* After a quiet window the count starts over. */
    ck_assert_uint_eq(sg_throttle_fail(&t, "ip:a", now + SG_THROTTLE_WINDOW_MS + 1), 0);
    sg_throttle_destroy(&t);
}
END_TEST

START_TEST(test_pairs_remember_yes_and_no_per_caller_and_task)
{
    struct sg_strmap m;
    sg_pairs_init(&m);
    ck_assert_int_eq(sg_pairs_get(&m, "alice", "t1"), SG_PAIR_UNKNOWN);
    sg_pairs_set(&m, "alice", "t1", SG_PAIR_ALLOWED);
    sg_pairs_set(&m, "bob", "t1", SG_PAIR_DENIED);
    ck_assert_int_eq(sg_pairs_get(&m, "alice", "t1"), SG_PAIR_ALLOWED);
    ck_assert_int_eq(sg_pairs_get(&m, "bob", "t1"), SG_PAIR_DENIED);
    /* Nothing carries over to another task or another caller. */
    ck_assert_int_eq(sg_pairs_get(&m, "alice", "t2"), SG_PAIR_UNKNOWN);
    ck_assert_int_eq(sg_pairs_get(&m, "carol", "t1"), SG_PAIR_UNKNOWN);
    /* A name that embeds the separator cannot pose as another pair. */
    ck_assert_int_eq(sg_pairs_get(&m,
                                  "t1\x1f"
                                  "alice",
                                  ""),
                     SG_PAIR_UNKNOWN);
    sg_pairs_destroy(&m);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("throttle_pairs");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_delay_grows_and_is_bounded);
    tcase_add_test(tc, test_failures_count_per_key_and_expire);
    tcase_add_test(tc, test_pairs_remember_yes_and_no_per_caller_and_task);
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
