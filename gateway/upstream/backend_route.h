/* Which backends a cache miss asks, and what their answers add up to.
 *
 *   fanout   a task with no known owner goes to every usable backend at
 *            once; the first 200 wins and its backend becomes the task's
 *            owner (kept with the cached entry, routing.owner_ttl); later
 *            misses ask only the owner
 *   header   X-Snapgate-Backend names the one backend to ask
 *   delegated callers always go to the backend of the provider that vouched
 *            for them: their session is only good there
 *
 * Health decides among candidates: a backend that is DOWN or ejected is not
 * asked, unless no backend at all is usable: then health is ignored (every
 * wanted backend is asked) because a possibly wrong health verdict must not
 * turn into a certain 503. */
#ifndef SG_BACKEND_ROUTE_H
#define SG_BACKEND_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "upstream/health.h"
#include "snapgate/conf.h"
#include "snapgate/task.h"

/* The index of the backend called name in conf, or -1. */
int sg_backend_index(const struct sg_conf *conf, const char *name);

/* Why a request cannot be bound to a backend. */
enum sg_bind_error {
    SG_BIND_OK = 0,
    SG_BIND_HEADER_MISSING, /* header routing: no X-Snapgate-Backend */
    SG_BIND_HEADER_UNKNOWN, /* header routing: it names no configured backend */
    SG_BIND_NOT_CALLERS,    /* a delegated caller's own backend is gone, or another is named */
};

/* The one backend a request must use, or -1 (any: fan-out): the backend the
 * header names (header routing; header may be NULL), and for a delegated
 * caller the backend that vouched for it (caller_backend, NULL otherwise),
 * which must be the same. SG_BIND_OK and *index, or why not. */
enum sg_bind_error sg_backend_bind(const struct sg_conf *conf, const char *header,
                                   const char *caller_backend, int *index);

/* The backend a miss asks: the bound one; else, under fan-out with several
 * backends, the owner remembered with the task's expired entry (owner, "" or
 * NULL when none); else -1: every usable backend. */
int sg_backend_for_miss(const struct sg_conf *conf, int bound, const char *owner);

/* The same backend in the config now in force, after a reload between the
 * miss and its fetch: its index in now (-1: fan out as before). Returns false
 * when the backend a request was bound to is gone (named by the header, or the
 * caller's session: nowhere else will do). */
bool sg_backend_rebase(const struct sg_conf *was, const struct sg_conf *now, int *index,
                       bool bound_by_caller);

/* Fills out (room for h->n) with the backends to ask and returns how many.
 * only: one wanted backend (owner, header, delegation), or -1 for all.
 * Returns 0 when the wanted backend is unusable while others are usable. */
size_t sg_backend_candidates(const struct sg_health *h, int only, uint64_t now, size_t *out);

/* What a fan-out ends with when no backend answered 200: 503 when any
 * backend could not answer (the task may be there), else the first other
 * failure (garbage, a refused service account), else 404: only when every
 * backend asked said 404. */
enum sg_outcome sg_fanout_verdict(const enum sg_outcome *outcomes, size_t n);

#endif
