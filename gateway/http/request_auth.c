/* A request's way through authentication: the provider chain, the failed-login
 * throttle around it (gateway/auth/throttle.h), and the 401 when nothing accepts. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <evhtp/evhtp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "auth/auth_set.h"
#include "snapgate/basic_header.h"
#include "http/request_int.h"
#include "worker/wstate.h"
#include "snapgate/common.h"
#include "snapgate/log.h"

static void on_auth_delay(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_request *r = arg;
    ASSERT_NOT_INSIDE_CALL(r);
    req_finish_error(r, SG_E_UNAUTHENTICATED);
    req_put(r);
}

/* The user name of a Basic credential, for throttling; "" when none (or when
 * the value is no valid Basic credential: the provider will refuse it). */
static void basic_user(const char *hdr, char *out, size_t cap)
{
    out[0] = '\0';
    unsigned char buf[SG_BASIC_DECODED_MAX];
    size_t n = 0, colon = 0;
    if (hdr && sg_basic_header_parse(hdr, strlen(hdr), buf, &n, &colon) == SG_OK && colon > 0 &&
        colon < cap) {
        memcpy(out, buf, colon);
        out[colon] = '\0';
    }
    OPENSSL_cleanse(buf, n); /* it held the password too */
}

/* Builds the request's throttle keys once (gateway/auth/throttle.h). The address
 * alone is no secret; the user name comes out of the Basic credential, and
 * the pair needs both. */
static void throttle_keys(struct sg_request *r)
{
    if (r->thr_built || !r->ev)
        return;
    r->thr_built = true;
    char host[INET6_ADDRSTRLEN] = "";
    evhtp_connection_t *c = evhtp_request_get_connection(r->ev);
    const struct sockaddr *sa = c ? c->saddr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof(host));
    if (host[0])
        snprintf(r->thr_addr, sizeof(r->thr_addr), "ip:%s", host);
    char name[SG_PRINCIPAL_NAME_MAX];
    basic_user(r->cred_header, name, sizeof(name));
    if (name[0])
        snprintf(r->thr_user, sizeof(r->thr_user), "user:%s", name);
    /* The address never holds 0x1f, so the pair cannot be forged from a name. */
    if (host[0] && name[0])
        snprintf(r->thr_pair, sizeof(r->thr_pair), "pair:%s\x1f%s", host, name);
    OPENSSL_cleanse(name, sizeof(name)); /* a name is no secret, but it came with one */
}

/* Gives back the held slots this attempt took, once its check is over. */
void req_throttle_release(struct sg_request *r)
{
    if (r->thr_pair_slot)
        sg_throttle_release(r->ws->failures, r->thr_pair);
    if (r->thr_addr_slot)
        sg_throttle_release(r->ws->failures, r->thr_addr);
    r->thr_pair_slot = r->thr_addr_slot = false;
}

/* Pauses the request for ms, then fn runs (holding a reference). The wait (at
 * most SG_THROTTLE_MAX_DELAY_MS) bounds itself: the req_fetch deadline must not
 * turn a throttled answer into a 503. */
static void throttle_wait(struct sg_request *r, uint64_t ms, event_callback_fn fn)
{
    req_go_async(r);
    event_del(r->deadline);
    r->refs++;
    if (r->delay_timer)
        event_free(r->delay_timer); /* it fired: a request waits at most once at a time */
    r->delay_timer = evtimer_new(r->ws->base, fn, r);
    struct timeval tv = sg_timeval_ms(ms);
    evtimer_add(r->delay_timer, &tv);
}

/* A held attempt has waited: a refused one is answered 401 unchecked, the
 * others are checked now, with the usual deadline from here on. */
static void on_throttle_wait(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sg_request *r = arg;
    ASSERT_NOT_INSIDE_CALL(r);
    if (r->finished || r->thr_refused) {
        req_throttle_release(r);
        req_finish_error(r, SG_E_UNAUTHENTICATED);
    } else {
        struct timeval tv = sg_timeval_ms(r->ws->deadline_ms);
        evtimer_add(r->deadline, &tv);
        req_auth_continue(r);
    }
    req_put(r);
}

/* Before any provider sees the credential: a Basic attempt on a held pair or
 * address waits as long as its failure would, whether it turns out right,
 * wrong or remembered, so the time of the answer tells a guesser nothing. */
void req_auth_start(struct sg_request *r)
{
    struct sg_wstate *ws = r->ws;
    /* Nothing failed lately on this worker: the usual request pays nothing. */
    if (sg_throttle_count(ws->failures) == 0) {
        req_auth_continue(r);
        return;
    }
    throttle_keys(r);
    if (!r->thr_pair[0]) {
        req_auth_continue(r);
        return;
    }
    uint64_t now = sg_now_ms(), wait_pair, wait_addr;
    enum sg_throttle_hold pair = sg_throttle_admit(ws->failures, r->thr_pair, SG_THROTTLE_PAIR_HOLD,
                                                   SG_THROTTLE_PAIR_PENDING, now, &wait_pair);
    enum sg_throttle_hold addr = sg_throttle_admit(ws->failures, r->thr_addr, SG_THROTTLE_ADDR_HOLD,
                                                   SG_THROTTLE_ADDR_PENDING, now, &wait_addr);
    if (pair == SG_THROTTLE_FREE && addr == SG_THROTTLE_FREE) {
        req_auth_continue(r);
        return;
    }
    r->thr_pair_slot = pair == SG_THROTTLE_HELD;
    r->thr_addr_slot = addr == SG_THROTTLE_HELD;
    if (pair == SG_THROTTLE_REFUSED || addr == SG_THROTTLE_REFUSED) {
        req_throttle_release(r); /* never checked: no slot needed */
        r->thr_refused = true;
    }
    /* Whichever key would make its failure wait longest. */
    uint64_t wait = wait_pair > wait_addr ? wait_pair : wait_addr;
    const char *keys[] = {r->thr_pair, r->thr_addr, r->thr_user};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        uint64_t d = sg_throttle_next_delay(ws->failures, keys[i], now);
        wait = d > wait ? d : wait;
    }
    r->thr_waited = true;
    throttle_wait(r, wait, on_throttle_wait);
}

