/* The fake shared tier of sg_test_shared.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "sg_test_shared.h"
#include "snapgate/common.h"

/* One answer still to be delivered (ASYNC: an active event; NEVER: none). */
struct sg_test_shared_call {
    struct sg_test_shared_call *next;
    struct sg_test_shared *s;
    struct event *ev;
    int rc;
    struct sg_cache_entry *entry; /* a reference for the callee */
    sg_cache_get_cb get_cb;       /* a get's, or NULL: a lease's */
    sg_cache_lease_cb lease_cb;
    void *arg;
};

static const struct sg_test_reply *next_reply(const struct sg_test_reply *script, int n,
                                              const struct sg_test_reply *dflt, int call)
{
    return call < n ? &script[call] : dflt;
}

static void call_unlink(struct sg_test_shared_call *c)
{
    struct sg_test_shared_call **p = &c->s->pending;
    while (*p != c)
        p = &(*p)->next;
    *p = c->next;
}

/* Delivers c's answer (rc, and for a get its entry) and frees c. */
static void call_deliver(struct sg_test_shared_call *c, int rc)
{
    call_unlink(c);
    if (c->ev)
        event_free(c->ev);
    struct sg_cache_entry *e = c->entry;
    if (rc == SG_ERR && e) {
        sg_cache_entry_put(e);
        e = NULL;
    }
    if (c->get_cb)
        c->get_cb(rc, e, c->arg);
    else
        c->lease_cb(rc, c->arg);
    free(c);
}

static void on_call_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_test_shared_call *c = arg;
    call_deliver(c, c->rc);
}

/* Answers r later (ASYNC) or never (NEVER): returns SG_AGAIN. */
static int call_defer(struct sg_test_shared *s, const struct sg_test_reply *r,
                      struct sg_cache_entry *e, sg_cache_get_cb get_cb, sg_cache_lease_cb lease_cb,
                      void *arg)
{
    struct sg_test_shared_call *c = sg_xcalloc(1, sizeof(*c));
    c->s = s;
    c->rc = r->rc;
    c->entry = e;
    c->get_cb = get_cb;
    c->lease_cb = lease_cb;
    c->arg = arg;
    c->next = s->pending;
    s->pending = c;
    if (r->when == SG_TEST_ASYNC) {
        c->ev = event_new(s->base, -1, 0, on_call_event, c);
        event_active(c->ev, 0, 1);
    }
    return SG_AGAIN;
}

static int fake_get(void *inst, const char *key, struct sg_cache_entry **out, sg_cache_get_cb cb,
                    void *arg)
{
    struct sg_test_shared *s = inst;
    const struct sg_test_reply *r = next_reply(s->gets, s->ngets, &s->get_default, s->get_calls);
    s->get_calls++;
    snprintf(s->last_get_key, sizeof(s->last_get_key), "%s", key);
    struct sg_cache_entry *e = r->entry ? sg_cache_entry_get(r->entry) : NULL;
    *out = NULL;
    if (r->when != SG_TEST_SYNC)
        return call_defer(s, r, e, cb, NULL, arg);
    *out = e;
    return r->rc;
}

static int fake_put(void *inst, const char *key, struct sg_cache_entry *e, uint64_t fresh_ms,
                    uint64_t keep_ms)
{
    struct sg_test_shared *s = inst;
    s->put_calls++;
    snprintf(s->put_key, sizeof(s->put_key), "%s", key);
    snprintf(s->put_owner, sizeof(s->put_owner), "%s", e->owner);
    s->put_status = e->http_status;
    s->put_fresh_ms = fresh_ms;
    s->put_keep_ms = keep_ms;
    return SG_OK;
}

static int fake_del(void *inst, const char *key)
{
    (void)key;
    struct sg_test_shared *s = inst;
    s->del_calls++;
    return SG_OK;
}

static int fake_lease(void *inst, const char *key, uint64_t ttl_ms, sg_cache_lease_cb cb, void *arg)
{
    (void)ttl_ms;
    struct sg_test_shared *s = inst;
    const struct sg_test_reply *r =
        next_reply(s->leases, s->nleases, &s->lease_default, s->lease_calls);
    s->lease_calls++;
    snprintf(s->last_lease_key, sizeof(s->last_lease_key), "%s", key);
    if (r->when != SG_TEST_SYNC)
        return call_defer(s, r, NULL, NULL, cb, arg);
    return r->rc;
}

static void fake_release(void *inst, const char *key)
{
    (void)key;
    struct sg_test_shared *s = inst;
    s->release_calls++;
}

/* purge, on_purge and stats belong to the request and server layers: a call
 * to one from the flight would crash the suite, which is the point. */
const struct sg_cache_ops sg_test_shared_ops = {
    .get = fake_get,
    .put = fake_put,
    .del = fake_del,
    .lease = fake_lease,
    .release = fake_release,
};

void sg_test_shared_init(struct sg_test_shared *s, struct event_base *base)
{
    *s = (struct sg_test_shared){
        .base = base,
        .get_default = {.when = SG_TEST_SYNC, .rc = SG_DECLINED},
        .lease_default = {.when = SG_TEST_SYNC, .rc = SG_OK},
    };
}

int sg_test_shared_pending(const struct sg_test_shared *s)
{
    int n = 0;
    for (const struct sg_test_shared_call *c = s->pending; c; c = c->next)
        n++;
    return n;
}

void sg_test_shared_fini(struct sg_test_shared *s)
{
    while (s->pending)
        call_deliver(s->pending, SG_ERR);
    for (int i = 0; i < SG_TEST_SHARED_SCRIPT; i++) {
        sg_cache_entry_put(s->gets[i].entry);
        s->gets[i].entry = NULL;
    }
    sg_cache_entry_put(s->get_default.entry);
    s->get_default.entry = NULL;
}
