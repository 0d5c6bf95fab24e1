/* What snapgate knows about each backend's health, shared by every worker:
 *
 *   active   the prober on the main thread (health_check.c) marks a backend
 *            UP after `rise` good probes in a row and DOWN after `fall` bad
 *            ones; UNKNOWN until the first probe has answered
 *   passive  workers report each fetch; `outlier.consecutive_failures` in a
 *            row eject the backend for `outlier.ejection` x n (the n-th
 *            ejection without a success in between; n at most 10), but never
 *            the last backend that is still usable
 *
 * A backend is usable when it is not DOWN and not ejected. Workers read the
 * state with relaxed atomic loads (no lock on any request path); the rare
 * ejection decision takes a mutex so two workers cannot eject the last two
 * usable backends at once. */
#ifndef SG_HEALTH_H
#define SG_HEALTH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapgate/conf.h"

enum sg_health_state { SG_HEALTH_UNKNOWN = 0, SG_HEALTH_UP = 1, SG_HEALTH_DOWN = 2 };

#define SG_HEALTH_MAX_EJECTION_FACTOR 10

struct sg_backend_health {
    const struct sg_conf_backend *b;
    _Atomic int state;                 /* enum sg_health_state */
    _Atomic uint64_t ejected_until_ms; /* monotonic; 0 or past: not ejected */
    _Atomic unsigned failures;         /* consecutive failed fetches */
    _Atomic unsigned ejections_in_row; /* without a success in between */
    _Atomic uint64_t ejections_total;
    /* the prober's own counters (main thread only) */
    unsigned good_in_row, bad_in_row;
};

struct sg_health {
    size_t n;
    struct sg_backend_health *v;
    pthread_mutex_t eject_lock;
};

/* One entry per backend of conf (which must outlive the result). A backend
 * without active checks starts UP: nothing will ever probe it. */
struct sg_health *sg_health_new(const struct sg_conf *conf);
void sg_health_free(struct sg_health *h);

/* A reload built h for a new backend set: every backend of it that `same`
 * finds in old (equal settings) starts with what old knew of it (state,
 * ejection, failures) instead of UNKNOWN. */
void sg_health_carry_over(struct sg_health *h, const struct sg_health *old,
                          bool (*same)(const struct sg_conf_backend *a,
                                       const struct sg_conf_backend *b));

/* Not DOWN and not ejected at now (monotonic ms). */
bool sg_health_usable(const struct sg_health *h, size_t i, uint64_t now);
/* Any backend usable: else routing ignores health (a guess beats a certain 503). */
bool sg_health_any_usable(const struct sg_health *h, uint64_t now);
/* For /readyz: a backend is UP (known healthy) and not ejected. */
bool sg_health_ready(const struct sg_health *h, uint64_t now);

/* Passive: a fetch from backend i ended; ok is false for a failure (no answer,
 * 5xx, garbage). Returns true when this report ejected the backend. */
bool sg_health_report(struct sg_health *h, size_t i, bool ok, uint64_t now);

/* Active: one probe of backend i ended. Returns the state after it. */
enum sg_health_state sg_health_probe_result(struct sg_health *h, size_t i, bool ok);

#endif
