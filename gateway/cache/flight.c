/* One fetch per task per worker, and with a shared tier about one per task
 * across replicas:
 *
 *   lead     the first miss for a task in this worker creates the flight;
 *            later misses join it as waiters. The leader's first step runs
 *            one loop turn after the join, so no waiter is ever answered
 *            from inside sg_flight_join (it may end at once: backend out)
 *   lease    with a shared tier, the flight takes a short lease on the task
 *            (SET NX PX); the replica that gets it fetches, the others poll
 *            the shared tier for the stored answer, and fetch themselves only
 *            when none arrives in time (a holder that died: its lease expires)
 *   fetch    the backends gateway/upstream/backend_route.c picks are asked at once (one
 *            "leg" each); the first 200 wins and the other legs are
 *            cancelled, else all legs end and sg_fanout_verdict decides; the
 *            answer is rendered once, stored in both tiers by status with the
 *            answering backend as the task's owner, and every waiter is
 *            answered from the same bytes. A delegated caller's fetch (its
 *            own session) is stored under its backend's key, and only a 200:
 *            its 404 may be that caller's view alone
 *
 * A flight lives until its last pending operation (lease, poll, fetch) has
 * called back: shutdown answers the waiters, then lets those callbacks free it.
 */
#include <assert.h>
#include <event2/event.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_store.h"
#include "cache/flight.h"
#include "upstream/health.h"
#include "obs/metrics.h"
#include "cache/progress_floor.h"
#include "upstream/backend_route.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "cache/ttl.h"
#include "upstream/upstream.h"
#include "worker/wstate.h"

#define POLL_INTERVAL_MS 25
#define LEASE_WAIT_MAX_MS 5000

/* One backend's part of a fetch. What it asks is captured when it starts: a
 * reload may replace the worker's backends (and config) while it runs. */
struct sg_leg {
    struct sg_flight *f;
    size_t backend;             /* index in conf */
    const struct sg_conf *conf; /* the config the index is of */
    struct sg_health *health;   /* the health set b belongs to */
    struct sg_fetch *fetch;     /* NULL once it ended or was cancelled */
    enum sg_outcome outcome;
};

