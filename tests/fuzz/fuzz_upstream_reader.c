/* fuzz_upstream_reader: feeds a backend's HTTP answer, as bytes on a real loopback TCP
 * connection, to the upstream client (gateway/upstream/: pool, exchange, call, fetch, with
 * libevent's evhttp parsing the status line, headers and body): one sg_call_start (GET or HEAD)
 * or one sg_fetch_start through the snapservice dialect (no service account, so no login; no
 * retries) per input.
 *
 * The harness is the backend: a listening socket on 127.0.0.1, made once like the event base
 * and the backend config. Per input a fresh backend-worker (no pooled connection survives from
 * the previous input) sends its request; the harness accepts it, reads the request head, writes
 * the answer in the pieces the input's split points give, running the loop once after each so
 * evhttp sees separate reads, then closes the connection and runs the loop until the callback.
 *
 * Input: byte 0 flags: bit 0 structured, bit 1 fetch instead of call, bit 2 HEAD for a call,
 * bit 3 reset instead of close (raw mode), bit 4 keep mode, bits 5-7 = 101 big mode
 * (structured), else bit 5 drop mode. Byte 1: the number of split points (low 3 bits), each
 * two bytes (an offset into the answer). Then, raw mode: the answer's bytes as they are;
 * structured mode: choices (status 200..599, HTTP/1.0 or 1.1, reason, extra headers, framing:
 * Content-Length with leading zeros / chunked with fuzz-chosen chunk sizes, hex case, leading
 * zeros and trailers / close-delimited) and the body bytes, from which the harness encodes a
 * VALID answer (no chunk extensions: evhttp 2.1 refuses them).
 * - Big mode announces (Content-Length, or a last chunk's size) a body one byte under, at or
 *   over SG_UPSTREAM_MAX_BODY and sends only the input's body before closing.
 * - Keep mode: when the first answer completed with its connection still open, a second call
 *   goes out on the same backend-worker and the harness answers it, on whichever connection it
 *   comes; drop mode closes the first connection instead when the second request comes on it
 *   (the backend's keep-alive timeout) and answers the client's retry.
 *
 * Properties, always: each callback runs exactly once, never inside its start call. Call: an
 * answer has a status in 200..599, a NUL-terminated body of at most SG_UPSTREAM_MAX_BODY bytes
 * and no more than was sent (none for HEAD); a failure has status 0, no body and a non-empty
 * reason. Fetch: the outcome is one of enum sg_outcome with a non-empty reason, an Info exactly
 * for INFO and INFO only from a 200; the upstream status is 0 or in 100..599. Keep mode: the
 * second call gets exactly its own answer, never bytes that came after the first one.
 * Structured mode adds the differential: a call delivers exactly the encoded status and body;
 * a fetch ends exactly as the dialect's normalize op does on that status and body (same
 * outcome, task status, reason and rendered Info, with that upstream status; UNAVAILABLE for
 * 502/503/504, retried and out of retries); in big mode the answer fails as too large
 * ("exceeds") exactly when the announced size is over the cap, else as cut short by the close.
 * SG_FUZZ_DICT: http.dict */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "conf/conf_tls.h"
#include "fuzz_buf.h"
#include "fuzz_info.h"
#include "snapgate/call.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/dialect.h"
#include "snapgate/log.h"
#include "snapgate/module.h"
#include "upstream/upstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define F_STRUCTURED 0x01
#define F_FETCH 0x02
#define F_HEAD 0x04
#define F_RST 0x08
#define F_KEEP 0x10
#define F_DROP 0x20 /* unless big */
#define F_BIG_MASK 0xe0
#define F_BIG 0xa0
#define MAX_SPLITS 7
#define TASK_ID "task-1"

static struct event_base *base;
static int lfd = -1;
static struct sg_conf_backend backend;
static const struct sg_dialect_ops *ops;

/* ---- once ---------------------------------------------------------------- */

static void quiet_libevent(int severity, const char *msg)
{
    (void)severity;
    (void)msg;
}

static void init_once(void)
{
    signal(SIGPIPE, SIG_IGN);
    sg_log_setup(SG_LOG_ERROR, SG_LOG_TEXT);
    event_set_log_callback(quiet_libevent);
    base = event_base_new();
    const struct sg_module *m = sg_module_find(SG_MOD_DIALECT, "snapservice");
    if (!base || !m || !m->ops)
        abort();
    ops = m->ops;

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t salen = sizeof sa;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 64) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &salen) != 0)
        abort();

    backend.name = "fz";
    backend.url = "http://127.0.0.1";
    backend.scheme = "http";
    backend.host = "127.0.0.1";
    backend.port = ntohs(sa.sin_port);
    backend.base_path = "";
    backend.dialect = m;
    backend.tls_verify = true;
    /* Every input ends with a close, so these only bound a harness bug. */
    backend.connect_timeout_ms = 1000;
    backend.request_timeout_ms = 2000;
    backend.pool_max_connections = 4;
    backend.retries_max = 0;
    backend.retry_budget_percent = 20;
    char err[300];
    if (sg_conf_tls_prepare(&backend, err, sizeof err) != SG_OK)
        abort();
}

