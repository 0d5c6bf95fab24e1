/* The basic provider on a real event base and the real offload pool, with a
 * users file written at test time (yescrypt, bcrypt and sha512crypt hashes). */
#include <check.h>
#include <crypt.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "modules/auth/basic/basic.h"
#include "lib/offload.h"
#include "sg_test_util.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "worker/worker.h"

static const struct sg_auth_ops *ops;
static struct event_base *base;
static struct sg_worker *worker;
static pthread_t loop_thread;
static char *users_path;
static void *priv;
static void *inst;

struct user {
    const char *name, *password, *prefix;
    unsigned long cost;
};

/* dave's password has colons: only the first one splits name from password. */
static const struct user users[] = {
    {"alice", "wonder land", "$y$", 1},
    {"bob", "builder", "$2b$", 4},
    {"carol", "s3cret!", "$6$", 1000},
    {"dave", "pa:ss:word", "$y$", 1},
};

static char *make_hash(const char *prefix, unsigned long cost, const char *password)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    ck_assert_ptr_nonnull(crypt_gensalt_rn(prefix, cost, NULL, 0, setting, sizeof(setting)));
    const char *h = crypt_rn(password, setting, &cd, sizeof(cd));
    ck_assert_ptr_nonnull(h);
    ck_assert(strncmp(h, prefix, strlen(prefix)) == 0);
    return sg_xstrdup(h);
}

/* ---- conf nodes built by hand (the YAML parser is another stream's) -------- */

static struct sg_conf_node *scalar(const char *v, int line)
{
    struct sg_conf_node *n = sg_xcalloc(1, sizeof(*n));
    n->type = SG_NODE_SCALAR;
    n->line = line;
    n->scalar = sg_xstrdup(v);
    return n;
}

/* A map from NULL-terminated key/value pairs, each key on its own line. */
static struct sg_conf_node *map_of(const char *const *kv)
{
    struct sg_conf_node *m = sg_xcalloc(1, sizeof(*m));
    m->type = SG_NODE_MAP;
    m->line = 10;
    while (kv[2 * m->n])
        m->n++;
    m->keys = sg_xcalloc(m->n, sizeof(*m->keys));
    m->key_lines = sg_xcalloc(m->n, sizeof(*m->key_lines));
    m->items = sg_xcalloc(m->n, sizeof(*m->items));
    for (size_t i = 0; i < m->n; i++) {
        m->keys[i] = sg_xstrdup(kv[2 * i]);
        m->key_lines[i] = 11 + (int)i;
        m->items[i] = scalar(kv[2 * i + 1], 11 + (int)i);
    }
    return m;
}

static void node_free(struct sg_conf_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        free(n->keys ? n->keys[i] : NULL);
        node_free(n->items[i]);
    }
    free(n->keys);
    free(n->key_lines);
    free(n->items);
    free(n->scalar);
    free(n);
}

/* Runs the conf hook on {type: basic, users_file: path, extra: ...}. */
static int run_conf(const char *const *kv, struct sg_conf_errs *errs, void **out)
{
    struct sg_conf_node *m = map_of(kv);
    int rc = sg_module_auth_basic.conf(m, "auth.providers[0]", NULL, errs, out);
    node_free(m);
    return rc;
}

/* ---- fixture ---------------------------------------------------------------- */

static void setup(void)
{
    ck_assert_int_eq(evthread_use_pthreads(), 0);
    base = event_base_new();
    loop_thread = pthread_self();
    worker = sg_worker_new(0, base);
    ck_assert_int_eq(sg_offload_start(2), SG_OK);
    ops = sg_module_auth_basic.ops;

    char *content = sg_xstrdup("# snapgate users\n\n");
    for (size_t i = 0; i < SG_ARRAY_LEN(users); i++) {
        char *h = make_hash(users[i].prefix, users[i].cost, users[i].password);
        char *next = sg_xasprintf("%s%s:%s\n", content, users[i].name, h);
        free(h);
        free(content);
        content = next;
    }
    users_path = sg_test_write_temp(content);
    free(content);
    ck_assert_ptr_nonnull(users_path);

    struct sg_conf_errs errs = {.file = "test.yaml"};
    const char *kv[] = {"type", "basic", "users_file", users_path, NULL};
    int rc = run_conf(kv, &errs, &priv);
    unlink(users_path); /* read at conf time: a failing test leaves nothing behind */
    ck_assert_int_eq(rc, SG_OK);
    ck_assert_int_eq(errs.n, 0);
    inst = sg_module_auth_basic.worker_init(priv, worker);
}

