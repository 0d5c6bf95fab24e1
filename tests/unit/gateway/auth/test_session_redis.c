/* The session store on the shared tier, against a real redis-server started
 * by each test: the cache/redis module's kv calls, then sessions made through
 * one worker state and seen (and deleted) through another on the same Redis,
 * what is stored (a keyed hash, never the id; a TTL), the refresh of the last
 * access and that it never brings back a deleted session, sessions ended by
 * the rules, corrupt values, and a Redis that is down or hangs (SG_ERR, never
 * the process's table). */
#include <check.h>
#include <event2/event.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/session.h"
#include "auth/session_int.h"
#include "obs/metrics.h"
#include "sg_test_redis.h"
#include "snapgate/common.h"
#include "snapgate/module.h"
#include "worker/worker.h"
#include "worker/wstate.h"

#define TIMEOUT_MS 200
#define IDLE_MS (60 * 1000)
#define MAX_MS (3600 * 1000)

static uint64_t fake_now;
static uint64_t fake_clock(void)
{
    return fake_now;
}

struct fx {
    struct sg_test_redis srv;
    const struct sg_module *m;
    void *priv;
    struct event_base *base;
    struct sg_conf conf;
    struct sg_session_table *table; /* for the clock; must stay empty */
    struct sg_worker *w[2];
    struct sg_wstate ws[2];
};

static struct fx f;

static void spin(unsigned ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_base_loopexit(f.base, &tv);
    event_base_dispatch(f.base);
}

static bool connected(int i)
{
    struct sg_cache_stats st = {0};
    f.ws[i].shared_ops->stats(f.ws[i].shared, &st);
    return st.connected;
}

static void setup(void)
{
    memset(&f, 0, sizeof(f));
    f.m = sg_module_find(SG_MOD_CACHE, "redis");
    ck_assert_msg(f.m != NULL, "this build has no cache/redis module");
    sg_test_redis_start(&f.srv);
    char *yaml =
        sg_xasprintf("url: \"redis://127.0.0.1:%d/0\"\ntimeout: %dms\n", f.srv.port, TIMEOUT_MS);
    struct sg_conf_errs errs = {0};
    struct sg_conf_node *node = sg_conf_tree_parse_string(yaml, &errs);
    ck_assert_int_eq(f.m->conf(node, "redis", NULL, &errs, &f.priv), SG_OK);
    sg_conf_tree_free(node);
    free(yaml);
    f.base = event_base_new();
    f.conf.session_idle_ms = IDLE_MS;
    f.conf.session_max_lifetime_ms = MAX_MS;
    f.table = sg_session_table_new();
    fake_now = sg_wall_ms();
    sg_session_table_set_clock(f.table, fake_clock);
    for (unsigned i = 0; i < 2; i++) {
        f.w[i] = sg_worker_new(i, f.base);
        struct sg_wstate *ws = &f.ws[i];
        ws->base = f.base;
        ws->conf = &f.conf;
        ws->sessions = f.table;
        ws->shared_module = f.m;
        ws->shared_ops = f.m->ops;
        ws->shared = f.m->worker_init(f.priv, f.w[i]);
        ws->metrics = sg_metrics_register(i);
        memset(ws->metrics, 0, sizeof(*ws->metrics));
    }
    for (int t = 0; t < 600 && !(connected(0) && connected(1)); t++)
        spin(5);
    ck_assert_msg(connected(0) && connected(1), "workers did not connect to redis");
}

static void teardown(void)
{
    for (int i = 0; i < 2; i++) {
        f.m->worker_fini(f.ws[i].shared);
        sg_worker_free(f.w[i]);
    }
    f.m->free_conf(f.priv);
    event_base_free(f.base);
    /* Nothing ever fell back to the process's table. */
    ck_assert_uint_eq(sg_session_table_count(f.table), 0);
    sg_session_table_free(f.table);
    sg_test_redis_stop(&f.srv);
}

/* ---- outcomes through the loop ------------------------------------------------------ */

struct outcome {
    int calls;
    int rc;
    char val[256];
    size_t len;
    void (*then)(void); /* runs inside the callback */
};

static void on_done(int rc, void *arg)
{
    struct outcome *o = arg;
    o->calls++;
    o->rc = rc;
    if (o->then)
        o->then();
}

