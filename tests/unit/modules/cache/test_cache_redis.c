/* cache/redis against a real redis-server started by each test (a free port,
 * no persistence, killed with the test): URLs, entries, leases, purges,
 * timeouts, a dying and returning server, AUTH, unix sockets, teardown. */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/cache/redis/redis.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "sg_test_redis.h"
#include "worker/worker.h"

#define TIMEOUT_MS 200

/* ---- a redis-server per test (sg_test_redis.h) ---------------------------- */

static void srv_tcp(struct sg_test_redis *s, const char *pass)
{
    memset(s, 0, sizeof(*s));
    s->pass = pass;
    sg_test_redis_start(s);
}

/* ---- the module on a loop ---------------------------------------------------- */

struct fx {
    struct event_base *base;
    struct sg_worker *w[2];
    void *priv;
    void *inst[2];
};

static const struct sg_cache_ops *ops(void)
{
    return sg_module_cache_redis.ops;
}

/* Runs the loop for ms. */
static void spin(struct event_base *base, unsigned ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

static struct sg_cache_stats stats_of(void *inst)
{
    struct sg_cache_stats st = {0};
    ops()->stats(inst, &st);
    return st;
}

/* Spins until the instance's connected flag is want; false at the deadline. */
static bool wait_connected(struct event_base *base, void *inst, int want, unsigned ms)
{
    for (unsigned t = 0; t < ms; t += 5) {
        if (stats_of(inst).connected == want)
            return true;
        spin(base, 5);
    }
    return stats_of(inst).connected == want;
}

static int conf_url(const char *url, void **priv, struct sg_conf_errs *errs)
{
    char *yaml = sg_xasprintf("url: \"%s\"\ntimeout: %dms\n", url, TIMEOUT_MS);
    struct sg_conf_node *node = sg_conf_tree_parse_string(yaml, errs);
    ck_assert_ptr_nonnull(node);
    int rc = sg_module_cache_redis.conf(node, "redis", NULL, errs, priv);
    sg_conf_tree_free(node);
    free(yaml);
    return rc;
}

/* n instances ("workers") of url on one base, each connected. */
static void fx_open(struct fx *f, const char *url, int n)
{
    memset(f, 0, sizeof(*f));
    struct sg_conf_errs errs = {0};
    ck_assert_int_eq(conf_url(url, &f->priv, &errs), SG_OK);
    f->base = event_base_new();
    for (int i = 0; i < n; i++) {
        f->w[i] = sg_worker_new((unsigned)i, f->base);
        f->inst[i] = sg_module_cache_redis.worker_init(f->priv, f->w[i]);
        ck_assert_int_eq(ops()->get(f->inst[i], "x", &(struct sg_cache_entry *){NULL}, NULL, NULL),
                         SG_ERR); /* not ready yet: fails fast */
    }
    for (int i = 0; i < n; i++)
        ck_assert_msg(wait_connected(f->base, f->inst[i], 1, 3000), "instance %d not connected", i);
}

static void fx_open_tcp(struct fx *f, const struct sg_test_redis *s, int n)
{
    char *url = sg_xasprintf("redis://127.0.0.1:%d/0", s->port);
    fx_open(f, url, n);
    free(url);
}

static void fx_close(struct fx *f)
{
    for (int i = 0; i < 2; i++) {
        if (f->inst[i])
            sg_module_cache_redis.worker_fini(f->inst[i]);
        if (f->w[i])
            sg_worker_free(f->w[i]);
    }
    sg_module_cache_redis.free_conf(f->priv);
    event_base_free(f->base);
}

/* What a get callback saw. */
struct got {
    int calls;
    int rc;
    struct sg_cache_entry *e;
    uint64_t at_ms;
};

static void on_got(int rc, struct sg_cache_entry *e, void *arg)
{
    struct got *g = arg;
    g->calls++;
    g->rc = rc;
    sg_cache_entry_put(g->e);
    g->e = e;
    g->at_ms = sg_now_ms();
}

/* A get through the loop: the rc the callback saw (SG_ERR when it fails fast). */
static int get_wait(struct fx *f, int i, const char *key, struct sg_cache_entry **out)
{
    struct got g = {0};
    struct sg_cache_entry *sync = NULL;
    int rc = ops()->get(f->inst[i], key, &sync, on_got, &g);
    *out = NULL;
    if (rc != SG_AGAIN) {
        ck_assert_int_eq(rc, SG_ERR);
        return rc;
    }
    ck_assert_int_eq(g.calls, 0); /* never from inside the call */
    for (int t = 0; t < 400 && !g.calls; t++)
        spin(f->base, 5);
    ck_assert_int_eq(g.calls, 1);
    *out = g.e;
    return g.rc;
}

static void on_lease(int rc, void *arg)
{
    struct got *g = arg;
    g->calls++;
    g->rc = rc;
}

static int lease_wait(struct fx *f, int i, const char *key, uint64_t ttl)
{
    struct got g = {0};
    int rc = ops()->lease(f->inst[i], key, ttl, on_lease, &g);
    if (rc != SG_AGAIN)
        return rc;
    for (int t = 0; t < 400 && !g.calls; t++)
        spin(f->base, 5);
    ck_assert_int_eq(g.calls, 1);
    return g.rc;
}

static struct sg_cache_entry *entry(const char *body, int64_t fresh_for_ms)
{
    uint64_t now = sg_wall_ms();
    return sg_cache_entry_new(200, 1, body, strlen(body), now - 10,
                              (uint64_t)((int64_t)now + fresh_for_ms));
}

/* ---- redis.url ------------------------------------------------------------------ */

static const struct {
    const char *url;
    int rc;
    const char *host, *path, *password;
    int port, db;
} urls[] = {
#define BAD(u)                                                                                     \
    {                                                                                              \
        .url = (u), .rc = SG_ERR                                                                   \
    }
    {"redis://127.0.0.1:6379/0", SG_OK, "127.0.0.1", NULL, NULL, 6379, 0},
    {"redis://cache.example", SG_OK, "cache.example", NULL, NULL, 6379, 0},
    {"redis://cache-1.example:7000/", SG_OK, "cache-1.example", NULL, NULL, 7000, 0},
    {"redis://[::1]:6380/15", SG_OK, "::1", NULL, NULL, 6380, 15},
    {"redis://[fe80::1]/3", SG_OK, "fe80::1", NULL, NULL, 6379, 3},
    {"redis://10.0.0.1/42", SG_OK, "10.0.0.1", NULL, NULL, 6379, 42},
    {"redis://:hunter2@h:1/2", SG_OK, "h", NULL, "hunter2", 1, 2},
    {"redis://:p%40ss%2Fw%20rd@h", SG_OK, "h", NULL, "p@ss/w rd", 6379, 0},
    {"redis://:a@b@h/1", SG_OK, "h", NULL, "a@b", 6379, 1},
    {"unix:///run/redis/redis.sock", SG_OK, NULL, "/run/redis/redis.sock", NULL, 0, 0},
    {"unix:///tmp/r.sock?db=7", SG_OK, NULL, "/tmp/r.sock", NULL, 0, 7},
    /* bad ones; any password in them is "hunter2" and must never show */
    BAD("redis://user:hunter2@h/0"),
    BAD("redis://hunter2@h/0"),
    BAD("redis://:@h/0"),
    BAD("redis://:hunter2%zz@h/0"),
    BAD("redis://:hunter2%00@h/0"),
    BAD("redis://:hunter2@h:0/0"),
    BAD("redis://:hunter2@h:65536/0"),
    BAD("redis://:hunter2@h:6379x/0"),
    BAD("redis://:hunter2@h/-1"),
    BAD("redis://:hunter2@h/db0"),
    BAD("redis://:hunter2@h/0?timeout=1"),
    BAD("redis://:hunter2@/0"),
    BAD("redis://:hunter2@h_1/0"),
    BAD("redis://:hunter2@[::g]/0"),
    BAD("redis://:hunter2/0"),
    BAD("redis://[hunter2]:1/0"),
    BAD("redis://hunter2!/0"),
    BAD("redis://:hunter2@[::1/0"),
    BAD("redis://:hunter2@h/99999999999"),
    BAD("rediss://:hunter2@h/0"),
    BAD("http://:hunter2@h/0"),
    BAD("unix://relative.sock"),
    BAD("unix:///tmp/r.sock?db=x"),
    BAD("unix:///tmp/r.sock?password=hunter2"),
    BAD(""),
};

START_TEST(test_url_table)
{
    struct sg_redis_url u = {0};
    char err[256] = "";
    int rc = sg_redis_url_parse(urls[_i].url, &u, err, sizeof(err));
    ck_assert_msg(rc == urls[_i].rc, "%s: rc %d (%s)", urls[_i].url, rc, err);
    if (rc != SG_OK) {
        ck_assert_msg(err[0] != '\0', "%s: no reason", urls[_i].url);
        ck_assert_msg(!strstr(err, "hunter2"), "%s: reason shows the password: %s", urls[_i].url,
                      err);
        return;
    }
    if (urls[_i].host)
        ck_assert_str_eq(u.host, urls[_i].host);
    else
        ck_assert_ptr_null(u.host);
    if (urls[_i].path)
        ck_assert_str_eq(u.path, urls[_i].path);
    else
        ck_assert_ptr_null(u.path);
    if (urls[_i].password)
        ck_assert_str_eq(u.password, urls[_i].password);
    else
        ck_assert_ptr_null(u.password);
    if (urls[_i].host)
        ck_assert_int_eq(u.port, urls[_i].port);
    ck_assert_int_eq(u.db, urls[_i].db);
    sg_redis_url_clear(&u);
}
END_TEST

START_TEST(test_conf_errors_name_the_key_and_hide_the_password)
{
    struct sg_conf_errs errs = {.file = "f.yaml"};
    void *priv = NULL;
    ck_assert_int_eq(conf_url("redis://admin:hunter2@h/0", &priv, &errs), SG_ERR);
    ck_assert_ptr_null(priv);
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_msg(strstr(errs.msgs[0], "f.yaml:1: redis.url: ") == errs.msgs[0], "%s",
                  errs.msgs[0]);
    ck_assert_ptr_nonnull(strstr(errs.msgs[0], "ACL user names are not supported by hiredis 0.14"));
    ck_assert_ptr_null(strstr(errs.msgs[0], "hunter2"));
    sg_conf_errs_clear(&errs);

    /* A missing url is an error too; a host name resolves at config time. */
    struct sg_conf_node *node = sg_conf_tree_parse_string("timeout: 1s\n", &errs);
    ck_assert_int_eq(sg_module_cache_redis.conf(node, "redis", NULL, &errs, &priv), SG_ERR);
    ck_assert_ptr_nonnull(strstr(errs.msgs[0], "redis.url: is required"));
    sg_conf_tree_free(node);
    sg_conf_errs_clear(&errs);

    ck_assert_int_eq(conf_url("redis://:hunter2@localhost:7000/1", &priv, &errs), SG_OK);
    const struct sg_redis_conf *rc = priv;
    ck_assert_msg(!strcmp(rc->addr, "127.0.0.1") || !strcmp(rc->addr, "::1"), "%s", rc->addr);
    ck_assert_uint_eq(rc->timeout_ms, TIMEOUT_MS);

    /* redis.timeout is the module's key: checked here, part of what a reload compares. */
    void *other = NULL;
    ck_assert_int_eq(conf_url("redis://:hunter2@localhost:7000/1", &other, &errs), SG_OK);
    ck_assert(sg_module_cache_redis.conf_equal(priv, other));
    ((struct sg_redis_conf *)other)->timeout_ms = TIMEOUT_MS + 1;
    ck_assert(!sg_module_cache_redis.conf_equal(priv, other));
    sg_module_cache_redis.free_conf(other);
    node = sg_conf_tree_parse_string("url: \"redis://127.0.0.1:7000\"\ntimeout: 0s\n", &errs);
    ck_assert_int_eq(sg_module_cache_redis.conf(node, "redis", NULL, &errs, &other), SG_ERR);
    ck_assert_ptr_nonnull(strstr(errs.msgs[0], "redis.timeout"));
    sg_conf_tree_free(node);
    sg_conf_errs_clear(&errs);
    node = sg_conf_tree_parse_string("url: \"redis://127.0.0.1:7000\"\n", &errs);
    ck_assert_int_eq(sg_module_cache_redis.conf(node, "redis", NULL, &errs, &other), SG_OK);
    ck_assert_uint_eq(((struct sg_redis_conf *)other)->timeout_ms, SG_REDIS_DEFAULT_TIMEOUT_MS);
    sg_module_cache_redis.free_conf(other);
    sg_conf_tree_free(node);
    sg_module_cache_redis.free_conf(priv);
}
END_TEST

/* ---- entries ------------------------------------------------------------------------ */

START_TEST(test_put_get_round_trip)
{
    struct sg_test_redis s;
    srv_tcp(&s, NULL);
    struct fx f;
    fx_open_tcp(&f, &s, 1);
    static const char body[] = "{\"status\":\"RUNNING\",\"x\":\"\xc3\xa9\"}";
    struct sg_cache_entry *e = entry(body, 60000), *got = NULL;
    ck_assert_int_eq(ops()->put(f.inst[0], "task-1", e, 999, 30000), SG_OK);
    ck_assert_int_eq(get_wait(&f, 0, "task-1", &got), SG_OK);
    ck_assert_ptr_nonnull(got);
    ck_assert_ptr_ne(got, e);
    ck_assert_uint_eq(got->len, e->len);
    ck_assert(memcmp(got->body, e->body, e->len) == 0);
    ck_assert_str_eq(got->etag, e->etag);
    ck_assert_int_eq(got->http_status, 200);
    ck_assert_int_eq(got->task_status, 1);
    ck_assert_uint_eq(got->fetched_at_ms, e->fetched_at_ms);
    ck_assert_uint_eq(got->expires_at_ms, e->expires_at_ms);
    sg_cache_entry_put(got);

    /* The documented key, the codec's bytes, and a Redis TTL of keep_ms. */
    redisReply *r = sg_test_redis_cmd(&s, "GET snapgate:v3:task:task-1");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_mem_eq(r->str, "SGCE\x03", 5);
    freeReplyObject(r);
    r = sg_test_redis_cmd(&s, "PTTL snapgate:v3:task:task-1");
    ck_assert_int_gt(r->integer, 25000);
    ck_assert_int_le(r->integer, 30000);
    freeReplyObject(r);

    /* del drops it. */
    ck_assert_int_eq(ops()->del(f.inst[0], "task-1"), SG_OK);
    ck_assert_int_eq(get_wait(&f, 0, "task-1", &got), SG_DECLINED);
    ck_assert_ptr_null(got);
    ck_assert_uint_eq(stats_of(f.inst[0]).errors, 0);
    sg_cache_entry_put(e);
    fx_close(&f);
    sg_test_redis_stop(&s);
}
END_TEST

START_TEST(test_expired_entry_is_handed_over_stale)
{
    struct sg_test_redis s;
    srv_tcp(&s, NULL);
    struct fx f;
    fx_open_tcp(&f, &s, 1);
    struct sg_cache_entry *e = entry("{\"old\":1}", -5000), *got = NULL;
    ck_assert_int_eq(ops()->put(f.inst[0], "t-stale", e, 1000, 60000), SG_OK);
    ck_assert_int_eq(get_wait(&f, 0, "t-stale", &got), SG_DECLINED);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got->body, "{\"old\":1}");
    ck_assert_str_eq(got->etag, e->etag);
    sg_cache_entry_put(got);
    /* Absent: a plain miss. */
    ck_assert_int_eq(get_wait(&f, 0, "t-never", &got), SG_DECLINED);
    ck_assert_ptr_null(got);
    sg_cache_entry_put(e);
    fx_close(&f);
    sg_test_redis_stop(&s);
}
END_TEST

