/* Fetching a task from a backend: the task request, the one re-login retry
 * when the backend no longer takes the service account's session, the retries
 * of idempotent failures after a backoff, the whole-fetch deadline, and
 * delivery of exactly one result from the loop. The session and its login are
 * upstream_session.c's; a fetch that needs one waits in bw->login_waiters.
 *
 * A fetch moves WAIT_LOGIN -> TASK -> DONE (or TASK directly when a session is
 * held or the backend has no service account). Every way out goes through
 * fetch_finish, which stops all that is in flight and schedules the callback;
 * the callback runs from f->ev_done, after which f is freed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/util.h>
#include <openssl/crypto.h>

#include "snapgate/common.h"
#include "snapgate/conf.h"
#include "snapgate/log.h"
#include "upstream/upstream_int.h"

#define MOD "upstream"

enum sg_fetch_state { SG_FETCH_WAIT_LOGIN = 1, SG_FETCH_TASK, SG_FETCH_DONE };

struct sg_fetch {
    struct sg_backend_worker *bw;
    char *task_id;
    sg_fetch_cb cb;
    void *arg;
    enum sg_fetch_state state;
    bool retried;     /* the one retry after UNAUTHENTICATED was used */
    unsigned retries; /* tries after the first for idempotent failures */
    bool waiting;     /* in bw->login_waiters */
    bool in_cb;
    uint64_t started_ms;
    uint64_t timeout_ms;
    uint64_t session_gen; /* the session the task request carried, 0 when none */
    char *as_session;     /* a delegated caller's own session, or NULL: the service account */
    struct event *deadline;
    struct event *ev_done;
    struct event *backoff; /* the pause before the next try */
    struct sg_exchange ex;
    struct sg_fetch_result res;
    TAILQ_ENTRY(sg_fetch) link;  /* bw->fetches */
    TAILQ_ENTRY(sg_fetch) wlink; /* bw->login_waiters */
};

static void fetch_send_task(struct sg_fetch *f);
static void fetch_need_login(struct sg_fetch *f);

static bool has_service_account(const struct sg_backend_worker *bw)
{
    return bw->b->username != NULL;
}

/* ---- finishing ----------------------------------------------------------- */

static void fetch_stop(struct sg_fetch *f)
{
    event_del(f->deadline);
    event_del(f->backoff);
    if (f->waiting) {
        TAILQ_REMOVE(&f->bw->login_waiters, f, wlink);
        f->waiting = false;
    }
    sg_ex_abort(&f->ex);
}

/* Ends f with norm (moved in) and schedules its callback. */
static void fetch_finish(struct sg_fetch *f, struct sg_normalized *norm)
{
    if (f->state == SG_FETCH_DONE)
        return;
    fetch_stop(f);
    f->res.norm = *norm;
    norm->info = NULL;
    f->res.upstream_ms = sg_now_ms() - f->started_ms;
    f->res.retries = f->retries;
    f->state = SG_FETCH_DONE;
    if (f->res.norm.outcome != SG_OUT_INFO)
        sg_log_debug(MOD, "backend %s: task fetch ended: %s", f->bw->b->name, f->res.norm.reason);
    event_active(f->ev_done, 0, 0);
}

static void fetch_fail(struct sg_fetch *f, enum sg_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fetch_fail(struct sg_fetch *f, enum sg_outcome outcome, const char *fmt, ...)
{
    struct sg_normalized n = {.outcome = outcome};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n.reason, sizeof(n.reason), fmt, ap);
    va_end(ap);
    fetch_finish(f, &n);
}

/* Starts the fetch over after its backoff: the session may have changed. */
static void fetch_begin(struct sg_fetch *f)
{
    struct sg_backend_worker *bw = f->bw;
    if (f->as_session || !has_service_account(bw) || bw->session)
        fetch_send_task(f);
    else
        fetch_need_login(f);
}

static void on_fetch_backoff(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fetch_begin(arg);
}

/* An idempotent failure: another try after a full-jitter pause when the
 * backend's retries, the deadline and the retry budget all allow it, else
 * the fetch ends UNAVAILABLE with reason. */
