/* The scripted vCenter of sg_test_backend.h: moved out of test_upstream.c so
 * every suite that needs a real backend client drives the same server. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "sg_test_backend.h"
#include "snapgate/common.h"
#include "snapgate/dialect.h"

/* ---- the test dialect: the cis shape ------------------------------------- */

static int td_build_task(void *priv, const struct sg_conf_backend *b, const char *task_id,
                         struct sg_http_req *out)
{
    (void)priv;
    (void)b;
    char enc[256];
    size_t n = 0;
    for (const char *p = task_id; *p && n + 4 < sizeof(enc); p++) {
        unsigned char ch = (unsigned char)*p;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~:", ch))
            enc[n++] = (char)ch;
        else
            n += (size_t)snprintf(enc + n, sizeof(enc) - n, "%%%02X", ch);
    }
    enc[n] = '\0';
    out->method = "GET";
    out->path = sg_xasprintf("/api/cis/tasks/%s", enc);
    sg_http_req_add_header(out, "Accept", "application/json");
    return SG_OK;
}

static int td_build_login(void *priv, const struct sg_conf_backend *b, struct sg_http_req *out)
{
    (void)priv;
    char *plain = sg_xasprintf("%s:%s", b->username, b->password ? b->password : "");
    unsigned char enc[256];
    EVP_EncodeBlock(enc, (const unsigned char *)plain, (int)strlen(plain));
    free(plain);
    char *auth = sg_xasprintf("Basic %s", enc);
    out->method = "POST";
    out->path = sg_xstrdup("/api/session");
    sg_http_req_add_header(out, "Authorization", auth);
    free(auth);
    return SG_OK;
}

static int td_parse_login(void *priv, int http_status, sg_header_lookup hdr, void *hdr_ctx,
                          const char *body, size_t len, char **session, char *reason,
                          size_t reason_cap)
{
    (void)priv;
    (void)len;
    if (http_status == 401 || http_status == 403)
        return SG_DENIED;
    if (http_status != 200 && http_status != 201) {
        snprintf(reason, reason_cap, "unexpected login status");
        return SG_ERR;
    }
    /* The header lookup must work while parse_login runs. */
    const char *ct = hdr(hdr_ctx, "content-type");
    if (!ct || strcmp(ct, "application/json") != 0) {
        snprintf(reason, reason_cap, "login answer without its content type");
        return SG_ERR;
    }
    json_object *o = json_tokener_parse(body);
    if (!o || !json_object_is_type(o, json_type_string)) {
        json_object_put(o);
        snprintf(reason, reason_cap, "login answer is not a session string");
        return SG_ERR;
    }
    *session = sg_xstrdup(json_object_get_string(o));
    json_object_put(o);
    return SG_OK;
}

static void td_apply_session(void *priv, const char *session, struct sg_http_req *req)
{
    (void)priv;
    sg_http_req_add_header(req, "vmware-api-session-id", session);
}

static void td_normalize(void *priv, const char *task_id, int http_status, const char *body,
                         size_t len, struct sg_normalized *out)
{
    (void)priv;
    (void)task_id;
    (void)len;
    memset(out, 0, sizeof(*out));
    switch (http_status) {
    case 200: {
        json_object *o = json_tokener_parse(body);
        json_object *st;
        if (o && json_object_is_type(o, json_type_object) &&
            json_object_object_get_ex(o, "status", &st) &&
            sg_task_status_parse(json_object_get_string(st), &out->status) == SG_OK) {
            out->outcome = SG_OUT_INFO;
            out->info = o;
            return;
        }
        json_object_put(o);
        out->outcome = SG_OUT_ERROR;
        snprintf(out->reason, sizeof(out->reason), "not a task info");
        return;
    }
    case 404:
        out->outcome = SG_OUT_NOT_FOUND;
        break;
    case 401:
        out->outcome = SG_OUT_UNAUTHENTICATED;
        break;
    case 403:
        out->outcome = SG_OUT_UNAUTHORIZED;
        break;
    case 502:
    case 503:
    case 504:
        out->outcome = SG_OUT_UNAVAILABLE;
        break;
    default:
        out->outcome = SG_OUT_ERROR;
        break;
    }
    snprintf(out->reason, sizeof(out->reason), "HTTP %d", http_status);
}

