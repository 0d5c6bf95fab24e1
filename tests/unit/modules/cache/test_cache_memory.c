/* The per-worker memory tier and the TTL choice by task status. */
#include <check.h>
#include <string.h>
#include <unistd.h>

#include "snapgate/cache.h"
#include "snapgate/common.h"
#include "snapgate/module.h"
#include "cache/ttl.h"

extern const struct sg_module sg_module_cache_memory;

static const struct sg_cache_ops *ops;
static void *priv, *inst;

static void setup_with(uint64_t max_entries)
{
    struct sg_conf conf = {.local_max_entries = max_entries};
    struct sg_conf_errs errs = {0};
    ck_assert_int_eq(sg_module_cache_memory.conf(NULL, "cache", &conf, &errs, &priv), SG_OK);
    inst = sg_module_cache_memory.worker_init(priv, NULL);
    ops = sg_module_cache_memory.ops;
}

static void teardown(void)
{
    sg_module_cache_memory.worker_fini(inst);
    sg_module_cache_memory.free_conf(priv);
}

static struct sg_cache_entry *entry(const char *body)
{
    uint64_t now = sg_wall_ms();
    return sg_cache_entry_new(200, 1, body, strlen(body), now, now + 60000);
}

START_TEST(test_hit_returns_same_bytes_and_etag)
{
    setup_with(10);
    struct sg_cache_entry *e = entry("{\"status\":\"RUNNING\"}"), *got = NULL;
    ck_assert_int_eq(ops->put(inst, "t1", e, 60000, 60000), SG_OK);
    ck_assert_int_eq(ops->get(inst, "t1", &got, NULL, NULL), SG_OK);
    ck_assert_ptr_eq(got, e); /* the very bytes stored: no re-rendering */
    ck_assert_str_eq(got->etag, e->etag);
    ck_assert_int_eq(got->etag[0], '"');
    sg_cache_entry_put(got);
    sg_cache_entry_put(e);
    ck_assert_int_eq(ops->get(inst, "t2", &got, NULL, NULL), SG_DECLINED);
    teardown();
}
END_TEST

START_TEST(test_expiry_is_a_miss)
{
    setup_with(10);
    struct sg_cache_entry *e = entry("{}"), *got = NULL;
    ops->put(inst, "t1", e, 30, 30);
    usleep(60 * 1000);
    ck_assert_int_eq(ops->get(inst, "t1", &got, NULL, NULL), SG_DECLINED);
    sg_cache_entry_put(e);
    teardown();
}
END_TEST

START_TEST(test_kept_entry_is_a_miss_handed_over_for_stale_use)
{
    setup_with(10);
    struct sg_cache_entry *e = entry("{}"), *got = NULL;
    ops->put(inst, "t1", e, 30, 60000);
    usleep(60 * 1000);
    ck_assert_int_eq(ops->get(inst, "t1", &got, NULL, NULL), SG_DECLINED);
    ck_assert_ptr_eq(got, e);
    sg_cache_entry_put(got);
    sg_cache_entry_put(e);
    teardown();
}
END_TEST

START_TEST(test_zero_ttl_stores_nothing)
{
    setup_with(10);
    struct sg_cache_entry *e = entry("{}"), *got = NULL;
    ops->put(inst, "t1", e, 0, 0);
    ck_assert_int_eq(ops->get(inst, "t1", &got, NULL, NULL), SG_DECLINED);
    sg_cache_entry_put(e);
    teardown();
}
END_TEST

START_TEST(test_lru_bound_evicts_least_recent)
{
    setup_with(2);
    struct sg_cache_entry *a = entry("a"), *b = entry("b"), *c = entry("c"), *got = NULL;
    ops->put(inst, "a", a, 60000, 60000);
    ops->put(inst, "b", b, 60000, 60000);
    ck_assert_int_eq(ops->get(inst, "a", &got, NULL, NULL), SG_OK); /* a is now most recent */
    sg_cache_entry_put(got);
    ops->put(inst, "c", c, 60000, 60000);
    ck_assert_int_eq(ops->get(inst, "b", &got, NULL, NULL), SG_DECLINED);
    ck_assert_int_eq(ops->get(inst, "a", &got, NULL, NULL), SG_OK);
    sg_cache_entry_put(got);
    ck_assert_int_eq(ops->get(inst, "c", &got, NULL, NULL), SG_OK);
    sg_cache_entry_put(got);
    sg_cache_entry_put(a);
    sg_cache_entry_put(b);
    sg_cache_entry_put(c);
    teardown();
}
END_TEST

