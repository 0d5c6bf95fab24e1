/* One Redis connection and its lifecycle: connect (non-blocking, to a numeric
 * address), handshake (AUTH, SELECT, then PING or SUBSCRIBE, all pipelined and
 * bounded by one timer), ready, and on any failure: kill, back off, reconnect.
 *
 * hiredis 0.14 frees a context on its own after a connect error (calling
 * onConnect with REDIS_ERR) or a read/write error once connected (calling
 * onDisconnect), and it must never be freed from inside one of its callbacks.
 * So a killed connection only moves to `zomb` and is freed by on_reap, a
 * zero-timeout event that runs from the loop; if hiredis frees it first, the
 * callbacks above forget it. The retry timer is armed only by on_reap, so a
 * link has at most one zombie.
 *
 * The circuit lives here too: every failure (a lost or refused command
 * connection, or a failed command reported by redis_cmd.c) is counted by
 * sg_redis_note_failure, and the command link's next successful handshake
 * closes it. This file calls nothing in redis_cmd.c or redis_module.c. */
#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis.h"
#include "snapgate/common.h"
#include "snapgate/log.h"

#define LOG_MOD "redis"

static const char *link_name(const struct sg_redis_link *l)
{
    return l->is_sub ? "subscription" : "connection";
}

/* ---- the circuit and the backoff draw -------------------------------------- */

uint64_t sg_redis_rand(struct sg_redis_inst *r, uint64_t n)
{
    /* xorshift64*: jitter needs spread, not secrecy. */
    uint64_t x = r->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->rng = x;
    return (x * 2685821657736338717ULL) % (n + 1);
}

void sg_redis_note_failure(struct sg_redis_inst *r)
{
    r->failures++;
    if (r->circuit_open || r->failures < SG_REDIS_CIRCUIT_FAILURES)
        return;
    r->circuit_open = true;
    sg_log_warn(LOG_MOD,
                "circuit open after %u consecutive failures: calls fail fast until a reconnect "
                "answers PING",
                r->failures);
    sg_redis_link_kill(&r->cmd, r->cmd.ac, "circuit open");
}

/* ---- one link -------------------------------------------------------------- */

/* The live connection is gone (detached or being freed by hiredis). */
static void link_down(struct sg_redis_link *l, const char *why)
{
    struct sg_redis_inst *r = l->r;
    bool was_ready = l->ready;
    l->ready = false;
    evtimer_del(l->handshake_timer);
    if (r->closing)
        return;
    /* One warning per outage; the retries of a dead Redis go to debug. */
    if (was_ready)
        sg_log_warn(LOG_MOD, "%s lost: %s", link_name(l), why);
    else if (l->attempt == 0)
        sg_log_warn(LOG_MOD, "%s failed: %s (retrying in the background)", link_name(l), why);
    else
        sg_log_debug(LOG_MOD, "%s attempt %u failed: %s", link_name(l), l->attempt, why);
    /* The subscription has no commands to fail: it stays out of the circuit.
     * A lost or refused command connection is a Redis error like a failed
     * command: while Redis is dead the counter keeps telling so. */
    if (!l->is_sub) {
        r->errors++;
        sg_redis_note_failure(r);
    }
    event_active(l->reap_ev, EV_TIMEOUT, 0);
}

void sg_redis_link_kill(struct sg_redis_link *l, redisAsyncContext *ac, const char *why)
{
    if (!ac || l->ac != ac)
        return;
    l->ac = NULL;
    l->zomb = ac;
    link_down(l, why);
}

static void link_ready(struct sg_redis_link *l)
{
    struct sg_redis_inst *r = l->r;
    evtimer_del(l->handshake_timer);
    l->ready = true;
    l->attempt = 0;
    if (l->ever_ready) {
        r->reconnects++;
        sg_log_info(LOG_MOD, "%s re-established", link_name(l));
    }
    l->ever_ready = true;
    if (!l->is_sub) {
        r->failures = 0;
        if (r->circuit_open)
            sg_log_info(LOG_MOD, "circuit closed");
        r->circuit_open = false;
    }
}

static struct sg_redis_link *link_of(const redisAsyncContext *ac)
{
    return ac->data;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct sg_redis_link *l = link_of(ac);
    if (status == REDIS_OK)
        return; /* ready comes with the PING or SUBSCRIBE answer */
    /* hiredis frees ac right after this call. */
    if (l->zomb == ac) {
        l->zomb = NULL;
    } else if (l->ac == ac) {
        l->ac = NULL;
        link_down(l, ac->errstr[0] ? ac->errstr : "connect failed");
    }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    struct sg_redis_link *l = link_of(ac);
    /* hiredis frees ac right after this call. */
    if (l->zomb == ac) {
        l->zomb = NULL;
    } else if (l->ac == ac) {
        l->ac = NULL;
        link_down(l, ac->errstr[0] ? ac->errstr : "closed by the server");
    }
}

/* AUTH and SELECT: only a failure matters (the last step reports ready). */
static void on_setup_reply(redisAsyncContext *ac, void *reply, void *arg)
{
    struct sg_redis_link *l = arg;
    redisReply *rep = reply;
    if (!rep || ac != l->ac || rep->type != REDIS_REPLY_ERROR)
        return;
    /* Redis error texts never repeat the password. */
    char why[160];
    snprintf(why, sizeof(why), "AUTH/SELECT refused: %s", rep->str);
    sg_redis_link_kill(l, ac, why);
}

