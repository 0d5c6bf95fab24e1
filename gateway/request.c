/* The life of a task request, from evhtp's callback to its one reply.
 *
 *   route      GET|HEAD /api/snapservice/tasks/{task}; decode one segment, validate the id
 *   AUTH       the provider chain: OK(principal) / DECLINED / DENIED / AGAIN
 *   ALLOW      auth.allow, when set
 *   LOOKUP     the local tier; a fresh hit replies at once, without any JSON work
 *   FETCH      a miss joins the in-flight fetch for the task, or leads a new one
 *   STORE      the leader's answer is rendered once, stored by status, and every
 *              waiter is answered from the same bytes (gateway/flight.c)
 *   FINISH     exactly once: reply, resume evhtp, access log, drop references
 *
 * Refcounting: evhtp holds one reference (dropped by its request-fini hook) and
 * each pending asynchronous operation holds one, taken before the call that
 * starts it. Only finish() replies; a late callback sees `finished` and only
 * drops its reference. Every paused request has a deadline timer.
 *
 * Completions (flight, shared tier, auth) are never delivered inside the call
 * that started them: each layer defers them to a later loop turn. Debug builds
 * assert it (`calling`), because a completion run inside the call finishes and
 * frees the request under the caller's feet.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <evhtp/evhtp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "access_log.h"
#include "conn.h"
#include "backend_route.h"
#include "flight.h"
#include "metrics.h"
#include "reply.h"
#include "request.h"
#include "pairs.h"
#include "router.h"
#include "throttle.h"
#include "ttl.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "snapgate/module.h"
#include "worker.h"
#include "wstate.h"

struct sg_request {
    int refs;
    bool finished;
    bool paused;
    bool in_http_callback; /* inside sg_request_on_http: evhtp is parsing */
    unsigned calling;      /* calls under way that take a completion for this request */
    evhtp_request_t *ev;   /* NULL once evhtp has freed the request */
    struct sg_wstate *ws;
    struct event *deadline;
    struct event *delay_timer; /* a throttled attempt or 401 waits on it */
    /* Failed-login protection (gateway/throttle.h): the keys, built once. */
    bool thr_built;
    bool thr_waited;    /* held: waited before its check, its 401 does not wait again */
    bool thr_refused;   /* held past the bound: a 401 after the wait, never checked */
    bool thr_pair_slot; /* a held slot to give back (sg_throttle_release) */
    bool thr_addr_slot;
    /* "ip:ADDR", "user:NAME", "pair:ADDR\x1fNAME"; "" when not known */
    char thr_addr[INET6_ADDRSTRLEN + 8];
    char thr_user[SG_PRINCIPAL_NAME_MAX + 8];
    char thr_pair[INET6_ADDRSTRLEN + SG_PRINCIPAL_NAME_MAX + 8];
    uint64_t started_us;
    struct sg_auth_set *auth;           /* the chain this request is checked by, held */
    const struct sg_auth_inst *auth_by; /* the provider asked last */
    size_t auth_next;
    struct sg_principal principal;
    bool authenticated;
    bool head;
    char method[8];
    char id[80];
    char task[SG_TASK_ID_MAX + 1];
    char cache_key[SG_FLIGHT_KEY_MAX + 1]; /* the task, or task and backend (header routing) */
    char *path;                            /* as received, for the access log */

    struct sg_flight_waiter waiter; /* membership in a flight while fetching */
    struct sg_cache_entry *stale;   /* newest expired entry seen, for stale_if_error */
    bool shared_failed;             /* the shared tier failed: answer BYPASS */
    bool pair_unknown;    /* delegated: the backend has not yet said whether this caller may */
    bool reauthenticated; /* delegated: the one fresh exchange after a refused session is used */
    int backend_index;    /* the backend the request is bound to (header, delegation), -1 none */

    const char *why; /* why a 5xx answer, for its error line; NULL: the backend failed */

    /* what the access log says */
    int status;
    const char *cache;
    const char *backend;
    int upstream_status;
    uint64_t upstream_ms;
};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void request_put(struct sg_request *r)
{
    if (--r->refs > 0)
        return;
    if (r->deadline)
        event_free(r->deadline);
    if (r->delay_timer)
        event_free(r->delay_timer);
    sg_principal_clear(&r->principal);
    sg_auth_set_put(r->auth);
    sg_cache_entry_put(r->stale);
    free(r->path);
    free(r);
}

static void throttle_release(struct sg_request *r);

