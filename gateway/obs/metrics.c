#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

#include "upstream/health.h"
#include "obs/metrics.h"
#include "snapgate/common.h"
#include "worker/wstate.h"

#define MAX_WORKERS 64

static struct sg_metrics blocks[MAX_WORKERS];
static _Atomic unsigned nblocks;

static const int codes[SG_METRICS_CODES] = {200, 304, 400, 401, 403, 404, 405, 408,
                                            413, 414, 431, 499, 500, 503, 0,   0};
static const double buckets[SG_METRICS_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,    0.25,  0.5,    1,     2.5,  5,     10};
static const int upstream_codes[SG_METRICS_UPSTREAM_CODES - 2] = {200, 401, 403, 404,
                                                                  500, 502, 503, 504};
static const char *const cache_results[SG_METRICS_CACHE_RESULTS] = {"hit", "miss", "stale",
                                                                    "bypass", "error"};
static const char *const refused_reasons[SG_METRICS_REFUSED_REASONS] = {"limit", "emfile", "error"};
static const char *const session_results[SG_METRICS_SESSION_RESULTS] = {"ok", "denied", "error"};
static const char *const outcomes[SG_METRICS_OUTCOMES] = {
    "info", "not_found", "unauthenticated", "unauthorized", "unavailable", "error", "inaccessible"};

/* Single writer per block: a relaxed load and store, no lock prefix. */
static inline void bump(_Atomic uint64_t *c, uint64_t by)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

static inline uint64_t sum(size_t offset)
{
    uint64_t total = 0;
    unsigned n = atomic_load(&nblocks);
    for (unsigned i = 0; i < n; i++)
        total += atomic_load_explicit((_Atomic uint64_t *)((char *)&blocks[i] + offset),
                                      memory_order_relaxed);
    return total;
}

struct sg_metrics *sg_metrics_register(unsigned worker_id)
{
    if (worker_id >= MAX_WORKERS)
        worker_id = MAX_WORKERS - 1;
    unsigned n = atomic_load(&nblocks);
    while (n <= worker_id && !atomic_compare_exchange_weak(&nblocks, &n, worker_id + 1))
        ;
    return &blocks[worker_id];
}

static struct sg_metrics *of(struct sg_wstate *ws)
{
    return ws->metrics;
}

/* One observation of a histogram: the first bucket it fits counts it (the
 * render makes the buckets cumulative); past the last one only _count does. */
static void observe(_Atomic uint64_t bucket[SG_METRICS_BUCKETS], double seconds)
{
    for (size_t b = 0; b < SG_METRICS_BUCKETS; b++)
        if (seconds <= buckets[b]) {
            bump(&bucket[b], 1);
            break;
        }
}

/* A histogram family's series, summed over workers: labels ("" or e.g.
 * backend="vc1") go in front of le; the fields are byte offsets into
 * struct sg_metrics of the bucket array, the count and the sum. */
static void render_histogram(struct evbuffer *out, const char *name, const char *labels,
                             size_t bucket_off, size_t count_off, size_t sum_off,
                             double sum_per_second)
{
    const char *sep = labels[0] ? "," : "";
    uint64_t cum = 0;
    for (size_t b = 0; b < SG_METRICS_BUCKETS; b++) {
        cum += sum(bucket_off + b * sizeof(_Atomic uint64_t));
        evbuffer_add_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, buckets[b],
                            (unsigned long long)cum);
    }
    uint64_t count = sum(count_off);
    const char *open = labels[0] ? "{" : "", *close = labels[0] ? "}" : "";
    evbuffer_add_printf(out,
                        "%s_bucket{%s%sle=\"+Inf\"} %llu\n%s_sum%s%s%s %.6f\n%s_count%s%s%s %llu\n",
                        name, labels, sep, (unsigned long long)count, name, open, labels, close,
                        (double)sum(sum_off) / sum_per_second, name, open, labels, close,
                        (unsigned long long)count);
}