static void on_value(int rc, const char *val, size_t len, void *arg)
{
    struct outcome *o = arg;
    o->calls++;
    o->rc = rc;
    o->len = len;
    if (val && len <= sizeof(o->val))
        memcpy(o->val, val, len);
}

/* What a call came to: its own rc, or (SG_AGAIN) the one callback's, which
 * must come later from the loop, never from inside the call. */
static int settle(int rc, struct outcome *o)
{
    ck_assert_int_eq(o->calls, 0);
    if (rc != SG_AGAIN)
        return rc;
    for (int t = 0; t < 400 && !o->calls; t++)
        spin(5);
    ck_assert_int_eq(o->calls, 1);
    return o->rc;
}

static struct sg_principal principal(const char *name)
{
    struct sg_principal p = {0};
    snprintf(p.name, sizeof(p.name), "%s", name);
    p.ngroups = 2;
    p.groups = sg_xcalloc(2, sizeof(char *));
    p.groups[0] = sg_xstrdup("vsphere.local\\Administrators");
    p.groups[1] = sg_xstrdup("ops");
    return p;
}

static int create(int w, char id[SG_SESSION_ID_LEN + 1])
{
    struct sg_principal p = principal("alice@vsphere.local");
    struct outcome o = {0};
    int rc = sg_session_create(&f.ws[w], &p, id, on_done, &o);
    sg_principal_clear(&p); /* copied at the call: need not outlive it */
    return settle(rc, &o);
}

static int check_then(int w, const char *id, struct sg_session_info *info, void (*then)(void))
{
    struct sg_principal out = {0};
    struct sg_session_info tmp;
    struct outcome o = {.then = then};
    int rc = settle(
        sg_session_check(&f.ws[w], id, strlen(id), &out, info ? info : &tmp, on_done, &o), &o);
    if (rc == SG_OK) {
        ck_assert_str_eq(out.name, "alice@vsphere.local");
        ck_assert_uint_eq(out.ngroups, 2);
        ck_assert_str_eq(out.groups[0], "vsphere.local\\Administrators");
        ck_assert_str_eq(out.groups[1], "ops");
    } else {
        ck_assert_ptr_null(out.groups);
    }
    sg_principal_clear(&out);
    return rc;
}

static int check(int w, const char *id)
{
    return check_then(w, id, NULL, NULL);
}

static int del(int w, const char *id)
{
    struct outcome o = {0};
    return settle(sg_session_delete(&f.ws[w], id, strlen(id), on_done, &o), &o);
}

/* The Redis key of a session id. */
static char *redis_key(const char *id)
{
    char key[SG_SESSION_KEY_LEN + 1];
    sg_session_key(id, strlen(id), key);
    return sg_xasprintf("snapgate:kv:session:%s", key);
}

