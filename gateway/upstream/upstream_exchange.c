/* Exchanges: one HTTP request and its answer on a pooled connection
 * (upstream_pool.c), with the connect and request timers, the description of
 * a failure, the one retry when a reused connection turns out closed, and
 * delivery of the result to the owner from the loop.
 *
 * evhttp rules this file lives by (libevent 2.1):
 * - every evhttp callback gets the sg_conn, never the exchange: an exchange can
 *   be aborted (timer, cancel) while its request is still queued in evhttp, and
 *   then conn->ex is NULL and the late callback is ignored;
 * - results reach the owner through ex->ev_done, so owners never run inside
 *   evhttp and an exchange never completes inside sg_ex_start.
 *
 * Timeouts: evhttp 2.1 has one timeout for connect, read and write. It gets the
 * request timeout (an inactivity bound). The exchange's own timer enforces the
 * rest: on a new connection it first fires after connect_timeout_ms and fails
 * the exchange as a connect timeout unless TCP (and TLS) is up by then, then
 * again when request_timeout_ms has passed since sending, which bounds the
 * whole request, not just each pause. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>

#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/log.h"
#include "upstream/upstream_int.h"

#define MOD "upstream"

static struct event *new_event(struct event_base *base, event_callback_fn fn, void *arg)
{
    struct event *ev = event_new(base, -1, 0, fn, arg);
    if (!ev)
        abort(); /* allocation only */
    return ev;
}

/* ---- the answer (evhttp calls these; arg is the sg_conn) ----------------- */

static void ex_complete(struct sg_exchange *ex)
{
    event_del(ex->timer);
    ex->state = SG_EX_COMPLETE;
    event_active(ex->ev_done, 0, 0);
}

static void ex_fail(struct sg_exchange *ex, enum sg_ex_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ex_fail(struct sg_exchange *ex, enum sg_ex_err err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ex->reason, sizeof(ex->reason), fmt, ap);
    va_end(ap);
    ex->err = err;
    if (ex->conn)
        sg_conn_kill(ex->conn);
    ex_complete(ex);
}

static bool status_valid(int status)
{
    return status >= 100 && status <= 599;
}

/* evhttp 2.1 takes the body of an answer with neither Content-Length nor
 * chunked coding for empty when a Connection header other than "close" comes
 * with it, and completes the answer at once; HTTP delimits such a body by the
 * close of the connection, whatever that header says (RFC 9112 6.3). Saying
 * "close" instead, before evhttp decides (it asks this callback first), makes
 * it read the body to the close. Such a connection is never kept
 * (sg_conn_answer_keeps). */
static void delimit_by_close(struct evhttp_request *hreq)
{
    struct evkeyvalq *h = evhttp_request_get_input_headers(hreq);
    const char *conn = evhttp_find_header(h, "Connection");
    const char *te = evhttp_find_header(h, "Transfer-Encoding");
    if (!conn || strcasecmp(conn, "close") == 0 || evhttp_find_header(h, "Content-Length") ||
        (te && strcasecmp(te, "chunked") == 0))
        return;
    while (evhttp_remove_header(h, "Connection") == 0)
        ;
    evhttp_add_header(h, "Connection", "close");
}

static int on_http_headers(struct evhttp_request *hreq, void *arg)
{
    struct sg_conn *c = arg;
    int status = evhttp_request_get_response_code(hreq);
    if (c->ex && status_valid(status))
        c->ex->status = status;
    delimit_by_close(hreq);
    return 0;
}

static void on_http_error(enum evhttp_request_error err, void *arg)
{
    struct sg_conn *c = arg;
    c->last_err = (int)err;
    /* evhttp restores the socket error for this callback: it tells a failed
     * connect from a connection the backend dropped. */
    c->last_errno = errno;
}

static bool connect_errno(int e)
{
    return e == ECONNREFUSED || e == ENETUNREACH || e == EHOSTUNREACH || e == EADDRNOTAVAIL ||
           e == ETIMEDOUT;
}

