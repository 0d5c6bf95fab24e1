/* The session store without Redis (gateway/auth/session*.c): ids and their
 * keys, create / check / delete on the process's table with a clock the test
 * moves, idle and absolute expiry, the table's bound and its purge, several
 * workers (and threads) on one table, the stored value's codec against
 * corrupt input, and the metrics. test_session_redis.c has the shared tier. */
#include <check.h>
#include <event2/buffer.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/session.h"
#include "auth/session_int.h"
#include "obs/metrics.h"
#include "sg_test_shared.h"
#include "snapgate/common.h"
#include "worker/wstate.h"

#define IDLE_MS 1000
#define MAX_MS 10000
#define T0 1700000000000ULL /* a Unix epoch ms */

static uint64_t fake_now;
static uint64_t fake_clock(void)
{
    return fake_now;
}

struct fx {
    struct sg_conf conf;
    struct sg_session_table *table;
    struct sg_wstate ws[2]; /* two workers of one process */
};

static struct fx f;

static void setup(void)
{
    memset(&f, 0, sizeof(f));
    f.conf.session_idle_ms = IDLE_MS;
    f.conf.session_max_lifetime_ms = MAX_MS;
    f.table = sg_session_table_new_bounded(16);
    sg_session_table_set_clock(f.table, fake_clock);
    fake_now = T0;
    for (unsigned i = 0; i < 2; i++) {
        f.ws[i].conf = &f.conf;
        f.ws[i].sessions = f.table;
        f.ws[i].metrics = sg_metrics_register(i);
        memset(f.ws[i].metrics, 0, sizeof(*f.ws[i].metrics));
    }
}

static void teardown(void)
{
    sg_session_table_free(f.table);
}

/* The table answers at once: a callback would be a broken promise. */
static void never(int rc, void *arg)
{
    (void)arg;
    ck_abort_msg("a callback from the process's table (rc %d)", rc);
}

static struct sg_principal principal(const char *name, size_t ngroups)
{
    struct sg_principal p = {0};
    snprintf(p.name, sizeof(p.name), "%s", name);
    p.ngroups = ngroups;
    p.groups = ngroups ? sg_xcalloc(ngroups, sizeof(char *)) : NULL;
    for (size_t i = 0; i < ngroups; i++)
        p.groups[i] = sg_xasprintf("group-%zu", i);
    return p;
}

static int create(int w, const char *name, char id[SG_SESSION_ID_LEN + 1])
{
    struct sg_principal p = principal(name, 2);
    int rc = sg_session_create(&f.ws[w], &p, id, never, NULL);
    sg_principal_clear(&p);
    return rc;
}

/* A check through worker w; on SG_OK the principal and info are verified
 * against name and the clock. */
static int check(int w, const char *id, const char *name)
{
    struct sg_principal out = {0};
    struct sg_session_info info;
    memset(&info, 0xAA, sizeof(info));
    int rc = sg_session_check(&f.ws[w], id, strlen(id), &out, &info, never, NULL);
    if (rc == SG_OK) {
        ck_assert_str_eq(out.name, name);
        ck_assert_uint_eq(out.ngroups, 2);
        ck_assert_str_eq(out.groups[1], "group-1");
        ck_assert_ptr_null(out.upstream_session);
        ck_assert_str_eq(info.user, name);
        /* now, or the stored access when the clock went back (never earlier) */
        ck_assert_uint_ge(info.last_accessed_ms, fake_now);
        ck_assert_uint_le(info.created_ms, info.last_accessed_ms);
    } else {
        ck_assert_ptr_null(out.groups);
    }
    sg_principal_clear(&out);
    return rc;
}

static int del(int w, const char *id)
{
    return sg_session_delete(&f.ws[w], id, strlen(id), never, NULL);
}

static uint64_t metric(_Atomic uint64_t *c)
{
    return atomic_load(c);
}

/* ---- ids and keys --------------------------------------------------------------- */

