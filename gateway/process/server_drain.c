/* Drain (README "Drain"), on the main thread: readiness fails at once, the
 * listeners stay open for min(LISTEN_GRACE_MAX_MS, drain_timeout / 4) after
 * the signal, so a load balancer polling /readyz sees the 503 and stops
 * sending before connections are refused; the worker loops are stopped at
 * drain_timeout minus min(TEARDOWN_RESERVE_MAX_MS, drain_timeout / 10), which
 * leaves the time to close Redis and the backends and still exit within
 * drain_timeout. Each worker ends by itself once its last request is done
 * (sg_worker_drain). */
#include <event2/event.h>
#include <stdatomic.h>

#include "process/admin.h"
#include "process/notify.h"
#include "process/server.h"
#include "process/server_int.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "worker/wmsg.h"
#include "worker/worker.h"
#include "worker/wstate.h"

#define REAP_INTERVAL_MS 20
#define LISTEN_GRACE_MAX_MS 1000
#define TEARDOWN_RESERVE_MAX_MS 250

static void on_worker_drain(void *arg)
{
    sg_worker_drain(arg);
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_server *s = arg;
    if (atomic_load(&s->exited) == s->nworkers)
        event_base_loopexit(s->base, NULL);
}

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_server *s = arg;
    sg_log_warn("server", "drain timeout: stopping with requests still in flight");
    for (unsigned i = 0; i < s->nworkers; i++)
        event_base_loopbreak(s->workers[i]->base);
}

static void on_listen_grace(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_server *s = arg;
    sg_log_info("server", "draining: listeners closed, waiting for in-flight requests");
    for (unsigned i = 0; i < s->nworkers; i++)
        sg_wmsg_post(s->workers[i]->mq, on_worker_drain, s->workers[i]);
}

uint64_t sg_server_listen_grace_ms(uint64_t drain_timeout_ms)
{
    uint64_t g = drain_timeout_ms / 4;
    return g < LISTEN_GRACE_MAX_MS ? g : LISTEN_GRACE_MAX_MS;
}

uint64_t sg_server_stop_after_ms(uint64_t drain_timeout_ms)
{
    uint64_t reserve = drain_timeout_ms / 10;
    if (reserve > TEARDOWN_RESERVE_MAX_MS)
        reserve = TEARDOWN_RESERVE_MAX_MS;
    return drain_timeout_ms - reserve;
}

void sg_server_start_drain(struct sg_server *s)
{
    if (atomic_exchange(&s->draining, 1))
        return;
    sg_notify_stopping();
    uint64_t timeout = s->conf->drain_timeout_ms;
    sg_log_info("server",
                "draining: readiness fails now, listeners close in %llu ms, in-flight requests "
                "have until %llu ms",
                (unsigned long long)sg_server_listen_grace_ms(timeout),
                (unsigned long long)sg_server_stop_after_ms(timeout));
    sg_admin_set_draining(s->admin);
    struct timeval grace = sg_timeval_ms(sg_server_listen_grace_ms(timeout));
    s->listen_grace = evtimer_new(s->base, on_listen_grace, s);
    evtimer_add(s->listen_grace, &grace);
    struct timeval tv = sg_timeval_ms(sg_server_stop_after_ms(timeout));
    s->drain_deadline = evtimer_new(s->base, on_drain_deadline, s);
    evtimer_add(s->drain_deadline, &tv);
    struct timeval reap = {.tv_sec = 0, .tv_usec = REAP_INTERVAL_MS * 1000};
    s->reap_timer = event_new(s->base, -1, EV_PERSIST, on_reap, s);
    evtimer_add(s->reap_timer, &reap);
}