struct sg_flight {
    struct sg_wstate *ws;
    char *key; /* in ws->flights: the task, or task and caller for a delegated fetch */
    char *task;
    char *cache_key;            /* where its answer is stored and leased */
    char *session;              /* a delegated caller's own session, or NULL (a secret) */
    int backend;                /* the one backend to ask (an index in conf), -1: fan out */
    const struct sg_conf *conf; /* the config that index is of */
    int64_t completed_floor;
    struct sg_leg legs[SG_MAX_BACKENDS];
    size_t nlegs, legs_running;
    struct sg_flight_waiter head; /* sentinel of the waiter ring */
    unsigned nwaiters;
    unsigned pending;    /* lease or poll calls not yet called back */
    bool leased;         /* we hold the shared lease: release it when done */
    bool shared_failed;  /* the shared tier failed: answers are BYPASS */
    bool done;           /* waiters answered; free once nothing is pending */
    uint64_t wait_until; /* monotonic ms: stop polling and fetch ourselves */
    struct event *poll_timer;
    struct event *begin_ev; /* the leader's first step, one loop turn after the join */
    bool starting_legs;     /* inside sg_fetch_start_as: no leg may end now */
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

static void flight_free_if_idle(struct sg_flight *f)
{
    if (!f->done || f->pending > 0 || f->legs_running > 0)
        return;
    if (f->poll_timer)
        event_free(f->poll_timer);
    if (f->begin_ev)
        event_free(f->begin_ev);
    if (f->session) {
        OPENSSL_cleanse(f->session, strlen(f->session));
        free(f->session);
    }
    free(f->key);
    free(f->task);
    free(f->cache_key);
    free(f);
}

/* Answers every waiter with a and ends the flight's useful life. */
static void finish_flight(struct sg_flight *f, const struct sg_flight_answer *a)
{
    struct sg_wstate *ws = f->ws;
    /* A waiter's answer never runs inside the call that joined it
     * (sg_flight_join defers the leader's first step) nor inside a leg's start. */
    assert(!f->starting_legs && "flight answered from inside sg_fetch_start_as");
    if (!f->done && sg_strmap_get(&ws->flights, f->key) == f)
        sg_strmap_del(&ws->flights, f->key);
    f->done = true;
    if (f->poll_timer)
        event_del(f->poll_timer);
    if (f->begin_ev)
        event_del(f->begin_ev);
    if (f->leased && ws->shared_ops && !ws->stopping)
        ws->shared_ops->release(ws->shared, f->cache_key);
    f->leased = false;
    while (f->head.next != &f->head) {
        struct sg_flight_waiter *w = f->head.next;
        waiter_unlink(w);
        w->on_answer(w, a);
    }
    flight_free_if_idle(f);
}

static void cancel_legs(struct sg_flight *f)
{
    for (size_t i = 0; i < f->nlegs; i++)
        if (f->legs[i].fetch) {
            sg_fetch_cancel(f->legs[i].fetch);
            f->legs[i].fetch = NULL;
            f->legs_running--;
        }
}

/* Answers the waiters with what the backend(s) said. */
static void settle(struct sg_flight *f, const char *backend, const char *owner,
                   struct sg_normalized *n, int upstream_status, uint64_t upstream_ms)
{
    struct sg_flight_answer a = {
        .upstream_status = upstream_status,
        .upstream_ms = upstream_ms,
        .backend = backend,
        .error = SG_E_ERROR,
        .cache = f->shared_failed ? "BYPASS" : "MISS",
        /* The backends failed rather than answered: an older answer beats none. */
        .stale_ok = n->outcome == SG_OUT_UNAVAILABLE || n->outcome == SG_OUT_ERROR,
        .outcome = n->outcome,
    };
    /* A delegated caller's 404 is that caller's alone: the backend may hide
     * from one caller a task another may read, so it is never shared. */
    bool shared = !f->session || n->outcome == SG_OUT_INFO;
    a.entry =
        sg_cache_store_answer(f->ws, f->cache_key, owner, n, f->completed_floor, shared, &a.error);
    finish_flight(f, &a);
    sg_cache_entry_put(a.entry);
}

static void on_leg_done(struct sg_fetch_result *res, void *arg)
{
    struct sg_leg *leg = arg;
    struct sg_flight *f = leg->f;
    struct sg_wstate *ws = f->ws;
    assert(!f->starting_legs && "a leg ended inside sg_fetch_start_as");
    const char *name = leg->conf->backends[leg->backend].name;
    enum sg_outcome o = res->norm.outcome;
    leg->fetch = NULL;
    leg->outcome = o;
    f->legs_running--;

    sg_metrics_upstream(ws, o, res->upstream_ms);
    /* Counters are by position in the current config: a leg of a replaced
     * backend set is not counted against whichever backend took its place. */
    if (leg->conf == ws->conf)
        sg_metrics_backend(ws, leg->backend, res->upstream_status, res->upstream_ms, res->retries);
    sg_health_report(leg->health, leg->backend, o != SG_OUT_UNAVAILABLE && o != SG_OUT_ERROR,
                     sg_now_ms());
    if (o != SG_OUT_INFO && o != SG_OUT_NOT_FOUND)
        sg_log_warn("upstream", "task fetch from backend %s failed: %s (upstream status %d)", name,
                    res->norm.reason, res->upstream_status);

    if (f->done) {
        /* Another leg already answered (the same id on two backends: the
         * first 200 won), or the worker is stopping. */
        sg_normalized_clear(&res->norm);
        flight_free_if_idle(f);
        return;
    }
    if (o == SG_OUT_INFO) {
        cancel_legs(f);
        settle(f, name, name, &res->norm, res->upstream_status, res->upstream_ms);
        sg_normalized_clear(&res->norm);
        return;
    }
    if (f->legs_running > 0) {
        sg_normalized_clear(&res->norm);
        return;
    }
    if (f->nlegs == 1) {
        /* One backend asked: its answer is the answer, reasons and all. A
         * 404 from the task's owner is final, so the entry keeps the owner. */
        settle(f, name, name, &res->norm, res->upstream_status, res->upstream_ms);
    } else {
        enum sg_outcome outcomes[SG_MAX_BACKENDS];
        for (size_t i = 0; i < f->nlegs; i++)
            outcomes[i] = f->legs[i].outcome;
        struct sg_normalized verdict = {.outcome = sg_fanout_verdict(outcomes, f->nlegs)};
        snprintf(verdict.reason, sizeof(verdict.reason), "no backend of %zu had the task",
                 f->nlegs);
        settle(f, "*", "", &verdict, res->upstream_status, res->upstream_ms);
    }
    sg_normalized_clear(&res->norm);
}

/* The flight's backend in the worker's current config: a reload between the
 * join and now may have moved, added or removed backends. Returns false when
 * the backend the flight is bound to is gone. */
static bool rebase(struct sg_flight *f)
{
    const struct sg_conf *now = f->ws->conf;
    if (!sg_backend_rebase(f->conf, now, &f->backend, f->session != NULL))
        return false;
    f->conf = now;
    return true;
}

/* No backend could be asked: 503, or an older answer where there is one. */
static void finish_unasked(struct sg_flight *f, const char *backend)
{
    const struct sg_flight_answer a = {.error = SG_E_UNAVAILABLE,
                                       .backend = backend,
                                       .cache = f->shared_failed ? "BYPASS" : "MISS",
                                       .stale_ok = true,
                                       .outcome = SG_OUT_UNAVAILABLE};
    finish_flight(f, &a);
}

static void start_fetch(struct sg_flight *f)
{
    struct sg_wstate *ws = f->ws;
    size_t idx[SG_MAX_BACKENDS];
    if (!rebase(f)) {
        sg_log_warn("upstream", "the backend of a fetch was removed by a reload");
        finish_unasked(f, "-");
        return;
    }
    size_t n = sg_backend_candidates(ws->health, f->backend, sg_now_ms(), idx);
    if (n == 0) {
        /* The one backend that can answer is down or ejected (or a reload
         * left no backend at all). */
        const char *name = f->backend >= 0 ? ws->conf->backends[f->backend].name : "-";
        sg_log_debug("upstream", "backend %s is out (down or ejected): not asked", name);
        finish_unasked(f, name);
        return;
    }
    f->nlegs = n;
    f->legs_running = n;
    for (size_t i = 0; i < n; i++) {
        struct sg_leg *leg = &f->legs[i];
        leg->f = f;
        leg->backend = idx[i];
        leg->conf = ws->conf;
        leg->health = ws->health;
        leg->outcome = SG_OUT_UNAVAILABLE;
    }
    /* Callbacks never run from inside sg_fetch_start_as: the legs are all
     * set before the first can end (asserted in debug builds). */
    f->starting_legs = true;
    for (size_t i = 0; i < n; i++) {
        struct sg_leg *leg = &f->legs[i];
        leg->fetch = sg_fetch_start_as(ws->backends[leg->backend], f->task, f->session,
                                       ws->conf->backends[leg->backend].request_timeout_ms,
                                       on_leg_done, leg);
    }
    f->starting_legs = false;
}

static void poll_shared(struct sg_flight *f);

static void on_poll_get(int rc, struct sg_cache_entry *e, void *arg)
{
    struct sg_flight *f = arg;
    f->pending--;
    if (f->done) {
        sg_cache_entry_put(e);
        flight_free_if_idle(f);
        return;
    }
    if (rc == SG_OK) {
        /* Another replica fetched and stored it: answer from the shared tier. */
        sg_cache_store_local(f->ws, f->cache_key, e);
        struct sg_flight_answer a = {.entry = e, .cache = "HIT", .backend = "-", .outcome = -1};
        finish_flight(f, &a);
        sg_cache_entry_put(e);
        return;
    }
    sg_cache_entry_put(e);
    if (rc == SG_ERR) {
        f->shared_failed = true;
        start_fetch(f);
    } else if (f->leased || sg_now_ms() >= f->wait_until) {
        /* The holder did not store an answer in time (it may have died). */
        start_fetch(f);
    } else {
        struct timeval tv = {.tv_sec = 0, .tv_usec = POLL_INTERVAL_MS * 1000};
        evtimer_add(f->poll_timer, &tv);
    }
}

static void on_poll_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    poll_shared(arg);
}