static long long pttl(const char *key)
{
    redisReply *r = sg_test_redis_cmd(&f.srv, "PTTL %s", key);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

/* The stored times of a session, read behind the store's back. */
static void stored_times(const char *id, uint64_t *created, uint64_t *last)
{
    char *k = redis_key(id);
    redisReply *r = sg_test_redis_cmd(&f.srv, "GET %s", k);
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    struct sg_principal p = {0};
    const char *why = NULL;
    ck_assert_int_eq(sg_session_decode(r->str, r->len, &p, created, last, &why), SG_OK);
    sg_principal_clear(&p);
    freeReplyObject(r);
    free(k);
}

static bool exists(const char *key)
{
    redisReply *r = sg_test_redis_cmd(&f.srv, "EXISTS %s", key);
    bool e = r->integer == 1;
    freeReplyObject(r);
    return e;
}

/* ---- the kv calls ---------------------------------------------------------------------- */

START_TEST(test_kv_calls)
{
    const struct sg_cache_ops *ops = f.ws[0].shared_ops;
    void *inst = f.ws[0].shared;
    const char val[] = "a\0binary\xff value";
    struct outcome o = {0};
    ck_assert_int_eq(settle(ops->kv_get(inst, "t:1", on_value, &o), &o), SG_DECLINED);
    memset(&o, 0, sizeof(o));
    ck_assert_int_eq(
        settle(ops->kv_set(inst, "t:1", val, sizeof(val), 5000, SG_KV_IF_PRESENT, on_done, &o), &o),
        SG_DENIED);
    ck_assert(!exists("snapgate:kv:t:1"));
    memset(&o, 0, sizeof(o));
    ck_assert_int_eq(
        settle(ops->kv_set(inst, "t:1", val, sizeof(val), 5000, SG_KV_IF_ABSENT, on_done, &o), &o),
        SG_OK);
    long long t = pttl("snapgate:kv:t:1");
    ck_assert(t > 4000 && t <= 5000);
    memset(&o, 0, sizeof(o));
    ck_assert_int_eq(
        settle(ops->kv_set(inst, "t:1", "x", 1, 5000, SG_KV_IF_ABSENT, on_done, &o), &o),
        SG_DENIED);
    /* Read back through the other worker's connection: the same bytes. */
    memset(&o, 0, sizeof(o));
    ck_assert_int_eq(settle(f.ws[1].shared_ops->kv_get(f.ws[1].shared, "t:1", on_value, &o), &o),
                     SG_OK);
    ck_assert_uint_eq(o.len, sizeof(val));
    ck_assert_mem_eq(o.val, val, sizeof(val));
    memset(&o, 0, sizeof(o));
    ck_assert_int_eq(
        settle(ops->kv_set(inst, "t:1", "y", 1, 60000, SG_KV_IF_PRESENT, on_done, &o), &o), SG_OK);
    ck_assert(pttl("snapgate:kv:t:1") > 50000);
    memset(&o, 0, sizeof(o));
    ck_assert_int_eq(settle(ops->kv_set(inst, "t:1", "z", 1, 60000, SG_KV_ALWAYS, on_done, &o), &o),
                     SG_OK);
    memset(&o, 0, sizeof(o));
    ck_assert_int_eq(settle(ops->kv_del(inst, "t:1", on_done, &o), &o), SG_OK);
    memset(&o, 0, sizeof(o));
    ck_assert_int_eq(settle(ops->kv_del(inst, "t:1", on_done, &o), &o), SG_DENIED);
    /* A value without a TTL is refused at once. */
    ck_assert_int_eq(ops->kv_set(inst, "t:2", "v", 1, 0, SG_KV_ALWAYS, on_done, &o), SG_ERR);
    ck_assert(!exists("snapgate:kv:t:2"));
    /* Fire-and-forget: no callback, the command still goes. */
    ck_assert_int_eq(ops->kv_set(inst, "t:3", "v", 1, 5000, SG_KV_ALWAYS, NULL, NULL), SG_AGAIN);
    spin(50);
    ck_assert(exists("snapgate:kv:t:3"));
    ck_assert_int_eq(ops->kv_del(inst, "t:3", NULL, NULL), SG_AGAIN);
    spin(50);
    ck_assert(!exists("snapgate:kv:t:3"));
}
END_TEST

START_TEST(test_kv_get_of_another_type_is_an_error)
{
    redisReply *r = sg_test_redis_cmd(&f.srv, "LPUSH snapgate:kv:list x");
    freeReplyObject(r);
    struct outcome o = {0};
    ck_assert_int_eq(settle(f.ws[0].shared_ops->kv_get(f.ws[0].shared, "list", on_value, &o), &o),
                     SG_ERR);
}
END_TEST

/* ---- sessions across workers -------------------------------------------------------- */

START_TEST(test_session_seen_by_another_worker_and_deleted_for_both)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, id), SG_OK);
    ck_assert_uint_eq(strspn(id, "0123456789abcdef"), 64);
    ck_assert_int_eq(check(1, id), SG_OK);
    ck_assert_int_eq(check(0, id), SG_OK);
    ck_assert_int_eq(del(1, id), SG_OK);
    ck_assert_int_eq(check(0, id), SG_DENIED);
    ck_assert_int_eq(check(1, id), SG_DENIED);
    ck_assert_int_eq(del(0, id), SG_DENIED);
    const struct sg_metrics *m0 = f.ws[0].metrics, *m1 = f.ws[1].metrics;
    ck_assert_uint_eq(atomic_load(&m0->sessions_created), 1);
    ck_assert_uint_eq(atomic_load(&m1->sessions_deleted), 1);
    ck_assert_uint_eq(atomic_load(&m0->sessions_deleted), 0);
    ck_assert_uint_eq(atomic_load(&m0->session_checks[0]) + atomic_load(&m1->session_checks[0]), 2);
    ck_assert_uint_eq(atomic_load(&m0->session_checks[1]) + atomic_load(&m1->session_checks[1]), 2);
}
END_TEST

