#include <stdlib.h>

#include "upstream/health.h"
#include "snapgate/common.h"
#include "snapgate/log.h"

#define MOD "health"

struct sg_health *sg_health_new(const struct sg_conf *conf)
{
    struct sg_health *h = sg_xcalloc(1, sizeof(*h));
    h->n = conf->backends_n;
    h->v = sg_xcalloc(h->n ? h->n : 1, sizeof(*h->v));
    for (size_t i = 0; i < h->n; i++) {
        h->v[i].b = &conf->backends[i];
        atomic_init(&h->v[i].state,
                    conf->backends[i].health_enabled ? SG_HEALTH_UNKNOWN : SG_HEALTH_UP);
    }
    pthread_mutex_init(&h->eject_lock, NULL);
    return h;
}

void sg_health_free(struct sg_health *h)
{
    if (!h)
        return;
    pthread_mutex_destroy(&h->eject_lock);
    free(h->v);
    free(h);
}

void sg_health_carry_over(struct sg_health *h, const struct sg_health *old,
                          bool (*same)(const struct sg_conf_backend *a,
                                       const struct sg_conf_backend *b))
{
    for (size_t i = 0; i < h->n; i++)
        for (size_t j = 0; j < old->n; j++) {
            const struct sg_backend_health *o = &old->v[j];
            if (!same(o->b, h->v[i].b))
                continue;
            struct sg_backend_health *n = &h->v[i];
            atomic_store(&n->state, atomic_load(&o->state));
            atomic_store(&n->ejected_until_ms, atomic_load(&o->ejected_until_ms));
            atomic_store(&n->failures, atomic_load(&o->failures));
            atomic_store(&n->ejections_in_row, atomic_load(&o->ejections_in_row));
            atomic_store(&n->ejections_total, atomic_load(&o->ejections_total));
            n->good_in_row = o->good_in_row;
            n->bad_in_row = o->bad_in_row;
            break;
        }
}

static bool ejected(const struct sg_backend_health *bh, uint64_t now)
{
    return now < atomic_load_explicit(&bh->ejected_until_ms, memory_order_relaxed);
}

bool sg_health_usable(const struct sg_health *h, size_t i, uint64_t now)
{
    const struct sg_backend_health *bh = &h->v[i];
    return atomic_load_explicit(&bh->state, memory_order_relaxed) != SG_HEALTH_DOWN &&
           !ejected(bh, now);
}

bool sg_health_any_usable(const struct sg_health *h, uint64_t now)
{
    for (size_t i = 0; i < h->n; i++)
        if (sg_health_usable(h, i, now))
            return true;
    return false;
}

bool sg_health_ready(const struct sg_health *h, uint64_t now)
{
    for (size_t i = 0; i < h->n; i++)
        if (atomic_load_explicit(&h->v[i].state, memory_order_relaxed) == SG_HEALTH_UP &&
            !ejected(&h->v[i], now))
            return true;
    return false;
}

bool sg_health_report(struct sg_health *h, size_t i, bool ok, uint64_t now)
{
    struct sg_backend_health *bh = &h->v[i];
    if (ok) {
        atomic_store_explicit(&bh->failures, 0, memory_order_relaxed);
        if (!ejected(bh, now))
            atomic_store_explicit(&bh->ejections_in_row, 0, memory_order_relaxed);
        return false;
    }
    unsigned failures = atomic_fetch_add(&bh->failures, 1) + 1;
    if (failures < bh->b->outlier_failures || ejected(bh, now))
        return false;
    bool eject = false;
    pthread_mutex_lock(&h->eject_lock);
    /* Another worker may have ejected it meanwhile, or ejected the others. */
    if (!ejected(bh, now) && atomic_load(&bh->failures) >= bh->b->outlier_failures) {
        for (size_t j = 0; j < h->n && !eject; j++)
            eject = j != i && sg_health_usable(h, j, now);
        if (eject) {
            unsigned n = atomic_load(&bh->ejections_in_row) + 1;
            if (n > SG_HEALTH_MAX_EJECTION_FACTOR)
                n = SG_HEALTH_MAX_EJECTION_FACTOR;
            atomic_store(&bh->ejections_in_row, n);
            uint64_t out = bh->b->outlier_ejection_ms * n;
            atomic_store(&bh->ejected_until_ms, now + out);
            atomic_fetch_add(&bh->ejections_total, 1);
            atomic_store(&bh->failures, 0);
            sg_log_warn(MOD, "backend %s ejected for %llu ms after %u consecutive failures",
                        bh->b->name, (unsigned long long)out, failures);
        }
    }
    pthread_mutex_unlock(&h->eject_lock);
    return eject;
}

enum sg_health_state sg_health_probe_result(struct sg_health *h, size_t i, bool ok)
{
    struct sg_backend_health *bh = &h->v[i];
    int before = atomic_load(&bh->state);
    int after = before;
    if (ok) {
        bh->bad_in_row = 0;
        bh->good_in_row++;
        /* The first answer settles UNKNOWN at once: health is known early. */
        if (before == SG_HEALTH_UNKNOWN || bh->good_in_row >= bh->b->health_rise)
            after = SG_HEALTH_UP;
    } else {
        bh->good_in_row = 0;
        bh->bad_in_row++;
        if (before == SG_HEALTH_UNKNOWN || bh->bad_in_row >= bh->b->health_fall)
            after = SG_HEALTH_DOWN;
    }
    if (after != before) {
        atomic_store(&bh->state, after);
        if (after == SG_HEALTH_UP)
            sg_log_info(MOD, "backend %s is up", bh->b->name);
        else
            sg_log_warn(MOD, "backend %s is down", bh->b->name);
    }
    return (enum sg_health_state)after;
}