/* ---- reading the input --------------------------------------------------- */

struct rd {
    const uint8_t *p;
    size_t n;
};

static unsigned rd_u8(struct rd *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static unsigned rd_u16(struct rd *r)
{
    unsigned hi = rd_u8(r);
    return hi << 8 | rd_u8(r);
}

/* ---- building a valid answer (structured mode) --------------------------- */

/* n visible ASCII characters from the input (header values, reason phrases:
 * spaces only inside, which is all the grammar allows unambiguously). */
static void buf_token(struct buf *b, struct rd *r, size_t n, bool spaces)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = rd_u8(r);
        char c = (char)(0x21 + v % 94);
        if (spaces && i > 0 && i + 1 < n && v >= 0xf0)
            c = ' ';
        buf_add(b, &c, 1);
    }
}

static const char *const extra_names[] = {
    "Server",      "Content-Type", "Date",       "X-Request-Id", "Cache-Control", "Vary",
    "Set-Cookie",  "ETag",         "Connection", "Keep-Alive",   "Location",      "X-A",
    "Retry-After", "Via",          "Expires",    "connection",
};

static const char *const cl_names[] = {"Content-Length", "content-length", "CONTENT-LENGTH"};
static const char *const te_names[] = {"Transfer-Encoding", "transfer-encoding"};
static const char *const te_values[] = {"chunked", "Chunked", "CHUNKED"};
static const char *const ows[] = {" ", "", "\t", "  "};

enum framing { FR_LENGTH = 0, FR_CHUNKED, FR_CLOSE };

struct want {
    int status;
    const uint8_t *body;
    size_t body_len;
    bool too_large; /* big mode: the announced body is over SG_UPSTREAM_MAX_BODY */
    bool truncated; /* big mode: the body announced is not all sent */
};

/* Encodes a valid answer from r into out; *w gets the status and the body a
 * correct reader delivers. */
