/* An answer's status line and headers formatted into one buffer, for the
 * answers snapgate writes to the connection itself (a cache hit) instead of
 * through evhtp's reply, which keeps a list of allocated headers and writes
 * each in four pieces. */
#ifndef SG_HTTP_REPLY_HEAD_H
#define SG_HTTP_REPLY_HEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sg_reply_head {
    char buf[1024];
    size_t len;
    bool overflow; /* a header did not fit: the head must not be used */
};

/* "HTTP/1.<minor> <status_line>" and CRLF, e.g. status_line "200 OK". */
void sg_reply_head_start(struct sg_reply_head *h, unsigned minor, const char *status_line);
void sg_reply_head_add(struct sg_reply_head *h, const char *name, const char *value);
/* name: prefix and value in decimal ("Cache-Control", "private, max-age=", 60). */
void sg_reply_head_add_u64(struct sg_reply_head *h, const char *name, const char *prefix,
                           uint64_t value);

/* prefix (at most SG_REPLY_PREFIX_MAX bytes are kept) and value in decimal,
 * into out; returns out. Without printf: it is on the hit path. */
#define SG_REPLY_PREFIX_MAX 27
#define SG_REPLY_U64_TEXT (SG_REPLY_PREFIX_MAX + 21)
char *sg_reply_u64_text(char out[SG_REPLY_U64_TEXT], const char *prefix, uint64_t value);
/* The empty line that ends the head. */
void sg_reply_head_end(struct sg_reply_head *h);

#endif