START_TEST(test_garbage_value_is_a_counted_miss)
{
    struct sg_test_redis s;
    srv_tcp(&s, NULL);
    struct fx f;
    fx_open_tcp(&f, &s, 1);
    freeReplyObject(sg_test_redis_cmd(&s, "SET snapgate:v3:task:bad %s", "not an entry"));
    freeReplyObject(
        sg_test_redis_cmd(&s, "SET snapgate:v3:task:trunc %b", "SGCE\x01\x00\xc8", (size_t)7));
    freeReplyObject(sg_test_redis_cmd(&s, "LPUSH snapgate:v3:task:list x"));
    struct sg_cache_entry *got = NULL;
    ck_assert_int_eq(get_wait(&f, 0, "bad", &got), SG_DECLINED);
    ck_assert_ptr_null(got);
    ck_assert_int_eq(get_wait(&f, 0, "trunc", &got), SG_DECLINED);
    ck_assert_ptr_null(got);
    ck_assert_uint_eq(stats_of(f.inst[0]).errors, 2);
    /* A value of the wrong type is an error reply: SG_ERR, counted. */
    ck_assert_int_eq(get_wait(&f, 0, "list", &got), SG_ERR);
    ck_assert_uint_eq(stats_of(f.inst[0]).errors, 3);
    /* Still connected and working. */
    struct sg_cache_entry *e = entry("{}", 60000);
    ops()->put(f.inst[0], "bad", e, 1, 60000);
    ck_assert_int_eq(get_wait(&f, 0, "bad", &got), SG_OK);
    sg_cache_entry_put(got);
    sg_cache_entry_put(e);
    fx_close(&f);
    sg_test_redis_stop(&s);
}
END_TEST