static void on_ping_reply(redisAsyncContext *ac, void *reply, void *arg)
{
    struct sg_redis_link *l = arg;
    redisReply *rep = reply;
    if (!rep || ac != l->ac)
        return;
    if (rep->type == REDIS_REPLY_ERROR) {
        char why[160];
        snprintf(why, sizeof(why), "PING refused: %s", rep->str);
        sg_redis_link_kill(l, ac, why);
        return;
    }
    link_ready(l);
}

/* Called for the subscribe confirmation, each message, and with NULL when the
 * context goes away. Messages still arriving on a killed connection are real
 * purges: they are delivered too (dropping a key twice is harmless). */
static void on_sub_message(redisAsyncContext *ac, void *reply, void *arg)
{
    struct sg_redis_link *l = arg;
    struct sg_redis_inst *r = l->r;
    redisReply *rep = reply;
    if (!rep || r->closing)
        return;
    if (rep->type == REDIS_REPLY_ERROR) {
        sg_redis_link_kill(l, ac, "SUBSCRIBE refused");
        return;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 3 ||
        rep->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = rep->element[0]->str;
    const redisReply *payload = rep->element[2];
    if (!strcmp(kind, "subscribe")) {
        if (ac == l->ac && !l->ready)
            link_ready(l);
    } else if (!strcmp(kind, "message") && payload->type == REDIS_REPLY_STRING &&
               strlen(payload->str) == payload->len && payload->len > 0) {
        if (r->purge_fn)
            r->purge_fn(r->purge_ctx, payload->str);
    }
}

static void on_handshake_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_redis_link *l = arg;
    sg_redis_link_kill(l, l->ac, "no answer within redis.timeout");
}

static void link_connect(struct sg_redis_link *l)
{
    struct sg_redis_inst *r = l->r;
    redisAsyncContext *ac =
        r->path ? redisAsyncConnectUnix(r->path) : redisAsyncConnect(r->addr, r->port);
    if (!ac) {
        sg_log_error(LOG_MOD, "out of memory");
        abort();
    }
    if (ac->err) {
        /* Failed before any callback exists (e.g. refused at once): free it now. */
        char why[128];
        snprintf(why, sizeof(why), "%s", ac->errstr);
        redisAsyncFree(ac);
        link_down(l, why);
        return;
    }
    ac->data = l;
    sg_redis_events_attach(ac, r->base);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    l->ac = ac;
    /* Pipelined behind the connect: hiredis writes them once it completes. */
    if (r->password)
        redisAsyncCommand(ac, on_setup_reply, l, "AUTH %s", r->password);
    if (l->is_sub) {
        redisAsyncCommand(ac, on_sub_message, l, "SUBSCRIBE %s", SG_REDIS_PURGE_CHANNEL);
    } else {
        if (r->db)
            redisAsyncCommand(ac, on_setup_reply, l, "SELECT %d", r->db);
        redisAsyncCommand(ac, on_ping_reply, l, "PING");
    }
    struct timeval tv = sg_timeval_ms(r->timeout_ms);
    evtimer_add(l->handshake_timer, &tv);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_redis_link *l = arg;
    if (!l->r->closing && !l->ac)
        link_connect(l);
}

/* Frees a killed connection (its pending commands fail now, from the loop),
 * then schedules the next attempt: full jitter over an exponential ceiling. */
static void on_reap(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_redis_link *l = arg;
    if (l->zomb) {
        redisAsyncContext *z = l->zomb;
        l->zomb = NULL;
        redisAsyncFree(z);
    }
    if (l->r->closing || l->ac || evtimer_pending(l->retry_timer, NULL))
        return;
    unsigned shift = l->attempt < 16 ? l->attempt : 16;
    uint64_t ceil = (uint64_t)SG_REDIS_BACKOFF_BASE_MS << shift;
    if (ceil > SG_REDIS_BACKOFF_CAP_MS)
        ceil = SG_REDIS_BACKOFF_CAP_MS;
    uint64_t ms = sg_redis_rand(l->r, ceil);
    l->attempt++;
    struct timeval tv = sg_timeval_ms(ms);
    evtimer_add(l->retry_timer, &tv);
}

void sg_redis_link_start(struct sg_redis_link *l)
{
    struct event_base *base = l->r->base;
    l->handshake_timer = evtimer_new(base, on_handshake_timeout, l);
    l->retry_timer = evtimer_new(base, on_retry, l);
    l->reap_ev = event_new(base, -1, 0, on_reap, l);
    link_connect(l);
}

void sg_redis_link_stop(struct sg_redis_link *l)
{
    /* closing is set: the callbacks hiredis runs while freeing change nothing. */
    redisAsyncContext *live = l->ac, *zomb = l->zomb;
    l->ac = l->zomb = NULL;
    l->ready = false;
    if (live)
        redisAsyncFree(live);
    if (zomb)
        redisAsyncFree(zomb);
    if (l->handshake_timer)
        event_free(l->handshake_timer);
    if (l->retry_timer)
        event_free(l->retry_timer);
    if (l->reap_ev)
        event_free(l->reap_ev);
    l->handshake_timer = l->retry_timer = l->reap_ev = NULL;
}
