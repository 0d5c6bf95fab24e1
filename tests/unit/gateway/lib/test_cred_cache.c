/* The verified-credential cache the auth providers share (gateway/lib/cred_cache.c):
 * keying, hits and misses, deadlines, replacement, LRU eviction, clear, and
 * what an entry keeps (name and groups, deep-copied; never a backend session).
 * The clock is the caller's, so every time here is a plain number. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/cred_cache.h"
#include "snapgate/auth.h"
#include "snapgate/common.h"

/* A fixture cache of two entries and the keys of three distinct credentials. */
static struct sg_cred_cache *c;
static unsigned char ka[SG_CRED_KEY_LEN], kb[SG_CRED_KEY_LEN], kd[SG_CRED_KEY_LEN];

static void setup(void)
{
    c = sg_cred_cache_new(2);
    ck_assert_int_eq(sg_cred_cache_key(c, "Basic a", 7, ka), SG_OK);
    ck_assert_int_eq(sg_cred_cache_key(c, "Basic b", 7, kb), SG_OK);
    ck_assert_int_eq(sg_cred_cache_key(c, "Basic d", 7, kd), SG_OK);
}

static void teardown(void)
{
    sg_cred_cache_free(c);
    c = NULL;
}

/* A principal named name with ngroups groups "g0", "g1", ...; the caller clears it. */
static struct sg_principal principal(const char *name, size_t ngroups)
{
    struct sg_principal p;
    memset(&p, 0, sizeof(p));
    snprintf(p.name, sizeof(p.name), "%s", name);
    p.ngroups = ngroups;
    p.groups = ngroups ? sg_xcalloc(ngroups, sizeof(*p.groups)) : NULL;
    for (size_t i = 0; i < ngroups; i++) {
        char g[32]; /* room for "g" and any size_t */
        snprintf(g, sizeof(g), "g%zu", i);
        p.groups[i] = sg_xstrdup(g);
    }
    return p;
}

static void put_named(const unsigned char *key, const char *name, uint64_t until)
{
    struct sg_principal p = principal(name, 0);
    sg_cred_cache_put(c, key, &p, until);
    sg_principal_clear(&p);
}

/* The name remembered under key at now (into a static buffer), or NULL on a miss. */
static const char *name_at(const unsigned char *key, uint64_t now)
{
    static char name[SG_PRINCIPAL_NAME_MAX];
    struct sg_principal out;
    memset(&out, 0, sizeof(out));
    if (!sg_cred_cache_get(c, key, now, &out))
        return NULL;
    snprintf(name, sizeof(name), "%s", out.name);
    sg_principal_clear(&out);
    return name;
}

START_TEST(test_keys_same_data_same_key_distinct_data_distinct_keys)
{
    unsigned char again[SG_CRED_KEY_LEN];
    ck_assert_int_eq(sg_cred_cache_key(c, "Basic a", 7, again), SG_OK);
    ck_assert(memcmp(ka, again, SG_CRED_KEY_LEN) == 0);
    ck_assert(memcmp(ka, kb, SG_CRED_KEY_LEN) != 0);
    ck_assert(memcmp(ka, kd, SG_CRED_KEY_LEN) != 0);
    ck_assert(memcmp(kb, kd, SG_CRED_KEY_LEN) != 0);
    /* The key is keyed, not a bare hash: the length counts, not just a prefix. */
    ck_assert_int_eq(sg_cred_cache_key(c, "Basic a", 6, again), SG_OK);
    ck_assert(memcmp(ka, again, SG_CRED_KEY_LEN) != 0);
}
END_TEST

START_TEST(test_two_caches_key_differently)
{
    /* The HMAC key is each cache's own: one cache's keys mean nothing to another. */
    struct sg_cred_cache *c2 = sg_cred_cache_new(2);
    unsigned char a2[SG_CRED_KEY_LEN];
    ck_assert_int_eq(sg_cred_cache_key(c2, "Basic a", 7, a2), SG_OK);
    ck_assert(memcmp(ka, a2, SG_CRED_KEY_LEN) != 0);
    put_named(ka, "ann", 1000);
    struct sg_principal out;
    memset(&out, 0, sizeof(out));
    ck_assert(!sg_cred_cache_get(c2, a2, 0, &out));
    sg_cred_cache_free(c2);
}
END_TEST

START_TEST(test_hit_and_miss)
{
    ck_assert_ptr_null(name_at(ka, 0)); /* empty */
    put_named(ka, "ann", 1000);
    ck_assert_str_eq(name_at(ka, 100), "ann");
    ck_assert_ptr_null(name_at(kb, 100)); /* another key */
    ck_assert_uint_eq(sg_cred_cache_count(c), 1);
}
END_TEST

START_TEST(test_expiry_drops_and_hits_do_not_extend)
{
    put_named(ka, "ann", 1000);
    ck_assert_str_eq(name_at(ka, 999), "ann"); /* a hit just before the deadline */
    ck_assert_uint_eq(sg_cred_cache_count(c), 1);
    ck_assert_ptr_null(name_at(ka, 1000));        /* at the deadline: expired, despite the hit */
    ck_assert_uint_eq(sg_cred_cache_count(c), 0); /* and dropped */
    ck_assert_ptr_null(name_at(ka, 0));           /* gone even for an earlier clock */
}
END_TEST

START_TEST(test_a_miss_leaves_out_untouched)
{
    struct sg_principal out = principal("keep", 1);
    ck_assert(!sg_cred_cache_get(c, ka, 0, &out));
    ck_assert_str_eq(out.name, "keep");
    ck_assert_uint_eq(out.ngroups, 1);
    sg_principal_clear(&out);
}
END_TEST

