/* The string map under client-chosen keys (issue 10, item 6): its hash is
 * keyed per map, so names an attacker picks to share a bucket in one map (or
 * under the old unkeyed FNV-1a) spread out in another. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "snapgate/strmap.h"

/* The hash the map used before: unkeyed 64-bit FNV-1a. */
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

START_TEST(test_two_maps_hash_differently)
{
    struct sg_strmap a, b;
    sg_strmap_init(&a);
    sg_strmap_init(&b);
    char k[32];
    unsigned same = 0;
    for (int i = 0; i < 64; i++) {
        snprintf(k, sizeof(k), "user:%d", i);
        ck_assert_uint_eq(sg_strmap_hash(&a, k), sg_strmap_hash(&a, k)); /* stable */
        same += sg_strmap_hash(&a, k) == sg_strmap_hash(&b, k);
        ck_assert_uint_ne(sg_strmap_hash(&a, k), fnv1a(k));
    }
    ck_assert_uint_eq(same, 0); /* 64-bit outputs under two random keys */
    sg_strmap_destroy(&a);
    sg_strmap_destroy(&b);
}
END_TEST

/* 300 names that all fall into bucket 0 of a 1024-bucket FNV-1a table (found
 * offline by an attacker who knows the hash) spread over this map's buckets. */
START_TEST(test_names_chosen_to_collide_spread_out)
{
    enum { N = 300 };
    static char names[N][32];
    int found = 0;
    for (unsigned i = 0; found < N; i++) {
        snprintf(names[found], sizeof(names[found]), "user:g%u", i);
        if ((fnv1a(names[found]) & 1023) == 0)
            found++;
    }
    struct sg_strmap m;
    sg_strmap_init(&m);
    for (int i = 0; i < 1024; i++) { /* grow the table to 1024 buckets and more */
        char k[32];
        snprintf(k, sizeof(k), "filler:%d", i);
        sg_strmap_put(&m, k, &m);
    }
    for (int i = 0; i < N; i++)
        ck_assert_ptr_null(sg_strmap_put(&m, names[i], names[i]));
    size_t longest = 0;
    for (size_t b = 0; b < m.nbuckets; b++) {
        size_t len = 0;
        for (struct sg_strmap_node *n = m.buckets[b]; n; n = n->next)
            len += n->value != &m;
        longest = len > longest ? len : longest;
    }
    ck_assert_uint_ge(m.nbuckets, 1024);
    ck_assert_uint_le(longest, 8); /* FNV-1a: 300 in one chain */
    for (int i = 0; i < N; i++)
        ck_assert_ptr_eq(sg_strmap_get(&m, names[i]), names[i]);
    ck_assert_ptr_eq(sg_strmap_del(&m, names[7]), names[7]);
    ck_assert_ptr_null(sg_strmap_get(&m, names[7]));
    sg_strmap_destroy(&m);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("strmap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_two_maps_hash_differently);
    tcase_add_test(tc, test_names_chosen_to_collide_spread_out);
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
