/* Percent-encoding of one path segment for the upstream requests dialects build. */
#include <string.h>

#include "snapgate/common.h"
#include "snapgate/dialect.h"

/* pchar minus ';': servlet containers (and so vCenter's endpoints) cut a path
 * segment at ';' as the start of path parameters, so it is sent as %3B. */
static int keep_raw(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("-._~:@!$&'()*+,=", c) != NULL;
}

char *sg_http_path_segment_encode(const char *raw)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(raw);
    char *out = sg_xmalloc(n * 3 + 1);
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)raw; *p; p++) {
        if (keep_raw(*p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 0xF];
        }
    }
    *o = '\0';
    return out;
}
