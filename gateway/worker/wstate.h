/* Everything one worker owns. Nothing here is touched by another thread except
 * through the worker's message queue (gateway/worker/wmsg.c). */
#ifndef SG_WSTATE_H
#define SG_WSTATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "snapgate/cache.h"
#include "snapgate/conf.h"
#include "snapgate/strmap.h"

struct evhtp;
struct sg_auth_set;
struct sg_throttle;
struct event;
struct sg_worker;
struct sg_backend_worker;
struct sg_wmsg_queue;
struct sg_metrics;
struct sg_server;
struct sg_health;
struct sg_conn;
struct sg_linger;
struct sg_accept_guard;
struct sg_session_table;

struct sg_wstate {
    struct sg_worker *worker;
    struct event_base *base;
    struct evhtp *htp;
    const struct sg_conf *conf;

    struct sg_auth_set *auth; /* the current chain; requests hold their own reference */

    const struct sg_module *local_module;
    const struct sg_cache_ops *local_ops;
    void *local_priv;
    void *local;

    /* The shared tier (Redis), when configured. */
    const struct sg_module *shared_module;
    const struct sg_cache_ops *shared_ops;
    void *shared;
    struct event *stats_timer; /* copies the shared tier's counters into metrics */
    struct event *log_timer;   /* flushes this worker's access-log batch */

    struct sg_backend_worker **backends;
    size_t nbackends;
    struct sg_health
        *health; /* the process's, shared by every worker (gateway/upstream/health.h) */
    /* The process's sessions without Redis, shared by every worker (gateway/auth/session.h). */
    struct sg_session_table *sessions;
    struct {
        struct sg_backend_worker **v;
        size_t n;
    } * retired_backends; /* replaced by reloads, freed when the worker ends */
    size_t nretired_backends;

    struct sg_strmap flights; /* task key -> struct sg_flight */
    struct sg_strmap pairs;   /* delegated caller x task -> what the backend said (pairs.c) */
    struct sg_throttle
        *failures;        /* address, user name, pair -> recent auth failures (throttle.c) */
    uint64_t deadline_ms; /* per-request deadline */

    /* Request structs (gateway/http/request.c) kept for the next request:
     * a struct of a few KiB is no tcache size, and allocating one per request
     * made glibc consolidate its fast bins every time. Freed with the worker. */
    void *spare_requests[64];
    unsigned nspare_requests;
    /* evhtp's request parsers (8 KiB each) are held only while a request is
     * read or answered (gateway/http/conn_parser.c); these wait for the next. */
    void *spare_parsers[16];
    unsigned nspare_parsers;
    struct sg_conn *conn_in_write; /* whose write callback evhtp is running */
    uint64_t requests_in_flight;   /* paused requests not yet finished */
    uint64_t seq;                  /* for request ids */
    bool draining;
    bool stopping; /* worker_destroy has begun: start nothing new */
    struct sg_wmsg_queue *mq;
    struct sg_metrics *metrics;
    struct sg_server *server_ctx;
    LIST_HEAD(sg_client_conns, sg_conn) conns; /* open client connections (gateway/http/conn.c) */
    LIST_HEAD(sg_lingerers, sg_linger) lingerers; /* connections closing after an error answer */
    struct sg_accept_guard *accept_guard; /* the listener's backoff (gateway/http/listen.c) */
};

#endif
