/* Which delegated caller the backend let read which task, remembered briefly
 * per worker: a cached answer goes to a delegated caller only when the backend
 * said yes to that caller for that task, and a no is not asked again at once. */
#ifndef SG_PAIRS_H
#define SG_PAIRS_H

#include <stdint.h>

#include "snapgate/strmap.h"

#define SG_PAIR_ALLOWED_MS (30u * 1000u)
#define SG_PAIR_DENIED_MS (10u * 1000u)

/* NOT_FOUND: the backend said 404 to this caller. Never a permission: the
 * caller is answered 404 from it, and nothing cached is ever read for it. */
enum sg_pair { SG_PAIR_UNKNOWN = 0, SG_PAIR_ALLOWED, SG_PAIR_DENIED, SG_PAIR_NOT_FOUND };

void sg_pairs_init(struct sg_strmap *m);
void sg_pairs_destroy(struct sg_strmap *m);
enum sg_pair sg_pairs_get(struct sg_strmap *m, const char *principal, const char *task);
/* ALLOWED for SG_PAIR_ALLOWED_MS, the others for SG_PAIR_DENIED_MS. */
void sg_pairs_set(struct sg_strmap *m, const char *principal, const char *task, enum sg_pair v);
/* The same for ttl_ms (0: forget what was said of the pair). */
void sg_pairs_set_for(struct sg_strmap *m, const char *principal, const char *task, enum sg_pair v,
                      uint64_t ttl_ms);

#endif
