/* Failed-login delays and the delegated caller x task memory. */
#include <check.h>
#include <stdio.h>
#include <unistd.h>

#include "auth/pairs.h"
#include "auth/throttle.h"

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
    struct sg_throttle t;
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

/* Issue 10, item 3: from SG_THROTTLE_PAIR_HOLD failures on, every attempt of a
 * pair is held (waits what its failure would), at most SG_THROTTLE_PAIR_PENDING
 * at once; one more is refused unchecked until a slot comes back. */
START_TEST(test_a_held_key_takes_a_bounded_number_of_attempts)
{
    struct sg_throttle t;
    sg_throttle_init(&t);
    const char *k = "pair:10.0.0.1\x1f"
                    "alice";
    uint64_t now = 1000000, wait = 1;
    const unsigned hold = SG_THROTTLE_PAIR_HOLD, most = SG_THROTTLE_PAIR_PENDING;
    ck_assert_int_eq(sg_throttle_admit(&t, k, hold, most, now, &wait), SG_THROTTLE_FREE);
    ck_assert_uint_eq(wait, 0);
    for (unsigned i = 0; i < SG_THROTTLE_PAIR_HOLD - 1; i++)
        sg_throttle_fail(&t, k, now);
    ck_assert_int_eq(sg_throttle_admit(&t, k, hold, most, now, &wait), SG_THROTTLE_FREE);
    ck_assert_uint_eq(sg_throttle_next_delay(&t, k, now), 0);
    sg_throttle_fail(&t, k, now);
    /* Held: the next attempt, right or wrong, waits what a 5th failure waits;
     * each one pending before it counts as a failure to come. */
    ck_assert_uint_eq(sg_throttle_next_delay(&t, k, now), 250);
    for (unsigned i = 0; i < SG_THROTTLE_PAIR_PENDING; i++) {
        ck_assert_int_eq(sg_throttle_admit(&t, k, hold, most, now, &wait), SG_THROTTLE_HELD);
        ck_assert_uint_eq(wait, sg_throttle_delay_ms(SG_THROTTLE_PAIR_HOLD + 1 + i));
    }
    ck_assert_int_eq(sg_throttle_admit(&t, k, hold, most, now, &wait), SG_THROTTLE_REFUSED);
    ck_assert_uint_eq(wait, sg_throttle_delay_ms(SG_THROTTLE_PAIR_HOLD + 1 + most));
    sg_throttle_release(&t, k);
    ck_assert_int_eq(sg_throttle_admit(&t, k, hold, most, now, &wait), SG_THROTTLE_HELD);
    /* Another key is not held by this one. */
    ck_assert_int_eq(sg_throttle_admit(&t,
                                       "pair:10.0.0.1\x1f"
                                       "bob",
                                       hold, most, now, &wait),
                     SG_THROTTLE_FREE);
    /* A quiet window frees the pair. */
    ck_assert_int_eq(sg_throttle_admit(&t, k, hold, most, now + SG_THROTTLE_WINDOW_MS + 1, &wait),
                     SG_THROTTLE_FREE);
    sg_throttle_destroy(&t);
}
END_TEST

/* Issue 10, item 6: 100k distinct attacker-chosen names never grow the table
 * past its cap, and do not wipe the count of a key under attack (touched since)
 * or of one with an attempt still pending. */
START_TEST(test_the_table_is_bounded_and_keeps_keys_under_attack)
{
    struct sg_throttle t;
    sg_throttle_init(&t);
    uint64_t now = 1000000;
    const char *victim = "pair:10.0.0.1\x1f"
                         "alice";
    const char *waiting = "pair:10.0.0.2\x1f"
                          "bob";
    for (int i = 0; i < 8; i++) {
        sg_throttle_fail(&t, victim, now);
        sg_throttle_fail(&t, waiting, now);
    }
    uint64_t wait;
    ck_assert_int_eq(sg_throttle_admit(&t, waiting, SG_THROTTLE_PAIR_HOLD, 4, now, &wait),
                     SG_THROTTLE_HELD);
    char name[64];
    for (int i = 0; i < 100000; i++) {
        snprintf(name, sizeof(name), "user:flood-%d", i);
        sg_throttle_fail(&t, name, now);
        ck_assert_uint_le(sg_throttle_count(&t), SG_THROTTLE_MAX_KEYS);
        if (i % 1000 == 0)
            sg_throttle_fail(&t, victim, now); /* the guesser keeps guessing */
    }
    ck_assert_uint_eq(sg_throttle_count(&t), SG_THROTTLE_MAX_KEYS);
    ck_assert_uint_eq(sg_throttle_next_delay(&t, victim, now), SG_THROTTLE_MAX_DELAY_MS);
    /* The oldest key, but a request holds a slot on it: kept. */
    ck_assert_uint_eq(sg_throttle_next_delay(&t, waiting, now), sg_throttle_delay_ms(9));
    /* The first flood names went first. */
    ck_assert_uint_eq(sg_throttle_next_delay(&t, "user:flood-0", now), 0);
    ck_assert_uint_eq(sg_throttle_fail(&t, "user:flood-99999", now), 0);
    sg_throttle_release(&t, waiting);
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
    tcase_add_test(tc, test_a_held_key_takes_a_bounded_number_of_attempts);
    tcase_add_test(tc, test_the_table_is_bounded_and_keeps_keys_under_attack);
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
