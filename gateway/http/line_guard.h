/* Request lines evhtp may only see whole.
 *
 * libevhtp 1.2.18's parser writes the last byte of a read twice when the read
 * ends inside the request URI (its s_check_uri and s_uri loops stop at the
 * end of the data and then take the byte they stopped on again; upstream
 * issue #131, open): "GET /api/snapservice/tasks/ab" then "c HTTP/1.1" is
 * parsed as task "abbc". A TCP segment boundary is all it takes, so the
 * request would route to the wrong task, or to 404.
 *
 * The guard keeps evhtp from ever parsing a read that ends inside a request
 * line: while a connection waits for a new request, its bytes go to evhtp
 * only once the line's LF is there (or the line is long enough that evhtp
 * refuses it anyway). Headers and bodies pass as they come: the parser's
 * other loops are not affected. */
#ifndef SG_LINE_GUARD_H
#define SG_LINE_GUARD_H

#include <stdbool.h>
#include <stddef.h>

struct evbuffer;

struct sg_line_guard {
    /* Bytes of a next request taken out of the input while evhtp would parse
     * them on its own (a resume): put back in front of the next read. */
    struct evbuffer *held;
    /* The parser waits for a request line: nothing of it was fed yet. */
    bool at_start;
};

void sg_line_guard_init(struct sg_line_guard *g);
void sg_line_guard_fini(struct sg_line_guard *g);

/* A read arrived in in: puts held bytes back in front and says whether evhtp
 * must wait for more before it parses. */
bool sg_line_guard_wait(struct sg_line_guard *g, struct evbuffer *in);

/* evhtp is about to parse in without a read (a resume), skip bytes from the
 * front belonging to the request just answered: a next request line that is
 * not whole yet is moved to held. */
void sg_line_guard_before_resume(struct sg_line_guard *g, struct evbuffer *in, size_t skip);

#endif