static void describe_failure(struct sg_exchange *ex, struct sg_conn *c)
{
    const struct sg_conf_backend *b = c->bw->b;
    char tls[160];
    if (sg_upstream_tls_failure(c, tls, sizeof(tls))) {
        ex_fail(ex, SG_EXERR_TLS, "%s", tls);
        return;
    }
    switch (c->last_err) {
    case EVREQ_HTTP_TIMEOUT:
        ex_fail(ex, SG_EXERR_TIMEOUT, "no answer from %s:%u within %llu ms", b->host,
                (unsigned)b->port, (unsigned long long)b->request_timeout_ms);
        return;
    case EVREQ_HTTP_DATA_TOO_LONG:
        ex_fail(ex, SG_EXERR_TOO_LARGE, "answer exceeds %u bytes of body or %u of headers",
                SG_UPSTREAM_MAX_BODY, SG_UPSTREAM_MAX_HEADERS);
        return;
    case EVREQ_HTTP_INVALID_HEADER:
        ex_fail(ex, SG_EXERR_PROTOCOL, "invalid HTTP answer from %s:%u", b->host,
                (unsigned)b->port);
        return;
    case EVREQ_HTTP_EOF:
    case EVREQ_HTTP_BUFFER_ERROR:
        if (ex->status == 0 && !ex->reused && connect_errno(c->last_errno)) {
            ex_fail(ex, SG_EXERR_CONNECT, "cannot connect to %s:%u: %s", b->host, (unsigned)b->port,
                    strerror(c->last_errno));
            return;
        }
        if (c->last_errno == ECONNRESET) {
            ex_fail(ex, SG_EXERR_CLOSED, "connection to %s:%u reset before a complete answer",
                    b->host, (unsigned)b->port);
            return;
        }
        ex_fail(ex, SG_EXERR_CLOSED, "connection to %s:%u closed before a complete answer", b->host,
                (unsigned)b->port);
        return;
    default:
        /* No error callback: evhttp's connect-failure path (refused,
         * unreachable, name not resolved, its own connect timeout). */
        ex_fail(ex, SG_EXERR_CONNECT, "cannot connect to %s:%u (refused or unreachable)", b->host,
                (unsigned)b->port);
        return;
    }
}

static void copy_body(struct sg_exchange *ex, struct evhttp_request *hreq)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(hreq);
    size_t len = evbuffer_get_length(in);
    ex->body = sg_xmalloc(len + 1);
    if (len)
        evbuffer_copyout(in, ex->body, len);
    ex->body[len] = '\0';
    ex->body_len = len;
}

/* Answers evhttp 2.1 hands over although HTTP does not allow them, each of
 * which would put a kept-alive connection out of step with its requests:
 * - a status outside 100..599 (RFC 9110 15): evhttp refuses only 0;
 * - an interim 1xx: evhttp skips 100 Continue but takes 101..199 for the
 *   answer, and the final answer that follows would be read as the next
 *   request's;
 * - Content-Length headers that disagree (RFC 9112 6.3): evhttp reads the
 *   first, and the rest of the body would be the next answer.
 * Returns why, or NULL when the answer can be used. */
static const char *answer_refused(struct evhttp_request *hreq, int status)
{
    if (!status_valid(status))
        return "invalid status";
    if (status < 200)
        return "interim status without a final answer";
    const char *len = NULL;
    const struct evkeyval *h;
    TAILQ_FOREACH(h, evhttp_request_get_input_headers(hreq), next)
    {
        if (strcasecmp(h->key, "Content-Length") != 0)
            continue;
        if (len && strcmp(len, h->value) != 0)
            return "conflicting Content-Length headers";
        len = h->value;
    }
    return NULL;
}

/* Bytes already read past the end of a complete answer answer nothing that
 * was asked (one request at a time): on a kept connection evhttp would take
 * them for the next request's answer. */
static bool conn_has_unread(struct sg_conn *c)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
    return evbuffer_get_length(bufferevent_get_input(bev)) > 0;
}

static void on_http_done(struct evhttp_request *hreq, void *arg)
{
    struct sg_conn *c = arg;
    struct sg_exchange *ex = c->ex;
    if (!ex) {
        /* Orphaned by an abort: the connection is already dead. */
        return;
    }
    if (!hreq || evhttp_request_get_response_code(hreq) == 0) {
        describe_failure(ex, c);
        return;
    }
    int status = evhttp_request_get_response_code(hreq);
    const char *refused = answer_refused(hreq, status);
    if (refused) {
        const struct sg_conf_backend *b = c->bw->b;
        ex_fail(ex, SG_EXERR_PROTOCOL, "invalid HTTP answer from %s:%u: %s (HTTP %d)", b->host,
                (unsigned)b->port, refused, status);
        return;
    }
    ex->status = status;
    copy_body(ex, hreq);
    if (ex->on_answer)
        ex->on_answer(ex, hreq);
    if (c->closed || !sg_conn_answer_keeps(hreq) || conn_has_unread(c))
        sg_conn_kill(c);
    /* Otherwise c stays with ex until on_ex_done puts it back in the pool:
     * evhttp has not finished with it yet. */
    ex_complete(ex);
}