static void poll_shared(struct sg_flight *f)
{
    struct sg_wstate *ws = f->ws;
    struct sg_cache_entry *e = NULL;
    f->pending++;
    int rc = ws->shared_ops->get(ws->shared, f->cache_key, &e, on_poll_get, f);
    if (rc != SG_AGAIN)
        on_poll_get(rc, e, f);
}

static void on_lease(int rc, void *arg)
{
    struct sg_flight *f = arg;
    struct sg_wstate *ws = f->ws;
    f->pending--;
    if (f->done) {
        flight_free_if_idle(f);
        return;
    }
    if (rc == SG_OK) {
        /* Look once more before asking the backend: the previous holder may
         * have stored its answer between our miss and our lease. */
        f->leased = true;
        poll_shared(f);
    } else if (rc == SG_DENIED) {
        sg_metrics_lease_wait(ws);
        f->wait_until = sg_now_ms() + sg_flight_lease_wait_ms(ws->conf);
        f->poll_timer = evtimer_new(ws->base, on_poll_timer, f);
        struct timeval tv = {.tv_sec = 0, .tv_usec = POLL_INTERVAL_MS * 1000};
        evtimer_add(f->poll_timer, &tv);
    } else {
        f->shared_failed = true; /* the cache fails open */
        start_fetch(f);
    }
}

