/* The upstream client against an in-process scripted backend (evhttp on
 * loopback, plain or TLS, on the same event base): sessions, pooling, retries,
 * timeouts, transport failures, size caps, cancellation and TLS verification.
 * The test dialect (the cis shape: no module needed) and the scripted server
 * are shared with other suites (sg_test_backend.c). */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sg_test_backend.h"
#include "sg_test_util.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/dialect.h"
#include "snapgate/module.h"
#include "conf/conf_tls.h"
#include "upstream/upstream.h"

/* ---- TLS material, made once per run ------------------------------------- */

struct pki {
    EVP_PKEY *ca_key, *ca2_key, *leaf_key;
    X509 *ca, *ca2;
    X509 *leaf_ok;    /* SAN IP:127.0.0.1, DNS:localhost; by ca */
    X509 *leaf_other; /* SAN DNS:other.example; by ca */
    char *ca_file, *ca2_file;
};
static struct pki pki;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        abort(); /* runs before the suite: no ck_assert here */
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       const char *san)
{
    static long serial = 1;
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
    if (!issuer) {
        add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(x, x, NID_subject_key_identifier, "hash");
    } else {
        add_ext(x, issuer, NID_basic_constraints, "CA:FALSE");
        add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
        add_ext(x, issuer, NID_ext_key_usage, "serverAuth");
        add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
        add_ext(x, issuer, NID_subject_alt_name, san);
    }
    X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
    return x;
}

static char *write_pem(X509 *x)
{
    char *path = sg_test_write_temp("");
    FILE *f = fopen(path, "w");
    PEM_write_X509(f, x);
    fclose(f);
    return path;
}

static void pki_make(void)
{
    pki.ca_key = EVP_EC_gen("P-256");
    pki.ca2_key = EVP_EC_gen("P-256");
    pki.leaf_key = EVP_EC_gen("P-256");
    pki.ca = make_cert(pki.ca_key, "snapgate test CA", NULL, NULL, NULL);
    pki.ca2 = make_cert(pki.ca2_key, "unrelated test CA", NULL, NULL, NULL);
    pki.leaf_ok =
        make_cert(pki.leaf_key, "localhost", pki.ca, pki.ca_key, "IP:127.0.0.1,DNS:localhost");
    pki.leaf_other =
        make_cert(pki.leaf_key, "other.example", pki.ca, pki.ca_key, "DNS:other.example");
    pki.ca_file = write_pem(pki.ca);
    pki.ca2_file = write_pem(pki.ca2);
}

static void pki_free(void)
{
    unlink(pki.ca_file);
    unlink(pki.ca2_file);
    free(pki.ca_file);
    free(pki.ca2_file);
    X509_free(pki.ca);
    X509_free(pki.ca2);
    X509_free(pki.leaf_ok);
    X509_free(pki.leaf_other);
    EVP_PKEY_free(pki.ca_key);
    EVP_PKEY_free(pki.ca2_key);
    EVP_PKEY_free(pki.leaf_key);
}

/* ---- the fixture --------------------------------------------------------- */

struct got {
    int calls;
    enum sg_outcome outcome;
    enum sg_task_status status;
    bool had_info;
    int upstream_status;
    unsigned retries;
    char reason[200];
};

static struct event_base *base;
static struct sg_test_srv srv;
static struct sg_conf_backend backend;
static struct sg_backend_worker *bw;

static void on_fetched(struct sg_fetch_result *res, void *arg)
{
    struct got *g = arg;
    g->calls++;
    g->outcome = res->norm.outcome;
    g->status = res->norm.status;
    g->had_info = res->norm.info != NULL;
    g->upstream_status = res->upstream_status;
    g->retries = res->retries;
    snprintf(g->reason, sizeof(g->reason), "%s", res->norm.reason);
    if (res->norm.info)
        json_object_put(res->norm.info);
    res->norm.info = NULL;
}

/* Runs the loop until *counter reaches want or ms pass; returns whether it did. */
static bool run_until(const int *counter, int want, int ms)
{
    return sg_test_run_until(base, counter, want, ms);
}

