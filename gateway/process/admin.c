#include <event2/buffer.h>
#include <evhtp/evhtp.h>
#include <stdlib.h>
#include <string.h>

#include "process/admin.h"
#include "upstream/health.h"
#include "http/listen.h"
#include "obs/metrics.h"
#include "http/router.h"
#include "snapgate/common.h"

struct sg_admin {
    sg_admin_purge_fn purge;
    void *purge_ctx;
    evhtp_t *htp;
    struct sg_accept_guard *accept_guard; /* no spinning at the descriptor limit either */
    const struct sg_conf *conf;
    const struct sg_health *health;
    bool ready;
    bool draining;
    unsigned long long reloads_ok, reloads_failed;
};

static void reply(evhtp_request_t *req, int status, const char *type, const char *body)
{
    evhtp_headers_add_header(req->headers_out, evhtp_header_new("Content-Type", type, 0, 0));
    if (body)
        evbuffer_add(req->buffer_out, body, strlen(body));
    evhtp_send_reply(req, (evhtp_res)status);
}

/* Ready: config loaded, listeners bound, a backend known healthy, not draining. */
static void on_readyz(evhtp_request_t *req, struct sg_admin *a)
{
    if (a->draining)
        reply(req, 503, "application/json", "{\"status\":\"draining\"}\n");
    else if (!a->ready)
        reply(req, 503, "application/json", "{\"status\":\"starting\"}\n");
    else if (a->conf->backends_n == 0)
        reply(req, 503, "application/json", "{\"status\":\"no backend configured\"}\n");
    else if (a->health && !sg_health_ready(a->health, sg_now_ms()))
        reply(req, 503, "application/json", "{\"status\":\"no backend is usable\"}\n");
    else
        reply(req, 200, "application/json", "{\"status\":\"ready\"}\n");
}

static void on_metrics(evhtp_request_t *req, struct sg_admin *a)
{
    sg_metrics_render(req->buffer_out);
    sg_metrics_render_backends(req->buffer_out, a->conf, a->health);
    evbuffer_add_printf(req->buffer_out,
                        "# HELP snapgate_config_reloads_total Config reloads by result.\n"
                        "# TYPE snapgate_config_reloads_total counter\n"
                        "snapgate_config_reloads_total{result=\"ok\"} %llu\n"
                        "snapgate_config_reloads_total{result=\"failed\"} %llu\n"
                        "# HELP snapgate_draining Whether the process is draining.\n"
                        "# TYPE snapgate_draining gauge\n"
                        "snapgate_draining %d\n",
                        a->reloads_ok, a->reloads_failed, a->draining ? 1 : 0);
    reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", NULL);
}

static void on_purged(void *arg)
{
    evhtp_request_t *req = arg;
    evhtp_send_reply(req, EVHTP_RES_NOCONTENT);
    evhtp_request_resume(req);
}

static void on_admin_http(evhtp_request_t *req, void *arg)
{
    struct sg_admin *a = arg;
    const char *path =
        req->uri && req->uri->path && req->uri->path->full ? req->uri->path->full : "";
    htp_method m = evhtp_request_get_method(req);
    static const char purge_prefix[] = "/cache/tasks/";
    if (m == htp_method_GET && strcmp(path, "/healthz") == 0) {
        reply(req, 200, "application/json", "{\"status\":\"ok\"}\n");
    } else if (m == htp_method_GET && strcmp(path, "/readyz") == 0) {
        on_readyz(req, a);
    } else if (m == htp_method_GET && strcmp(path, "/metrics") == 0) {
        on_metrics(req, a);
    } else if (m == htp_method_DELETE &&
               strncmp(path, purge_prefix, sizeof(purge_prefix) - 1) == 0) {
        const char *seg = path + sizeof(purge_prefix) - 1;
        char task[SG_TASK_ID_MAX + 1];
        const char *why = NULL;
        if (strchr(seg, '/') || sg_task_id_decode(seg, strlen(seg), task, sizeof(task), &why)) {
            reply(req, 400, "application/json",
                  "{\"error_type\":\"INVALID_ARGUMENT\",\"messages\":[{\"id\":\"com.vmware."
                  "snapgate.invalid_task_id\",\"default_message\":\"The task identifier is not "
                  "valid.\",\"args\":[]}]}");
            return;
        }
        evhtp_request_pause(req);
        a->purge(a->purge_ctx, task, on_purged, req);
    } else {
        reply(req, 404, "application/json",
              "{\"error_type\":\"NOT_FOUND\",\"messages\":[{\"id\":\"com.vmware.snapgate.path."
              "not_found\",\"default_message\":\"No operation is served at this path.\","
              "\"args\":[]}]}");
    }
}

struct sg_admin *sg_admin_create(struct event_base *base, const struct sg_conf *conf,
                                 sg_admin_purge_fn purge, void *purge_ctx)
{
    struct sg_admin *a = sg_xcalloc(1, sizeof(*a));
    a->purge = purge;
    a->purge_ctx = purge_ctx;
    a->conf = conf;
    a->htp = evhtp_new(base, NULL);
    evhtp_set_gencb(a->htp, on_admin_http, a);
    if (sg_listen_bind(a->htp, conf->admin_listen, 128) != SG_OK) {
        sg_admin_destroy(a);
        return NULL;
    }
    a->accept_guard = sg_accept_guard_new(a->htp, "admin", NULL);
    return a;
}

void sg_admin_destroy(struct sg_admin *a)
{
    if (!a)
        return;
    evhtp_unbind_socket(a->htp);
    evhtp_free(a->htp);
    sg_accept_guard_free(a->accept_guard);
    free(a);
}

void sg_admin_set_ready(struct sg_admin *a)
{
    a->ready = true;
}

void sg_admin_set_draining(struct sg_admin *a)
{
    a->draining = true;
}

void sg_admin_set_conf(struct sg_admin *a, const struct sg_conf *conf)
{
    a->conf = conf;
}

void sg_admin_count_reload(struct sg_admin *a, bool ok)
{
    if (ok)
        a->reloads_ok++;
    else
        a->reloads_failed++;
}

void sg_admin_set_health(struct sg_admin *a, const struct sg_health *h)
{
    a->health = h;
}
