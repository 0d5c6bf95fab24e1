/* The connection pool of a backend-worker: keep-alive connections to the
 * backend, one request at a time each, up to the backend's
 * pool.max_connections, and the queue of exchanges waiting for one. What goes
 * over a connection is the exchange's job (upstream_exchange.c).
 *
 * evhttp rules this file lives by (libevent 2.1):
 * - an evhttp_connection is never freed inside its own callbacks (evhttp keeps
 *   using it after closecb and after the request callback returns): dead
 *   connections go to bw->dead and the reaper event frees them;
 * - a connection is used for one TCP session only: after a close or an error it
 *   is dead, because evhttp would otherwise silently reconnect it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/log.h"
#include "upstream/upstream_int.h"

#define MOD "upstream"

/* ---- connections --------------------------------------------------------- */

static struct sg_conn_list *conn_list(struct sg_conn *c)
{
    struct sg_backend_worker *bw = c->bw;
    return c->state == SG_CONN_IDLE ? &bw->idle : c->state == SG_CONN_BUSY ? &bw->busy : &bw->dead;
}

void sg_conn_set_state(struct sg_conn *c, enum sg_conn_state state)
{
    TAILQ_REMOVE(conn_list(c), c, link);
    c->state = state;
    /* Idle connections are taken from the head: the most recently used one is
     * the least likely to have hit the backend's keep-alive timeout. */
    if (state == SG_CONN_IDLE)
        TAILQ_INSERT_HEAD(conn_list(c), c, link);
    else
        TAILQ_INSERT_TAIL(conn_list(c), c, link);
}

void sg_conn_kill(struct sg_conn *c)
{
    if (c->state == SG_CONN_DEAD)
        return;
    c->bw->nconns--;
    sg_conn_set_state(c, SG_CONN_DEAD);
    if (c->ex)
        c->ex->conn = NULL;
    c->ex = NULL;
    event_active(c->bw->reaper, 0, 0);
}

static void conn_free(struct sg_conn *c)
{
    /* No closecb from inside evhttp_connection_free: we know it is going. */
    evhttp_connection_set_closecb(c->evcon, NULL, NULL);
    evhttp_connection_free(c->evcon);
    free(c);
}

static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
    struct sg_conn *c = arg;
    (void)evcon;
    c->closed = true;
    /* A busy connection learns the rest from its request callback. */
    if (c->state == SG_CONN_IDLE) {
        sg_log_debug(MOD, "backend %s: idle connection closed", c->bw->b->name);
        sg_conn_kill(c);
    }
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
    struct sg_backend_worker *bw = arg;
    struct sg_conn *c;
    (void)fd;
    (void)what;
    while ((c = TAILQ_FIRST(&bw->dead)) != NULL) {
        TAILQ_REMOVE(&bw->dead, c, link);
        conn_free(c);
    }
    sg_pool_pump(bw);
}

struct sg_conn *sg_conn_new(struct sg_backend_worker *bw)
{
    const struct sg_conf_backend *b = bw->b;
    struct sg_conn *c = sg_xcalloc(1, sizeof(*c));
    struct bufferevent *bev;
    c->bw = bw;
    c->last_err = -1;
    if (bw->ssl_ctx) {
        c->ssl = sg_upstream_tls_ssl_new(bw);
        bev = bufferevent_openssl_socket_new(bw->base, -1, c->ssl, BUFFEREVENT_SSL_CONNECTING,
                                             BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
        if (!bev)
            abort();
        /* Many servers end TLS without close_notify; that is not an error for
         * a complete, length-delimited answer. */
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    } else {
        bev = bufferevent_socket_new(bw->base, -1, BEV_OPT_CLOSE_ON_FREE);
        if (!bev)
            abort();
    }
    c->evcon = evhttp_connection_base_bufferevent_new(bw->base, bw->dns, bev, b->host, b->port);
    if (!c->evcon)
        abort();
    struct timeval tv = sg_timeval_ms(b->request_timeout_ms);
    evhttp_connection_set_timeout_tv(c->evcon, &tv);
    evhttp_connection_set_retries(c->evcon, 0);
    evhttp_connection_set_max_body_size(c->evcon, SG_UPSTREAM_MAX_BODY);
    evhttp_connection_set_max_headers_size(c->evcon, SG_UPSTREAM_MAX_HEADERS);
    evhttp_connection_set_closecb(c->evcon, on_conn_close, c);
    c->state = SG_CONN_BUSY;
    TAILQ_INSERT_TAIL(&bw->busy, c, link);
    bw->nconns++;
    return c;
}

bool sg_conn_answer_keeps(struct evhttp_request *hreq)
{
    struct evkeyvalq *h = evhttp_request_get_input_headers(hreq);
    const char *conn = evhttp_find_header(h, "Connection");
    if (conn && strcasecmp(conn, "close") == 0)
        return false;
    /* A body delimited by the close of the connection ended it. */
    const char *te = evhttp_find_header(h, "Transfer-Encoding");
    int status = evhttp_request_get_response_code(hreq);
    /* (A 1xx never gets here: the exchange refuses it as the answer.) */
    return evhttp_find_header(h, "Content-Length") || (te && strcasecmp(te, "chunked") == 0) ||
           status == 204 || status == 304;
}

bool sg_conn_is_up(const struct sg_conn *c)
{
    if (c->ssl)
        return sg_upstream_tls_established(c);
    struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
    evutil_socket_t fd = bufferevent_getfd(bev);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    return fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
}

/* ---- the queue and the pool ---------------------------------------------- */

void sg_pool_pump(struct sg_backend_worker *bw)
{
    struct sg_exchange *ex;
    while ((ex = TAILQ_FIRST(&bw->waiters)) != NULL) {
        struct sg_conn *c = TAILQ_FIRST(&bw->idle);
        if (c) {
            sg_conn_set_state(c, SG_CONN_BUSY);
        } else if (bw->nconns < bw->b->pool_max_connections) {
            c = sg_conn_new(bw);
        } else {
            return;
        }
        TAILQ_REMOVE(&bw->waiters, ex, qlink);
        sg_ex_send(ex, c);
    }
}

int sg_pool_init(struct sg_backend_worker *bw)
{
    TAILQ_INIT(&bw->idle);
    TAILQ_INIT(&bw->busy);
    TAILQ_INIT(&bw->dead);
    TAILQ_INIT(&bw->waiters);
    bw->reaper = event_new(bw->base, -1, 0, on_reap, bw);
    if (!bw->reaper)
        abort(); /* allocation only */
    return SG_OK;
}

void sg_pool_fini(struct sg_backend_worker *bw)
{
    struct sg_conn_list *lists[] = {&bw->idle, &bw->busy, &bw->dead};
    for (size_t i = 0; i < SG_ARRAY_LEN(lists); i++) {
        struct sg_conn *c;
        while ((c = TAILQ_FIRST(lists[i])) != NULL) {
            TAILQ_REMOVE(lists[i], c, link);
            if (c->ex)
                c->ex->conn = NULL;
            conn_free(c);
        }
    }
    bw->nconns = 0;
    if (bw->reaper)
        event_free(bw->reaper);
    bw->reaper = NULL;
}