static void setup_with(X509 *cert)
{
    base = event_base_new();
    sg_test_srv_start(&srv, base, cert, pki.leaf_key);
    sg_test_backend_init(&backend, "vc1", cert ? "https" : "http", "127.0.0.1", srv.port);
}

/* The client for backend, its TLS prepared as sg_conf_load would. */
static struct sg_backend_worker *create_bw(void)
{
    char err[600];
    ck_assert_msg(sg_conf_tls_prepare(&backend, err, sizeof(err)) == SG_OK, "%s", err);
    struct sg_backend_worker *w = sg_backend_worker_create(base, &backend, 0);
    ck_assert_ptr_nonnull(w);
    return w;
}

static void setup_plain(void)
{
    setup_with(NULL);
    bw = create_bw();
}

static void teardown(void)
{
    sg_backend_worker_destroy(bw);
    bw = NULL;
    /* The config's reference; the client held its own. */
    SSL_CTX_free(backend.tls_ctx);
    backend.tls_ctx = NULL;
    /* Let freed connections' last events run before the server goes. */
    run_until(NULL, 0, 20);
    sg_test_srv_stop(&srv);
    event_base_free(base);
}

static struct got fetch_one(const char *id, uint64_t timeout_ms)
{
    struct got g = {0};
    sg_fetch_start(bw, id, timeout_ms, on_fetched, &g);
    ck_assert_int_eq(g.calls, 0); /* never from inside the start */
    run_until(&g.calls, 1, (int)timeout_ms + 2000);
    return g;
}

/* ---- plain HTTP ---------------------------------------------------------- */

START_TEST(test_fetch_logs_in_once_then_reuses)
{
    struct got g = fetch_one("task-1:abc", 3000);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_int_eq(g.outcome, SG_OUT_INFO);
    ck_assert_int_eq(g.status, SG_TASK_RUNNING);
    ck_assert(g.had_info);
    ck_assert_int_eq(g.upstream_status, 200);
    ck_assert_int_eq(srv.logins, 1);
    ck_assert_int_eq(srv.tasks, 1);
    char want_host[32];
    snprintf(want_host, sizeof(want_host), "127.0.0.1:%u", (unsigned)srv.port);
    ck_assert_str_eq(srv.last_host, want_host);

    g = fetch_one("task-2", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_INFO);
    ck_assert_int_eq(srv.logins, 1);
    ck_assert_int_eq(srv.tasks, 2);
    /* login and both tasks on one kept-alive connection */
    ck_assert_int_eq(srv.conns, 1);
}
END_TEST

START_TEST(test_concurrent_fetches_share_one_login)
{
    struct got g[10] = {{0}};
    int done = 0;
    for (int i = 0; i < 10; i++)
        sg_fetch_start(bw, "task-c", 3000, on_fetched, &g[i]);
    uint64_t end = sg_now_ms() + 4000;
    while (done < 10 && sg_now_ms() < end) {
        run_until(NULL, 0, 10);
        done = 0;
        for (int i = 0; i < 10; i++)
            done += g[i].calls;
    }
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(g[i].calls, 1);
        ck_assert_int_eq(g[i].outcome, SG_OUT_INFO);
    }
    ck_assert_int_eq(srv.logins, 1);
    ck_assert_int_eq(srv.tasks, 10);
    int conns = srv.conns;
    ck_assert_int_le(conns, 10);

    /* A second round finds the connections idle: no new ones, no login. */
    for (int i = 0; i < 10; i++) {
        struct got one = fetch_one("task-d", 3000);
        ck_assert_int_eq(one.outcome, SG_OUT_INFO);
    }
    ck_assert_int_eq(srv.conns, conns);
    ck_assert_int_eq(srv.logins, 1);
}
END_TEST

START_TEST(test_unauthenticated_once_relogs_in_and_retries)
{
    srv.task_script[0] = (struct sg_test_act){.kind = SG_ACT_STATUS, .status = 401, .body = "{}"};
    srv.ntask_script = 1;
    struct got g = fetch_one("task-r", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_INFO);
    ck_assert_int_eq(srv.logins, 2);
    ck_assert_int_eq(srv.tasks, 2);
}
END_TEST

