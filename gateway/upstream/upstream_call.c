/* Plain requests to a backend outside the task API, on the same pool: the
 * vcenter provider exchanges a caller's credentials for a session with them. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/common.h"
#include "upstream/upstream_int.h"

struct sg_call {
    struct sg_backend_worker *bw;
    sg_call_cb cb;
    void *arg;
    struct sg_exchange ex;
    TAILQ_ENTRY(sg_call) link; /* bw->calls */
};

static void call_free(struct sg_call *c)
{
    TAILQ_REMOVE(&c->bw->calls, c, link);
    /* The request may have carried a caller's credentials. */
    for (size_t i = 0; i < c->ex.req.nheaders; i++)
        OPENSSL_cleanse(c->ex.req.header_values[i], strlen(c->ex.req.header_values[i]));
    sg_ex_fini(&c->ex);
    free(c);
}

static void on_call_done(struct sg_exchange *ex)
{
    struct sg_call *c = (struct sg_call *)((char *)ex - offsetof(struct sg_call, ex));
    struct sg_call_result res = {.status = ex->err == SG_EXERR_NONE ? ex->status : 0};
    if (ex->err == SG_EXERR_NONE) {
        res.body = ex->body ? ex->body : "";
        res.len = ex->body_len;
    } else {
        snprintf(res.reason, sizeof(res.reason), "%s", ex->reason);
    }
    c->bw->cb_depth++;
    c->cb(&res, c->arg);
    c->bw->cb_depth--;
    call_free(c);
}

struct sg_call *sg_call_start(struct sg_backend_worker *bw, struct sg_http_req *req, sg_call_cb cb,
                              void *arg)
{
    struct sg_call *c = sg_xcalloc(1, sizeof(*c));
    c->bw = bw;
    c->cb = cb;
    c->arg = arg;
    sg_ex_init(&c->ex, bw, on_call_done);
    c->ex.req = *req;
    *req = (struct sg_http_req){0};
    TAILQ_INSERT_TAIL(&bw->calls, c, link);
    sg_ex_start(&c->ex, false);
    return c;
}

void sg_call_cancel(struct sg_call *c)
{
    if (c)
        call_free(c);
}

void sg_call_cancel_all(struct sg_backend_worker *bw)
{
    struct sg_call *c;
    while ((c = TAILQ_FIRST(&bw->calls)) != NULL)
        call_free(c);
}
