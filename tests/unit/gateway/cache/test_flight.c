/* The flight state machine (gateway/cache/flight.c) on a hand-assembled worker
 * state: two real backend clients against two scripted in-process backends,
 * the real memory tier as the local tier, and a fake shared tier that answers
 * at once, later, or never. Each case names the path through join, lease,
 * poll, fetch, store and cancel it drives, and asserts the exact answer, the
 * stores and the upstream request counts. */
#include <check.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cache/cache_store.h"
#include "cache/flight.h"
#include "upstream/health.h"
#include "obs/metrics.h"
#include "auth/pairs.h"
#include "normalize/reply.h"
#include "sg_test_backend.h"
#include "sg_test_shared.h"
#include "snapgate/cache.h"
#include "snapgate/common.h"
#include "snapgate/module.h"
#include "conf/conf_tls.h"
#include "upstream/upstream.h"
#include "worker/worker.h"
#include "worker/wstate.h"

#define RUNNING "{\"status\":\"RUNNING\",\"description\":\"x\"}"
#define SUCCEEDED "{\"status\":\"SUCCEEDED\",\"description\":\"x\"}"
/* Bounds for waits on the loop: never measured, only a ceiling. */
#define WAIT_MS 5000

static const char *const names[2] = {"vc1", "vc2"};

static struct event_base *base;
static struct sg_test_srv srv[2];
static struct sg_conf_backend backends[2];
static struct sg_conf conf;
static struct sg_worker *worker;
static struct sg_wstate ws;
static struct sg_test_shared fk;

/* ---- waiters --------------------------------------------------------------- */

struct waiter {
    struct sg_flight_waiter w; /* first: on_answer gets it back */
    int calls;
    struct sg_cache_entry *entry; /* a reference of the answer's entry */
    enum sg_error error;
    bool stale_ok;
    int outcome;
    int upstream_status;
    char cache[16];
    char backend[SG_CACHE_OWNER_MAX + 1];
};

#define NWAITERS 8
static struct waiter wt[NWAITERS];
static int answered; /* answers to any waiter */
static bool joining; /* inside sg_flight_join */

static void on_answer(struct sg_flight_waiter *w, const struct sg_flight_answer *a)
{
    struct waiter *x = (struct waiter *)w;
    /* The contract under test: never answered inside the call that joined,
     * and only after leaving the flight. */
    ck_assert_msg(!joining, "a waiter was answered inside sg_flight_join");
    ck_assert_ptr_null(w->flight);
    x->calls++;
    answered++;
    sg_cache_entry_put(x->entry);
    x->entry = a->entry ? sg_cache_entry_get(a->entry) : NULL;
    x->error = a->error;
    x->stale_ok = a->stale_ok;
    x->outcome = a->outcome;
    x->upstream_status = a->upstream_status;
    snprintf(x->cache, sizeof(x->cache), "%s", a->cache ? a->cache : "");
    snprintf(x->backend, sizeof(x->backend), "%s", a->backend ? a->backend : "");
}

/* Joins x to the fetch of task asking backend (-1: fan out), as request.c
 * asks: under header routing, or for a delegated caller (session set), the
 * request is bound to backend and so is its cache key; under fan-out backend
 * is the task's remembered owner and the key is the task's own. Returns what
 * sg_flight_join did. */
static bool join_as(struct waiter *x, const char *task, int backend, const char *caller,
                    const char *session)
{
    char key[SG_CACHE_KEY_MAX + 1];
    int bound = conf.routing == SG_ROUTE_HEADER || session ? backend : -1;
    const struct sg_flight_ask ask = {
        .task = task,
        .cache_key = sg_cache_key(&conf, task, bound, key, sizeof(key)),
        .caller = caller,
        .session = session,
        .backend = backend,
        .completed_floor = -1,
    };
    x->w.on_answer = on_answer;
    x->w.owner = x;
    joining = true;
    bool joined = sg_flight_join(&ws, &ask, &x->w);
    joining = false;
    return joined;
}

static bool join(struct waiter *x, const char *task, int backend)
{
    return join_as(x, task, backend, NULL, NULL);
}

