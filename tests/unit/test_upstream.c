/* The upstream client against an in-process scripted backend (evhttp on
 * loopback, plain or TLS, on the same event base): sessions, pooling, retries,
 * timeouts, transport failures, size caps, cancellation and TLS verification.
 * A test-local dialect speaks the cis shape so the suite needs no module. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sg_test_util.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/dialect.h"
#include "snapgate/module.h"
#include "upstream.h"

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

static const struct sg_module td_module = {
    .name = "testcis",
    .kind = SG_MOD_DIALECT,
    .ops = &td_ops,
};

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

/* ---- the scripted backend ------------------------------------------------ */

enum act_kind { ACT_AUTO = 0, ACT_STATUS, ACT_CLOSE, ACT_DELAY, ACT_BIG };

struct act {
    enum act_kind kind;
    int status;       /* ACT_STATUS */
    const char *body; /* ACT_STATUS */
    int delay_ms;     /* ACT_DELAY: then ACT_AUTO */
};

struct delayed {
    struct srv *srv;
    struct evhttp_request *req;
    struct event *ev;
    bool fired;
};

#define MAX_DELAYED 16

struct srv {
    struct event_base *base;
    struct evhttp *http;
    SSL_CTX *ssl_ctx;
    uint16_t port;
    int conns, logins, tasks;
    int session_seq;
    char session[32]; /* the one valid session, "" when none */
    int login_script[4];
    int nlogin_script;
    struct act task_script[4];
    int ntask_script;
    struct act task_default;
    char last_host[64];
    char sni[64];
    bool sni_seen;
    struct delayed delayed[MAX_DELAYED];
    int ndelayed;
};

static void reply(struct evhttp_request *req, int status, const char *body, size_t len)
{
    struct evbuffer *buf = evbuffer_new();
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evbuffer_add(buf, body, len);
    evhttp_send_reply(req, status, "X", buf);
    evbuffer_free(buf);
}

static void reply_auto(struct srv *s, struct evhttp_request *req)
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
    struct delayed *d = arg;
    (void)fd;
    (void)what;
    d->fired = true;
    reply_auto(d->srv, d->req);
}

