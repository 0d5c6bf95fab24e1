/* The process: share-nothing workers (one thread, one event base, one evhtp
 * listener on the shared port through SO_REUSEPORT each), the admin listener
 * and signal handling on the main thread. This file creates, runs and destroys
 * the workers; drain (server_drain.c), reload (server_reload.c) and the purge
 * fan-out (server_purge.c) are the signals' and the admin's jobs.
 *
 * Every listener is bound on the main thread before any thread starts, so a
 * port in use is an exit code 2 at start, not a log line later.
 */
#include <event2/event.h>
#include <event2/thread.h>
#include <evhtp/evhtp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_set.h"
#include "cache/lookup.h"
#include "obs/access_log.h"
#include "process/admin.h"
#include "http/conn.h"
#include "http/conn_parser.h"
#include "cache/flight.h"
#include "upstream/health.h"
#include "upstream/health_check.h"
#include "http/listen.h"
#include "auth/pairs.h"
#include "auth/session.h"
#include "auth/throttle.h"
#include "obs/metrics.h"
#include "process/notify.h"
#include "lib/offload.h"
#include "http/request.h"
#include "process/server.h"
#include "process/server_int.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "snapgate/module.h"
#include "upstream/upstream.h"
#include "worker/wmsg.h"
#include "worker/worker.h"
#include "worker/wstate.h"

#define LISTEN_BACKLOG 1024
#define ACCESS_LOG_FLUSH_MS 100

/* ---- per-worker setup --------------------------------------------------- */

/* A little beyond the upstream timeout, so the fetch's own 503 wins; with a
 * shared tier a request may first wait for another replica's lease. */
uint64_t sg_server_deadline_for(const struct sg_conf *conf)
{
    uint64_t d = sg_flight_lease_ms(conf);
    if (conf->shared_cache)
        d += sg_flight_lease_wait_ms(conf);
    return d;
}

static void on_shared_purge(void *ctx, const char *key)
{
    sg_cache_drop_local(ctx, key);
}

static void on_stats_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_wstate *ws = arg;
    struct sg_cache_stats st = {0};
    ws->shared_ops->stats(ws->shared, &st);
    sg_metrics_shared_stats(ws, &st);
}

static void on_log_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    sg_access_log_flush();
}

static struct sg_wstate *worker_create(struct sg_server *s, unsigned id)
{
    const struct sg_conf *conf = s->conf;
    struct sg_wstate *ws = sg_xcalloc(1, sizeof(*ws));
    LIST_INIT(&ws->conns);
    LIST_INIT(&ws->lingerers);
    /* The changelist folds the enable/disable pairs bufferevents make in one
     * loop turn into one epoll_ctl (or none): a hit costs fewer syscalls. */
    struct event_config *cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    ws->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (!ws->base)
        abort();
    ws->worker = sg_worker_new(id, ws->base);
    ws->worker->server = ws;
    ws->conf = conf;
    ws->health = s->health;
    ws->sessions = s->sessions;
    ws->metrics = sg_metrics_register(id);
    ws->mq = sg_wmsg_queue_new(ws->base);
    sg_strmap_init(&ws->flights);
    sg_pairs_init(&ws->pairs);
    ws->failures = sg_xcalloc(1, sizeof(*ws->failures));
    sg_throttle_init(ws->failures);
    ws->deadline_ms = sg_server_deadline_for(conf);

    ws->local_module = sg_module_find(SG_MOD_CACHE, "memory");
    ws->local_ops = ws->local_module->ops;
    struct sg_conf_errs errs = {.file = "cache"};
    ws->local_module->conf(NULL, "cache", conf, &errs, &ws->local_priv);
    ws->local = ws->local_module->worker_init(ws->local_priv, ws->worker);