static bool run_answers(int want)
{
    return sg_test_run_until(base, &answered, want, WAIT_MS);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Runs the loop until no flight is left in the worker (bounded). */
static bool run_until_no_flight(void)
{
    struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 5000};
    event_add(tick, &tv);
    uint64_t end = sg_now_ms() + WAIT_MS;
    while (ws.flights.count > 0 && sg_now_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(tick);
    return ws.flights.count == 0;
}

/* The local tier's entry for key (a new reference) and its rc. */
static int local_get(const char *key, struct sg_cache_entry **e)
{
    return ws.local_ops->get(ws.local, key, e, NULL, NULL);
}

static void assert_not_in_local(const char *key)
{
    struct sg_cache_entry *e = NULL;
    ck_assert_int_eq(local_get(key, &e), SG_DECLINED);
    ck_assert_ptr_null(e);
}

/* Asserts the local tier holds exactly want under key (the same bytes). */
static void assert_in_local(const char *key, const struct sg_cache_entry *want)
{
    struct sg_cache_entry *e = NULL;
    ck_assert_int_eq(local_get(key, &e), SG_OK);
    ck_assert_ptr_eq(e, want);
    sg_cache_entry_put(e);
}

static struct sg_cache_entry *entry_new(int status, const char *body, const char *owner)
{
    uint64_t now = sg_wall_ms();
    struct sg_cache_entry *e = sg_cache_entry_new(status, status == 200 ? SG_TASK_SUCCEEDED : -1,
                                                  body, strlen(body), now, now + 60000);
    snprintf(e->owner, sizeof(e->owner), "%s", owner);
    return e;
}

static struct sg_test_act answer(int status, const char *body)
{
    return (struct sg_test_act){.kind = SG_ACT_STATUS, .status = status, .body = body};
}

/* ---- the worker state, assembled as server.c worker_create does ------------- */

static void use_fake_shared(void)
{
    ws.shared_ops = &sg_test_shared_ops;
    ws.shared = &fk;
}

static void setup_with(int routing)
{
    base = event_base_new();
    memset(&conf, 0, sizeof(conf));
    for (int i = 0; i < 2; i++) {
        sg_test_srv_start(&srv[i], base, NULL, NULL);
        struct sg_conf_backend *b = &backends[i];
        sg_test_backend_init(b, names[i], "http", "127.0.0.1", srv[i].port);
        b->outlier_failures = 3;
        b->outlier_ejection_ms = 60000;
        b->health_rise = 1;
        b->health_fall = 1;
        char err[600];
        ck_assert_msg(sg_conf_tls_prepare(b, err, sizeof(err)) == SG_OK, "%s", err);
    }
    /* Distinct TTLs, so each assertion names the one that was used. */
    conf.ttl_pending_ms = 2000;
    conf.ttl_running_ms = 3000;
    conf.ttl_blocked_ms = 4000;
    conf.ttl_terminal_ms = 60000;
    conf.ttl_not_found_ms = 7000;
    conf.local_max_entries = 100;
    conf.local_max_ttl_ms = 1500;
    conf.routing = routing;
    conf.owner_ttl_ms = 86400000;
    conf.backends = backends;
    conf.backends_n = 2;

    memset(&ws, 0, sizeof(ws));
    worker = sg_worker_new(0, base);
    worker->server = &ws;
    ws.worker = worker;
    ws.base = base;
    ws.conf = &conf;
    ws.health = sg_health_new(&conf);
    ws.metrics = sg_metrics_register(0);
    sg_strmap_init(&ws.flights);
    sg_pairs_init(&ws.pairs);
    ws.deadline_ms = WAIT_MS;

    ws.local_module = sg_module_find(SG_MOD_CACHE, "memory");
    ck_assert_ptr_nonnull(ws.local_module);
    ws.local_ops = ws.local_module->ops;
    struct sg_conf_errs errs = {.file = "cache"};
    ck_assert_int_eq(ws.local_module->conf(NULL, "cache", &conf, &errs, &ws.local_priv), SG_OK);
    ws.local = ws.local_module->worker_init(ws.local_priv, worker);

    ws.nbackends = conf.backends_n;
    ws.backends = sg_xcalloc(ws.nbackends, sizeof(*ws.backends));
    for (size_t i = 0; i < ws.nbackends; i++) {
        ws.backends[i] = sg_backend_worker_create(base, &conf.backends[i], 0);
        ck_assert_ptr_nonnull(ws.backends[i]);
    }

    sg_test_shared_init(&fk, base); /* off until use_fake_shared */
    memset(wt, 0, sizeof(wt));
    answered = 0;
    joining = false;
}

static void setup_fanout(void)
{
    setup_with(SG_ROUTE_FANOUT);
}

static void setup_header(void)
{
    setup_with(SG_ROUTE_HEADER);
}

/* In worker_destroy's order: flights, then the shared tier's pending
 * callbacks, then the backends, then the loop. */
static void teardown(void)
{
    ws.stopping = true;
    sg_flight_cancel_all(&ws);
    sg_test_shared_fini(&fk);
    ck_assert_int_eq(ws.flights.count, 0);
    sg_strmap_destroy(&ws.flights);
    sg_pairs_destroy(&ws.pairs);
    for (size_t i = 0; i < ws.nbackends; i++)
        sg_backend_worker_destroy(ws.backends[i]);
    free(ws.backends);
    ws.local_module->worker_fini(ws.local);
    ws.local_module->free_conf(ws.local_priv);
    for (int i = 0; i < NWAITERS; i++)
        sg_cache_entry_put(wt[i].entry);
    /* Let closed connections' last events run before the servers go. */
    sg_test_run_until(base, NULL, 0, 20);
    for (int i = 0; i < 2; i++)
        sg_test_srv_stop(&srv[i]);
    event_base_free(base);
    sg_health_free(ws.health);
    sg_worker_free(worker);
}

/* ---- (1) never answered inside the join ------------------------------------ */

static void assert_unasked_503(const struct waiter *x, const char *backend, const char *cache)
{
    ck_assert_int_eq(x->calls, 1);
    ck_assert_ptr_null(x->entry);
    ck_assert_int_eq(x->error, SG_E_UNAVAILABLE);
    ck_assert(x->stale_ok);
    ck_assert_int_eq(x->outcome, SG_OUT_UNAVAILABLE);
    ck_assert_str_eq(x->backend, backend);
    ck_assert_str_eq(x->cache, cache);
    ck_assert_int_eq(srv[0].tasks + srv[1].tasks, 0);
}

START_TEST(test_owner_ejected_answers_later)
{
    /* Polling during a partial outage: the remembered owner is ejected while
     * the other backend is up, so the flight ends at its first step. */
    for (int i = 0; i < 2; i++)
        ck_assert(!sg_health_report(ws.health, 0, false, sg_now_ms()));
    ck_assert(sg_health_report(ws.health, 0, false, sg_now_ms()));
    ck_assert(join(&wt[0], "task-1", 0));
    ck_assert_int_eq(wt[0].calls, 0);
    ck_assert_ptr_nonnull(wt[0].w.flight);
    ck_assert(run_answers(1));
    assert_unasked_503(&wt[0], "vc1", "MISS");
    ck_assert_int_eq(ws.flights.count, 0);
}
END_TEST

START_TEST(test_named_backend_down_answers_later)
{
    /* Header routing names a backend the prober found down. */
    ck_assert_int_eq(sg_health_probe_result(ws.health, 1, false), SG_HEALTH_DOWN);
    ck_assert(join(&wt[0], "task-1", 1));
    ck_assert(join(&wt[1], "task-1", 1)); /* a second waiter of the same flight */
    ck_assert_int_eq(ws.flights.count, 1);
    ck_assert_int_eq(wt[0].calls + wt[1].calls, 0);
    ck_assert(run_answers(2));
    assert_unasked_503(&wt[0], "vc2", "MISS");
    assert_unasked_503(&wt[1], "vc2", "MISS");
}
END_TEST

START_TEST(test_sync_lease_failure_answers_later)
{
    use_fake_shared();
    fk.lease_default = (struct sg_test_reply){.when = SG_TEST_SYNC, .rc = SG_ERR};
    sg_test_srv_route(&srv[0], "task-1", answer(200, RUNNING));
    ck_assert(join(&wt[0], "task-1", 0));
    ck_assert_int_eq(wt[0].calls, 0);
    ck_assert(run_answers(1));
    ck_assert_int_eq(wt[0].calls, 1);
    ck_assert_ptr_nonnull(wt[0].entry);
    ck_assert_int_eq(wt[0].entry->http_status, 200);
    /* The cache fails open: the backend answers, marked as bypassing it. */
    ck_assert_str_eq(wt[0].cache, "BYPASS");
    ck_assert_int_eq(fk.lease_calls, 1);
    ck_assert_int_eq(fk.release_calls, 0);
    ck_assert_int_eq(srv[0].routes[0].hits, 1);
}
END_TEST

START_TEST(test_sync_lease_failure_with_owner_out_answers_later)
{
    /* The lease fails at once and the only backend to ask is out: the whole
     * flight ends inside its first step, which must not be the join. */
    use_fake_shared();
    fk.lease_default = (struct sg_test_reply){.when = SG_TEST_SYNC, .rc = SG_ERR};
    for (int i = 0; i < 3; i++)
        sg_health_report(ws.health, 1, false, sg_now_ms());
    ck_assert(join(&wt[0], "task-1", 1));
    ck_assert_int_eq(wt[0].calls, 0);
    ck_assert(run_answers(1));
    assert_unasked_503(&wt[0], "vc2", "BYPASS");
}
END_TEST

START_TEST(test_sync_lease_and_sync_hit_answers_later)
{
    use_fake_shared();
    struct sg_cache_entry *e = entry_new(200, SUCCEEDED, "vc2");
    fk.gets[0] = (struct sg_test_reply){.when = SG_TEST_SYNC, .rc = SG_OK, .entry = e};
    fk.ngets = 1;
    ck_assert(join(&wt[0], "task-1", -1));
    ck_assert_int_eq(wt[0].calls, 0);
    ck_assert(run_answers(1));
    ck_assert_int_eq(wt[0].calls, 1);
    ck_assert_ptr_eq(wt[0].entry, e);
    ck_assert_str_eq(wt[0].cache, "HIT");
    ck_assert_str_eq(wt[0].backend, "-");
    ck_assert_int_eq(wt[0].outcome, -1);
    ck_assert_int_eq(srv[0].tasks + srv[1].tasks, 0);
    ck_assert_int_eq(fk.lease_calls, 1);
    ck_assert_str_eq(fk.last_get_key, "task-1");
    ck_assert_int_eq(fk.release_calls, 1); /* the lease taken is given back */
    assert_in_local("task-1", e);          /* a copy kept locally */
}
END_TEST

START_TEST(test_stopping_joins_nothing)
{
    ws.stopping = true;
    ck_assert(!join(&wt[0], "task-1", -1));
    ck_assert_ptr_null(wt[0].w.flight);
    ck_assert_int_eq(ws.flights.count, 0);
    sg_test_run_until(base, NULL, 0, 50);
    ck_assert_int_eq(wt[0].calls, 0);
    ck_assert_int_eq(srv[0].tasks + srv[1].tasks, 0);
}
END_TEST

/* ---- (2) coalescing, (3) leaving ------------------------------------------- */

START_TEST(test_waiters_share_one_fetch_and_one_entry)
{
    struct sg_test_route *r = sg_test_srv_route(
        &srv[0], "task-c",
        (struct sg_test_act){
            .kind = SG_ACT_DELAY, .delay_ms = 50, .status = 200, .body = SUCCEEDED});
    uint64_t coalesced = atomic_load(&ws.metrics->coalesced);
    for (int i = 0; i < 4; i++)
        ck_assert(join(&wt[i], "task-c", 0));
    ck_assert_int_eq(ws.flights.count, 1);
    /* One more joins while the request is at the backend. */
    ck_assert(sg_test_run_until(base, &r->hits, 1, WAIT_MS));
    ck_assert(join(&wt[4], "task-c", 0));
    ck_assert(run_answers(5));
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(wt[i].calls, 1);
        ck_assert_ptr_nonnull(wt[i].entry);
        ck_assert_ptr_eq(wt[i].entry, wt[0].entry); /* the same rendered bytes */
        ck_assert_str_eq(wt[i].cache, "MISS");
        ck_assert_str_eq(wt[i].backend, "vc1");
    }
    ck_assert_int_eq(wt[0].entry->http_status, 200);
    ck_assert_int_eq(wt[0].entry->task_status, SG_TASK_SUCCEEDED);
    ck_assert_int_eq(r->hits, 1);
    ck_assert_int_eq(srv[0].tasks, 1);
    ck_assert_int_eq(srv[1].tasks, 0);
    ck_assert_uint_eq(atomic_load(&ws.metrics->coalesced) - coalesced, 4);
}
END_TEST