static const struct sg_dialect_ops td_ops = {
    .build_task = td_build_task,
    .build_login = td_build_login,
    .parse_login = td_parse_login,
    .apply_session = td_apply_session,
    .normalize = td_normalize,
};

const struct sg_module sg_test_dialect = {
    .name = "testcis",
    .kind = SG_MOD_DIALECT,
    .ops = &td_ops,
};

/* ---- the scripted backend ------------------------------------------------ */

static void reply(struct evhttp_request *req, int status, const char *body, size_t len)
{
    struct evbuffer *buf = evbuffer_new();
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evbuffer_add(buf, body, len);
    evhttp_send_reply(req, status, "X", buf);
    evbuffer_free(buf);
}

static void reply_auto(struct sg_test_srv *s, struct evhttp_request *req)
{
    const char *sid =
        evhttp_find_header(evhttp_request_get_input_headers(req), "vmware-api-session-id");
    if (!sid || !s->session[0] || strcmp(sid, s->session) != 0) {
        reply(req, 401, "{}", 2);
        return;
    }
    const char *ok = "{\"status\":\"RUNNING\",\"description\":\"x\"}";
    reply(req, 200, ok, strlen(ok));
}

static void on_delayed(evutil_socket_t fd, short what, void *arg)
{
    struct sg_test_held *d = arg;
    (void)fd;
    (void)what;
    d->fired = true;
    if (d->act.status)
        reply(d->req, d->act.status, d->act.body ? d->act.body : "",
              d->act.body ? strlen(d->act.body) : 0);
    else
        reply_auto(d->srv, d->req);
}

static void do_act(struct sg_test_srv *s, struct evhttp_request *req, const struct sg_test_act *a)
{
    switch (a->kind) {
    case SG_ACT_AUTO:
        reply_auto(s, req);
        return;
    case SG_ACT_STATUS:
        reply(req, a->status, a->body ? a->body : "", a->body ? strlen(a->body) : 0);
        return;
    case SG_ACT_CLOSE: {
        struct bufferevent *bev =
            evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
        shutdown(bufferevent_getfd(bev), SHUT_RDWR);
        /* Hand the request back to evhttp; the write fails on the dead socket. */
        evhttp_send_reply(req, 500, "gone", NULL);
        return;
    }
    case SG_ACT_DELAY: {
        ck_assert_int_lt(s->ndelayed, SG_TEST_MAX_DELAYED);
        struct sg_test_held *d = &s->delayed[s->ndelayed++];
        d->srv = s;
        d->req = req;
        d->act = *a;
        d->ev = evtimer_new(s->base, on_delayed, d);
        struct timeval tv = {.tv_sec = a->delay_ms / 1000, .tv_usec = (a->delay_ms % 1000) * 1000};
        evtimer_add(d->ev, &tv);
        return;
    }
    case SG_ACT_NEVER: {
        /* Held: answered only by sg_test_srv_stop. */
        ck_assert_int_lt(s->ndelayed, SG_TEST_MAX_DELAYED);
        struct sg_test_held *d = &s->delayed[s->ndelayed++];
        d->srv = s;
        d->req = req;
        d->act = *a;
        return;
    }
    case SG_ACT_BIG: {
        size_t len = 5u * 1024u * 1024u;
        char *big = malloc(len);
        memset(big, ' ', len);
        reply(req, 200, big, len);
        free(big);
        return;
    }
    }
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct sg_test_srv *s = arg;
    const char *uri = evhttp_request_get_uri(req);
    const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
    snprintf(s->last_host, sizeof(s->last_host), "%s", host ? host : "");
    if (strcmp(uri, "/base/api/session") == 0 &&
        evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
        int n = s->logins++;
        int status = n < s->nlogin_script ? s->login_script[n] : 200;
        const char *auth =
            evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
        /* base64("svc:secret") */
        if (!auth || strcmp(auth, "Basic c3ZjOnNlY3JldA==") != 0)
            status = 401;
        if (status != 200) {
            reply(req, status, "{}", 2);
            return;
        }
        snprintf(s->session, sizeof(s->session), "sess-%d", ++s->session_seq);
        char body[48];
        int len = snprintf(body, sizeof(body), "\"%s\"", s->session);
        reply(req, 200, body, (size_t)len);
        return;
    }
    if (strncmp(uri, "/base/api/cis/tasks/", 20) == 0) {
        const char *sid =
            evhttp_find_header(evhttp_request_get_input_headers(req), "vmware-api-session-id");
        snprintf(s->last_session, sizeof(s->last_session), "%s", sid ? sid : "");
        s->tasks++;
        for (int i = 0; i < s->nroutes; i++)
            if (strcmp(uri + 20, s->routes[i].task) == 0) {
                s->routes[i].hits++;
                do_act(s, req, &s->routes[i].act);
                return;
            }
        int n = s->tasks_scripted++;
        do_act(s, req, n < s->ntask_script ? &s->task_script[n] : &s->task_default);
        return;
    }
    reply(req, 404, "{}", 2);
}

