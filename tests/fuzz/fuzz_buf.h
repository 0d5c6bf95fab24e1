/* A growable byte string, for the harnesses that build what they feed
 * (fuzz_http_front, fuzz_saml_assertion, fuzz_upstream_reader): p holds n
 * bytes and a NUL after them once anything was added (the NUL is not counted);
 * {0} is empty. Running out of memory aborts. */
#ifndef SG_FUZZ_BUF_H
#define SG_FUZZ_BUF_H

#include <stdlib.h>
#include <string.h>

#include "snapgate/common.h"

struct buf {
    char *p;
    size_t n, cap;
};

static inline void buf_add(struct buf *b, const void *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = sg_xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static inline void buf_str(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static inline void buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

#endif
