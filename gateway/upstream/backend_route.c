#include <string.h>

#include "upstream/backend_route.h"

int sg_backend_index(const struct sg_conf *conf, const char *name)
{
    for (size_t i = 0; i < conf->backends_n; i++)
        if (strcmp(conf->backends[i].name, name) == 0)
            return (int)i;
    return -1;
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
