/* Retry arithmetic: full-jitter bounds per attempt, and the budget that keeps
 * retries to a share of the requests under a lasting outage. Plus the
 * progress floor (completed never decreases). */
#include <check.h>
#include <json-c/json.h>

#include "cache/progress_floor.h"
#include "upstream/retry.h"

START_TEST(test_backoff_is_full_jitter_capped)
{
    static const uint64_t ceiling[] = {25, 50, 100, 200, 250, 250, 250};
    for (unsigned a = 0; a < 7; a++) {
        ck_assert_uint_eq(sg_retry_backoff_ms(a, 0), 0);
        ck_assert_uint_eq(sg_retry_backoff_ms(a, UINT32_MAX), ceiling[a]);
        uint64_t mid = sg_retry_backoff_ms(a, UINT32_MAX / 2);
        ck_assert_uint_ge(mid, ceiling[a] / 2 - 1);
        ck_assert_uint_le(mid, ceiling[a] / 2 + 1);
    }
    ck_assert_uint_eq(sg_retry_backoff_ms(40, UINT32_MAX), SG_RETRY_CAP_MS);
}
END_TEST

START_TEST(test_budget_keeps_retries_to_a_share)
{
    struct sg_retry_budget b;
    sg_retry_budget_init(&b, 20);
    /* The reserve: 10 retries before any request has paid. */
    int taken = 0;
    while (sg_retry_budget_withdraw(&b))
        taken++;
    ck_assert_int_eq(taken, 10);
    /* Then 1000 failing requests, each wanting a retry: about 200 granted. */
    taken = 0;
    for (int i = 0; i < 1000; i++) {
        sg_retry_budget_deposit(&b);
        if (sg_retry_budget_withdraw(&b))
            taken++;
    }
    ck_assert_int_ge(taken, 195);
    ck_assert_int_le(taken, 200);
    /* The reserve refills from requests but never beyond it. */
    for (int i = 0; i < 10000; i++)
        sg_retry_budget_deposit(&b);
    ck_assert(b.tokens <= SG_RETRY_RESERVE);
    sg_retry_budget_init(&b, 0);
    for (int i = 0; i < 10; i++)
        ck_assert(sg_retry_budget_withdraw(&b));
    sg_retry_budget_deposit(&b);
    ck_assert(!sg_retry_budget_withdraw(&b));
}
END_TEST

static int64_t completed_of(struct json_object *info)
{
    struct json_object *p, *c;
    json_object_object_get_ex(info, "progress", &p);
    json_object_object_get_ex(p, "completed", &c);
    return json_object_get_int64(c);
}

START_TEST(test_progress_floor)
{
    struct json_object *info =
        json_tokener_parse("{\"status\":\"RUNNING\",\"progress\":{\"total\":100,\"completed\":30,"
                           "\"message\":{\"id\":\"x\",\"default_message\":\"x\",\"args\":[]}}}");
    ck_assert_int_eq(sg_progress_apply_floor(info, -1), 30);
    ck_assert_int_eq(sg_progress_apply_floor(info, 12), 30);
    ck_assert_int_eq(completed_of(info), 30);
    ck_assert_int_eq(sg_progress_apply_floor(info, 42), 42);
    ck_assert_int_eq(completed_of(info), 42);
    json_object_put(info);
    info = json_tokener_parse("{\"status\":\"PENDING\"}");
    ck_assert_int_eq(sg_progress_apply_floor(info, 42), -1);
    ck_assert(!json_object_object_get_ex(info, "progress", NULL));
    json_object_put(info);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("retry");
    TCase *tc = tcase_create("retry");
    tcase_add_test(tc, test_backoff_is_full_jitter_capped);
    tcase_add_test(tc, test_budget_keeps_retries_to_a_share);
    tcase_add_test(tc, test_progress_floor);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