START_TEST(test_leaver_is_not_answered_and_answer_is_stored)
{
    struct sg_test_route *r = sg_test_srv_route(
        &srv[0], "task-l",
        (struct sg_test_act){.kind = SG_ACT_DELAY, .delay_ms = 50, .status = 200, .body = RUNNING});
    ck_assert(join(&wt[0], "task-l", 0));
    ck_assert(join(&wt[1], "task-l", 0));
    ck_assert(sg_test_run_until(base, &r->hits, 1, WAIT_MS));
    sg_flight_leave(&wt[1].w);
    ck_assert_ptr_null(wt[1].w.flight);
    sg_flight_leave(&wt[1].w); /* a second leave is a no-op */
    ck_assert(run_answers(1));
    ck_assert(run_until_no_flight());
    sg_test_run_until(base, NULL, 0, 20);
    ck_assert_int_eq(wt[0].calls, 1);
    ck_assert_int_eq(wt[1].calls, 0);
    assert_in_local("task-l", wt[0].entry);
}
END_TEST

START_TEST(test_last_leaver_still_fills_the_cache)
{
    /* Even when everyone left before the first step ran. */
    sg_test_srv_route(&srv[0], "task-l", answer(200, RUNNING));
    ck_assert(join(&wt[0], "task-l", 0));
    sg_flight_leave(&wt[0].w);
    ck_assert(run_until_no_flight());
    ck_assert_int_eq(wt[0].calls, 0);
    ck_assert_int_eq(srv[0].routes[0].hits, 1);
    struct sg_cache_entry *e = NULL;
    ck_assert_int_eq(local_get("task-l", &e), SG_OK);
    ck_assert_int_eq(e->http_status, 200);
    ck_assert_str_eq(e->owner, "vc1");
    sg_cache_entry_put(e);
}
END_TEST