static void teardown(void)
{
    sg_module_auth_basic.worker_fini(inst);
    sg_module_auth_basic.free_conf(priv);
    sg_offload_stop();
    sg_worker_free(worker);
    event_base_free(base);
    free(users_path);
}

/* ---- running one authentication -------------------------------------------- */

struct result {
    int calls;
    int rc;
    bool on_loop;
    struct sg_principal out;
};

static void on_auth(int rc, struct sg_principal *p, void *arg)
{
    struct result *r = arg;
    r->calls++;
    r->rc = rc;
    r->on_loop = pthread_equal(pthread_self(), loop_thread);
    if (rc == SG_OK)
        ck_assert_ptr_eq(p, &r->out);
    else
        ck_assert_ptr_null(p);
    event_base_loopbreak(base);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(bool *)arg = true;
    event_base_loopbreak(base);
}

static void wait_callback(struct result *r)
{
    bool timed_out = false;
    struct event *t = evtimer_new(base, on_timeout, &timed_out);
    struct timeval tv = {20, 0};
    evtimer_add(t, &tv);
    while (r->calls == 0 && !timed_out)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(t);
    ck_assert_msg(!timed_out, "no callback within 20 s");
}

static char *basic_header(const char *credentials, size_t len)
{
    char *h = sg_xcalloc(1, 6 + 4 * ((len + 2) / 3) + 1);
    memcpy(h, "Basic ", 6);
    EVP_EncodeBlock((unsigned char *)h + 6, (const unsigned char *)credentials, (int)len);
    return h;
}

static char *basic_for(const char *name, const char *password)
{
    char *cred = sg_xasprintf("%s:%s", name, password);
    char *h = basic_header(cred, strlen(cred));
    free(cred);
    return h;
}

/* Authenticates hdr; *sync gets what authenticate returned. When that is
 * SG_AGAIN the loop runs until the callback; the final outcome is returned. */
static int auth(const char *hdr, struct result *r, int *sync)
{
    memset(r, 0, sizeof(*r));
    int rc = ops->authenticate(inst, hdr, hdr ? strlen(hdr) : 0, &r->out, on_auth, r);
    *sync = rc;
    ck_assert_int_eq(r->calls, 0); /* never from inside authenticate */
    if (rc != SG_AGAIN)
        return rc;
    wait_callback(r);
    ck_assert_int_eq(r->calls, 1);
    ck_assert(r->on_loop);
    return r->rc;
}

/* ---- authentication ----------------------------------------------------------- */

START_TEST(test_correct_password_each_algorithm)
{
    const struct user *u = &users[_i];
    char *hdr = basic_for(u->name, u->password);
    struct result r;
    int sync;
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_OK);
    ck_assert_int_eq(sync, SG_AGAIN);
    ck_assert_str_eq(r.out.name, u->name);
    /* One more loop pass: no second callback may follow. */
    event_base_loop(base, EVLOOP_NONBLOCK);
    ck_assert_int_eq(r.calls, 1);
    free(hdr);
}
END_TEST

START_TEST(test_wrong_password_denied)
{
    const struct user *u = &users[_i];
    char *wrong = sg_xasprintf("%sX", u->password);
    char *hdr = basic_for(u->name, wrong);
    struct result r;
    int sync;
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_DENIED);
    ck_assert_int_eq(sync, SG_AGAIN);
    /* Failures are not cached: the same header is checked again. */
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_DENIED);
    ck_assert_int_eq(sync, SG_AGAIN);
    free(wrong);
    free(hdr);
}
END_TEST

START_TEST(test_unknown_user_denied_after_a_crypt)
{
    /* mallory uses alice's password: the dummy hash is alice's, still DENIED. */
    const char *names[] = {"mallory", "ALICE", "alice "};
    char *hdr = basic_for(names[_i], users[0].password);
    struct result r;
    int sync;
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_DENIED);
    ck_assert_int_eq(sync, SG_AGAIN); /* took the same asynchronous path as a real user */
    free(hdr);
}
END_TEST

START_TEST(test_password_may_contain_colons)
{
    char *hdr = basic_for("dave", "pa:ss:word");
    struct result r;
    int sync;
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_OK);
    ck_assert_str_eq(r.out.name, "dave");
    free(hdr);
    hdr = basic_for("dave", "pa"); /* only the part up to the next colon is not enough */
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_DENIED);
    free(hdr);
}
END_TEST