/* ---- leases and purges ------------------------------------------------------------ */

static char *lease_holder(const struct sg_test_redis *s, const char *key)
{
    redisReply *r = sg_test_redis_cmd(s, "GET snapgate:v3:lease:%s", key);
    char *v = r->type == REDIS_REPLY_STRING ? sg_xstrdup(r->str) : NULL;
    freeReplyObject(r);
    return v;
}

START_TEST(test_lease_acquire_deny_expire_release)
{
    struct sg_test_redis s;
    srv_tcp(&s, NULL);
    struct fx f;
    fx_open_tcp(&f, &s, 2);
    ck_assert_int_eq(lease_wait(&f, 0, "L", 5000), SG_OK);
    char *tok0 = lease_holder(&s, "L");
    ck_assert_ptr_nonnull(tok0);
    ck_assert_uint_eq(strlen(tok0), 32);
    ck_assert_int_eq(lease_wait(&f, 1, "L", 5000), SG_DENIED);
    redisReply *r = sg_test_redis_cmd(&s, "PTTL snapgate:v3:lease:L");
    ck_assert_int_gt(r->integer, 4000);
    freeReplyObject(r);

    /* Releasing a lease one does not hold changes nothing. */
    ops()->release(f.inst[1], "L");
    spin(f.base, 50);
    char *still = lease_holder(&s, "L");
    ck_assert_str_eq(still, tok0);
    free(still);
    ops()->release(f.inst[0], "L");
    spin(f.base, 50);
    ck_assert_ptr_null(lease_holder(&s, "L"));
    ck_assert_int_eq(lease_wait(&f, 1, "L", 5000), SG_OK);
    ops()->release(f.inst[1], "L");

    /* A lease runs out on its own; the next taker gets it. */
    ck_assert_int_eq(lease_wait(&f, 0, "E", 100), SG_OK);
    usleep(150 * 1000);
    ck_assert_int_eq(lease_wait(&f, 1, "E", 5000), SG_OK);
    char *tok1 = lease_holder(&s, "E");
    ck_assert_str_ne(tok1, tok0);

    /* Our lease, taken over in Redis by someone else: release leaves theirs. */
    ck_assert_int_eq(lease_wait(&f, 0, "T", 5000), SG_OK);
    freeReplyObject(sg_test_redis_cmd(&s, "SET snapgate:v3:lease:T someone-else"));
    ops()->release(f.inst[0], "T");
    spin(f.base, 50);
    char *other = lease_holder(&s, "T");
    ck_assert_str_eq(other, "someone-else");
    free(other);
    free(tok1);
    free(tok0);
    fx_close(&f);
    sg_test_redis_stop(&s);
}
END_TEST

