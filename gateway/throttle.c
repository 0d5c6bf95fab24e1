#include <stdlib.h>

#include "snapgate/common.h"
#include "throttle.h"

#define MAX_KEYS 50000

struct failures {
    unsigned n;
    uint64_t last_ms;
};

void sg_throttle_init(struct sg_strmap *t)
{
    sg_strmap_init(t);
}

static void free_value(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    free(value);
}

void sg_throttle_destroy(struct sg_strmap *t)
{
    sg_strmap_each(t, free_value, NULL);
    sg_strmap_destroy(t);
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

uint64_t sg_throttle_fail(struct sg_strmap *t, const char *key, uint64_t now_ms)
{
    struct failures *f = sg_strmap_get(t, key);
    if (!f) {
        /* A flood of distinct keys must not grow the table without end:
         * forgetting is the safe side (it only shortens delays). */
        if (t->count >= MAX_KEYS) {
            sg_throttle_destroy(t);
            sg_throttle_init(t);
        }
        f = sg_xcalloc(1, sizeof(*f));
        sg_strmap_put(t, key, f);
    }
    if (now_ms - f->last_ms > SG_THROTTLE_WINDOW_MS)
        f->n = 0;
    f->n++;
    f->last_ms = now_ms;
    return sg_throttle_delay_ms(f->n);
}
