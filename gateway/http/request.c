/* The life of a task request, from evhtp's callback to its one reply.
 *
 *   route      GET|HEAD /api/snapservice/tasks/{task}; decode one segment, validate the id
 *              (POST /api and /snapservice: the JSON-RPC body parsed, request_rpc.c;
 *              /api/snapservice/sessions: request_session.c after AUTH)
 *   CRED       which credentials the chain checks, for every protocol (request_cred.c)
 *   AUTH       a presented session id in the session store, then the provider chain:
 *              OK(principal) / DECLINED / DENIED / AGAIN
 *   ALLOW      auth.allow, when set
 *   LOOKUP     the local tier; a fresh hit replies at once, without any JSON work
 *   FETCH      a miss joins the in-flight fetch for the task, or leads a new one
 *   STORE      the leader's answer is rendered once, stored by status, and every
 *              waiter is answered from the same bytes (gateway/cache/flight.c)
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
#include <event2/event.h>
#include <evhtp/evhtp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth_set.h"
#include "http/conn.h"
#include "http/jsonrpc_request.h"
#include "http/request.h"
#include "http/request_int.h"
#include "http/router.h"
#include "lib/spares.h"
#include "worker/worker.h"
#include "worker/wstate.h"
#include "snapgate/common.h"
#include "snapgate/log.h"

uint64_t req_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void req_put(struct sg_request *r)
{
    if (--r->refs > 0)
        return;
    if (r->deadline)
        event_free(r->deadline);
    if (r->delay_timer)
        event_free(r->delay_timer);
    sg_principal_clear(&r->principal);
    req_cred_clear(r);
    if (r->rpc)
        sg_rpc_request_clear(r->rpc);
    sg_auth_set_put(r->auth);
    sg_cache_entry_put(r->stale);
    free(r->path);
    struct sg_wstate *ws = r->ws;
    if (SG_KEEP_SPARES && ws->nspare_requests < SG_ARRAY_LEN(ws->spare_requests))
        ws->spare_requests[ws->nspare_requests++] = r;
    else
        free(r);
}

/* A zeroed request, from the worker's spares when it has one. */
static struct sg_request *request_new(struct sg_wstate *ws)
{
    if (ws->nspare_requests == 0)
        return sg_xcalloc(1, sizeof(struct sg_request));
    struct sg_request *r = ws->spare_requests[--ws->nspare_requests];
    /* rpc_storage is zero already: sg_rpc_request_clear zeroed it at the end
     * of a JSON-RPC request, and nothing else writes it. */
    memset(r, 0, offsetof(struct sg_request, rpc_storage));
    return r;
}

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
            req_throttle_release(r);
            r->refs--; /* the timer's; evhtp's own is dropped below */
        }
        if (r->paused) {
            r->ws->requests_in_flight--;
            sg_worker_request_finished(r->ws);
        }
    }
    req_put(r);
    return EVHTP_RES_OK;
}

void sg_request_conn_taken(evhtp_request_t *ev)
{
    if (!ev || !ev->hooks ||
        ev->hooks->on_request_fini != (evhtp_hook_request_fini_cb)on_evhtp_request_fini)
        return;
    void *r = ev->hooks->on_request_fini_arg;
    evhtp_request_unset_hook(ev, evhtp_hook_on_request_fini);
    on_evhtp_request_fini(ev, r);
}

/* The reference taken for a completion that will not come (the call answered
 * synchronously). Never the last: the caller's frame holds another. */
void req_drop_unused_ref(struct sg_request *r)
{
    assert(r->refs > 1);
    r->refs--;
}

bool req_call_settled(struct sg_request *r, int rc)
{
    if (rc == SG_AGAIN) {
        if (!r->finished)
            req_go_async(r);
        return false;
    }
    req_drop_unused_ref(r);
    return true;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_request *r = arg;
    r->why = "the request deadline passed before an answer";
    if (!r->cache)
        r->cache = "MISS";
    req_finish_error(r, SG_E_UNAVAILABLE);
}

/* Called before the first asynchronous step: evhtp stops reading the
 * connection and the deadline starts. */
void req_go_async(struct sg_request *r)
{
    if (r->paused)
        return;
    r->paused = true;
    r->ws->requests_in_flight++;
    sg_conn_pause(r->ev);
    r->deadline = evtimer_new(r->ws->base, on_deadline, r);
    struct timeval tv = sg_timeval_ms(r->ws->deadline_ms);
    evtimer_add(r->deadline, &tv);
}

static void begin(struct sg_request *r, evhtp_request_t *ev);

void sg_request_on_http(evhtp_request_t *ev, void *arg)
{
    struct sg_wstate *ws = arg;
    struct sg_request *r = request_new(ws);
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
    r->started_us = req_now_us();
    r->cache = NULL;
    r->backend = "-";
    r->backend_index = -1;
    evhtp_request_set_hook(ev, evhtp_hook_on_request_fini, (evhtp_hook)on_evhtp_request_fini, r);
    sg_conn_request_started(ev);

    const char *method = htparser_get_methodstr_m(evhtp_request_get_method(ev));
    /* Cut to fit, as snprintf did; evhtp's method names are all shorter. */
    method = method ? method : "?";
    size_t mlen = strnlen(method, sizeof(r->method) - 1);
    memcpy(r->method, method, mlen);
    r->method[mlen] = '\0';
    const char *path = ev->uri && ev->uri->path && ev->uri->path->full ? ev->uri->path->full : "";
    r->path = sg_xstrdup(path);
    r->head = strcmp(r->method, "HEAD") == 0;
    sg_request_id_choose(ws, ev->headers_in, r->id, sizeof(r->id));

    const char *why = NULL;
    switch (sg_route_request(r->method, path, r->task, &why)) {
    case SG_ROUTE_NOT_FOUND:
        req_finish_error(r, SG_E_NO_ROUTE);
        return;
    case SG_ROUTE_BAD_METHOD:
        req_finish_error(r, SG_E_BAD_METHOD);
        return;
    case SG_ROUTE_BAD_ID:
        if (sg_log_get_level() >= SG_LOG_DEBUG)
            sg_log_req(SG_LOG_DEBUG, "request", r->id, "malformed task id: %s", why);
        req_finish_error(r, SG_E_INVALID_ARGUMENT);
        return;
    case SG_ROUTE_RPC:
        r->kind = SG_REQ_RPC;
        req_rpc_begin(r);
        return;
    case SG_ROUTE_SESSIONS:
        r->kind = SG_REQ_SESSIONS;
        break;
    case SG_ROUTE_TASK:
        break;
    }
    r->auth = sg_auth_set_get(ws->auth);
    req_cred_choose(r);
    req_auth_start(r);
}