struct purges {
    int n;
    char last[64];
};

static void on_purged(void *ctx, const char *key)
{
    struct purges *p = ctx;
    p->n++;
    snprintf(p->last, sizeof(p->last), "%s", key);
}

START_TEST(test_purge_reaches_every_instance)
{
    struct sg_test_redis s;
    srv_tcp(&s, NULL);
    struct fx f;
    fx_open_tcp(&f, &s, 2);
    struct purges p[2] = {0};
    ops()->on_purge(f.inst[0], on_purged, &p[0]);
    ops()->on_purge(f.inst[1], on_purged, &p[1]);
    /* The subscriptions are up once the server counts two subscribers. */
    for (int t = 0; t < 200; t++) {
        redisReply *r = sg_test_redis_cmd(&s, "PUBSUB NUMSUB snapgate:v3:purge");
        long long n = r->element[1]->integer;
        freeReplyObject(r);
        if (n == 2)
            break;
        spin(f.base, 10);
    }
    struct sg_cache_entry *e = entry("{}", 60000), *got = NULL;
    ops()->put(f.inst[0], "task-9", e, 1, 60000);
    ck_assert_int_eq(ops()->purge(f.inst[0], "task-9"), SG_OK);
    for (int t = 0; t < 200 && (p[0].n == 0 || p[1].n == 0); t++)
        spin(f.base, 5);
    ck_assert_int_eq(p[0].n, 1);
    ck_assert_int_eq(p[1].n, 1);
    ck_assert_str_eq(p[0].last, "task-9");
    ck_assert_str_eq(p[1].last, "task-9");
    ck_assert_int_eq(get_wait(&f, 1, "task-9", &got), SG_DECLINED);
    ck_assert_ptr_null(got);
    /* A purge announced by anyone else arrives as well. */
    freeReplyObject(sg_test_redis_cmd(&s, "PUBLISH snapgate:v3:purge other-task"));
    for (int t = 0; t < 200 && p[1].n < 2; t++)
        spin(f.base, 5);
    ck_assert_str_eq(p[1].last, "other-task");
    sg_cache_entry_put(e);
    fx_close(&f);
    sg_test_redis_stop(&s);
}
END_TEST