START_TEST(test_stored_as_a_keyed_hash_with_a_ttl)
{
    f.conf.session_max_lifetime_ms = 20 * 1000; /* shorter than the idle time left */
    f.conf.session_idle_ms = 20 * 1000;
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, id), SG_OK);
    redisReply *r = sg_test_redis_cmd(&f.srv, "KEYS *");
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 1);
    char *k = redis_key(id);
    ck_assert_str_eq(r->element[0]->str, k);
    ck_assert_ptr_null(strstr(r->element[0]->str, id));
    freeReplyObject(r);
    r = sg_test_redis_cmd(&f.srv, "GET %s", k);
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_ptr_null(memmem(r->str, r->len, id, 64));
    ck_assert_ptr_null(memmem(r->str, r->len, id, 16)); /* not even a part */
    freeReplyObject(r);
    long long t = pttl(k);
    ck_assert(t > 19000 && t <= 20000);
    /* Later in its life the TTL is what is left of it, not the idle time. */
    f.conf.session_idle_ms = 15 * 1000;
    fake_now += 10 * 1000;
    ck_assert_int_eq(check(1, id), SG_OK);
    spin(50);
    t = pttl(k);
    ck_assert(t > 9000 && t <= 10000);
    free(k);
}
END_TEST

START_TEST(test_touch_refreshes_at_most_once_a_second)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, id), SG_OK);
    uint64_t t0 = fake_now, created, last;
    fake_now = t0 + 900;
    struct sg_session_info info;
    ck_assert_int_eq(check_then(1, id, &info, NULL), SG_OK);
    ck_assert_uint_eq(info.created_ms, t0);
    ck_assert_uint_eq(info.last_accessed_ms, t0 + 900); /* this access, even unwritten */
    spin(50);
    stored_times(id, &created, &last);
    ck_assert_uint_eq(last, t0); /* skipped: under a second */
    fake_now = t0 + 1000;
    ck_assert_int_eq(check(1, id), SG_OK);
    spin(50);
    stored_times(id, &created, &last);
    ck_assert_uint_eq(created, t0);
    ck_assert_uint_eq(last, t0 + 1000);
    /* Idle is measured from the stored access: at t0 + 1000 + idle it is over. */
    fake_now = t0 + 1000 + IDLE_MS - 1;
    ck_assert_int_eq(check(0, id), SG_OK);
    fake_now = t0 + 1000 + IDLE_MS - 1 + IDLE_MS;
    ck_assert_int_eq(check(0, id), SG_DENIED);
}
END_TEST

static char *race_key;

/* Another replica deletes the session between our GET and our refresh. */
static void delete_behind_our_back(void)
{
    redisReply *r = sg_test_redis_cmd(&f.srv, "DEL %s", race_key);
    ck_assert_int_eq(r->integer, 1);
    freeReplyObject(r);
}

START_TEST(test_refresh_never_brings_back_a_deleted_session)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, id), SG_OK);
    race_key = redis_key(id);
    fake_now += 5000; /* the check refreshes */
    ck_assert_int_eq(check_then(1, id, NULL, delete_behind_our_back), SG_OK);
    spin(100);
    ck_assert(!exists(race_key));
    ck_assert_int_eq(check(0, id), SG_DENIED);
    free(race_key);
}
END_TEST

START_TEST(test_ended_by_the_rules_is_denied_and_dropped)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, id), SG_OK);
    char *k = redis_key(id);
    /* Redis still has it (its TTL runs in real time): the value decides. */
    fake_now += IDLE_MS;
    ck_assert_int_eq(check(1, id), SG_DENIED);
    spin(100);
    ck_assert(!exists(k));
    ck_assert_int_eq(create(0, id), SG_OK);
    free(k);
    k = redis_key(id);
    /* Used all along, it still ends at max_lifetime. */
    uint64_t born = fake_now;
    for (fake_now = born; fake_now < born + MAX_MS; fake_now += IDLE_MS / 2)
        ck_assert_int_eq(check(fake_now % 2, id), SG_OK);
    fake_now = born + MAX_MS;
    ck_assert_int_eq(check(0, id), SG_DENIED);
    spin(100);
    ck_assert(!exists(k));
    free(k);
}
END_TEST

