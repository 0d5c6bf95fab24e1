/* Request coalescing within a worker: concurrent misses for one task share one
 * upstream fetch, and every waiter is answered from the same rendered bytes. */
#ifndef SG_FLIGHT_H
#define SG_FLIGHT_H

#include <stdbool.h>
#include <stdint.h>

#include "normalize/reply.h"
#include "snapgate/cache.h"
#include "snapgate/conf.h"
#include "snapgate/task.h"

struct sg_wstate;
struct sg_flight;

struct sg_flight_answer {
    struct sg_cache_entry *entry; /* the answer (200 or 404), or NULL: then error */
    const char *cache;            /* X-Cache of an entry: MISS, HIT (another replica's), BYPASS */
    enum sg_error error;
    bool stale_ok; /* the backend failed (not answered): a stale entry may stand in */
    int outcome;   /* enum sg_outcome of the fetch; -1 when the answer came from a cache */
    int upstream_status;
    uint64_t upstream_ms;
    const char *backend; /* the backend that answered, "*" for a fan-out verdict, "-" none */
};

struct sg_flight_waiter {
    struct sg_flight_waiter *prev, *next;
    struct sg_flight *flight; /* NULL when not waiting */
    void *owner;
    /* Called once, from the loop, after the waiter has left the flight. */
    void (*on_answer)(struct sg_flight_waiter *w, const struct sg_flight_answer *a);
};

/* What a miss asks for. */
struct sg_flight_ask {
    const char *task;
    const char *cache_key; /* where the answer is stored (sg_cache_key) */
    /* A delegated caller (name and its own upstream session, a secret): its
     * fetch carries the session and is shared with nobody else. */
    const char *caller;
    const char *session;
    int backend;             /* the one backend to ask (owner, header, delegation); -1: fan out */
    bool shared_failed;      /* the shared tier already failed: skip the lease */
    int64_t completed_floor; /* the highest progress.completed seen for the task, -1 none */
};

/* Joins the fetch ask describes, leading a new one when none is in flight.
 * The answer always comes later, never from inside this call. Returns false,
 * joining nothing, when the worker is stopping. */
bool sg_flight_join(struct sg_wstate *ws, const struct sg_flight_ask *ask,
                    struct sg_flight_waiter *w);
/* The lease outlives the fetch's own timeout, so it never lapses while its
 * holder is still asking: the longest backend request timeout plus a second. */
uint64_t sg_flight_lease_ms(const struct sg_conf *c);
/* How long the others poll for the holder's answer before asking the backend
 * themselves (a holder that died): the lease, at most 5 s. */
uint64_t sg_flight_lease_wait_ms(const struct sg_conf *c);
/* Leaves without an answer (deadline, client gone); no-op when not waiting.
 * The fetch goes on so its answer still fills the cache. */
void sg_flight_leave(struct sg_flight_waiter *w);
/* Cancels every fetch and answers its waiters with 503 (worker shutdown). */
void sg_flight_cancel_all(struct sg_wstate *ws);

#endif