START_TEST(test_scheme_is_case_insensitive_and_spaces_allowed)
{
    char *b = basic_for("alice", users[0].password);
    char *hdr = sg_xasprintf("bAsIc   %s  ", b + 6);
    struct result r;
    int sync;
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_OK);
    ck_assert_str_eq(r.out.name, "alice");
    free(hdr);
    free(b);
}
END_TEST

static const char *const declined[] = {
    NULL,
    "",
    "Bearer abc.def",
    "Basicx YWxpY2U6eA==",
    "Digest username=\"alice\"",
    "Basi",
    "Basic\tYWxpY2U6eA==",
    "NTLM TlRMTVNTUAAB",
};

START_TEST(test_declined)
{
    struct result r;
    int sync;
    ck_assert_int_eq(auth(declined[_i], &r, &sync), SG_DECLINED);
}
END_TEST

static const char *const denied[] = {
    "Basic",               /* the scheme with nothing */
    "Basic ",              /* empty */
    "Basic    ",           /* empty */
    "Basic YWxpY2U=",      /* "alice": no colon */
    "Basic YWxpY2U6eA",    /* missing padding */
    "Basic YWxpY2U6eA=",   /* wrong padding */
    "Basic YWxpY2U6eB==",  /* non-canonical: unused bits set */
    "Basic YWxp!2U6eA==",  /* not base64 */
    "Basic YWxp Y2U6eA==", /* space inside */
    "Basic ====",          /* only padding */
    "Basic YW=pY2U6",      /* padding in the middle */
    "Basic Og==",          /* ":": empty user name */
    "Basic YQBiOmM=",      /* "a\0b:c": a NUL byte */
    "Basic YWxpY2U6eA==garbage",
};

START_TEST(test_denied_synchronously)
{
    struct result r;
    int sync;
    ck_assert_int_eq(auth(denied[_i], &r, &sync), SG_DENIED);
    ck_assert_int_eq(r.calls, 0);
}
END_TEST

START_TEST(test_oversized_header_denied)
{
    /* A valid encoding of a long user name: denied by size before decoding. */
    size_t n = SG_BASIC_HEADER_MAX;
    char *cred = sg_xmalloc(n + 1);
    memset(cred, 'a', n);
    cred[n - 2] = ':';
    cred[n] = '\0';
    char *hdr = basic_header(cred, n);
    struct result r;
    int sync;
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_DENIED);
    ck_assert_int_eq(sync, SG_DENIED);
    free(hdr);
    free(cred);
}
END_TEST

/* ---- the verified-credential cache -------------------------------------------- */

START_TEST(test_second_request_is_a_synchronous_hit_until_forget)
{
    char *hdr = basic_for("bob", "builder");
    struct result r;
    int sync;
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_OK);
    ck_assert_int_eq(sync, SG_AGAIN);
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_OK);
    ck_assert_int_eq(sync, SG_OK);
    ck_assert_int_eq(r.calls, 0);
    ck_assert_str_eq(r.out.name, "bob");

    ops->forget(inst);
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_OK);
    ck_assert_int_eq(sync, SG_AGAIN);
    free(hdr);
}
END_TEST

START_TEST(test_entries_expire)
{
    sg_basic_set_cache_ttl_ms(inst, 30);
    char *hdr = basic_for("alice", users[0].password);
    struct result r;
    int sync;
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_OK);
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_OK);
    ck_assert_int_eq(sync, SG_OK);
    usleep(60 * 1000);
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_OK);
    ck_assert_int_eq(sync, SG_AGAIN);
    free(hdr);
}
END_TEST

START_TEST(test_forget_while_checking_does_not_refill)
{
    char *hdr = basic_for("carol", "s3cret!");
    struct result r;
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(ops->authenticate(inst, hdr, strlen(hdr), &r.out, on_auth, &r), SG_AGAIN);
    ops->forget(inst); /* a reload lands while the hash is being computed */
    wait_callback(&r);
    ck_assert_int_eq(r.rc, SG_OK); /* the answer stands for the request that asked */
    int sync;
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_OK);
    ck_assert_int_eq(sync, SG_AGAIN); /* but it was not remembered */
    free(hdr);
}
END_TEST

START_TEST(test_fini_answers_pending_checks_once)
{
    char *hdr = basic_for("alice", users[0].password);
    struct result r[3];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(ops->authenticate(inst, hdr, strlen(hdr), &r[i].out, on_auth, &r[i]),
                         SG_AGAIN);
    sg_module_auth_basic.worker_fini(inst);
    inst = sg_module_auth_basic.worker_init(priv, worker);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(r[i].calls, 1);
        ck_assert(r[i].rc == SG_OK || r[i].rc == SG_DENIED);
    }
    free(hdr);
}
END_TEST

