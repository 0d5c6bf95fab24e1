/* The upstream client reading answers that evhttp lets through although HTTP
 * does not allow them, from a raw backend on loopback that writes exact bytes
 * and keeps its connections open: each such answer must fail its exchange and
 * end its connection, never leave the rest of it to be read as the next
 * request's answer; and a body with no length is read to the close. Found by
 * tests/fuzz/fuzz_upstream_reader. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "sg_test_backend.h"
#include "snapgate/call.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "conf/conf_tls.h"
#include "upstream/upstream.h"

/* ---- a backend that answers each request head with the next script entry -- */

#define MAX_CONNS 8

struct raw_conn {
    int fd;
    struct event *ev;
    char in[2048];
    size_t len;
};

static struct event_base *base;
static int lfd = -1;
static struct event *lev;
static uint16_t port;
static const char *script[4];
static bool script_close[4]; /* close the connection after that answer */
static int nscript, served, nconns;
static struct raw_conn conns[MAX_CONNS];

static void on_conn_read(evutil_socket_t fd, short what, void *arg)
{
    struct raw_conn *c = arg;
    (void)what;
    ssize_t n = recv(fd, c->in + c->len, sizeof(c->in) - 1 - c->len, 0);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN)
            return;
        event_del(c->ev);
        close(c->fd);
        c->fd = -1;
        return;
    }
    c->len += (size_t)n;
    c->in[c->len] = '\0';
    char *end = strstr(c->in, "\r\n\r\n");
    if (!end)
        return;
    /* One request head (no body: GET) consumed, one scripted answer written. */
    size_t used = (size_t)(end + 4 - c->in);
    memmove(c->in, c->in + used, c->len - used + 1);
    c->len -= used;
    const char *a =
        served < nscript ? script[served] : "HTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n";
    bool close_after = served < nscript && script_close[served];
    served++;
    ck_assert_int_eq(send(fd, a, strlen(a), MSG_NOSIGNAL), (ssize_t)strlen(a));
    if (close_after) {
        event_del(c->ev);
        close(c->fd);
        c->fd = -1;
    }
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    ck_assert_int_lt(nconns, MAX_CONNS);
    struct raw_conn *c = &conns[nconns++];
    c->fd = cfd;
    c->len = 0;
    c->ev = event_new(base, cfd, EV_READ | EV_PERSIST, on_conn_read, c);
    event_add(c->ev, NULL);
}

static struct sg_conf_backend backend;
static struct sg_backend_worker *bw;

static void setup(void)
{
    base = event_base_new();
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t salen = sizeof(sa);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(lfd, 8), 0);
    getsockname(lfd, (struct sockaddr *)&sa, &salen);
    port = ntohs(sa.sin_port);
    lev = event_new(base, lfd, EV_READ | EV_PERSIST, on_accept, NULL);
    event_add(lev, NULL);
    nscript = served = nconns = 0;
    memset(script_close, 0, sizeof(script_close));

    sg_test_backend_init(&backend, "raw", "http", "127.0.0.1", port);
    backend.base_path = "";
    backend.username = NULL; /* no login: every request is the test's */
    backend.password = NULL;
    char err[300];
    ck_assert_msg(sg_conf_tls_prepare(&backend, err, sizeof(err)) == SG_OK, "%s", err);
    bw = sg_backend_worker_create(base, &backend, 0);
}

static void teardown(void)
{
    sg_backend_worker_destroy(bw);
    sg_test_run_until(base, NULL, 0, 20);
    for (int i = 0; i < nconns; i++) {
        if (conns[i].fd >= 0) {
            event_del(conns[i].ev);
            close(conns[i].fd);
        }
        event_free(conns[i].ev);
    }
    event_free(lev);
    close(lfd);
    event_base_free(base);
}

/* ---- one plain call ------------------------------------------------------ */

struct got {
    int calls;
    int status;
    char body[256];
    char reason[160];
};

static void on_call(const struct sg_call_result *res, void *arg)
{
    struct got *g = arg;
    g->calls++;
    g->status = res->status;
    snprintf(g->body, sizeof(g->body), "%s", res->body ? res->body : "");
    snprintf(g->reason, sizeof(g->reason), "%s", res->reason);
}

static struct got call_one(void)
{
    struct got g = {0};
    struct sg_http_req req = {.method = "GET", .path = sg_xstrdup("/t")};
    sg_call_start(bw, &req, on_call, &g);
    ck_assert(sg_test_run_until(base, &g.calls, 1, 3000));
    ck_assert_int_eq(g.calls, 1);
    return g;
}

/* The next call is answered 200 with exactly body. */
static void assert_call_gets(const char *body)
{
    struct got g = call_one();
    ck_assert_int_eq(g.status, 200);
    ck_assert_str_eq(g.body, body);
}

/* Scripts first, then an answer "second" for the next request: bytes left
 * over from first, misread as that request's answer, never say "second". */
static void script_then_second(const char *first)
{
    script[0] = first;
    script[1] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond";
    nscript = 2;
}

