/* The upstream client: fetch one task from one backend over pooled keep-alive
 * HTTP(S) connections, holding the backend's service-account session.
 *
 * One sg_backend_worker per backend per worker thread: it owns that backend's
 * connection pool, TLS context and session on that worker's event base, and is
 * used only from that base's thread. Everything is asynchronous: a fetch ends in
 * exactly one callback from the loop, unless it is cancelled first. */
#ifndef SG_UPSTREAM_H
#define SG_UPSTREAM_H

#include <stdint.h>

#include "snapgate/call.h"
#include "snapgate/dialect.h"
#include "snapgate/task.h"

struct event_base;
struct sg_conf_backend;
struct sg_backend_worker;
struct sg_fetch;

/* Answers larger than this are refused (SG_OUT_ERROR) rather than buffered. */
#define SG_UPSTREAM_MAX_BODY (4u * 1024u * 1024u)
#define SG_UPSTREAM_MAX_HEADERS (64u * 1024u)
/* After the backend refused the service account's credentials, fetches fail at
 * once for this long instead of logging in again: a login per cache miss would
 * lock the account out on SSO servers that count failures. */
#define SG_UPSTREAM_LOGIN_HOLDOFF_MS 10000u

/* Creates the client for backend b on base. b (and its dialect) must outlive
 * the result; nothing is connected yet. b must have been prepared (it comes
 * from sg_conf_load, or went through sg_conf_tls_prepare, conf/conf_tls.h): then nothing
 * here can fail but memory, and the result is never NULL. */
struct sg_backend_worker *sg_backend_worker_create(struct event_base *base,
                                                   const struct sg_conf_backend *b,
                                                   unsigned worker_id);

/* Closes every connection and frees everything, fetches in flight included:
 * none of their callbacks runs afterwards. Must not be called from inside one
 * of bw's own fetch callbacks. NULL is fine. */
void sg_backend_worker_destroy(struct sg_backend_worker *bw);

struct sg_fetch_result {
    struct sg_normalized norm; /* the outcome; norm.info belongs to the callback */
    int upstream_status;       /* last HTTP status seen from the backend, 0 when none */
    uint64_t upstream_ms;      /* time from sg_fetch_start to the result */
    unsigned retries;          /* tries after the first (retries in the backend's config) */
};

/* res is borrowed for the call, except res->norm.info (SG_OUT_INFO only), which
 * the callback takes over: keep it or json_object_put it. */
typedef void (*sg_fetch_cb)(struct sg_fetch_result *res, void *arg);

/* Starts fetching task_id (raw, not encoded; copied). cb runs exactly once,
 * from the loop, never from inside this call. timeout_ms bounds the whole
 * fetch, waiting for a connection or a login, the one re-login and the
 * retries included; on expiry the result is SG_OUT_UNAVAILABLE.
 *
 * Idempotent failures (could not connect, connection closed before an answer,
 * 502/503/504) are tried again up to the backend's retries.max times, after a
 * full-jitter backoff (gateway/upstream/retry.h), while the deadline leaves room and
 * the backend-worker's retry budget allows. Returns the handle for
 * sg_fetch_cancel; never NULL. */
struct sg_fetch *sg_fetch_start(struct sg_backend_worker *bw, const char *task_id,
                                uint64_t timeout_ms, sg_fetch_cb cb, void *arg);

/* The same for a delegated caller: the task request carries session (the
 * caller's own, copied) instead of the service account's, and a 401 is the
 * result (SG_OUT_UNAUTHENTICATED), never a re-login. */
struct sg_fetch *sg_fetch_start_as(struct sg_backend_worker *bw, const char *task_id,
                                   const char *session, uint64_t timeout_ms, sg_fetch_cb cb,
                                   void *arg);

/* One plain request outside the task API: sg_call_start and sg_call_cancel,
 * part of the module ABI (snapgate/call.h). */

/* Abandons f: its callback will not run and f is freed. Valid from the start
 * until the callback begins; a call from inside f's own callback is ignored. */
void sg_fetch_cancel(struct sg_fetch *f);

#endif
