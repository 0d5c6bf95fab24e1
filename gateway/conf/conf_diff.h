/* What differs between two configs, as data: the caller (the reload) decides
 * what to do about it. Listeners, workers, the local tier's size and Redis are
 * built once per process; backends may be rebuilt. */
#ifndef SG_CONF_DIFF_H
#define SG_CONF_DIFF_H

#include <stdbool.h>

#include "snapgate/conf.h"

struct sg_conf_diff {
    /* The first differing key among those built once per process ("listen",
     * "admin_listen", "workers", "cache.local.max_entries", "redis"), or NULL. */
    const char *fixed_key;
    /* The backends are not cur's, every setting alike. */
    bool backends_changed;
};

/* Fills d with what differs from cur to next. */
void sg_conf_diff(const struct sg_conf *cur, const struct sg_conf *next, struct sg_conf_diff *d);
/* One backend's settings alike (name included). */
bool sg_conf_backend_equal(const struct sg_conf_backend *a, const struct sg_conf_backend *b);

#endif