/* evhtp frees its request when the reply is written or the connection dies;
 * after this we may no longer touch r->ev. */
static evhtp_res on_evhtp_request_fini(evhtp_request_t *ev, void *arg)
{
    struct sg_request *r = arg;
    sg_conn_request_done(ev);
    r->ev = NULL;
    if (!r->finished) {
        /* The connection went away under a paused request: nobody to answer. */
        r->finished = true;
        r->status = 499;
        sg_flight_leave(&r->waiter);
        if (r->delay_timer && evtimer_pending(r->delay_timer, NULL)) {
            /* A throttled wait has nobody to answer: end it now, for the loop
             * may never run its timer again (a drain timeout stops it). */
            event_del(r->delay_timer);
            throttle_release(r);
            r->refs--; /* the timer's; evhtp's own is dropped below */
        }
        if (r->paused) {
            r->ws->requests_in_flight--;
            sg_worker_request_finished(r->ws);
        }
    }
    request_put(r);
    return EVHTP_RES_OK;
}

static void add_header(evhtp_request_t *ev, const char *name, const char *value, bool copy_value)
{
    evhtp_headers_add_header(ev->headers_out, evhtp_header_new(name, value, 0, copy_value ? 1 : 0));
}

static void log_access(struct sg_request *r)
{
    struct sg_access_rec rec = {
        .request_id = r->id,
        .method = r->method,
        .path = r->path,
        .status = r->status,
        .cache = r->cache,
        .backend = r->backend,
        .user = r->authenticated ? r->principal.name : "-",
        .upstream_status = r->upstream_status,
        .duration_us = now_us() - r->started_us,
        .upstream_ms = r->upstream_ms,
    };
    sg_access_log(&rec);
    sg_metrics_request(r->ws, r->status, rec.duration_us);
}

/* A call that takes a completion for r: the caller has taken the completion's
 * reference already. */
#define CALL_BEGIN(r) ((r)->calling++)
#define CALL_END(r) ((r)->calling--)
#define ASSERT_NOT_INSIDE_CALL(r)                                                                  \
    assert((r)->calling == 0 && "a completion ran inside the call that started it")

/* The reference taken for a completion that will not come (the call answered
 * synchronously). Never the last: the caller's frame holds another. */
static void drop_unused_ref(struct sg_request *r)
{
    assert(r->refs > 1);
    r->refs--;
}

/* Lets evhtp read the connection again after the answer. libevhtp 1.2.18
 * parses one request per read callback and goes on with pipelined bytes only
 * by resuming a paused request ("ODDITY, resuming when not paused" otherwise,
 * and the next request is never parsed). So a request answered inside evhtp's
 * callback while more bytes wait is paused and resumed at once: evhtp parses
 * the next request once this answer is written, in order. A lone request
 * (the usual case) costs nothing extra. */
static void resume_reading(struct sg_request *r)
{
    if (r->in_http_callback) {
        if (!r->paused && !sg_conn_has_pipelined(r->ev))
            return;
        evhtp_request_pause(r->ev);
        evhtp_request_resume(r->ev);
    } else if (r->paused) {
        evhtp_request_resume(r->ev);
    }
}

/* Sends what is staged in r->ev with status, then lets evhtp go on. */
static void finish(struct sg_request *r, int status)
{
    if (r->finished)
        return;
    r->finished = true;
    r->status = status;
    if (r->deadline)
        event_del(r->deadline);
    sg_flight_leave(&r->waiter);
    if (r->ev) {
        if (r->ws->draining)
            add_header(r->ev, "Connection", "close", false);
        evhtp_send_reply(r->ev, (evhtp_res)status);
        resume_reading(r);
    }
    log_access(r);
    if (r->paused) {
        r->ws->requests_in_flight--;
        sg_worker_request_finished(r->ws);
    }
}

static void stage_common_headers(struct sg_request *r)
{
    add_header(r->ev, "X-Request-Id", r->id, true);
}

/* A 5xx is the gateway's or a backend's failure, not the caller's: one line
 * that carries the request id, to be found next to its access line. */
static void log_failure(const struct sg_request *r, int status)
{
    if (r->why)
        sg_log_req(SG_LOG_WARN, "request", r->id, "answered %d: %s", status, r->why);
    else
        sg_log_req(SG_LOG_WARN, "request", r->id,
                   "answered %d: backend %s failed (upstream status %d)", status, r->backend,
                   r->upstream_status);
}