START_TEST(test_unauthenticated_twice_blames_service_account)
{
    srv.task_script[0] = (struct sg_test_act){.kind = SG_ACT_STATUS, .status = 401, .body = "{}"};
    srv.task_script[1] = srv.task_script[0];
    srv.ntask_script = 2;
    struct got g = fetch_one("task-r", 3000);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAVAILABLE);
    ck_assert_str_eq(g.reason, "backend rejected the service account");
    ck_assert_int_eq(g.upstream_status, 401);
    ck_assert_int_eq(srv.logins, 2);
    ck_assert_int_eq(srv.tasks, 2);
}
END_TEST

START_TEST(test_login_denied_is_unavailable_and_held_off)
{
    srv.login_script[0] = 401;
    srv.nlogin_script = 1;
    struct got g = fetch_one("task-l", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAVAILABLE);
    ck_assert_msg(strncmp(g.reason, "login failed: ", 14) == 0, "%s", g.reason);
    ck_assert_int_eq(g.upstream_status, 401);
    ck_assert_int_eq(srv.tasks, 0);
    /* Within the hold-off no second login goes out (account lockout). */
    g = fetch_one("task-l", 3000);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(g.reason, "not retried"));
    ck_assert_int_eq(srv.logins, 1);
}
END_TEST

START_TEST(test_login_unusable_answer_is_unavailable)
{
    srv.login_script[0] = 500;
    srv.nlogin_script = 1;
    struct got g = fetch_one("task-l", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAVAILABLE);
    ck_assert_msg(strstr(g.reason, "login failed: unexpected login status"), "%s", g.reason);
    /* Not a credentials problem: the next fetch logs in again. */
    g = fetch_one("task-l", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_INFO);
    ck_assert_int_eq(srv.logins, 2);
}
END_TEST

struct status_case {
    int status;
    const char *body;
    enum sg_outcome want;
};

static const struct status_case status_cases[] = {
    {503, "{}", SG_OUT_UNAVAILABLE},  {502, "", SG_OUT_UNAVAILABLE},
    {504, "", SG_OUT_UNAVAILABLE},    {404, "{}", SG_OUT_NOT_FOUND},
    {403, "{}", SG_OUT_UNAUTHORIZED}, {500, "{}", SG_OUT_ERROR},
    {200, "not json", SG_OUT_ERROR},  {200, "{\"status\":\"NOPE\"}", SG_OUT_ERROR},
    {200, "[1,2]", SG_OUT_ERROR},
};

START_TEST(test_answer_is_normalized_by_dialect)
{
    const struct status_case *c = &status_cases[_i];
    srv.task_script[0] =
        (struct sg_test_act){.kind = SG_ACT_STATUS, .status = c->status, .body = c->body};
    srv.ntask_script = 1;
    struct got g = fetch_one("task-s", 3000);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_msg(g.outcome == c->want, "status %d body %s: outcome %d", c->status, c->body,
                  g.outcome);
    ck_assert_int_eq(g.upstream_status, c->status);
    ck_assert(!g.had_info);
}
END_TEST

START_TEST(test_fetch_timeout_calls_back_once)
{
    srv.task_default = (struct sg_test_act){.kind = SG_ACT_DELAY, .delay_ms = 600};
    uint64_t t0 = sg_now_ms();
    struct got g = fetch_one("task-t", 150);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAVAILABLE);
    ck_assert_msg(strstr(g.reason, "timeout"), "%s", g.reason);
    ck_assert_int_lt(sg_now_ms() - t0, 500);
    /* The late answer arrives and changes nothing. */
    run_until(NULL, 0, 700);
    ck_assert_int_eq(srv.delayed[0].fired, true);
    ck_assert_int_eq(g.calls, 1);
}
END_TEST

START_TEST(test_request_timeout_bounds_one_request)
{
    backend.request_timeout_ms = 150;
    srv.task_default = (struct sg_test_act){.kind = SG_ACT_DELAY, .delay_ms = 600};
    struct got g = fetch_one("task-t", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAVAILABLE);
    ck_assert_msg(strstr(g.reason, "within 150 ms"), "%s", g.reason);
    run_until(NULL, 0, 700);
    ck_assert_int_eq(g.calls, 1);
}
END_TEST

