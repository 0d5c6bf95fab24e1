/* Answering a request: the headers every answer carries, the vAPI error
 * bodies, entries sent zero-copy from the cache, the one finish() that sends,
 * resumes evhtp (pipelining included) and writes the access line. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <evhtp/evhtp.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth_set.h"
#include "obs/access_log.h"
#include "http/conn.h"
#include "http/reply_head.h"
#include "http/write_now.h"
#include "obs/metrics.h"
#include "http/request_int.h"
#include "http/router.h"
#include "worker/worker.h"
#include "worker/wstate.h"
#include "snapgate/common.h"
#include "snapgate/log.h"

static void add_header(evhtp_request_t *ev, const char *name, const char *value, bool copy_value)
{
    evhtp_headers_add_header(ev->headers_out, evhtp_header_new(name, value, 0, copy_value ? 1 : 0));
}

/* What a JSON-RPC answer said (its HTTP status is always 200). */
static const char *rpc_outcome(const struct sg_request *r, char *buf, size_t cap)
{
    if (r->rpc_protocol_error) {
        snprintf(buf, cap, "%d", r->rpc_protocol_error);
        return buf;
    }
    return r->rpc_error < 0 ? "ok" : sg_error_reply((enum sg_error)r->rpc_error)->error_type;
}

static void log_access(struct sg_request *r)
{
    char outcome[40];
    struct sg_access_rec rec = {
        .request_id = r->id,
        .method = r->method,
        .path = r->path,
        .status = r->status,
        .cache = r->cache,
        .backend = r->backend,
        .user = r->authenticated ? r->principal.name : "-",
        .upstream_status = r->upstream_status,
        .duration_us = req_now_us() - r->started_us,
        .upstream_ms = r->upstream_ms,
        .protocol = r->kind == SG_REQ_RPC ? "jsonrpc" : "rest",
        .outcome = r->kind == SG_REQ_RPC ? rpc_outcome(r, outcome, sizeof(outcome)) : "-",
    };
    sg_access_log(&rec);
    sg_metrics_request_as(r->ws, r->kind == SG_REQ_RPC ? SG_METRICS_JSONRPC : SG_METRICS_REST,
                          r->status, rec.duration_us);
}

/* Lets evhtp read the connection again after the answer. libevhtp 1.2.18
 * parses one request per read callback and goes on with pipelined bytes only
 * by resuming a paused request ("ODDITY, resuming when not paused" otherwise,
 * and the next request is never parsed). So a request answered inside evhtp's
 * callback while more bytes wait is paused and resumed at once: evhtp parses
 * the next request once this answer is written, in order. A lone request
 * (the usual case) costs nothing extra. */
static void resume_reading(struct sg_request *r, bool written_raw)
{
    if (r->in_http_callback) {
        if (!r->paused && !sg_conn_has_pipelined(r->ev)) {
            if (written_raw)
                sg_write_now(r->ev); /* nothing follows it: out now (http/write_now.h) */
            return;
        }
        evhtp_request_pause(r->ev);
        sg_conn_before_resume(r->ev, true);
        evhtp_request_resume(r->ev);
    } else if (r->paused) {
        sg_conn_before_resume(r->ev, false);
        evhtp_request_resume(r->ev);
        if (written_raw)
            sg_write_now_resumed(r->ev); /* (http/write_now.h) */
    }
}

/* Sends what is staged in r->ev with status (or, written_raw, ends the answer
 * already written to the connection), then lets evhtp go on. */
static void finish_as(struct sg_request *r, int status, bool written_raw)
{
    if (r->finished)
        return;
    r->finished = true;
    r->status = status;
    if (r->deadline)
        event_del(r->deadline);
    sg_flight_leave(&r->waiter);
    if (r->ev && written_raw) {
        r->ev->status = (evhtp_res)status;
        evhtp_send_reply_end(r->ev); /* evhtp's write callback then ends it */
        resume_reading(r, true);
    } else if (r->ev) {
        if (r->ws->draining)
            add_header(r->ev, "Connection", "close", false);
        evhtp_send_reply(r->ev, (evhtp_res)status);
        resume_reading(r, false);
    }
    log_access(r);
    if (r->paused) {
        r->ws->requests_in_flight--;
        sg_worker_request_finished(r->ws);
    }
}

static void finish(struct sg_request *r, int status)
{
    finish_as(r, status, false);
}

void req_stage_common(struct sg_request *r)
{
    add_header(r->ev, "X-Request-Id", r->id, true);
}

