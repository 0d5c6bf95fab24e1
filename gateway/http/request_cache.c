/* A request's way through the cache: bind it to a backend where something
 * names one, look the tiers up, join or lead the task's flight on a miss,
 * and turn the flight's answer into the reply (stale answers and what a
 * delegated caller's own fetch says it may read included). */
#include <evhtp/evhtp.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth_set.h"
#include "cache/lookup.h"
#include "upstream/backend_route.h"
#include "obs/metrics.h"
#include "auth/pairs.h"
#include "http/request_int.h"
#include "cache/ttl.h"
#include "worker/wstate.h"
#include "snapgate/common.h"
#include "snapgate/log.h"

/* Within stale_if_error past its freshness, an old answer beats an error. */
static bool stale_usable(const struct sg_request *r)
{
    const struct sg_cache_entry *e = r->stale;
    uint64_t now = sg_wall_ms();
    return e && e->http_status == 200 && now < e->expires_at_ms + r->ws->conf->stale_if_error_ms;
}

/* Who a delegated caller is for the pairs: the name and the backend that
 * vouched for it (the same name on two vCenters is two callers). */
static const char *pair_who(const struct sg_request *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s\x1f%s", r->principal.name, r->principal.upstream_backend);
    return buf;
}

/* A delegated caller's own req_fetch also says what the backend lets it read.
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
        bool by_credential = r->cred_header != NULL;
        if (by_credential && !r->reauthenticated && r->auth_by) {
            r->reauthenticated = true;
            sg_principal_clear(&r->principal);
            r->authenticated = false;
            r->pair_unknown = false;
            r->auth_next = (size_t)(r->auth_by - r->auth->v);
            req_auth_continue(r);
            return true;
        }
        req_finish_error(r, SG_E_UNAUTHENTICATED);
        return true;
    }
    return false;
}

/* The flight's answer for one waiter. */
static void on_flight_answer(struct sg_flight_waiter *w, const struct sg_flight_answer *a)
{
    struct sg_request *r = w->owner;
    ASSERT_NOT_INSIDE_CALL(r);
    r->upstream_status = a->upstream_status;
    r->upstream_ms = a->upstream_ms;
    r->backend = a->backend;
    if (delegated_answer(r, a)) {
        req_put(r);
        return;
    }
    if (a->entry) {
        req_reply_entry(r, a->entry, r->shared_failed ? "BYPASS" : a->cache);
        if (r->shared_failed)
            sg_metrics_cache(r->ws, "bypass");
    } else if (a->stale_ok && stale_usable(r) && !r->pair_unknown) {
        sg_metrics_cache(r->ws, "stale");
        req_reply_entry(r, r->stale, "STALE");
    } else {
        if (strcmp(a->backend, "-") == 0)
            r->why = "the req_fetch was cancelled (the worker is stopping)";
        req_finish_error(r, a->error);
    }
    req_put(r);
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

void req_fetch(struct sg_request *r)
{
    struct sg_wstate *ws = r->ws;
    if (!r->cache)
        r->cache = "MISS";
    if (ws->nbackends == 0) {
        r->why = "no backend is configured";
        req_finish_error(r, SG_E_UNAVAILABLE);
        return;
    }
    req_go_async(r);
    r->waiter.owner = r;
    r->waiter.on_answer = on_flight_answer;
    struct sg_flight_ask ask = {
        .task = r->task,
        .cache_key = r->cache_key,
        .caller = r->principal.name,
        .session = r->principal.upstream_session,
        .backend =
            sg_backend_for_miss(ws->conf, r->backend_index, r->stale ? r->stale->owner : NULL),
        .shared_failed = r->shared_failed,
        .completed_floor = r->stale ? r->stale->completed : -1,
    };
    r->refs++; /* the flight's answer's */
    CALL_BEGIN(r);
    bool joined = sg_flight_join(ws, &ask, &r->waiter);
    CALL_END(r);
    if (!joined) {
        req_drop_unused_ref(r);
        r->why = "the worker is stopping";
        req_finish_error(r, SG_E_UNAVAILABLE);
    }
}

/* What the cache said for this request's lookup (cache/lookup.h). */
static void looked_up(struct sg_request *r, enum sg_lookup what, struct sg_cache_entry *e)
{
    struct sg_wstate *ws = r->ws;
    if (ws->stopping) {
        sg_cache_entry_put(e);
        r->why = "the worker is stopping";
        req_finish_error(r, SG_E_UNAVAILABLE);
        return;
    }
    if (what == SG_LOOKUP_HIT) {
        req_reply_entry(r, e, "HIT");
        sg_cache_entry_put(e);
        return;
    }
    if (what == SG_LOOKUP_MISS) {
        keep_stale(r, e);
        req_fetch(r);
        return;
    }
    /* The cache fails open (bypass) unless the operator asked for 503. */
    sg_cache_entry_put(e);
    if (ws->conf->redis_on_error == SG_REDIS_REJECT) {
        r->cache = "BYPASS";
        r->why = "the shared cache failed (redis.on_error: reject)";
        req_finish_error(r, SG_E_UNAVAILABLE);
        return;
    }
    r->shared_failed = true;
    r->cache = "BYPASS";
    req_fetch(r);
}

static void on_looked_up(enum sg_lookup what, struct sg_cache_entry *e, void *arg)
{
    struct sg_request *r = arg;
    ASSERT_NOT_INSIDE_CALL(r);
    if (r->finished)
        sg_cache_entry_put(e);
    else
        looked_up(r, what, e);
    req_put(r);
}

static void lookup(struct sg_request *r)
{
    struct sg_cache_entry *e = NULL, *stale = NULL;
    r->refs++; /* on_looked_up's, should the shared tier be asked */
    CALL_BEGIN(r);
    enum sg_lookup what = sg_cache_lookup(r->ws, r->cache_key, &e, &stale, on_looked_up, r);
    CALL_END(r);
    keep_stale(r, stale);
    if (req_call_settled(r, what == SG_LOOKUP_PENDING ? SG_AGAIN : SG_OK))
        looked_up(r, what, e);
}

/* Binds the request to a backend where something names one: the header
 * (routing.strategy header) or the provider that vouched for a delegated
 * caller. Answers the request and returns false when it cannot be bound. */
static bool bind_backend(struct sg_request *r)
{
    const struct sg_conf *c = r->ws->conf;
    const char *header = r->ev ? evhtp_header_find(r->ev->headers_in, "X-Snapgate-Backend") : NULL;
    switch (sg_backend_bind(c, header, r->principal.upstream_backend, &r->backend_index)) {
    case SG_BIND_OK:
        break;
    case SG_BIND_HEADER_MISSING:
    case SG_BIND_HEADER_UNKNOWN:
        sg_log_debug("request", "request %s: X-Snapgate-Backend %s", r->id,
                     header ? "names no configured backend" : "is missing");
        req_finish_error(r, SG_E_BAD_BACKEND);
        return false;
    case SG_BIND_NOT_CALLERS:
        req_finish_error(r, SG_E_UNAUTHORIZED);
        return false;
    }
    sg_cache_key(c, r->task, r->backend_index, r->cache_key, sizeof(r->cache_key));
    return true;
}

void req_authenticated(struct sg_request *r)
{
    r->authenticated = true;
    if (!sg_auth_set_allows(r->auth, &r->principal)) {
        req_finish_error(r, SG_E_UNAUTHORIZED);
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
            req_finish_error(r, SG_E_UNAUTHORIZED);
            return;
        case SG_PAIR_NOT_FOUND:
            /* What the backend told this caller, remembered for ttl.not_found. */
            r->cache = "HIT";
            req_finish_error(r, SG_E_NOT_FOUND);
            return;
        case SG_PAIR_UNKNOWN:
            r->pair_unknown = true;
            req_fetch(r);
            return;
        case SG_PAIR_ALLOWED:
            break;
        }
    }
    lookup(r);
}
