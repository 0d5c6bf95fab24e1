/* Internals of the upstream client shared by its files: the backend-worker
 * (upstream_worker.c), pooled connections (upstream_pool.c), exchanges (one
 * HTTP request and its answer, upstream_exchange.c), the service-account
 * session (upstream_session.c), fetches (upstream_fetch.c), calls
 * (upstream_call.c) and TLS (upstream_tls.c). Not for use outside
 * gateway/upstream*.c. */
#ifndef SG_UPSTREAM_INT_H
#define SG_UPSTREAM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <openssl/ssl.h>

#include "upstream/retry.h"
#include "snapgate/dialect.h"
#include "upstream/upstream.h"

struct event;
struct evdns_base;
struct evhttp_connection;
struct evhttp_request;
struct sg_exchange;

enum sg_conn_state { SG_CONN_IDLE = 1, SG_CONN_BUSY, SG_CONN_DEAD };

/* One connection to the backend. It lives for one TCP (and TLS) session: once
 * closed or failed it is dead and freed by the reaper, never reconnected
 * (evhttp would reconnect a reset connection on the next request, which an
 * OpenSSL bufferevent cannot survive). */
struct sg_conn {
    struct sg_backend_worker *bw;
    struct evhttp_connection *evcon;
    SSL *ssl; /* owned by the bufferevent; NULL for http */
    enum sg_conn_state state;
    struct sg_exchange *ex;    /* the exchange using it, NULL when idle or orphaned */
    unsigned uses;             /* requests sent on it so far */
    bool closed;               /* evhttp reported the connection closed */
    int last_err;              /* enum evhttp_request_error of the last failure, -1 when none */
    int last_errno;            /* the socket error evhttp reported with it */
    TAILQ_ENTRY(sg_conn) link; /* in exactly one of bw->idle, bw->busy, bw->dead */
};
TAILQ_HEAD(sg_conn_list, sg_conn);

enum sg_ex_state { SG_EX_NONE = 0, SG_EX_QUEUED, SG_EX_SENT, SG_EX_COMPLETE };

/* Why an exchange failed before an answer could be used. */
enum sg_ex_err {
    SG_EXERR_NONE = 0,
    SG_EXERR_CONNECT,   /* could not connect (refused, unreachable, connect timeout, DNS) */
    SG_EXERR_TLS,       /* the TLS handshake or verification failed */
    SG_EXERR_CLOSED,    /* the backend closed or reset the connection before answering */
    SG_EXERR_TIMEOUT,   /* no complete answer within the request timeout */
    SG_EXERR_TOO_LARGE, /* the answer exceeded the size caps */
    SG_EXERR_PROTOCOL,  /* not a valid HTTP answer */
    SG_EXERR_REQUEST,   /* the request could not be built or sent */
};

/* One request/answer with the backend, embedded in its owner (a fetch, or the
 * backend-worker for the login). It never completes synchronously: on_done runs
 * from the loop, once per sg_ex_start, unless sg_ex_abort comes first. */
struct sg_exchange {
    struct sg_backend_worker *bw;
    struct sg_http_req req; /* what to send; filled by the owner before sg_ex_start */
    void (*on_done)(struct sg_exchange *ex);
    /* Optional: runs while the answer's headers are still readable. */
    void (*on_answer)(struct sg_exchange *ex, struct evhttp_request *hreq);
    enum sg_ex_state state;
    struct sg_conn *conn;
    struct event *timer;   /* connect check, then the request timeout */
    struct event *ev_done; /* delivers on_done from the loop */
    uint64_t sent_ms;
    bool connecting; /* on a new connection whose connect phase is not yet checked */
    bool reused;     /* sent on a connection that had served before */
    bool stale_retried;
    /* The result, valid in on_done. */
    int status;         /* HTTP status, 0 when none */
    enum sg_ex_err err; /* SG_EXERR_NONE when status and body are an answer */
    char reason[160];   /* why, when err is set */
    char *body;         /* NUL-terminated copy of the answer body */
    size_t body_len;
    /* Login only: what parse_login made of the answer. */
    int login_rc;
    char *session;
    TAILQ_ENTRY(sg_exchange) qlink; /* in bw->waiters while SG_EX_QUEUED */
};
TAILQ_HEAD(sg_exchange_list, sg_exchange);

TAILQ_HEAD(sg_fetch_list, sg_fetch);
TAILQ_HEAD(sg_call_list, sg_call);

struct sg_backend_worker {
    struct event_base *base;
    const struct sg_conf_backend *b;
    const struct sg_dialect_ops *ops;
    void *dpriv;
    unsigned worker_id;
    SSL_CTX *ssl_ctx;       /* NULL for http; a reference to b->tls_ctx */
    struct evdns_base *dns; /* NULL when the host is an address literal */
    bool host_is_ip;
    char *host_header;