    if (conf->shared_cache) {
        ws->shared_module = conf->shared_cache;
        ws->shared_ops = conf->shared_cache->ops;
        ws->shared = ws->shared_module->worker_init(conf->shared_cache_priv, ws->worker);
        /* Any replica's purge drops this worker's local copy. */
        ws->shared_ops->on_purge(ws->shared, on_shared_purge, ws);
        ws->stats_timer = event_new(ws->base, -1, EV_PERSIST, on_stats_timer, ws);
        on_stats_timer(-1, 0, ws); /* the series exist from the start */
        struct timeval tv = {.tv_sec = 1, .tv_usec = 0};
        evtimer_add(ws->stats_timer, &tv);
    }

    ws->log_timer = event_new(ws->base, -1, EV_PERSIST, on_log_flush, ws);
    struct timeval flush_every = {.tv_sec = 0, .tv_usec = ACCESS_LOG_FLUSH_MS * 1000};
    evtimer_add(ws->log_timer, &flush_every);

    ws->nbackends = conf->backends_n;
    ws->backends = sg_xcalloc(ws->nbackends ? ws->nbackends : 1, sizeof(*ws->backends));
    for (size_t i = 0; i < ws->nbackends; i++)
        ws->backends[i] = sg_backend_worker_create(ws->base, &conf->backends[i], id);
    /* After the backends: a delegating provider talks to its backend. */
    ws->auth = sg_auth_set_create(conf, ws->worker);

    ws->htp = evhtp_new(ws->base, NULL);
    evhtp_enable_flag(ws->htp, EVHTP_FLAG_ENABLE_REUSEPORT | EVHTP_FLAG_ENABLE_NODELAY);
    evhtp_set_gencb(ws->htp, sg_request_on_http, ws);
    evhtp_set_post_accept_cb(ws->htp, sg_conn_on_accept, ws);
    return ws;
}

static void worker_destroy(struct sg_wstate *ws)
{
    /* Nothing new starts; the shared tier's pending callbacks (which fini
     * runs) and the flights' answers all see that. */
    ws->stopping = true;
    /* First: after a drain timeout, password checks may still be queued on the
     * pool. Their callers (and through them the auth set that owns the port)
     * would outlive this loop, and a pool thread would wake a freed base. */
    sg_offload_cancel_base(ws->base);
    if (ws->stats_timer)
        event_free(ws->stats_timer);
    event_free(ws->log_timer);
    sg_flight_cancel_all(ws);
    /* Only after a drain timeout are requests left: free them and their
     * connections while the modules they hold on to still exist. */
    sg_conn_close_all(ws);
    if (ws->shared)
        ws->shared_module->worker_fini(ws->shared);
    sg_strmap_destroy(&ws->flights);
    sg_pairs_destroy(&ws->pairs);
    sg_throttle_destroy(ws->failures);
    free(ws->failures);
    /* Before the backends: a delegating provider has calls on them. */
    sg_auth_set_put(ws->auth);
    for (size_t i = 0; i < ws->nbackends; i++)
        sg_backend_worker_destroy(ws->backends[i]);
    free(ws->backends);
    for (size_t r = 0; r < ws->nretired_backends; r++) {
        for (size_t i = 0; i < ws->retired_backends[r].n; i++)
            sg_backend_worker_destroy(ws->retired_backends[r].v[i]);
        free(ws->retired_backends[r].v);
    }
    free(ws->retired_backends);
    ws->local_module->worker_fini(ws->local);
    ws->local_module->free_conf(ws->local_priv);
    evhtp_unbind_socket(ws->htp);
    evhtp_free(ws->htp);
    sg_accept_guard_free(ws->accept_guard);
    sg_wmsg_queue_free(ws->mq);
    event_base_free(ws->base);
    sg_worker_free(ws->worker);
    for (unsigned i = 0; i < ws->nspare_requests; i++)
        free(ws->spare_requests[i]);
    sg_conn_parsers_free(ws);
    free(ws);
}

static void *worker_main(void *arg)
{
    struct sg_wstate *ws = arg;
    struct sg_server *s = ws->server_ctx;
    event_base_dispatch(ws->base);
    sg_access_log_flush();
    atomic_fetch_add(&s->exited, 1);
    return NULL;
}