/* ---- (4) what is stored, by status ------------------------------------------ */

START_TEST(test_200_is_stored_in_both_tiers_with_its_owner)
{
    use_fake_shared();
    sg_test_srv_route(&srv[0], "task-s", answer(200, RUNNING));
    sg_test_srv_route(&srv[1], "task-s", answer(404, "{}"));
    ck_assert(join(&wt[0], "task-s", -1));
    ck_assert(run_answers(1));
    ck_assert_ptr_nonnull(wt[0].entry);
    const struct sg_cache_entry *e = wt[0].entry;
    ck_assert_int_eq(e->http_status, 200);
    ck_assert_int_eq(e->task_status, SG_TASK_RUNNING);
    ck_assert_str_eq(e->owner, "vc1");
    ck_assert_uint_eq(e->expires_at_ms - e->fetched_at_ms, conf.ttl_running_ms);
    ck_assert_str_eq(wt[0].backend, "vc1");
    ck_assert_str_eq(wt[0].cache, "MISS");
    ck_assert_int_eq(wt[0].upstream_status, 200);
    assert_in_local("task-s", e);
    ck_assert_int_eq(fk.lease_calls, 1);
    ck_assert_str_eq(fk.last_lease_key, "task-s");
    ck_assert_int_eq(fk.put_calls, 1);
    ck_assert_str_eq(fk.put_key, "task-s");
    ck_assert_str_eq(fk.put_owner, "vc1");
    ck_assert_int_eq(fk.put_status, 200);
    ck_assert_uint_eq(fk.put_fresh_ms, conf.ttl_running_ms);
    /* Fan-out: the owner is remembered for routing.owner_ttl. */
    ck_assert_uint_eq(fk.put_keep_ms, conf.owner_ttl_ms);
    ck_assert_int_eq(fk.release_calls, 1);
}
END_TEST