    /* the pool */
    unsigned nconns; /* idle + busy */
    struct sg_conn_list idle, busy, dead;
    struct sg_exchange_list waiters; /* exchanges waiting for a connection */
    struct event *reaper;            /* frees dead connections outside evhttp's callbacks */

    /* the service-account session */
    char *session;
    uint64_t session_gen; /* bumped at each new session, so a late 401 drops only its own */
    struct sg_exchange login;
    bool login_busy;
    struct sg_fetch_list login_waiters;
    uint64_t login_holdoff_until;
    char login_holdoff_reason[200];

    struct sg_retry_budget retry_budget;
    struct sg_fetch_list fetches; /* every live fetch, for destroy */
    struct sg_call_list calls;    /* every live call, for destroy */
    int cb_depth;
};

/* ---- exchanges (upstream_exchange.c) ------------------------------------- */

void sg_ex_init(struct sg_exchange *ex, struct sg_backend_worker *bw,
                void (*on_done)(struct sg_exchange *ex));
/* Sends ex->req on a pooled or new connection, or queues it (at the front when
 * urgent, as a login is: everyone waits for it). */
void sg_ex_start(struct sg_exchange *ex, bool urgent);
/* Stops ex wherever it is (its connection is closed); on_done will not run.
 * Clears the result and the request; ex can be started again. */
void sg_ex_abort(struct sg_exchange *ex);
/* sg_ex_abort, then frees ex's events. */
void sg_ex_fini(struct sg_exchange *ex);
/* Sends ex on c, which the pool took for it (busy); for sg_pool_pump. */
void sg_ex_send(struct sg_exchange *ex, struct sg_conn *c);

/* Failures after which the request may be sent again: nothing reached the
 * backend, or it closed the connection before answering. */
static inline bool sg_ex_err_retryable(enum sg_ex_err err)
{
    return err == SG_EXERR_CONNECT || err == SG_EXERR_CLOSED;
}

/* The gateway answers a proxy or overloaded server gives: asking again may work. */
static inline bool sg_status_retryable(int status)
{
    return status == 502 || status == 503 || status == 504;
}

/* ---- the pool (upstream_pool.c) ------------------------------------------ */

int sg_pool_init(struct sg_backend_worker *bw);
/* Frees every connection now, without callbacks; for destroy only. */
void sg_pool_fini(struct sg_backend_worker *bw);
/* Gives waiting exchanges the idle connections, and new ones up to the cap. */
void sg_pool_pump(struct sg_backend_worker *bw);
/* A new connection, busy and counted in the pool; nothing is connected until
 * a request is made on it. */
struct sg_conn *sg_conn_new(struct sg_backend_worker *bw);
/* Moves c to the list of state (idle ones at the head: most recently used). */
void sg_conn_set_state(struct sg_conn *c, enum sg_conn_state state);
/* Retires c: freed by the reaper on the next loop iteration, and its slot is
 * free for a new connection at once. */
void sg_conn_kill(struct sg_conn *c);
/* Whether the connection of a finished answer can carry another request. */
bool sg_conn_answer_keeps(struct evhttp_request *hreq);
/* True once TCP (and TLS, for https) is up on c. */
bool sg_conn_is_up(const struct sg_conn *c);

/* ---- the service-account session (upstream_session.c) -------------------- */

void sg_session_init(struct sg_backend_worker *bw);
/* Stops the login and forgets the session; for destroy. */
void sg_session_fini(struct sg_backend_worker *bw);
/* Forgets the session (wiped), so that the next fetch logs in. */
void sg_session_drop(struct sg_backend_worker *bw);
/* Starts a login for the fetches in bw->login_waiters; the caller has checked
 * that none is in flight. */
void sg_session_login(struct sg_backend_worker *bw);

/* ---- fetches (upstream_fetch.c) ------------------------------------------ */

/* The login succeeded: every waiting fetch sends its task request. */
void sg_fetch_login_ok(struct sg_backend_worker *bw);
/* The login failed: every waiting fetch is retried (when retryable) or ends
 * UNAVAILABLE with reason; status is the login's HTTP status, 0 when none. */
void sg_fetch_login_failed(struct sg_backend_worker *bw, int status, const char *reason,
                           bool retryable);

/* ---- calls (upstream_call.c) --------------------------------------------- */

/* Cancels every call in flight (destroy). */
void sg_call_cancel_all(struct sg_backend_worker *bw);

/* ---- TLS (upstream_tls.c) ------------------------------------------------ */

/* A connection's SSL: SNI (for names) and the peer name check (when verifying). */
SSL *sg_upstream_tls_ssl_new(const struct sg_backend_worker *bw);
/* When the connection failed in its TLS handshake, describes it in buf and
 * returns true; false when TLS is not to blame (or not in use). */
bool sg_upstream_tls_failure(struct sg_conn *c, char *buf, size_t cap);
/* True once the TLS handshake completed. */
bool sg_upstream_tls_established(const struct sg_conn *c);

#endif