void sg_metrics_request(struct sg_wstate *ws, int status, uint64_t duration_us)
{
    sg_metrics_request_as(ws, SG_METRICS_REST, status, duration_us);
}

void sg_metrics_request_as(struct sg_wstate *ws, enum sg_metrics_protocol p, int status,
                           uint64_t duration_us)
{
    struct sg_metrics *m = of(ws);
    size_t i = 0;
    while (i < SG_METRICS_CODES - 2 && codes[i] != status)
        i++;
    bump(&m->requests[p][i], 1);
    observe(m->duration_bucket, (double)duration_us / 1e6);
    bump(&m->duration_count, 1);
    bump(&m->duration_sum_us, duration_us);
}

void sg_metrics_cache(struct sg_wstate *ws, const char *result)
{
    for (size_t i = 0; i < SG_METRICS_CACHE_RESULTS; i++)
        if (strcmp(result, cache_results[i]) == 0)
            bump(&of(ws)->cache[i], 1);
}

void sg_metrics_lease_wait(struct sg_wstate *ws)
{
    bump(&of(ws)->lease_waits, 1);
}

void sg_metrics_shared_stats(struct sg_wstate *ws, const struct sg_cache_stats *st)
{
    struct sg_metrics *m = of(ws);
    atomic_store_explicit(&m->redis_configured, 1, memory_order_relaxed);
    atomic_store_explicit(&m->redis_errors, st->errors, memory_order_relaxed);
    atomic_store_explicit(&m->redis_reconnects, st->reconnects, memory_order_relaxed);
    atomic_store_explicit(&m->redis_connected, (uint64_t)st->connected, memory_order_relaxed);
    atomic_store_explicit(&m->redis_circuit_open, (uint64_t)st->circuit_open, memory_order_relaxed);
}

void sg_metrics_upstream(struct sg_wstate *ws, enum sg_outcome o, uint64_t ms)
{
    if ((unsigned)o < SG_METRICS_OUTCOMES)
        bump(&of(ws)->upstream[o], 1);
    bump(&of(ws)->upstream_ms_sum, ms);
}

void sg_metrics_coalesced(struct sg_wstate *ws)
{
    bump(&of(ws)->coalesced, 1);
}

void sg_metrics_conn_open(struct sg_wstate *ws)
{
    bump(&of(ws)->conns_accepted, 1);
    bump(&of(ws)->conns_open, 1);
}

void sg_metrics_conn_close(struct sg_wstate *ws)
{
    /* A connection closes on the worker that accepted it, so this block's
     * count never goes below zero. */
    bump(&of(ws)->conns_open, (uint64_t)-1);
}

void sg_metrics_conn_refused(struct sg_wstate *ws, enum sg_conn_refused why)
{
    if ((unsigned)why < SG_METRICS_REFUSED_REASONS)
        bump(&of(ws)->conns_refused[why], 1);
}

void sg_metrics_session_created(struct sg_wstate *ws)
{
    bump(&of(ws)->sessions_created, 1);
}

void sg_metrics_session_deleted(struct sg_wstate *ws)
{
    bump(&of(ws)->sessions_deleted, 1);
}

void sg_metrics_session_check(struct sg_wstate *ws, int rc)
{
    bump(&of(ws)->session_checks[rc == SG_OK ? 0 : rc == SG_DENIED ? 1 : 2], 1);
}

#define FIELD(f) offsetof(struct sg_metrics, f)

/* Relaxed loads of every worker's count: another worker accepting at the
 * same moment may be missed, so a cap checked against it can be passed by
 * one connection per worker at most. */
uint64_t sg_metrics_conns_open_total(void)
{
    return sum(FIELD(conns_open));
}

/* A counter family with one label: HELP, TYPE, then one sample per value,
 * summed over the workers; first is the byte offset of the value's counters
 * in struct sg_metrics (an array in the values' order). */
