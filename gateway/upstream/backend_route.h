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

#include <stddef.h>
#include <stdint.h>

#include "upstream/health.h"
#include "snapgate/conf.h"
#include "snapgate/task.h"

/* The index of the backend called name in conf, or -1. */
int sg_backend_index(const struct sg_conf *conf, const char *name);

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