START_TEST(test_close_without_answer_is_unavailable)
{
    srv.task_default = (struct sg_test_act){.kind = SG_ACT_CLOSE};
    struct got g = fetch_one("task-x", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAVAILABLE);
    ck_assert_msg(strstr(g.reason, "closed") || strstr(g.reason, "reset"), "%s", g.reason);
    /* The first try went on the login's kept-alive connection; a connection
     * closed under a reused request is retried once on a fresh one. */
    ck_assert_int_eq(srv.tasks, 2);
    ck_assert_int_eq(srv.conns, 2);
}
END_TEST

START_TEST(test_connection_refused_is_unavailable)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    getsockname(fd, (struct sockaddr *)&sin, &len);
    close(fd); /* bound once, now nobody listens there */
    backend.port = ntohs(sin.sin_port);
    uint64_t t0 = sg_now_ms();
    struct got g = fetch_one("task-n", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAVAILABLE);
    ck_assert_msg(strstr(g.reason, "login failed: cannot connect"), "%s", g.reason);
    ck_assert_int_eq(g.upstream_status, 0);
    ck_assert_int_lt(sg_now_ms() - t0, 900);
}
END_TEST

START_TEST(test_connect_timeout)
{
    /* A listener that never accepts, its queue filled: SYNs go unanswered. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(listen(lfd, 0), 0);
    getsockname(lfd, (struct sockaddr *)&sin, &len);
    int fill[8];
    for (int i = 0; i < 8; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&sin, sizeof(sin));
    }
    backend.port = ntohs(sin.sin_port);
    backend.connect_timeout_ms = 200;
    uint64_t t0 = sg_now_ms();
    struct got g = fetch_one("task-ct", 3000);
    uint64_t took = sg_now_ms() - t0;
    for (int i = 0; i < 8; i++)
        close(fill[i]);
    close(lfd);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAVAILABLE);
    ck_assert_msg(strstr(g.reason, "within 200 ms"), "%s", g.reason);
    ck_assert_int_lt(took, 1500);
}
END_TEST

/* ---- retries, pool cap ---------------------------------------------------- */

START_TEST(test_idempotent_failures_are_retried)
{
    backend.retries_max = 2;
    srv.task_script[0] = (struct sg_test_act){.kind = SG_ACT_STATUS, .status = 503, .body = "{}"};
    srv.task_script[1] = (struct sg_test_act){.kind = SG_ACT_STATUS, .status = 502, .body = ""};
    srv.ntask_script = 2;
    struct got g = fetch_one("task-retry", 3000);
    ck_assert_msg(g.outcome == SG_OUT_INFO, "%s", g.reason);
    ck_assert_int_eq(g.retries, 2);
    ck_assert_int_eq(srv.tasks, 3);
    ck_assert_int_eq(srv.logins, 1);
}
END_TEST

START_TEST(test_retries_stop_at_max)
{
    backend.retries_max = 1;
    srv.task_default = (struct sg_test_act){.kind = SG_ACT_STATUS, .status = 504, .body = ""};
    struct got g = fetch_one("task-retry", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAVAILABLE);
    ck_assert_int_eq(g.retries, 1);
    ck_assert_int_eq(g.upstream_status, 504);
    ck_assert_int_eq(srv.tasks, 2);
    ck_assert_msg(strstr(g.reason, "after retries"), "%s", g.reason);
}
END_TEST

START_TEST(test_answers_are_not_retried)
{
    /* 500 and 404 are answers, not outages: asking again changes nothing. */
    backend.retries_max = 2;
    srv.task_default = (struct sg_test_act){.kind = SG_ACT_STATUS, .status = 500, .body = "{}"};
    struct got g = fetch_one("task-500", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_ERROR);
    ck_assert_int_eq(g.retries, 0);
    ck_assert_int_eq(srv.tasks, 1);
}
END_TEST

START_TEST(test_retries_stay_inside_the_deadline)
{
    backend.retries_max = 5;
    srv.task_default = (struct sg_test_act){.kind = SG_ACT_DELAY, .delay_ms = 600};
    srv.task_script[0] = (struct sg_test_act){.kind = SG_ACT_STATUS, .status = 503, .body = "{}"};
    srv.ntask_script = 1;
    uint64_t t0 = sg_now_ms();
    struct got g = fetch_one("task-slow", 300);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAVAILABLE);
    ck_assert_msg(strstr(g.reason, "timeout"), "%s", g.reason);
    ck_assert_int_lt(sg_now_ms() - t0, 450);
    ck_assert_int_eq(g.calls, 1);
}
END_TEST