START_TEST(test_id_is_64_lower_hex_and_fresh)
{
    char a[SG_SESSION_ID_LEN + 1], b[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "alice", a), SG_OK);
    ck_assert_int_eq(create(0, "alice", b), SG_OK);
    ck_assert_uint_eq(strlen(a), 64);
    ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 64);
    ck_assert(sg_session_id_valid(a, 64));
    ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(test_malformed_ids_are_denied_at_once)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "alice", id), SG_OK);
    char upper[SG_SESSION_ID_LEN + 1];
    for (size_t i = 0; i <= SG_SESSION_ID_LEN; i++)
        upper[i] = (char)(id[i] >= 'a' && id[i] <= 'f' ? id[i] - 32 : id[i]);
    if (strcmp(upper, id) != 0) /* ids differ only in case: not the same id */
        ck_assert_int_eq(check(0, upper, "alice"), SG_DENIED);
    const char *bad[] = {"", "abc",
                         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
                         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
                         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg"};
    for (size_t i = 0; i < SG_ARRAY_LEN(bad); i++) {
        ck_assert_int_eq(check(0, bad[i], "alice"), SG_DENIED);
        ck_assert_int_eq(del(0, bad[i]), SG_DENIED);
    }
    /* An id followed by more bytes is not the id. */
    char longer[SG_SESSION_ID_LEN + 2];
    memcpy(longer, id, SG_SESSION_ID_LEN);
    longer[SG_SESSION_ID_LEN] = '0';
    longer[SG_SESSION_ID_LEN + 1] = '\0';
    ck_assert_int_eq(check(0, longer, "alice"), SG_DENIED);
    ck_assert_int_eq(check(0, id, "alice"), SG_OK);
}
END_TEST

START_TEST(test_key_is_hmac_sha256_under_the_fixed_key)
{
    /* python3: hmac.new(b"snapgate session store key v1", id, sha256) */
    const char *id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char key[SG_SESSION_KEY_LEN + 1];
    sg_session_key(id, strlen(id), key);
    ck_assert_str_eq(key, "f53dd72aa6d374622ed1759e8f901cd59783f1977377b6cb4463dbededf4d373");
}
END_TEST

/* ---- create, check, delete ------------------------------------------------------ */

START_TEST(test_create_check_delete)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "alice@vsphere.local", id), SG_OK);
    fake_now += 10;
    ck_assert_int_eq(check(0, id, "alice@vsphere.local"), SG_OK);
    ck_assert_int_eq(del(0, id), SG_OK);
    ck_assert_int_eq(check(0, id, "alice@vsphere.local"), SG_DENIED);
    ck_assert_int_eq(del(0, id), SG_DENIED);
    ck_assert_uint_eq(sg_session_table_count(f.table), 0);
}
END_TEST

START_TEST(test_info_times)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "bob", id), SG_OK);
    fake_now = T0 + 700;
    struct sg_principal out = {0};
    struct sg_session_info info;
    ck_assert_int_eq(sg_session_check(&f.ws[0], id, 64, &out, &info, never, NULL), SG_OK);
    ck_assert_str_eq(info.user, "bob");
    ck_assert_uint_eq(info.created_ms, T0);
    ck_assert_uint_eq(info.last_accessed_ms, T0 + 700);
    sg_principal_clear(&out);
}
END_TEST

START_TEST(test_workers_share_the_table)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "alice", id), SG_OK);
    ck_assert_int_eq(check(1, id, "alice"), SG_OK);
    ck_assert_int_eq(del(1, id), SG_OK);
    ck_assert_int_eq(check(0, id, "alice"), SG_DENIED);
}
END_TEST

START_TEST(test_delegated_principal_is_refused)
{
    struct sg_principal p = principal("carol", 0);
    p.upstream_session = sg_xstrdup("vc-session");
    char id[SG_SESSION_ID_LEN + 1] = "x";
    ck_assert_int_eq(sg_session_create(&f.ws[0], &p, id, never, NULL), SG_ERR);
    ck_assert_str_eq(id, "");
    ck_assert_uint_eq(sg_session_table_count(f.table), 0);
    sg_principal_clear(&p);
}
END_TEST

START_TEST(test_stopping_worker_fails)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "alice", id), SG_OK);
    f.ws[0].stopping = true;
    char other[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "alice", other), SG_ERR);
    ck_assert_int_eq(check(0, id, "alice"), SG_ERR);
    ck_assert_int_eq(del(0, id), SG_ERR);
    ck_assert_int_eq(check(1, id, "alice"), SG_OK);
}
END_TEST

