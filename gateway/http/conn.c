/* Per-connection limits that libevhtp does not enforce itself: at most 100
 * request headers and 32 KiB of them, a 64 KiB body, a 10 s deadline to receive
 * a request head, a 60 s keep-alive idle limit; and the answers for requests
 * evhtp's parser gives up on (URI over 8 KiB: 414, a header token over 8 KiB:
 * 431, garbage or a Content-Length that is no number: 400) or that name an HTTP version other
 * than 1.x (400).
 *
 * evhtp closes a connection without a word when a hook fails or its parser
 * errs. To answer those we take the bufferevent over (evhtp lets go of it),
 * write a complete error response and close it gracefully ourselves.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <evhtp/evhtp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "obs/access_log.h"
#include "http/conn.h"
#include "http/conn_parser.h"
#include "http/line_guard.h"
#include "http/read_now.h"
#include "http/listen.h"
#include "http/request.h"
#include "obs/metrics.h"
#include "normalize/reply.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "worker/wstate.h"

#define MAX_HEADERS 100
#define MAX_HEADER_BYTES (32 * 1024)
#define MAX_BODY_BYTES (64 * 1024)
#define HEAD_DEADLINE_S 10
#define KEEPALIVE_IDLE_S 60
#define LINGER_S 2

enum conn_phase { PHASE_HEAD, PHASE_BUSY, PHASE_IDLE };

struct sg_conn {
    LIST_ENTRY(sg_conn) link; /* in ws->conns */
    struct sg_wstate *ws;
    evhtp_connection_t *c;
    struct event *timer;
    enum conn_phase phase;
    unsigned nheaders;
    size_t header_bytes;
    size_t body_bytes;
    struct sg_line_guard line;
};

static void arm(struct sg_conn *sc, enum conn_phase phase, int seconds)
{
    sc->phase = phase;
    if (seconds <= 0) {
        event_del(sc->timer);
        return;
    }
    struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};
    evtimer_add(sc->timer, &tv);
}

static void conn_free(struct sg_conn *sc)
{
    if (sc->ws->conn_in_write == sc)
        sc->ws->conn_in_write = NULL; /* tells on_written that sc is gone */
    LIST_REMOVE(sc, link);
    sg_line_guard_fini(&sc->line);
    event_free(sc->timer);
    free(sc);
}

/* ---- graceful close of a taken-over connection ---------------------------- */

struct sg_linger {
    LIST_ENTRY(sg_linger) link; /* in ws->lingerers */
    struct sg_wstate *ws;
    struct bufferevent *bev;
    struct event *timer;
};

static void linger_end(struct sg_linger *l)
{
    LIST_REMOVE(l, link);
    sg_metrics_conn_close(l->ws);
    bufferevent_free(l->bev);
    event_free(l->timer);
    free(l);
}

static void on_linger_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    linger_end(arg);
}

/* Discard what the client still sends, so closing does not reset the
 * connection before it has read our answer. */
static void on_linger_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

static void on_linger_written(struct bufferevent *bev, void *arg)
{
    (void)arg;
    shutdown(bufferevent_getfd(bev), SHUT_WR);
}

static void on_linger_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what; /* EOF or error: the client is done either way */
    linger_end(arg);
}

/* The id a limit's answer carries: the client's when the part of the head
 * read so far holds a good X-Request-Id, as every other answer does. Taken
 * before evhtp frees the request. */
static void reject_id(struct sg_wstate *ws, evhtp_request_t *req, char *id, size_t cap)
{
    sg_request_id_choose(ws, req ? req->headers_in : NULL, id, cap);
}