/* ---- sending, and the timer ---------------------------------------------- */

static enum evhttp_cmd_type method_type(const char *m, bool *ok)
{
    static const struct {
        const char *name;
        enum evhttp_cmd_type type;
    } methods[] = {
        {"GET", EVHTTP_REQ_GET},   {"POST", EVHTTP_REQ_POST},     {"PUT", EVHTTP_REQ_PUT},
        {"HEAD", EVHTTP_REQ_HEAD}, {"DELETE", EVHTTP_REQ_DELETE},
    };
    for (size_t i = 0; i < SG_ARRAY_LEN(methods); i++) {
        if (m && strcmp(m, methods[i].name) == 0) {
            *ok = true;
            return methods[i].type;
        }
    }
    *ok = false;
    return EVHTTP_REQ_GET;
}

static void on_ex_timer(evutil_socket_t fd, short what, void *arg)
{
    struct sg_exchange *ex = arg;
    const struct sg_conf_backend *b = ex->bw->b;
    (void)fd;
    (void)what;
    if (ex->connecting) {
        ex->connecting = false;
        if (!ex->conn || !sg_conn_is_up(ex->conn)) {
            ex_fail(ex, SG_EXERR_CONNECT, "cannot connect to %s:%u within %llu ms", b->host,
                    (unsigned)b->port, (unsigned long long)b->connect_timeout_ms);
            return;
        }
        uint64_t spent = sg_now_ms() - ex->sent_ms;
        uint64_t left = b->request_timeout_ms > spent ? b->request_timeout_ms - spent : 0;
        struct timeval tv = sg_timeval_ms(left);
        evtimer_add(ex->timer, &tv);
        return;
    }
    ex_fail(ex, SG_EXERR_TIMEOUT, "no answer from %s:%u within %llu ms", b->host, (unsigned)b->port,
            (unsigned long long)b->request_timeout_ms);
}

/* Sends ex on c (busy, attached by the caller). */
void sg_ex_send(struct sg_exchange *ex, struct sg_conn *c)
{
    struct sg_backend_worker *bw = ex->bw;
    const struct sg_conf_backend *b = bw->b;
    bool ok;
    enum evhttp_cmd_type type = method_type(ex->req.method, &ok);

    ex->conn = c;
    c->ex = ex;
    c->last_err = -1;
    c->last_errno = 0;
    ex->reused = c->uses > 0;
    ex->connecting = c->uses == 0 && b->connect_timeout_ms < b->request_timeout_ms;
    c->uses++;
    ex->state = SG_EX_SENT;
    ex->sent_ms = sg_now_ms();
    struct timeval tv =
        sg_timeval_ms(ex->connecting ? b->connect_timeout_ms : b->request_timeout_ms);
    evtimer_add(ex->timer, &tv);

    if (!ok || !ex->req.path || ex->req.path[0] != '/') {
        ex_fail(ex, SG_EXERR_REQUEST, "dialect built an unusable request");
        return;
    }
    struct evhttp_request *hreq = evhttp_request_new(on_http_done, c);
    if (!hreq)
        abort();
    evhttp_request_set_header_cb(hreq, on_http_headers);
    evhttp_request_set_error_cb(hreq, on_http_error);
    struct evkeyvalq *h = evhttp_request_get_output_headers(hreq);
    int bad = evhttp_add_header(h, "Host", bw->host_header);
    for (size_t i = 0; i < ex->req.nheaders; i++)
        bad |= evhttp_add_header(h, ex->req.header_names[i], ex->req.header_values[i]);
    if (ex->req.body_len || type == EVHTTP_REQ_POST || type == EVHTTP_REQ_PUT) {
        char len[24];
        snprintf(len, sizeof(len), "%zu", ex->req.body_len);
        bad |= evhttp_add_header(h, "Content-Length", len);
        if (ex->req.body_len)
            evbuffer_add(evhttp_request_get_output_buffer(hreq), ex->req.body, ex->req.body_len);
    }
    if (bad) {
        /* evhttp refuses header values with line breaks: never send a request
         * other than the one the dialect meant. */
        evhttp_request_free(hreq);
        ex_fail(ex, SG_EXERR_REQUEST, "dialect built a request with an invalid header");
        return;
    }
    char *uri = sg_xasprintf("%s%s", b->base_path ? b->base_path : "", ex->req.path);
    /* Only a failed bind or allocation makes this fail synchronously; any other
     * failure comes back through on_http_done. */
    if (evhttp_make_request(c->evcon, hreq, type, uri) != 0) {
        c->ex = NULL;
        ex_fail(ex, SG_EXERR_REQUEST, "cannot start a request to %s:%u", b->host,
                (unsigned)b->port);
    }
    free(uri);
}