START_TEST(test_404_is_stored_with_the_not_found_ttl)
{
    use_fake_shared();
    sg_test_srv_route(&srv[0], "task-n", answer(404, "{}"));
    ck_assert(join(&wt[0], "task-n", 0));
    ck_assert(run_answers(1));
    ck_assert_ptr_nonnull(wt[0].entry);
    const struct sg_cache_entry *e = wt[0].entry;
    ck_assert_int_eq(e->http_status, 404);
    ck_assert_int_eq(e->task_status, -1);
    ck_assert_str_eq(e->owner, "vc1");
    ck_assert_uint_eq(e->expires_at_ms - e->fetched_at_ms, conf.ttl_not_found_ms);
    ck_assert_int_eq(wt[0].outcome, SG_OUT_NOT_FOUND);
    assert_in_local("task-n", e);
    ck_assert_int_eq(fk.put_calls, 1);
    ck_assert_int_eq(fk.put_status, 404);
    ck_assert_uint_eq(fk.put_fresh_ms, conf.ttl_not_found_ms);
}
END_TEST

START_TEST(test_503_is_not_stored_and_may_be_stale)
{
    use_fake_shared();
    sg_test_srv_route(&srv[0], "task-u", answer(503, "{}"));
    ck_assert(join(&wt[0], "task-u", 0));
    ck_assert(run_answers(1));
    ck_assert_int_eq(wt[0].calls, 1);
    ck_assert_ptr_null(wt[0].entry);
    ck_assert_int_eq(wt[0].error, SG_E_UNAVAILABLE);
    ck_assert(wt[0].stale_ok);
    ck_assert_int_eq(wt[0].outcome, SG_OUT_UNAVAILABLE);
    ck_assert_int_eq(wt[0].upstream_status, 503);
    ck_assert_str_eq(wt[0].backend, "vc1");
    assert_not_in_local("task-u");
    ck_assert_int_eq(fk.put_calls, 0);
    ck_assert_int_eq(fk.release_calls, 1);
}
END_TEST

/* ---- (5) fan-out verdicts --------------------------------------------------- */

static const struct fanout_case {
    int status[2];
    int want_status; /* of the entry; 0: no entry */
    enum sg_error want_error;
    const char *want_backend;
    const char *want_owner;
} fanout_cases[] = {
    {{404, 200}, 200, SG_E_ERROR, "vc2", "vc2"},  {{200, 404}, 200, SG_E_ERROR, "vc1", "vc1"},
    {{404, 404}, 404, SG_E_ERROR, "*", ""},       {{503, 404}, 0, SG_E_UNAVAILABLE, "*", NULL},
    {{404, 503}, 0, SG_E_UNAVAILABLE, "*", NULL},
};

START_TEST(test_fanout_verdict)
{
    const struct fanout_case *c = &fanout_cases[_i];
    for (int i = 0; i < 2; i++)
        sg_test_srv_route(&srv[i], "task-f",
                          answer(c->status[i], c->status[i] == 200 ? RUNNING : "{}"));
    ck_assert(join(&wt[0], "task-f", -1));
    ck_assert(run_answers(1));
    ck_assert(run_until_no_flight());
    ck_assert_int_eq(wt[0].calls, 1);
    ck_assert_str_eq(wt[0].backend, c->want_backend);
    if (!c->want_status) {
        ck_assert_ptr_null(wt[0].entry);
        ck_assert_int_eq(wt[0].error, c->want_error);
        ck_assert(wt[0].stale_ok);
        assert_not_in_local("task-f");
    } else {
        ck_assert_ptr_nonnull(wt[0].entry);
        ck_assert_int_eq(wt[0].entry->http_status, c->want_status);
        ck_assert_str_eq(wt[0].entry->owner, c->want_owner);
        assert_in_local("task-f", wt[0].entry);
    }
    /* Each backend asked once: a 200 cancels the other leg, which may not
     * have reached its backend yet. */
    for (int i = 0; i < 2; i++) {
        if (c->status[i] == 200 || c->want_status != 200)
            ck_assert_int_eq(srv[i].routes[0].hits, 1);
        else
            ck_assert_int_le(srv[i].routes[0].hits, 1);
    }
}
END_TEST

/* ---- (6) delegated callers --------------------------------------------------- */