/* ---- failures ---------------------------------------------------------------------- */

START_TEST(test_timeout_fails_once_within_the_timeout)
{
    struct sg_test_redis s;
    srv_tcp(&s, NULL);
    struct fx f;
    fx_open_tcp(&f, &s, 1);
    redisReply *r = sg_test_redis_cmd(&s, "CLIENT PAUSE 1000 ALL");
    ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    struct got g = {0}, g2 = {0};
    struct sg_cache_entry *sync = NULL;
    uint64_t t0 = sg_now_ms();
    ck_assert_int_eq(ops()->get(f.inst[0], "slow", &sync, on_got, &g), SG_AGAIN);
    ck_assert_int_eq(ops()->get(f.inst[0], "slow2", &sync, on_got, &g2), SG_AGAIN);
    while (!g.calls && sg_now_ms() - t0 < 2000)
        spin(f.base, 5);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_int_eq(g.rc, SG_ERR);
    ck_assert_uint_ge(g.at_ms - t0, TIMEOUT_MS - 5);
    ck_assert_uint_le(g.at_ms - t0, TIMEOUT_MS + 100);
    /* The connection was dropped: what was pending with it fails now too,
     * and new calls fail fast instead of queueing behind a hung server. */
    spin(f.base, 20);
    ck_assert_int_eq(g2.calls, 1);
    ck_assert_int_eq(g2.rc, SG_ERR);
    ck_assert_int_eq(ops()->get(f.inst[0], "slow", &sync, on_got, &g), SG_ERR);
    ck_assert_uint_eq(stats_of(f.inst[0]).connected, 0);
    /* Past the pause the late answers are ignored: still one call each. */
    spin(f.base, 1000);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_int_eq(g2.calls, 1);
    ck_assert(wait_connected(f.base, f.inst[0], 1, 3000));
    struct sg_cache_stats st = stats_of(f.inst[0]);
    ck_assert_uint_ge(st.errors, 2);
    ck_assert_uint_ge(st.reconnects, 1);
    struct sg_cache_entry *got = NULL;
    ck_assert_int_eq(get_wait(&f, 0, "slow", &got), SG_DECLINED);
    fx_close(&f);
    sg_test_redis_stop(&s);
}
END_TEST