/* A 401. Repeated failures from one address, for one user name, or of the
 * pair wait a bounded, growing delay first (gateway/auth/throttle.h); an attempt
 * that waited before its check has served that delay already. */
static void auth_failed(struct sg_request *r)
{
    struct sg_wstate *ws = r->ws;
    uint64_t delay = 0, now = sg_now_ms();
    req_throttle_release(r);
    /* Only presented credentials count: a client that first asks without
     * any (and learns the schemes from WWW-Authenticate) is not guessing. */
    if (r->cred_presented && r->ev) {
        throttle_keys(r);
        const char *keys[] = {r->thr_addr, r->thr_user, r->thr_pair};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            uint64_t d = keys[i][0] ? sg_throttle_fail(ws->failures, keys[i], now) : 0;
            delay = d > delay ? d : delay;
        }
    }
    if (delay == 0 || r->thr_waited || !r->ev) {
        req_finish_error(r, SG_E_UNAUTHENTICATED);
        return;
    }
    throttle_wait(r, delay, on_auth_delay);
}

static void on_auth_done(int rc, struct sg_principal *p, void *arg)
{
    (void)p;
    struct sg_request *r = arg;
    ASSERT_NOT_INSIDE_CALL(r);
    if (r->finished || rc != SG_DECLINED)
        req_throttle_release(r); /* the check is over (DECLINED: the next provider's is not) */
    if (!r->finished) {
        if (rc == SG_OK) {
            req_dispatch(r);
        } else if (rc == SG_DECLINED) {
            r->auth_next++;
            req_auth_continue(r);
        } else if (rc == SG_ERR) {
            r->why = "an auth provider could not check the credentials";
            req_finish_error(r, SG_E_UNAVAILABLE);
        } else {
            auth_failed(r);
        }
    }
    req_put(r);
}

/* What the session store said of the session presented: snapgate's own is
 * a principal; one it does not know may still be a vCenter's (the providers
 * that take session ids are asked next); a failing store fails closed. */
static void session_checked(struct sg_request *r, int rc)
{
    if (rc == SG_OK) {
        req_throttle_release(r);
        r->by_session = true;
        req_dispatch(r);
    } else if (rc == SG_ERR) {
        req_throttle_release(r);
        r->why = "the session store could not check a session";
        req_finish_error(r, SG_E_SESSIONS_UNAVAILABLE);
    } else {
        req_auth_continue(r);
    }
}

static void on_session_checked(int rc, void *arg)
{
    struct sg_request *r = arg;
    ASSERT_NOT_INSIDE_CALL(r);
    if (!r->finished)
        session_checked(r, rc);
    else
        req_throttle_release(r);
    req_put(r);
}

/* One provider asked about the request's credentials (request_cred.c). */
static int ask_provider(struct sg_request *r, const struct sg_auth_inst *a)
{
    if (r->cred_saml)
        return a->ops->authenticate_assertion
                   ? a->ops->authenticate_assertion(a->inst, r->cred_saml, r->cred_saml_len,
                                                    r->cred_has_proof ? &r->cred_proof : NULL,
                                                    &r->principal, on_auth_done, r)
                   : SG_DECLINED;
    /* A session id stands in for credentials with providers that take one
     * (vcenter) once the store did not know it. */
    if (r->cred_session && a->ops->authenticate_session)
        return a->ops->authenticate_session(a->inst, r->cred_session, &r->principal, on_auth_done,
                                            r);
    const char *hdr = r->cred_header;
    return a->ops->authenticate(a->inst, hdr, hdr ? strlen(hdr) : 0, &r->principal, on_auth_done,
                                r);
}

void req_auth_continue(struct sg_request *r)
{
    if (r->cred_session && !r->session_checked) {
        r->session_checked = true;
        r->refs++; /* on_session_checked's */
        CALL_BEGIN(r);
        int rc = sg_session_check(r->ws, r->cred_session, r->cred_session_len, &r->principal,
                                  &r->session_info, on_session_checked, r);
        CALL_END(r);
        if (!req_call_settled(r, rc))
            return;
        session_checked(r, rc);
        return;
    }
    for (; r->auth_next < r->auth->n; r->auth_next++) {
        const struct sg_auth_inst *a = &r->auth->v[r->auth_next];
        r->auth_by = a;
        r->refs++; /* on_auth_done's */
        CALL_BEGIN(r);
        int rc = ask_provider(r, a);
        CALL_END(r);
        if (!req_call_settled(r, rc))
            return;
        if (rc != SG_DECLINED)
            req_throttle_release(r); /* the check is over */
        if (rc == SG_OK) {
            req_dispatch(r);
            return;
        }
        if (rc == SG_ERR) {
            /* The provider could not decide (overload): fail closed, but say
             * it is us, not the caller's credentials. */
            r->why = "an auth provider could not check the credentials";
            req_finish_error(r, SG_E_UNAVAILABLE);
            return;
        }
        if (rc != SG_DECLINED)
            break; /* DENIED: fail closed */
    }
    auth_failed(r);
}