static void do_act(struct srv *s, struct evhttp_request *req, const struct act *a)
{
    switch (a->kind) {
    case ACT_AUTO:
        reply_auto(s, req);
        return;
    case ACT_STATUS:
        reply(req, a->status, a->body ? a->body : "", a->body ? strlen(a->body) : 0);
        return;
    case ACT_CLOSE: {
        struct bufferevent *bev =
            evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
        shutdown(bufferevent_getfd(bev), SHUT_RDWR);
        /* Hand the request back to evhttp; the write fails on the dead socket. */
        evhttp_send_reply(req, 500, "gone", NULL);
        return;
    }
    case ACT_DELAY: {
        ck_assert_int_lt(s->ndelayed, MAX_DELAYED);
        struct delayed *d = &s->delayed[s->ndelayed++];
        d->srv = s;
        d->req = req;
        d->ev = evtimer_new(s->base, on_delayed, d);
        struct timeval tv = {.tv_sec = a->delay_ms / 1000, .tv_usec = (a->delay_ms % 1000) * 1000};
        evtimer_add(d->ev, &tv);
        return;
    }
    case ACT_BIG: {
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
    struct srv *s = arg;
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
        int n = s->tasks++;
        do_act(s, req, n < s->ntask_script ? &s->task_script[n] : &s->task_default);
        return;
    }
    reply(req, 404, "{}", 2);
}

static int on_sni(SSL *ssl, int *al, void *arg)
{
    struct srv *s = arg;
    (void)al;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    s->sni_seen = name != NULL;
    snprintf(s->sni, sizeof(s->sni), "%s", name ? name : "");
    return SSL_TLSEXT_ERR_OK;
}

static struct bufferevent *on_server_bev(struct event_base *base, void *arg)
{
    struct srv *s = arg;
    s->conns++;
    if (!s->ssl_ctx)
        return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    return bufferevent_openssl_socket_new(base, -1, SSL_new(s->ssl_ctx), BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

static void srv_start(struct srv *s, struct event_base *base, X509 *cert)
{
    memset(s, 0, sizeof(*s));
    s->base = base;
    s->http = evhttp_new(base);
    evhttp_set_gencb(s->http, on_request, s);
    evhttp_set_bevcb(s->http, on_server_bev, s);
    if (cert) {
        s->ssl_ctx = SSL_CTX_new(TLS_server_method());
        ck_assert_int_eq(SSL_CTX_use_certificate(s->ssl_ctx, cert), 1);
        ck_assert_int_eq(SSL_CTX_use_PrivateKey(s->ssl_ctx, pki.leaf_key), 1);
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

static void srv_stop(struct srv *s)
{
    for (int i = 0; i < s->ndelayed; i++) {
        /* Answer what is still held so evhttp frees it with its connection. */
        if (!s->delayed[i].fired)
            evhttp_send_reply(s->delayed[i].req, 503, "stop", NULL);
        event_free(s->delayed[i].ev);
    }
    evhttp_free(s->http);
    SSL_CTX_free(s->ssl_ctx);
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
static struct srv srv;
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

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Runs the loop until *counter reaches want or ms pass; returns whether it did. */
static bool run_until(const int *counter, int want, int ms)
{
    struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 5000};
    event_add(tick, &tv);
    uint64_t end = sg_now_ms() + (uint64_t)ms;
    while ((!counter || *counter < want) && sg_now_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(tick);
    return !counter || *counter >= want;
}

static void backend_init(struct sg_conf_backend *b, const char *scheme, const char *host,
                         uint16_t port)
{
    memset(b, 0, sizeof(*b));
    b->name = "vc1";
    b->scheme = (char *)scheme;
    b->host = (char *)host;
    b->port = port;
    b->base_path = "/base";
    b->dialect = &td_module;
    b->username = "svc";
    b->password = "secret";
    b->tls_verify = true;
    b->connect_timeout_ms = 1000;
    b->request_timeout_ms = 2000;
    b->pool_max_connections = 32;
}

static void setup_with(X509 *cert)
{
    base = event_base_new();
    srv_start(&srv, base, cert);
    backend_init(&backend, cert ? "https" : "http", "127.0.0.1", srv.port);
}

/* The client for backend, its TLS prepared as sg_conf_load would. */
static struct sg_backend_worker *create_bw(void)
{
    char err[600];
    ck_assert_msg(sg_upstream_tls_prepare(&backend, err, sizeof(err)) == SG_OK, "%s", err);
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
    srv_stop(&srv);
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
    srv.task_script[0] = (struct act){.kind = ACT_STATUS, .status = 401, .body = "{}"};
    srv.ntask_script = 1;
    struct got g = fetch_one("task-r", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_INFO);
    ck_assert_int_eq(srv.logins, 2);
    ck_assert_int_eq(srv.tasks, 2);
}
END_TEST

START_TEST(test_unauthenticated_twice_blames_service_account)
{
    srv.task_script[0] = (struct act){.kind = ACT_STATUS, .status = 401, .body = "{}"};
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
    srv.task_script[0] = (struct act){.kind = ACT_STATUS, .status = c->status, .body = c->body};
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
    srv.task_default = (struct act){.kind = ACT_DELAY, .delay_ms = 600};
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
    srv.task_default = (struct act){.kind = ACT_DELAY, .delay_ms = 600};
    struct got g = fetch_one("task-t", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_UNAVAILABLE);
    ck_assert_msg(strstr(g.reason, "within 150 ms"), "%s", g.reason);
    run_until(NULL, 0, 700);
    ck_assert_int_eq(g.calls, 1);
}
END_TEST

START_TEST(test_close_without_answer_is_unavailable)
{
    srv.task_default = (struct act){.kind = ACT_CLOSE};
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
    srv.task_script[0] = (struct act){.kind = ACT_STATUS, .status = 503, .body = "{}"};
    srv.task_script[1] = (struct act){.kind = ACT_STATUS, .status = 502, .body = ""};
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
    srv.task_default = (struct act){.kind = ACT_STATUS, .status = 504, .body = ""};
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
    srv.task_default = (struct act){.kind = ACT_STATUS, .status = 500, .body = "{}"};
    struct got g = fetch_one("task-500", 3000);
    ck_assert_int_eq(g.outcome, SG_OUT_ERROR);
    ck_assert_int_eq(g.retries, 0);
    ck_assert_int_eq(srv.tasks, 1);
}
END_TEST

START_TEST(test_retries_stay_inside_the_deadline)
{
    backend.retries_max = 5;
    srv.task_default = (struct act){.kind = ACT_DELAY, .delay_ms = 600};
    srv.task_script[0] = (struct act){.kind = ACT_STATUS, .status = 503, .body = "{}"};
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
    srv.task_default = (struct act){.kind = ACT_DELAY, .delay_ms = 50};
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
    srv.task_default = (struct act){.kind = ACT_BIG};
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
    srv.task_default = (struct act){.kind = ACT_DELAY, .delay_ms = 200};
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
    srv.task_default =
        (struct act){.kind = ACT_STATUS, .status = 200, .body = "{\"status\":\"SUCCEEDED\"}"};
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
    srv.task_default = (struct act){.kind = ACT_DELAY, .delay_ms = 200};
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
    ck_assert_int_eq(sg_upstream_tls_prepare(&backend, err, sizeof(err)), SG_ERR);
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
    ck_assert_int_eq(sg_upstream_tls_prepare(&backend, err, sizeof(err)), SG_ERR);
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
