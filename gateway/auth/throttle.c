#include <stdlib.h>
#include <string.h>

#include "snapgate/common.h"
#include "auth/throttle.h"

struct sg_throttle_entry {
    unsigned n;                          /* failures within the window ending at last_ms */
    uint64_t last_ms;                    /* the latest failure */
    unsigned pending;                    /* held attempts admitted and not yet released */
    TAILQ_ENTRY(sg_throttle_entry) link; /* in t->lru */
    char key[];                          /* to drop it from the map when it is evicted */
};

void sg_throttle_init(struct sg_throttle *t)
{
    sg_strmap_init(&t->map);
    TAILQ_INIT(&t->lru);
    t->max = SG_THROTTLE_MAX_KEYS;
}

void sg_throttle_destroy(struct sg_throttle *t)
{
    struct sg_throttle_entry *e;
    while ((e = TAILQ_FIRST(&t->lru)) != NULL) {
        TAILQ_REMOVE(&t->lru, e, link);
        free(e);
    }
    sg_strmap_destroy(&t->map);
}

size_t sg_throttle_count(const struct sg_throttle *t)
{
    return t->map.count;
}

/* e is in the list (every entry is, from its creation). */
static void touch(struct sg_throttle *t, struct sg_throttle_entry *e)
{
    if (TAILQ_FIRST(&t->lru) == e)
        return;
    TAILQ_REMOVE(&t->lru, e, link);
    TAILQ_INSERT_HEAD(&t->lru, e, link);
}

/* Makes room for one more key: the least recently touched entry without
 * pending attempts goes (a request still holds a slot on the others). When
 * every entry has one, the table briefly exceeds max: those are bounded by
 * the requests in flight. */
static void make_room(struct sg_throttle *t)
{
    if (t->map.count < t->max)
        return;
    struct sg_throttle_entry *e = TAILQ_LAST(&t->lru, sg_throttle_lru);
    while (e && e->pending > 0)
        e = TAILQ_PREV(e, sg_throttle_lru, link);
    if (!e)
        return;
    TAILQ_REMOVE(&t->lru, e, link);
    sg_strmap_del(&t->map, e->key);
    free(e);
}

static unsigned failures_now(const struct sg_throttle_entry *e, uint64_t now_ms)
{
    return now_ms - e->last_ms > SG_THROTTLE_WINDOW_MS ? 0 : e->n;
}

uint64_t sg_throttle_delay_ms(unsigned n)
{
    if (n < SG_THROTTLE_FREE_FAILURES)
        return 0;
    unsigned shift = n - SG_THROTTLE_FREE_FAILURES;
    if (shift > 16)
        return SG_THROTTLE_MAX_DELAY_MS;
    uint64_t d = (uint64_t)SG_THROTTLE_BASE_DELAY_MS << shift;
    return d < SG_THROTTLE_MAX_DELAY_MS ? d : SG_THROTTLE_MAX_DELAY_MS;
}

uint64_t sg_throttle_fail(struct sg_throttle *t, const char *key, uint64_t now_ms)
{
    struct sg_throttle_entry *e = sg_strmap_get(&t->map, key);
    if (!e) {
        make_room(t);
        size_t klen = strlen(key);
        e = sg_xcalloc(1, sizeof(*e) + klen + 1);
        memcpy(e->key, key, klen + 1);
        sg_strmap_put(&t->map, key, e);
        TAILQ_INSERT_HEAD(&t->lru, e, link);
    }
    e->n = failures_now(e, now_ms);
    if (e->n < SG_THROTTLE_FREE_FAILURES + 32) /* far past the cap: stop counting */
        e->n++;
    e->last_ms = now_ms;
    touch(t, e);
    return sg_throttle_delay_ms(e->n);
}

uint64_t sg_throttle_next_delay(const struct sg_throttle *t, const char *key, uint64_t now_ms)
{
    const struct sg_throttle_entry *e = sg_strmap_get(&t->map, key);
    return sg_throttle_delay_ms((e ? failures_now(e, now_ms) : 0) + 1);
}

enum sg_throttle_hold sg_throttle_admit(struct sg_throttle *t, const char *key, unsigned hold,
                                        unsigned max_pending, uint64_t now_ms, uint64_t *wait_ms)
{
    *wait_ms = 0;
    struct sg_throttle_entry *e = sg_strmap_get(&t->map, key);
    unsigned n = e ? failures_now(e, now_ms) : 0;
    if (!e || n < hold)
        return SG_THROTTLE_FREE;
    touch(t, e);
    *wait_ms = sg_throttle_delay_ms(n + e->pending + 1);
    if (e->pending >= max_pending)
        return SG_THROTTLE_REFUSED;
    e->pending++;
    return SG_THROTTLE_HELD;
}

void sg_throttle_release(struct sg_throttle *t, const char *key)
{
    struct sg_throttle_entry *e = sg_strmap_get(&t->map, key);
    if (e && e->pending > 0)
        e->pending--;
}