static void finish_error(struct sg_request *r, enum sg_error e)
{
    if (r->finished)
        return;
    const struct sg_error_reply *er = sg_error_reply(e);
    if (er->status >= 500)
        log_failure(r, er->status);
    if (r->ev) {
        stage_common_headers(r);
        add_header(r->ev, "Content-Type", "application/json", false);
        if (e == SG_E_UNAUTHENTICATED && r->auth)
            add_header(r->ev, "WWW-Authenticate", r->auth->challenge, false);
        if (e == SG_E_BAD_METHOD)
            add_header(r->ev, "Allow", "GET, HEAD", false);
        if (r->cache) {
            add_header(r->ev, "X-Cache", r->cache, false);
            add_header(r->ev, "Cache-Control", "private, max-age=0", false);
        }
        if (r->head) {
            char len[24];
            snprintf(len, sizeof(len), "%zu", er->len);
            add_header(r->ev, "Content-Length", len, true);
        } else {
            evbuffer_add_reference(r->ev->buffer_out, er->body, er->len, NULL, NULL);
        }
    }
    finish(r, er->status);
}

static void on_entry_bytes_sent(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    sg_cache_entry_put(arg);
}

static void reply_entry(struct sg_request *r, struct sg_cache_entry *e, const char *cache)
{
    if (r->finished)
        return;
    r->cache = cache;
    if (!r->ev) {
        finish(r, e->http_status);
        return;
    }
    evhtp_request_t *ev = r->ev;
    uint64_t now = sg_wall_ms();
    uint64_t max_age = e->expires_at_ms > now ? (e->expires_at_ms - now) / 1000u : 0;
    char cc[48];
    snprintf(cc, sizeof(cc), "private, max-age=%" PRIu64, max_age);
    char len[24];
    snprintf(len, sizeof(len), "%zu", e->len);

    stage_common_headers(r);
    add_header(ev, "Content-Type", "application/json", false);
    add_header(ev, "ETag", e->etag, true);
    add_header(ev, "Cache-Control", cc, true);
    add_header(ev, "X-Cache", cache, false);
    if (strcmp(cache, "MISS") != 0 && strcmp(cache, "BYPASS") != 0) {
        /* How long ago the backend gave this answer (RFC 9111 Age). */
        char age[24];
        snprintf(age, sizeof(age), "%" PRIu64,
                 now > e->fetched_at_ms ? (now - e->fetched_at_ms) / 1000u : 0);
        add_header(ev, "Age", age, true);
    }

    const char *inm = evhtp_header_find(ev->headers_in, "If-None-Match");
    if (e->http_status == 200 && inm && sg_etag_matches(inm, e->etag)) {
        add_header(ev, "Content-Length", len, true);
        finish(r, 304);
        return;
    }
    if (r->head) {
        add_header(ev, "Content-Length", len, true);
    } else {
        /* Zero-copy: the buffer references the entry's bytes and holds a ref. */
        evbuffer_add_reference(ev->buffer_out, e->body, e->len, on_entry_bytes_sent,
                               sg_cache_entry_get(e));
    }
    finish(r, e->http_status);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_request *r = arg;
    r->why = "the request deadline passed before an answer";
    if (!r->cache)
        r->cache = "MISS";
    finish_error(r, SG_E_UNAVAILABLE);
}

/* Called before the first asynchronous step: evhtp stops reading the
 * connection and the deadline starts. */
static void go_async(struct sg_request *r)
{
    if (r->paused)
        return;
    r->paused = true;
    r->ws->requests_in_flight++;
    evhtp_request_pause(r->ev);
    r->deadline = evtimer_new(r->ws->base, on_deadline, r);
    struct timeval tv = sg_timeval_ms(r->ws->deadline_ms);
    evtimer_add(r->deadline, &tv);
}

/* The flight's answer for one waiter. */
/* Within stale_if_error past its freshness, an old answer beats an error. */
static bool stale_usable(const struct sg_request *r)
{
    const struct sg_cache_entry *e = r->stale;
    uint64_t now = sg_wall_ms();
    return e && e->http_status == 200 && now < e->expires_at_ms + r->ws->conf->stale_if_error_ms;
}

static void auth_continue(struct sg_request *r);

/* Who a delegated caller is for the pairs: the name and the backend that
 * vouched for it (the same name on two vCenters is two callers). */
static const char *pair_who(const struct sg_request *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s\x1f%s", r->principal.name, r->principal.upstream_backend);
    return buf;
}

/* A delegated caller's own fetch also says what the backend lets it read.
 * Only a 200 is a permission: a 404 may be what this caller alone is shown. */