START_TEST(test_delegated_200_is_stored_under_its_backend)
{
    use_fake_shared();
    sg_test_srv_route(&srv[0], "task-d", answer(200, RUNNING));
    ck_assert(join_as(&wt[0], "task-d", 0, "alice", "alice-session"));
    ck_assert_int_eq(wt[0].calls, 0);
    ck_assert(run_answers(1));
    ck_assert_ptr_nonnull(wt[0].entry);
    ck_assert_int_eq(wt[0].entry->http_status, 200);
    ck_assert_str_eq(wt[0].entry->owner, "vc1");
    /* The caller's own session went to its own backend, nowhere else. */
    ck_assert_str_eq(srv[0].last_session, "alice-session");
    ck_assert_int_eq(srv[1].tasks, 0);
    assert_in_local("task-d\x1evc1", wt[0].entry);
    assert_not_in_local("task-d");
    /* No lease (a delegated fetch is nobody else's), and the shared copy is
     * keyed by the backend too. */
    ck_assert_int_eq(fk.lease_calls, 0);
    ck_assert_int_eq(fk.put_calls, 1);
    ck_assert_str_eq(fk.put_key, "task-d\x1evc1");
}
END_TEST

START_TEST(test_delegated_404_is_stored_nowhere)
{
    use_fake_shared();
    sg_test_srv_route(&srv[0], "task-d", answer(404, "{}"));
    ck_assert(join_as(&wt[0], "task-d", 0, "alice", "alice-session"));
    ck_assert(run_answers(1));
    ck_assert_ptr_nonnull(wt[0].entry);
    ck_assert_int_eq(wt[0].entry->http_status, 404);
    ck_assert_int_eq(wt[0].outcome, SG_OUT_NOT_FOUND);
    assert_not_in_local("task-d\x1evc1");
    assert_not_in_local("task-d");
    ck_assert_int_eq(fk.put_calls, 0);
    ck_assert_int_eq(fk.lease_calls, 0);
}
END_TEST

START_TEST(test_delegated_fetch_is_not_shared_with_other_callers)
{
    /* A service-account miss and two delegated callers of the same task on
     * the same backend: three fetches, each with its own credentials. */
    struct sg_test_route *r = sg_test_srv_route(&srv[0], "task-d", answer(200, RUNNING));
    ck_assert(join(&wt[0], "task-d", 0));
    ck_assert(join_as(&wt[1], "task-d", 0, "alice", "alice-session"));
    ck_assert(join_as(&wt[2], "task-d", 0, "bob", "bob-session"));
    ck_assert(join_as(&wt[3], "task-d", 0, "alice", "alice-session"));
    ck_assert_int_eq(ws.flights.count, 3);
    ck_assert(run_answers(4));
    ck_assert_int_eq(r->hits, 3);
    ck_assert_ptr_eq(wt[3].entry, wt[1].entry);
    ck_assert_ptr_ne(wt[2].entry, wt[1].entry);
    ck_assert_ptr_ne(wt[0].entry, wt[1].entry);
}
END_TEST

/* ---- (7) the shared lease ---------------------------------------------------- */

START_TEST(test_lease_denied_polls_and_answers_from_shared)
{
    use_fake_shared();
    struct sg_cache_entry *e = entry_new(200, SUCCEEDED, "vc2");
    fk.lease_default = (struct sg_test_reply){.when = SG_TEST_SYNC, .rc = SG_DENIED};
    fk.gets[0] = (struct sg_test_reply){.when = SG_TEST_ASYNC, .rc = SG_DECLINED};
    fk.gets[1] = (struct sg_test_reply){.when = SG_TEST_ASYNC, .rc = SG_OK, .entry = e};
    fk.ngets = 2;
    uint64_t waits = atomic_load(&ws.metrics->lease_waits);
    ck_assert(join(&wt[0], "task-w", -1));
    ck_assert(join(&wt[1], "task-w", -1));
    ck_assert(run_answers(2));
    for (int i = 0; i < 2; i++) {
        ck_assert_ptr_eq(wt[i].entry, e);
        ck_assert_str_eq(wt[i].cache, "HIT");
        ck_assert_str_eq(wt[i].backend, "-");
    }
    ck_assert_int_eq(srv[0].tasks + srv[1].tasks, 0);
    ck_assert_int_eq(fk.lease_calls, 1);
    ck_assert_int_eq(fk.get_calls, 2);
    ck_assert_int_eq(fk.release_calls, 0); /* never ours */
    ck_assert_uint_eq(atomic_load(&ws.metrics->lease_waits) - waits, 1);
    assert_in_local("task-w", e);
}
END_TEST

START_TEST(test_lease_denied_without_answer_fetches_itself)
{
    /* The holder died: after the lease wait the flight asks the backend. A
     * short request timeout keeps the wait (timeout + 1 s) short. */
    use_fake_shared();
    backends[0].request_timeout_ms = 100;
    backends[1].request_timeout_ms = 100;
    fk.lease_default = (struct sg_test_reply){.when = SG_TEST_ASYNC, .rc = SG_DENIED};
    fk.get_default = (struct sg_test_reply){.when = SG_TEST_ASYNC, .rc = SG_DECLINED};
    sg_test_srv_route(&srv[0], "task-w", answer(200, RUNNING));
    ck_assert(join(&wt[0], "task-w", 0));
    ck_assert(run_answers(1));
    ck_assert_ptr_nonnull(wt[0].entry);
    ck_assert_str_eq(wt[0].backend, "vc1");
    ck_assert_str_eq(wt[0].cache, "MISS");
    ck_assert_int_eq(srv[0].routes[0].hits, 1);
    ck_assert_int_ge(fk.get_calls, 2);
    ck_assert_int_eq(fk.put_calls, 1);
}
END_TEST