static void fetch_retry_or_fail(struct sg_fetch *f, const char *reason)
{
    struct sg_backend_worker *bw = f->bw;
    uint32_t r = 0;
    uint64_t pause = 0;
    bool allowed = f->retries < bw->b->retries_max;
    if (allowed) {
        evutil_secure_rng_get_bytes(&r, sizeof(r));
        pause = sg_retry_backoff_ms(f->retries, r);
        allowed = sg_now_ms() + pause < f->started_ms + f->timeout_ms &&
                  sg_retry_budget_withdraw(&bw->retry_budget);
    }
    if (!allowed) {
        fetch_fail(f, SG_OUT_UNAVAILABLE, "%s%s", reason, f->retries ? " (after retries)" : "");
        return;
    }
    f->retries++;
    sg_log_debug(MOD, "backend %s: %s; try %u in %llu ms", bw->b->name, reason, f->retries + 1,
                 (unsigned long long)pause);
    sg_ex_abort(&f->ex);
    f->state = SG_FETCH_TASK;
    struct timeval tv = sg_timeval_ms(pause);
    evtimer_add(f->backoff, &tv);
}

static void fetch_free(struct sg_fetch *f)
{
    sg_ex_fini(&f->ex);
    event_free(f->backoff);
    event_free(f->deadline);
    event_free(f->ev_done);
    free(f->task_id);
    if (f->as_session) {
        OPENSSL_cleanse(f->as_session, strlen(f->as_session));
        free(f->as_session);
    }
    free(f);
}

static void on_fetch_done(evutil_socket_t fd, short what, void *arg)
{
    struct sg_fetch *f = arg;
    struct sg_backend_worker *bw = f->bw;
    (void)fd;
    (void)what;
    TAILQ_REMOVE(&bw->fetches, f, link);
    f->in_cb = true;
    bw->cb_depth++;
    f->cb(&f->res, f->arg);
    bw->cb_depth--;
    fetch_free(f);
}

static void on_fetch_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct sg_fetch *f = arg;
    (void)fd;
    (void)what;
    fetch_fail(f, SG_OUT_UNAVAILABLE, "backend %s: timeout, no result within %llu ms",
               f->bw->b->name, (unsigned long long)f->timeout_ms);
}

/* ---- waiting for the login ---------------------------------------------- */

static void fetch_need_login(struct sg_fetch *f)
{
    struct sg_backend_worker *bw = f->bw;
    if (bw->login_holdoff_until && sg_now_ms() < bw->login_holdoff_until) {
        fetch_fail(f, SG_OUT_UNAVAILABLE, "login failed: %s (not retried for %u s)",
                   bw->login_holdoff_reason, SG_UPSTREAM_LOGIN_HOLDOFF_MS / 1000);
        return;
    }
    f->state = SG_FETCH_WAIT_LOGIN;
    f->waiting = true;
    TAILQ_INSERT_TAIL(&bw->login_waiters, f, wlink);
    if (!bw->login_busy)
        sg_session_login(bw);
}

void sg_fetch_login_ok(struct sg_backend_worker *bw)
{
    struct sg_fetch *f;
    while ((f = TAILQ_FIRST(&bw->login_waiters)) != NULL) {
        TAILQ_REMOVE(&bw->login_waiters, f, wlink);
        f->waiting = false;
        fetch_send_task(f);
    }
}

void sg_fetch_login_failed(struct sg_backend_worker *bw, int status, const char *reason,
                           bool retryable)
{
    struct sg_fetch *f;
    char why[240];
    snprintf(why, sizeof(why), "login failed: %s", reason);
    while ((f = TAILQ_FIRST(&bw->login_waiters)) != NULL) {
        TAILQ_REMOVE(&bw->login_waiters, f, wlink);
        f->waiting = false;
        if (status)
            f->res.upstream_status = status;
        if (retryable)
            fetch_retry_or_fail(f, why);
        else
            fetch_fail(f, SG_OUT_UNAVAILABLE, "%s", why);
    }
}

/* ---- the task request ---------------------------------------------------- */