static void build_answer(struct rd *r, bool head, bool big, struct buf *out, struct want *w)
{
    unsigned c0 = rd_u8(r), c1 = rd_u8(r);
    int status = 200 + (int)(rd_u16(r) % 400);
    bool v10 = c0 & 1;
    enum framing fr = (enum framing)((c0 >> 1) % 3);
    if (v10 && fr == FR_CHUNKED)
        fr = FR_LENGTH; /* chunked is HTTP/1.1 */
    size_t nextra = (c0 >> 3) & 7;
    size_t reason_len = c1 & 15;
    size_t ntrailers = (c1 >> 4) & 3;
    bool no_body = head || status == 204 || status == 304;
    char line[64];

    snprintf(line, sizeof line, "HTTP/1.%d %d ", v10 ? 0 : 1, status);
    buf_str(out, line);
    buf_token(out, r, reason_len, true);
    buf_str(out, "\r\n");
    for (size_t i = 0; i < nextra; i++) {
        buf_str(out, extra_names[rd_u8(r) % SG_ARRAY_LEN(extra_names)]);
        buf_str(out, ":");
        buf_str(out, ows[rd_u8(r) % SG_ARRAY_LEN(ows)]);
        buf_token(out, r, rd_u8(r) % 24, true);
        buf_str(out, "\r\n");
    }

    /* The chunk plan comes before the body: the body is the rest of the input. */
    unsigned nchunks = 0, chunk_sz[16], zeros = rd_u8(r), upper = rd_u8(r);
    if (fr == FR_CHUNKED) {
        nchunks = rd_u8(r) % 16;
        for (unsigned i = 0; i < nchunks; i++)
            chunk_sz[i] = 1 + rd_u16(r) % 700;
    }
    unsigned cl_choice = rd_u8(r), big_choice = rd_u8(r);
    w->status = status;
    w->body = r->p;
    w->body_len = r->n;
    if (status == 204 || status == 304)
        w->body_len = 0;
    /* What the framing announces: the body, or in big mode one byte under, at
     * or over the cap, of which only the body is sent before the close
     * (sending megabytes would cost tens of ms an input). */
    size_t announced = w->body_len;
    if (big && !no_body) {
        announced = SG_UPSTREAM_MAX_BODY - 1 + big_choice % 3;
        if (fr == FR_CLOSE)
            fr = FR_LENGTH;
        w->too_large = announced > SG_UPSTREAM_MAX_BODY;
        w->truncated = !w->too_large;
    }
    if (status == 304 || status == 204)
        fr = FR_LENGTH; /* no body, whatever the framing says: keep it simple */

    switch (fr) {
    case FR_LENGTH:
        if (status == 204)
            break; /* a 204 has no Content-Length */
        buf_str(out, cl_names[cl_choice % SG_ARRAY_LEN(cl_names)]);
        buf_str(out, ":");
        buf_str(out, ows[(cl_choice >> 2) % SG_ARRAY_LEN(ows)]);
        for (unsigned z = 0; z < (zeros & 3); z++)
            buf_str(out, "0");
        snprintf(line, sizeof line, "%zu\r\n", announced);
        buf_str(out, line);
        break;
    case FR_CHUNKED:
        buf_str(out, te_names[cl_choice % SG_ARRAY_LEN(te_names)]);
        buf_str(out, ":");
        buf_str(out, ows[(cl_choice >> 1) % SG_ARRAY_LEN(ows)]);
        buf_str(out, te_values[(cl_choice >> 3) % SG_ARRAY_LEN(te_values)]);
        buf_str(out, "\r\n");
        break;
    case FR_CLOSE:
        break;
    }
    buf_str(out, "\r\n");
    if (no_body) {
        w->body_len = 0;
        return;
    }
    if (fr != FR_CHUNKED) {
        buf_add(out, w->body, w->body_len);
        return;
    }
    size_t at = 0;
    for (unsigned i = 0; at < w->body_len; i++) {
        size_t n = i < nchunks ? chunk_sz[i] : w->body_len - at;
        if (n > w->body_len - at)
            n = w->body_len - at;
        snprintf(line, sizeof line, (upper >> (i % 8)) & 1 ? "%.*d%zX\r\n" : "%.*d%zx\r\n",
                 (int)((zeros >> 2) & 3), 0, n);
        /* "%.*d" of 0 with precision 0 prints nothing: leading zeros 0..3 */
        buf_str(out, line);
        buf_add(out, w->body + at, n);
        buf_str(out, "\r\n");
        at += n;
    }
    if (announced > w->body_len) {
        /* the chunk that makes up the announced size, cut short */
        snprintf(line, sizeof line, "%zx\r\n", announced - w->body_len);
        buf_str(out, line);
        return;
    }
    snprintf(line, sizeof line, "%.*d0\r\n", (int)((zeros >> 4) & 3), 0);
    buf_str(out, line);
    for (size_t i = 0; i < ntrailers; i++) {
        /* a token name: X-Trailer-<letter> */
        char name[] = "X-Trailer-a: ";
        name[10] = (char)('a' + rd_u8(r) % 26);
        buf_str(out, name);
        buf_token(out, r, 3, false);
        buf_str(out, "\r\n");
    }
    buf_str(out, "\r\n");
}

/* ---- the callbacks ------------------------------------------------------- */

struct got {
    int calls;
    bool in_start;
    bool called_in_start;
    const struct want *want; /* structured mode: what the body must be */
    /* call */
    int status;
    char *body; /* a copy */
    size_t len;
    bool had_body;
    bool body_is_want;
    char reason[200];
    /* fetch */
    struct sg_normalized norm;
    int upstream_status;
};