START_TEST(test_async_lease_and_miss_fetches)
{
    use_fake_shared();
    fk.lease_default = (struct sg_test_reply){.when = SG_TEST_ASYNC, .rc = SG_OK};
    fk.get_default = (struct sg_test_reply){.when = SG_TEST_ASYNC, .rc = SG_DECLINED};
    sg_test_srv_route(&srv[1], "task-a", answer(200, RUNNING));
    ck_assert(join(&wt[0], "task-a", 1));
    ck_assert(run_answers(1));
    ck_assert_ptr_nonnull(wt[0].entry);
    ck_assert_str_eq(wt[0].backend, "vc2");
    ck_assert_int_eq(fk.lease_calls, 1);
    ck_assert_int_eq(fk.get_calls, 1); /* the look after taking the lease */
    ck_assert_int_eq(fk.release_calls, 1);
    ck_assert_int_eq(srv[0].tasks, 0);
}
END_TEST

START_TEST(test_poll_error_fetches_and_bypasses)
{
    use_fake_shared();
    fk.lease_default = (struct sg_test_reply){.when = SG_TEST_SYNC, .rc = SG_OK};
    fk.get_default = (struct sg_test_reply){.when = SG_TEST_ASYNC, .rc = SG_ERR};
    sg_test_srv_route(&srv[0], "task-e", answer(200, RUNNING));
    ck_assert(join(&wt[0], "task-e", 0));
    ck_assert(run_answers(1));
    ck_assert_ptr_nonnull(wt[0].entry);
    ck_assert_str_eq(wt[0].cache, "BYPASS");
    ck_assert_int_eq(srv[0].routes[0].hits, 1);
}
END_TEST

/* ---- (8) shutdown ------------------------------------------------------------ */

START_TEST(test_cancel_all_answers_every_waiter_once)
{
    use_fake_shared();
    /* a: its fetch is at the backend, which never answers. */
    fk.leases[0] = (struct sg_test_reply){.when = SG_TEST_SYNC, .rc = SG_ERR};
    /* c: its lease is never answered. */
    fk.leases[1] = (struct sg_test_reply){.when = SG_TEST_NEVER};
    fk.nleases = 2;
    struct sg_test_route *ra =
        sg_test_srv_route(&srv[0], "task-a", (struct sg_test_act){.kind = SG_ACT_NEVER});
    ck_assert(join(&wt[0], "task-a", 0));
    ck_assert(join(&wt[1], "task-a", 0));
    ck_assert(sg_test_run_until(base, &ra->hits, 1, WAIT_MS));
    ck_assert(join(&wt[2], "task-c", 0));
    ck_assert(sg_test_run_until(base, &fk.lease_calls, 2, WAIT_MS));
    ck_assert_int_eq(sg_test_shared_pending(&fk), 1);
    /* b: its first step has not run yet. */
    ck_assert(join(&wt[3], "task-b", 1));
    ck_assert_int_eq(ws.flights.count, 3);
    ck_assert_int_eq(answered, 0);

    ws.stopping = true;
    sg_flight_cancel_all(&ws);
    ck_assert_int_eq(ws.flights.count, 0);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(wt[i].calls, 1);
        ck_assert_ptr_null(wt[i].entry);
        ck_assert_int_eq(wt[i].error, SG_E_UNAVAILABLE);
        ck_assert_str_eq(wt[i].backend, "-");
    }
    /* The late callbacks: the never-answered lease now fails, the loop runs
     * the cancelled first step's turn. Nobody is answered twice, nothing
     * new is asked, and ASan sees no use after free or leak. */
    sg_test_shared_fini(&fk);
    sg_test_run_until(base, NULL, 0, 50);
    ck_assert_int_eq(answered, 4);
    ck_assert_int_eq(srv[1].tasks, 0);
    ck_assert_int_eq(ra->hits, 1);
    ck_assert_int_eq(fk.release_calls, 0);
}
END_TEST

/* ---- reloads --------------------------------------------------------------- */

START_TEST(test_reload_removing_the_named_backend_answers_later)
{
    /* Header routing names vc2; a reload between the join and the first step
     * leaves only vc1: the flight must not ask vc1 in its place. */
    struct sg_conf next = conf;
    next.backends_n = 1;
    struct sg_health *health = sg_health_new(&next);
    struct sg_health *old = ws.health;
    ck_assert(join(&wt[0], "task-r", 1));
    ws.conf = &next;
    ws.health = health;
    ck_assert(run_answers(1));
    ws.conf = &conf;
    ws.health = old;
    sg_health_free(health);
    assert_unasked_503(&wt[0], "-", "MISS");
}
END_TEST

/* ---- (10) cache keys ------------------------------------------------------- */

