/* See reply_head.h. */
#include <string.h>

#include "http/reply_head.h"

static void put(struct sg_reply_head *h, const char *s, size_t n)
{
    if (h->overflow || n > sizeof(h->buf) - h->len) {
        h->overflow = true;
        return;
    }
    memcpy(h->buf + h->len, s, n);
    h->len += n;
}

static void put_str(struct sg_reply_head *h, const char *s)
{
    put(h, s, strlen(s));
}

void sg_reply_head_start(struct sg_reply_head *h, unsigned minor, const char *status_line)
{
    h->len = 0;
    h->overflow = minor > 9;
    char version[] = "HTTP/1.x ";
    version[7] = (char)('0' + (minor % 10));
    put(h, version, sizeof(version) - 1);
    put_str(h, status_line);
    put(h, "\r\n", 2);
}

void sg_reply_head_add(struct sg_reply_head *h, const char *name, const char *value)
{
    put_str(h, name);
    put(h, ": ", 2);
    put_str(h, value);
    put(h, "\r\n", 2);
}

char *sg_reply_u64_text(char out[SG_REPLY_U64_TEXT], const char *prefix, uint64_t value)
{
    size_t p = strnlen(prefix, SG_REPLY_PREFIX_MAX);
    memcpy(out, prefix, p);
    char digits[20];
    size_t n = sizeof(digits);
    do {
        digits[--n] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    memcpy(out + p, digits + n, sizeof(digits) - n);
    out[p + sizeof(digits) - n] = '\0';
    return out;
}

void sg_reply_head_add_u64(struct sg_reply_head *h, const char *name, const char *prefix,
                           uint64_t value)
{
    char text[SG_REPLY_U64_TEXT];
    sg_reply_head_add(h, name, sg_reply_u64_text(text, prefix, value));
}

void sg_reply_head_end(struct sg_reply_head *h)
{
    put(h, "\r\n", 2);
}