static void reject_on_bev(struct sg_wstate *ws, struct bufferevent *bev, enum sg_error e,
                          const char *id)
{
    size_t len = 0;
    char *raw = sg_error_reply_raw(e, id, &len);
    struct sg_linger *l = sg_xcalloc(1, sizeof(*l));
    l->ws = ws;
    LIST_INSERT_HEAD(&ws->lingerers, l, link);
    l->bev = bev;
    l->timer = evtimer_new(ws->base, on_linger_timeout, l);
    struct timeval tv = {.tv_sec = LINGER_S, .tv_usec = 0};
    evtimer_add(l->timer, &tv);
    bufferevent_setcb(bev, on_linger_read, on_linger_written, on_linger_event, l);
    bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
    bufferevent_write(bev, raw, len);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    free(raw);

    struct sg_access_rec rec = {
        .request_id = id,
        .method = "-",
        .path = "-",
        .status = sg_error_reply(e)->status,
        .cache = "-",
        .backend = "-",
        .user = "-",
    };
    sg_access_log(&rec);
    sg_metrics_request(ws, rec.status, 0);
}

/* From inside an evhtp hook: evhtp notices it no longer owns the connection
 * and frees its side once the hook returns an error status. */
static evhtp_res reject_from_hook(struct sg_conn *sc, evhtp_request_t *req, enum sg_error e)
{
    struct sg_wstate *ws = sc->ws;
    char id[80];
    reject_id(ws, req, id, sizeof(id));
    sg_request_conn_taken(sc->c->request);
    struct bufferevent *bev = evhtp_connection_take_ownership(sc->c);
    conn_free(sc); /* our fini hook was unset by the take-over */
    reject_on_bev(ws, bev, e, id);
    return EVHTP_RES_ERROR;
}

/* ---- hooks ------------------------------------------------------------------ */

static void on_conn_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_conn *sc = arg;
    evhtp_connection_t *c = sc->c;
    if (sc->phase == PHASE_HEAD) {
        struct sg_wstate *ws = sc->ws;
        char id[80];
        reject_id(ws, c->request, id, sizeof(id));
        sg_request_conn_taken(c->request);
        struct bufferevent *bev = evhtp_connection_take_ownership(c);
        evhtp_connection_free(c);
        conn_free(sc);
        reject_on_bev(ws, bev, SG_E_HEAD_TIMEOUT, id);
    } else if (sc->phase == PHASE_IDLE) {
        evhtp_connection_free(c); /* runs on_conn_fini, which frees sc */
    }
}

/* evhtp writes the request's version back into the status line, one
 * character per number ("HTTP/10.1" came back as "HTTP/:.1", "HTTP/2.0" as
 * itself), and into its own "100 Continue". A later HTTP/1 minor is answered
 * as HTTP/1.1 (RFC 9110 2.5); another major version, which this server does
 * not speak, is a 400 (the contract has no 505). Checked when the request
 * line ends and again when the head does: an HTTP/0.9 line ("GET /" and LF)
 * goes straight to the headers without the first hook, and its Expect got
 * "HTTP/0.9 100 Continue" (found by fuzz_http_front). */
static evhtp_res check_version(struct sg_conn *sc, evhtp_request_t *req)
{
    htparser *p = sc->c->parser;
    if (p && htparser_get_major(p) != 1)
        return reject_from_hook(sc, req, SG_E_INVALID_ARGUMENT);
    if (p && htparser_get_minor(p) > 1)
        htparser_set_minor(p, 1);
    return EVHTP_RES_OK;
}

static evhtp_res on_headers_start(evhtp_request_t *req, void *arg)
{
    struct sg_conn *sc = arg;
    sc->line.at_start = false; /* the request line was parsed whole */
    sc->nheaders = 0;
    sc->header_bytes = 0;
    sc->body_bytes = 0;
    if (sc->phase == PHASE_IDLE)
        arm(sc, PHASE_HEAD, HEAD_DEADLINE_S);
    return check_version(sc, req);
}

static evhtp_res on_header(evhtp_request_t *req, evhtp_header_t *hdr, void *arg)
{
    struct sg_conn *sc = arg;
    sc->nheaders++;
    sc->header_bytes += hdr->klen + hdr->vlen + 4;
    if (sc->nheaders > MAX_HEADERS || sc->header_bytes > MAX_HEADER_BYTES)
        return reject_from_hook(sc, req, SG_E_HEADERS_TOO_LARGE);
    return EVHTP_RES_OK;
}

