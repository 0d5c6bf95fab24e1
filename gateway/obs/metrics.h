/* Metrics: per-worker single-writer counters (relaxed atomics, no locks on the
 * hot path), summed across workers when /metrics is scraped. */
#ifndef SG_METRICS_H
#define SG_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "snapgate/conf.h"
#include "snapgate/task.h"

struct sg_wstate;
struct evbuffer;

#define SG_METRICS_CODES 16
#define SG_METRICS_BUCKETS 14
#define SG_METRICS_OUTCOMES 7
#define SG_METRICS_CACHE_RESULTS 5 /* hit miss stale bypass error */

#define SG_METRICS_SESSION_RESULTS 3 /* ok denied error */
#define SG_METRICS_UPSTREAM_CODES 10 /* 200 401 403 404 500 502 503 504 other none */

/* Why a client connection was not served: over max_connections (closed once
 * accepted), accept() out of descriptors (EMFILE, ENFILE), or accept() failing
 * otherwise. The last two count failed accept() calls. */
enum sg_conn_refused { SG_REFUSED_LIMIT, SG_REFUSED_EMFILE, SG_REFUSED_ERROR };
#define SG_METRICS_REFUSED_REASONS 3

/* One backend as seen by one worker. */
struct sg_backend_metrics {
    _Atomic uint64_t codes[SG_METRICS_UPSTREAM_CODES];
    _Atomic uint64_t duration_bucket[SG_METRICS_BUCKETS];
    _Atomic uint64_t duration_count;
    _Atomic uint64_t duration_sum_ms;
    _Atomic uint64_t retries;
};

/* The protocol a client request spoke: the label of snapgate_requests_total. */
enum sg_metrics_protocol { SG_METRICS_REST = 0, SG_METRICS_JSONRPC, SG_METRICS_PROTOCOLS };

struct sg_metrics {
    _Atomic uint64_t requests[SG_METRICS_PROTOCOLS][SG_METRICS_CODES];
    _Atomic uint64_t duration_bucket[SG_METRICS_BUCKETS];
    _Atomic uint64_t duration_count;
    _Atomic uint64_t duration_sum_us;
    _Atomic uint64_t cache[SG_METRICS_CACHE_RESULTS];
    _Atomic uint64_t upstream[SG_METRICS_OUTCOMES];
    _Atomic uint64_t upstream_ms_sum;
    _Atomic uint64_t coalesced;
    _Atomic uint64_t lease_waits;
    /* copied from the shared tier's own counters once a second */
    _Atomic uint64_t redis_errors, redis_reconnects, redis_connected, redis_circuit_open;
    _Atomic uint64_t redis_configured;
    struct sg_backend_metrics backends[SG_MAX_BACKENDS];
    /* client connections: accepted ever, and open now (this worker's count) */
    _Atomic uint64_t conns_accepted, conns_open;
    _Atomic uint64_t conns_refused[SG_METRICS_REFUSED_REASONS]; /* by enum sg_conn_refused */
    /* snapgate's own sessions (gateway/auth/session.h) */
    _Atomic uint64_t sessions_created, sessions_deleted;
    _Atomic uint64_t session_checks[SG_METRICS_SESSION_RESULTS]; /* ok denied error */
};

/* Registers a worker's block so the admin endpoint can sum it. */
struct sg_metrics *sg_metrics_register(unsigned worker_id);

void sg_metrics_request(struct sg_wstate *ws, int status, uint64_t duration_us);
/* The same for a request of protocol p (sg_metrics_request counts REST). */
void sg_metrics_request_as(struct sg_wstate *ws, enum sg_metrics_protocol p, int status,
                           uint64_t duration_us);
/* result: "hit", "miss", "stale", "bypass" or "error" (the shared tier failed). */
void sg_metrics_cache(struct sg_wstate *ws, const char *result);
void sg_metrics_lease_wait(struct sg_wstate *ws);
struct sg_cache_stats;
void sg_metrics_shared_stats(struct sg_wstate *ws, const struct sg_cache_stats *st);
void sg_metrics_upstream(struct sg_wstate *ws, enum sg_outcome o, uint64_t ms);
void sg_metrics_coalesced(struct sg_wstate *ws);
/* One fetch from backend i ended (a cancelled fan-out leg is not counted):
 * status is the last HTTP status it saw (0: none), retries its extra tries. */
void sg_metrics_backend(struct sg_wstate *ws, size_t i, int status, uint64_t ms, unsigned retries);

/* Zeroes this worker's per-backend counters (a reload changed the backends;
 * runs on the worker, the blocks' only writer). */
void sg_metrics_backends_reset(struct sg_wstate *ws);

struct sg_health;
/* The per-backend families: requests by code, latency, retries (summed over
 * workers), and ejections and up/down from the shared health state. */
void sg_metrics_render_backends(struct evbuffer *out, const struct sg_conf *conf,
                                const struct sg_health *health);
/* A client connection was accepted / closed on ws (the socket itself: a
 * connection lingering after an error answer is still open). Called from ws's
 * own thread only: each worker is the single writer of its block. */
void sg_metrics_conn_open(struct sg_wstate *ws);
void sg_metrics_conn_close(struct sg_wstate *ws);
/* A connection refused, or a failed accept(), on ws's listener (ws's thread). */
void sg_metrics_conn_refused(struct sg_wstate *ws, enum sg_conn_refused why);
/* A session made; one ended by a delete; a presented id checked, by its
 * outcome (SG_OK: ok, SG_DENIED: denied, anything else: error). */
void sg_metrics_session_created(struct sg_wstate *ws);
void sg_metrics_session_deleted(struct sg_wstate *ws);
void sg_metrics_session_check(struct sg_wstate *ws, int rc);
/* Client connections open now in the whole process (every worker's count). */
uint64_t sg_metrics_conns_open_total(void);

/* Prometheus text format 0.0.4 of every registered worker, summed. */
void sg_metrics_render(struct evbuffer *out);

#endif