START_TEST(test_refused_connection_is_retried_then_fails)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    getsockname(fd, (struct sockaddr *)&sin, &len);
    close(fd);
    backend.port = ntohs(sin.sin_port);
    backend.retries_max = 2;
    uint64_t t0 = sg_now_ms();
    struct got g = fetch_one("task-n", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAVAILABLE);
    ck_assert_int_eq(g.retries, 2);
    ck_assert_msg(strstr(g.reason, "cannot connect"), "%s", g.reason);
    /* Two pauses of at most 25 and 50 ms. */
    ck_assert_int_lt(sg_now_ms() - t0, 600);
}
END_TEST

START_TEST(test_pool_cap_queues_beyond_it)
{
    backend.pool_max_connections = 1;
    srv.task_default = (struct sg_test_act){.kind = SG_ACT_DELAY, .delay_ms = 50};
    struct got g[4] = {{0}};
    for (int i = 0; i < 4; i++)
        sg_fetch_start(bw, "task-q", 3000, on_fetched, &g[i]);
    int done = 0;
    uint64_t end = sg_now_ms() + 4000;
    while (done < 4 && sg_now_ms() < end) {
        run_until(NULL, 0, 10);
        done = g[0].calls + g[1].calls + g[2].calls + g[3].calls;
    }
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(g[i].outcome, SG_OUT_INFO);
    /* Login and four tasks, one after another on the one connection. */
    ck_assert_int_eq(srv.conns, 1);
    ck_assert_int_eq(srv.tasks, 4);
}
END_TEST

START_TEST(test_oversized_answer_is_error)
{
    srv.task_default = (struct sg_test_act){.kind = SG_ACT_BIG};
    struct got g = fetch_one("task-big", 5000);
    ck_assert_int_eq(g.outcome, SG_OUT_ERROR);
    ck_assert_msg(strstr(g.reason, "exceeds"), "%s", g.reason);
    ck_assert_int_eq(g.upstream_status, 200);
    /* The connection is not reused after a refused answer. */
    g = fetch_one("task-after", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_ERROR); /* still BIG */
    ck_assert_int_eq(srv.conns, 2);
}
END_TEST

START_TEST(test_no_service_account_sends_no_session)
{
    backend.username = NULL;
    backend.password = NULL;
    struct got g = fetch_one("task-anon", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAUTHENTICATED);
    ck_assert_int_eq(srv.logins, 0);
    ck_assert_int_eq(srv.tasks, 1);
}
END_TEST

START_TEST(test_cancel_before_completion)
{
    srv.task_default = (struct sg_test_act){.kind = SG_ACT_DELAY, .delay_ms = 200};
    struct got a = {0}, b = {0}, c = {0};
    struct sg_fetch *fa = sg_fetch_start(bw, "task-a", 3000, on_fetched, &a);
    struct sg_fetch *fb = sg_fetch_start(bw, "task-b", 3000, on_fetched, &b);
    sg_fetch_start(bw, "task-c", 3000, on_fetched, &c);
    sg_fetch_cancel(fb); /* waiting for the login */
    ck_assert(run_until(&srv.tasks, 2, 2000));
    sg_fetch_cancel(fa); /* its request is at the backend */
    run_until(NULL, 0, 500);
    ck_assert_int_eq(a.calls, 0);
    ck_assert_int_eq(b.calls, 0);
    ck_assert_int_eq(c.calls, 1);
    ck_assert_int_eq(c.outcome, SG_OUT_INFO);
    ck_assert_int_eq(srv.logins, 1);
}
END_TEST

