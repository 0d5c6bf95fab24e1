#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/health_check.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "upstream/upstream.h"

#define MOD "health"
/* The probers' backend-workers are told apart from the workers' in debug logs. */
#define PROBE_WORKER_ID 1000u

struct probe {
    struct sg_health_checker *c;
    size_t index;
    struct sg_backend_worker *bw;
    struct sg_call *call;  /* the probe in flight, NULL between probes */
    struct event *tick;    /* next probe */
    struct event *timeout; /* the probe in flight took too long */
    uint64_t started_ms;
};

struct sg_health_checker {
    struct sg_health *h;
    size_t n;
    struct probe *v;
};

static void schedule(struct probe *p, uint64_t ms)
{
    struct timeval tv = sg_timeval_ms(ms);
    evtimer_add(p->tick, &tv);
}

static void probe_done(struct probe *p, bool ok, int status, const char *why)
{
    const struct sg_conf_backend *b = p->c->h->v[p->index].b;
    p->call = NULL;
    event_del(p->timeout);
    if (!ok)
        sg_log_debug(MOD, "backend %s: probe GET %s failed: %s (HTTP %d)", b->name, b->health_path,
                     why, status);
    sg_health_probe_result(p->c->h, p->index, ok);
    uint64_t spent = sg_now_ms() - p->started_ms;
    schedule(p, spent < b->health_interval_ms ? b->health_interval_ms - spent : 0);
}

static void on_probe_answer(const struct sg_call_result *res, void *arg)
{
    struct probe *p = arg;
    bool ok = res->status > 0 && res->status < 500;
    probe_done(p, ok, res->status, res->status ? "server error" : res->reason);
}

static void on_probe_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct probe *p = arg;
    /* The call's own connection goes with it: a hung server keeps nothing. */
    sg_call_cancel(p->call);
    probe_done(p, false, 0, "no answer within health_check.timeout");
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct probe *p = arg;
    const struct sg_conf_backend *b = p->c->h->v[p->index].b;
    struct sg_http_req req = {.method = "GET", .path = sg_xstrdup(b->health_path)};
    sg_http_req_add_header(&req, "Accept", "*/*");
    p->started_ms = sg_now_ms();
    uint64_t ms = b->health_timeout_ms;
    struct timeval tv = sg_timeval_ms(ms);
    evtimer_add(p->timeout, &tv);
    p->call = sg_call_start(p->bw, &req, on_probe_answer, p);
}

struct sg_health_checker *sg_health_checker_start(struct event_base *base, struct sg_health *h)
{
    struct sg_health_checker *c = sg_xcalloc(1, sizeof(*c));
    c->h = h;
    c->n = h->n;
    c->v = sg_xcalloc(c->n ? c->n : 1, sizeof(*c->v));
    for (size_t i = 0; i < c->n; i++) {
        struct probe *p = &c->v[i];
        p->c = c;
        p->index = i;
        if (!h->v[i].b->health_enabled)
            continue;
        /* Never NULL: a backend whose TLS does not load fails the config. */
        p->bw = sg_backend_worker_create(base, h->v[i].b, PROBE_WORKER_ID);
        p->tick = evtimer_new(base, on_tick, p);
        p->timeout = evtimer_new(base, on_probe_timeout, p);
        if (!p->tick || !p->timeout)
            abort();
        schedule(p, 0);
    }
    return c;
}

void sg_health_checker_stop(struct sg_health_checker *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        struct probe *p = &c->v[i];
        if (p->call)
            sg_call_cancel(p->call);
        if (p->tick)
            event_free(p->tick);
        if (p->timeout)
            event_free(p->timeout);
        sg_backend_worker_destroy(p->bw);
    }
    free(c->v);
    free(c);
}