/* Runs fn with stderr in a file; returns what was written (the caller frees). */
static char *stderr_of(int (*fn)(const char *), const char *arg, int *rc)
{
    char path[] = "/tmp/sg_session_logXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    *rc = fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char *text = sg_xcalloc(1, 4096);
    ck_assert_int_ge(pread(fd, text, 4095, 0), 0);
    close(fd);
    unlink(path);
    return text;
}

static int check0(const char *id)
{
    return check(0, id);
}

START_TEST(test_corrupt_value_is_denied_and_logged_without_the_id)
{
    const char *id = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    char *k = redis_key(id);
    const char *vals[] = {"garbage", "SGSS\x02", "SGCE\x03 a cache entry", ""};
    const size_t lens[] = {7, 5, 19, 0};
    for (size_t i = 0; i < SG_ARRAY_LEN(vals); i++) {
        const char *argv[] = {"SET", k, vals[i], "PX", "60000"};
        const size_t alens[] = {3, strlen(k), lens[i], 2, 5};
        freeReplyObject(sg_test_redis_argv(&f.srv, 5, argv, alens));
        int rc;
        char *log = stderr_of(check0, id, &rc);
        ck_assert_int_eq(rc, SG_DENIED);
        ck_assert_msg(strstr(log, "a stored session does not read"), "log: %s", log);
        ck_assert_msg(!strstr(log, id) && !strstr(log, "0011223344"), "the id in: %s", log);
        free(log);
    }
    free(k);
}
END_TEST

/* ---- Redis failing ---------------------------------------------------------------------- */

START_TEST(test_redis_down_fails_closed)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, id), SG_OK);
    sg_test_redis_stop(&f.srv);
    char other[SG_SESSION_ID_LEN + 1];
    /* Before the link notices the loss a call may go out (then its callback
     * says SG_ERR); after, each fails at once. Never a fallback. */
    for (int round = 0; round < 2; round++) {
        ck_assert_int_eq(check(1, id), SG_ERR);
        ck_assert_int_eq(del(0, id), SG_ERR);
        ck_assert_int_eq(create(1, other), SG_ERR);
        ck_assert_str_eq(other, "");
        spin(50);
    }
    ck_assert_uint_eq(atomic_load(&f.ws[1].metrics->session_checks[2]), 2);
    ck_assert_uint_eq(atomic_load(&f.ws[1].metrics->sessions_created), 0);
}
END_TEST

START_TEST(test_redis_hanging_times_out)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, id), SG_OK);
    kill(f.srv.pid, SIGSTOP);
    uint64_t t0 = sg_now_ms();
    ck_assert_int_eq(check(0, id), SG_ERR);
    uint64_t took = sg_now_ms() - t0;
    ck_assert_msg(took >= TIMEOUT_MS - 20 && took < TIMEOUT_MS + 500, "took %llu ms",
                  (unsigned long long)took);
    kill(f.srv.pid, SIGCONT);
}
END_TEST

static Suite *session_redis_suite(void)
{
    Suite *s = suite_create("session_redis");
    TCase *tc = tcase_create("redis");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_kv_calls);
    tcase_add_test(tc, test_kv_get_of_another_type_is_an_error);
    tcase_add_test(tc, test_session_seen_by_another_worker_and_deleted_for_both);
    tcase_add_test(tc, test_stored_as_a_keyed_hash_with_a_ttl);
    tcase_add_test(tc, test_touch_refreshes_at_most_once_a_second);
    tcase_add_test(tc, test_refresh_never_brings_back_a_deleted_session);
    tcase_add_test(tc, test_ended_by_the_rules_is_denied_and_dropped);
    tcase_add_test(tc, test_corrupt_value_is_denied_and_logged_without_the_id);
    tcase_add_test(tc, test_redis_down_fails_closed);
    tcase_add_test(tc, test_redis_hanging_times_out);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(session_redis_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
