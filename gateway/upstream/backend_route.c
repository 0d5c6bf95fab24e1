#include <string.h>

#include "upstream/backend_route.h"

int sg_backend_index(const struct sg_conf *conf, const char *name)
{
    for (size_t i = 0; i < conf->backends_n; i++)
        if (strcmp(conf->backends[i].name, name) == 0)
            return (int)i;
    return -1;
}

enum sg_bind_error sg_backend_bind(const struct sg_conf *conf, const char *header,
                                   const char *caller_backend, int *index)
{
    *index = -1;
    if (conf->routing == SG_ROUTE_HEADER) {
        if (!header)
            return SG_BIND_HEADER_MISSING;
        *index = sg_backend_index(conf, header);
        if (*index < 0)
            return SG_BIND_HEADER_UNKNOWN;
    }
    if (caller_backend) {
        int own = sg_backend_index(conf, caller_backend);
        /* The caller's session is good on its own backend only. */
        if (own < 0 || (conf->routing == SG_ROUTE_HEADER && own != *index)) {
            *index = -1;
            return SG_BIND_NOT_CALLERS;
        }
        *index = own;
    }
    return SG_BIND_OK;
}

int sg_backend_for_miss(const struct sg_conf *conf, int bound, const char *owner)
{
    if (bound >= 0)
        return bound;
    /* Fan-out: a task whose owner is known (kept with its expired entry) is
     * asked of that backend alone. */
    if (owner && owner[0] && conf->backends_n > 1)
        return sg_backend_index(conf, owner);
    return -1;
}

bool sg_backend_rebase(const struct sg_conf *was, const struct sg_conf *now, int *index,
                       bool bound_by_caller)
{
    if (was == now || *index < 0)
        return true;
    *index = sg_backend_index(now, was->backends[*index].name);
    /* Named by the request (header routing) or the caller's session: nowhere else. */
    return *index >= 0 || (was->routing != SG_ROUTE_HEADER && !bound_by_caller);
}

size_t sg_backend_candidates(const struct sg_health *h, int only, uint64_t now, size_t *out)
{
    bool panic = !sg_health_any_usable(h, now);
    if (only >= 0) {
        if ((size_t)only >= h->n)
            return 0;
        if (!panic && !sg_health_usable(h, (size_t)only, now))
            return 0;
        out[0] = (size_t)only;
        return 1;
    }
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++)
        if (panic || sg_health_usable(h, i, now))
            out[n++] = i;
    return n;
}

enum sg_outcome sg_fanout_verdict(const enum sg_outcome *outcomes, size_t n)
{
    enum sg_outcome other = SG_OUT_NOT_FOUND;
    for (size_t i = 0; i < n; i++) {
        if (outcomes[i] == SG_OUT_INFO)
            return SG_OUT_INFO;
        if (outcomes[i] == SG_OUT_UNAVAILABLE)
            return SG_OUT_UNAVAILABLE;
    }
    for (size_t i = 0; i < n; i++)
        if (outcomes[i] != SG_OUT_NOT_FOUND) {
            other = outcomes[i];
            break;
        }
    return n ? other : SG_OUT_UNAVAILABLE;
}