START_TEST(test_dead_server_opens_the_circuit_and_recovery_closes_it)
{
    struct sg_test_redis s;
    srv_tcp(&s, NULL);
    struct fx f;
    fx_open_tcp(&f, &s, 1);
    struct sg_cache_entry *e = entry("{\"a\":1}", 60000), *got = NULL;
    ops()->put(f.inst[0], "k", e, 1, 60000);
    ck_assert_int_eq(get_wait(&f, 0, "k", &got), SG_OK);
    sg_cache_entry_put(got);
    uint64_t reconnects = stats_of(f.inst[0]).reconnects;

    struct got pending = {0};
    struct sg_cache_entry *sync = NULL;
    sg_test_redis_stop(&s);
    ck_assert_int_eq(ops()->get(f.inst[0], "k", &sync, on_got, &pending), SG_AGAIN);
    ck_assert(wait_connected(f.base, f.inst[0], 0, 1000));
    ck_assert_int_eq(pending.calls, 1);
    ck_assert_int_eq(pending.rc, SG_ERR);
    /* Down: every call fails fast, synchronously. */
    uint64_t t0 = sg_now_ms();
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(ops()->get(f.inst[0], "k", &sync, on_got, &pending), SG_ERR);
        ck_assert_int_eq(ops()->put(f.inst[0], "k", e, 1, 1000), SG_ERR);
        ck_assert_int_eq(ops()->lease(f.inst[0], "k", 1000, on_lease, &pending), SG_ERR);
        ck_assert_int_eq(ops()->purge(f.inst[0], "k"), SG_ERR);
    }
    ck_assert_uint_lt(sg_now_ms() - t0, 50);
    ck_assert_int_eq(pending.calls, 1);
    /* Failed reconnects open the circuit. */
    for (int t = 0; t < 600 && !stats_of(f.inst[0]).circuit_open; t++)
        spin(f.base, 5);
    ck_assert_int_eq(stats_of(f.inst[0]).circuit_open, 1);

    /* Back on the same port: reconnected within a few seconds, circuit closed. */
    sg_test_redis_start(&s);
    uint64_t t1 = sg_now_ms();
    ck_assert(wait_connected(f.base, f.inst[0], 1, 4000));
    ck_assert_uint_lt(sg_now_ms() - t1, 3000);
    struct sg_cache_stats st = stats_of(f.inst[0]);
    ck_assert_int_eq(st.circuit_open, 0);
    ck_assert_uint_gt(st.reconnects, reconnects);
    ck_assert_uint_ge(st.errors, 1);
    ck_assert_int_eq(get_wait(&f, 0, "k", &got), SG_DECLINED); /* a fresh, empty server */
    /* The subscription came back as well: purges arrive again. */
    struct purges p = {0};
    ops()->on_purge(f.inst[0], on_purged, &p);
    for (int t = 0; t < 400 && !p.n; t++) {
        freeReplyObject(sg_test_redis_cmd(&s, "PUBLISH snapgate:v3:purge after-restart"));
        spin(f.base, 10);
    }
    ck_assert_str_eq(p.last, "after-restart");
    ck_assert_int_eq(ops()->put(f.inst[0], "k", e, 1, 60000), SG_OK);
    ck_assert_int_eq(get_wait(&f, 0, "k", &got), SG_OK);
    sg_cache_entry_put(got);
    sg_cache_entry_put(e);
    fx_close(&f);
    sg_test_redis_stop(&s);
}
END_TEST