void req_send(struct sg_request *r, int status)
{
    finish(r, status);
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

void req_finish_error(struct sg_request *r, enum sg_error e)
{
    if (r->finished)
        return;
    const struct sg_error_reply *er = sg_error_reply(e);
    if (er->status >= 500)
        log_failure(r, er->status);
    if (r->rpc) {
        req_rpc_reply_error(r, e);
        return;
    }
    if (r->ev) {
        req_stage_common(r);
        add_header(r->ev, "Content-Type", "application/json", false);
        if (e == SG_E_UNAUTHENTICATED && r->auth)
            add_header(r->ev, "WWW-Authenticate", r->auth->challenge, false);
        if (e == SG_E_BAD_METHOD)
            add_header(r->ev, "Allow", sg_route_allow(r->path), false);
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

bool req_raw_begin(const struct sg_request *r, struct sg_reply_head *h)
{
    const evhtp_connection_t *c = r->ev ? r->ev->conn : NULL;
    if (r->finished || r->head || r->ws->draining || !c || !c->bev || !c->parser ||
        htparser_get_major(c->parser) != 1 ||
        (r->ev->proto != EVHTP_PROTO_11 && r->ev->proto != EVHTP_PROTO_10))
        return false;
    sg_reply_head_start(h, htparser_get_minor(c->parser), "200 OK");
    sg_reply_head_add(h, "X-Request-Id", r->id);
    return true;
}

/* Content-Length, then the keep-alive headers as evhtp's reply adds them. */
struct evbuffer *req_raw_head(struct sg_request *r, struct sg_reply_head *h, size_t body_len)
{
    evhtp_request_t *ev = r->ev;
    bool keepalive = (ev->flags & EVHTP_REQ_FLAG_KEEPALIVE) != 0;
    sg_reply_head_add_u64(h, "Content-Length", "", body_len);
    if (ev->proto == EVHTP_PROTO_11 && !keepalive)
        sg_reply_head_add(h, "Connection", "close");
    else if (ev->proto == EVHTP_PROTO_10 && keepalive)
        sg_reply_head_add(h, "Connection", "keep-alive");
    sg_reply_head_end(h);
    if (h->overflow)
        return NULL;
    struct evbuffer *out = bufferevent_get_output(ev->conn->bev);
    evbuffer_add(out, h->buf, h->len);
    return out;
}

void req_raw_finish(struct sg_request *r)
{
    finish_as(r, 200, true);
}

void req_header(const struct req_headers *to, const char *name, const char *value)
{
    if (to->raw)
        sg_reply_head_add(to->raw, name, value);
    else
        add_header(to->ev, name, value, true);
}

/* A cached answer's headers after X-Request-Id, in their order, for either
 * writer (the Content-Length is the writer's). */
static void entry_headers(const struct req_headers *to, const struct sg_cache_entry *e,
                          const char *cache, uint64_t now)
{
    char text[SG_REPLY_U64_TEXT];
    req_header(to, "Content-Type", "application/json");
    req_header(to, "ETag", e->etag);
    uint64_t max_age = e->expires_at_ms > now ? (e->expires_at_ms - now) / 1000u : 0;
    req_header(to, "Cache-Control", sg_reply_u64_text(text, "private, max-age=", max_age));
    req_header(to, "X-Cache", cache);
    if (strcmp(cache, "MISS") != 0 && strcmp(cache, "BYPASS") != 0) {
        /* How long ago the backend gave this answer (RFC 9111 Age). */
        uint64_t age = now > e->fetched_at_ms ? (now - e->fetched_at_ms) / 1000u : 0;
        req_header(to, "Age", sg_reply_u64_text(text, "", age));
    }
}

void req_reply_entry(struct sg_request *r, struct sg_cache_entry *e, const char *cache)
{
    if (r->finished)
        return;
    if (r->rpc) {
        req_rpc_reply_entry(r, e, cache);
        return;
    }
    r->cache = cache;
    if (!r->ev) {
        finish(r, e->http_status);
        return;
    }
    evhtp_request_t *ev = r->ev;
    uint64_t now = sg_wall_ms();
    const char *inm = evhtp_header_find(ev->headers_in, "If-None-Match");
    bool inm_match = e->http_status == 200 && inm && sg_etag_matches(inm, e->etag);
    struct sg_reply_head h;
    struct req_headers to = {.raw = NULL, .ev = ev};
    /* The plain 200 of a hit (issue 14): the same bytes evhtp's reply would
     * write, without its allocated header list, which cost more than the rest. */
    if (!inm_match && e->http_status == 200 && e->len > 0 && req_raw_begin(r, &h)) {
        to.raw = &h;
        entry_headers(&to, e, cache, now);
        struct evbuffer *out = req_raw_head(r, &h, e->len);
        if (out) {
            evbuffer_add_reference(out, e->body, e->len, on_entry_bytes_sent,
                                   sg_cache_entry_get(e));
            req_raw_finish(r);
            return;
        }
        to.raw = NULL; /* the head did not fit: evhtp's reply after all */
    }

    char len[SG_REPLY_U64_TEXT];
    sg_reply_u64_text(len, "", e->len);
    req_stage_common(r);
    entry_headers(&to, e, cache, now);
    if (inm_match) {
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