static int on_sni(SSL *ssl, int *al, void *arg)
{
    struct sg_test_srv *s = arg;
    (void)al;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    s->sni_seen = name != NULL;
    snprintf(s->sni, sizeof(s->sni), "%s", name ? name : "");
    return SSL_TLSEXT_ERR_OK;
}

static struct bufferevent *on_server_bev(struct event_base *base, void *arg)
{
    struct sg_test_srv *s = arg;
    s->conns++;
    if (!s->ssl_ctx)
        return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    return bufferevent_openssl_socket_new(base, -1, SSL_new(s->ssl_ctx), BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

void sg_test_srv_start(struct sg_test_srv *s, struct event_base *base, X509 *cert, EVP_PKEY *key)
{
    memset(s, 0, sizeof(*s));
    s->base = base;
    s->http = evhttp_new(base);
    evhttp_set_gencb(s->http, on_request, s);
    evhttp_set_bevcb(s->http, on_server_bev, s);
    if (cert) {
        s->ssl_ctx = SSL_CTX_new(TLS_server_method());
        ck_assert_int_eq(SSL_CTX_use_certificate(s->ssl_ctx, cert), 1);
        ck_assert_int_eq(SSL_CTX_use_PrivateKey(s->ssl_ctx, key), 1);
        SSL_CTX_set_tlsext_servername_callback(s->ssl_ctx, on_sni);
        SSL_CTX_set_tlsext_servername_arg(s->ssl_ctx, s);
    }
    struct evhttp_bound_socket *h = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
    ck_assert_ptr_nonnull(h);
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    ck_assert_int_eq(getsockname(evhttp_bound_socket_get_fd(h), (struct sockaddr *)&sin, &len), 0);
    s->port = ntohs(sin.sin_port);
}

void sg_test_srv_stop(struct sg_test_srv *s)
{
    for (int i = 0; i < s->ndelayed; i++) {
        /* Answer what is still held so evhttp frees it with its connection. */
        if (!s->delayed[i].fired)
            evhttp_send_reply(s->delayed[i].req, 503, "stop", NULL);
        if (s->delayed[i].ev)
            event_free(s->delayed[i].ev);
    }
    evhttp_free(s->http);
    SSL_CTX_free(s->ssl_ctx);
}

struct sg_test_route *sg_test_srv_route(struct sg_test_srv *s, const char *task,
                                        struct sg_test_act act)
{
    ck_assert_int_lt(s->nroutes, SG_TEST_MAX_ROUTES);
    struct sg_test_route *r = &s->routes[s->nroutes++];
    r->task = task;
    r->act = act;
    r->hits = 0;
    return r;
}

void sg_test_backend_init(struct sg_conf_backend *b, const char *name, const char *scheme,
                          const char *host, uint16_t port)
{
    memset(b, 0, sizeof(*b));
    b->name = (char *)name;
    b->scheme = (char *)scheme;
    b->host = (char *)host;
    b->port = port;
    b->base_path = "/base";
    b->dialect = &sg_test_dialect;
    b->username = "svc";
    b->password = "secret";
    b->tls_verify = true;
    b->connect_timeout_ms = 1000;
    b->request_timeout_ms = 2000;
    b->pool_max_connections = 32;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

bool sg_test_run_until(struct event_base *base, const int *counter, int want, int ms)
{
    /* The tick wakes the loop so the bound is checked while nothing happens. */
    struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 5000};
    event_add(tick, &tv);
    uint64_t end = sg_now_ms() + (uint64_t)ms;
    while ((!counter || *counter < want) && sg_now_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(tick);
    return !counter || *counter >= want;
}