/* ---- signals ------------------------------------------------------------- */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct sg_server *s = arg;
    if (sig == SIGHUP) {
        /* The manager hears the reload end whatever its outcome: a refused
         * file leaves the old config serving. */
        sg_notify_reloading();
        sg_server_reload(s);
        sg_notify_ready();
    } else
        sg_server_start_drain(s);
}

/* ---- run -------------------------------------------------------------------- */

int sg_server_run(struct sg_conf *conf, void (*on_ready)(void))
{
    int rc = 2;
    struct sg_server *s = sg_xcalloc(1, sizeof(*s));
    s->conf = conf;
    s->base = event_base_new();
    s->mq = sg_wmsg_queue_new(s->base);
    s->nworkers = conf->workers;
    s->workers = sg_xcalloc(s->nworkers, sizeof(*s->workers));
    s->threads = sg_xcalloc(s->nworkers, sizeof(*s->threads));
    s->health = sg_health_new(conf);
    s->sessions = sg_session_table_new();

    unsigned created = 0;
    for (; created < s->nworkers; created++) {
        s->workers[created] = worker_create(s, created);
        s->workers[created]->server_ctx = s;
        if (sg_listen_bind(s->workers[created]->htp, conf->listen, LISTEN_BACKLOG) != SG_OK) {
            sg_log_error("server", "cannot listen on %s: address in use or not available",
                         conf->listen);
            created++;
            goto fail;
        }
        /* Created here, before the worker's thread runs, and used only there. */
        s->workers[created]->accept_guard =
            sg_accept_guard_new(s->workers[created]->htp, "server", s->workers[created]);
    }
    s->admin = sg_admin_create(s->base, conf, sg_server_purge, s);
    if (!s->admin) {
        sg_log_error("server", "cannot listen on admin address %s: in use or not available",
                     conf->admin_listen);
        goto fail;
    }
    sg_admin_set_health(s->admin, s->health);
    /* Before the workers run: health is being learned as traffic arrives. */
    s->health_checker = sg_health_checker_start(s->base, s->health);

    signal(SIGPIPE, SIG_IGN);
    int sigs[3] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        s->signals[i] = evsignal_new(s->base, sigs[i], on_signal, s);
        evsignal_add(s->signals[i], NULL);
    }

    for (unsigned i = 0; i < s->nworkers; i++)
        pthread_create(&s->threads[i], NULL, worker_main, s->workers[i]);
    sg_log_info("server", "snapgate %s listening on %s (admin %s), %u worker(s), %zu backend(s)",
                SNAPGATE_VERSION, conf->listen, conf->admin_listen, conf->workers,
                conf->backends_n);
    sg_admin_set_ready(s->admin);
    if (on_ready)
        on_ready();
    sg_notify_ready();

    event_base_dispatch(s->base);
    for (unsigned i = 0; i < s->nworkers; i++)
        pthread_join(s->threads[i], NULL);
    sg_log_info("server", "drained: closing the cache and backend connections");
    rc = 0;

fail:
    sg_health_checker_stop(s->health_checker);
    for (unsigned i = 0; i < created; i++)
        worker_destroy(s->workers[i]);
    sg_admin_destroy(s->admin);
    sg_health_free(s->health);
    sg_session_table_free(s->sessions);
    for (size_t i = 0; i < s->nretired_health; i++)
        sg_health_free(s->retired_health[i]);
    free(s->retired_health);
    for (int i = 0; i < 3; i++)
        if (s->signals[i])
            event_free(s->signals[i]);
    if (s->reap_timer)
        event_free(s->reap_timer);
    if (s->listen_grace)
        event_free(s->listen_grace);
    if (s->drain_deadline)
        event_free(s->drain_deadline);
    sg_wmsg_queue_free(s->mq);
    event_base_free(s->base);
    for (size_t i = 0; i < s->nretired; i++)
        sg_conf_free(s->retired[i]);
    free(s->retired);
    sg_conf_free(s->conf);
    if (rc == 0)
        sg_log_info("server", "stopped");
    sg_access_log_flush(); /* lines of requests answered while workers stopped */
    free(s->workers);
    free(s->threads);
    free(s);
    return rc;
}
