/* Reload (SIGHUP), on the main thread: the config file is loaded again and,
 * when conf_diff finds nothing that needs a restart, swapped in. Each worker
 * gets the new config through its queue; when the backends changed it builds
 * new clients for them and retires the old ones. Old configs, health tables
 * and clients are retired, never freed early: requests that began before the
 * swap still point into them. */
#include <stdlib.h>

#include "auth/auth_set.h"
#include "process/admin.h"
#include "conf/conf_diff.h"
#include "upstream/health.h"
#include "upstream/health_check.h"
#include "obs/metrics.h"
#include "process/server_int.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "upstream/upstream.h"
#include "worker/wmsg.h"
#include "worker/worker.h"
#include "worker/wstate.h"

struct swap {
    struct sg_wstate *ws;
    const struct sg_conf *conf;
    struct sg_health *health; /* with new backends: their health; NULL: backends kept */
};

/* Backend clients for ws's (new) conf: a backend whose settings did not
 * change keeps its client (connections, session); the others get new ones.
 * Replaced clients are retired, not freed: fetches, calls and auth sets that
 * started before the swap still hold them, and they are few (one set per
 * backend reload); worker_destroy frees them. */
static void worker_swap_backends(struct sg_wstate *ws, const struct sg_conf *old,
                                 struct sg_health *health)
{
    struct sg_backend_worker **prev = ws->backends;
    size_t nprev = ws->nbackends;
    ws->nbackends = ws->conf->backends_n;
    ws->backends = sg_xcalloc(ws->nbackends ? ws->nbackends : 1, sizeof(*ws->backends));
    for (size_t i = 0; i < ws->nbackends; i++) {
        const struct sg_conf_backend *b = &ws->conf->backends[i];
        for (size_t j = 0; j < nprev && !ws->backends[i]; j++)
            if (prev[j] && sg_conf_backend_equal(&old->backends[j], b)) {
                ws->backends[i] = prev[j];
                prev[j] = NULL;
            }
        if (!ws->backends[i])
            ws->backends[i] = sg_backend_worker_create(ws->base, b, sg_worker_id(ws->worker));
    }
    ws->retired_backends = sg_xrealloc(ws->retired_backends,
                                       (ws->nretired_backends + 1) * sizeof(*ws->retired_backends));
    ws->retired_backends[ws->nretired_backends].v = prev;
    ws->retired_backends[ws->nretired_backends].n = nprev;
    ws->nretired_backends++;
    ws->health = health;
    /* The per-backend counters are by position: a new set starts them over. */
    sg_metrics_backends_reset(ws);
}

static void on_worker_swap(void *arg)
{
    struct swap *sw = arg;
    struct sg_wstate *ws = sw->ws;
    /* Requests in the middle of a check keep the old set until they finish. */
    sg_auth_set_put(ws->auth);
    const struct sg_conf *old = ws->conf;
    ws->conf = sw->conf;
    ws->deadline_ms = sg_server_deadline_for(sw->conf);
    if (sw->health)
        worker_swap_backends(ws, old, sw->health);
    /* After the backends: a delegating provider talks to its backend. */
    ws->auth = sg_auth_set_create(sw->conf, ws->worker);
    free(sw);
}

void sg_server_reload(struct sg_server *s)
{
    if (!s->conf->path) {
        sg_log_warn("server", "SIGHUP: no config file to reload (started without -c)");
        return;
    }
    if (atomic_load(&s->draining)) {
        /* The workers may have stopped reading their queues. */
        sg_log_warn("server", "SIGHUP while draining: not reloaded");
        return;
    }
    struct sg_conf_errs errs = {.file = s->conf->path};
    struct sg_conf *next = sg_conf_load(s->conf->path, &errs);
    struct sg_conf_diff diff = {0};
    if (next)
        sg_conf_diff(s->conf, next, &diff);
    /* A key built once per process cannot change in place: refuse rather
     * than half-apply. */
    if (!next || diff.fixed_key) {
        for (size_t i = 0; i < errs.n; i++)
            sg_log_error("config", "%s", errs.msgs[i]);
        if (diff.fixed_key)
            sg_log_error("config",
                         "reload refused: %s changed (needs a restart); the running config stays",
                         diff.fixed_key);
        else
            sg_log_error("config", "reload failed: the running config stays");
        sg_conf_errs_clear(&errs);
        sg_conf_free(next);
        sg_admin_count_reload(s->admin, false);
        return;
    }
    sg_conf_errs_clear(&errs);
    struct sg_health *health = NULL;
    if (diff.backends_changed) {
        /* New clients, new health: probes start over for the new set. */
        health = sg_health_new(next);
        sg_health_carry_over(health, s->health, sg_conf_backend_equal);
        sg_health_checker_stop(s->health_checker);
        s->retired_health =
            sg_xrealloc(s->retired_health, (s->nretired_health + 1) * sizeof(*s->retired_health));
        s->retired_health[s->nretired_health++] = s->health;
        s->health = health;
        s->health_checker = sg_health_checker_start(s->base, health);
        sg_admin_set_health(s->admin, health);
        sg_log_info("config", "backends changed: %zu backend(s) now", next->backends_n);
    }
    /* Backends keep pointing into the old object: retire it, never free it early. */
    s->retired = sg_xrealloc(s->retired, (s->nretired + 1) * sizeof(*s->retired));
    s->retired[s->nretired++] = s->conf;
    s->conf = next;
    sg_log_setup((enum sg_log_level)next->log_level, (enum sg_log_format)next->log_format);
    for (unsigned i = 0; i < s->nworkers; i++) {
        struct swap *sw = sg_xcalloc(1, sizeof(*sw));
        sw->ws = s->workers[i];
        sw->conf = next;
        sw->health = health;
        sg_wmsg_post(s->workers[i]->mq, on_worker_swap, sw);
    }
    sg_admin_set_conf(s->admin, next);
    sg_admin_count_reload(s->admin, true);
    sg_log_info("config", "reloaded %s", next->path);
}