/* ---- the exchange -------------------------------------------------------- */

static void ex_clear_result(struct sg_exchange *ex)
{
    free(ex->body);
    ex->body = NULL;
    ex->body_len = 0;
    if (ex->session) {
        OPENSSL_cleanse(ex->session, strlen(ex->session));
        free(ex->session);
    }
    ex->session = NULL;
    ex->login_rc = SG_OK;
    ex->status = 0;
    ex->err = SG_EXERR_NONE;
    ex->reason[0] = '\0';
}

static void on_ex_done(evutil_socket_t fd, short what, void *arg)
{
    struct sg_exchange *ex = arg;
    struct sg_conn *c = ex->conn;
    (void)fd;
    (void)what;
    if (c) {
        /* A complete, reusable answer: the connection goes back to the pool. */
        ex->conn = NULL;
        c->ex = NULL;
        if (c->closed)
            sg_conn_kill(c);
        else
            sg_conn_set_state(c, SG_CONN_IDLE);
    }
    ex->state = SG_EX_NONE;
    /* A kept-alive connection may have been closed by the backend just as we
     * reused it; that says nothing about the request, so it goes once more on
     * a fresh connection. Both our requests are safe to repeat. */
    if (ex->err == SG_EXERR_CLOSED && ex->status == 0 && ex->reused && !ex->stale_retried) {
        sg_log_debug(MOD, "backend %s: reused connection was closed, retrying on a new one",
                     ex->bw->b->name);
        ex->stale_retried = true;
        ex_clear_result(ex);
        /* On a fresh connection, which is the point; an idle one if at the cap. */
        if (ex->bw->nconns < ex->bw->b->pool_max_connections) {
            sg_ex_send(ex, sg_conn_new(ex->bw));
        } else {
            ex->state = SG_EX_QUEUED;
            TAILQ_INSERT_HEAD(&ex->bw->waiters, ex, qlink);
        }
        sg_pool_pump(ex->bw);
        return;
    }
    sg_pool_pump(ex->bw);
    ex->on_done(ex);
}

void sg_ex_init(struct sg_exchange *ex, struct sg_backend_worker *bw,
                void (*on_done)(struct sg_exchange *ex))
{
    memset(ex, 0, sizeof(*ex));
    ex->bw = bw;
    ex->on_done = on_done;
    ex->timer = new_event(bw->base, on_ex_timer, ex);
    ex->ev_done = new_event(bw->base, on_ex_done, ex);
}

void sg_ex_start(struct sg_exchange *ex, bool urgent)
{
    ex_clear_result(ex);
    ex->stale_retried = false;
    ex->state = SG_EX_QUEUED;
    if (urgent)
        TAILQ_INSERT_HEAD(&ex->bw->waiters, ex, qlink);
    else
        TAILQ_INSERT_TAIL(&ex->bw->waiters, ex, qlink);
    sg_pool_pump(ex->bw);
}

void sg_ex_abort(struct sg_exchange *ex)
{
    if (!ex->bw)
        return;
    if (ex->state == SG_EX_QUEUED)
        TAILQ_REMOVE(&ex->bw->waiters, ex, qlink);
    if (ex->conn) {
        /* Mid-request: the answer would desynchronise the connection. */
        struct sg_conn *c = ex->conn;
        c->ex = NULL;
        ex->conn = NULL;
        if (c->state == SG_CONN_BUSY && ex->state == SG_EX_COMPLETE && !c->closed) {
            sg_conn_set_state(c, SG_CONN_IDLE); /* its answer was complete */
            event_active(ex->bw->reaper, 0, 0); /* which pumps the queue */
        } else {
            sg_conn_kill(c);
        }
    }
    if (ex->timer)
        event_del(ex->timer);
    if (ex->ev_done)
        event_del(ex->ev_done);
    ex->state = SG_EX_NONE;
    ex_clear_result(ex);
    sg_http_req_clear(&ex->req);
}

void sg_ex_fini(struct sg_exchange *ex)
{
    sg_ex_abort(ex);
    if (ex->timer)
        event_free(ex->timer);
    if (ex->ev_done)
        event_free(ex->ev_done);
    ex->timer = ex->ev_done = NULL;
}