static bool delegated_answer(struct sg_request *r, const struct sg_flight_answer *a)
{
    struct sg_wstate *ws = r->ws;
    if (!r->principal.upstream_session || a->outcome < 0)
        return false;
    char who[SG_PRINCIPAL_NAME_MAX + SG_CACHE_OWNER_MAX + 2];
    pair_who(r, who, sizeof(who));
    if (a->outcome == SG_OUT_INFO) {
        sg_pairs_set(&ws->pairs, who, r->task, SG_PAIR_ALLOWED);
    } else if (a->outcome == SG_OUT_NOT_FOUND) {
        sg_pairs_set_for(&ws->pairs, who, r->task, SG_PAIR_NOT_FOUND, sg_ttl_not_found(ws->conf));
    } else if (a->outcome == SG_OUT_UNAUTHORIZED) {
        sg_pairs_set(&ws->pairs, who, r->task, SG_PAIR_DENIED);
    } else if (a->outcome == SG_OUT_UNAUTHENTICATED) {
        /* The caller's session ended: what vouched for it is void. A caller
         * who sent credentials gets one fresh exchange and one more try
         * (SNAPSERVICE.md section 4); a caller who sent the session itself,
         * or whose fresh session is refused too, gets the 401: the caller's
         * problem, not an operator's. */
        if (r->auth_by && r->auth_by->ops->reject)
            r->auth_by->ops->reject(r->auth_by->inst, &r->principal);
        bool by_credential = r->ev && evhtp_header_find(r->ev->headers_in, "Authorization");
        if (by_credential && !r->reauthenticated && r->auth_by) {
            r->reauthenticated = true;
            sg_principal_clear(&r->principal);
            r->authenticated = false;
            r->pair_unknown = false;
            r->auth_next = (size_t)(r->auth_by - r->auth->v);
            auth_continue(r);
            return true;
        }
        finish_error(r, SG_E_UNAUTHENTICATED);
        return true;
    }
    return false;
}

static void on_flight_answer(struct sg_flight_waiter *w, const struct sg_flight_answer *a)
{
    struct sg_request *r = w->owner;
    ASSERT_NOT_INSIDE_CALL(r);
    r->upstream_status = a->upstream_status;
    r->upstream_ms = a->upstream_ms;
    r->backend = a->backend;
    if (delegated_answer(r, a)) {
        request_put(r);
        return;
    }
    if (a->entry) {
        reply_entry(r, a->entry, r->shared_failed ? "BYPASS" : a->cache);
        if (r->shared_failed)
            sg_metrics_cache(r->ws, "bypass");
    } else if (a->stale_ok && stale_usable(r) && !r->pair_unknown) {
        sg_metrics_cache(r->ws, "stale");
        reply_entry(r, r->stale, "STALE");
    } else {
        if (strcmp(a->backend, "-") == 0)
            r->why = "the fetch was cancelled (the worker is stopping)";
        finish_error(r, a->error);
    }
    request_put(r);
}

/* Keeps the newest entry seen past its freshness, for stale_if_error. */
static void keep_stale(struct sg_request *r, struct sg_cache_entry *e)
{
    if (!e)
        return;
    if (r->stale && r->stale->fetched_at_ms >= e->fetched_at_ms) {
        sg_cache_entry_put(e);
        return;
    }
    sg_cache_entry_put(r->stale);
    r->stale = e;
}

static void fetch(struct sg_request *r)
{
    struct sg_wstate *ws = r->ws;
    if (!r->cache)
        r->cache = "MISS";
    if (ws->nbackends == 0) {
        r->why = "no backend is configured";
        finish_error(r, SG_E_UNAVAILABLE);
        return;
    }
    go_async(r);
    r->waiter.owner = r;
    r->waiter.on_answer = on_flight_answer;
    struct sg_flight_ask ask = {
        .task = r->task,
        .cache_key = r->cache_key,
        .caller = r->principal.name,
        .session = r->principal.upstream_session,
        .backend = r->backend_index,
        .shared_failed = r->shared_failed,
        .completed_floor = r->stale ? r->stale->completed : -1,
    };
    /* Fan-out: a task whose owner is known (kept with its expired entry) is
     * asked of that backend alone. */
    if (ask.backend < 0 && r->stale && r->stale->owner[0] && ws->conf->backends_n > 1)
        ask.backend = sg_backend_index(ws->conf, r->stale->owner);
    r->refs++; /* the flight's answer's */
    CALL_BEGIN(r);
    bool joined = sg_flight_join(ws, &ask, &r->waiter);
    CALL_END(r);
    if (!joined) {
        drop_unused_ref(r);
        r->why = "the worker is stopping";
        finish_error(r, SG_E_UNAVAILABLE);
    }
}

