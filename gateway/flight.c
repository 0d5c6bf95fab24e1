#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "flight.h"
#include "metrics.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "ttl.h"
#include "upstream.h"
#include "wstate.h"

struct sg_flight {
    struct sg_wstate *ws;
    char *task;
    struct sg_fetch *fetch;
    struct sg_flight_waiter head; /* sentinel of the waiter ring */
    unsigned nwaiters;
};

static void waiter_unlink(struct sg_flight_waiter *w)
{
    w->prev->next = w->next;
    w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->flight->nwaiters--;
    w->flight = NULL;
}

void sg_flight_leave(struct sg_flight_waiter *w)
{
    if (w->flight)
        waiter_unlink(w);
}

/* Renders and stores what the backend said; returns the entry to answer with
 * (a new reference) or NULL with *err set. */
static struct sg_cache_entry *store_answer(struct sg_wstate *ws, const char *task,
                                           struct sg_normalized *n, enum sg_error *err)
{
    const struct sg_conf *c = ws->conf;
    uint64_t now = sg_wall_ms();
    struct sg_cache_entry *e = NULL;
    uint64_t ttl = 0;
    if (n->outcome == SG_OUT_INFO) {
        size_t len = 0;
        const char *body = json_object_to_json_string_length(
            n->info, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        ttl = sg_ttl_for_status(c, n->status);
        e = sg_cache_entry_new(200, (int)n->status, body, len, now, now + ttl);
    } else if (n->outcome == SG_OUT_NOT_FOUND) {
        const struct sg_error_reply *er = sg_error_reply(SG_E_NOT_FOUND);
        ttl = sg_ttl_not_found(c);
        e = sg_cache_entry_new(404, -1, er->body, er->len, now, now + ttl);
    } else {
        /* 401/403/5xx and garbage are never cached as anything. */
        *err = sg_error_for_outcome(n->outcome);
        return NULL;
    }
    /* The local tier is the only tier in this release: no shared tier behind it. */
    uint64_t local_ttl = sg_ttl_local(c, false, e->http_status, e->task_status, ttl);
    ws->local_ops->put(ws->local, task, e, local_ttl, local_ttl);
    return e;
}

static void on_fetch_done(struct sg_fetch_result *res, void *arg)
{
    struct sg_flight *f = arg;
    struct sg_wstate *ws = f->ws;
    sg_strmap_del(&ws->flights, f->task);
    f->fetch = NULL;

    const char *backend = ws->conf->backends_n ? ws->conf->backends[0].name : "-";
    sg_metrics_upstream(ws, res->norm.outcome, res->upstream_ms);
    if (res->norm.outcome != SG_OUT_INFO && res->norm.outcome != SG_OUT_NOT_FOUND)
        sg_log_warn("upstream", "task fetch from backend %s failed: %s (upstream status %d)",
                    backend, res->norm.reason, res->upstream_status);

    struct sg_flight_answer a = {
        .upstream_status = res->upstream_status,
        .upstream_ms = res->upstream_ms,
        .backend = backend,
        .error = SG_E_ERROR,
    };
    a.entry = store_answer(ws, f->task, &res->norm, &a.error);
    sg_normalized_clear(&res->norm);

    while (f->head.next != &f->head) {
        struct sg_flight_waiter *w = f->head.next;
        waiter_unlink(w);
        w->on_answer(w, &a);
    }
    sg_cache_entry_put(a.entry);
    free(f->task);
    free(f);
}

void sg_flight_join(struct sg_wstate *ws, const char *task, struct sg_flight_waiter *w)
{
    struct sg_flight *f = sg_strmap_get(&ws->flights, task);
    if (!f) {
        f = sg_xcalloc(1, sizeof(*f));
        f->ws = ws;
        f->task = sg_xstrdup(task);
        f->head.next = f->head.prev = &f->head;
        sg_strmap_put(&ws->flights, task, f);
        f->fetch = sg_fetch_start(ws->backends[0], task, ws->conf->backends[0].request_timeout_ms,
                                  on_fetch_done, f);
    } else {
        sg_metrics_coalesced(ws);
    }
    w->flight = f;
    w->next = &f->head;
    w->prev = f->head.prev;
    f->head.prev->next = w;
    f->head.prev = w;
    f->nwaiters++;
}

static void cancel_one(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    struct sg_flight *f = value;
    if (f->fetch)
        sg_fetch_cancel(f->fetch);
    /* Nobody is left behind: waiters learn the backend did not answer. */
    const struct sg_flight_answer a = {.error = SG_E_UNAVAILABLE, .backend = "-"};
    while (f->head.next != &f->head) {
        struct sg_flight_waiter *w = f->head.next;
        waiter_unlink(w);
        w->on_answer(w, &a);
    }
    free(f->task);
    free(f);
}

void sg_flight_cancel_all(struct sg_wstate *ws)
{
    sg_strmap_each(&ws->flights, cancel_one, NULL);
    sg_strmap_destroy(&ws->flights);
    sg_strmap_init(&ws->flights);
}