static evhtp_res on_headers(evhtp_request_t *req, evhtp_headers_t *hdrs, void *arg)
{
    struct sg_conn *sc = arg;
    if (check_version(sc, req) != EVHTP_RES_OK)
        return EVHTP_RES_ERROR; /* answered and taken over */
    const char *cl = evhtp_kv_find(hdrs, "Content-Length");
    if (cl) {
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end == cl || *end != '\0')
            return reject_from_hook(sc, req, SG_E_INVALID_ARGUMENT);
        if (n > MAX_BODY_BYTES)
            return reject_from_hook(sc, req, SG_E_BODY_TOO_LARGE);
    }
    return EVHTP_RES_OK;
}

static evhtp_res on_body(evhtp_request_t *req, struct evbuffer *buf, void *arg)
{
    struct sg_conn *sc = arg;
    sc->body_bytes += evbuffer_get_length(buf);
    if (sc->body_bytes > MAX_BODY_BYTES)
        return reject_from_hook(sc, req, SG_E_BODY_TOO_LARGE);
    /* A POST's body is the request (JSON-RPC): evhtp keeps what is left in
     * buf for the request. Any other body is read and ignored (the Python
     * SDK sends "{}" with a GET). */
    if (evhtp_request_get_method(req) != htp_method_POST)
        evbuffer_drain(buf, evbuffer_get_length(buf));
    return EVHTP_RES_OK;
}

/* Did the parser fail on a Content-Length value? Its key was added and its
 * value never was: evhtp reports a value that is no number ("1x", 21
 * digits) as too_big, which is not a head too large but a malformed one. */
static bool failed_on_content_length(evhtp_request_t *req)
{
    evhtp_header_t *last = req && req->headers_in ? TAILQ_LAST(req->headers_in, evhtp_kvs) : NULL;
    return last && last->key && !last->val && strcasecmp(last->key, "Content-Length") == 0;
}

/* evhtp tears the connection down: on a parser error, answer first. */
static evhtp_res on_conn_fini(evhtp_connection_t *c, void *arg)
{
    struct sg_conn *sc = arg;
    struct sg_wstate *ws = sc->ws;
    htpparse_error err = c->parser ? htparser_get_error(c->parser) : htparse_error_none;
    /* evhtp frees the request after this hook: its fini must not find us. */
    evhtp_connection_unset_hook(c, evhtp_hook_on_connection_fini);
    conn_free(sc);
    if (err == htparse_error_none || err == htparse_error_user || !c->bev) {
        sg_metrics_conn_close(ws); /* evhtp closes the socket after this hook */
        return EVHTP_RES_OK;
    }
    enum sg_error e = SG_E_INVALID_ARGUMENT;
    if (err == htparse_error_too_big && !failed_on_content_length(c->request))
        e = (!c->request || !c->request->uri) ? SG_E_URI_TOO_LONG : SG_E_HEADERS_TOO_LARGE;
    char id[80];
    reject_id(ws, c->request, id, sizeof(id));
    /* The parser may fail on bytes past a request already answered and not
     * yet freed: the take-over would drop that request's fini hook. */
    sg_request_conn_taken(c->request);
    struct bufferevent *bev = evhtp_connection_take_ownership(c);
    /* Whatever is left unparsed is discarded while lingering. */
    evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
    reject_on_bev(ws, bev, e, id);
    return EVHTP_RES_OK;
}

static struct sg_conn *conn_of_connection(evhtp_connection_t *c)
{
    if (!c || !c->hooks ||
        c->hooks->on_connection_fini != (evhtp_hook_connection_fini_cb)on_conn_fini)
        return NULL;
    return c->hooks->on_connection_fini_arg;
}

/* evhtp's own read and write callbacks (one static function each for every
 * connection). */
static bufferevent_data_cb evhtp_on_read, evhtp_on_write;

