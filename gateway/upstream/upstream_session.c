/* The service account's session with a backend: one login in flight per
 * backend-worker, its answer parsed by the dialect, the session kept until the
 * backend refuses it, and the hold-off after refused credentials. The fetches
 * waiting in bw->login_waiters are resumed or failed by upstream_fetch.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <openssl/crypto.h>

#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/log.h"
#include "upstream/upstream_int.h"

#define MOD "upstream"

void sg_session_drop(struct sg_backend_worker *bw)
{
    if (bw->session) {
        OPENSSL_cleanse(bw->session, strlen(bw->session));
        free(bw->session);
    }
    bw->session = NULL;
}

static const char *lookup_header(void *ctx, const char *name)
{
    return evhttp_find_header(ctx, name);
}

/* Runs inside evhttp's callback, while the answer's headers exist. */
static void on_login_answer(struct sg_exchange *ex, struct evhttp_request *hreq)
{
    struct sg_backend_worker *bw = ex->bw;
    ex->login_rc = bw->ops->parse_login(bw->dpriv, ex->status, lookup_header,
                                        evhttp_request_get_input_headers(hreq), ex->body,
                                        ex->body_len, &ex->session, ex->reason, sizeof(ex->reason));
    if (ex->login_rc == SG_OK && !ex->session) {
        ex->login_rc = SG_ERR;
        snprintf(ex->reason, sizeof(ex->reason), "no session in the login answer");
    }
}

static void on_login_done(struct sg_exchange *ex)
{
    struct sg_backend_worker *bw = ex->bw;
    char reason[200];
    bw->login_busy = false;
    if (ex->err != SG_EXERR_NONE) {
        snprintf(reason, sizeof(reason), "%s", ex->reason);
    } else if (ex->login_rc == SG_OK) {
        sg_session_drop(bw);
        bw->session = ex->session;
        ex->session = NULL;
        bw->session_gen++;
        /* The request held the credentials, the answer the session. */
        sg_ex_abort(ex);
        sg_log_debug(MOD, "backend %s: service account logged in (worker %u)", bw->b->name,
                     bw->worker_id);
        sg_fetch_login_ok(bw);
        return;
    } else if (ex->login_rc == SG_DENIED) {
        snprintf(reason, sizeof(reason),
                 "backend rejected the service account credentials (HTTP %d)", ex->status);
        bw->login_holdoff_until = sg_now_ms() + SG_UPSTREAM_LOGIN_HOLDOFF_MS;
        snprintf(bw->login_holdoff_reason, sizeof(bw->login_holdoff_reason), "%s", reason);
    } else {
        snprintf(reason, sizeof(reason), "%s (HTTP %d)",
                 ex->reason[0] ? ex->reason : "unusable answer", ex->status);
    }
    /* A refused account needs an operator; an unreachable backend is logged
     * by whoever tracks its health, and would repeat here once per miss. */
    if (ex->err == SG_EXERR_NONE)
        sg_log_warn(MOD, "backend %s: login failed: %s", bw->b->name, reason);
    else
        sg_log_info(MOD, "backend %s: login failed: %s", bw->b->name, reason);
    int status = ex->status;
    bool retryable =
        sg_ex_err_retryable(ex->err) ||
        (ex->err == SG_EXERR_NONE && ex->login_rc != SG_DENIED && sg_status_retryable(status));
    sg_ex_abort(ex);
    sg_fetch_login_failed(bw, status, reason, retryable);
}

void sg_session_login(struct sg_backend_worker *bw)
{
    sg_ex_abort(&bw->login);
    if (bw->ops->build_login(bw->dpriv, bw->b, &bw->login.req) != SG_OK) {
        sg_http_req_clear(&bw->login.req);
        sg_fetch_login_failed(bw, 0, "the dialect could not build the login request", false);
        return;
    }
    bw->login_busy = true;
    bw->login.on_answer = on_login_answer;
    sg_ex_start(&bw->login, true);
}

void sg_session_init(struct sg_backend_worker *bw)
{
    TAILQ_INIT(&bw->login_waiters);
    sg_ex_init(&bw->login, bw, on_login_done);
}

void sg_session_fini(struct sg_backend_worker *bw)
{
    sg_ex_fini(&bw->login);
    sg_session_drop(bw);
}
