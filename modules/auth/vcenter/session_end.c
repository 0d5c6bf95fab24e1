/* DELETE /api/session for sessions the vcenter provider no longer remembers.
 *
 * The DELETE itself is fire-and-forget: the call carries no pointer of ours
 * (its callback only counts), so the upstream client may drop it at any time
 * (a backend destroyed at shutdown) without leaving anything of ours behind.
 * Only sessions waiting out their grace belong to the ender. */
#include <event2/event.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "session_end.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "snapgate/call.h"

#define MOD "auth.vcenter"

struct later {
    TAILQ_ENTRY(later) link;
    struct vc_ender *en;
    struct event *timer;
    char *session; /* a secret */
};
TAILQ_HEAD(later_list, later);

struct vc_ender {
    struct event_base *base;
    struct sg_backend_worker *bw;
    uint64_t grace_ms;
    struct later_list waiting;
};

/* Per thread: each worker's enders run on its own loop only. */
static _Thread_local struct vc_ender_stats stats;

struct vc_ender_stats vc_ender_stats(void)
{
    return stats;
}

static void on_deleted(const struct sg_call_result *res, void *arg)
{
    (void)arg;
    /* 401/404: the session had already ended upstream, which is what we wanted. */
    bool gone =
        (res->status >= 200 && res->status < 300) || res->status == 401 || res->status == 404;
    if (gone)
        stats.ended++;
    else
        stats.failed++;
    sg_log_debug(MOD, "delegated session end: %s (HTTP %d); sent %lu, ended %lu, failed %lu",
                 gone          ? "done"
                 : res->status ? "unexpected answer"
                               : res->reason,
                 res->status, stats.sent, stats.ended, stats.failed);
}

static void send_delete(struct vc_ender *en, char *session)
{
    struct sg_http_req req = {.method = "DELETE", .path = sg_xstrdup("/api/session")};
    sg_http_req_add_header(&req, VC_SESSION_HEADER, session);
    sg_wipe_free(session);
    stats.sent++;
    /* The call wipes the header when it is done; its handle is not kept. */
    (void)sg_call_start(en->bw, &req, on_deleted, NULL);
}

static void later_free(struct later *l)
{
    TAILQ_REMOVE(&l->en->waiting, l, link);
    event_free(l->timer);
    free(l);
}

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct later *l = arg;
    struct vc_ender *en = l->en;
    char *session = l->session;
    later_free(l);
    send_delete(en, session);
}

struct vc_ender *vc_ender_new(struct event_base *base, struct sg_backend_worker *bw,
                              uint64_t grace_ms)
{
    struct vc_ender *en = sg_xcalloc(1, sizeof(*en));
    en->base = base;
    en->bw = bw;
    en->grace_ms = grace_ms;
    TAILQ_INIT(&en->waiting);
    return en;
}

/* After loopexit/loopbreak the loop will not run again: a DELETE started
 * then would only be dropped with the backend's connections. */
static bool loop_runs(const struct vc_ender *en)
{
    return en->base && !event_base_got_exit(en->base) && !event_base_got_break(en->base);
}

void vc_ender_end(struct vc_ender *en, char *session, bool now)
{
    if (!session)
        return;
    if (!en->bw || !loop_runs(en)) {
        sg_wipe_free(session);
        stats.dropped++;
        return;
    }
    if (now) {
        send_delete(en, session);
        return;
    }
    struct later *l = sg_xcalloc(1, sizeof(*l));
    l->en = en;
    l->session = session;
    l->timer = evtimer_new(en->base, on_grace, l);
    TAILQ_INSERT_TAIL(&en->waiting, l, link);
    struct timeval tv = sg_timeval_ms(en->grace_ms);
    evtimer_add(l->timer, &tv);
}

void vc_ender_free(struct vc_ender *en)
{
    if (!en)
        return;
    bool runs = loop_runs(en);
    unsigned long dropped = 0;
    struct later *l;
    while ((l = TAILQ_FIRST(&en->waiting)) != NULL) {
        char *session = l->session;
        later_free(l);
        if (runs) {
            send_delete(en, session);
        } else {
            sg_wipe_free(session);
            dropped++;
        }
    }
    if (dropped)
        sg_log_debug(MOD, "stopping: %lu delegated sessions left to expire upstream", dropped);
    stats.dropped += dropped;
    free(en);
}