static void render_labelled(struct evbuffer *out, const char *name, const char *help,
                            const char *label, const char *const *values, size_t n, size_t first)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (size_t i = 0; i < n; i++)
        evbuffer_add_printf(out, "%s{%s=\"%s\"} %llu\n", name, label, values[i],
                            (unsigned long long)sum(first + i * sizeof(_Atomic uint64_t)));
}

static void render_sessions(struct evbuffer *out)
{
    evbuffer_add_printf(out,
                        "# HELP snapgate_sessions_created_total Sessions made (vAPI "
                        "com.vmware.cis.session create, POST /api/snapservice/sessions).\n"
                        "# TYPE snapgate_sessions_created_total counter\n"
                        "snapgate_sessions_created_total %llu\n"
                        "# HELP snapgate_sessions_deleted_total Sessions ended by a delete.\n"
                        "# TYPE snapgate_sessions_deleted_total counter\n"
                        "snapgate_sessions_deleted_total %llu\n",
                        (unsigned long long)sum(FIELD(sessions_created)),
                        (unsigned long long)sum(FIELD(sessions_deleted)));
    render_labelled(out, "snapgate_session_checks_total",
                    "Session ids presented, by result: ok, denied (unknown, ended or malformed), "
                    "error (the session store failed).",
                    "result", session_results, SG_METRICS_SESSION_RESULTS,
                    FIELD(session_checks[0]));
}