/* ---- the cases ----------------------------------------------------------- */

struct refused_case {
    const char *answer; /* a refused answer, followed by bytes a kept connection would misread */
    const char *why;
};

static const struct refused_case refused_cases[] = {
    /* evhttp takes 102 for the answer; the 200 that follows belongs to this
     * request, not the next one. */
    {"HTTP/1.1 102 Processing\r\n\r\n"
     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst",
     "interim status"},
    {"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst",
     "interim status"},
    /* evhttp reads 2 bytes by the first header; the rest is a whole answer. */
    {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 41\r\n\r\nab"
     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst",
     "conflicting Content-Length"},
    {"HTTP/1.1 999 Nope\r\nContent-Length: 0\r\n\r\n", "invalid status"},
    {"HTTP/1.1 -200 Nope\r\nContent-Length: 0\r\n\r\n", "invalid status"},
    {"HTTP/1.1 099 Nope\r\nContent-Length: 0\r\n\r\n", "invalid status"},
};

START_TEST(test_refused_answer_fails_and_ends_its_connection)
{
    const struct refused_case *c = &refused_cases[_i];
    script_then_second(c->answer);

    struct got g = call_one();
    ck_assert_int_eq(g.status, 0);
    ck_assert_msg(strstr(g.reason, "invalid HTTP answer") && strstr(g.reason, c->why), "%s",
                  g.reason);

    /* The next request gets its own answer, on a new connection. */
    assert_call_gets("second");
    ck_assert_int_eq(nconns, 2);
}
END_TEST

START_TEST(test_bytes_past_the_answer_end_its_connection)
{
    /* A complete answer and more: the extra bytes arrived before the next
     * request was sent, so they answer nothing; on a kept connection evhttp
     * would read them as the next request's answer. */
    script_then_second("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab"
                       "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
    assert_call_gets("ab");
    assert_call_gets("second");
    ck_assert_int_eq(nconns, 2);
}
END_TEST

START_TEST(test_repeated_equal_content_length_is_accepted)
{
    script_then_second("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab");
    assert_call_gets("ab");
    assert_call_gets("second");
    ck_assert_int_eq(nconns, 1); /* kept alive */
}
END_TEST

START_TEST(test_continue_is_skipped)
{
    /* 100 Continue is the one interim answer evhttp skips by itself. */
    script[0] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    nscript = 1;
    assert_call_gets("ok");
}
END_TEST

START_TEST(test_body_without_length_is_read_to_the_close)
{
    /* No Content-Length, no chunked coding: the close ends the body, whatever
     * the Connection header says (evhttp alone read it as empty). */
    static const char *const answers[] = {
        "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n{\"whole\":\"body\"}",
        ("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nConnection: "
         "close\r\n\r\n{\"whole\":\"body\"}"),
        "HTTP/1.1 200 OK\r\nConnection: x\r\nTransfer-Encoding: gzip\r\n\r\n{\"whole\":\"body\"}",
    };
    for (size_t i = 0; i < SG_ARRAY_LEN(answers); i++) {
        script[nscript] = answers[i];
        script_close[nscript++] = true;
        assert_call_gets("{\"whole\":\"body\"}");
    }
    ck_assert_int_eq(nconns, (int)SG_ARRAY_LEN(answers));
}
END_TEST

struct fetched {
    int calls;
    enum sg_outcome outcome;
    int upstream_status;
};

static void on_fetched(struct sg_fetch_result *res, void *arg)
{
    struct fetched *f = arg;
    f->calls++;
    f->outcome = res->norm.outcome;
    f->upstream_status = res->upstream_status;
    if (res->norm.info)
        json_object_put(res->norm.info);
    res->norm.info = NULL;
}

START_TEST(test_fetch_of_invalid_status_is_error_without_status)
{
    /* Garbage from the backend, not an outage; and no status out of range in
     * the logs and metrics. */
    script[0] = "HTTP/1.1 999 Nope\r\nContent-Length: 2\r\n\r\n{}";
    nscript = 1;
    struct fetched f = {0};
    sg_fetch_start(bw, "task-1", 3000, on_fetched, &f);
    ck_assert(sg_test_run_until(base, &f.calls, 1, 3000));
    ck_assert_int_eq(f.outcome, SG_OUT_ERROR);
    ck_assert_int_eq(f.upstream_status, 0);
}
END_TEST

static Suite *answer_suite(void)
{
    Suite *s = suite_create("upstream_answer");
    TCase *tc = tcase_create("answers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_refused_answer_fails_and_ends_its_connection, 0,
                        (int)SG_ARRAY_LEN(refused_cases));
    tcase_add_test(tc, test_bytes_past_the_answer_end_its_connection);
    tcase_add_test(tc, test_repeated_equal_content_length_is_accepted);
    tcase_add_test(tc, test_continue_is_skipped);
    tcase_add_test(tc, test_body_without_length_is_read_to_the_close);
    tcase_add_test(tc, test_fetch_of_invalid_status_is_error_without_status);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    SRunner *sr = srunner_create(answer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