static size_t held_bytes(const struct sg_conn *sc)
{
    return sc->line.held ? evbuffer_get_length(sc->line.held) : 0;
}

/* Reads reach evhtp through the line guard (http/line_guard.h), and with a
 * parser (http/conn_parser.h). */
static void on_read(struct bufferevent *bev, void *arg)
{
    struct sg_conn *sc = conn_of_connection(arg);
    if (sc)
        sg_conn_parser_acquire(sc->ws, sc->c);
    if (sc && sg_line_guard_wait(&sc->line, bufferevent_get_input(bev)))
        return; /* more of the request line first */
    evhtp_on_read(bev, arg);
}

/* evhtp's write callback ends a keep-alive request (or the connection: then
 * sc is freed inside it, which conn_free reports by clearing conn_in_write);
 * a connection left waiting for its next request gives its parser back. */
static void on_written(struct bufferevent *bev, void *arg)
{
    struct sg_conn *sc = conn_of_connection(arg);
    if (!sc) {
        evhtp_on_write(bev, arg);
        return;
    }
    struct sg_wstate *ws = sc->ws;
    ws->conn_in_write = sc;
    evhtp_on_write(bev, arg);
    if (ws->conn_in_write != sc)
        return;
    ws->conn_in_write = NULL;
    sg_conn_parser_release(ws, sc->c, held_bytes(sc));
}

/* sg_read_now's hold: an evhtp connection paused by sg_conn_pause. */
static bool reading_held(struct bufferevent *bev)
{
    bufferevent_data_cb rd;
    void *arg;
    bufferevent_getcb(bev, &rd, NULL, NULL, &arg);
    return rd == on_read && (((evhtp_connection_t *)arg)->flags & EVHTP_CONN_FLAG_PAUSED);
}

/* evhtp_request_pause, less its bufferevent_disable(EV_READ): the read
 * callback disables reading only if the client sends before the answer
 * (http/read_now.h), which spares the two epoll_ctl calls every paused
 * request cost. evhtp's resume and write callbacks enable reading again as
 * they do after its own pause, and its read callback pausing again finds the
 * flag set and does nothing. */
void sg_conn_pause(evhtp_request_t *req)
{
    evhtp_connection_t *c = evhtp_request_get_connection(req);
    if (!c || !c->bev || !sg_read_now_installed(c->bev)) {
        evhtp_request_pause(req);
        return;
    }
    req->status = EVHTP_RES_PAUSE;
    c->flags |= EVHTP_CONN_FLAG_PAUSED;
}

/* evhtp set its callbacks on the connection's bufferevent before the
 * post-accept hook runs; the read and write ones are wrapped. */
static void wrap_callbacks(evhtp_connection_t *c)
{
    bufferevent_data_cb rd, wr;
    bufferevent_event_cb ev;
    void *arg;
    bufferevent_getcb(c->bev, &rd, &wr, &ev, &arg);
    if (rd == on_read)
        return;
    evhtp_on_read = rd;
    evhtp_on_write = wr;
    bufferevent_setcb(c->bev, on_read, on_written, ev, arg);
}