static bool nul_within(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

/* Counts a callback: exactly once, and noted when it runs inside its start call. */
static void got_called(struct got *g)
{
    g->calls++;
    if (g->in_start)
        g->called_in_start = true;
    if (g->calls > 1)
        abort();
}

static void on_call(const struct sg_call_result *res, void *arg)
{
    struct got *g = arg;
    got_called(g);
    g->status = res->status;
    g->had_body = res->body != NULL;
    if (res->body) {
        if (res->body[res->len] != '\0')
            abort();
        g->len = res->len;
        g->body_is_want = g->want && res->len == g->want->body_len &&
                          (!res->len || memcmp(res->body, g->want->body, res->len) == 0);
        g->body = malloc(res->len + 1);
        if (!g->body)
            abort();
        memcpy(g->body, res->body, res->len + 1);
    }
    if (!nul_within(res->reason, sizeof res->reason))
        abort();
    snprintf(g->reason, sizeof g->reason, "%s", res->reason);
}

static void on_fetch(struct sg_fetch_result *res, void *arg)
{
    struct got *g = arg;
    got_called(g);
    g->norm = res->norm; /* the Info is ours now */
    res->norm.info = NULL;
    g->upstream_status = res->upstream_status;
}

/* ---- the backend's side -------------------------------------------------- */

static void loop_once(void)
{
    event_base_loop(base, EVLOOP_NONBLOCK);
}

/* The request head arriving on a connection, read without blocking. */
struct peer {
    int fd;
    char head[4096];
    size_t len;
};

/* Reads what p's client sent; 1 once the head is complete, 0 for more to
 * come, -1 when the client closed it first (or sent more than a head). */
static int peer_read(struct peer *p)
{
    for (;;) {
        ssize_t n = recv(p->fd, p->head + p->len, sizeof p->head - 1 - p->len, 0);
        if (n > 0) {
            p->len += (size_t)n;
            p->head[p->len] = '\0';
            if (strstr(p->head, "\r\n\r\n"))
                return 1;
            if (p->len == sizeof p->head - 1)
                return -1;
            continue;
        }
        return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    }
}

static void peer_close(struct peer *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    p->len = 0;
}

/* Whether p, if connected, now holds a whole request head; a connection its
 * client closed first is closed here. */
static bool peer_ready(struct peer *p)
{
    if (p->fd < 0)
        return false;
    int r = peer_read(p);
    if (r < 0)
        peer_close(p);
    return r > 0;
}

/* Waits for the next request head, on the kept connection (kept->fd >= 0:
 * the client reuses it) or a new one, and returns the peer it came on. A
 * request that never comes is a client bug, not an input's doing: abort. */
static struct peer *await_request(struct peer *kept, struct peer *fresh)
{
    uint64_t end = sg_now_ms() + 3000;
    fresh->fd = -1;
    fresh->len = 0;
    while (sg_now_ms() < end) {
        if (peer_ready(kept))
            return kept;
        if (fresh->fd < 0)
            fresh->fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (peer_ready(fresh))
            return fresh;
        event_base_loop(base, EVLOOP_NONBLOCK);
        struct pollfd pfd[2] = {{.fd = fresh->fd >= 0 ? fresh->fd : lfd, .events = POLLIN},
                                {.fd = kept->fd, .events = POLLIN}};
        poll(pfd, 2, 1);
    }
    abort();
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
    uint64_t end = sg_now_ms() + 3000;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR) && sg_now_ms() < end) {
            loop_once();
        } else {
            return; /* the client closed: the rest is of no use to it */
        }
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- one input ----------------------------------------------------------- */

static void check_call(const struct got *g, bool head, size_t sent, const struct want *w)
{
    if (g->status != 0) {
        if (g->status < 200 || g->status > 599 || !g->had_body || g->len > SG_UPSTREAM_MAX_BODY ||
            g->len > sent || (head && g->len != 0))
            abort();
    } else if (g->had_body || g->reason[0] == '\0') {
        abort();
    }
    if (!w)
        return;
    if (w->too_large || w->truncated) {
        if (g->status != 0 || !strstr(g->reason, w->too_large ? "exceeds" : "closed before"))
            abort();
        return;
    }
    if (g->status != w->status || !g->body_is_want)
        abort();
}

static void check_fetch(const struct got *g, const struct want *w)
{
    const struct sg_normalized *n = &g->norm;
    sg_fuzz_check_normalized(n); /* known outcome, a reason, an Info exactly for INFO */
    if (n->outcome == SG_OUT_INFO && g->upstream_status != 200)
        abort();
    if (g->upstream_status != 0 && (g->upstream_status < 100 || g->upstream_status > 599))
        abort();
    if (!w)
        return;
    if (g->upstream_status != w->status)
        abort();
    if (w->too_large || w->truncated) {
        if (n->outcome != (w->too_large ? SG_OUT_ERROR : SG_OUT_UNAVAILABLE) ||
            !strstr(n->reason, w->too_large ? "exceeds" : "closed before"))
            abort();
        return;
    }
    if (w->status == 502 || w->status == 503 || w->status == 504) {
        if (n->outcome != SG_OUT_UNAVAILABLE)
            abort();
        return;
    }
    /* What the dialect makes of exactly those bytes, handed over directly. */
    char *body = malloc(w->body_len + 1);
    if (!body)
        abort();
    memcpy(body, w->body, w->body_len);
    body[w->body_len] = '\0';
    struct sg_normalized e = {0};
    ops->normalize(NULL, TASK_ID, w->status, body, w->body_len, &e);
    if (e.outcome != n->outcome || strcmp(e.reason, n->reason) != 0 ||
        (e.outcome == SG_OUT_INFO &&
         (e.status != n->status || strcmp(sg_fuzz_render(e.info), sg_fuzz_render(n->info)) != 0)))
        abort();
    sg_normalized_clear(&e);
    free(body);
}