START_TEST(test_put_replaces)
{
    put_named(ka, "ann", 1000);
    put_named(ka, "amy", 2000);
    ck_assert_uint_eq(sg_cred_cache_count(c), 1);
    ck_assert_str_eq(name_at(ka, 1500), "amy"); /* the new name and the new deadline */
    put_named(ka, "ada", 500);                  /* a shorter deadline replaces too */
    ck_assert_ptr_null(name_at(ka, 500));
}
END_TEST

START_TEST(test_lru_eviction_order)
{
    put_named(ka, "ann", 1100);
    put_named(kb, "ben", 1100);
    ck_assert_str_eq(name_at(ka, 200), "ann"); /* a is now the most recent */
    put_named(kd, "dan", 1200);                /* evicts b, the least recently used */
    ck_assert_uint_eq(sg_cred_cache_count(c), 2);
    ck_assert_ptr_null(name_at(kb, 0));
    ck_assert_str_eq(name_at(kd, 200), "dan");
    ck_assert_str_eq(name_at(ka, 200), "ann");
    /* Now d is the least recently used: b comes back in its place. */
    put_named(kb, "ben", 1100);
    ck_assert_ptr_null(name_at(kd, 200));
    ck_assert_str_eq(name_at(ka, 200), "ann");
    ck_assert_str_eq(name_at(kb, 200), "ben");
    /* Deadlines survive eviction of the others. */
    ck_assert_ptr_null(name_at(ka, 1100));
    ck_assert_uint_eq(sg_cred_cache_count(c), 1);
}
END_TEST

START_TEST(test_clear_and_count)
{
    ck_assert_uint_eq(sg_cred_cache_count(c), 0);
    put_named(ka, "ann", 1000);
    ck_assert_uint_eq(sg_cred_cache_count(c), 1);
    put_named(kb, "ben", 1000);
    ck_assert_uint_eq(sg_cred_cache_count(c), 2);
    put_named(kd, "dan", 1000); /* bounded */
    ck_assert_uint_eq(sg_cred_cache_count(c), 2);
    sg_cred_cache_clear(c);
    ck_assert_uint_eq(sg_cred_cache_count(c), 0);
    ck_assert_ptr_null(name_at(kd, 200));
    ck_assert_ptr_null(name_at(kb, 200));
    put_named(ka, "ann", 1000); /* usable after a clear */
    ck_assert_str_eq(name_at(ka, 200), "ann");
}
END_TEST

START_TEST(test_zero_capacity_holds_one)
{
    struct sg_cred_cache *one = sg_cred_cache_new(0);
    struct sg_principal p = principal("ann", 0), out;
    sg_cred_cache_put(one, ka, &p, 1000);
    sg_cred_cache_put(one, kb, &p, 1000);
    ck_assert_uint_eq(sg_cred_cache_count(one), 1);
    memset(&out, 0, sizeof(out));
    ck_assert(!sg_cred_cache_get(one, ka, 0, &out));
    ck_assert(sg_cred_cache_get(one, kb, 0, &out));
    sg_principal_clear(&out);
    sg_principal_clear(&p);
    sg_cred_cache_free(one);
}
END_TEST

START_TEST(test_groups_are_copied_deep)
{
    struct sg_principal in = principal("ann", 2), out;
    sg_cred_cache_put(c, ka, &in, 1000);
    /* What the caller does with its principal afterwards is no business of the cache's. */
    free(in.groups[0]);
    in.groups[0] = sg_xstrdup("changed");
    memset(&out, 0, sizeof(out));
    ck_assert(sg_cred_cache_get(c, ka, 100, &out));
    ck_assert_str_eq(out.name, "ann");
    ck_assert_uint_eq(out.ngroups, 2);
    ck_assert_str_eq(out.groups[0], "g0");
    ck_assert_str_eq(out.groups[1], "g1");
    ck_assert_ptr_ne(out.groups, in.groups); /* a copy */
    ck_assert_ptr_ne(out.groups[1], in.groups[1]);
    sg_principal_clear(&in);
    /* The caller owns what a hit returns: clearing it leaves the entry whole. */
    sg_principal_clear(&out);
    ck_assert(sg_cred_cache_get(c, ka, 100, &out));
    ck_assert_uint_eq(out.ngroups, 2);
    ck_assert_str_eq(out.groups[1], "g1");
    sg_principal_clear(&out);
}
END_TEST

START_TEST(test_upstream_session_is_never_stored)
{
    struct sg_principal in = principal("ann", 1), out;
    in.upstream_session = sg_xstrdup("vmware-api-session-secret");
    sg_cred_cache_put(c, ka, &in, 1000);
    /* A hit hands back no session, even into a principal that had a stale one. */
    memset(&out, 0, sizeof(out));
    out.upstream_session = (char *)"stale";
    ck_assert(sg_cred_cache_get(c, ka, 100, &out));
    ck_assert_ptr_null(out.upstream_session);
    ck_assert_str_eq(out.name, "ann");
    ck_assert_str_eq(in.upstream_session,
                     "vmware-api-session-secret"); /* the caller's, untouched */
    sg_principal_clear(&out);
    sg_principal_clear(&in);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cred_cache");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_keys_same_data_same_key_distinct_data_distinct_keys);
    tcase_add_test(tc, test_two_caches_key_differently);
    tcase_add_test(tc, test_hit_and_miss);
    tcase_add_test(tc, test_expiry_drops_and_hits_do_not_extend);
    tcase_add_test(tc, test_a_miss_leaves_out_untouched);
    tcase_add_test(tc, test_put_replaces);
    tcase_add_test(tc, test_lru_eviction_order);
    tcase_add_test(tc, test_clear_and_count);
    tcase_add_test(tc, test_zero_capacity_holds_one);
    tcase_add_test(tc, test_groups_are_copied_deep);
    tcase_add_test(tc, test_upstream_session_is_never_stored);
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