evhtp_res sg_conn_on_accept(evhtp_connection_t *c, void *arg)
{
    struct sg_wstate *ws = arg;
    /* Over max_connections: closed at once without an answer (evhtp frees a
     * connection whose post-accept hook fails), so the kernel's queue keeps
     * moving and the client learns now instead of after a timeout. */
    if (sg_metrics_conns_open_total() >= ws->conf->max_connections) {
        sg_accept_guard_refused(ws->accept_guard, (unsigned long long)ws->conf->max_connections);
        return EVHTP_RES_ERROR;
    }
    struct sg_conn *sc = sg_xcalloc(1, sizeof(*sc));
    sc->ws = ws;
    sc->c = c;
    LIST_INSERT_HEAD(&ws->conns, sc, link);
    /* Closed again in on_conn_fini, or in linger_end after an error answer. */
    sg_metrics_conn_open(ws);
    sc->timer = evtimer_new(ws->base, on_conn_timer, sc);
    arm(sc, PHASE_HEAD, HEAD_DEADLINE_S);
    sg_line_guard_init(&sc->line);
    wrap_callbacks(c);
    sg_read_now_install(c->bev, reading_held);
    evhtp_connection_set_hook(c, evhtp_hook_on_headers_start, (evhtp_hook)on_headers_start, sc);
    evhtp_connection_set_hook(c, evhtp_hook_on_header, (evhtp_hook)on_header, sc);
    evhtp_connection_set_hook(c, evhtp_hook_on_headers, (evhtp_hook)on_headers, sc);
    evhtp_connection_set_hook(c, evhtp_hook_on_read, (evhtp_hook)on_body, sc);
    evhtp_connection_set_hook(c, evhtp_hook_on_connection_fini, (evhtp_hook)on_conn_fini, sc);
    sg_conn_parser_release(ws, c, 0); /* until its first bytes arrive */
    return EVHTP_RES_OK;
}

static struct sg_conn *conn_of(evhtp_request_t *req)
{
    return conn_of_connection(evhtp_request_get_connection(req));
}

void sg_conn_request_started(evhtp_request_t *req)
{
    struct sg_conn *sc = conn_of(req);
    if (sc) {
        arm(sc, PHASE_BUSY, 0);
        sc->line.at_start = true; /* its message was read whole: a next one may follow */
    }
}

void sg_conn_request_done(evhtp_request_t *req)
{
    struct sg_conn *sc = conn_of(req);
    if (sc)
        arm(sc, PHASE_IDLE, KEEPALIVE_IDLE_S);
}

static struct evbuffer *input_of(evhtp_request_t *req)
{
    evhtp_connection_t *c = evhtp_request_get_connection(req);
    struct bufferevent *bev = c ? evhtp_connection_get_bev(c) : NULL;
    return bev ? bufferevent_get_input(bev) : NULL;
}

/* Inside evhtp's request callback: how many bytes at the front of in are this
 * request's. evhtp parses one request per read callback and drains the input
 * after it, so the buffer starts with this request and what lies past its
 * head and body is the next one. False when unsure (bare-LF or chunked
 * framing). */
static bool request_bytes(evhtp_request_t *req, struct evbuffer *in, size_t *used)
{
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (end.pos < 0 || evhtp_kv_find(req->headers_in, "Transfer-Encoding"))
        return false;
    *used = (size_t)end.pos + 4;
    const char *cl = evhtp_kv_find(req->headers_in, "Content-Length");
    if (cl)
        *used += (size_t)strtoull(cl, NULL, 10); /* checked in on_headers */
    return true;
}

bool sg_conn_has_pipelined(evhtp_request_t *req)
{
    struct evbuffer *in = input_of(req);
    if (!in)
        return false;
    size_t avail = evbuffer_get_length(in), used;
    if (!request_bytes(req, in, &used))
        return avail > 0; /* unsure: say yes */
    return avail > used;
}

void sg_conn_before_resume(evhtp_request_t *req, bool in_callback)
{
    struct sg_conn *sc = conn_of(req);
    struct evbuffer *in = input_of(req);
    size_t skip = 0;
    if (!sc || !in || (in_callback && !request_bytes(req, in, &skip)))
        return;
    sg_line_guard_before_resume(&sc->line, in, skip);
}

void sg_conn_close_all(struct sg_wstate *ws)
{
    /* Freeing a connection runs on_conn_fini (which unlinks it) and frees its
     * request, whose fini hook drops the request's evhtp reference. A parser
     * error at that moment may still turn it into a lingerer: those go last. */
    while (!LIST_EMPTY(&ws->conns))
        evhtp_connection_free(LIST_FIRST(&ws->conns)->c);
    while (!LIST_EMPTY(&ws->lingerers))
        linger_end(LIST_FIRST(&ws->lingerers));
}