static void run_until_called(const struct got *g)
{
    uint64_t end = sg_now_ms() + 5000;
    while (!g->calls && sg_now_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    if (g->calls != 1)
        abort();
}

/* The second request of keep mode, and the one answer it may get. */
#define SECOND_PATH "/second"
#define SECOND_BODY "second-answer"
static const char second_answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n" SECOND_BODY;

/* Keep mode: a second call on the same backend-worker, after the first
 * answer and whatever followed it, with the first connection still open.
 * Whatever the first answer was, the second request gets exactly its own
 * answer: never bytes that came on the first connection. */
static void check_second_head(const struct peer *p)
{
    if (strncmp(p->head, "GET " SECOND_PATH " ", sizeof("GET " SECOND_PATH " ") - 1) != 0)
        abort();
}

static void second_request(struct sg_backend_worker *bw, struct peer *kept, bool drop)
{
    struct got g = {.in_start = true};
    struct sg_http_req req = {.method = "GET", .path = sg_xstrdup(SECOND_PATH)};
    sg_call_start(bw, &req, on_call, &g);
    g.in_start = false;
    if (g.called_in_start)
        abort();
    struct peer fresh, fresh2 = {.fd = -1};
    kept->len = 0;
    struct peer *p = await_request(kept, &fresh);
    check_second_head(p);
    if (drop && p == kept) {
        /* The backend's keep-alive timeout just as the client reused the
         * connection: the client tries once more, on a new one. */
        peer_close(kept);
        p = await_request(&fresh, &fresh2);
        check_second_head(p);
    }
    send_all(p->fd, (const uint8_t *)second_answer, sizeof second_answer - 1);
    run_until_called(&g);
    if (g.status != 200 || g.len != sizeof SECOND_BODY - 1 || strcmp(g.body, SECOND_BODY) != 0)
        abort();
    free(g.body);
    peer_close(&fresh);
    peer_close(&fresh2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!base)
        init_once();
    struct rd r = {data, size};
    unsigned flags = rd_u8(&r);
    bool structured = flags & F_STRUCTURED, fetch = flags & F_FETCH, keep = flags & F_KEEP;
    bool head = !fetch && (flags & F_HEAD);
    bool big = structured && (flags & F_BIG_MASK) == F_BIG;
    size_t nsplit = rd_u8(&r) & MAX_SPLITS, split[MAX_SPLITS + 1];
    for (size_t i = 0; i < nsplit; i++)
        split[i] = rd_u16(&r);

    struct buf out = {0};
    struct want want = {0}, *w = NULL;
    if (structured) {
        build_answer(&r, head, big, &out, &want);
        w = &want;
    } else {
        buf_add(&out, r.p, r.n);
    }
    for (size_t i = 0; i < nsplit; i++)
        split[i] %= out.n + 1;
    split[nsplit] = out.n;
    qsort(split, nsplit, sizeof split[0], cmp_size);

    struct sg_backend_worker *bw = sg_backend_worker_create(base, &backend, 0);
    struct got g = {.in_start = true, .want = w};
    if (fetch) {
        sg_fetch_start(bw, TASK_ID, 3000, on_fetch, &g);
    } else {
        struct sg_http_req req = {.method = head ? "HEAD" : "GET", .path = sg_xstrdup("/t")};
        sg_call_start(bw, &req, on_call, &g);
    }
    g.in_start = false;
    if (g.called_in_start)
        abort();

    struct peer first = {.fd = -1}, unused;
    struct peer *p = await_request(&first, &unused);
    /* Every piece is written, even after the answer is complete: what
     * follows an answer is part of the input. */
    size_t at = 0;
    for (size_t i = 0; i <= nsplit; i++) {
        if (split[i] > at) {
            send_all(p->fd, (const uint8_t *)out.p + at, split[i] - at);
            at = split[i];
        }
        loop_once();
    }
    loop_once();
    if (keep && g.calls) {
        /* Answered with the connection open: it may be reused. */
        second_request(bw, p, !big && (flags & F_DROP));
    } else {
        if (!structured && (flags & F_RST)) {
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        peer_close(p);
        run_until_called(&g);
    }
    peer_close(p);

    if (fetch)
        check_fetch(&g, w);
    else
        check_call(&g, head, out.n, w);

    sg_backend_worker_destroy(bw);
    /* Let the freed connections' last events run; nothing may call back. */
    loop_once();
    if (g.calls != 1)
        abort();
    sg_normalized_clear(&g.norm);
    free(g.body);
    free(out.p);
    return 0;
}
