/* The process's sessions when Redis is not configured: one table for all the
 * workers (a session made through one worker is checked on whichever worker
 * the next connection lands), so it takes a mutex. Every call holds it for a
 * map operation and a principal copy; a sweep of expired sessions holds it
 * longer (a pass over the table, about a millisecond per 100,000), at most
 * once a minute or when the table is full. Expired sessions are otherwise
 * dropped when a call finds them.
 *
 * The table is keyed like the shared tier, by the HMAC of the id: a memory
 * dump shows no usable id. It is bounded (SG_SESSION_LOCAL_MAX): beyond it a
 * create fails (SG_ERR, a 503 for that client), because dropping a live
 * session to make room would let anyone who can log in end other users'
 * sessions. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/session_int.h"
#include "snapgate/common.h"
#include "snapgate/log.h"
#include "snapgate/strmap.h"

#define SWEEP_EVERY_MS (60 * 1000)
#define REFUSAL_LOG_EVERY_MS (60 * 1000)

struct entry {
    struct sg_principal p; /* name and groups */
    uint64_t created_ms, last_ms;
};

struct sg_session_table {
    pthread_mutex_t mu;
    struct sg_strmap map; /* store key -> struct entry; under mu */
    size_t max;
    uint64_t last_sweep_ms;
    uint64_t refused;           /* creates refused since the last warning */
    uint64_t refusal_logged_ms; /* when that warning went out */
    uint64_t (*now_ms)(void);
};

struct sg_session_table *sg_session_table_new_bounded(size_t max)
{
    struct sg_session_table *t = sg_xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    sg_strmap_init(&t->map);
    t->max = max;
    t->now_ms = sg_wall_ms;
    return t;
}

struct sg_session_table *sg_session_table_new(void)
{
    return sg_session_table_new_bounded(SG_SESSION_LOCAL_MAX);
}

static void entry_free(struct entry *e)
{
    sg_principal_clear(&e->p);
    free(e);
}

static void free_each(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    entry_free(value);
}

void sg_session_table_free(struct sg_session_table *t)
{
    if (!t)
        return;
    sg_strmap_each(&t->map, free_each, NULL);
    sg_strmap_destroy(&t->map);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

void sg_session_table_set_clock(struct sg_session_table *t, uint64_t (*now_ms)(void))
{
    t->now_ms = now_ms;
}

uint64_t sg_session_now(const struct sg_session_table *t)
{
    return t ? t->now_ms() : sg_wall_ms();
}

size_t sg_session_table_count(struct sg_session_table *t)
{
    pthread_mutex_lock(&t->mu);
    size_t n = t->map.count;
    pthread_mutex_unlock(&t->mu);
    return n;
}

/* ---- the sweep ----------------------------------------------------------------- */

struct sweep {
    const struct sg_session_limits *lim;
    uint64_t now_ms;
    char **keys; /* of expired entries: the map must not change during each() */
    size_t n, cap;
};

static void collect_expired(const char *key, void *value, void *arg)
{
    struct sweep *s = arg;
    const struct entry *e = value;
    if (!sg_session_expired(s->lim, e->created_ms, e->last_ms, s->now_ms))
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->keys = sg_xrealloc(s->keys, s->cap * sizeof(*s->keys));
    }
    s->keys[s->n++] = sg_xstrdup(key);
}

/* Under mu. */
static void sweep(struct sg_session_table *t, const struct sg_session_limits *lim, uint64_t now)
{
    struct sweep s = {.lim = lim, .now_ms = now};
    sg_strmap_each(&t->map, collect_expired, &s);
    for (size_t i = 0; i < s.n; i++) {
        entry_free(sg_strmap_del(&t->map, s.keys[i]));
        free(s.keys[i]);
    }
    free(s.keys);
    t->last_sweep_ms = now;
}

/* ---- the calls ------------------------------------------------------------------- */

/* Under mu: one warning a minute at most, with how many were refused. */
static void note_refusal(struct sg_session_table *t, uint64_t now)
{
    t->refused++;
    if (t->refusal_logged_ms && now - t->refusal_logged_ms < REFUSAL_LOG_EVERY_MS)
        return;
    sg_log_warn(LOG_MOD_SESSION,
                "session table full (%zu live sessions): %llu create(s) refused; sessions end "
                "after sessions.idle_timeout unused, or configure redis",
                t->map.count, (unsigned long long)t->refused);
    t->refused = 0;
    t->refusal_logged_ms = now;
}

int sg_session_local_create(struct sg_session_table *t, const struct sg_session_limits *lim,
                            const char *key, const struct sg_principal *p, uint64_t now_ms)
{
    int rc = SG_ERR;
    pthread_mutex_lock(&t->mu);
    if (t->map.count >= t->max || now_ms - t->last_sweep_ms >= SWEEP_EVERY_MS ||
        now_ms < t->last_sweep_ms)
        sweep(t, lim, now_ms);
    if (t->map.count >= t->max) {
        note_refusal(t, now_ms);
    } else if (!sg_strmap_get(&t->map, key)) {
        /* An existing key would be a 256-bit collision: refused, not merged. */
        struct entry *e = sg_xcalloc(1, sizeof(*e));
        sg_session_principal_copy(&e->p, p);
        e->created_ms = e->last_ms = now_ms;
        sg_strmap_put(&t->map, key, e);
        rc = SG_OK;
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int sg_session_local_check(struct sg_session_table *t, const struct sg_session_limits *lim,
                           const char *key, uint64_t now_ms, struct sg_principal *out,
                           struct sg_session_info *info)
{
    int rc = SG_DENIED;
    pthread_mutex_lock(&t->mu);
    struct entry *e = sg_strmap_get(&t->map, key);
    if (e && sg_session_expired(lim, e->created_ms, e->last_ms, now_ms)) {
        entry_free(sg_strmap_del(&t->map, key));
    } else if (e) {
        if (now_ms > e->last_ms)
            e->last_ms = now_ms;
        sg_session_principal_copy(out, &e->p);
        memcpy(info->user, e->p.name, sizeof(info->user));
        info->created_ms = e->created_ms;
        info->last_accessed_ms = e->last_ms;
        rc = SG_OK;
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int sg_session_local_delete(struct sg_session_table *t, const struct sg_session_limits *lim,
                            const char *key, uint64_t now_ms)
{
    pthread_mutex_lock(&t->mu);
    struct entry *e = sg_strmap_del(&t->map, key);
    pthread_mutex_unlock(&t->mu);
    if (!e)
        return SG_DENIED;
    /* An expired session is gone already as far as its holder can tell. */
    int rc = sg_session_expired(lim, e->created_ms, e->last_ms, now_ms) ? SG_DENIED : SG_OK;
    entry_free(e);
    return rc;
}