START_TEST(test_auth_and_db)
{
    struct sg_test_redis s;
    srv_tcp(&s, "pa ss@word");
    struct fx f;
    char *url = sg_xasprintf("redis://:pa%%20ss%%40word@127.0.0.1:%d/2", s.port);
    fx_open(&f, url, 1);
    free(url);
    struct sg_cache_entry *e = entry("{}", 60000), *got = NULL;
    ck_assert_int_eq(ops()->put(f.inst[0], "authed", e, 1, 60000), SG_OK);
    ck_assert_int_eq(get_wait(&f, 0, "authed", &got), SG_OK);
    sg_cache_entry_put(got);
    /* It went to db 2. */
    redisContext *c = sg_test_redis_cli(&s);
    redisReply *r = redisCommand(c, "SELECT 2");
    freeReplyObject(r);
    r = redisCommand(c, "EXISTS snapgate:v3:task:authed");
    ck_assert_int_eq(r->integer, 1);
    freeReplyObject(r);
    redisFree(c);
    fx_close(&f);

    /* A wrong password never gets ready: calls fail fast, nothing hangs. */
    struct sg_conf_errs errs = {0};
    url = sg_xasprintf("redis://:wrong@127.0.0.1:%d/0", s.port);
    ck_assert_int_eq(conf_url(url, &f.priv, &errs), SG_OK);
    free(url);
    f.base = event_base_new();
    f.w[0] = sg_worker_new(0, f.base);
    f.inst[0] = sg_module_cache_redis.worker_init(f.priv, f.w[0]);
    ck_assert(!wait_connected(f.base, f.inst[0], 1, 500));
    ck_assert_int_eq(ops()->get(f.inst[0], "authed", &got, on_got, NULL), SG_ERR);
    fx_close(&f);
    sg_cache_entry_put(e);
    sg_test_redis_stop(&s);
}
END_TEST