START_TEST(test_cancel_after_result_before_callback)
{
    srv.task_default = (struct sg_test_act){
        .kind = SG_ACT_STATUS, .status = 200, .body = "{\"status\":\"SUCCEEDED\"}"};
    struct got a = {0};
    struct sg_fetch *f = sg_fetch_start(bw, "task-a", 3000, on_fetched, &a);
    /* Run until the server answered, then cancel whatever state f is in. */
    run_until(&srv.tasks, 1, 2000);
    sg_fetch_cancel(f);
    run_until(NULL, 0, 200);
    ck_assert_int_eq(a.calls, 0);
}
END_TEST

START_TEST(test_destroy_with_fetches_in_flight)
{
    srv.task_default = (struct sg_test_act){.kind = SG_ACT_DELAY, .delay_ms = 200};
    struct got g[4] = {{0}};
    for (int i = 0; i < 3; i++)
        sg_fetch_start(bw, "task-d", 3000, on_fetched, &g[i]);
    ck_assert(run_until(&srv.tasks, 3, 2000));
    sg_fetch_start(bw, "task-d", 3000, on_fetched, &g[3]); /* not yet sent */
    sg_backend_worker_destroy(bw);
    bw = NULL;
    run_until(NULL, 0, 400);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(g[i].calls, 0);
}
END_TEST

START_TEST(test_destroy_while_logging_in)
{
    struct got g = {0};
    sg_fetch_start(bw, "task-d", 3000, on_fetched, &g);
    sg_backend_worker_destroy(bw);
    bw = NULL;
    run_until(NULL, 0, 100);
    ck_assert_int_eq(g.calls, 0);
}
END_TEST

/* ---- TLS ----------------------------------------------------------------- */

static void tls_check(X509 *cert, const char *host, const char *ca_file, bool verify,
                      enum sg_outcome want, const char *reason_part)
{
    setup_with(cert);
    backend.host = (char *)host;
    backend.tls_ca_file = (char *)ca_file;
    backend.tls_verify = verify;
    bw = create_bw();
    struct got g = fetch_one("task-tls", 3000);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_msg(g.outcome == want, "outcome %d (%s)", g.outcome, g.reason);
    if (reason_part)
        ck_assert_msg(strstr(g.reason, reason_part), "%s", g.reason);
    if (want == SG_OUT_INFO) {
        ck_assert_int_eq(srv.logins, 1);
        ck_assert_int_eq(srv.tasks, 1);
        ck_assert_int_eq(srv.conns, 1); /* TLS connections are kept alive too */
    } else {
        ck_assert_int_eq(srv.logins, 0);
    }
    teardown();
}

START_TEST(test_tls_with_ca_file)
{
    tls_check(pki.leaf_ok, "127.0.0.1", pki.ca_file, true, SG_OUT_INFO, NULL);
    /* no SNI for an address */
    ck_assert(!srv.sni_seen);
}
END_TEST

START_TEST(test_tls_by_name_sends_sni)
{
    tls_check(pki.leaf_ok, "localhost", pki.ca_file, true, SG_OUT_INFO, NULL);
    ck_assert_str_eq(srv.sni, "localhost");
}
END_TEST

START_TEST(test_tls_server_name_overrides_the_host)
{
    /* Reached by address, the certificate names localhost: server_name says so. */
    setup_with(pki.leaf_ok);
    backend.tls_ca_file = pki.ca_file;
    backend.tls_server_name = "localhost";
    bw = create_bw();
    struct got g = fetch_one("task-tls", 3000);
    ck_assert_msg(g.outcome == SG_OUT_INFO, "%s", g.reason);
    /* An address alone would send no SNI at all. */
    ck_assert_str_eq(srv.sni, "localhost");
    teardown();
    /* And it is the name verified. */
    setup_with(pki.leaf_ok);
    backend.tls_ca_file = pki.ca_file;
    backend.tls_server_name = "other.example";
    bw = create_bw();
    g = fetch_one("task-tls", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAVAILABLE);
    ck_assert_msg(strstr(g.reason, "hostname mismatch"), "%s", g.reason);
    teardown();
}
END_TEST

START_TEST(test_tls_wrong_ca_fails_verification)
{
    tls_check(pki.leaf_ok, "127.0.0.1", pki.ca2_file, true, SG_OUT_UNAVAILABLE,
              "TLS verification failed");
}
END_TEST