void sg_metrics_render(struct evbuffer *out)
{
    evbuffer_add_printf(out,
                        "# HELP snapgate_build_info Build information.\n"
                        "# TYPE snapgate_build_info gauge\n"
                        "snapgate_build_info{version=\"%s\"} 1\n",
                        SNAPGATE_VERSION);
    evbuffer_add_printf(out, "# HELP snapgate_requests_total Client requests by protocol (rest, "
                             "jsonrpc) and HTTP status code.\n"
                             "# TYPE snapgate_requests_total counter\n");
    static const char *const protocols[SG_METRICS_PROTOCOLS] = {"rest", "jsonrpc"};
    for (size_t p = 0; p < SG_METRICS_PROTOCOLS; p++) {
        for (size_t i = 0; i < SG_METRICS_CODES - 1; i++) {
            uint64_t v = sum(FIELD(requests[p][i]));
            if (codes[i])
                evbuffer_add_printf(out,
                                    "snapgate_requests_total{protocol=\"%s\",code=\"%d\"} %llu\n",
                                    protocols[p], codes[i], (unsigned long long)v);
            else if (i == SG_METRICS_CODES - 2)
                evbuffer_add_printf(
                    out, "snapgate_requests_total{protocol=\"%s\",code=\"other\"} %llu\n",
                    protocols[p], (unsigned long long)v);
        }
    }
    evbuffer_add_printf(out, "# HELP snapgate_request_duration_seconds Time to answer a request.\n"
                             "# TYPE snapgate_request_duration_seconds histogram\n");
    render_histogram(out, "snapgate_request_duration_seconds", "", FIELD(duration_bucket),
                     FIELD(duration_count), FIELD(duration_sum_us), 1e6);
    render_labelled(out, "snapgate_cache_lookups_total", "Cache lookups by result.", "result",
                    cache_results, SG_METRICS_CACHE_RESULTS, FIELD(cache[0]));
    evbuffer_add_printf(out,
                        "# HELP snapgate_lease_waits_total Fetches that waited for another "
                        "replica's lease.\n# TYPE snapgate_lease_waits_total counter\n"
                        "snapgate_lease_waits_total %llu\n",
                        (unsigned long long)sum(FIELD(lease_waits)));
    if (sum(FIELD(redis_configured)) > 0) {
        unsigned n = atomic_load(&nblocks);
        evbuffer_add_printf(
            out,
            "# HELP snapgate_redis_errors_total Redis commands that failed or timed out.\n"
            "# TYPE snapgate_redis_errors_total counter\n"
            "snapgate_redis_errors_total %llu\n"
            "# HELP snapgate_redis_reconnects_total Redis connections re-established.\n"
            "# TYPE snapgate_redis_reconnects_total counter\n"
            "snapgate_redis_reconnects_total %llu\n"
            "# HELP snapgate_redis_connected Workers whose Redis connection is up.\n"
            "# TYPE snapgate_redis_connected gauge\n"
            "snapgate_redis_connected %llu\n"
            "# HELP snapgate_redis_circuit_open Workers whose Redis circuit is open (failing "
            "fast).\n# TYPE snapgate_redis_circuit_open gauge\n"
            "snapgate_redis_circuit_open %llu\n"
            "# HELP snapgate_workers Event-loop workers.\n# TYPE snapgate_workers gauge\n"
            "snapgate_workers %u\n",
            (unsigned long long)sum(FIELD(redis_errors)),
            (unsigned long long)sum(FIELD(redis_reconnects)),
            (unsigned long long)sum(FIELD(redis_connected)),
            (unsigned long long)sum(FIELD(redis_circuit_open)), n);
    }
    evbuffer_add_printf(out, "# HELP snapgate_upstream_fetches_total Upstream task fetches by "
                             "outcome.\n# TYPE snapgate_upstream_fetches_total counter\n");
    for (size_t o = 0; o < SG_METRICS_OUTCOMES; o++)
        evbuffer_add_printf(out, "snapgate_upstream_fetches_total{outcome=\"%s\"} %llu\n",
                            outcomes[o], (unsigned long long)sum(FIELD(upstream[o])));
    evbuffer_add_printf(out,
                        "# HELP snapgate_coalesced_waiters_total Requests that joined a fetch "
                        "already in flight.\n# TYPE snapgate_coalesced_waiters_total counter\n"
                        "snapgate_coalesced_waiters_total %llu\n",
                        (unsigned long long)sum(FIELD(coalesced)));
    evbuffer_add_printf(out,
                        "# HELP snapgate_connections_accepted_total Client connections "
                        "accepted.\n# TYPE snapgate_connections_accepted_total counter\n"
                        "snapgate_connections_accepted_total %llu\n"
                        "# HELP snapgate_connections_open Client connections open now.\n"
                        "# TYPE snapgate_connections_open gauge\n"
                        "snapgate_connections_open %llu\n",
                        (unsigned long long)sum(FIELD(conns_accepted)),
                        (unsigned long long)sum(FIELD(conns_open)));
    render_labelled(out, "snapgate_connections_refused_total",
                    "Client connections closed at once over max_connections (limit), and failed "
                    "accept() calls for want of descriptors (emfile) or otherwise (error).",
                    "reason", refused_reasons, SG_METRICS_REFUSED_REASONS, FIELD(conns_refused[0]));
    render_sessions(out);
}

void sg_metrics_backend(struct sg_wstate *ws, size_t i, int status, uint64_t ms, unsigned retries)
{
    if (i >= SG_MAX_BACKENDS)
        return;
    struct sg_backend_metrics *m = &of(ws)->backends[i];
    size_t c = SG_METRICS_UPSTREAM_CODES - 1; /* none */
    if (status > 0) {
        c = 0;
        while (c < SG_METRICS_UPSTREAM_CODES - 2 && upstream_codes[c] != status)
            c++; /* falls on "other" */
    }
    bump(&m->codes[c], 1);
    observe(m->duration_bucket, (double)ms / 1e3);
    bump(&m->duration_count, 1);
    bump(&m->duration_sum_ms, ms);
    bump(&m->retries, retries);
}

void sg_metrics_backends_reset(struct sg_wstate *ws)
{
    struct sg_metrics *m = of(ws);
    for (size_t i = 0; i < SG_MAX_BACKENDS; i++) {
        struct sg_backend_metrics *b = &m->backends[i];
        for (size_t c = 0; c < SG_METRICS_UPSTREAM_CODES; c++)
            atomic_store_explicit(&b->codes[c], 0, memory_order_relaxed);
        for (size_t k = 0; k < SG_METRICS_BUCKETS; k++)
            atomic_store_explicit(&b->duration_bucket[k], 0, memory_order_relaxed);
        atomic_store_explicit(&b->duration_count, 0, memory_order_relaxed);
        atomic_store_explicit(&b->duration_sum_ms, 0, memory_order_relaxed);
        atomic_store_explicit(&b->retries, 0, memory_order_relaxed);
    }
}