START_TEST(test_unix_socket)
{
    struct sg_test_redis s = {0};
    snprintf(s.sock, sizeof(s.sock), "/tmp/sg-redis-%d.sock", (int)getpid());
    sg_test_redis_start(&s);
    struct fx f;
    char *url = sg_xasprintf("unix://%s?db=3", s.sock);
    fx_open(&f, url, 1);
    free(url);
    struct sg_cache_entry *e = entry("{\"via\":\"unix\"}", 60000), *got = NULL;
    ck_assert_int_eq(ops()->put(f.inst[0], "u", e, 1, 60000), SG_OK);
    ck_assert_int_eq(get_wait(&f, 0, "u", &got), SG_OK);
    ck_assert_str_eq(got->body, e->body);
    sg_cache_entry_put(got);
    redisContext *c = sg_test_redis_cli(&s);
    freeReplyObject(redisCommand(c, "SELECT 3"));
    redisReply *r = redisCommand(c, "EXISTS snapgate:v3:task:u");
    ck_assert_int_eq(r->integer, 1);
    freeReplyObject(r);
    redisFree(c);
    sg_cache_entry_put(e);
    fx_close(&f);
    sg_test_redis_stop(&s);
    unlink(s.sock);
}
END_TEST

START_TEST(test_fini_with_commands_in_flight)
{
    struct sg_test_redis s;
    srv_tcp(&s, NULL);
    struct fx f;
    fx_open_tcp(&f, &s, 1);
    struct got g[4] = {{0}};
    struct sg_cache_entry *sync = NULL, *e = entry("{}", 60000);
    ck_assert_int_eq(ops()->lease(f.inst[0], "held", 5000, on_lease, &g[3]), SG_AGAIN);
    spin(f.base, 50);
    ck_assert_int_eq(g[3].rc, SG_OK); /* a remembered lease, freed by fini */
    g[3].calls = 0;
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(ops()->get(f.inst[0], "k", &sync, on_got, &g[i]), SG_AGAIN);
    ck_assert_int_eq(ops()->lease(f.inst[0], "k", 5000, on_lease, &g[3]), SG_AGAIN);
    ck_assert_int_eq(ops()->put(f.inst[0], "k", e, 1, 60000), SG_OK);
    sg_module_cache_redis.worker_fini(f.inst[0]);
    f.inst[0] = NULL;
    /* Each pending callback ran once, with SG_ERR, before fini returned... */
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(g[i].calls, 1);
        ck_assert_int_eq(g[i].rc, SG_ERR);
    }
    /* ...and nothing comes later (timers gone, contexts freed). */
    spin(f.base, TIMEOUT_MS + 100);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(g[i].calls, 1);
    ck_assert_int_eq(event_base_get_num_events(f.base, EVENT_BASE_COUNT_ADDED), 0);
    sg_cache_entry_put(e);
    fx_close(&f);
    sg_test_redis_stop(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cache_redis");
    TCase *conf = tcase_create("conf");
    tcase_add_loop_test(conf, test_url_table, 0, (int)SG_ARRAY_LEN(urls));
    tcase_add_test(conf, test_conf_errors_name_the_key_and_hide_the_password);
    suite_add_tcase(s, conf);
    TCase *live = tcase_create("live");
    tcase_set_timeout(live, 20);
    tcase_add_test(live, test_put_get_round_trip);
    tcase_add_test(live, test_expired_entry_is_handed_over_stale);
    tcase_add_test(live, test_garbage_value_is_a_counted_miss);
    tcase_add_test(live, test_lease_acquire_deny_expire_release);
    tcase_add_test(live, test_purge_reaches_every_instance);
    tcase_add_test(live, test_timeout_fails_once_within_the_timeout);
    tcase_add_test(live, test_dead_server_opens_the_circuit_and_recovery_closes_it);
    tcase_add_test(live, test_auth_and_db);
    tcase_add_test(live, test_unix_socket);
    tcase_add_test(live, test_fini_with_commands_in_flight);
    suite_add_tcase(s, live);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