/* A shared tier that cannot hold sessions is an error, never the table. */
START_TEST(test_shared_tier_without_kv_fails_closed)
{
    struct sg_test_shared fake;
    sg_test_shared_init(&fake, NULL);
    f.ws[0].shared_ops = &sg_test_shared_ops;
    f.ws[0].shared = &fake;
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "alice", id), SG_ERR);
    ck_assert_str_eq(id, "");
    ck_assert_uint_eq(sg_session_table_count(f.table), 0);
    ck_assert_int_eq(create(1, "alice", id), SG_OK);
    ck_assert_int_eq(check(0, id, "alice"), SG_ERR);
    ck_assert_int_eq(del(0, id), SG_ERR);
    ck_assert_uint_eq(metric(&f.ws[0].metrics->session_checks[2]), 1);
    sg_test_shared_fini(&fake);
}
END_TEST

/* ---- expiry ------------------------------------------------------------------------ */

START_TEST(test_idle_expiry_and_use_extends_it)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "alice", id), SG_OK);
    fake_now = T0 + IDLE_MS - 1;
    ck_assert_int_eq(check(0, id, "alice"), SG_OK);
    fake_now += IDLE_MS - 1; /* idle since the last check, not since creation */
    ck_assert_int_eq(check(1, id, "alice"), SG_OK);
    fake_now += IDLE_MS; /* exactly the idle time: over */
    ck_assert_int_eq(check(0, id, "alice"), SG_DENIED);
    ck_assert_uint_eq(sg_session_table_count(f.table), 0); /* dropped when found */
    fake_now -= IDLE_MS;                                   /* it does not come back */
    ck_assert_int_eq(check(0, id, "alice"), SG_DENIED);
}
END_TEST

START_TEST(test_absolute_expiry_however_used)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "alice", id), SG_OK);
    while (fake_now + 500 < T0 + MAX_MS) {
        fake_now += 500;
        ck_assert_int_eq(check(0, id, "alice"), SG_OK);
    }
    fake_now = T0 + MAX_MS;
    ck_assert_int_eq(check(0, id, "alice"), SG_DENIED);
}
END_TEST

START_TEST(test_delete_of_an_ended_session_is_denied)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "alice", id), SG_OK);
    fake_now += IDLE_MS;
    ck_assert_int_eq(del(0, id), SG_DENIED);
    ck_assert_uint_eq(sg_session_table_count(f.table), 0);
}
END_TEST

START_TEST(test_a_reload_applies_to_live_sessions)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "alice", id), SG_OK);
    fake_now += 600;
    f.conf.session_idle_ms = 500; /* ws->conf is what a reload swaps */
    ck_assert_int_eq(check(0, id, "alice"), SG_DENIED);
}
END_TEST

START_TEST(test_clock_going_back_counts_as_now)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "alice", id), SG_OK);
    fake_now = T0 - 5000;
    ck_assert_int_eq(check(0, id, "alice"), SG_OK);
    fake_now = T0 + IDLE_MS - 1;
    ck_assert_int_eq(check(0, id, "alice"), SG_OK);
}
END_TEST

START_TEST(test_rules)
{
    const struct sg_session_limits lim = {.idle_ms = 100, .max_ms = 1000};
    ck_assert(!sg_session_expired(&lim, 0, 0, 99));
    ck_assert(sg_session_expired(&lim, 0, 0, 100));
    ck_assert(!sg_session_expired(&lim, 0, 950, 999));
    ck_assert(sg_session_expired(&lim, 0, 950, 1000));
    ck_assert(!sg_session_expired(&lim, 500, 600, 10)); /* times ahead of the clock */
    ck_assert_uint_eq(sg_session_ttl_ms(&lim, 0, 0), 100);
    ck_assert_uint_eq(sg_session_ttl_ms(&lim, 0, 940), 60);
    ck_assert_uint_eq(sg_session_ttl_ms(&lim, 0, 1000), 0);
    ck_assert_uint_eq(sg_session_ttl_ms(&lim, 0, 5000), 0);
    ck_assert_uint_eq(sg_session_ttl_ms(&lim, 500, 10), 100);
}
END_TEST

/* ---- the bound and the purge ------------------------------------------------------- */