START_TEST(test_cache_key_of_unbound_and_bound_requests)
{
    char key[SG_CACHE_KEY_MAX + 1];
    ck_assert_str_eq(sg_cache_key(&conf, "task-k", -1, key, sizeof(key)), "task-k");
    ck_assert_str_eq(sg_cache_key(&conf, "task-k", 0, key, sizeof(key)), "task-k\x1evc1");
    ck_assert_str_eq(sg_cache_key(&conf, "task-k", 1, key, sizeof(key)), "task-k\x1evc2");
    /* Bounded by cap, always terminated. */
    char small[4];
    ck_assert_str_eq(sg_cache_key(&conf, "task-k", -1, small, sizeof(small)), "tas");
    ck_assert_str_eq(sg_cache_key(&conf, "task-k", 1, small, sizeof(small)), "tas");
}
END_TEST

struct keys_seen {
    int n;
    char keys[4][SG_CACHE_KEY_MAX + 1];
};

static void collect_key(const char *key, void *arg)
{
    struct keys_seen *k = arg;
    ck_assert_int_lt(k->n, 4);
    snprintf(k->keys[k->n++], sizeof(k->keys[0]), "%s", key);
}

START_TEST(test_cache_keys_visit_the_task_and_every_backend)
{
    struct keys_seen k = {0};
    sg_cache_keys(&conf, "task-k", collect_key, &k);
    ck_assert_int_eq(k.n, 3);
    ck_assert_str_eq(k.keys[0], "task-k");
    ck_assert_str_eq(k.keys[1], "task-k\x1evc1");
    ck_assert_str_eq(k.keys[2], "task-k\x1evc2");
}
END_TEST

START_TEST(test_header_routed_answer_is_stored_under_its_backend)
{
    sg_test_srv_route(&srv[1], "task-h", answer(200, RUNNING));
    ck_assert(join(&wt[0], "task-h", 1));
    ck_assert(run_answers(1));
    ck_assert_ptr_nonnull(wt[0].entry);
    ck_assert_str_eq(wt[0].entry->owner, "vc2");
    ck_assert_int_eq(srv[0].tasks, 0);
    assert_in_local("task-h\x1evc2", wt[0].entry);
    assert_not_in_local("task-h");
    assert_not_in_local("task-h\x1evc1");
    /* Not the fan-out owner memory: kept for its freshness only. */
    ck_assert_uint_eq(wt[0].entry->expires_at_ms - wt[0].entry->fetched_at_ms, conf.ttl_running_ms);
}
END_TEST

static Suite *flight_suite(void)
{
    Suite *s = suite_create("flight");
    TCase *tc = tcase_create("fanout");
    tcase_add_checked_fixture(tc, setup_fanout, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_owner_ejected_answers_later);
    tcase_add_test(tc, test_sync_lease_failure_answers_later);
    tcase_add_test(tc, test_sync_lease_failure_with_owner_out_answers_later);
    tcase_add_test(tc, test_sync_lease_and_sync_hit_answers_later);
    tcase_add_test(tc, test_stopping_joins_nothing);
    tcase_add_test(tc, test_waiters_share_one_fetch_and_one_entry);
    tcase_add_test(tc, test_leaver_is_not_answered_and_answer_is_stored);
    tcase_add_test(tc, test_last_leaver_still_fills_the_cache);
    tcase_add_test(tc, test_200_is_stored_in_both_tiers_with_its_owner);
    tcase_add_test(tc, test_404_is_stored_with_the_not_found_ttl);
    tcase_add_test(tc, test_503_is_not_stored_and_may_be_stale);
    tcase_add_loop_test(tc, test_fanout_verdict, 0, (int)SG_ARRAY_LEN(fanout_cases));
    tcase_add_test(tc, test_delegated_200_is_stored_under_its_backend);
    tcase_add_test(tc, test_delegated_404_is_stored_nowhere);
    tcase_add_test(tc, test_delegated_fetch_is_not_shared_with_other_callers);
    tcase_add_test(tc, test_lease_denied_polls_and_answers_from_shared);
    tcase_add_test(tc, test_lease_denied_without_answer_fetches_itself);
    tcase_add_test(tc, test_async_lease_and_miss_fetches);
    tcase_add_test(tc, test_poll_error_fetches_and_bypasses);
    tcase_add_test(tc, test_cancel_all_answers_every_waiter_once);
    tcase_add_test(tc, test_cache_key_of_unbound_and_bound_requests);
    tcase_add_test(tc, test_cache_keys_visit_the_task_and_every_backend);
    suite_add_tcase(s, tc);

    TCase *th = tcase_create("header");
    tcase_add_checked_fixture(th, setup_header, teardown);
    tcase_set_timeout(th, 30);
    tcase_add_test(th, test_named_backend_down_answers_later);
    tcase_add_test(th, test_header_routed_answer_is_stored_under_its_backend);
    tcase_add_test(th, test_reload_removing_the_named_backend_answers_later);
    tcase_add_test(th, test_cache_key_of_unbound_and_bound_requests);
    suite_add_tcase(s, th);
    return s;
}

int main(void)
{
    /* Writes to a peer that hung up must fail, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    SRunner *sr = srunner_create(flight_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