#define BFIELD(i, f)                                                                               \
    (offsetof(struct sg_metrics, backends) + (i) * sizeof(struct sg_backend_metrics) +             \
     offsetof(struct sg_backend_metrics, f))

static const char *code_label(size_t c, char buf[8])
{
    if (c < SG_METRICS_UPSTREAM_CODES - 2) {
        snprintf(buf, 8, "%d", upstream_codes[c]);
        return buf;
    }
    return c == SG_METRICS_UPSTREAM_CODES - 2 ? "other" : "none";
}

void sg_metrics_render_backends(struct evbuffer *out, const struct sg_conf *conf,
                                const struct sg_health *health)
{
    size_t n = conf->backends_n < SG_MAX_BACKENDS ? conf->backends_n : SG_MAX_BACKENDS;
    char buf[8];
    uint64_t now = sg_now_ms();
    evbuffer_add_printf(out, "# HELP snapgate_upstream_requests_total Task fetches by backend and "
                             "last HTTP status (none: no answer).\n"
                             "# TYPE snapgate_upstream_requests_total counter\n");
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < SG_METRICS_UPSTREAM_CODES; c++)
            evbuffer_add_printf(
                out, "snapgate_upstream_requests_total{backend=\"%s\",code=\"%s\"} %llu\n",
                conf->backends[i].name, code_label(c, buf),
                (unsigned long long)sum(BFIELD(i, codes[c])));
    evbuffer_add_printf(out, "# HELP snapgate_upstream_duration_seconds Time of a task fetch "
                             "(retries and login included) by backend.\n"
                             "# TYPE snapgate_upstream_duration_seconds histogram\n");
    for (size_t i = 0; i < n; i++) {
        char labels[SG_CACHE_OWNER_MAX + 16];
        snprintf(labels, sizeof(labels), "backend=\"%s\"", conf->backends[i].name);
        render_histogram(out, "snapgate_upstream_duration_seconds", labels,
                         BFIELD(i, duration_bucket), BFIELD(i, duration_count),
                         BFIELD(i, duration_sum_ms), 1e3);
    }
    evbuffer_add_printf(out, "# HELP snapgate_upstream_retries_total Extra tries of task fetches "
                             "after idempotent failures, by backend.\n"
                             "# TYPE snapgate_upstream_retries_total counter\n");
    for (size_t i = 0; i < n; i++)
        evbuffer_add_printf(out, "snapgate_upstream_retries_total{backend=\"%s\"} %llu\n",
                            conf->backends[i].name, (unsigned long long)sum(BFIELD(i, retries)));
    if (!health)
        return;
    evbuffer_add_printf(out, "# HELP snapgate_backend_ejections_total Passive outlier ejections "
                             "by backend.\n# TYPE snapgate_backend_ejections_total counter\n");
    for (size_t i = 0; i < n && i < health->n; i++)
        evbuffer_add_printf(out, "snapgate_backend_ejections_total{backend=\"%s\"} %llu\n",
                            conf->backends[i].name,
                            (unsigned long long)atomic_load(&health->v[i].ejections_total));
    evbuffer_add_printf(out, "# HELP snapgate_backend_up Whether a backend is usable (not down "
                             "by health checks, not ejected).\n# TYPE snapgate_backend_up gauge\n");
    for (size_t i = 0; i < n && i < health->n; i++)
        evbuffer_add_printf(out, "snapgate_backend_up{backend=\"%s\"} %d\n", conf->backends[i].name,
                            sg_health_usable(health, i, now) ? 1 : 0);
}