START_TEST(test_bound_refuses_then_frees_with_expiry)
{
    char id[SG_SESSION_ID_LEN + 1], first[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "u", first), SG_OK);
    for (int i = 1; i < 16; i++)
        ck_assert_int_eq(create(i % 2, "u", id), SG_OK);
    ck_assert_uint_eq(sg_session_table_count(f.table), 16);
    /* Full: refused, and no live session is pushed out for it. */
    ck_assert_int_eq(create(0, "u", id), SG_ERR);
    ck_assert_str_eq(id, "");
    ck_assert_int_eq(create(1, "u", id), SG_ERR);
    ck_assert_int_eq(check(0, first, "u"), SG_OK);
    /* A delete makes room. */
    ck_assert_int_eq(del(0, first), SG_OK);
    ck_assert_int_eq(create(0, "u", id), SG_OK);
    /* Ended sessions are purged to make room. */
    fake_now += IDLE_MS;
    ck_assert_int_eq(create(0, "u", id), SG_OK);
    ck_assert_uint_eq(sg_session_table_count(f.table), 1);
    ck_assert_uint_eq(metric(&f.ws[0].metrics->sessions_created) +
                          metric(&f.ws[1].metrics->sessions_created),
                      18);
}
END_TEST

START_TEST(test_ended_sessions_are_purged_within_a_minute)
{
    char id[SG_SESSION_ID_LEN + 1];
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(create(0, "u", id), SG_OK);
    fake_now += IDLE_MS;
    ck_assert_int_eq(create(0, "u", id), SG_OK); /* under a minute since the first */
    ck_assert_uint_eq(sg_session_table_count(f.table), 6);
    fake_now += 60 * 1000;
    char live[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "u", live), SG_OK);
    ck_assert_uint_eq(sg_session_table_count(f.table), 1);
    ck_assert_int_eq(check(0, live, "u"), SG_OK);
}
END_TEST

/* ---- threads ------------------------------------------------------------------------ */

struct worker_run {
    int w;
    int ok;
};

static void *hammer(void *arg)
{
    struct worker_run *run = arg;
    for (int i = 0; i < 2000; i++) {
        char id[SG_SESSION_ID_LEN + 1];
        if (create(run->w, "t", id) != SG_OK)
            continue;
        struct sg_principal out = {0};
        struct sg_session_info info;
        int rc = sg_session_check(&f.ws[run->w], id, 64, &out, &info, never, NULL);
        sg_principal_clear(&out);
        if (rc == SG_OK && del(run->w, id) == SG_OK)
            run->ok++;
    }
    return NULL;
}