START_TEST(test_tls_system_store_fails_verification)
{
    tls_check(pki.leaf_ok, "127.0.0.1", NULL, true, SG_OUT_UNAVAILABLE, "TLS verification failed");
}
END_TEST

START_TEST(test_tls_verify_off_accepts_any)
{
    tls_check(pki.leaf_other, "127.0.0.1", NULL, false, SG_OUT_INFO, NULL);
}
END_TEST

START_TEST(test_tls_address_mismatch)
{
    /* Signed by the trusted CA, but for other.example, not 127.0.0.1. */
    tls_check(pki.leaf_other, "127.0.0.1", pki.ca_file, true, SG_OUT_UNAVAILABLE,
              "TLS verification failed: IP address mismatch");
}
END_TEST

START_TEST(test_tls_name_mismatch)
{
    tls_check(pki.leaf_other, "localhost", pki.ca_file, true, SG_OUT_UNAVAILABLE,
              "TLS verification failed: hostname mismatch");
}
END_TEST

START_TEST(test_tls_plain_server_is_unavailable)
{
    /* https to a plain HTTP port: the handshake fails, not verification. */
    setup_with(NULL);
    backend.scheme = "https";
    backend.tls_ca_file = pki.ca_file;
    bw = create_bw();
    struct got g = fetch_one("task-tls", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAVAILABLE);
    ck_assert_msg(strstr(g.reason, "TLS handshake failed"), "%s", g.reason);
    teardown();
}
END_TEST

/* A CA file that does not load fails the preparation with a reason naming
 * it, and leaves no context behind: the config that names it is refused. */
static void ca_refused(const char *file, const char *want)
{
    char err[600] = "";
    setup_with(pki.leaf_ok);
    backend.tls_ca_file = (char *)file;
    ck_assert_int_eq(sg_conf_tls_prepare(&backend, err, sizeof(err)), SG_ERR);
    ck_assert_ptr_null(backend.tls_ctx);
    ck_assert_msg(strstr(err, file) && strstr(err, want), "%s", err);
    teardown();
}

START_TEST(test_tls_unreadable_ca_file_is_refused)
{
    ca_refused("/nonexistent/ca.pem", "cannot load /nonexistent/ca.pem");
}
END_TEST

static const struct {
    const char *content;
    const char *want;
} bad_ca_cases[] = {
    {"", "holds no PEM certificate"},
    {"not a certificate at all\n", "holds no PEM certificate"},
    {"-----BEGIN CERTIFICATE-----\n", "holds a malformed PEM block: bad end line"},
    {"-----BEGIN CERTIFICATE-----\nnot!base64\n-----END CERTIFICATE-----\n",
     "holds a malformed PEM block: bad base64 decode"},
};

START_TEST(test_tls_ca_file_without_certificate_is_refused)
{
    char *file = sg_test_write_temp(bad_ca_cases[_i].content);
    ca_refused(file, bad_ca_cases[_i].want);
    unlink(file);
    free(file);
}
END_TEST