START_TEST(test_pool_stopped_is_an_error_not_a_denial)
{
    sg_offload_stop();
    char *hdr = basic_for("alice", users[0].password);
    struct result r;
    int sync;
    ck_assert_int_eq(auth(hdr, &r, &sync), SG_ERR);
    ck_assert_int_eq(r.calls, 0);
    free(hdr);
}
END_TEST

/* ---- the users file and the conf hook ----------------------------------------- */

struct file_case {
    const char *content; /* %s is replaced by a valid yescrypt hash */
    const char *want;    /* expected after "auth.providers[0].users_file: PATH" */
};

static const struct file_case bad_files[] = {
    {"alice:$1$abcdefgh$0123456789abcdefghijkl\n",
     ":1: unsupported hash (want yescrypt $y$, bcrypt $2b$ or sha512crypt $6$)"},
    {"# comment\n\nalice:plaintext-password\n",
     ":3: unsupported hash (want yescrypt $y$, bcrypt $2b$ or sha512crypt $6$)"},
    {"alice:abJnggxhB/yWI\n",
     ":1: unsupported hash (want yescrypt $y$, bcrypt $2b$ or sha512crypt $6$)"},
    {"alice:\n", ":1: unsupported hash (want yescrypt $y$, bcrypt $2b$ or sha512crypt $6$)"},
    {"alice:%s\nbob:%s\n\nalice:%s\n", ":4: duplicate user \"alice\" (first on line 1)"},
    {":%s\n", ":1: empty user name"},
    {"alice\n", ":1: expected name:hash"},
    {"al\x01ice:%s\n", ":1: user name contains control characters"},
    {"alice:%s extra\n", ":1: malformed hash"},
};

static char *fill_hash(const char *fmt, const char *hash)
{
    char *out = sg_xstrdup("");
    for (const char *p = fmt; *p; p++) {
        char *next = (p[0] == '%' && p[1] == 's') ? sg_xasprintf("%s%s", out, hash)
                                                  : sg_xasprintf("%s%c", out, *p);
        if (p[0] == '%' && p[1] == 's')
            p++;
        free(out);
        out = next;
    }
    return out;
}

START_TEST(test_bad_users_files)
{
    const struct file_case *fc = &bad_files[_i];
    char *hash = make_hash("$y$", 1, "x");
    char *content = fill_hash(fc->content, hash);
    char *path = sg_test_write_temp(content);
    struct sg_conf_errs errs = {.file = "test.yaml"};
    void *p = NULL;
    const char *kv[] = {"type", "basic", "users_file", path, NULL};
    int rc = run_conf(kv, &errs, &p);
    unlink(path);
    ck_assert_int_eq(rc, SG_ERR);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(errs.n, 1);
    char *want = sg_xasprintf("auth.providers[0].users_file: %s%s", path, fc->want);
    ck_assert_msg(strstr(errs.msgs[0], want), "got \"%s\", want \"%s\"", errs.msgs[0], want);
    ck_assert_msg(strstr(errs.msgs[0], ":12: "), "the users_file key's line: %s", errs.msgs[0]);
    /* Never a hash or password in an error. */
    ck_assert_ptr_null(strstr(errs.msgs[0], hash + 7));
    ck_assert_ptr_null(strstr(errs.msgs[0], "plaintext-password"));
    ck_assert_ptr_null(strstr(errs.msgs[0], "abJnggxhB"));
    sg_conf_errs_clear(&errs);
    free(want);
    free(path);
    free(content);
    free(hash);
}
END_TEST

START_TEST(test_missing_file)
{
    struct sg_conf_errs errs = {.file = "test.yaml"};
    void *p = NULL;
    const char *kv[] = {"type", "basic", "users_file", "/nonexistent/snapgate-users", NULL};
    ck_assert_int_eq(run_conf(kv, &errs, &p), SG_ERR);
    ck_assert_int_eq(errs.n, 1);
    ck_assert_ptr_nonnull(strstr(
        errs.msgs[0],
        "auth.providers[0].users_file: /nonexistent/snapgate-users: No such file or directory"));
    sg_conf_errs_clear(&errs);
}
END_TEST