START_TEST(test_two_threads_on_one_table)
{
    sg_session_table_free(f.table);
    f.table = sg_session_table_new();
    sg_session_table_set_clock(f.table, fake_clock);
    f.ws[0].sessions = f.ws[1].sessions = f.table;
    pthread_t th[2];
    struct worker_run runs[2] = {{.w = 0}, {.w = 1}};
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, hammer, &runs[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    ck_assert_int_eq(runs[0].ok, 2000);
    ck_assert_int_eq(runs[1].ok, 2000);
    ck_assert_uint_eq(sg_session_table_count(f.table), 0);
}
END_TEST

/* ---- metrics ----------------------------------------------------------------------- */

START_TEST(test_metrics_count_outcomes)
{
    char id[SG_SESSION_ID_LEN + 1];
    ck_assert_int_eq(create(0, "alice", id), SG_OK);
    ck_assert_int_eq(check(0, id, "alice"), SG_OK);
    ck_assert_int_eq(check(0, "nope", "alice"), SG_DENIED);
    ck_assert_int_eq(del(0, id), SG_OK);
    ck_assert_int_eq(del(0, id), SG_DENIED);
    ck_assert_int_eq(check(0, id, "alice"), SG_DENIED);
    const struct sg_metrics *m = f.ws[0].metrics;
    ck_assert_uint_eq(atomic_load(&m->sessions_created), 1);
    ck_assert_uint_eq(atomic_load(&m->sessions_deleted), 1);
    ck_assert_uint_eq(atomic_load(&m->session_checks[0]), 1);
    ck_assert_uint_eq(atomic_load(&m->session_checks[1]), 2);
    ck_assert_uint_eq(atomic_load(&m->session_checks[2]), 0);
    /* As /metrics renders them, summed over the workers. */
    ck_assert_int_eq(create(1, "bob", id), SG_OK);
    struct evbuffer *out = evbuffer_new();
    sg_metrics_render(out);
    size_t n = evbuffer_get_length(out);
    char *text = sg_xmalloc(n + 1);
    evbuffer_remove(out, text, n);
    text[n] = '\0';
    evbuffer_free(out);
    const char *want[] = {
        "# TYPE snapgate_sessions_created_total counter\nsnapgate_sessions_created_total 2\n",
        "# TYPE snapgate_sessions_deleted_total counter\nsnapgate_sessions_deleted_total 1\n",
        "# TYPE snapgate_session_checks_total counter\n"
        "snapgate_session_checks_total{result=\"ok\"} 1\n"
        "snapgate_session_checks_total{result=\"denied\"} 2\n"
        "snapgate_session_checks_total{result=\"error\"} 0\n",
    };
    for (size_t i = 0; i < SG_ARRAY_LEN(want); i++)
        ck_assert_msg(strstr(text, want[i]), "not in /metrics: %s", want[i]);
    free(text);
}
END_TEST

/* ---- the codec ----------------------------------------------------------------------- */

static unsigned char *sample(size_t *len)
{
    struct sg_principal p = principal("alice@vsphere.local", 3);
    const char *why = NULL;
    unsigned char *v = sg_session_encode(&p, T0, T0 + 5, len, &why);
    ck_assert_msg(v != NULL, "%s", why);
    sg_principal_clear(&p);
    return v;
}

static int decode(const unsigned char *v, size_t len, const char **why)
{
    struct sg_principal out = {0};
    uint64_t c = 0, l = 0;
    int rc = sg_session_decode(v, len, &out, &c, &l, why);
    sg_principal_clear(&out);
    return rc;
}

START_TEST(test_codec_round_trip)
{
    size_t len;
    unsigned char *v = sample(&len);
    ck_assert_mem_eq(v, "SGSS\x01", 5);
    struct sg_principal out = {0};
    uint64_t c, l;
    const char *why = NULL;
    ck_assert_int_eq(sg_session_decode(v, len, &out, &c, &l, &why), SG_OK);
    ck_assert_str_eq(out.name, "alice@vsphere.local");
    ck_assert_uint_eq(out.ngroups, 3);
    ck_assert_str_eq(out.groups[0], "group-0");
    ck_assert_str_eq(out.groups[2], "group-2");
    ck_assert_uint_eq(c, T0);
    ck_assert_uint_eq(l, T0 + 5);
    sg_principal_clear(&out);
    free(v);
}
END_TEST

START_TEST(test_codec_refuses_every_truncation)
{
    size_t len;
    unsigned char *v = sample(&len);
    for (size_t n = 0; n < len; n++) {
        const char *why = NULL;
        unsigned char *cut = sg_xmalloc(n ? n : 1); /* exactly n bytes: ASan sees overreads */
        memcpy(cut, v, n);
        ck_assert_msg(decode(cut, n, &why) == SG_ERR, "decoded %zu of %zu bytes", n, len);
        ck_assert_ptr_nonnull(why);
        free(cut);
    }
    free(v);
}
END_TEST

/* One change to a good value and the reason it is refused for. */
static void refused_after(size_t at, unsigned char byte, const char *reason)
{
    size_t len;
    unsigned char *v = sample(&len);
    ck_assert_uint_lt(at, len);
    v[at] = byte;
    const char *why = NULL;
    ck_assert_int_eq(decode(v, len, &why), SG_ERR);
    ck_assert_str_eq(why, reason);
    free(v);
}

START_TEST(test_codec_refuses_corrupt_values)
{
    refused_after(0, 'X', "not a session value");
    refused_after(4, 2, "a session value of another version");
    refused_after(15, 0, "last access before creation"); /* last_ms high bytes */
    refused_after(21, 0, "bad name");
    refused_after(21, 255, "bad name");
    refused_after(22, 0, "bad name"); /* a NUL in the name */
    /* name "alice@vsphere.local" (19) ends at 41; the group count at 41..42 */
    refused_after(41, 0x04, "too many groups"); /* 0x0403 > 1024 */
    refused_after(42, 4, "bad group");          /* a fourth group past the end */
    refused_after(42, 2, "bytes after the value");
    refused_after(45, 0, "bad group"); /* a NUL in the first group */
    /* A value with a byte more. */
    size_t len;
    unsigned char *v = sample(&len);
    unsigned char *more = sg_xmalloc(len + 1);
    memcpy(more, v, len);
    more[len] = 0;
    const char *why = NULL;
    ck_assert_int_eq(decode(more, len + 1, &why), SG_ERR);
    ck_assert_str_eq(why, "bytes after the value");
    free(more);
    free(v);
    /* Foreign values: a cache entry, text. */
    ck_assert_int_eq(decode((const unsigned char *)"SGCE\x03...........................", 30, &why),
                     SG_ERR);
    ck_assert_int_eq(decode((const unsigned char *)"{\"user\":\"root\"}", 15, &why), SG_ERR);
}
END_TEST

START_TEST(test_codec_refuses_what_does_not_fit)
{
    size_t len;
    const char *why = NULL;
    struct sg_principal p = principal("", 0);
    ck_assert_ptr_null(sg_session_encode(&p, T0, T0, &len, &why));
    ck_assert_ptr_nonnull(why);
    sg_principal_clear(&p);
    p = principal("many", SG_SESSION_GROUPS_MAX + 1);
    ck_assert_ptr_null(sg_session_encode(&p, T0, T0, &len, &why));
    sg_principal_clear(&p);
    p = principal("long", 1);
    free(p.groups[0]);
    p.groups[0] = sg_xmalloc(SG_SESSION_GROUP_LEN_MAX + 2);
    memset(p.groups[0], 'g', SG_SESSION_GROUP_LEN_MAX + 1);
    p.groups[0][SG_SESSION_GROUP_LEN_MAX + 1] = '\0';
    ck_assert_ptr_null(sg_session_encode(&p, T0, T0, &len, &why));
    p.groups[0][SG_SESSION_GROUP_LEN_MAX] = '\0'; /* the longest that fits */
    unsigned char *v = sg_session_encode(&p, T0, T0, &len, &why);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(decode(v, len, &why), SG_OK);
    free(v);
    sg_principal_clear(&p);
    p = principal("most", SG_SESSION_GROUPS_MAX);
    v = sg_session_encode(&p, T0, T0, &len, &why);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(decode(v, len, &why), SG_OK);
    free(v);
    sg_principal_clear(&p);
}
END_TEST

static Suite *session_suite(void)
{
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("local");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_id_is_64_lower_hex_and_fresh);
    tcase_add_test(tc, test_malformed_ids_are_denied_at_once);
    tcase_add_test(tc, test_key_is_hmac_sha256_under_the_fixed_key);
    tcase_add_test(tc, test_create_check_delete);
    tcase_add_test(tc, test_info_times);
    tcase_add_test(tc, test_workers_share_the_table);
    tcase_add_test(tc, test_delegated_principal_is_refused);
    tcase_add_test(tc, test_stopping_worker_fails);
    tcase_add_test(tc, test_shared_tier_without_kv_fails_closed);
    tcase_add_test(tc, test_idle_expiry_and_use_extends_it);
    tcase_add_test(tc, test_absolute_expiry_however_used);
    tcase_add_test(tc, test_delete_of_an_ended_session_is_denied);
    tcase_add_test(tc, test_a_reload_applies_to_live_sessions);
    tcase_add_test(tc, test_clock_going_back_counts_as_now);
    tcase_add_test(tc, test_rules);
    tcase_add_test(tc, test_bound_refuses_then_frees_with_expiry);
    tcase_add_test(tc, test_ended_sessions_are_purged_within_a_minute);
    tcase_add_test(tc, test_two_threads_on_one_table);
    tcase_add_test(tc, test_metrics_count_outcomes);
    suite_add_tcase(s, tc);
    tc = tcase_create("codec");
    tcase_add_test(tc, test_codec_round_trip);
    tcase_add_test(tc, test_codec_refuses_every_truncation);
    tcase_add_test(tc, test_codec_refuses_corrupt_values);
    tcase_add_test(tc, test_codec_refuses_what_does_not_fit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(session_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