uint64_t sg_flight_lease_ms(const struct sg_conf *c)
{
    uint64_t max = 0;
    for (size_t i = 0; i < c->backends_n; i++)
        if (c->backends[i].request_timeout_ms > max)
            max = c->backends[i].request_timeout_ms;
    return max + 1000;
}

uint64_t sg_flight_lease_wait_ms(const struct sg_conf *c)
{
    uint64_t lease = sg_flight_lease_ms(c);
    return lease < LEASE_WAIT_MAX_MS ? lease : LEASE_WAIT_MAX_MS;
}

/* The leader's first step: lease (with a shared tier) or fetch. */
static void on_begin(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_flight *f = arg;
    struct sg_wstate *ws = f->ws;
    if (ws->shared_ops && !f->shared_failed && !f->session) {
        f->pending++;
        int rc = ws->shared_ops->lease(ws->shared, f->cache_key, sg_flight_lease_ms(ws->conf),
                                       on_lease, f);
        if (rc != SG_AGAIN)
            on_lease(rc, f);
    } else {
        start_fetch(f);
    }
}

/* The flight map's key: one fetch per cache key (the task, or the task and
 * the named backend under header routing), per task and caller for a
 * delegated caller. */
static char *flight_key(const struct sg_flight_ask *ask)
{
    if (ask->session)
        return sg_xasprintf("%s\x1f%s", ask->task, ask->caller);
    return sg_xstrdup(ask->cache_key);
}

bool sg_flight_join(struct sg_wstate *ws, const struct sg_flight_ask *ask,
                    struct sg_flight_waiter *w)
{
    if (ws->stopping)
        return false;
    char *key = flight_key(ask);
    struct sg_flight *f = sg_strmap_get(&ws->flights, key);
    bool lead = f == NULL;
    if (lead) {
        f = sg_xcalloc(1, sizeof(*f));
        f->ws = ws;
        f->key = key;
        key = NULL;
        f->task = sg_xstrdup(ask->task);
        f->cache_key = sg_xstrdup(ask->cache_key);
        f->session = ask->session ? sg_xstrdup(ask->session) : NULL;
        f->backend = ask->backend;
        f->conf = ws->conf;
        f->completed_floor = ask->completed_floor;
        f->head.next = f->head.prev = &f->head;
        f->shared_failed = ask->shared_failed;
        sg_strmap_put(&ws->flights, f->key, f);
    } else {
        sg_metrics_coalesced(ws);
        if (ask->completed_floor > f->completed_floor)
            f->completed_floor = ask->completed_floor;
    }
    free(key);
    w->flight = f;
    w->next = &f->head;
    w->prev = f->head.prev;
    f->head.prev->next = w;
    f->head.prev = w;
    f->nwaiters++;
    if (!lead)
        return true;
    /* The leader's first step may end the flight at once (its backend is out,
     * a reload removed it, the lease fails synchronously): run it one loop
     * turn later, so no waiter is ever answered inside the call that joined. */
    f->begin_ev = event_new(ws->base, -1, 0, on_begin, f);
    event_active(f->begin_ev, 0, 1);
    return true;
}

void sg_flight_cancel_all(struct sg_wstate *ws)
{
    while (ws->flights.count > 0) {
        struct sg_flight *f = NULL;
        for (size_t i = 0; i < ws->flights.nbuckets && !f; i++)
            if (ws->flights.buckets[i])
                f = ws->flights.buckets[i]->value;
        cancel_legs(f);
        /* Nobody is left behind: waiters learn the backend did not answer. */
        const struct sg_flight_answer a = {
            .error = SG_E_UNAVAILABLE, .backend = "-", .outcome = SG_OUT_UNAVAILABLE};
        finish_flight(f, &a);
    }
}
