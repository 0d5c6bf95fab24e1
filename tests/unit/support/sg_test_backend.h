/* A scripted vCenter for suites that drive the upstream client for real:
 * a test dialect speaking the cis shape (so a suite needs no dialect module)
 * and an evhttp server on loopback, on the suite's own event base, whose
 * login and task answers are scripted: in order, by task id, or a default. */
#ifndef SG_TEST_BACKEND_H
#define SG_TEST_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/types.h>

#include "snapgate/conf.h"
#include "snapgate/module.h"

struct event;
struct event_base;
struct evhttp;
struct evhttp_request;

/* The cis shape: GET {base}/api/cis/tasks/{id}, POST {base}/api/session with
 * Basic credentials, the session in vmware-api-session-id. */
extern const struct sg_module sg_test_dialect;

enum sg_test_act_kind {
    SG_ACT_AUTO = 0, /* 200 RUNNING with the valid session, else 401 */
    SG_ACT_STATUS,   /* status and body as given */
    SG_ACT_CLOSE,    /* the connection is shut down without an answer */
    SG_ACT_DELAY,    /* after delay_ms: status and body when status is set, else AUTO */
    SG_ACT_BIG,      /* a 200 past the client's size cap */
    SG_ACT_NEVER,    /* held without an answer until the server stops */
};

struct sg_test_act {
    enum sg_test_act_kind kind;
    int status;
    const char *body;
    int delay_ms;
};

/* A request held by SG_ACT_DELAY (ev set) or SG_ACT_NEVER (ev NULL). */
struct sg_test_held {
    struct sg_test_srv *srv;
    struct evhttp_request *req;
    struct event *ev;
    struct sg_test_act act;
    bool fired;
};

/* The answer for one task id, whatever the order. */
struct sg_test_route {
    const char *task;
    struct sg_test_act act;
    int hits; /* task requests for this id seen */
};

#define SG_TEST_MAX_DELAYED 16
#define SG_TEST_MAX_ROUTES 8

struct sg_test_srv {
    struct event_base *base;
    struct evhttp *http;
    SSL_CTX *ssl_ctx;
    EVP_PKEY *key;
    uint16_t port;
    int conns, logins, tasks;
    int session_seq;
    char session[32]; /* the one valid session, "" when none */
    int login_script[4];
    int nlogin_script;
    /* A task request is answered by its route when its id has one, else by
     * the next unused task_script entry, else by task_default. */
    struct sg_test_route routes[SG_TEST_MAX_ROUTES];
    int nroutes;
    struct sg_test_act task_script[4];
    int ntask_script;
    int tasks_scripted; /* task requests answered by no route */
    struct sg_test_act task_default;
    char last_host[64];
    char last_session[64]; /* vmware-api-session-id of the last task request */
    char sni[64];
    bool sni_seen;
    struct sg_test_held delayed[SG_TEST_MAX_DELAYED];
    int ndelayed;
};

/* Listens on 127.0.0.1 at a free port (s->port): plain HTTP, or TLS with cert
 * and its key. Valid credentials are svc:secret. */
void sg_test_srv_start(struct sg_test_srv *s, struct event_base *base, X509 *cert, EVP_PKEY *key);
/* Answers what is still held (503) and frees the server. */
void sg_test_srv_stop(struct sg_test_srv *s);
/* Scripts the answer for task id task (a literal: no URL encoding). */
struct sg_test_route *sg_test_srv_route(struct sg_test_srv *s, const char *task,
                                        struct sg_test_act act);

/* A backend called name at scheme://host:port/base speaking sg_test_dialect
 * as svc:secret; nothing prepared yet (sg_conf_tls_prepare). */
void sg_test_backend_init(struct sg_conf_backend *b, const char *name, const char *scheme,
                          const char *host, uint16_t port);

/* Runs base until *counter reaches want or ms pass (a bound, never a
 * measurement); counter NULL: runs for ms. Returns whether it got there. */
bool sg_test_run_until(struct event_base *base, const int *counter, int want, int ms);

#endif