/* The shared tier's answer (or failure) for this request's lookup. */
static void shared_looked_up(struct sg_request *r, int rc, struct sg_cache_entry *e)
{
    struct sg_wstate *ws = r->ws;
    if (ws->stopping) {
        sg_cache_entry_put(e);
        r->why = "the worker is stopping";
        finish_error(r, SG_E_UNAVAILABLE);
        return;
    }
    if (rc == SG_OK) {
        sg_metrics_cache(ws, "hit");
        sg_flight_store_from_shared(ws, r->cache_key, e);
        reply_entry(r, e, "HIT");
        sg_cache_entry_put(e);
        return;
    }
    if (rc == SG_DECLINED) {
        sg_metrics_cache(ws, "miss");
        keep_stale(r, e);
        fetch(r);
        return;
    }
    /* The cache fails open (bypass) unless the operator asked for 503. */
    sg_cache_entry_put(e);
    sg_metrics_cache(ws, "error");
    if (ws->conf->redis_on_error == SG_REDIS_REJECT) {
        r->cache = "BYPASS";
        r->why = "the shared cache failed (redis.on_error: reject)";
        finish_error(r, SG_E_UNAVAILABLE);
        return;
    }
    r->shared_failed = true;
    r->cache = "BYPASS";
    fetch(r);
}

static void on_shared_get(int rc, struct sg_cache_entry *e, void *arg)
{
    struct sg_request *r = arg;
    ASSERT_NOT_INSIDE_CALL(r);
    if (r->finished)
        sg_cache_entry_put(e);
    else
        shared_looked_up(r, rc, e);
    request_put(r);
}

static void lookup(struct sg_request *r)
{
    struct sg_wstate *ws = r->ws;
    struct sg_cache_entry *e = NULL;
    int rc = ws->local_ops->get(ws->local, r->cache_key, &e, NULL, NULL);
    if (rc == SG_OK) {
        sg_metrics_cache(ws, "hit");
        reply_entry(r, e, "HIT");
        sg_cache_entry_put(e);
        return;
    }
    keep_stale(r, e);
    if (!ws->shared_ops) {
        sg_metrics_cache(ws, "miss");
        fetch(r);
        return;
    }
    e = NULL;
    r->refs++; /* on_shared_get's */
    CALL_BEGIN(r);
    rc = ws->shared_ops->get(ws->shared, r->cache_key, &e, on_shared_get, r);
    CALL_END(r);
    if (rc == SG_AGAIN) {
        if (!r->finished)
            go_async(r);
        return;
    }
    drop_unused_ref(r);
    shared_looked_up(r, rc, e);
}

/* Binds the request to a backend where something names one: the header
 * (routing.strategy header) or the provider that vouched for a delegated
 * caller. Answers the request and returns false when it cannot be bound. */
static bool bind_backend(struct sg_request *r)
{
    const struct sg_conf *c = r->ws->conf;
    r->backend_index = -1;
    if (c->routing == SG_ROUTE_HEADER) {
        const char *name =
            r->ev ? evhtp_header_find(r->ev->headers_in, "X-Snapgate-Backend") : NULL;
        r->backend_index = name ? sg_backend_index(c, name) : -1;
        if (r->backend_index < 0) {
            sg_log_debug("request", "request %s: X-Snapgate-Backend %s", r->id,
                         name ? "names no configured backend" : "is missing");
            finish_error(r, SG_E_BAD_BACKEND);
            return false;
        }
    }
    if (r->principal.upstream_backend) {
        int own = sg_backend_index(c, r->principal.upstream_backend);
        /* The caller's session is good on its own backend only. */
        if (own < 0 || (c->routing == SG_ROUTE_HEADER && own != r->backend_index)) {
            finish_error(r, SG_E_UNAUTHORIZED);
            return false;
        }
        r->backend_index = own;
    }
    sg_flight_cache_key(c, r->task, r->backend_index, r->cache_key, sizeof(r->cache_key));
    return true;
}