START_TEST(test_replace_and_delete)
{
    setup_with(10);
    struct sg_cache_entry *a = entry("old"), *b = entry("new"), *got = NULL;
    ops->put(inst, "t", a, 60000, 60000);
    ops->put(inst, "t", b, 60000, 60000);
    ck_assert_int_eq(ops->get(inst, "t", &got, NULL, NULL), SG_OK);
    ck_assert_str_eq(got->body, "new");
    ck_assert_str_ne(a->etag, b->etag);
    sg_cache_entry_put(got);
    ops->del(inst, "t");
    ck_assert_int_eq(ops->get(inst, "t", &got, NULL, NULL), SG_DECLINED);
    sg_cache_entry_put(a);
    sg_cache_entry_put(b);
    teardown();
}
END_TEST

static const struct sg_conf ttl_conf = {
    .ttl_pending_ms = 1000,
    .ttl_running_ms = 2000,
    .ttl_blocked_ms = 5000,
    .ttl_terminal_ms = 86400000,
    .ttl_not_found_ms = 30000,
    .local_max_ttl_ms = 1500,
};

START_TEST(test_ttl_by_status)
{
    ck_assert_uint_eq(sg_ttl_for_status(&ttl_conf, SG_TASK_PENDING), 1000);
    ck_assert_uint_eq(sg_ttl_for_status(&ttl_conf, SG_TASK_RUNNING), 2000);
    ck_assert_uint_eq(sg_ttl_for_status(&ttl_conf, SG_TASK_BLOCKED), 5000);
    ck_assert_uint_eq(sg_ttl_for_status(&ttl_conf, SG_TASK_SUCCEEDED), 86400000);
    ck_assert_uint_eq(sg_ttl_for_status(&ttl_conf, SG_TASK_FAILED), 86400000);
    ck_assert_uint_eq(sg_ttl_not_found(&ttl_conf), 30000);
}
END_TEST

START_TEST(test_local_ttl_bounds_non_terminal_only)
{
    /* Non-terminal answers stay in the local tier at most local.max_ttl. */
    ck_assert_uint_eq(sg_ttl_local(&ttl_conf, true, 200, SG_TASK_RUNNING, 2000), 1500);
    ck_assert_uint_eq(sg_ttl_local(&ttl_conf, true, 200, SG_TASK_PENDING, 1000), 1000);
    ck_assert_uint_eq(sg_ttl_local(&ttl_conf, true, 404, -1, 30000), 1500);
    /* Terminal answers never change: they keep their full TTL. */
    ck_assert_uint_eq(sg_ttl_local(&ttl_conf, true, 200, SG_TASK_SUCCEEDED, 86400000), 86400000);
    ck_assert_uint_eq(sg_ttl_local(&ttl_conf, true, 200, SG_TASK_FAILED, 86400000), 86400000);
    struct sg_conf off = ttl_conf;
    off.local_max_ttl_ms = 0;
    ck_assert_uint_eq(sg_ttl_local(&off, true, 200, SG_TASK_RUNNING, 2000), 0);
    /* Alone, the local tier is the cache: full TTL by status. */
    ck_assert_uint_eq(sg_ttl_local(&ttl_conf, false, 200, SG_TASK_RUNNING, 2000), 2000);
    ck_assert_uint_eq(sg_ttl_local(&ttl_conf, false, 404, -1, 30000), 30000);
}
END_TEST

static Suite *cache_suite(void)
{
    Suite *s = suite_create("cache_memory");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_hit_returns_same_bytes_and_etag);
    tcase_add_test(tc, test_expiry_is_a_miss);
    tcase_add_test(tc, test_kept_entry_is_a_miss_handed_over_for_stale_use);
    tcase_add_test(tc, test_zero_ttl_stores_nothing);
    tcase_add_test(tc, test_lru_bound_evicts_least_recent);
    tcase_add_test(tc, test_replace_and_delete);
    tcase_add_test(tc, test_ttl_by_status);
    tcase_add_test(tc, test_local_ttl_bounds_non_terminal_only);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cache_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