static void on_task_done(struct sg_exchange *ex)
{
    struct sg_fetch *f = (struct sg_fetch *)((char *)ex - offsetof(struct sg_fetch, ex));
    struct sg_backend_worker *bw = f->bw;
    if (ex->status)
        f->res.upstream_status = ex->status;
    switch (ex->err) {
    case SG_EXERR_NONE:
        break;
    case SG_EXERR_TOO_LARGE:
    case SG_EXERR_PROTOCOL:
    case SG_EXERR_REQUEST:
        /* The backend answered, but nothing usable: garbage, not an outage. */
        fetch_fail(f, SG_OUT_ERROR, "%s", ex->reason);
        return;
    default:
        if (sg_ex_err_retryable(ex->err))
            fetch_retry_or_fail(f, ex->reason);
        else
            fetch_fail(f, SG_OUT_UNAVAILABLE, "%s", ex->reason);
        return;
    }
    if (sg_status_retryable(ex->status)) {
        char why[64];
        snprintf(why, sizeof(why), "backend answered HTTP %d", ex->status);
        fetch_retry_or_fail(f, why);
        return;
    }
    struct sg_normalized n = {0};
    bw->ops->normalize(bw->dpriv, f->task_id, ex->status, ex->body, ex->body_len, &n);
    /* A caller's own session that the backend refuses is the caller's
     * problem: no re-login, the core answers 401. */
    if (n.outcome == SG_OUT_UNAUTHENTICATED && has_service_account(bw) && !f->as_session) {
        sg_normalized_clear(&n);
        if (f->retried) {
            sg_log_warn(MOD, "backend %s: rejected a fresh service-account session", bw->b->name);
            fetch_fail(f, SG_OUT_UNAVAILABLE, "backend rejected the service account");
            return;
        }
        f->retried = true;
        /* Drop the session only if it is still the one that was refused: a
         * concurrent fetch may already have logged in again. */
        if (bw->session && bw->session_gen == f->session_gen)
            sg_session_drop(bw);
        sg_ex_abort(ex);
        if (bw->session)
            fetch_send_task(f);
        else
            fetch_need_login(f);
        return;
    }
    fetch_finish(f, &n);
}

static void fetch_send_task(struct sg_fetch *f)
{
    struct sg_backend_worker *bw = f->bw;
    sg_ex_abort(&f->ex);
    if (bw->ops->build_task(bw->dpriv, bw->b, f->task_id, &f->ex.req) != SG_OK) {
        fetch_fail(f, SG_OUT_ERROR, "the dialect could not build the task request");
        return;
    }
    f->session_gen = 0;
    if (f->as_session) {
        bw->ops->apply_session(bw->dpriv, f->as_session, &f->ex.req);
    } else if (bw->session) {
        bw->ops->apply_session(bw->dpriv, bw->session, &f->ex.req);
        f->session_gen = bw->session_gen;
    }
    f->state = SG_FETCH_TASK;
    sg_ex_start(&f->ex, false);
}

/* ---- the API ------------------------------------------------------------- */

struct sg_fetch *sg_fetch_start(struct sg_backend_worker *bw, const char *task_id,
                                uint64_t timeout_ms, sg_fetch_cb cb, void *arg)
{
    return sg_fetch_start_as(bw, task_id, NULL, timeout_ms, cb, arg);
}

struct sg_fetch *sg_fetch_start_as(struct sg_backend_worker *bw, const char *task_id,
                                   const char *session, uint64_t timeout_ms, sg_fetch_cb cb,
                                   void *arg)
{
    struct sg_fetch *f = sg_xcalloc(1, sizeof(*f));
    f->bw = bw;
    f->task_id = sg_xstrdup(task_id);
    f->as_session = session ? sg_xstrdup(session) : NULL;
    f->cb = cb;
    f->arg = arg;
    f->started_ms = sg_now_ms();
    f->timeout_ms = timeout_ms;
    f->deadline = evtimer_new(bw->base, on_fetch_deadline, f);
    f->ev_done = event_new(bw->base, -1, 0, on_fetch_done, f);
    f->backoff = evtimer_new(bw->base, on_fetch_backoff, f);
    if (!f->deadline || !f->ev_done || !f->backoff)
        abort();
    sg_retry_budget_deposit(&bw->retry_budget);
    sg_ex_init(&f->ex, bw, on_task_done);
    TAILQ_INSERT_TAIL(&bw->fetches, f, link);
    struct timeval tv = sg_timeval_ms(timeout_ms);
    evtimer_add(f->deadline, &tv);
    /* Failures from here on are delivered by ev_done, never from this call. */
    fetch_begin(f);
    return f;
}

void sg_fetch_cancel(struct sg_fetch *f)
{
    if (!f || f->in_cb)
        return;
    fetch_stop(f);
    event_del(f->ev_done);
    sg_normalized_clear(&f->res.norm);
    TAILQ_REMOVE(&f->bw->fetches, f, link);
    fetch_free(f);
}