START_TEST(test_unknown_and_missing_keys)
{
    struct sg_conf_errs errs = {.file = "test.yaml"};
    void *p = NULL;
    char *path = sg_test_write_temp("# valid, and empty\n");
    const char *kv[] = {"type", "basic", "users_file", path, "foo", "1", NULL};
    int rc = run_conf(kv, &errs, &p);
    unlink(path);
    free(path);
    ck_assert_int_eq(rc, SG_ERR);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(errs.n, 1);
    ck_assert_ptr_nonnull(strstr(errs.msgs[0], ":13: auth.providers[0].foo: unknown key"));
    sg_conf_errs_clear(&errs);

    const char *kv2[] = {"type", "basic", NULL};
    ck_assert_int_eq(run_conf(kv2, &errs, &p), SG_ERR);
    ck_assert_int_eq(errs.n, 1);
    ck_assert_ptr_nonnull(
        strstr(errs.msgs[0], "auth.providers[0].users_file: required key is missing"));
    sg_conf_errs_clear(&errs);
}
END_TEST

START_TEST(test_users_load_accepts_comments_blank_lines_and_crlf)
{
    char *y = make_hash("$y$", 1, "a"), *b2y = make_hash("$2b$", 4, "b");
    /* $2y$ is bcrypt too (PHP's spelling of the same algorithm). */
    b2y[2] = 'y';
    char *content = sg_xasprintf("# users\r\n\r\n   \n  # indented comment\nzed:%s\r\n"
                                 "amy:%s  \n",
                                 y, b2y);
    char *path = sg_test_write_temp(content);
    struct sg_basic_users *u = NULL;
    char err[256] = "";
    ck_assert_int_eq(sg_basic_users_load(path, &u, err, sizeof(err)), SG_OK);
    ck_assert_int_eq(sg_basic_users_count(u), 2);
    ck_assert_str_eq(sg_basic_users_find(u, "zed"), y);
    ck_assert_str_eq(sg_basic_users_find(u, "amy"), b2y);
    ck_assert_ptr_null(sg_basic_users_find(u, "bob"));
    ck_assert_str_eq(sg_basic_users_dummy(u), y); /* the first line's hash */
    sg_basic_users_free(u);
    unlink(path);
    free(path);

    path = sg_test_write_temp("# nobody yet\n");
    ck_assert_int_eq(sg_basic_users_load(path, &u, err, sizeof(err)), SG_OK);
    ck_assert_int_eq(sg_basic_users_count(u), 0);
    ck_assert(strncmp(sg_basic_users_dummy(u), "$y$", 3) == 0);
    /* Undefined behaviour before (found by fuzz_basic_users): bsearch on NULL. */
    ck_assert_ptr_null(sg_basic_users_find(u, "bob"));
    sg_basic_users_free(u);
    unlink(path);
    free(path);
    free(content);
    free(y);
    free(b2y);
}
END_TEST

START_TEST(test_module_identity)
{
    ck_assert_str_eq(sg_module_auth_basic.name, "basic");
    ck_assert_int_eq(sg_module_auth_basic.kind, SG_MOD_AUTH);
    ck_assert_str_eq(ops->scheme, "Basic");
}
END_TEST

static Suite *auth_basic_suite(void)
{
    Suite *s = suite_create("auth_basic");
    TCase *tc = tcase_create("authenticate");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_correct_password_each_algorithm, 0, SG_ARRAY_LEN(users));
    tcase_add_loop_test(tc, test_wrong_password_denied, 0, SG_ARRAY_LEN(users));
    tcase_add_loop_test(tc, test_unknown_user_denied_after_a_crypt, 0, 3);
    tcase_add_test(tc, test_password_may_contain_colons);
    tcase_add_test(tc, test_scheme_is_case_insensitive_and_spaces_allowed);
    tcase_add_loop_test(tc, test_declined, 0, SG_ARRAY_LEN(declined));
    tcase_add_loop_test(tc, test_denied_synchronously, 0, SG_ARRAY_LEN(denied));
    tcase_add_test(tc, test_oversized_header_denied);
    tcase_add_test(tc, test_second_request_is_a_synchronous_hit_until_forget);
    tcase_add_test(tc, test_entries_expire);
    tcase_add_test(tc, test_forget_while_checking_does_not_refill);
    tcase_add_test(tc, test_fini_answers_pending_checks_once);
    tcase_add_test(tc, test_pool_stopped_is_an_error_not_a_denial);
    tcase_add_loop_test(tc, test_bad_users_files, 0, SG_ARRAY_LEN(bad_files));
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_unknown_and_missing_keys);
    tcase_add_test(tc, test_users_load_accepts_comments_blank_lines_and_crlf);
    tcase_add_test(tc, test_module_identity);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(auth_basic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
