/* A fake shared cache tier (struct sg_cache_ops) for driving the flight and
 * request state machines through every way a real one can answer: each get
 * and lease is answered as scripted at once (the rc returned), later
 * (SG_AGAIN, then the callback from a zero-delay event), or never (until
 * sg_test_shared_fini, which calls back SG_ERR as a stopping tier does).
 * put, del and release are recorded. */
#ifndef SG_TEST_SHARED_H
#define SG_TEST_SHARED_H

#include <stdint.h>

#include "snapgate/cache.h"

struct event_base;
struct sg_test_shared_call;

enum sg_test_when { SG_TEST_SYNC = 0, SG_TEST_ASYNC, SG_TEST_NEVER };

struct sg_test_reply {
    enum sg_test_when when;
    int rc;
    /* get only: the entry answered with (SG_OK, or a stale SG_DECLINED). The
     * script owns this reference; each answer hands out a new one. */
    struct sg_cache_entry *entry;
};

#define SG_TEST_SHARED_SCRIPT 8
#define SG_TEST_SHARED_KEY 256

struct sg_test_shared {
    struct event_base *base;
    /* The n-th call is answered by script[n], past the script by the default. */
    struct sg_test_reply gets[SG_TEST_SHARED_SCRIPT];
    int ngets;
    struct sg_test_reply get_default; /* SYNC SG_DECLINED */
    struct sg_test_reply leases[SG_TEST_SHARED_SCRIPT];
    int nleases;
    struct sg_test_reply lease_default; /* SYNC SG_OK */

    int get_calls, lease_calls, put_calls, del_calls, release_calls;
    char last_get_key[SG_TEST_SHARED_KEY];
    char last_lease_key[SG_TEST_SHARED_KEY];
    char put_key[SG_TEST_SHARED_KEY]; /* the last put's */
    char put_owner[SG_CACHE_OWNER_MAX + 1];
    int put_status;
    uint64_t put_fresh_ms, put_keep_ms;

    struct sg_test_shared_call *pending; /* answers not delivered yet */
};

/* inst is the struct sg_test_shared. */
extern const struct sg_cache_ops sg_test_shared_ops;

void sg_test_shared_init(struct sg_test_shared *s, struct event_base *base);
/* Calls back every pending call with SG_ERR (a tier going away answers
 * rather than forgets), then drops the script's entries. */
void sg_test_shared_fini(struct sg_test_shared *s);
/* Calls that have not been answered yet. */
int sg_test_shared_pending(const struct sg_test_shared *s);

#endif
