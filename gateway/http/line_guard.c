/* Request lines evhtp may only see whole: see line_guard.h. */
#include <stdlib.h>

#include <event2/buffer.h>

#include "http/line_guard.h"

/* A line this long is refused by evhtp whatever follows (its URI buffer is
 * 8 KiB, its method one too), so it is fed rather than held for ever. */
#define LINE_FEED_AT (16u * 1024u + 64u)

void sg_line_guard_init(struct sg_line_guard *g)
{
    g->held = NULL;
    g->at_start = true;
}

void sg_line_guard_fini(struct sg_line_guard *g)
{
    if (g->held)
        evbuffer_free(g->held);
    g->held = NULL;
}

/* Whether in, from byte skip on, holds a whole request line: the parser skips
 * CR and LF before a request, then the line runs to its LF. */
static bool line_whole(struct evbuffer *in, size_t skip)
{
    size_t len = evbuffer_get_length(in);
    struct evbuffer_ptr p;
    if (evbuffer_ptr_set(in, &p, skip, EVBUFFER_PTR_SET) != 0)
        return true; /* nothing past skip: nothing to guard */
    while (p.pos >= 0 && (size_t)p.pos < len) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, 1, &p, &v, 1) < 1)
            break;
        char c = *(const char *)v.iov_base;
        if (c != '\r' && c != '\n')
            break;
        if (evbuffer_ptr_set(in, &p, 1, EVBUFFER_PTR_ADD) != 0)
            return false; /* only line ends so far */
    }
    if (p.pos < 0 || (size_t)p.pos >= len)
        return false;
    size_t start = (size_t)p.pos;
    struct evbuffer_ptr lf = evbuffer_search(in, "\n", 1, &p);
    return lf.pos >= 0 || len - start >= LINE_FEED_AT;
}

bool sg_line_guard_wait(struct sg_line_guard *g, struct evbuffer *in)
{
    if (g->held && evbuffer_get_length(g->held) > 0)
        evbuffer_prepend_buffer(in, g->held);
    return g->at_start && evbuffer_get_length(in) > 0 && !line_whole(in, 0);
}

void sg_line_guard_before_resume(struct sg_line_guard *g, struct evbuffer *in, size_t skip)
{
    size_t len = evbuffer_get_length(in);
    if (!g->at_start || len <= skip || line_whole(in, skip))
        return;
    if (!g->held)
        g->held = evbuffer_new();
    struct evbuffer *front = evbuffer_new();
    if (!g->held || !front)
        abort(); /* allocation only */
    evbuffer_remove_buffer(in, front, skip);
    evbuffer_add_buffer(g->held, in);
    evbuffer_add_buffer(in, front);
    evbuffer_free(front);
}