START_TEST(test_tls_key_file_as_ca_file_is_refused)
{
    /* A mix-up operators make: the key (or a DER certificate) for the bundle. */
    char *file = sg_test_write_temp("");
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    PEM_write_PrivateKey(f, pki.leaf_key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    ca_refused(file, "holds no PEM certificate");
    f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    i2d_X509_fp(f, pki.ca);
    fclose(f);
    ca_refused(file, "holds no PEM certificate");
    unlink(file);
    free(file);
}
END_TEST

START_TEST(test_tls_ca_file_is_checked_with_verify_off)
{
    /* Loaded whenever named: turning verify on later must not be the day
     * the file is found to be empty. */
    char *file = sg_test_write_temp("");
    char err[600] = "";
    setup_with(pki.leaf_ok);
    backend.tls_ca_file = file;
    backend.tls_verify = false;
    ck_assert_int_eq(sg_conf_tls_prepare(&backend, err, sizeof(err)), SG_ERR);
    ck_assert_msg(strstr(err, "holds no PEM certificate"), "%s", err);
    teardown();
    unlink(file);
    free(file);
}
END_TEST

START_TEST(test_tls_workers_share_the_prepared_context)
{
    /* One context per backend, referenced by every client: freeing the
     * config's reference first leaves the clients working. */
    setup_with(pki.leaf_ok);
    backend.tls_ca_file = pki.ca_file;
    bw = create_bw();
    struct sg_backend_worker *other = sg_backend_worker_create(base, &backend, 1);
    SSL_CTX_free(backend.tls_ctx);
    backend.tls_ctx = NULL;
    sg_backend_worker_destroy(other);
    struct got g = fetch_one("task-tls", 3000);
    ck_assert_msg(g.outcome == SG_OUT_INFO, "%s", g.reason);
    teardown();
}
END_TEST

static Suite *upstream_suite(void)
{
    Suite *s = suite_create("upstream");
    TCase *tc = tcase_create("http");
    tcase_add_checked_fixture(tc, setup_plain, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_fetch_logs_in_once_then_reuses);
    tcase_add_test(tc, test_concurrent_fetches_share_one_login);
    tcase_add_test(tc, test_unauthenticated_once_relogs_in_and_retries);
    tcase_add_test(tc, test_unauthenticated_twice_blames_service_account);
    tcase_add_test(tc, test_login_denied_is_unavailable_and_held_off);
    tcase_add_test(tc, test_login_unusable_answer_is_unavailable);
    tcase_add_loop_test(tc, test_answer_is_normalized_by_dialect, 0,
                        (int)SG_ARRAY_LEN(status_cases));
    tcase_add_test(tc, test_fetch_timeout_calls_back_once);
    tcase_add_test(tc, test_request_timeout_bounds_one_request);
    tcase_add_test(tc, test_close_without_answer_is_unavailable);
    tcase_add_test(tc, test_connection_refused_is_unavailable);
    tcase_add_test(tc, test_connect_timeout);
    tcase_add_test(tc, test_oversized_answer_is_error);
    tcase_add_test(tc, test_idempotent_failures_are_retried);
    tcase_add_test(tc, test_retries_stop_at_max);
    tcase_add_test(tc, test_answers_are_not_retried);
    tcase_add_test(tc, test_retries_stay_inside_the_deadline);
    tcase_add_test(tc, test_refused_connection_is_retried_then_fails);
    tcase_add_test(tc, test_pool_cap_queues_beyond_it);
    tcase_add_test(tc, test_no_service_account_sends_no_session);
    tcase_add_test(tc, test_cancel_before_completion);
    tcase_add_test(tc, test_cancel_after_result_before_callback);
    tcase_add_test(tc, test_destroy_with_fetches_in_flight);
    tcase_add_test(tc, test_destroy_while_logging_in);
    suite_add_tcase(s, tc);

    TCase *tls = tcase_create("tls");
    tcase_set_timeout(tls, 30);
    tcase_add_test(tls, test_tls_with_ca_file);
    tcase_add_test(tls, test_tls_by_name_sends_sni);
    tcase_add_test(tls, test_tls_server_name_overrides_the_host);
    tcase_add_test(tls, test_tls_wrong_ca_fails_verification);
    tcase_add_test(tls, test_tls_system_store_fails_verification);
    tcase_add_test(tls, test_tls_verify_off_accepts_any);
    tcase_add_test(tls, test_tls_address_mismatch);
    tcase_add_test(tls, test_tls_name_mismatch);
    tcase_add_test(tls, test_tls_plain_server_is_unavailable);
    tcase_add_test(tls, test_tls_unreadable_ca_file_is_refused);
    tcase_add_loop_test(tls, test_tls_ca_file_without_certificate_is_refused, 0,
                        (int)SG_ARRAY_LEN(bad_ca_cases));
    tcase_add_test(tls, test_tls_key_file_as_ca_file_is_refused);
    tcase_add_test(tls, test_tls_ca_file_is_checked_with_verify_off);
    tcase_add_test(tls, test_tls_workers_share_the_prepared_context);
    suite_add_tcase(s, tls);
    return s;
}

int main(void)
{
    /* Writes to a peer that hung up must fail, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    pki_make();
    SRunner *sr = srunner_create(upstream_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    pki_free();
    return failed == 0 ? 0 : 1;
}
