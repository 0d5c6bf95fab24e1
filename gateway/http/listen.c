/* Binding an evhtp listener to a "host:port" from the config, and keeping it
 * from spinning when accept() fails. */
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>

#include "http/listen.h"
#include "obs/metrics.h"
#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/log.h"

int sg_listen_bind(evhtp_t *htp, const char *hostport, int backlog)
{
    char *host = NULL;
    uint16_t port = 0;
    if (sg_parse_hostport(hostport, &host, &port) != SG_OK)
        return SG_ERR;
    /* evhtp takes IPv6 addresses with an "ipv6:" prefix. */
    char *addr = strchr(host, ':') ? sg_xasprintf("ipv6:%s", host) : sg_xstrdup(host);
    int rc = evhtp_bind_socket(htp, addr, port, backlog);
    free(addr);
    free(host);
    return rc == 0 ? SG_OK : SG_ERR;
}

/* ---- accept failures ------------------------------------------------------ */

#define REPORT_EVERY_MS 1000

struct sg_accept_guard {
    evhtp_t *htp;
    const char *module;
    struct sg_wstate *ws;
    struct event *resume; /* ends a pause */
    struct event *report; /* writes what was counted since the last line */
    uint64_t failed;      /* accept() failures not yet logged */
    int last_err;
    uint64_t refused; /* connections over the cap not yet logged */
    unsigned long long cap;
    uint64_t last_report_ms; /* 0: never */
};

static const char *accept_err_text(int err)
{
    /* strerror() is not thread-safe; these are the ones that happen here. */
    switch (err) {
    case EMFILE:
        return "too many open files (the process's limit, ulimit -n)";
    case ENFILE:
        return "too many open files (the system's limit)";
    case ENOBUFS:
    case ENOMEM:
        return "out of memory for sockets";
    default:
        return "accept() error";
    }
}

static void report_now(struct sg_accept_guard *g, uint64_t now)
{
    if (g->failed)
        sg_log_warn(g->module,
                    "accept() failed %llu time(s) in the last second: %s (errno %d); the "
                    "listener pauses %d ms after each failure",
                    (unsigned long long)g->failed, accept_err_text(g->last_err), g->last_err,
                    SG_ACCEPT_PAUSE_MS);
    if (g->refused)
        sg_log_warn(g->module,
                    "%llu connection(s) closed at once in the last second: max_connections (%llu) "
                    "reached",
                    (unsigned long long)g->refused, g->cap);
    g->failed = g->refused = 0;
    g->last_report_ms = now;
}

static void on_report(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    report_now(arg, sg_now_ms());
}

/* Logs at once when the last line is a second old, else counts and leaves the
 * line to the report timer: one line a second at most, and no count lost. */
static void noted(struct sg_accept_guard *g)
{
    uint64_t now = sg_now_ms();
    if (g->last_report_ms == 0 || now - g->last_report_ms >= REPORT_EVERY_MS) {
        report_now(g, now);
        return;
    }
    if (!evtimer_pending(g->report, NULL)) {
        struct timeval tv = sg_timeval_ms(g->last_report_ms + REPORT_EVERY_MS - now);
        evtimer_add(g->report, &tv);
    }
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_accept_guard *g = arg;
    /* A drain may have closed the listener meanwhile. */
    if (g->htp->server)
        evconnlistener_enable(g->htp->server);
}

/* arg is the listener's own (evhtp's) argument, the evhtp_t. */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    int err = EVUTIL_SOCKET_ERROR();
    struct sg_accept_guard *g = ((evhtp_t *)arg)->arg;
    evconnlistener_disable(lev);
    struct timeval tv = sg_timeval_ms(SG_ACCEPT_PAUSE_MS);
    evtimer_add(g->resume, &tv);
    g->failed++;
    g->last_err = err;
    if (g->ws)
        sg_metrics_conn_refused(g->ws, err == EMFILE || err == ENFILE ? SG_REFUSED_EMFILE
                                                                      : SG_REFUSED_ERROR);
    noted(g);
}

struct sg_accept_guard *sg_accept_guard_new(evhtp_t *htp, const char *module, struct sg_wstate *ws)
{
    struct sg_accept_guard *g = sg_xcalloc(1, sizeof(*g));
    g->htp = htp;
    g->module = module;
    g->ws = ws;
    g->resume = evtimer_new(htp->evbase, on_resume, g);
    g->report = evtimer_new(htp->evbase, on_report, g);
    if (!g->resume || !g->report) {
        sg_log_error(module, "out of memory creating the listener's timers");
        abort();
    }
    /* Without an error callback libevent logs every failure itself and
     * returns to a listener that is still readable: a tight loop. libevent
     * hands the callback the listener's argument (the evhtp_t), so the guard
     * lives in the evhtp_t's user slot. */
    if (htp->arg) {
        sg_log_error(module, "the listener's user slot is taken: cannot guard accept()");
        abort();
    }
    htp->arg = g;
    if (htp->server)
        evconnlistener_set_error_cb(htp->server, on_accept_error);
    return g;
}

void sg_accept_guard_refused(struct sg_accept_guard *g, unsigned long long cap)
{
    g->refused++;
    g->cap = cap;
    if (g->ws)
        sg_metrics_conn_refused(g->ws, SG_REFUSED_LIMIT);
    noted(g);
}

void sg_accept_guard_free(struct sg_accept_guard *g)
{
    if (!g)
        return;
    event_free(g->resume);
    event_free(g->report);
    free(g);
}