static void authenticated(struct sg_request *r)
{
    r->authenticated = true;
    if (!sg_auth_set_allows(r->auth, &r->principal)) {
        finish_error(r, SG_E_UNAUTHORIZED);
        return;
    }
    if (!bind_backend(r))
        return;
    if (r->principal.upstream_session) {
        /* Delegated: a cached answer is this caller's only once the backend
         * has let this caller read this task. */
        char who[SG_PRINCIPAL_NAME_MAX + SG_CACHE_OWNER_MAX + 2];
        switch (sg_pairs_get(&r->ws->pairs, pair_who(r, who, sizeof(who)), r->task)) {
        case SG_PAIR_DENIED:
            finish_error(r, SG_E_UNAUTHORIZED);
            return;
        case SG_PAIR_NOT_FOUND:
            /* What the backend told this caller, remembered for ttl.not_found. */
            r->cache = "HIT";
            finish_error(r, SG_E_NOT_FOUND);
            return;
        case SG_PAIR_UNKNOWN:
            r->pair_unknown = true;
            fetch(r);
            return;
        case SG_PAIR_ALLOWED:
            break;
        }
    }
    lookup(r);
}

static void on_auth_delay(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_request *r = arg;
    ASSERT_NOT_INSIDE_CALL(r);
    finish_error(r, SG_E_UNAUTHENTICATED);
    request_put(r);
}

/* The user name of a Basic credential, for throttling; "" when none. */
static void basic_user(const char *hdr, char *out, size_t cap)
{
    out[0] = '\0';
    if (!hdr || strncasecmp(hdr, "Basic ", 6) != 0)
        return;
    const char *b64 = hdr + 6;
    while (*b64 == ' ')
        b64++;
    size_t len = strlen(b64);
    if (len == 0 || len > 1024)
        return;
    unsigned char buf[1024];
    int n = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)len);
    if (n <= 0)
        return;
    const unsigned char *colon = memchr(buf, ':', (size_t)n);
    size_t ulen = colon ? (size_t)(colon - buf) : 0;
    if (ulen > 0 && ulen < cap) {
        memcpy(out, buf, ulen);
        out[ulen] = '\0';
    }
    OPENSSL_cleanse(buf, sizeof(buf)); /* it held the password too */
}

/* Builds the request's throttle keys once (gateway/throttle.h). The address
 * alone is no secret; the user name comes out of the Basic credential, and
 * the pair needs both. */
static void throttle_keys(struct sg_request *r)
{
    if (r->thr_built || !r->ev)
        return;
    r->thr_built = true;
    char host[INET6_ADDRSTRLEN] = "";
    evhtp_connection_t *c = evhtp_request_get_connection(r->ev);
    const struct sockaddr *sa = c ? c->saddr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof(host));
    if (host[0])
        snprintf(r->thr_addr, sizeof(r->thr_addr), "ip:%s", host);
    char name[SG_PRINCIPAL_NAME_MAX];
    basic_user(evhtp_header_find(r->ev->headers_in, "Authorization"), name, sizeof(name));
    if (name[0])
        snprintf(r->thr_user, sizeof(r->thr_user), "user:%s", name);
    /* The address never holds 0x1f, so the pair cannot be forged from a name. */
    if (host[0] && name[0])
        snprintf(r->thr_pair, sizeof(r->thr_pair), "pair:%s\x1f%s", host, name);
    OPENSSL_cleanse(name, sizeof(name)); /* a name is no secret, but it came with one */
}

/* Gives back the held slots this attempt took, once its check is over. */
static void throttle_release(struct sg_request *r)
{
    if (r->thr_pair_slot)
        sg_throttle_release(&r->ws->failures, r->thr_pair);
    if (r->thr_addr_slot)
        sg_throttle_release(&r->ws->failures, r->thr_addr);
    r->thr_pair_slot = r->thr_addr_slot = false;
}

/* Pauses the request for ms, then fn runs (holding a reference). The wait (at
 * most SG_THROTTLE_MAX_DELAY_MS) bounds itself: the fetch deadline must not
 * turn a throttled answer into a 503. */
static void throttle_wait(struct sg_request *r, uint64_t ms, event_callback_fn fn)
{
    go_async(r);
    event_del(r->deadline);
    r->refs++;
    if (r->delay_timer)
        event_free(r->delay_timer); /* it fired: a request waits at most once at a time */
    r->delay_timer = evtimer_new(r->ws->base, fn, r);
    struct timeval tv = sg_timeval_ms(ms);
    evtimer_add(r->delay_timer, &tv);
}

/* A held attempt has waited: a refused one is answered 401 unchecked, the
 * others are checked now, with the usual deadline from here on. */
