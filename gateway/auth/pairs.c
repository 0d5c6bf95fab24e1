#include <stdlib.h>

#include "auth/pairs.h"
#include "snapgate/common.h"

/* Bounded: past this many pairs the table starts over (they are cheap to learn again). */
#define MAX_PAIRS 100000

struct pair {
    enum sg_pair v;
    uint64_t until_ms;
};

static char *pair_key(const char *principal, const char *task)
{
    /* \x1f cannot occur in a task id (printable ASCII) nor matter in a name. */
    return sg_xasprintf("%s\x1f%s", task, principal);
}

void sg_pairs_init(struct sg_strmap *m)
{
    sg_strmap_init(m);
}

static void free_value(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    free(value);
}

void sg_pairs_destroy(struct sg_strmap *m)
{
    sg_strmap_each(m, free_value, NULL);
    sg_strmap_destroy(m);
}

enum sg_pair sg_pairs_get(struct sg_strmap *m, const char *principal, const char *task)
{
    char *key = pair_key(principal, task);
    struct pair *p = sg_strmap_get(m, key);
    enum sg_pair v = SG_PAIR_UNKNOWN;
    if (p && sg_now_ms() < p->until_ms)
        v = p->v;
    else if (p)
        free(sg_strmap_del(m, key));
    free(key);
    return v;
}

void sg_pairs_set_for(struct sg_strmap *m, const char *principal, const char *task, enum sg_pair v,
                      uint64_t ttl_ms)
{
    char *key = pair_key(principal, task);
    if (ttl_ms == 0) {
        free(sg_strmap_del(m, key));
        free(key);
        return;
    }
    if (m->count >= MAX_PAIRS) {
        sg_pairs_destroy(m);
        sg_pairs_init(m);
    }
    struct pair *p = sg_strmap_get(m, key);
    if (!p) {
        p = sg_xcalloc(1, sizeof(*p));
        sg_strmap_put(m, key, p);
    }
    p->v = v;
    p->until_ms = sg_now_ms() + ttl_ms;
    free(key);
}

void sg_pairs_set(struct sg_strmap *m, const char *principal, const char *task, enum sg_pair v)
{
    sg_pairs_set_for(m, principal, task, v,
                     v == SG_PAIR_ALLOWED ? SG_PAIR_ALLOWED_MS : SG_PAIR_DENIED_MS);
}