static void on_throttle_wait(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_request *r = arg;
    ASSERT_NOT_INSIDE_CALL(r);
    if (r->finished || r->thr_refused) {
        throttle_release(r);
        finish_error(r, SG_E_UNAUTHENTICATED);
    } else {
        struct timeval tv = sg_timeval_ms(r->ws->deadline_ms);
        evtimer_add(r->deadline, &tv);
        auth_continue(r);
    }
    request_put(r);
}

/* Before any provider sees the credential: a Basic attempt on a held pair or
 * address waits as long as its failure would, whether it turns out right,
 * wrong or remembered, so the time of the answer tells a guesser nothing. */
static void auth_start(struct sg_request *r)
{
    struct sg_wstate *ws = r->ws;
    /* Nothing failed lately on this worker: the usual request pays nothing. */
    if (sg_throttle_count(&ws->failures) == 0) {
        auth_continue(r);
        return;
    }
    throttle_keys(r);
    if (!r->thr_pair[0]) {
        auth_continue(r);
        return;
    }
    uint64_t now = sg_now_ms(), wait_pair, wait_addr;
    enum sg_throttle_hold pair =
        sg_throttle_admit(&ws->failures, r->thr_pair, SG_THROTTLE_PAIR_HOLD,
                          SG_THROTTLE_PAIR_PENDING, now, &wait_pair);
    enum sg_throttle_hold addr =
        sg_throttle_admit(&ws->failures, r->thr_addr, SG_THROTTLE_ADDR_HOLD,
                          SG_THROTTLE_ADDR_PENDING, now, &wait_addr);
    if (pair == SG_THROTTLE_FREE && addr == SG_THROTTLE_FREE) {
        auth_continue(r);
        return;
    }
    r->thr_pair_slot = pair == SG_THROTTLE_HELD;
    r->thr_addr_slot = addr == SG_THROTTLE_HELD;
    if (pair == SG_THROTTLE_REFUSED || addr == SG_THROTTLE_REFUSED) {
        throttle_release(r); /* never checked: no slot needed */
        r->thr_refused = true;
    }
    /* Whichever key would make its failure wait longest. */
    uint64_t wait = wait_pair > wait_addr ? wait_pair : wait_addr;
    const char *keys[] = {r->thr_pair, r->thr_addr, r->thr_user};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        uint64_t d = sg_throttle_next_delay(&ws->failures, keys[i], now);
        wait = d > wait ? d : wait;
    }
    r->thr_waited = true;
    throttle_wait(r, wait, on_throttle_wait);
}

/* A 401. Repeated failures from one address, for one user name, or of the
 * pair wait a bounded, growing delay first (gateway/throttle.h); an attempt
 * that waited before its check has served that delay already. */
static void auth_failed(struct sg_request *r)
{
    struct sg_wstate *ws = r->ws;
    uint64_t delay = 0, now = sg_now_ms();
    throttle_release(r);
    /* Only presented credentials count: a client that first asks without
     * any (and learns the schemes from WWW-Authenticate) is not guessing. */
    bool presented = r->ev && (evhtp_header_find(r->ev->headers_in, "Authorization") ||
                               evhtp_header_find(r->ev->headers_in, "vmware-api-session-id"));
    if (presented) {
        throttle_keys(r);
        const char *keys[] = {r->thr_addr, r->thr_user, r->thr_pair};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            uint64_t d = keys[i][0] ? sg_throttle_fail(&ws->failures, keys[i], now) : 0;
            delay = d > delay ? d : delay;
        }
    }
    if (delay == 0 || r->thr_waited || !r->ev) {
        finish_error(r, SG_E_UNAUTHENTICATED);
        return;
    }
    throttle_wait(r, delay, on_auth_delay);
}

static void auth_continue(struct sg_request *r);

static void on_auth_done(int rc, struct sg_principal *p, void *arg)
{
    (void)p;
    struct sg_request *r = arg;
    ASSERT_NOT_INSIDE_CALL(r);
    if (r->finished || rc != SG_DECLINED)
        throttle_release(r); /* the check is over (DECLINED: the next provider's is not) */
    if (!r->finished) {
        if (rc == SG_OK) {
            authenticated(r);
        } else if (rc == SG_DECLINED) {
            r->auth_next++;
            auth_continue(r);
        } else if (rc == SG_ERR) {
            r->why = "an auth provider could not check the credentials";
            finish_error(r, SG_E_UNAVAILABLE);
        } else {
            auth_failed(r);
        }
    }
    request_put(r);
}

static void auth_continue(struct sg_request *r)
{
    const char *hdr = r->ev ? evhtp_header_find(r->ev->headers_in, "Authorization") : NULL;
    /* A vCenter session id stands in for credentials with providers that
     * take one (vcenter). */
    const char *sid =
        !hdr && r->ev ? evhtp_header_find(r->ev->headers_in, "vmware-api-session-id") : NULL;
    for (; r->auth_next < r->auth->n; r->auth_next++) {
        const struct sg_auth_inst *a = &r->auth->v[r->auth_next];
        r->auth_by = a;
        r->refs++; /* on_auth_done's */
        CALL_BEGIN(r);
        int rc = sid && a->ops->authenticate_session
                     ? a->ops->authenticate_session(a->inst, sid, &r->principal, on_auth_done, r)
                     : a->ops->authenticate(a->inst, hdr, hdr ? strlen(hdr) : 0, &r->principal,
                                            on_auth_done, r);
        CALL_END(r);
        if (rc == SG_AGAIN) {
            if (!r->finished)
                go_async(r);
            return;
        }
        drop_unused_ref(r);
        if (rc != SG_DECLINED)
            throttle_release(r); /* the check is over */
        if (rc == SG_OK) {
            authenticated(r);
            return;
        }
        if (rc == SG_ERR) {
            /* The provider could not decide (overload): fail closed, but say
             * it is us, not the caller's credentials. */
            r->why = "an auth provider could not check the credentials";
            finish_error(r, SG_E_UNAVAILABLE);
            return;
        }
        if (rc != SG_DECLINED)
            break; /* DENIED: fail closed */
    }
    auth_failed(r);
}

/* The client's X-Request-Id when it is short and printable, else a new one. */
static void choose_request_id(struct sg_request *r)
{
    const char *given = evhtp_header_find(r->ev->headers_in, "X-Request-Id");
    if (given) {
        size_t n = strlen(given);
        bool ok = n > 0 && n < sizeof(r->id);
        for (size_t i = 0; ok && i < n; i++)
            ok = given[i] > 0x20 && given[i] < 0x7f && given[i] != '"' && given[i] != '\\';
        if (ok) {
            memcpy(r->id, given, n + 1);
            return;
        }
    }
    sg_request_id_new(r->ws, r->id, sizeof(r->id));
}

static void begin(struct sg_request *r, evhtp_request_t *ev);

void sg_request_on_http(evhtp_request_t *ev, void *arg)
{
    struct sg_wstate *ws = arg;
    struct sg_request *r = sg_xcalloc(1, sizeof(*r));
    r->ws = ws;
    r->refs = 1; /* evhtp's, dropped in on_evhtp_request_fini (never inside this call) */
    r->in_http_callback = true;
    begin(r, ev);
    r->in_http_callback = false;
}

/* Everything evhtp's callback does, up to the first asynchronous step. */
static void begin(struct sg_request *r, evhtp_request_t *ev)
{
    struct sg_wstate *ws = r->ws;
    r->ev = ev;
    r->started_us = now_us();
    r->cache = NULL;
    r->backend = "-";
    r->backend_index = -1;
    evhtp_request_set_hook(ev, evhtp_hook_on_request_fini, (evhtp_hook)on_evhtp_request_fini, r);
    sg_conn_request_started(ev);

    const char *method = htparser_get_methodstr_m(evhtp_request_get_method(ev));
    snprintf(r->method, sizeof(r->method), "%s", method ? method : "?");
    const char *path = ev->uri && ev->uri->path && ev->uri->path->full ? ev->uri->path->full : "";
    r->path = sg_xstrdup(path);
    r->head = strcmp(r->method, "HEAD") == 0;
    choose_request_id(r);

    const char *why = NULL;
    switch (sg_route_request(r->method, path, r->task, &why)) {
    case SG_ROUTE_NOT_FOUND:
        finish_error(r, SG_E_NO_ROUTE);
        return;
    case SG_ROUTE_BAD_METHOD:
        finish_error(r, SG_E_BAD_METHOD);
        return;
    case SG_ROUTE_BAD_ID:
        if (sg_log_get_level() >= SG_LOG_DEBUG)
            sg_log_req(SG_LOG_DEBUG, "request", r->id, "malformed task id: %s", why);
        finish_error(r, SG_E_INVALID_ARGUMENT);
        return;
    case SG_ROUTE_TASK:
        break;
    }
    r->auth = sg_auth_set_get(ws->auth);
    auth_start(r);
}

void sg_request_purge_local(struct sg_wstate *ws, const char *task)
{
    ws->local_ops->del(ws->local, task);
}
